"""Kullback-Leibler divergence between distributions given as probabilities, log-probabilities or logits."""

from __future__ import annotations

__all__: list[str] = []
