"""Connectionist temporal classification: loss and decoders."""

from __future__ import annotations

__all__: list[str] = []
