"""Input conversion shared by the dialects: tensors, NumPy arrays and nested lists in, tensors out.

TensorFlow and Keras accept anything ``convert_to_tensor`` understands; the dialects accept torch
tensors (used as they are, never copied or modified), NumPy arrays (shared memory, read only) and
nested Python lists or numbers (Python floats become float32, as TensorFlow converts them). A
TensorFlow ``SparseTensor`` is a torch sparse COO tensor (:func:`losskit.compat.tf.SparseTensor`
builds one from TensorFlow's ``(indices, values, dense_shape)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._core.checks import fail

__all__ = [
    "as_float",
    "as_int",
    "as_sparse",
    "as_tensor",
    "device_of",
    "float_dtype",
    "sparse_rows",
]


def device_of(*values: Any) -> torch.device:
    """The device of the first torch tensor among ``values`` (lists and arrays follow it)."""
    for value in values:
        if isinstance(value, Tensor):
            return value.device
    return torch.device("cpu")


def as_tensor(value: Any, name: str, fn: str) -> Tensor:
    """``value`` as a tensor: a tensor as it is, an array or nested list converted.

    Raises:
        TypeError: naming ``name`` when ``value`` is ``None`` or cannot be converted.
    """
    if isinstance(value, Tensor):
        return value
    if value is None:
        raise fail(fn, f"{name} must not be None", TypeError)
    if isinstance(value, np.ndarray):
        if value.dtype == np.float64 or value.dtype.kind in "fiub":
            # np.ascontiguousarray would make a 0-d array 1-d: np.require keeps the rank.
            return torch.from_numpy(np.require(value, requirements="C"))
        raise fail(fn, f"{name} must hold numbers, got an array of dtype {value.dtype}", TypeError)
    if isinstance(value, np.generic):
        return torch.as_tensor(np.asarray(value))
    try:
        out = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise fail(
            fn,
            f"{name} must be a tensor, an array or a nested list of numbers, got "
            f"{type(value).__name__} ({error})",
            TypeError,
        ) from None
    return out


def float_dtype(*tensors: Tensor) -> torch.dtype:
    """The floating dtype of a dialect computation: the widest floating dtype among ``tensors``
    (half and bfloat16 count as float32), float32 when none is floating (TensorFlow casts
    integer inputs of its losses to float32)."""
    dtypes = [t.dtype for t in tensors if t.is_floating_point()]
    return torch.float64 if torch.float64 in dtypes else torch.float32


def as_float(
    value: Any,
    name: str,
    fn: str,
    dtype: torch.dtype | None = None,
    device: torch.device | None = None,
) -> Tensor:
    """``value`` as a floating tensor (``dtype``, or its own floating dtype, float32 for
    integers and booleans), on ``device`` when given.

    Raises:
        TypeError: for complex values or what :func:`as_tensor` refuses.
    """
    t = as_tensor(value, name, fn)
    if t.is_complex():
        raise fail(fn, f"{name} must be real, got dtype {t.dtype}", TypeError)
    if dtype is None:
        dtype = t.dtype if t.is_floating_point() else torch.float32
    return t.to(device=device, dtype=dtype)


def as_int(value: Any, name: str, fn: str) -> Tensor:
    """``value`` as an integer tensor (int64 for lists).

    Raises:
        TypeError: when ``value`` holds floating or complex numbers.
    """
    t = as_tensor(value, name, fn)
    if t.numel() == 0 and not isinstance(value, (Tensor, np.ndarray)):
        return t.long()  # an empty list has no dtype of its own
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise fail(fn, f"{name} must be an integer tensor, got dtype {t.dtype}", TypeError)
    return t


def as_sparse(value: Any, name: str, fn: str) -> Tensor:
    """``value`` as a coalesced torch sparse COO tensor of integers.

    Raises:
        TypeError: when ``value`` is not a sparse COO tensor (a dense tensor, an array, a list).
    """
    if not isinstance(value, Tensor) or value.layout != torch.sparse_coo:
        raise fail(
            fn,
            f"{name} must be a sparse COO tensor (a TensorFlow SparseTensor; build one with "
            f"losskit.compat.tf.SparseTensor(indices, values, dense_shape)), got "
            f"{type(value).__name__}"
            + (f" of layout {value.layout}" if isinstance(value, Tensor) else ""),
            TypeError,
        )
    return value.coalesce()


def sparse_rows(sparse: Tensor, name: str, fn: str) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """A sparse tensor of rank ``R >= 2`` as padded rows along its last dimension.

    The values of each row (all indices but the last) are taken in the order of their last
    index, as TensorFlow reads a ``SparseTensor`` whose indices are in canonical row-major order.

    Returns:
        ``(padded, lengths, batch_shape)``: ``padded`` ``(*batch_shape, L)`` with ``-1`` after each
        row's values, ``lengths`` ``batch_shape``, where ``batch_shape`` is the dense shape
        without its last dimension and ``L`` the longest row.

    Raises:
        ValueError: for a sparse tensor of rank below 2.
    """
    sp = as_sparse(sparse, name, fn)
    if sp.dim() < 2:
        raise fail(fn, f"{name} must have rank >= 2, got a sparse tensor of rank {sp.dim()}")
    batch_shape = tuple(int(d) for d in sp.shape[:-1])
    indices = sp.indices()
    values = sp.values()
    if values.numel() and (
        values.is_floating_point() or values.is_complex() or values.dtype == torch.bool
    ):
        raise fail(fn, f"{name} must hold integer values, got dtype {values.dtype}", TypeError)
    rows = torch.zeros(indices.shape[1], dtype=torch.long, device=values.device)
    stride = 1
    for d in range(len(batch_shape) - 1, -1, -1):
        rows = rows + indices[d] * stride
        stride *= batch_shape[d]
    count = stride
    lengths = (
        torch.bincount(rows, minlength=count)
        if rows.numel()
        else torch.zeros(count, dtype=torch.long, device=values.device)
    )
    # coalesce() sorts the indices row-major: values of one row are contiguous, in column order.
    starts = torch.cumsum(lengths, 0) - lengths
    position = torch.arange(rows.numel(), device=values.device) - starts[rows]
    width = int(lengths.max()) if count else 0
    padded = torch.full((count, width), -1, dtype=torch.long, device=values.device)
    padded[rows, position] = values.long()
    return padded.reshape(*batch_shape, width), lengths.reshape(batch_shape), batch_shape
