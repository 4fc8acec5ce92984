"""Registry entries of losskit.functional.focal."""

from __future__ import annotations
