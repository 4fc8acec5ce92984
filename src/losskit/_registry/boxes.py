"""Registry entries of the boxes family."""

from __future__ import annotations
