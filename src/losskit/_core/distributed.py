r"""Autograd-aware collectives for the losses whose statistics span the batch.

A loss that pools statistics over the batch (dice with ``batch=True``, a batch-wide β, the
centre update) or divides by a count of the batch (token-mean cross-entropy) changes meaning
when the batch is split over ``torch.distributed`` ranks. Every such loss takes
``process_group=`` and calls the helpers here at its statistics or reduction point:

* :func:`all_reduce_sum` sums a tensor over the group. Its backward passes the incoming
  gradient through unchanged: the gradient that reaches a rank's local statistics is the
  gradient of the global loss with respect to that rank's *term* of the sum, which is the
  single-process gradient restricted to the rank's shard. (``torch.distributed.nn``'s
  ``all_reduce`` all-reduces the gradient as well; since every rank back-propagates the same
  global loss, each rank then receives ``world_size`` times its share.)
* :func:`all_reduce_sums` does the same for several tensors in one collective.
* :func:`global_parts` all-reduces the reduction parts ``(total, divisor)`` of
  :mod:`losskit._core.reduction` (two numbers, one collective), and :func:`reduce_global` is
  :func:`~losskit._core.reduction.reduce_loss` with the parts made global: the returned value
  is the loss of the whole (concatenated) batch on every rank.

A ``process_group`` of ``None`` is the local computation: no collective is issued and the hot
path stays what it was (also under ``torch.compile``). Pass ``torch.distributed.group.WORLD``
for every rank.

This module imports torch only; the public layer is :mod:`losskit.distributed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .reduction import REDUCTIONS, LossParts, finalize, loss_parts, reduce_loss

try:  # torch builds without distributed support have no ProcessGroup
    from torch.distributed import ProcessGroup
except ImportError:  # pragma: no cover
    ProcessGroup = Any  # type: ignore[misc,assignment]

__all__ = [
    "ProcessGroup",
    "all_reduce_sum",
    "all_reduce_sums",
    "global_parts",
    "reduce_global",
]


class _AllReduceSum(torch.autograd.Function):
    """Sum over the group forward; the identity backward (the local term's gradient)."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor, group: ProcessGroup) -> Tensor:
        import torch.distributed as dist

        out = tensor.detach().clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out, op=dist.ReduceOp.SUM, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def all_reduce_sum(tensor: Tensor, process_group: ProcessGroup | None) -> Tensor:
    r"""The sum of ``tensor`` over the ranks of ``process_group``, differentiable.

    Forward: :math:`S = \sum_r t_r` on every rank (``tensor`` is not modified). Backward: the
    gradient of :math:`S` reaches :math:`t_r` unchanged, :math:`\partial L / \partial t_r =
    \partial L / \partial S`, which is what a single process holding the whole batch computes
    for that rank's term. ``None`` returns ``tensor`` itself (no communication).

    Example:
        >>> t = torch.tensor([1.0, 2.0])
        >>> all_reduce_sum(t, None) is t
        True
    """
    if process_group is None:
        return tensor
    return _AllReduceSum.apply(tensor, process_group)


def all_reduce_sums(
    tensors: Sequence[Tensor], process_group: ProcessGroup | None
) -> tuple[Tensor, ...]:
    """:func:`all_reduce_sum` of several tensors of one dtype in a single collective.

    The tensors are flattened into one buffer, summed and split back to their shapes; the
    gradient of each reaches its local term unchanged. ``None`` returns them as given.

    Example:
        >>> a, b = torch.ones(2), torch.zeros(3, 1)
        >>> [t.shape for t in all_reduce_sums([a, b], None)]
        [torch.Size([2]), torch.Size([3, 1])]
    """
    if process_group is None:
        return tuple(tensors)
    flat = torch.cat([t.reshape(-1) for t in tensors])
    summed = all_reduce_sum(flat, process_group)
    sizes = [t.numel() for t in tensors]
    return tuple(piece.view(t.shape) for piece, t in zip(summed.split(sizes), tensors, strict=True))


def global_parts(parts: LossParts, process_group: ProcessGroup | None) -> LossParts:
    r"""``(total, divisor)`` summed over the ranks: one all-reduce of two numbers.

    The total keeps its local gradient (:func:`all_reduce_sum`); the divisor becomes a tensor
    in the total's dtype. ``finalize`` of the result is the global mean
    :math:`\sum_r T_r / \sum_r D_r` on every rank, and its gradient with respect to a rank's
    inputs is :math:`\nabla T_r / \sum_r D_r`. ``None`` returns ``parts`` unchanged.

    Example:
        >>> global_parts(LossParts(torch.tensor(3.0), 2.0), None)
        LossParts(total=tensor(3.), divisor=2.0)
    """
    if process_group is None:
        return parts
    total = parts.total
    divisor = torch.as_tensor(parts.divisor, device=total.device).to(total.dtype)
    summed = all_reduce_sum(torch.stack([total, divisor.reshape(())]), process_group)
    return LossParts(summed[0], summed[1])


def reduce_global(
    loss: Tensor,
    reduction: str,
    process_group: ProcessGroup | None,
    *,
    weight: Tensor | None = None,
    divisor: Tensor | float | None = None,
    mean_scale: Tensor | None = None,
    allowed: Sequence[str] = REDUCTIONS,
    fn: str = "",
) -> Tensor:
    r""":func:`~losskit._core.reduction.reduce_loss` over the batch of every rank of the group.

    ``"mean"`` (and ``"batchmean"``) is :math:`\sum_r T_r / \sum_r D_r`: the sum of every
    rank's weighted losses over the sum of every rank's divisor (counted elements, counted
    labels, summed class weights), so ranks with different counts weigh as in one process.
    ``"sum"`` is :math:`\sum_r T_r`. ``"none"`` stays local (each rank's own elements). The
    gradient with respect to a rank's inputs is that of its own term. ``process_group=None``
    is :func:`~losskit._core.reduction.reduce_loss` itself.

    Example:
        >>> reduce_global(torch.tensor([1.0, 2.0, 3.0]), "mean", None)
        tensor(2.)
    """
    if process_group is None or reduction == "none":
        return reduce_loss(
            loss,
            reduction,
            weight=weight,
            divisor=divisor,
            mean_scale=mean_scale,
            allowed=allowed,
            fn=fn,
        )
    parts = loss_parts(
        loss,
        reduction,
        weight=weight,
        divisor=divisor,
        mean_scale=mean_scale,
        allowed=allowed,
        fn=fn,
    )
    if reduction == "sum":
        return all_reduce_sum(parts.total, process_group)
    return finalize(global_parts(parts, process_group))
