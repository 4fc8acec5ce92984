"""Registry entries of losskit.functional.hinge."""

from __future__ import annotations
