"""Registry entries of losskit.functional.divergence."""

from __future__ import annotations
