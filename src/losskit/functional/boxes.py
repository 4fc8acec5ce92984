"""Bounding-box geometry and losses: IoU, GIoU, DIoU, CIoU and (DIoU-)NMS."""

from __future__ import annotations

__all__: list[str] = []
