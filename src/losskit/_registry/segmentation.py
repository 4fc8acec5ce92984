"""Registry entries of the segmentation family."""

from __future__ import annotations
