"""The TensorFlow-1 dialect: ``tf.compat.v1.losses``, ``tf.nn``, ``tf.edit_distance`` and
``tf.compat.v1.distributions.kl_divergence`` with TensorFlow's signatures, on the native core.

``losskit.compat.tf.losses.mean_squared_error(labels, predictions, weights)`` gives the number
``tf.compat.v1.losses.mean_squared_error`` gives for the same arguments. A TensorFlow
``SparseTensor`` is a torch sparse COO tensor: :func:`SparseTensor` builds one from TensorFlow's
``(indices, values, dense_shape)``. Inputs may be torch tensors, NumPy arrays or nested lists.
Errors name the dialect function and its argument names. The differences from TensorFlow are
listed in ``docs/dialects.md``.

Example:
    >>> from losskit.compat import tf
    >>> tf.losses.mean_squared_error([1.0, 2.0], [1.0, 4.0], weights=[1.0, 0.0])
    tensor(0.)
    >>> tf.losses.mean_squared_error([1.0, 2.0], [1.0, 4.0])
    tensor(2.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ... import functional as F
from ..._core.checks import fail, shape_str, speaks_as
from .._convert import as_int, as_tensor, sparse_rows
from . import distributions, losses, nn

__all__ = ["SparseTensor", "distributions", "edit_distance", "losses", "nn"]


def SparseTensor(indices: Any, values: Any, dense_shape: Any) -> Tensor:
    """A torch sparse COO tensor from TensorFlow's ``SparseTensor(indices, values, dense_shape)``.

    Args:
        indices: ``[N, rank]`` integer indices (TensorFlow's layout; torch's is the transpose).
        values: ``[N]`` values.
        dense_shape: ``[rank]`` the dense shape.

    Returns:
        A coalesced sparse COO tensor of shape ``dense_shape``.

    Raises:
        ValueError: ``indices`` not ``[N, rank]``, ``values`` not ``[N]``, an index outside
            ``dense_shape``.

    Example:
        >>> SparseTensor([[0, 0], [1, 2]], [1, 2], [2, 3]).to_dense()
        tensor([[1, 0, 0],
                [0, 0, 2]])
    """
    fn = "compat.tf.SparseTensor"
    shape = [int(d) for d in as_int(dense_shape, "dense_shape", fn).reshape(-1).tolist()]
    idx = as_int(indices, "indices", fn).long()
    vals = as_tensor(values, "values", fn).reshape(-1)
    if idx.numel() == 0:
        idx = idx.reshape(0, len(shape))
    if idx.dim() != 2 or idx.shape[1] != len(shape):
        raise fail(
            fn,
            f"indices must have shape [N, {len(shape)}] (one row per value), got "
            f"{shape_str(idx.shape)}",
        )
    if vals.shape[0] != idx.shape[0]:
        raise fail(fn, f"values must have shape [{idx.shape[0]}], got {shape_str(vals.shape)}")
    bound = torch.tensor(shape, dtype=torch.long, device=idx.device)
    if idx.numel() and bool(((idx < 0) | (idx >= bound)).any()):
        raise fail(fn, f"indices must lie inside dense_shape {shape_str(shape)}")
    return torch.sparse_coo_tensor(idx.T, vals, shape, check_invariants=False).coalesce()


@speaks_as("compat.tf.edit_distance")
def edit_distance(
    hypothesis: Tensor, truth: Tensor, normalize: bool = True, name: str = "edit_distance"
) -> Tensor:
    r"""Levenshtein distance between sparse sequences (``tf.edit_distance``).

    .. math:: d(h, t) \;(/\, |t| \text{ when normalize})

    computed by :func:`losskit.edit_distance` on the rows of the sparse tensors: for rank ``R``
    inputs the sequences run along the last dimension and the result is dense, of shape the
    elementwise maximum of the two ``dense_shape[:-1]``. A row with an empty truth gives
    ``inf`` when normalised (``0`` when the hypothesis is empty too).

    Args:
        hypothesis: sparse COO tensor of integer tokens, rank ``R >= 2``.
        truth: sparse COO tensor of integer tokens, rank ``R``.
        normalize: divide by the truth length.
        name: ignored.

    Returns:
        float32 distances of rank ``R - 1``.

    Raises:
        TypeError: inputs that are not sparse tensors of integers.
        ValueError: ranks differ or are below 2.

    Example:
        >>> hyp = SparseTensor([[0, 0], [0, 1], [1, 0]], [1, 2, 3], [2, 2])
        >>> truth = SparseTensor([[0, 0], [1, 0], [1, 1]], [1, 3, 4], [2, 2])
        >>> edit_distance(hyp, truth)
        tensor([1.0000, 0.5000])
    """
    fn = "compat.tf.edit_distance"
    hyp, hyp_len, hyp_shape = sparse_rows(hypothesis, "hypothesis", fn)
    ref, ref_len, ref_shape = sparse_rows(truth, "truth", fn)
    if len(hyp_shape) != len(ref_shape):
        raise fail(
            fn,
            f"hypothesis and truth must have the same rank, got hypothesis rank "
            f"{len(hyp_shape) + 1} and truth rank {len(ref_shape) + 1}",
        )
    shape = tuple(max(a, b) for a, b in zip(hyp_shape, ref_shape, strict=True))
    hyp, hyp_len = _grow(hyp, hyp_len, shape), _grow_lengths(hyp_len, shape)
    ref, ref_len = _grow(ref, ref_len, shape), _grow_lengths(ref_len, shape)
    # Tokens may be any integers (negative ones included): map both sides to 0..K-1 together.
    hyp_values = hypothesis.coalesce().values().long()
    ref_values = truth.coalesce().values().long()
    _vocab, ids = torch.unique(torch.cat([hyp_values, ref_values]), return_inverse=True)
    hyp = _recode(hyp, hyp_len, hyp_values, ids[: hyp_values.numel()])
    ref = _recode(ref, ref_len, ref_values, ids[hyp_values.numel() :])
    return F.edit_distance(
        hyp,
        ref,
        normalize=normalize,
        hypothesis_lengths=hyp_len,
        truth_lengths=ref_len,
    )


def _recode(padded: Tensor, lengths: Tensor, values: Tensor, ids: Tensor) -> Tensor:
    """The padded rows with each token replaced by its id (padding becomes 0)."""
    valid = torch.arange(padded.shape[-1], device=padded.device) < lengths[..., None]
    out = torch.zeros_like(padded)
    out[valid] = ids  # row-major order: the order of the coalesced values
    return out


def _grow(padded: Tensor, lengths: Tensor, shape: tuple[int, ...]) -> Tensor:
    out = padded.new_full((*shape, max(padded.shape[-1], 1)), -1)
    out[(*(slice(0, s) for s in padded.shape[:-1]), slice(0, padded.shape[-1]))] = padded
    return out


def _grow_lengths(lengths: Tensor, shape: tuple[int, ...]) -> Tensor:
    out = lengths.new_zeros(shape)
    out[tuple(slice(0, s) for s in lengths.shape)] = lengths
    return out
