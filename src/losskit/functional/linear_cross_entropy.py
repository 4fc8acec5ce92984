r"""Cross-entropy of a linear layer's output, computed in chunks of tokens.

A language model's last step is ``logits = hidden @ weight.T + bias`` followed by a softmax
cross-entropy over the vocabulary. Written as ``F.cross_entropy(F.linear(hidden, weight, bias),
target)`` it materialises the (tokens × vocabulary) logits, a log-softmax of the same size saved
for backward and a gradient of the same size again: at 4,096 tokens and 128,000 classes that is
three 2 GiB float32 tensors. :func:`linear_cross_entropy` computes the same loss and the same
gradients for ``hidden``, ``weight`` and ``bias`` a chunk of tokens at a time, so that only one
(chunk × vocabulary) block of logits exists at once, in the forward and in the backward pass.

How the gradient is formed (the loss of token :math:`i` with logits :math:`s_i`, after softcapping,
see :func:`linear_cross_entropy`):

.. math::

    \frac{\partial \ell_i}{\partial s_{ij}} = p_{ij}\,(1 + 2 z \operatorname{lse}_i)
        - (1 - \epsilon)\,[j = y_i] - \frac{\epsilon}{V},
    \qquad p_{ij} = e^{s_{ij} - \operatorname{lse}_i},

times the softcap's derivative :math:`1 - (s_{ij}/c)^2` and the upstream gradient of the token;
then :math:`\partial h = \partial s\,W`, :math:`\partial W = \partial s^\top h`,
:math:`\partial b = \sum_i \partial s_i`, accumulated chunk by chunk.

* ``reduction="mean"`` or ``"sum"`` with gradients required: the loss is a scalar, so its upstream
  gradient is one number and the gradient is linear in it. The forward pass computes the
  gradients for an upstream gradient of 1 in the same sweep over the chunks as the loss (one
  matrix product for the logits, two for the gradients: as many as the unfused path), keeps
  ``dh``, ``dW``, ``db`` (the size of the inputs, never of the logits) and the backward pass
  scales them in place and hands them to autograd, which keeps them as ``.grad`` without a copy.
  A second backward through the same graph (after ``retain_graph=True``) replays the forward's
  sweep and gives the same gradients to the last bit.
* ``reduction="none"`` (any upstream gradient, non-uniform included), or no gradient required: the
  forward pass keeps only the per-token statistics (log-sum-exp), and the backward pass
  recomputes each chunk's logits from ``hidden`` and ``weight``.

Under :mod:`torch.func` (``vmap``, ``grad``; the Function has a generated vmap rule) the kernels
run out of place, since their operands may be batched differently.

Half and bfloat16 inputs compute in float32 (the weight is upcast once, the hidden states chunk by
chunk); the loss is float32 and each gradient has its input's dtype. The vocabulary is not split:
one chunk holds ``chunk_size × V`` logits, and the default chunk size keeps that near 32 Mi
elements (128 MiB in float32).

``torch.compile(fullgraph=True)``: compiles without graph breaks, with static or dynamic shapes
(``dynamic=True`` gives one graph for every token count). The chunk sweeps run as two opaque
custom operators (``losskit::linear_cross_entropy_sweep`` and ``..._grads``) holding the eager
kernels: traced, their in-place accumulation into ``dW`` would be functionalised into a new
``(V, H)`` buffer per chunk. What the compiled graph keeps of the eager path's economy: the
gradients formed in the forward pass are saved tensors, scaled out of place in the backward
(one more ``(V, H)`` buffer at that moment than eager, where autograd takes them over).
Data-dependent validation of the targets is skipped under compile, as everywhere in losskit.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .._core.checks import (
    check_floating,
    check_index,
    check_integer,
    check_tensor,
    fail,
    shape_str,
    transforming,
)
from .._core.dtypes import compute_dtype
from .._core.function import apply
from .._core.reduction import check_reduction

__all__ = ["linear_cross_entropy"]

_CHUNK_ELEMENTS = 1 << 25
"""Logits per chunk that the default ``chunk_size`` aims at (128 MiB in float32). Larger chunks
save time (each chunk adds one read and write of ``dW``), smaller ones memory."""

_MIN_CHUNK = 32
"""Smallest default chunk: below it the matrix products lose their efficiency."""


def default_chunk_size(tokens: int, vocab: int) -> int:
    """The default number of tokens per chunk: about ``2**25 / vocab``, at least 32, at most
    ``tokens`` (and at least 1).

    Example:
        >>> default_chunk_size(4096, 128_000), default_chunk_size(4096, 32_000)
        (262, 1048)
    """
    return max(1, min(tokens, max(_MIN_CHUNK, _CHUNK_ELEMENTS // max(vocab, 1))))


# --------------------------------------------------------------------------------------------
# the chunk kernels (shared with losskit.distributed.vocab_parallel)


def chunk_logits(
    h: Tensor, weight: Tensor, bias: Tensor | None, softcap: float | None
) -> tuple[Tensor, Tensor | None]:
    """The (capped) logits of one chunk, and ``tanh(z / c)`` when softcapping (else ``None``)."""
    h = h.to(weight.dtype)
    z = torch.mm(h, weight.t()) if bias is None else torch.addmm(bias, h, weight.t())
    if softcap is None:
        return z, None
    th = z.div_(softcap).tanh_() if not transforming() else torch.tanh(z / softcap)
    return th * softcap, th


def stats_pass(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target: Tensor,
    *,
    softcap: float | None,
    smoothing: bool,
    chunk: int,
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-token ``(lse, s_target, sum_j s_j)`` over this weight's classes, chunk by chunk.

    ``target`` holds indices into ``weight``'s rows (any in-range index where the caller masks the
    result); ``sum_j s_j`` is zeros unless ``smoothing``.
    """
    n = hidden.shape[0]
    dtype = weight.dtype
    if n == 0:
        empty = hidden.new_zeros(0, dtype=dtype)
        return empty, empty, empty
    lses, picked, sums = [], [], []
    for start in range(0, n, chunk):
        s, th = chunk_logits(hidden[start : start + chunk], weight, bias, softcap)
        t = target[start : start + chunk]
        picked.append(s.gather(1, t.unsqueeze(1)).squeeze(1))
        sums.append(s.sum(1) if smoothing else s.new_zeros(s.shape[0]))
        lses.append(torch.logsumexp(s, 1))
        del s, th  # free this chunk's block before the next one is allocated
    return torch.cat(lses), torch.cat(picked), torch.cat(sums)


def _chunk_grad(
    p: Tensor,
    th: Tensor | None,
    target: Tensor,
    scale_p: Tensor,
    scale_uniform: Tensor | None,
    scale_target: Tensor,
) -> Tensor:
    """``p * scale_p - scale_uniform - scale_target [j = y]``, times ``1 - tanh^2`` (in place,
    except under :mod:`torch.func`, where the operands may be batched differently)."""
    at_target = scale_target.neg().unsqueeze(1).to(p.dtype)
    if transforming():
        dz = p * scale_p.unsqueeze(1)
        if scale_uniform is not None:
            dz = dz - scale_uniform.unsqueeze(1)
        dz = dz.scatter_add(1, target.unsqueeze(1), at_target)
        return dz if th is None else dz * (1.0 - th * th)
    dz = p.mul_(scale_p.unsqueeze(1))
    if scale_uniform is not None:
        dz.sub_(scale_uniform.unsqueeze(1))
    dz.scatter_add_(1, target.unsqueeze(1), at_target)
    if th is not None:
        dz.mul_(th.square_().neg_().add_(1.0))
    return dz


def _accumulate(
    dz: Tensor,
    h: Tensor,
    weight: Tensor,
    grad_weight: Tensor | None,
    grad_bias: Tensor | None,
    want_hidden: bool,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """This chunk's ``dh``, and ``dW``, ``db`` with the chunk's share added."""
    h = h.to(dz.dtype)
    if transforming():
        if grad_weight is not None:
            grad_weight = grad_weight + dz.t().mm(h)
        if grad_bias is not None:
            grad_bias = grad_bias + dz.sum(0)
    else:
        if grad_weight is not None:
            grad_weight.addmm_(dz.t(), h)
        if grad_bias is not None:
            grad_bias.add_(dz.sum(0))
    return (torch.mm(dz, weight) if want_hidden else None), grad_weight, grad_bias


def _exp_shifted(s: Tensor, shift: Tensor) -> Tensor:
    """``exp(s - shift)``, in ``s``'s memory outside :mod:`torch.func`."""
    return torch.exp(s - shift) if transforming() else s.sub_(shift).exp_()


def grad_pass(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target: Tensor,
    lse: Tensor,
    scale_p: Tensor,
    scale_uniform: Tensor | None,
    scale_target: Tensor,
    *,
    softcap: float | None,
    chunk: int,
    needs: tuple[bool, bool, bool],
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """Recompute each chunk's logits and accumulate ``(dh, dW, db)`` for the given per-token
    coefficients (see :func:`_chunk_grad`); ``lse`` is each token's log-sum-exp."""
    grad_weight = torch.zeros_like(weight) if needs[1] else None
    grad_bias = torch.zeros_like(bias) if needs[2] and bias is not None else None
    parts: list[Tensor] = []
    for start in range(0, hidden.shape[0], chunk):
        stop = start + chunk
        h = hidden[start:stop]
        s, th = chunk_logits(h, weight, bias, softcap)
        p = _exp_shifted(s, lse[start:stop].unsqueeze(1))
        su = None if scale_uniform is None else scale_uniform[start:stop]
        dz = _chunk_grad(
            p, th, target[start:stop], scale_p[start:stop], su, scale_target[start:stop]
        )
        dh, grad_weight, grad_bias = _accumulate(dz, h, weight, grad_weight, grad_bias, needs[0])
        if dh is not None:
            parts.append(dh)
        del s, th, p, dz  # free this chunk's block before the next one is allocated
    grad_hidden = None
    if needs[0]:
        grad_hidden = (
            torch.cat(parts) if parts else hidden.new_zeros(hidden.shape, dtype=weight.dtype)
        )
    return grad_hidden, grad_weight, grad_bias


def fused_pass(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target: Tensor,
    grad_token: Tensor,
    *,
    smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk: int,
    needs: tuple[bool, bool, bool],
) -> tuple[tuple[Tensor, Tensor, Tensor], tuple[Tensor | None, Tensor | None, Tensor | None]]:
    """One sweep: the per-token statistics of :func:`stats_pass` and the gradients for the
    per-token upstream gradients ``grad_token`` (0 for ignored tokens)."""
    n = hidden.shape[0]
    vocab = weight.shape[0]
    grad_weight = torch.zeros_like(weight) if needs[1] else None
    grad_bias = torch.zeros_like(bias) if needs[2] and bias is not None else None
    lses, picked, sums, parts = [], [], [], []
    for start in range(0, n, chunk):
        stop = start + chunk
        h = hidden[start:stop]
        t = target[start:stop]
        s, th = chunk_logits(h, weight, bias, softcap)
        picked.append(s.gather(1, t.unsqueeze(1)).squeeze(1))
        sums.append(s.sum(1) if smoothing else s.new_zeros(s.shape[0]))
        top = s.amax(1, keepdim=True)
        e = _exp_shifted(s, top)
        total = e.sum(1)
        lse = top.squeeze(1) + total.log()
        lses.append(lse)
        g = grad_token[start:stop]
        scale_p = g * (1.0 + 2.0 * z_loss * lse) if z_loss else g
        scale_uniform = g * (smoothing / vocab) if smoothing else None
        # p = e / total, scaled in the same pass
        dz = _chunk_grad(e, th, t, scale_p / total, scale_uniform, g * (1.0 - smoothing))
        dh, grad_weight, grad_bias = _accumulate(dz, h, weight, grad_weight, grad_bias, needs[0])
        if dh is not None:
            parts.append(dh)
        del s, th, e, dz  # free this chunk's block before the next one is allocated
    if n == 0:
        empty = hidden.new_zeros(0, dtype=weight.dtype)
        stats = (empty, empty, empty)
    else:
        stats = (torch.cat(lses), torch.cat(picked), torch.cat(sums))
    grad_hidden = None
    if needs[0]:
        grad_hidden = (
            torch.cat(parts) if parts else hidden.new_zeros(hidden.shape, dtype=weight.dtype)
        )
    return stats, (grad_hidden, grad_weight, grad_bias)


def token_loss(
    lse: Tensor,
    picked: Tensor,
    sums: Tensor,
    valid: Tensor,
    *,
    vocab: int,
    smoothing: float,
    z_loss: float,
) -> Tensor:
    """``lse - (1 - eps) s_y - eps/V sum_j s_j + z lse^2``, 0 for ignored tokens."""
    loss = lse - (1.0 - smoothing) * picked
    if smoothing:
        loss = loss - (smoothing / vocab) * sums
    if z_loss:
        loss = loss + z_loss * lse.square()
    return torch.where(valid, loss, torch.zeros_like(loss))


def token_scale(valid: Tensor, count: Tensor, reduction: str, dtype: torch.dtype) -> Tensor:
    """Each token's upstream gradient for a scalar upstream gradient of 1: ``valid / count``
    (``"mean"``, 0 everywhere when nothing is counted) or ``valid`` (``"sum"``)."""
    weight = valid.to(dtype)
    if reduction == "mean":
        weight = weight / count.clamp_min(1).to(dtype)
    return weight


def reduce_tokens(loss: Tensor, count: Tensor, reduction: str) -> Tensor:
    """``"none"``: as is; ``"sum"``; ``"mean"``: divided by the counted tokens (0 for none)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / count.clamp_min(1).to(total.dtype)


# --------------------------------------------------------------------------------------------
# the sweeps as custom operators, for torch.compile

# Traced by torch.compile, the sweeps' in-place accumulation into dW would be functionalised (a
# new (V, H) buffer per chunk) and the unrolled chunks' buffers planned together; as opaque
# operators they run the eager kernels, in place, and compiled memory stays eager memory.


def _empty_like_grads(
    hidden: Tensor, weight: Tensor, bias: Tensor | None, needs: tuple[bool, bool, bool]
) -> tuple[Tensor, Tensor, Tensor]:
    dtype = compute_dtype(hidden, weight, bias)
    shapes = (hidden.shape, weight.shape, weight.shape[:1])
    return tuple(  # type: ignore[return-value]
        hidden.new_empty(shape if need else (0,), dtype=dtype)
        for shape, need in zip(shapes, needs, strict=True)
    )


def _or_empty(grads: tuple[Tensor | None, ...], like: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    return tuple(like.new_zeros(0) if g is None else g for g in grads)  # type: ignore[return-value]


@torch.library.custom_op("losskit::linear_cross_entropy_sweep", mutates_args=())
def _sweep_op(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    labels: Tensor,
    grad_token: Tensor | None,
    smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk: int,
    need_h: bool,
    need_w: bool,
    need_b: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    dtype = compute_dtype(hidden, weight, bias)
    w = weight.to(dtype)
    b = None if bias is None else bias.to(dtype)
    if grad_token is None:
        stats = stats_pass(
            hidden, w, b, labels, softcap=softcap, smoothing=bool(smoothing), chunk=chunk
        )
        return (*stats, *_or_empty((None, None, None), stats[0]))
    stats, grads = fused_pass(
        hidden,
        w,
        b,
        labels,
        grad_token,
        smoothing=smoothing,
        z_loss=z_loss,
        softcap=softcap,
        chunk=chunk,
        needs=(need_h, need_w, need_b),
    )
    return (*stats, *_or_empty(grads, stats[0]))


@_sweep_op.register_fake
def _sweep_fake(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    labels: Tensor,
    grad_token: Tensor | None,
    smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk: int,
    need_h: bool,
    need_w: bool,
    need_b: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    dtype = compute_dtype(hidden, weight, bias)
    stats = tuple(hidden.new_empty(hidden.shape[:1], dtype=dtype) for _ in range(3))
    fused = grad_token is not None
    needs = (need_h and fused, need_w and fused, need_b and fused and bias is not None)
    return (*stats, *_empty_like_grads(hidden, weight, bias, needs))  # type: ignore[return-value]


@torch.library.custom_op("losskit::linear_cross_entropy_grads", mutates_args=())
def _grads_op(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    labels: Tensor,
    lse: Tensor,
    scale_p: Tensor,
    scale_uniform: Tensor | None,
    scale_target: Tensor,
    softcap: float | None,
    chunk: int,
    need_h: bool,
    need_w: bool,
    need_b: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    dtype = compute_dtype(hidden, weight, bias)
    w = weight.to(dtype)
    b = None if bias is None else bias.to(dtype)
    grads = grad_pass(
        hidden,
        w,
        b,
        labels,
        lse,
        scale_p,
        scale_uniform,
        scale_target,
        softcap=softcap,
        chunk=chunk,
        needs=(need_h, need_w, need_b),
    )
    return _or_empty(grads, lse)


@_grads_op.register_fake
def _grads_fake(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    labels: Tensor,
    lse: Tensor,
    scale_p: Tensor,
    scale_uniform: Tensor | None,
    scale_target: Tensor,
    softcap: float | None,
    chunk: int,
    need_h: bool,
    need_w: bool,
    need_b: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    needs = (need_h, need_w, need_b and bias is not None)
    return _empty_like_grads(hidden, weight, bias, needs)


# --------------------------------------------------------------------------------------------
# the autograd function


class _LinearCrossEntropy(torch.autograd.Function):
    """Loss (and, in the fused mode, the gradients for a unit upstream gradient) in one sweep.

    Outputs: the loss, the per-token log-sum-exp, and ``dh``, ``dW``, ``db`` (empty tensors
    unless fused and needed); all but the loss are non-differentiable and for backward only.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        hidden: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        target: Tensor,
        ignore_index: int,
        smoothing: float,
        z_loss: float,
        softcap: float | None,
        reduction: str,
        chunk: int,
        fused: bool,
        needs: tuple[bool, bool, bool],
    ) -> tuple[Tensor, ...]:
        dtype = compute_dtype(hidden, weight, bias)
        valid, labels, count = _counted(target, ignore_index)
        grads: tuple[Tensor | None, ...] = (None, None, None)
        if torch.compiler.is_compiling():
            scale = token_scale(valid, count, reduction, dtype) if fused else None
            lse, picked, sums, *traced = _sweep_op(
                hidden, weight, bias, labels, scale, smoothing, z_loss, softcap, chunk, *needs
            )
            grads = tuple(traced) if fused else grads
        elif fused:
            w = weight.to(dtype)
            b = None if bias is None else bias.to(dtype)
            stats, grads = fused_pass(
                hidden,
                w,
                b,
                labels,
                token_scale(valid, count, reduction, dtype),
                smoothing=smoothing,
                z_loss=z_loss,
                softcap=softcap,
                chunk=chunk,
                needs=needs,
            )
            lse, picked, sums = stats
        else:
            w = weight.to(dtype)
            b = None if bias is None else bias.to(dtype)
            lse, picked, sums = stats_pass(
                hidden, w, b, labels, softcap=softcap, smoothing=bool(smoothing), chunk=chunk
            )
        loss = token_loss(
            lse, picked, sums, valid, vocab=weight.shape[0], smoothing=smoothing, z_loss=z_loss
        )
        return (
            reduce_tokens(loss, count, reduction),
            lse,
            *(lse.new_zeros(0) if g is None else g for g in grads),  # distinct placeholders
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, ...]) -> None:
        hidden, weight, bias, target, ignore_index, smoothing, z_loss, softcap = inputs[:8]
        reduction, chunk, fused, needs = inputs[8:]
        _, lse, *grads = output
        ctx.mark_non_differentiable(lse, *grads)
        # No zero gradients for the outputs that are for backward only (one would be (V, H)).
        ctx.set_materialize_grads(False)
        # Eager: the first backward takes the precomputed gradients out of the context, so that
        # autograd keeps them as ``.grad`` without a copy; a later backward (after
        # ``retain_graph=True``) replays the sweep. Traced (torch.compile) or transformed
        # (torch.func) calls keep them as saved tensors.
        keep = fused and (torch.compiler.is_compiling() or transforming())
        ctx.save_for_backward(hidden, weight, bias, target, lse, *(grads if keep else ()))
        ctx.pending = tuple(grads) if fused and not keep else None
        ctx.fused = fused
        ctx.options = (ignore_index, smoothing, z_loss, softcap, reduction, chunk, needs)
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor, *_: Any) -> tuple[Tensor | None, ...]:
        ignore_index, smoothing, z_loss, softcap, reduction, chunk, needs = ctx.options
        dtypes = ctx.dtypes
        tail = (None,) * 9
        if grad_output is None:  # the loss itself received no gradient
            return (None, None, None, *tail)
        saved = ctx.saved_tensors
        hidden, weight, bias, target, lse = saved[:5]
        dtype = compute_dtype(hidden, weight, bias)
        valid, labels, count = _counted(target, ignore_index)
        precomputed = ctx.pending if ctx.pending is not None else saved[5:]
        ctx.pending = None
        if ctx.fused and not precomputed:
            # A second backward through the same graph: replay the forward's sweep, so that the
            # result is the first backward's to the last bit.
            _, precomputed = fused_pass(
                hidden,
                weight.to(dtype),
                None if bias is None else bias.to(dtype),
                labels,
                token_scale(valid, count, reduction, dtype),
                smoothing=smoothing,
                z_loss=z_loss,
                softcap=softcap,
                chunk=chunk,
                needs=needs,
            )
        g = grad_output.to(dtype)
        if ctx.fused:
            out = tuple(
                None if t is None or d is None or not need else _scaled(t, g, d)
                for t, need, d in zip(precomputed, needs, dtypes, strict=True)
            )
            return (*out, *tail)
        if reduction == "none":
            grad_token = torch.where(valid, g, torch.zeros_like(g))
        else:
            grad_token = token_scale(valid, count, reduction, dtype) * g
        scale_p = grad_token * (1.0 + 2.0 * z_loss * lse) if z_loss else grad_token
        scale_uniform = grad_token * (smoothing / weight.shape[0]) if smoothing else None
        sweep = _grads_op if torch.compiler.is_compiling() else _grad_pass_tuple
        grads = sweep(
            hidden,
            weight,
            bias,
            labels,
            lse,
            scale_p,
            scale_uniform,
            grad_token * (1.0 - smoothing),
            softcap,
            chunk,
            needs[0],
            needs[1],
            needs[2] and bias is not None,
        )
        grads = tuple(g if need else None for g, need in zip(grads, needs, strict=True))
        out = tuple(
            None if t is None or d is None else t.to(d) for t, d in zip(grads, dtypes, strict=True)
        )
        return (*out, *tail)


def _grad_pass_tuple(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    labels: Tensor,
    lse: Tensor,
    scale_p: Tensor,
    scale_uniform: Tensor | None,
    scale_target: Tensor,
    softcap: float | None,
    chunk: int,
    need_h: bool,
    need_w: bool,
    need_b: bool,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """:func:`grad_pass` with :func:`_grads_op`'s signature (the eager path)."""
    dtype = compute_dtype(hidden, weight, bias)
    return grad_pass(
        hidden,
        weight.to(dtype),
        None if bias is None else bias.to(dtype),
        labels,
        lse,
        scale_p,
        scale_uniform,
        scale_target,
        softcap=softcap,
        chunk=chunk,
        needs=(need_h, need_w, need_b),
    )


def _counted(target: Tensor, ignore_index: int) -> tuple[Tensor, Tensor, Tensor]:
    """``(valid, labels, count)``: the counted tokens, labels with 0 at ignored tokens, and how
    many are counted."""
    valid = target != ignore_index
    return valid, torch.where(valid, target, torch.zeros_like(target)), valid.sum()


def _scaled(grad: Tensor, scale: Tensor, dtype: torch.dtype) -> Tensor:
    """``grad * scale`` in ``dtype``: in place in eager mode (the gradient is then handed over),
    out of place when traced (the traced backward may not mutate what it saved)."""
    if torch.compiler.is_compiling() or transforming():
        return (grad * scale).to(dtype)
    return grad.mul_(scale).to(dtype)


# --------------------------------------------------------------------------------------------
# checks


def check_options(
    fn: str,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk_size: int | None,
) -> tuple[float, float, float | None]:
    """Static checks of the options shared with the vocabulary-parallel functions."""
    for name, value in (("label_smoothing", label_smoothing), ("z_loss", z_loss)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(fn, f"{name} must be a float, got {type(value).__name__}", TypeError)
    if not 0.0 <= label_smoothing <= 1.0:
        raise fail(fn, f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    if not z_loss >= 0.0:
        raise fail(fn, f"z_loss must be >= 0, got {z_loss!r}")
    if softcap is not None:
        if isinstance(softcap, bool) or not isinstance(softcap, (int, float)):
            raise fail(
                fn, f"softcap must be a float or None, got {type(softcap).__name__}", TypeError
            )
        if not softcap > 0.0:
            raise fail(fn, f"softcap must be > 0 or None, got {softcap!r}")
        softcap = float(softcap)
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise fail(fn, f"chunk_size must be a positive int or None, got {chunk_size!r}")
    return float(label_smoothing), float(z_loss), softcap


def check_linear_inputs(
    fn: str,
    hidden: Tensor,
    weight: Tensor,
    target: Tensor,
    bias: Tensor | None,
    weight_name: str = "weight",
) -> None:
    """Shapes and dtypes of ``hidden [*, H]``, ``weight [V, H]``, ``bias [V]``, ``target [*]``."""
    check_floating(fn, "hidden", hidden)
    check_floating(fn, weight_name, weight)
    check_tensor(fn, "target", target)
    check_integer(fn, "target", target, hint="target holds class indices")
    if hidden.dim() < 1:
        raise fail(fn, "hidden must have a feature dimension [*, H], got a 0-dim tensor")
    if weight.dim() != 2 or weight.shape[1] != hidden.shape[-1]:
        raise fail(
            fn,
            f"{weight_name} must have shape (V, {hidden.shape[-1]}) for hidden of shape "
            f"{shape_str(hidden.shape)}, got {shape_str(weight.shape)}",
        )
    if target.shape != hidden.shape[:-1]:
        raise fail(
            fn,
            f"target must have hidden's shape without its last dimension, "
            f"{shape_str(hidden.shape[:-1])}, got {shape_str(target.shape)}",
        )
    if bias is not None:
        check_floating(fn, "bias", bias)
        if bias.shape != weight.shape[:1]:
            raise fail(
                fn,
                f"bias must have shape ({weight.shape[0]},) (one per row of {weight_name}), got "
                f"{shape_str(bias.shape)}",
            )


# --------------------------------------------------------------------------------------------
# public


def linear_cross_entropy(
    hidden: Tensor,
    weight: Tensor,
    target: Tensor,
    *,
    bias: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: str = "mean",
    chunk_size: int | None = None,
    validate: bool | None = None,
) -> Tensor:
    r"""Cross-entropy of ``hidden @ weight.T + bias`` against class indices, never holding the
    (tokens × vocabulary) logits.

    With logits :math:`z_i = W h_i + b` over :math:`V` classes, optionally softcapped,
    :math:`s_i = c \tanh(z_i / c)` (Gemma 2), and :math:`\operatorname{lse}_i = \log \sum_j
    e^{s_{ij}}`:

    .. math::

        \ell_i = (1 - \epsilon)\,(\operatorname{lse}_i - s_{i y_i})
                 + \frac{\epsilon}{V} \sum_{j=1}^{V} (\operatorname{lse}_i - s_{ij})
                 + z\,\operatorname{lse}_i^2

    and :math:`\ell_i = 0` where :math:`y_i` is ``ignore_index`` (ignored tokens are excluded from
    every term: the target, the smoothing and the z-loss). Without ``z_loss`` and ``softcap``
    this equals ``F.cross_entropy(F.linear(hidden, weight, bias), target,
    ignore_index=ignore_index, label_smoothing=label_smoothing)``, values and gradients, under
    every reduction; ``"mean"`` divides by the number of counted tokens and is 0 (gradients 0)
    when every token is ignored, where torch gives NaN. The z-loss is PaLM's auxiliary
    :math:`z \log^2 Z` (Chowdhery et al. 2022).

    The tokens are processed ``chunk_size`` at a time, in the forward and the backward pass, so
    memory beyond the inputs and their gradients is about ``chunk_size × V`` logits (see the
    module notes for how the gradient is formed and for ``torch.compile``).

    Args:
        hidden: hidden states ``[*, H]``, floating.
        weight: the output projection ``[V, H]`` (``nn.Linear(H, V).weight``), floating.
        target: class indices ``[*]`` (``hidden``'s shape without its last dimension), integer.
        bias: optional ``[V]``.
        ignore_index: target value that contributes nothing and is not counted by ``"mean"``.
        label_smoothing: :math:`\epsilon \in [0, 1]`, spread over the full vocabulary as
            ``F.cross_entropy`` does.
        z_loss: :math:`z \ge 0`, the weight of :math:`\operatorname{lse}^2`.
        softcap: :math:`c > 0`: logits become :math:`c \tanh(z / c)` before the softmax;
            ``None`` for none.
        reduction: ``"none" | "mean" | "sum"``.
        chunk_size: tokens per chunk; ``None`` picks about :math:`2^{25} / V` (at least 32).
        validate: check that targets lie in ``[0, V)`` or equal ``ignore_index``; ``None``
            follows :func:`losskit.set_validation`.

    Returns:
        ``target``'s shape for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes that do not fit, targets out of range, options out of range, unknown
            reduction.
        TypeError: ``hidden``, ``weight`` or ``bias`` not floating, ``target`` not integer.

    Example:
        >>> import torch.nn.functional as tF
        >>> g = torch.Generator().manual_seed(0)
        >>> hidden, weight = torch.randn(6, 8, generator=g), torch.randn(50, 8, generator=g)
        >>> target = torch.tensor([1, 7, -100, 49, 0, 3])
        >>> loss = linear_cross_entropy(hidden, weight, target, label_smoothing=0.1, chunk_size=4)
        >>> ref = tF.cross_entropy(hidden @ weight.T, target, label_smoothing=0.1)
        >>> torch.allclose(loss, ref)
        True

    See :class:`losskit.nn.LinearCrossEntropyLoss`;
    :func:`losskit.distributed.vocab_parallel_linear_cross_entropy` for a weight sharded over
    processes.

    References:
        ``torch.nn.functional.cross_entropy`` of ``torch.nn.functional.linear``; Wijmans et al.
        2024, "Cut Your Losses in Large-Vocabulary Language Models" (Cut Cross-Entropy); Hsu et
        al. 2024, Liger-Kernel's fused linear cross-entropy; Gemma Team 2024 (logit softcapping).
    """
    fn = "linear_cross_entropy"
    smoothing, zl, cap = check_options(fn, label_smoothing, z_loss, softcap, chunk_size)
    check_reduction(reduction, fn=fn)
    check_linear_inputs(fn, hidden, weight, target, bias)
    vocab = weight.shape[0]
    if vocab == 0:
        raise fail(fn, "weight must have at least one row (class), got shape (0, H)")
    check_index(fn, "target", target, vocab, ignore_index=ignore_index, validate=validate)
    h = hidden.reshape(-1, hidden.shape[-1])
    t = target.reshape(-1).long()
    chunk = chunk_size if chunk_size is not None else default_chunk_size(h.shape[0], vocab)
    needs = (
        hidden.requires_grad,
        weight.requires_grad,
        bias is not None and bias.requires_grad,
    )
    fused = reduction != "none" and torch.is_grad_enabled() and any(needs)
    loss = apply(
        _LinearCrossEntropy,
        h,
        weight,
        bias,
        t,
        ignore_index,
        smoothing,
        zl,
        cap,
        reduction,
        chunk,
        fused,
        needs,
    )[0]
    return loss.view(target.shape) if reduction == "none" else loss
