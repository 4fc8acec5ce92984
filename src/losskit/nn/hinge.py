"""Hinge losses: binary, squared and multiclass."""

from __future__ import annotations

__all__: list[str] = []
