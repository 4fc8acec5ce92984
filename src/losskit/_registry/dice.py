"""Registry entries of losskit.functional.dice."""

from __future__ import annotations
