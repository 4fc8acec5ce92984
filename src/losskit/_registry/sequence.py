"""Registry entries of the sequence family."""

from __future__ import annotations
