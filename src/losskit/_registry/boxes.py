"""Registry entries of losskit.functional.boxes."""

from __future__ import annotations
