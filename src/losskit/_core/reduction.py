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

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, get_args

import torch
from torch import Tensor

from .checks import fail

__all__ = [
    "KERAS_REDUCTIONS",
    "REDUCTIONS",
    "TF_REDUCTIONS",
    "WEIGHTED_REDUCTIONS",
    "KerasReduction",
    "LossParts",
    "Reduction",
    "WeightedReduction",
    "apply_weight",
    "check_reduction",
    "combine_parts",
    "finalize",
    "keras_parts",
    "loss_parts",
    "reduce_keras",
    "reduce_loss",
    "reduce_weighted",
    "safe_divide",
    "tf_parts",
]

Reduction = Literal["none", "mean", "sum"]
"""The native reduction modes; KL divergence adds ``"batchmean"``."""

REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")

WeightedReduction = Literal["none", "sum", "mean", "sum_over_batch_size", "sum_by_nonzero_weights"]
"""Reduction modes of TensorFlow's ``tf.compat.v1.losses.Reduction`` (lower case)."""

TF_REDUCTIONS: tuple[str, ...] = get_args(WeightedReduction)
"""TensorFlow-1's table (``tf.compat.v1.losses.Reduction``, lower case)."""

WEIGHTED_REDUCTIONS = TF_REDUCTIONS

KerasReduction = Literal["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]
"""Reduction modes of Keras 3 (``keras.losses.Loss(reduction=...)``)."""

KERAS_REDUCTIONS: tuple[str, ...] = get_args(KerasReduction)
"""Keras 3's table. A separate table from TensorFlow-1's: Keras' ``"mean"`` divides by the number
of elements (it is ``"sum_over_batch_size"``), TensorFlow-1's ``"mean"`` by the summed weights."""


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
        choices = ", ".join(repr(r) for r in allowed)
        raise fail(fn, f"reduction must be one of {choices}; got {reduction!r}")
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
        message = f"{name} must be a real floating tensor, got dtype {weight.dtype}"
        raise fail(fn, message, TypeError)
    try:
        shape = torch.broadcast_shapes(weight.shape, loss.shape)
    except RuntimeError:
        shape = None
    if shape != loss.shape:
        raise fail(
            fn,
            f"{name} of shape {tuple(weight.shape)} does not broadcast to the unreduced "
            f"loss shape {tuple(loss.shape)}",
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


class LossParts(NamedTuple):
    """The two statistics every reduction is made of: a weighted sum and its divisor.

    ``finalize(parts)`` is ``total / divisor`` (0 when the divisor is 0). Parts add up
    (:func:`combine_parts`): the parts of several micro-batches, or of several processes, summed
    and then finalised give the reduction over their union. Streaming metrics accumulate them, the
    distributed layer all-reduces them, and each dialect builds them with its own table
    (:func:`loss_parts` native, :func:`tf_parts` TensorFlow-1, :func:`keras_parts` Keras 3).

    Example:
        >>> a = LossParts(torch.tensor(3.0), torch.tensor(2.0))
        >>> b = LossParts(torch.tensor(1.0), torch.tensor(2.0))
        >>> finalize(combine_parts([a, b]))
        tensor(1.)
    """

    total: Tensor
    divisor: Tensor | float


def finalize(parts: LossParts) -> Tensor:
    """Turn parts into the reduced loss: ``total / divisor``, ``0`` for a zero divisor (still on
    the autograd graph of ``total``)."""
    return safe_divide(parts.total, parts.divisor)


def combine_parts(parts: Iterable[LossParts]) -> LossParts:
    """Sum the totals and the divisors of several parts (micro-batches, shards, updates).

    Raises:
        ValueError: if ``parts`` is empty.
    """
    items = list(parts)
    if not items:
        raise ValueError("combine_parts: parts must hold at least one LossParts, got none")
    total = items[0].total
    divisor = items[0].divisor
    for item in items[1:]:
        total = total + item.total
        divisor = divisor + item.divisor
    return LossParts(total, divisor)


def _check_parts_reduction(reduction: str, allowed: Sequence[str], fn: str) -> None:
    """A parts function accepts any reduction of its table except ``"none"``."""
    check_reduction(reduction, allowed, fn=fn)
    if reduction == "none":
        raise fail(fn, "reduction 'none' has no parts; reduce with 'mean' or 'sum'")


def loss_parts(
    loss: Tensor,
    reduction: str = "mean",
    *,
    weight: Tensor | None = None,
    divisor: Tensor | float | None = None,
    mean_scale: Tensor | None = None,
    allowed: Sequence[str] = REDUCTIONS,
    fn: str = "",
) -> LossParts:
    """The native parts of an unreduced loss for ``"mean"``, ``"sum"`` or ``"batchmean"``.

    Args:
        loss: unreduced loss of any shape (a loss whose kernel already summed, such as the sparse
            cross-entropy fast path, passes the 0-dim sum with its own ``divisor``).
        reduction: ``"mean"``: the divisor is ``divisor``, by default the number of elements;
            ``"sum"``: the divisor is 1; ``"batchmean"``: the size of dimension 0.
        weight: optional weights broadcastable to ``loss`` (see :func:`apply_weight`).
        divisor: the denominator of ``"mean"``.
        mean_scale: per-element factors applied for ``"mean"`` only (``F.ctc_loss`` divides each
            sample's loss by its target length, then averages).
        allowed: the reductions this loss accepts.
        fn: the calling loss's name, for error messages.

    Raises:
        ValueError: for ``"none"`` (it has no parts) or a reduction outside ``allowed``.

    Example:
        >>> loss_parts(torch.tensor([1.0, 2.0, 3.0]))
        LossParts(total=tensor(6.), divisor=3.0)
    """
    _check_parts_reduction(reduction, allowed, fn)
    loss = apply_weight(loss, weight, fn=fn)
    if reduction == "sum":
        return LossParts(loss.sum(), 1.0)
    if reduction == "batchmean":
        return LossParts(loss.sum(), float(loss.shape[0] if loss.dim() > 0 else 1))
    total = (loss if mean_scale is None else loss * mean_scale).sum()
    return LossParts(total, float(loss.numel()) if divisor is None else divisor)


def reduce_loss(
    loss: Tensor,
    reduction: str,
    *,
    weight: Tensor | None = None,
    divisor: Tensor | float | None = None,
    mean_scale: Tensor | None = None,
    allowed: Sequence[str] = REDUCTIONS,
    fn: str = "",
) -> Tensor:
    """Weight and reduce an unreduced loss: the native dialect's only reduction code.

    ``"none"`` returns the weighted loss; every other reduction is
    ``finalize(loss_parts(loss, reduction, ...))``, see :func:`loss_parts` for the arguments.

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
    if reduction == "none":
        check_reduction(reduction, allowed, fn=fn)
        return apply_weight(loss, weight, fn=fn)
    parts = loss_parts(
        loss,
        reduction,
        weight=weight,
        divisor=divisor,
        mean_scale=mean_scale,
        allowed=allowed,
        fn=fn,
    )
    return finalize(parts)


def tf_parts(
    losses: Tensor,
    weights: Tensor | float = 1.0,
    reduction: str = "sum_by_nonzero_weights",
    *,
    fn: str = "",
) -> LossParts:
    """TensorFlow-1 ``compute_weighted_loss`` parts (every mode of :data:`TF_REDUCTIONS` but
    ``"none"``).

    ``weights`` broadcast to ``losses`` (TensorFlow's rule: a scalar, or a tensor whose dimensions
    are 1 or match). With :math:`S = \\sum w \\odot \\ell`:

    ============================  ===============================================
    ``"sum"``                     :math:`S / 1`
    ``"mean"``                    :math:`S / \\sum w` (broadcast weights)
    ``"sum_over_batch_size"``     :math:`S / \\text{numel}(\\ell)`
    ``"sum_by_nonzero_weights"``  :math:`S / \\#\\{w \\ne 0\\}` (broadcast weights)
    ============================  ===============================================

    References:
        ``tf.compat.v1.losses.compute_weighted_loss`` and ``tf.compat.v1.losses.Reduction``.
    """
    _check_parts_reduction(reduction, TF_REDUCTIONS, fn)
    if not isinstance(weights, Tensor):
        weights = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
    total = apply_weight(losses, weights, fn=fn, name="weights").sum()
    if reduction == "sum":
        return LossParts(total, 1.0)
    if reduction == "sum_over_batch_size":
        return LossParts(total, float(losses.numel()))
    broadcast = weights.to(losses.dtype).expand(losses.shape)
    if reduction == "mean":
        return LossParts(total, broadcast.sum())
    return LossParts(total, (broadcast != 0).sum())


def reduce_weighted(
    losses: Tensor,
    weights: Tensor | float = 1.0,
    reduction: str = "sum_by_nonzero_weights",
    *,
    fn: str = "",
) -> Tensor:
    """TensorFlow-1 ``compute_weighted_loss``: ``"none"`` gives :math:`w \\odot \\ell`, every
    other mode ``finalize(tf_parts(...))`` (see :func:`tf_parts`). Divisions by zero give ``0``
    (TensorFlow's ``div_no_nan``).

    Example:
        >>> losses = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> reduce_weighted(losses, torch.tensor([[1.0], [0.0]]))
        tensor(1.5000)
        >>> reduce_weighted(losses, 2.0, "mean")
        tensor(2.5000)
    """
    if reduction == "none":
        if not isinstance(weights, Tensor):
            weights = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
        return apply_weight(losses, weights, fn=fn, name="weights")
    return finalize(tf_parts(losses, weights, reduction, fn=fn))


def _keras_same_rank(values: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """Keras' ``squeeze_or_expand_to_same_rank``: ranks that differ by one are matched by
    squeezing a trailing dimension of size 1 (or expanding a rank-1 partner)."""
    if values.dim() == weight.dim() + 1 and values.shape[-1] == 1:
        if weight.dim() == 1:
            weight = weight.unsqueeze(-1)
        else:
            values = values.squeeze(-1)
    if weight.dim() == values.dim() + 1 and weight.shape[-1] == 1:
        if values.dim() == 1:
            values = values.unsqueeze(-1)
        else:
            weight = weight.squeeze(-1)
    return values, weight


def _keras_weighted(
    values: Tensor, sample_weight: Tensor | float | None, fn: str
) -> tuple[Tensor, Tensor | None]:
    if sample_weight is None:
        return values, None
    if not isinstance(sample_weight, Tensor):
        sample_weight = torch.as_tensor(sample_weight, device=values.device)
    sample_weight = sample_weight.to(values.dtype)
    values, sample_weight = _keras_same_rank(values, sample_weight)
    try:
        weighted = values * sample_weight
    except RuntimeError:
        raise fail(
            fn,
            f"sample_weight of shape {tuple(sample_weight.shape)} does not broadcast to "
            f"the per-sample loss shape {tuple(values.shape)}",
        ) from None
    return weighted, sample_weight


def keras_parts(
    values: Tensor,
    sample_weight: Tensor | float | None = None,
    reduction: str = "sum_over_batch_size",
    *,
    fn: str = "",
) -> LossParts:
    """Keras 3 parts of per-sample losses (every mode of :data:`KERAS_REDUCTIONS` but
    ``"none"``).

    The sample weight is matched to the losses' rank as Keras does, then multiplied in. With
    :math:`S = \\sum w \\odot \\ell`:

    ============================  ===============================================
    ``"sum"``                     :math:`S / 1`
    ``"sum_over_batch_size"``     :math:`S / \\text{numel}(\\ell)`
    ``"mean"``                    :math:`S / \\text{numel}(\\ell)` (the same as above in Keras 3)
    ``"mean_with_sample_weight"`` :math:`S / \\sum w` (the weights as given, not broadcast);
                                  :math:`S / \\text{numel}(\\ell)` without weights
    ============================  ===============================================

    References:
        ``keras.src.losses.loss.reduce_weighted_values`` (Keras 3).
    """
    _check_parts_reduction(reduction, KERAS_REDUCTIONS, fn)
    weighted, weight = _keras_weighted(values, sample_weight, fn)
    total = weighted.sum()
    if reduction == "sum":
        return LossParts(total, 1.0)
    if reduction == "mean_with_sample_weight" and weight is not None:
        return LossParts(total, weight.sum())
    return LossParts(total, float(weighted.numel()))


def reduce_keras(
    values: Tensor,
    sample_weight: Tensor | float | None = None,
    reduction: str = "sum_over_batch_size",
    *,
    fn: str = "",
) -> Tensor:
    """Keras 3's ``reduce_weighted_values``: ``"none"`` (and, as in Keras, a 0-dim or empty
    rank-1 ``values``) gives the weighted values, every other mode
    ``finalize(keras_parts(...))``. Divisions by zero give ``0`` (``divide_no_nan``).

    Example:
        >>> values = torch.tensor([1.0, 2.0, 3.0, 4.0])
        >>> w = torch.tensor([1.0, 1.0, 0.0, 0.0])
        >>> reduce_keras(values, w), reduce_keras(values, w, "mean_with_sample_weight")
        (tensor(0.7500), tensor(1.5000))
    """
    if reduction == "none" or values.dim() == 0 or tuple(values.shape) == (0,):
        check_reduction(reduction, KERAS_REDUCTIONS, fn=fn)
        return _keras_weighted(values, sample_weight, fn)[0]
    return finalize(keras_parts(values, sample_weight, reduction, fn=fn))
