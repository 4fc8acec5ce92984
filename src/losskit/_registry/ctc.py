"""Registry entries of losskit.functional.ctc."""

from __future__ import annotations
