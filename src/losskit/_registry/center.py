"""Registry entries of losskit.functional.center."""

from __future__ import annotations
