r"""Global means of reduction parts: across ranks, across micro-batches, or both.

A ``"mean"`` is a pair of sums, the weighted total :math:`T` and its divisor :math:`D` (the
number of counted elements, of counted labels, the summed class weights). The mean of a batch
split into pieces :math:`k` (ranks, micro-batches) is :math:`\sum_k T_k / \sum_k D_k`, not the
mean of the pieces' means, which weighs a piece with few counted elements as much as a full
one. Two ways to get it:

* **One step, several ranks**: :func:`global_mean` all-reduces ``(T, D)`` (one collective of
  two numbers) and divides; the gradient of a rank's inputs is :math:`\nabla T_r / \sum D`.
* **Gradient accumulation** (micro-batches processed one after the other, on one or several
  ranks): the divisor of the union is known before the forward passes (it depends on the
  targets only), so :func:`global_divisor` sums the micro-batches' divisors over the ranks
  first (one collective of one number), and each micro-batch back-propagates its own total
  divided by it. The accumulated gradient is the gradient of the union's mean.

:func:`label_count` gives the divisor of :func:`losskit.sparse_softmax_cross_entropy` (and of
the token-mean losses that skip ``ignore_index``) from the labels alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from .._core.checks import check_floating, check_index, check_integer, fail, shape_str
from .._core.distributed import ProcessGroup, all_reduce_sum, global_parts
from .._core.reduction import LossParts, combine_parts, finalize

__all__ = ["global_divisor", "global_mean", "label_count"]


def global_mean(
    parts: LossParts | Iterable[LossParts], process_group: ProcessGroup | None = None
) -> Tensor:
    r"""The mean over every rank of the group (and every part given) of reduction parts.

    .. math::

        \bar\ell = \frac{\sum_r \sum_k T_{rk}}{\sum_r \sum_k D_{rk}}

    for the parts :math:`(T_{rk}, D_{rk})` of rank :math:`r` (several parts of one rank are
    summed first, :func:`~losskit._core.reduction.combine_parts`). Every rank gets the same value;
    the gradient of rank :math:`r`'s inputs is :math:`\sum_k \nabla T_{rk} / \sum D`, the
    single-process gradient of the whole batch restricted to them. A zero global divisor gives 0
    (on the graph). One all-reduce of two numbers; ``process_group=None`` is the local mean.

    Args:
        parts: a :class:`~losskit._core.reduction.LossParts` ``(total, divisor)``, or several.
        process_group: ``torch.distributed`` group (``None``: no communication).

    Returns:
        A 0-dim tensor in the totals' dtype.

    Raises:
        ValueError: ``parts`` is an empty sequence.
        TypeError: ``parts`` holds something else than ``LossParts``.

    Example:
        >>> from losskit.distributed import LossParts
        >>> short = LossParts(torch.tensor(3.0), 1.0)  # one counted token, loss 3
        >>> long = LossParts(torch.tensor(3.0), 3.0)  # three counted tokens, loss 1 each
        >>> global_mean([short, long])  # 6 / 4, not the mean of the means (3 + 1) / 2
        tensor(1.5000)
    """
    fn = "global_mean"
    items = [parts] if isinstance(parts, LossParts) else list(parts)
    if not items:
        raise fail(fn, "parts must hold at least one LossParts, got none")
    for item in items:
        if not isinstance(item, LossParts):
            raise fail(fn, f"parts must be LossParts, got {type(item).__name__}", TypeError)
    return finalize(global_parts(combine_parts(items), process_group))


def global_divisor(
    divisors: Tensor | float | Iterable[Tensor | float],
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""The divisor of the union of several micro-batches over every rank of the group.

    .. math::

        D = \sum_r \sum_k D_{rk}

    For gradient accumulation: compute it once per optimiser step from the targets, then let
    micro-batch :math:`k` back-propagate :math:`T_k / D` (its ``reduction="sum"`` loss over
    :math:`D`); the accumulated gradient (summed over the ranks) is the gradient of the mean over
    the union, whatever the micro-batches' sizes. A union with nothing counted gives 1 rather
    than 0, so that every :math:`T_k / D` is 0, not NaN. No gradient; one all-reduce of one
    number (none for ``process_group=None``).

    Args:
        divisors: one divisor or one per micro-batch (counts, or summed class weights; numbers
            or 0-dim tensors).
        process_group: ``torch.distributed`` group (``None``: this process only).

    Returns:
        A 0-dim floating tensor (float32 for Python numbers and integer tensors, else the
        divisors' dtype), on the divisors' device (Python numbers: the CPU, or the current CUDA
        device when the group's backend is NCCL).

    Raises:
        ValueError: no divisor, a divisor that is not a single number, or a negative one.
        TypeError: a divisor that is neither a number nor a real tensor.

    Example:
        >>> labels = [torch.tensor([1, 2, -100]), torch.tensor([0, -100, -100, -100])]
        >>> global_divisor([label_count(y) for y in labels])
        tensor(3.)
    """
    fn = "global_divisor"
    items = [divisors] if isinstance(divisors, (Tensor, int, float)) else list(divisors)
    if not items:
        raise fail(fn, "divisors must hold at least one divisor, got none")
    values = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (Tensor, int, float)):
            raise fail(
                fn, f"divisors must be numbers or tensors, got {type(item).__name__}", TypeError
            )
        value = torch.as_tensor(item).detach()
        if value.is_complex() or value.dtype == torch.bool:
            raise fail(fn, f"divisors must be real, got dtype {value.dtype}", TypeError)
        if value.numel() != 1:
            raise fail(fn, f"each divisor must be a single number, got shape {tuple(value.shape)}")
        values.append(value.reshape(()))
    floating = [v.dtype for v in values if v.is_floating_point()]
    dtype = torch.promote_types(torch.float32, floating[0]) if floating else torch.float32
    device = next(
        (v.device for v in values if v.device.type != "cpu"), _group_device(process_group)
    )
    total = torch.stack([v.to(device=device, dtype=dtype) for v in values]).sum()
    if bool(total < 0):
        raise fail(fn, f"divisors must be >= 0, got a sum of {total.item()!r}")
    total = all_reduce_sum(total, process_group)
    return torch.where(total == 0, torch.ones_like(total), total)


def _group_device(process_group: ProcessGroup | None) -> torch.device:
    """Where a number to be all-reduced lives: the current CUDA device for NCCL, else the CPU."""
    if process_group is not None:
        import torch.distributed as dist

        if "nccl" in str(dist.get_backend(process_group)):
            return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def label_count(
    target: Tensor,
    *,
    ignore_index: int = -100,
    weight: Tensor | None = None,
    validate: bool | None = None,
) -> Tensor:
    r"""The divisor of a token-mean cross-entropy: the (weighted) number of counted labels.

    .. math::

        D = \sum_{n:\, y_n \ne \text{ignore}} w_{y_n}

    (the number of labels that are not ``ignore_index`` without ``weight``): the divisor of
    ``"mean"`` in :func:`losskit.sparse_softmax_cross_entropy` and
    :func:`torch.nn.functional.cross_entropy` with class indices (without ``weight``, of
    :func:`losskit.softmax_focal_loss` too). It depends on the labels only, so the divisor of a
    whole accumulation step is known before any forward pass (:func:`global_divisor`).

    Args:
        target: integer class labels of any shape.
        ignore_index: the label that is not counted.
        weight: optional class weights ``(C,)``; labels index it.
        validate: with ``weight``, check that the labels lie in ``[0, C)`` (or equal
            ``ignore_index``); ``None`` follows :func:`losskit.set_validation`.

    Returns:
        A 0-dim tensor: int64 without ``weight``, else ``weight``'s dtype.

    Raises:
        TypeError: ``target`` is not an integer tensor, ``weight`` is not floating.
        ValueError: ``weight`` is not one-dimensional, labels out of range (validation on).

    Example:
        >>> label_count(torch.tensor([[0, 2, -100], [1, -100, -100]]))
        tensor(3)
        >>> label_count(torch.tensor([0, 1, 1, -100]), weight=torch.tensor([2.0, 0.5]))
        tensor(3.)
    """
    fn = "label_count"
    check_integer(fn, "target", target)
    counted = target != ignore_index
    if weight is None:
        return counted.sum()
    check_floating(fn, "weight", weight)
    if weight.dim() != 1:
        raise fail(
            fn, f"weight must have shape (C,) (one weight per class), got {shape_str(weight.shape)}"
        )
    check_index(fn, "target", target, weight.shape[0], ignore_index=ignore_index, validate=validate)
    safe = torch.where(counted, target, torch.zeros_like(target)).long()
    return (weight[safe] * counted).sum()
