"""Overlap losses for segmentation: dice, Jaccard (soft IoU) and Tversky."""

from __future__ import annotations

__all__: list[str] = []
