"""Cross-entropy losses: sigmoid, balanced sigmoid, softmax and sparse softmax."""

from __future__ import annotations

__all__: list[str] = []
