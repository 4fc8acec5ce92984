"""The dtype rule shared by every loss.

Losses compute in at least float32: ``float16`` and ``bfloat16`` inputs are upcast and the loss is
returned in ``float32`` (a half-precision loss would lose the small differences that training
depends on, and ``exp``/``log`` overflow early in half). ``float64`` stays ``float64``. The compute
dtype of several tensors is the promoted floating dtype of the floating ones, then raised to at
least float32.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["LOW_PRECISION", "compute_dtype", "to_compute"]

LOW_PRECISION = (torch.float16, torch.bfloat16)


def compute_dtype(*tensors: Tensor | None) -> torch.dtype:
    """The dtype a loss computes in for these inputs.

    Example:
        >>> compute_dtype(torch.zeros(1, dtype=torch.half), torch.zeros(1, dtype=torch.long))
        torch.float32
        >>> compute_dtype(torch.zeros(1, dtype=torch.float64), torch.zeros(1))
        torch.float64
    """
    dtype: torch.dtype | None = None
    for t in tensors:
        if t is None or not t.is_floating_point():
            continue
        dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
    if dtype is None or dtype in LOW_PRECISION:
        return torch.float32
    return dtype


def to_compute(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Cast tensors to their common compute dtype (no copy when already there).

    Non-floating tensors (integer or boolean targets) are cast too, so that arithmetic with them
    stays in the compute dtype.
    """
    dtype = compute_dtype(*tensors)
    return tuple(t if t.dtype == dtype else t.to(dtype) for t in tensors)
