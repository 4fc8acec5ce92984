r"""Cross-entropy losses: sigmoid (binary / multi-label), class-balanced sigmoid (HED), binary on
probabilities, and softmax with probability targets or integer labels.

Semantics follow :mod:`torch.nn.functional` where torch has the loss (values, gradients,
``weight``, ``pos_weight``, ``ignore_index``, ``label_smoothing``), with two additions from
TensorFlow: label smoothing of sigmoid targets toward 0.5 (``tf.losses.sigmoid_cross_entropy``) and
the naming of the softmax pair (``softmax_cross_entropy`` takes a distribution,
``sparse_softmax_cross_entropy`` takes labels). Every function works on logits except
:func:`binary_cross_entropy`, which takes probabilities.

Reductions (``"none" | "mean" | "sum"``):

* sigmoid and binary losses: ``"mean"`` divides the (weighted) sum by the number of elements, as
  :func:`torch.nn.functional.binary_cross_entropy_with_logits`;
* :func:`softmax_cross_entropy`: ``"mean"`` divides by the number of distributions (elements of
  the unreduced loss), whatever the class weights, as :func:`torch.nn.functional.cross_entropy`
  with probability targets;
* :func:`sparse_softmax_cross_entropy`: ``"mean"`` divides by the summed class weights of the
  labels that are not ``ignore_index`` (the count of those labels without weights), as
  :func:`torch.nn.functional.cross_entropy` with class indices. When every label is ignored the
  mean is 0 (torch returns NaN).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .._core.checks import (
    check_class_dim,
    check_class_tensor,
    check_distribution,
    check_floating,
    check_in_range,
    check_index,
    check_integer,
    check_probabilities,
    check_tensor,
    fail,
    prepare_pair,
    shape_str,
    transforming,
    validation_enabled,
    zero_one_residual,
)
from .._core.distributed import ProcessGroup, all_reduce_sum, reduce_global
from .._core.dtypes import compute_dtype
from .._core.function import apply, derivative_times, save_with_derivative
from .._core.reduction import check_reduction, reduce_loss

__all__ = [
    "balanced_sigmoid_cross_entropy",
    "binary_cross_entropy",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]


# --------------------------------------------------------------------------------------------
# shared checks


def _check_smoothing(fn: str, label_smoothing: float) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise fail(
            fn,
            f"label_smoothing must be a float in [0, 1], got {type(label_smoothing).__name__}",
            TypeError,
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise fail(fn, f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def _broadcast_option(
    fn: str, name: str, value: Tensor | float | None, like: Tensor
) -> Tensor | None:
    """A tensor option (``pos_weight``) must be real and broadcast *to* ``like``'s shape; a
    Python number is a scalar (as TensorFlow's ``weighted_cross_entropy_with_logits`` takes)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=like.dtype, device=like.device)
    if not isinstance(value, Tensor):
        raise fail(
            fn,
            f"{name} must be a tensor or a float, got {type(value).__name__}",
            TypeError,
        )
    return _broadcast_tensor(fn, name, value, like)


def _broadcast_tensor(fn: str, name: str, value: Tensor, like: Tensor) -> Tensor:
    check_tensor(fn, name, value)
    if value.is_complex() or value.dtype == torch.bool:
        raise fail(fn, f"{name} must be a real floating tensor, got dtype {value.dtype}", TypeError)
    try:
        shape = torch.broadcast_shapes(value.shape, like.shape)
    except RuntimeError:
        shape = None
    if shape != like.shape:
        raise fail(
            fn,
            f"{name} must broadcast to the input shape {shape_str(like.shape)}, got shape "
            f"{shape_str(value.shape)}",
        )
    return value.to(device=like.device, dtype=like.dtype)


def _class_weight(fn: str, weight: Tensor | None, num_classes: int, like: Tensor) -> Tensor | None:
    """Class weights ``(C,)`` in ``like``'s dtype and device."""
    if weight is None:
        return None
    check_class_tensor(fn, "weight", weight, num_classes)
    return weight.to(device=like.device, dtype=like.dtype)


_CE_BLOCK = 1 << 20
"""Elements per block of rows of :class:`_SparseCE` (4 MiB in float32)."""


class _SparseCE(torch.autograd.Function):
    r"""Summed cross-entropy of logits ``(R, C)`` against integer labels ``(R,)``, the rows
    labelled ``ignore_index`` left out, with the derivative formed in the forward pass.

    Per row, with :math:`m = \max_c x_c`, :math:`e = e^{x - m}` and :math:`s = \sum_c e`:
    :math:`l = m + \log s - x_y` and :math:`\partial l / \partial x = e / s - [c = y]`. One
    exponential pass gives the log-sum-exp and the softmax (``F.cross_entropy`` takes one in
    ``log_softmax`` and another in its backward), a block of rows at a time, written straight
    into the derivative; the first backward pass scales it in place
    (:func:`~losskit._core.function.hold`), a second pass over a retained graph or a
    differentiated one recomputes it.
    """

    @staticmethod
    def forward(x: Tensor, labels: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
        rows, classes = x.shape
        step = max(1, _CE_BLOCK // max(classes, 1))
        slope = torch.empty_like(x)
        keep = labels != ignore_index
        safe = torch.where(keep, labels, 0).unsqueeze(1)
        counted = keep.to(x.dtype).unsqueeze(1)
        parts = []
        for start in range(0, rows, step):
            stop = min(start + step, rows)
            xb, eb = x[start:stop], slope[start:stop]
            yb, kb = safe[start:stop], counted[start:stop]
            m = xb.amax(-1, keepdim=True)
            torch.sub(xb, m, out=eb).exp_()
            s = eb.sum(-1, keepdim=True)
            loss = m.add_(s.log()).sub_(xb.gather(1, yb))  # lse - x_y
            parts.append(torch.dot(loss.view(-1), kb.view(-1)))
            eb.mul_(kb / s).scatter_add_(1, yb, -kb)
        total = torch.stack(parts).sum() if parts else x.new_zeros(())
        return total, slope

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
        x, labels, ignore_index = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        ctx.ignore_index = ignore_index
        save_with_derivative(ctx, output[1], x, labels)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, _unused: Tensor | None) -> tuple[Any, None, None]:
        if grad is None or not ctx.needs_input_grad[0]:
            return None, None, None
        x, labels, *kept = ctx.saved_tensors
        if torch.is_grad_enabled():  # differentiated backward: differentiable operations
            keep = labels != ctx.ignore_index
            onehot = F.one_hot(torch.where(keep, labels, 0), x.shape[1]).to(x.dtype)
            return grad * (torch.softmax(x, 1) - onehot) * keep.unsqueeze(1), None, None
        recompute = lambda: _SparseCE.forward(x, labels, ctx.ignore_index)[1]  # noqa: E731
        return derivative_times(ctx, kept, grad, recompute), None, None


def _to_torch_layout(x: Tensor, d: int) -> Tensor:
    """``F.cross_entropy`` wants the classes in dimension 1 (0 for a single distribution)."""
    if x.dim() == 1 or d == 1:
        return x
    return x.movedim(d, 1)


# --------------------------------------------------------------------------------------------
# sigmoid family


def sigmoid_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    weight: Tensor | None = None,
    pos_weight: Tensor | float | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Binary cross-entropy on logits (sigmoid cross-entropy), for binary and multi-label targets.

    .. math::

        l_n = -\big[p\, z_n \log \sigma(x_n) + (1 - z_n) \log(1 - \sigma(x_n))\big],
        \qquad z_n = y_n (1 - \epsilon) + \tfrac12 \epsilon

    computed stably as ``softplus``/``logsigmoid``, where :math:`p` is ``pos_weight`` (1 by
    default) and :math:`\epsilon` is ``label_smoothing``, which pulls targets toward 0.5 as
    ``tf.losses.sigmoid_cross_entropy`` does. With ``label_smoothing=0`` this is
    :func:`torch.nn.functional.binary_cross_entropy_with_logits` (values and gradients, with the
    same ``weight`` and ``pos_weight``).

    Args:
        input: logits ``[*]``, floating.
        target: targets in ``[0, 1]`` (binary or soft), same shape as ``input``.
        weight: optional weights broadcastable to ``[*]``, multiplying the unreduced loss.
        pos_weight: optional weight of the positive term: a float, or a tensor broadcastable to
            ``[*]`` (typically one value per class, ``[C]`` for ``[N, C]`` inputs).
        label_smoothing: :math:`\epsilon \in [0, 1]`.
        reduction: ``"none" | "mean" | "sum"``; ``"mean"`` divides by the number of elements.
        validate: check that ``target`` lies in ``[0, 1]`` (which also catches arguments passed
            labels first, in TensorFlow's order); ``None`` follows :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` and ``"sum"`` then run over every rank's elements (see
            :mod:`losskit.distributed`); ``None``: this process's batch only.

    Returns:
        ``[*]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, ``pos_weight``/``weight`` do not broadcast, smoothing outside
            ``[0, 1]``, ``target`` outside ``[0, 1]`` (when validating), unknown reduction.
        TypeError: ``input`` is not floating, ``pos_weight`` neither a tensor nor a float.

    Example:
        >>> x = torch.tensor([2.0, -1.0, 0.0])
        >>> y = torch.tensor([1.0, 0.0, 1.0])
        >>> sigmoid_cross_entropy(x, y, reduction="none")
        tensor([0.1269, 0.3133, 0.6931])
        >>> sigmoid_cross_entropy(x, y, label_smoothing=0.2, reduction="none")
        tensor([0.3269, 0.4133, 0.6931])

    See :class:`losskit.nn.SigmoidCrossEntropyLoss`.

    References:
        ``torch.nn.functional.binary_cross_entropy_with_logits``;
        ``tf.compat.v1.losses.sigmoid_cross_entropy`` (label smoothing toward 0.5).
    """
    fn = "sigmoid_cross_entropy"
    eps = _check_smoothing(fn, label_smoothing)
    x, y = prepare_pair(fn, input, target)
    check_probabilities(fn, "target", y, validate=validate)
    pw = _broadcast_option(fn, "pos_weight", pos_weight, x)
    if eps > 0.0:
        y = y * (1.0 - eps) + 0.5 * eps
    if weight is None and process_group is None and reduction in ("mean", "sum") and x.numel():
        # torch's kernel reduces, and its backward scales, in the same passes
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=reduction)
    loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="none")
    return reduce_global(loss, reduction, process_group, weight=weight, fn=fn)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Binary cross-entropy on probabilities.

    .. math::

        l_n = -\big[y_n \max(\log x_n, -100) + (1 - y_n) \max(\log(1 - x_n), -100)\big]

    exactly :func:`torch.nn.functional.binary_cross_entropy` (including the clamp of the logs at
    −100 that keeps :math:`x \in \{0, 1\}` finite, and its gradient). Prefer
    :func:`sigmoid_cross_entropy` on logits: it is exact where probabilities round to 0 or 1.

    Args:
        input: probabilities in ``[0, 1]``, ``[*]``, floating.
        target: targets in ``[0, 1]``, same shape.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``; ``"mean"`` divides by the number of elements.
        validate: check that ``input`` and ``target`` lie in ``[0, 1]`` (NaN fails); ``None``
            follows :func:`losskit.set_validation`.

    Returns:
        ``[*]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, ``input`` or ``target`` outside ``[0, 1]`` (when
            validating), unknown reduction.
        TypeError: ``input`` is not floating.

    Example:
        >>> binary_cross_entropy(torch.tensor([0.9, 0.2, 0.0]), torch.tensor([1.0, 0.0, 1.0]),
        ...                      reduction="none")
        tensor([  0.1054,   0.2231, 100.0000])

    See :class:`losskit.nn.BinaryCrossEntropyLoss`.

    References:
        ``torch.nn.functional.binary_cross_entropy`` (log clamped at -100).
    """
    fn = "binary_cross_entropy"
    x, y = prepare_pair(fn, input, target)
    check_in_range(fn, "input", x, 0.0, 1.0, validate=validate)
    check_probabilities(fn, "target", y, validate=validate)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    return reduce_loss(loss, reduction, weight=weight, fn=fn)


def _hed_beta(target: Tensor, *, hard: bool = False) -> Tensor:
    r"""Per-sample :math:`\beta = |Y_-| / |Y|` over all non-batch dimensions (soft targets count
    :math:`1 - y`), shaped to broadcast against ``target``. ``hard``: the targets are known to
    be 0 or 1, so :math:`|Y_-| = |Y| - \sum y` exactly, in one pass without a temporary."""
    dims = tuple(range(1, target.dim()))
    num_total = float(math.prod(target.shape[1:])) or 1.0
    if hard:
        num_negative = target.sum(dim=dims, keepdim=True).neg_().add_(num_total)
    else:
        num_negative = (1.0 - target).sum(dim=dims, keepdim=True)
    return _beta_from_counts(num_negative, num_total)


def _checked_hardness(fn: str, y: Tensor, validate: bool | None) -> bool:
    r"""The target check of the balanced loss (values in [0, 1]), and whether every target is
    0 or 1: one residual :math:`y - y^2`, which is :math:`\ge 0` exactly on [0, 1] and 0
    exactly on {0, 1}, and one min/max. ``False`` when the check is skipped."""
    if not validation_enabled(validate) or y.numel() == 0:
        return False
    low, high = zero_one_residual(y)
    if low >= 0.0:
        return high == 0.0
    check_probabilities(fn, "target", y, validate=True)  # raises, with the message
    return False


def _beta_from_counts(num_negative: Tensor, num_total: Tensor | float) -> Tensor:
    r""":math:`\beta = |Y_-| / |Y|` from (possibly globally reduced) counts.

    This is the seam for a batch-wide or cross-process β: sum the counts over the batch (or
    ``all_reduce`` them over ranks) and pass them here; the loss itself is
    :func:`_balanced_unreduced`.
    """
    return num_negative / num_total


def _batch_beta(target: Tensor, process_group: ProcessGroup | None) -> Tensor:
    r"""One :math:`\beta = \sum |Y_-| / \sum |Y|` over the batch (of every rank of the group)."""
    counts = torch.stack([(1.0 - target).sum(), target.new_tensor(float(target.numel()))])
    num_negative, num_total = all_reduce_sum(counts, process_group)
    return _beta_from_counts(num_negative, num_total.clamp_min(1.0))


def _balanced_unreduced(x: Tensor, y: Tensor, beta: Tensor | float, given: bool = False) -> Tensor:
    r"""HED's class-balanced cross-entropy, unreduced:
    :math:`\beta\,y\,\mathrm{softplus}(-x) + (1-\beta)(1-y)\,\mathrm{softplus}(x)`.

    Computed by torch's BCE-with-logits kernel with ``weight = 1 − β`` and
    ``pos_weight = β / (1 − β)`` (exact for soft targets too). Where β = 1 that form would be
    ``0 · inf``; there the loss is :math:`y\,\mathrm{softplus}(-x)` (``-y logsigmoid(x)``).
    A per-sample or batch β is 1 only without positives, where that is 0 too, so the
    correction runs only for a ``given`` tensor β.
    """
    if not isinstance(beta, Tensor) and beta == 1.0:
        return -y * F.logsigmoid(x)
    b = torch.as_tensor(beta, dtype=x.dtype, device=x.device)
    negative_weight = 1.0 - b
    below = b < 1.0
    ratio = torch.where(below, b / torch.where(below, negative_weight, 1.0), 0.0)
    loss = F.binary_cross_entropy_with_logits(
        x, y, weight=negative_weight, pos_weight=ratio, reduction="none"
    )
    if given and isinstance(beta, Tensor):  # a given tensor may hold 1 beside positives
        loss = torch.where(below, loss, -y * F.logsigmoid(x))
    return loss


def balanced_sigmoid_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    beta: float | Tensor | str | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Class-balanced sigmoid cross-entropy of HED (Xie & Tu 2015).

    .. math::

        l_n = -\beta\, y_n \log \sigma(x_n) - (1 - \beta)(1 - y_n) \log(1 - \sigma(x_n)),
        \qquad \beta = \frac{|Y_-|}{|Y|}

    Positives are weighted by :math:`\beta`, negatives by :math:`1-\beta`. With ``beta=None``,
    :math:`\beta` is computed **per sample** over all non-batch dimensions (the fraction of
    negatives in each image; soft targets count :math:`1 - y`), as a constant (no gradient flows
    through it). A float uses a fixed :math:`\beta`; a tensor broadcastable to the input gives
    β explicitly (for example one value per sample, ``[N, 1, 1, 1]``). ``beta="batch"`` computes
    one β over the whole batch, :math:`\beta = \sum_n |Y_-^{(n)}| / \sum_n |Y^{(n)}|`, and
    with ``process_group`` over the batch of every rank (one all-reduce of two counts).

    Up to the factor :math:`1-\beta` this is :func:`sigmoid_cross_entropy` with
    ``pos_weight = β / (1 − β)``. HED sums the loss over the pixels of an image: that is
    ``reduction="sum"`` divided by the batch size; ``"mean"`` divides by the number of elements.

    Args:
        input: logits ``[N, *]``, floating (at least 2 dimensions when ``beta=None``).
        target: targets in ``[0, 1]``, same shape.
        beta: ``None`` (per-sample β), ``"batch"`` (one β for the batch), a float in
            ``[0, 1]``, or a tensor broadcastable to ``[N, *]``.
        weight: optional weights broadcastable to ``[N, *]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that ``target`` lies in ``[0, 1]``; ``None`` follows
            :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` and ``"sum"`` (and ``beta="batch"``) then run over every rank's elements (see
            :mod:`losskit.distributed`); ``None``: this process's batch only.

    Returns:
        ``[N, *]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, ``input`` has fewer than 2 dimensions with ``beta=None``,
            ``beta`` outside ``[0, 1]`` or not broadcastable, ``target`` outside ``[0, 1]``
            (when validating), unknown reduction.
        TypeError: ``input`` is not floating, ``beta`` of a wrong type.

    Example:
        >>> x = torch.zeros(1, 4)
        >>> y = torch.tensor([[1.0, 0.0, 0.0, 0.0]])  # beta = 3/4
        >>> balanced_sigmoid_cross_entropy(x, y, reduction="none")
        tensor([[0.5199, 0.1733, 0.1733, 0.1733]])
        >>> y2 = torch.tensor([[1.0, 1.0], [0.0, 0.0]])  # one beta for the batch: 2/4
        >>> balanced_sigmoid_cross_entropy(torch.zeros(2, 2), y2, beta="batch")
        tensor(0.3466)

    References:
        Xie, Tu, "Holistically-Nested Edge Detection", ICCV 2015.
    """
    fn = "balanced_sigmoid_cross_entropy"
    x, y = prepare_pair(fn, input, target)
    hard = _checked_hardness(fn, y, validate) and not y.requires_grad
    b: Tensor | float
    if isinstance(beta, str) and beta == "batch":
        b = _batch_beta(y.detach(), process_group)
    elif beta is None:
        if x.dim() < 2:
            raise fail(
                fn,
                f"input must have at least 2 dimensions (batch, ...) to compute a "
                f"per-sample beta, got shape {shape_str(x.shape)}",
            )
        b = _hed_beta(y.detach(), hard=hard)
    elif isinstance(beta, Tensor):
        b = _broadcast_tensor(fn, "beta", beta, x).detach()
    else:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise fail(
                fn,
                f"beta must be None, a float or a tensor (or 'batch'), got {beta!r}",
                TypeError,
            )
        if not 0.0 <= beta <= 1.0:
            raise fail(fn, f"beta must lie in [0, 1], got {beta!r}")
        b = float(beta)
    if hard and not (isinstance(b, Tensor) and b.requires_grad):
        # Hard labels: beta y softplus(-x) + (1 - beta)(1 - y) softplus(x) is the plain
        # cross-entropy times the per-element class weight, torch's fused kernel without
        # pos_weight (exact: one of the two terms is zero).
        bt = torch.as_tensor(b, dtype=x.dtype, device=x.device)
        w = torch.addcmul(1.0 - bt, y, 2.0 * bt - 1.0)
        loss = F.binary_cross_entropy_with_logits(x, y, weight=w, reduction="none")
    else:
        loss = _balanced_unreduced(x, y, b, given=isinstance(beta, Tensor))
    return reduce_global(loss, reduction, process_group, weight=weight, fn=fn)


# --------------------------------------------------------------------------------------------
# softmax family


def softmax_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    dim: int = 1,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Softmax cross-entropy against a target distribution (one-hot or soft).

    .. math::

        l_n = -\sum_c w_c\, z_{n,c} \log \operatorname{softmax}(x_n)_c, \qquad
        z_{n,c} = y_{n,c}(1 - \epsilon) + \epsilon / C

    with :math:`\log\operatorname{softmax}` computed by log-sum-exp. Equals
    :func:`torch.nn.functional.cross_entropy` with probability targets (``weight``,
    ``label_smoothing``, every reduction; ``"mean"`` divides by the number of distributions, not
    by the weights) and, without weights, ``tf.losses.softmax_cross_entropy`` /
    ``tf.nn.softmax_cross_entropy_with_logits`` (smoothing ``onehot (1 − ε) + ε / C``).

    Args:
        input: logits ``[N, C, *]`` with the classes along ``dim`` (``[C]`` for one
            distribution, with ``dim=0``), floating.
        target: probabilities of the same shape, floating. For integer labels use
            :func:`sparse_softmax_cross_entropy`.
        dim: the class dimension.
        weight: optional class weights ``[C]``.
        label_smoothing: :math:`\epsilon \in [0, 1]`.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that ``target`` holds distributions along ``dim`` (entries in
            ``[0, 1]`` summing to 1, up to rounding); ``None`` follows
            :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` and ``"sum"`` then run over every rank's elements (see
            :mod:`losskit.distributed`); ``None``: this process's batch only.

    Returns:
        ``input``'s shape without ``dim`` for ``"none"``, else a scalar; float32 for
        half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, bad ``dim``, ``weight`` not ``[C]``, smoothing outside
            ``[0, 1]``, ``target`` not a distribution along ``dim`` (when validating), unknown
            reduction.
        TypeError: ``input`` not floating; ``target`` holds integers (the error names
            :func:`sparse_softmax_cross_entropy`).

    Example:
        >>> x = torch.tensor([[2.0, 0.0, -1.0]])
        >>> softmax_cross_entropy(x, torch.tensor([[1.0, 0.0, 0.0]]))
        tensor(0.1698)
        >>> softmax_cross_entropy(x, torch.tensor([[0.5, 0.5, 0.0]]))
        tensor(1.1698)

    See :class:`losskit.nn.SoftmaxCrossEntropyLoss`.

    References:
        ``torch.nn.functional.cross_entropy`` with probability targets;
        ``tf.compat.v1.losses.softmax_cross_entropy``.
    """
    fn = "softmax_cross_entropy"
    eps = _check_smoothing(fn, label_smoothing)
    check_floating(fn, "input", input)
    check_tensor(fn, "target", target)
    if not target.is_floating_point():
        raise fail(
            fn,
            f"target must be a floating point tensor of class probabilities, got dtype "
            f"{target.dtype}; for integer class labels use sparse_softmax_cross_entropy",
            TypeError,
        )
    x, y = prepare_pair(fn, input, target)
    d = check_class_dim(fn, x, dim)
    check_distribution(fn, "target", target, d, validate=validate)
    w = _class_weight(fn, weight, x.shape[d], x)
    loss = F.cross_entropy(
        _to_torch_layout(x, d),
        _to_torch_layout(y, d),
        weight=w,
        label_smoothing=eps,
        reduction="none",
    )
    return reduce_global(loss, reduction, process_group, fn=fn)


def sparse_softmax_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    dim: int = 1,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Softmax cross-entropy against integer class labels.

    .. math::

        l_n = (1 - \epsilon)\, w_{y_n} \big(-\log \operatorname{softmax}(x_n)_{y_n}\big)
              + \frac{\epsilon}{C} \sum_c w_c \big(-\log \operatorname{softmax}(x_n)_c\big)

    and :math:`l_n = 0` where :math:`y_n` is ``ignore_index``. Equals
    :func:`torch.nn.functional.cross_entropy` with class indices, values and gradients:
    ``"mean"`` divides by :math:`\sum_{n:\,y_n \ne \text{ignore}} w_{y_n}` (the number of counted
    labels without weights), with or without smoothing. Without weights and smoothing this is
    ``tf.losses.sparse_softmax_cross_entropy`` and Keras' ``sparse_categorical_crossentropy``
    (``from_logits=True``).

    Args:
        input: logits ``[N, C, *]`` with the classes along ``dim`` (``[C]`` for one sample, with
            ``dim=0``), floating.
        target: class labels, ``input``'s shape without ``dim``, integer. For probability
            targets use :func:`softmax_cross_entropy`.
        dim: the class dimension.
        weight: optional class weights ``[C]``.
        ignore_index: label value that contributes nothing and is not counted by ``"mean"``.
        label_smoothing: :math:`\epsilon \in [0, 1]`.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that labels lie in ``[0, C)`` or equal ``ignore_index``; ``None``
            follows :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` divides the sum over every rank by the count (summed class weights) of
            the counted labels of every rank (see :mod:`losskit.distributed`); ``None``: this
            process's batch only.

    Returns:
        ``input``'s shape without ``dim`` for ``"none"``, else a scalar; float32 for
        half/bfloat16 inputs.

    Raises:
        ValueError: target shape, labels out of range, bad ``dim``, ``weight`` not ``[C]``,
            smoothing outside ``[0, 1]``, unknown reduction.
        TypeError: ``input`` not floating; ``target`` floating (the error names
            :func:`softmax_cross_entropy`).

    Example:
        >>> x = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> sparse_softmax_cross_entropy(x, torch.tensor([0, 2]), reduction="none")
        tensor([0.1698, 1.0986])
        >>> sparse_softmax_cross_entropy(x, torch.tensor([0, -100]))  # the second is ignored
        tensor(0.1698)

    See :class:`losskit.nn.SparseSoftmaxCrossEntropyLoss`.

    References:
        ``torch.nn.functional.cross_entropy`` with class indices;
        ``tf.compat.v1.losses.sparse_softmax_cross_entropy``.
    """
    fn = "sparse_softmax_cross_entropy"
    eps = _check_smoothing(fn, label_smoothing)
    check_floating(fn, "input", input)
    check_tensor(fn, "target", target)
    if target.is_floating_point():
        raise fail(
            fn,
            f"target must be an integer tensor of class labels, got dtype {target.dtype}; "
            f"for probability targets use softmax_cross_entropy",
            TypeError,
        )
    check_integer(fn, "target", target)
    d = check_class_dim(fn, input, dim)
    expected = input.shape[:d] + input.shape[d + 1 :]
    if target.shape != expected:
        raise fail(
            fn,
            f"target must have input's shape without dim {d}, {shape_str(expected)}, got "
            f"{shape_str(target.shape)}",
        )
    num_classes = input.shape[d]
    x = input.to(compute_dtype(input))
    w = _class_weight(fn, weight, num_classes, x)
    check_index(fn, "target", target, num_classes, ignore_index=ignore_index, validate=validate)
    labels = target.long()
    # torch's index-target kernels run about 20% slower when asked for per-sample losses and
    # summed afterwards than when they sum themselves: for "mean" and "sum" let torch sum, and
    # reduce_loss divide by the counted weight.
    check_reduction(reduction, fn=fn)
    counted = labels != ignore_index
    if w is None:
        divisor = counted.sum()
    else:
        safe = torch.where(counted, labels, torch.zeros_like(labels))
        divisor = (w[safe] * counted).sum()
    if (
        w is None
        and eps == 0.0
        and reduction in ("mean", "sum")
        and d == x.dim() - 1
        and x.numel()
        and not torch.compiler.is_compiling()
        and not transforming()
    ):
        total, _ = apply(_SparseCE, x.reshape(-1, num_classes), labels.reshape(-1), ignore_index)
        return reduce_global(total, reduction, process_group, divisor=divisor, fn=fn)
    loss = F.cross_entropy(
        _to_torch_layout(x, d),
        labels,
        weight=w,
        ignore_index=ignore_index,
        label_smoothing=eps,
        reduction="none" if reduction == "none" else "sum",
    )
    return reduce_global(loss, reduction, process_group, divisor=divisor, fn=fn)
