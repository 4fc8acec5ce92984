"""Softmax with a margin on the target logit: L-Softmax, SphereFace, CosFace, ArcFace."""

from __future__ import annotations

__all__: list[str] = []
