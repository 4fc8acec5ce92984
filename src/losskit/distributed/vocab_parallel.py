r"""Vocabulary-parallel cross-entropy: the classes sharded over the processes of a group.

Under tensor (model) parallelism the output projection of a language model is split by rows:
rank :math:`r` holds the contiguous block of classes :math:`[o_r, o_r + V_r)` and computes only
those logits. :func:`vocab_parallel_cross_entropy` (on the local logits) and
:func:`vocab_parallel_linear_cross_entropy` (on the hidden states and the local rows of the
weight, chunked as :func:`losskit.linear_cross_entropy`) give every rank the cross-entropy over
the full vocabulary without gathering the logits: per token, each rank reduces its shard to a few
numbers and the group all-reduces those.

Communication per call, for :math:`N` tokens:

* one all-gather of each rank's shard size (one integer per rank), so that shards may be uneven
  (``V = 32003`` over two ranks) and offsets need not be passed;
* one ``MAX`` all-reduce of :math:`N` numbers (the per-token maximum logit, or the local
  log-sum-exp in the linear variant);
* one ``SUM`` all-reduce of :math:`2N` numbers (:math:`3N` with label smoothing): the sum of the
  exponentials, the target logit (non-zero on the one rank that holds the target class) and,
  for smoothing, the sum of the logits. These are the statistics of Megatron-LM's three
  all-reduces, packed into one message;
* the linear variant's backward adds one ``SUM`` all-reduce of the hidden-state gradient
  (:math:`N \times H`), see below.

No logits cross the network, and memory per rank is proportional to its shard. The backward pass
is analytic and local: with the global :math:`\operatorname{lse}`, the gradient of the shard's
logits is :math:`p_{ij}(1 + 2z\operatorname{lse}_i) - (1-\epsilon)[j = y_i] - \epsilon / V`
times the token's upstream gradient, :math:`V` being the global vocabulary size.

Semantics: ``target`` (and, for the linear variant, ``hidden``) are the same on every rank, as
under tensor parallelism; every rank returns the same loss. The gradient of each rank's shard
(of the logits, of the weight rows and bias) is the single-process gradient restricted to that
shard. The hidden states are replicated, so their gradient is the sum of every shard's
contribution: :func:`vocab_parallel_linear_cross_entropy` all-reduces it in its backward pass and
every rank receives the full single-process gradient (do not all-reduce it again, as a
Megatron-style "copy to tensor-parallel region" in front of the projection would). Ignored tokens
are excluded from every term; label smoothing spreads over the global vocabulary (Megatron-LM
smooths with the local vocabulary size and has no ``ignore_index``).

``process_group=None`` is the local computation (no collective; the local block is the whole
vocabulary), as for the other ``process_group`` options of losskit; pass
``torch.distributed.group.WORLD`` for every rank.

Collectives are plain ``torch.distributed`` calls inside ``torch.autograd.Function``\ s with an
analytic backward (no autograd through collectives); any backend with ``all_gather`` and
``all_reduce`` (gloo, NCCL) works. Not meant for ``torch.compile``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.autograd.function import once_differentiable

from .._core.checks import check_floating, check_index, check_integer, check_tensor, fail
from .._core.checks import shape_str as _shape_str
from .._core.dtypes import compute_dtype
from .._core.reduction import check_reduction
from ..functional.linear_cross_entropy import (
    check_linear_inputs,
    check_options,
    default_chunk_size,
    grad_pass,
    reduce_tokens,
    stats_pass,
    token_loss,
    token_scale,
)

__all__ = ["vocab_parallel_cross_entropy", "vocab_parallel_linear_cross_entropy"]


def _layout(fn: str, local_vocab: int, group: Any, device: torch.device) -> tuple[int, int]:
    """``(offset, global_vocab)``: where this rank's contiguous shard starts, and the total
    (``(0, local_vocab)`` without a group)."""
    if group is None:
        return 0, local_vocab
    if not dist.is_available() or not dist.is_initialized():
        raise fail(fn, "process_group needs an initialised torch.distributed process group")
    world = dist.get_world_size(group)
    rank = dist.get_rank(group)
    mine = torch.tensor([local_vocab], dtype=torch.long, device=device)
    sizes = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(sizes, mine, group=group)
    counts = [int(s.item()) for s in sizes]
    if min(counts) < 1:
        raise fail(fn, f"every rank must hold at least one class, got shard sizes {counts}")
    return sum(counts[:rank]), sum(counts)


def _shard_targets(
    target: Tensor, valid: Tensor, offset: int, local_vocab: int
) -> tuple[Tensor, Tensor]:
    """Local indices of the targets (0 where the target lies elsewhere) and the in-shard mask."""
    local = target - offset
    inside = valid & (local >= 0) & (local < local_vocab)
    return torch.where(inside, local, torch.zeros_like(local)), inside


def _all_reduce_max(x: Tensor, group: Any) -> Tensor:
    if group is None:
        return x
    out = x.clone()
    dist.all_reduce(out, op=dist.ReduceOp.MAX, group=group)
    return out


def _all_reduce_sum(parts: list[Tensor], group: Any) -> list[Tensor]:
    if group is None:
        return parts
    packed = torch.stack(parts)
    dist.all_reduce(packed, op=dist.ReduceOp.SUM, group=group)
    return list(packed.unbind(0))


# --------------------------------------------------------------------------------------------
# on local logits


class _VocabParallelCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        logits: Tensor,
        target: Tensor,
        group: Any,
        offset: int,
        vocab: int,
        ignore_index: int,
        smoothing: float,
        z_loss: float,
        reduction: str,
    ) -> Tensor:
        dtype = compute_dtype(logits)
        x = logits.to(dtype)
        valid = target != ignore_index
        labels, inside = _shard_targets(target, valid, offset, x.shape[1])
        count = valid.sum()
        top = _all_reduce_max(x.amax(1), group)
        exp_sum = torch.exp(x - top.unsqueeze(1)).sum(1)
        picked = torch.where(inside, x.gather(1, labels.unsqueeze(1)).squeeze(1), 0.0)
        parts = [exp_sum, picked] + ([x.sum(1)] if smoothing else [])
        reduced = _all_reduce_sum(parts, group)
        lse = top + reduced[0].log()
        sums = reduced[2] if smoothing else torch.zeros_like(lse)
        loss = token_loss(
            lse, reduced[1], sums, valid, vocab=vocab, smoothing=smoothing, z_loss=z_loss
        )
        ctx.save_for_backward(logits, labels, inside, valid, lse, count)
        ctx.options = (vocab, smoothing, z_loss, reduction, dtype)
        return reduce_tokens(loss, count, reduction)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        logits, labels, inside, valid, lse, count = ctx.saved_tensors
        vocab, smoothing, z_loss, reduction, dtype = ctx.options
        g = grad_output.to(dtype)
        if reduction == "none":
            grad_token = torch.where(valid, g, torch.zeros_like(g))
        else:
            grad_token = token_scale(valid, count, reduction, dtype) * g
        scale_p = grad_token * (1.0 + 2.0 * z_loss * lse) if z_loss else grad_token
        grad = logits.to(dtype).sub(lse.unsqueeze(1)).exp_().mul_(scale_p.unsqueeze(1))
        if smoothing:
            grad.sub_((grad_token * (smoothing / vocab)).unsqueeze(1))
        at_target = torch.where(inside, grad_token * (1.0 - smoothing), 0.0)
        grad.scatter_add_(1, labels.unsqueeze(1), at_target.neg().unsqueeze(1))
        return (grad.to(logits.dtype), *(None,) * 8)


def vocab_parallel_cross_entropy(
    local_logits: Tensor,
    target: Tensor,
    *,
    process_group: Any,
    label_smoothing: float = 0.0,
    ignore_index: int = -100,
    z_loss: float = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Softmax cross-entropy over a vocabulary sharded along the class dimension.

    Rank :math:`r` of ``process_group`` holds the logits of classes :math:`[o_r, o_r + V_r)`
    (contiguous, in rank order; shards may differ in size). With the global
    :math:`\operatorname{lse}_i = \log \sum_{j < V} e^{x_{ij}}` over all :math:`V` classes:

    .. math::

        \ell_i = (1 - \epsilon)(\operatorname{lse}_i - x_{i y_i})
                 + \frac{\epsilon}{V} \sum_{j < V} (\operatorname{lse}_i - x_{ij})
                 + z \operatorname{lse}_i^2,

    0 where :math:`y_i` is ``ignore_index``. Without ``z_loss`` every rank gets the value of
    ``F.cross_entropy(full_logits, target, ignore_index=..., label_smoothing=...)`` (``"mean"``
    over the counted tokens, 0 when every token is ignored) and the gradient of its shard equals
    the full gradient's block ``[:, o_r : o_r + V_r]``. See the module notes for the
    communication and the gradient semantics.

    Args:
        local_logits: this rank's logits ``[N, V_r]`` (or ``[*, V_r]``), classes last, floating.
        target: global class indices ``[N]`` (``[*]``), the same on every rank, integer.
        process_group: the tensor-parallel group (``torch.distributed.group.WORLD`` for every
            rank); ``None``: no group, the local tensor holds every class and nothing is
            communicated (as for losskit's other ``process_group`` options).
        label_smoothing: :math:`\epsilon \in [0, 1]`, over the global vocabulary.
        ignore_index: target value that contributes nothing and is not counted by ``"mean"``.
        z_loss: :math:`z \ge 0`, the weight of :math:`\operatorname{lse}^2`.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that targets lie in ``[0, V)`` or equal ``ignore_index``.

    Returns:
        ``target``'s shape for ``"none"``, else a scalar; the same on every rank; float32 for
        half/bfloat16 logits.

    Raises:
        ValueError: shapes, targets out of range, options out of range, an empty shard, no
            initialised process group.
        TypeError: logits not floating, target not integer.

    Example (one process, a group of one rank: the whole vocabulary is the shard):
        >>> import os, tempfile, torch.distributed as dist
        >>> init = "file://" + os.path.join(tempfile.mkdtemp(), "init")
        >>> dist.init_process_group("gloo", init_method=init, rank=0, world_size=1)
        >>> logits, target = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), torch.tensor([0, 2])
        >>> vocab_parallel_cross_entropy(logits, target, process_group=dist.group.WORLD,
        ...                              label_smoothing=0.1)
        tensor(0.9273)
        >>> torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1)
        tensor(0.9273)
        >>> dist.destroy_process_group()

    References:
        Shoeybi et al. 2019, Megatron-LM (vocabulary-parallel cross-entropy);
        ``torch.nn.functional.cross_entropy``.
    """
    fn = "vocab_parallel_cross_entropy"
    smoothing, zl, _ = check_options(fn, label_smoothing, z_loss, None, None)
    check_reduction(reduction, fn=fn)
    check_floating(fn, "local_logits", local_logits)
    check_tensor(fn, "target", target)
    check_integer(fn, "target", target, hint="target holds class indices")
    if local_logits.dim() < 1 or target.shape != local_logits.shape[:-1]:
        raise fail(
            fn,
            f"target must have local_logits' shape without its last (class) dimension, "
            f"{_shape_str(local_logits.shape[:-1])}, got {_shape_str(target.shape)}",
        )
    offset, vocab = _layout(fn, local_logits.shape[-1], process_group, local_logits.device)
    check_index(fn, "target", target, vocab, ignore_index=ignore_index, validate=validate)
    x = local_logits.reshape(-1, local_logits.shape[-1])
    t = target.reshape(-1).long()
    loss = _VocabParallelCrossEntropy.apply(
        x, t, process_group, offset, vocab, ignore_index, smoothing, zl, reduction
    )
    return loss.view(target.shape) if reduction == "none" else loss


# --------------------------------------------------------------------------------------------
# on hidden states and local weight rows


class _VocabParallelLinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        hidden: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        target: Tensor,
        group: Any,
        offset: int,
        vocab: int,
        ignore_index: int,
        smoothing: float,
        z_loss: float,
        softcap: float | None,
        reduction: str,
        chunk: int,
    ) -> Tensor:
        dtype = compute_dtype(hidden, weight, bias)
        w = weight.to(dtype)
        b = None if bias is None else bias.to(dtype)
        valid = target != ignore_index
        labels, inside = _shard_targets(target, valid, offset, w.shape[0])
        count = valid.sum()
        local_lse, picked, sums = stats_pass(
            hidden, w, b, labels, softcap=softcap, smoothing=bool(smoothing), chunk=chunk
        )
        top = _all_reduce_max(local_lse, group)
        parts = [torch.exp(local_lse - top), torch.where(inside, picked, 0.0)]
        reduced = _all_reduce_sum(parts + ([sums] if smoothing else []), group)
        lse = top + reduced[0].log()
        total = reduced[2] if smoothing else sums
        loss = token_loss(
            lse, reduced[1], total, valid, vocab=vocab, smoothing=smoothing, z_loss=z_loss
        )
        ctx.save_for_backward(hidden, weight, bias, labels, inside, valid, lse, count)
        ctx.options = (group, vocab, smoothing, z_loss, softcap, reduction, chunk, dtype)
        return reduce_tokens(loss, count, reduction)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        hidden, weight, bias, labels, inside, valid, lse, count = ctx.saved_tensors
        group, vocab, smoothing, z_loss, softcap, reduction, chunk, dtype = ctx.options
        w = weight.to(dtype)
        b = None if bias is None else bias.to(dtype)
        g = grad_output.to(dtype)
        if reduction == "none":
            grad_token = torch.where(valid, g, torch.zeros_like(g))
        else:
            grad_token = token_scale(valid, count, reduction, dtype) * g
        scale_p = grad_token * (1.0 + 2.0 * z_loss * lse) if z_loss else grad_token
        scale_uniform = grad_token * (smoothing / vocab) if smoothing else None
        at_target = torch.where(inside, grad_token * (1.0 - smoothing), 0.0)
        needs = ctx.needs_input_grad
        # hidden is replicated, so whether it needs a gradient is the same on every rank, and
        # with it whether the ranks meet in the all-reduce below.
        grad_h, grad_w, grad_b = grad_pass(
            hidden,
            w,
            b,
            labels,
            lse,
            scale_p,
            scale_uniform,
            at_target,
            softcap=softcap,
            chunk=chunk,
            needs=(needs[0], needs[1], needs[2] and bias is not None),
        )
        out_h = None
        if grad_h is not None:
            if group is not None:
                dist.all_reduce(grad_h, op=dist.ReduceOp.SUM, group=group)
            out_h = grad_h.to(hidden.dtype)
        out_w = None if grad_w is None else grad_w.to(weight.dtype)
        out_b = None if grad_b is None or bias is None else grad_b.to(bias.dtype)
        return (out_h, out_w, out_b, *(None,) * 10)


def vocab_parallel_linear_cross_entropy(
    hidden: Tensor,
    local_weight: Tensor,
    target: Tensor,
    *,
    process_group: Any,
    bias: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: str = "mean",
    chunk_size: int | None = None,
    validate: bool | None = None,
) -> Tensor:
    r"""Chunked cross-entropy of ``hidden @ W.T + b`` with the rows of ``W`` sharded over ranks.

    Rank :math:`r` holds rows :math:`[o_r, o_r + V_r)` of the projection (``local_weight``, and
    the same block of ``bias``); ``hidden`` and ``target`` are the same on every rank. The loss
    is :func:`losskit.linear_cross_entropy`'s over the full vocabulary:

    .. math::

        \ell_i = (1 - \epsilon)(\operatorname{lse}_i - s_{i y_i})
                 + \frac{\epsilon}{V} \sum_{j < V} (\operatorname{lse}_i - s_{ij})
                 + z \operatorname{lse}_i^2,
        \quad \operatorname{lse}_i = \log \sum_r e^{\operatorname{lse}^{(r)}_i},

    each rank computing its :math:`\operatorname{lse}^{(r)}` chunk by chunk as
    :func:`losskit.linear_cross_entropy` does (no (tokens × shard) tensor is held). Every rank
    returns the full loss; the gradients of ``local_weight`` and ``bias`` are the blocks of the
    single-process gradients, and ``hidden``'s gradient, all-reduced in the backward pass, is the
    full single-process gradient on every rank. The backward pass recomputes each chunk's logits.

    Args:
        hidden: ``[*, H]``, the same on every rank, floating.
        local_weight: this rank's rows ``[V_r, H]``, floating.
        target: global class indices ``[*]``, the same on every rank, integer.
        process_group: the tensor-parallel group (``torch.distributed.group.WORLD`` for every
            rank); ``None``: no group, the local tensor holds every class and nothing is
            communicated (as for losskit's other ``process_group`` options).
        bias: this rank's block of the bias ``[V_r]``, optional.
        ignore_index, label_smoothing, z_loss, softcap, reduction, chunk_size, validate: as in
            :func:`losskit.linear_cross_entropy` (smoothing over the global vocabulary).

    Returns:
        ``target``'s shape for ``"none"``, else a scalar; the same on every rank.

    Raises:
        ValueError: shapes, targets out of range, options, an empty shard, no process group.
        TypeError: ``hidden``, ``local_weight`` or ``bias`` not floating, ``target`` not integer.

    Example (a group of one rank):
        >>> import os, tempfile, torch.distributed as dist
        >>> import losskit
        >>> init = "file://" + os.path.join(tempfile.mkdtemp(), "init")
        >>> dist.init_process_group("gloo", init_method=init, rank=0, world_size=1)
        >>> g = torch.Generator().manual_seed(0)
        >>> hidden, weight = torch.randn(5, 4, generator=g), torch.randn(9, 4, generator=g)
        >>> target = torch.tensor([0, 8, -100, 3, 3])
        >>> world = dist.group.WORLD
        >>> a = vocab_parallel_linear_cross_entropy(hidden, weight, target, process_group=world)
        >>> torch.allclose(a, losskit.linear_cross_entropy(hidden, weight, target))
        True
        >>> dist.destroy_process_group()

    References:
        Shoeybi et al. 2019, Megatron-LM; Wijmans et al. 2024, Cut Cross-Entropy.
    """
    fn = "vocab_parallel_linear_cross_entropy"
    smoothing, zl, cap = check_options(fn, label_smoothing, z_loss, softcap, chunk_size)
    check_reduction(reduction, fn=fn)
    check_linear_inputs(fn, hidden, local_weight, target, bias, weight_name="local_weight")
    offset, vocab = _layout(fn, local_weight.shape[0], process_group, hidden.device)
    check_index(fn, "target", target, vocab, ignore_index=ignore_index, validate=validate)
    h = hidden.reshape(-1, hidden.shape[-1])
    t = target.reshape(-1).long()
    local = local_weight.shape[0]
    chunk = chunk_size if chunk_size is not None else default_chunk_size(h.shape[0], local)
    loss = _VocabParallelLinearCrossEntropy.apply(
        h,
        local_weight,
        bias,
        t,
        process_group,
        offset,
        vocab,
        ignore_index,
        smoothing,
        zl,
        cap,
        reduction,
        chunk,
    )
    return loss.view(target.shape) if reduction == "none" else loss
