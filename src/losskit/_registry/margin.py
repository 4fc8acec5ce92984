"""Registry entries of losskit.functional.margin."""

from __future__ import annotations
