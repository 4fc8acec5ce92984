"""Registry entries of losskit.functional.edit_distance."""

from __future__ import annotations
