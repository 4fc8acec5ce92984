"""The one place where losses are weighted and reduced.

Every loss in losskit computes an *unreduced* loss tensor and hands it to :func:`reduce_loss`
(native dialect) or :func:`reduce_weighted` (the TensorFlow/Keras reduction modes used by the
compatibility dialects). No loss contains its own ``if reduction == ...`` block.

Native reductions
-----------------
For an unreduced loss :math:`\\ell = \\{l_1, \\dots, l_N\\}` and optional weights :math:`w`
broadcast to the shape of :math:`\\ell`:

.. math::

    \\text{reduce}(\\ell) =
    \\begin{cases}
        w \\odot \\ell & \\text{reduction} = \\text{"none"} \\\\
        \\sum_i w_i l_i & \\text{reduction} = \\text{"sum"} \\\\
        \\sum_i w_i l_i \\,/\\, D & \\text{reduction} = \\text{"mean"} \\\\
        \\sum_i w_i l_i \\,/\\, B & \\text{reduction} = \\text{"batchmean"}
    \\end{cases}

where :math:`D` is the number of elements of :math:`\\ell` unless a loss supplies its own divisor
(``F.cross_entropy`` with class weights divides by the sum of the weights of the counted targets),
and :math:`B` is the batch size (size of dimension 0). A ``"mean"`` over no elements is ``0``,
still connected to the autograd graph, never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "REDUCTIONS",
    "WEIGHTED_REDUCTIONS",
    "Reduction",
    "WeightedReduction",
    "apply_weight",
    "check_reduction",
    "reduce_loss",
    "reduce_weighted",
    "safe_divide",
]

Reduction = Literal["none", "mean", "sum"]
"""The native reduction modes; KL divergence adds ``"batchmean"``."""

REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")

WeightedReduction = Literal["none", "sum", "mean", "sum_over_batch_size", "sum_by_nonzero_weights"]
"""Reduction modes of TensorFlow's ``tf.compat.v1.losses.Reduction`` (lower case)."""

WEIGHTED_REDUCTIONS: tuple[str, ...] = (
    "none",
    "sum",
    "mean",
    "sum_over_batch_size",
    "sum_by_nonzero_weights",
)


def check_reduction(reduction: str, allowed: Sequence[str] = REDUCTIONS, *, fn: str = "") -> str:
    """Validate a reduction string and return it.

    Raises:
        ValueError: if ``reduction`` is not one of ``allowed``; the message lists the allowed
            values.

    Example:
        >>> check_reduction("sum")
        'sum'
        >>> check_reduction("avg")
        Traceback (most recent call last):
        ...
        ValueError: reduction must be one of 'none', 'mean', 'sum'; got 'avg'
    """
    if not isinstance(reduction, str) or reduction not in allowed:
        prefix = f"{fn}: " if fn else ""
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{prefix}reduction must be one of {choices}; got {reduction!r}")
    return reduction


def apply_weight(
    loss: Tensor, weight: Tensor | None, *, fn: str = "", name: str = "weight"
) -> Tensor:
    """Multiply ``loss`` by ``weight`` broadcast to ``loss``'s shape.

    The weight may broadcast *to* the loss (a per-sample weight of shape ``(N, 1)`` against a loss
    of shape ``(N, C)``, a scalar, ...) but never enlarge it: a weight whose broadcast with the loss
    has a different shape than the loss is a ``ValueError`` rather than a silent outer product.

    Raises:
        ValueError: if the weight does not broadcast to the loss shape.
        TypeError: if the weight is not a floating or integer tensor.
    """
    if weight is None:
        return loss
    if not isinstance(weight, Tensor):
        weight = torch.as_tensor(weight, device=loss.device)
    if weight.is_complex() or weight.dtype == torch.bool:
        prefix = f"{fn}: " if fn else ""
        raise TypeError(f"{prefix}{name} must be a real floating tensor, got dtype {weight.dtype}")
    try:
        shape = torch.broadcast_shapes(weight.shape, loss.shape)
    except RuntimeError:
        shape = None
    if shape != loss.shape:
        prefix = f"{fn}: " if fn else ""
        raise ValueError(
            f"{prefix}{name} of shape {tuple(weight.shape)} does not broadcast to the unreduced "
            f"loss shape {tuple(loss.shape)}"
        )
    return loss * weight.to(loss.dtype)


def safe_divide(numerator: Tensor, denominator: Tensor | float) -> Tensor:
    """``numerator / denominator``, or ``0`` (connected to ``numerator``'s graph) where the
    denominator is zero. TensorFlow's ``div_no_nan`` / ``safe_div`` semantics."""
    if not isinstance(denominator, Tensor):
        # A Python number is known at trace time: no data-dependent select needed.
        return numerator / denominator if denominator != 0 else numerator * 0
    denominator = denominator.to(numerator.dtype)
    zero = denominator == 0
    return torch.where(zero, numerator * 0, numerator / torch.where(zero, 1, denominator))


def reduce_loss(
    loss: Tensor,
    reduction: str,
    *,
    weight: Tensor | None = None,
    divisor: Tensor | float | None = None,
    allowed: Sequence[str] = REDUCTIONS,
    fn: str = "",
) -> Tensor:
    """Weight and reduce an unreduced loss: the native dialect's only reduction code.

    Args:
        loss: unreduced loss of any shape.
        reduction: one of ``allowed`` (by default ``"none"``, ``"mean"``, ``"sum"``; a loss may
            also allow ``"batchmean"``: the sum divided by the size of dimension 0).
        weight: optional weights broadcastable to ``loss``'s shape (see :func:`apply_weight`).
        divisor: the denominator of ``"mean"``; the number of elements of ``loss`` by default.
            A zero divisor gives ``0``, never NaN.
        allowed: the reductions this loss accepts.
        fn: the calling loss's name, for error messages.

    Returns:
        The reduced loss, a 0-dim tensor unless ``reduction="none"``.

    Example:
        >>> loss = torch.tensor([1.0, 2.0, 3.0])
        >>> reduce_loss(loss, "mean"), reduce_loss(loss, "sum")
        (tensor(2.), tensor(6.))
        >>> reduce_loss(loss, "mean", weight=torch.tensor([1.0, 0.0, 1.0]))
        tensor(1.3333)
        >>> reduce_loss(torch.zeros(0), "mean")
        tensor(0.)
    """
    check_reduction(reduction, allowed, fn=fn)
    loss = apply_weight(loss, weight, fn=fn)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if reduction == "batchmean":
        batch = loss.shape[0] if loss.dim() > 0 else 1
        return safe_divide(total, float(batch))
    if divisor is None:
        divisor = float(loss.numel())
    return safe_divide(total, divisor)


def reduce_weighted(
    losses: Tensor,
    weights: Tensor | float = 1.0,
    reduction: str = "sum_by_nonzero_weights",
    *,
    fn: str = "",
) -> Tensor:
    """TensorFlow-1 ``compute_weighted_loss`` reductions, for the compatibility dialects.

    ``weights`` broadcast to ``losses`` (TensorFlow's rule: a scalar, or a tensor whose dimensions
    are 1 or match). With :math:`S = \\sum w \\odot \\ell`:

    ========================  ===============================================
    ``"none"``                :math:`w \\odot \\ell`
    ``"sum"``                 :math:`S`
    ``"mean"``                :math:`S / \\sum w` (broadcast weights)
    ``"sum_over_batch_size"`` :math:`S / \\text{numel}(\\ell)`
    ``"sum_by_nonzero_weights"`` :math:`S / \\#\\{w \\ne 0\\}` (broadcast weights)
    ========================  ===============================================

    Divisions by zero give ``0`` (TensorFlow's ``div_no_nan``).

    Example:
        >>> losses = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> reduce_weighted(losses, torch.tensor([[1.0], [0.0]]))
        tensor(1.5000)
        >>> reduce_weighted(losses, 2.0, "mean")
        tensor(2.5000)
    """
    check_reduction(reduction, WEIGHTED_REDUCTIONS, fn=fn)
    if not isinstance(weights, Tensor):
        weights = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
    weighted = apply_weight(losses, weights, fn=fn, name="weights")
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    if reduction == "sum_over_batch_size":
        return safe_divide(total, float(losses.numel()))
    broadcast = weights.to(losses.dtype).expand(losses.shape)
    if reduction == "mean":
        return safe_divide(total, broadcast.sum())
    return safe_divide(total, (broadcast != 0).sum())
