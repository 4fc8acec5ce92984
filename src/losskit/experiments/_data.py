"""Bundled data sets of the experiments (nothing is downloaded)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["digits"]


def digits() -> tuple[Tensor, Tensor]:
    """scikit-learn's bundled 8x8 digits (1,797 images): centred float32 features scaled to [-1, 1]
    ``(1797, 64)`` and integer labels ``(1797,)``.

    Requires scikit-learn (the ``[cli]`` extra); imported here, not with :mod:`losskit`.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the digits experiments need scikit-learn: pip install 'losskit[cli]'"
        ) from exc
    data = load_digits()
    x = torch.as_tensor(data.data, dtype=torch.float32)
    # Pixels are in [0, 16]; scaling by the range (not per-pixel std) keeps pixels that are
    # almost always blank from turning into huge values.
    x = (x - x.mean(0)) / 16.0
    return x, torch.as_tensor(data.target, dtype=torch.long)


def split(n: int, *, test_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """A seeded random train/test split of ``range(n)``: ``(train_index, test_index)``."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = round(test_fraction * n)
    return perm[n_test:], perm[:n_test]
