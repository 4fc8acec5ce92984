"""Focal losses (Lin et al. 2017): sigmoid and softmax."""

from __future__ import annotations

__all__: list[str] = []
