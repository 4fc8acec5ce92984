"""Registry entries of losskit.functional.cross_entropy."""

from __future__ import annotations
