"""Centre loss (Wen et al. 2016)."""

from __future__ import annotations

__all__: list[str] = []
