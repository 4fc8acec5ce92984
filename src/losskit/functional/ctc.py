r"""Connectionist temporal classification (CTC): the loss (decoders: :mod:`.ctc_decode`).

* :func:`ctc_loss` is :func:`torch.nn.functional.ctc_loss` (same arguments, values and gradients
  w.r.t. the logits) with TensorFlow's three extra switches: ``collapse_repeated_labels``
  (``preprocess_collapse_repeated``), ``merge_repeated`` (``ctc_merge_repeated``) and
  ``ignore_longer_outputs_than_inputs``.
* :func:`ctc_greedy_decode` (best path, ``tf.nn.ctc_greedy_decoder``) and
  :func:`ctc_beam_search_decode` (prefix beam search, ``tf.nn.ctc_beam_search_decoder``) live in
  :mod:`losskit.functional.ctc_decode`; they share this module's input checks.

Topologies
----------
A CTC model emits, at each of the :math:`T` frames, one of :math:`C` classes, one of which is the
*blank*. A frame-level path :math:`\pi` is read as a label sequence by a map :math:`\mathcal B`:

* ``merge_repeated=True`` (standard CTC, Graves et al. 2006): merge runs of the same class, then
  drop blanks: ``a a - a b b -> a a b``. Two equal consecutive labels need a blank between them.
* ``merge_repeated=False`` (TensorFlow's ``ctc_merge_repeated=False``): only drop blanks; every
  frame emits its label: ``a a - a b b -> a a a b b``. A label therefore occupies exactly one
  frame, and equal consecutive labels need no blank between them.

The loss is :math:`-\log \sum_{\pi:\, \mathcal B(\pi) = y} \prod_t p_t(\pi_t)`, and a decoder
returns the label sequences that maximise (greedy: the best path's) probability.

The standard topology runs on PyTorch's native CTC kernel, eagerly (through an autograd Function)
and under ``torch.compile`` (wrapped as a custom operator whose data-dependent output shape is
declared, so the compiled graph does not break). The other topology runs a log-space
forward-backward written here: a :class:`torch.autograd.Function` vectorised over the batch and
the label positions (a loop over time only), whose gradient is the state occupancy
:math:`\gamma_t(s) = \alpha_t(s)\beta_t(s)/p` of the forward-backward algorithm.

Gradients
---------
The gradient w.r.t. ``log_probs`` is the true partial derivative
:math:`\partial\ell/\partial \log p_t(k) = -\sum_{s:\,l'_s = k}\gamma_t(s)`, so ``gradcheck`` holds
on ``log_probs`` themselves. PyTorch's kernel returns this plus :math:`p_t(k)` (a term that the
backward of ``log_softmax`` cancels): gradients w.r.t. the logits before ``log_softmax`` are the
same as ``torch.nn.functional.ctc_loss``'s, gradients w.r.t. ``log_probs`` differ by
``log_probs.exp()`` on the frames inside ``input_lengths``. Both kernels are differentiable once
(no double backward, as in PyTorch).

Decoders
--------
Both decoders return a :class:`CTCDecoding` of padded int64 ``sequences`` (padding -1),
``lengths`` and ``log_probs``, so that ``(sequences, lengths)`` can be used directly as padded
targets. TensorFlow's blank is the last class: pass ``blank=C - 1`` to reproduce it.
``merge_repeated`` means the topology, as for the loss. For the beam search this makes
``merge_repeated=True`` TensorFlow 2's ``tf.nn.ctc_beam_search_decoder`` (TF1's
``ctc_beam_search_decoder(..., merge_repeated=False)``); TF1's default ``merge_repeated=True``
further merges equal consecutive labels of the returned sequences, which is not reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as tF
from torch import Tensor

from .._core.checks import (
    check_floating,
    check_in_range,
    check_index,
    check_integer,
    check_tensor,
    extremes,
    fail,
    shape_str,
    validation_enabled,
)
from .._core.dtypes import to_compute
from .._core.reduction import check_reduction, reduce_loss

__all__ = ["ctc_loss"]

_NEG_INF = -math.inf


# --------------------------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------------------------


def _check_flag(fn: str, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise fail(fn, f"{name} must be a bool, got {value!r}", TypeError)


def _check_log_probs(fn: str, log_probs: Tensor, batch_first: bool) -> Tensor:
    """Check ``log_probs`` and return it time-major ``(T, N, C)`` in the compute dtype."""
    check_floating(fn, "log_probs", log_probs)
    layout = "(N, T, C)" if batch_first else "(T, N, C)"
    if log_probs.dim() != 3:
        raise fail(fn, f"log_probs must be 3-D {layout}, got shape {shape_str(log_probs.shape)}")
    if log_probs.shape[2] == 0:
        raise fail(fn, "log_probs must have at least one class (C >= 1), got C = 0")
    lp = log_probs.transpose(0, 1) if batch_first else log_probs
    (lp,) = to_compute(lp)
    return lp


def _check_blank(fn: str, blank: int, num_classes: int) -> None:
    if isinstance(blank, bool) or not isinstance(blank, int):
        raise fail(fn, f"blank must be an int, got {blank!r}", TypeError)
    if not 0 <= blank < num_classes:
        raise fail(fn, f"blank must lie in [0, {num_classes - 1}] (C = {num_classes}), got {blank}")


def _lengths(
    fn: str, name: str, value: Tensor | Sequence[int], batch: int, device: torch.device
) -> Tensor:
    """A length argument as a 1-D int64 tensor of ``batch`` entries on ``device``."""
    if isinstance(value, Tensor):
        check_integer(fn, name, value)
        lengths = value.reshape(-1) if value.dim() == 0 else value
    elif isinstance(value, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        lengths = torch.tensor(list(value), dtype=torch.long)
    else:
        raise fail(
            fn,
            f"{name} must be an integer tensor or a sequence of ints, got {type(value).__name__}",
            TypeError,
        )
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise fail(
            fn,
            f"{name} must have one entry per sample, shape ({batch},), got shape "
            f"{shape_str(lengths.shape)}",
        )
    return lengths.to(device=device, dtype=torch.long)


def _check_targets(fn: str, targets: Tensor, batch: int) -> Tensor:
    check_integer(fn, "targets", targets)
    if targets.dim() not in (1, 2):
        raise fail(
            fn,
            "targets must be padded (N, S) or concatenated (sum(target_lengths),), got shape "
            f"{shape_str(targets.shape)}",
        )
    if targets.dim() == 2 and targets.shape[0] != batch:
        raise fail(
            fn,
            f"targets must have the batch size of log_probs ({batch}) in dimension 0, got "
            f"shape {shape_str(targets.shape)}",
        )
    return targets


def _lengths_and_labels_hold(
    targets: Tensor,
    il: Tensor,
    tl: Tensor,
    *,
    frames: int,
    num_classes: int,
    blank: int,
    longer: bool,
) -> bool:
    """The fast test of :func:`_validate_lengths`: the lengths as host lists (one small
    transfer each), the labels by one min/max and, when the blank lies in their range, one
    masked comparison."""
    il_l, tl_l = il.tolist(), tl.tolist()
    if not all(0 <= a <= frames for a in il_l) or not all(b >= 0 for b in tl_l):
        return False
    if not longer and any(b > a for a, b in zip(il_l, tl_l, strict=True)):
        return False
    if targets.dim() == 1 and sum(tl_l) != targets.numel():
        return False
    if targets.dim() == 2 and max(tl_l, default=0) > targets.shape[1]:
        return False
    if targets.numel() == 0:
        return True
    low, high = extremes(targets)
    if targets.dim() == 1:
        if low < 0 or high >= num_classes:
            return False
        return not (low <= blank <= high and bool((targets == blank).any()))
    # Padded targets: only the entries inside each target length are labels.
    if low >= 0 and high < num_classes and not low <= blank <= high:
        return True
    inside = torch.arange(targets.shape[1], device=targets.device) < tl[:, None]
    if low >= 0 and high < num_classes:
        return not bool(((targets == blank) & inside).any())
    wrong = (targets < 0) | (targets >= num_classes) | (targets == blank)
    return not bool((wrong & inside).any())


def _validate_lengths(
    fn: str,
    targets: Tensor,
    il: Tensor,
    tl: Tensor,
    *,
    frames: int,
    num_classes: int,
    blank: int,
    longer_allowed: bool,
) -> None:
    """Data-dependent checks of lengths and labels (skippable with ``validate=False``).

    One fused test and one device synchronisation; the detailed checks (and their messages) run
    only when it fails.
    """
    if _lengths_and_labels_hold(
        targets, il, tl, frames=frames, num_classes=num_classes, blank=blank, longer=longer_allowed
    ):
        return
    check_in_range(fn, "input_lengths", il, 0, frames, validate=True)
    if targets.dim() == 2:
        check_in_range(fn, "target_lengths", tl, 0, targets.shape[1], validate=True)
        inside = torch.arange(targets.shape[1], device=targets.device) < tl[:, None]
        labels = targets[inside]
    else:
        check_in_range(fn, "target_lengths", tl, 0, None, validate=True)
        total = int(tl.sum()) if tl.numel() else 0
        if total != targets.numel():
            raise fail(
                fn,
                "concatenated targets must have sum(target_lengths) = "
                f"{total} elements, got {targets.numel()}",
            )
        labels = targets
    check_index(fn, "targets", labels, num_classes, validate=True)
    if labels.numel() and bool((labels == blank).any()):
        raise fail(
            fn, f"targets must not contain the blank index {blank}, got a label equal to {blank}"
        )
    if not longer_allowed and tl.numel():
        longer = tl > il
        if bool(longer.any()):
            n = int(longer.nonzero()[0, 0])
            raise fail(
                fn,
                "target_lengths must not exceed input_lengths (pass "
                "ignore_longer_outputs_than_inputs=True or zero_infinity=True for a zero loss), "
                f"got target length {int(tl[n])} > input length {int(il[n])} for sample {n}",
            )


# --------------------------------------------------------------------------------------------
# Target preprocessing (vectorised over the batch)
# --------------------------------------------------------------------------------------------


def _pad_targets(targets: Tensor, tl: Tensor) -> Tensor:
    """Concatenated targets ``(sum(tl),)`` -> padded ``(N, S)`` (padding 0)."""
    batch = tl.shape[0]
    # Under compile, a static bound (no data-dependent shape); eagerly, the longest target.
    compiling = torch.compiler.is_compiling()
    width = targets.shape[0] if compiling or batch == 0 else int(tl.max())
    if targets.numel() == 0 or width == 0:
        return targets.new_zeros(batch, width)
    pos = torch.arange(width, device=targets.device)
    inside = pos < tl[:, None]
    index = (torch.cumsum(tl, 0) - tl)[:, None] + pos
    index = torch.where(inside, index, 0).clamp_max(targets.shape[0] - 1)
    return torch.where(inside, targets[index], 0)


def _collapse_repeats(targets: Tensor, tl: Tensor) -> tuple[Tensor, Tensor]:
    """Merge runs of equal consecutive labels of padded targets: ``a a b b a -> a b a``."""
    batch, width = targets.shape
    if width == 0:
        return targets, tl
    inside = torch.arange(width, device=targets.device) < tl[:, None]
    first = torch.ones(batch, 1, dtype=torch.bool, device=targets.device)
    keep = inside & torch.cat([first, targets[:, 1:] != targets[:, :-1]], dim=1)
    dest = torch.where(keep, torch.cumsum(keep, 1) - 1, width)
    out = targets.new_zeros(batch, width + 1).scatter(1, dest, targets)
    return out[:, :width], keep.sum(1)


# --------------------------------------------------------------------------------------------
# Log-space forward-backward (both topologies)
# --------------------------------------------------------------------------------------------


def _shift(x: Tensor, k: int, fill: float = _NEG_INF) -> Tensor:
    """Shift along dimension 1, filling with ``fill``: ``y[:, s] = x[:, s - k]``."""
    width = x.shape[1]
    keep = max(width - abs(k), 0)
    if k > 0:
        return tF.pad(x[:, :keep], (width - keep, 0), value=fill)
    return tF.pad(x[:, width - keep :], (0, width - keep), value=fill)


def _exp_floor(dtype: torch.dtype) -> float:
    """Just above the log of the smallest normal number of ``dtype``: ``exp`` below it gives
    subnormals, which are slow on many CPUs and below the precision of any loss (taken as 0)."""
    return math.log(torch.finfo(dtype).tiny) + 1.0


def _safe_exp(x: Tensor) -> Tensor:
    """``exp(x)``, with results below the smallest normal number flushed to 0."""
    floor = _exp_floor(x.dtype)
    return torch.where(x < floor, 0.0, torch.exp(x.clamp_min(floor)))


def _lse3(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``log(exp(a) + exp(b) + exp(c))``, -inf when all are -inf, without subnormals."""
    x = torch.stack([a, b, c])
    top = x.amax(dim=0)
    shift = torch.where(torch.isfinite(top), top, 0.0)
    # Terms below exp(floor) add at most 3e-38 to a sum >= 1; with top = -inf the result stays
    # -inf whatever the sum.
    terms = torch.exp((x - shift).clamp_min(_exp_floor(x.dtype)))
    return top + torch.log(terms.sum(dim=0))


class _CTCForwardBackward(torch.autograd.Function):
    """Negative log-likelihood of CTC by the forward recursion; gradient by forward-backward.

    Extended labels :math:`l' = (b, l_1, b, l_2, \\dots, l_S, b)` (``U = 2S + 1`` states).
    ``stay`` / ``skip`` are additive 0/-inf biases of the self-loop of state ``s`` and of the
    jump ``s - 2 -> s``; their values define the topology.
    """

    @staticmethod
    def forward(
        ctx: Any,
        lp: Tensor,
        ext: Tensor,
        il: Tensor,
        tl: Tensor,
        stay: Tensor,
        skip: Tensor,
        zero_infinity: bool,
    ) -> Tensor:
        frames, batch, _ = lp.shape
        states = ext.shape[1]
        pos = torch.arange(states, device=lp.device)
        valid = pos < (2 * tl + 1)[:, None]
        em = lp.gather(2, ext.unsqueeze(0).expand(frames, batch, states))
        em = em.masked_fill(~valid, _NEG_INF)
        running = torch.arange(frames, device=lp.device)[:, None] < il  # (T, N)
        # Frames past every input length change nothing: stop there (a static bound under
        # torch.compile, where the maximum would be data-dependent).
        if torch.compiler.is_compiling() or batch == 0:
            steps = frames
        else:
            steps = min(frames, int(il.max()))
        alphas = em.new_empty(steps, batch, states)
        if steps:
            alpha = torch.where(pos < 2, em[0], _NEG_INF)
            alphas[0] = alpha
            for t in range(1, steps):
                new = _lse3(alpha + stay, _shift(alpha, 1), _shift(alpha, 2) + skip) + em[t]
                alpha = torch.where(running[t][:, None], new, alpha)
                alphas[t] = alpha
            end = (2 * tl)[:, None]
            last = alpha.gather(1, end)[:, 0]
            before = alpha.gather(1, (end - 1).clamp_min(0))[:, 0]
            before = torch.where(tl > 0, before, _NEG_INF)
            logp = torch.logaddexp(last, before)
            logp = torch.where(il > 0, logp, torch.where(tl > 0, _NEG_INF, 0.0))
        else:
            logp = torch.where(tl > 0, _NEG_INF, 0.0).to(lp.dtype)
        nll = -logp
        if zero_infinity:
            nll = torch.where(torch.isinf(nll), 0.0, nll)
        ctx.save_for_backward(em, alphas, logp, ext, il, tl, stay, skip)
        ctx.zero_infinity = zero_infinity
        ctx.num_classes = lp.shape[2]
        return nll

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        em, alphas, logp, ext, il, tl, stay, skip = ctx.saved_tensors
        frames, batch, states = em.shape
        pos = torch.arange(states, device=em.device)
        final = (pos == (2 * tl)[:, None]) | (pos == (2 * tl - 1)[:, None])
        final = torch.where(final, 0.0, _NEG_INF).to(em.dtype)
        feasible = torch.isfinite(logp)
        logp_safe = torch.where(feasible, logp, 0.0)[:, None]
        steps = alphas.shape[0]
        betas = torch.empty_like(alphas)
        beta = torch.full_like(final, _NEG_INF)
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                v = em[t + 1] + beta
                rec = _lse3(v + stay, _shift(v, -1), _shift(v + skip, -2))
            else:
                rec = torch.full_like(final, _NEG_INF)
            last = (il - 1 == t)[:, None]
            inner = (il - 1 > t)[:, None]
            beta = torch.where(last, final, torch.where(inner, rec, _NEG_INF))
            betas[t] = beta
        occupancy = em.new_zeros(frames, batch, states)
        occupancy[:steps] = _safe_exp(alphas + betas - logp_safe)
        index = ext.unsqueeze(0).expand(frames, batch, states)
        out = em.new_zeros(frames, batch, ctx.num_classes).scatter_add(2, index, occupancy)
        scale = -grad.to(em.dtype)
        scale = torch.where(feasible, scale, 0.0 if ctx.zero_infinity else math.nan)
        return out * scale[None, :, None], None, None, None, None, None, None


def _topology(ext: Tensor, blank: int, merge_repeated: bool) -> tuple[Tensor, Tensor]:
    """The 0/-inf biases of self-loops and skips for extended labels ``ext`` ``(N, U)``."""
    is_blank = torch.arange(ext.shape[1], device=ext.device) % 2 == 0
    stay_ok = torch.ones_like(ext, dtype=torch.bool) if merge_repeated else is_blank.expand_as(ext)
    skip_ok = ~is_blank & (torch.arange(ext.shape[1], device=ext.device) >= 2)
    skip_ok = skip_ok.expand_as(ext)
    if merge_repeated:
        skip_ok = skip_ok & (ext != _shift(ext, 2, fill=-1))
    zero = torch.zeros((), dtype=torch.float64, device=ext.device)
    return (
        torch.where(stay_ok, zero, _NEG_INF),
        torch.where(skip_ok, zero, _NEG_INF),
    )


def _alignment_nll(
    lp: Tensor,
    targets: Tensor,
    il: Tensor,
    tl: Tensor,
    *,
    blank: int,
    merge_repeated: bool,
    zero_infinity: bool,
) -> Tensor:
    """Per-sample CTC negative log-likelihood by the log-space forward-backward."""
    batch, width = targets.shape
    ext = targets.new_full((batch, 2 * width + 1), blank, dtype=torch.long)
    ext[:, 1::2] = targets
    stay, skip = _topology(ext, blank, merge_repeated)
    out: Tensor = _CTCForwardBackward.apply(
        lp, ext, il, tl, stay.to(lp.dtype), skip.to(lp.dtype), zero_infinity
    )
    return out


# PyTorch's CTC kernel as two custom operators. ``aten._ctc_loss`` sizes its ``log_alpha`` by the
# longest target, a data-dependent shape that stops ``torch.compile`` (``F.ctc_loss`` itself
# breaks the graph there). As opaque operators with a declared output shape (the ``log_alpha``
# width an unbacked size) the kernel runs inside a compiled graph too, so compiled and eager
# ``ctc_loss`` run the same native kernel.


@torch.library.custom_op("losskit::ctc_native", mutates_args=())
def _ctc_native(
    lp: Tensor, targets: Tensor, il: Tensor, tl: Tensor, blank: int, zero_infinity: bool
) -> tuple[Tensor, Tensor]:
    # The int-list overload: the tensor overload converts the lengths element by element.
    nll, log_alpha = torch.ops.aten._ctc_loss(
        lp, targets, il.tolist(), tl.tolist(), blank, zero_infinity
    )
    return nll, log_alpha


@_ctc_native.register_fake
def _ctc_native_fake(
    lp: Tensor, targets: Tensor, il: Tensor, tl: Tensor, blank: int, zero_infinity: bool
) -> tuple[Tensor, Tensor]:
    width = torch.library.get_ctx().new_dynamic_size()
    frames, batch = lp.shape[0], lp.shape[1]
    return lp.new_empty((batch,)), lp.new_empty((batch, frames, width))


@torch.library.custom_op("losskit::ctc_native_backward", mutates_args=())
def _ctc_native_backward(
    grad: Tensor,
    lp: Tensor,
    targets: Tensor,
    il: Tensor,
    tl: Tensor,
    nll: Tensor,
    log_alpha: Tensor,
    blank: int,
    zero_infinity: bool,
) -> Tensor:
    out: Tensor = torch.ops.aten._ctc_loss_backward(
        grad, lp, targets, il.tolist(), tl.tolist(), nll, log_alpha, blank, zero_infinity
    )
    return out


@_ctc_native_backward.register_fake
def _ctc_native_backward_fake(
    grad: Tensor,
    lp: Tensor,
    targets: Tensor,
    il: Tensor,
    tl: Tensor,
    nll: Tensor,
    log_alpha: Tensor,
    blank: int,
    zero_infinity: bool,
) -> Tensor:
    return torch.empty_like(lp)


def _ctc_native_setup(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
    lp, targets, il, tl, blank, zero_infinity = inputs
    ctx.save_for_backward(lp, targets, il, tl, *output)
    ctx.blank = blank
    ctx.zero_infinity = zero_infinity


def _ctc_native_grad(
    ctx: Any, grad: Tensor, _grad_alpha: Tensor | None
) -> tuple[Tensor | None, ...]:
    """Backward of the custom operator: the kernel's gradient as the true partial derivative."""
    lp, targets, il, tl, nll, log_alpha = ctx.saved_tensors
    out = _ctc_native_backward(
        grad.contiguous(), lp, targets, il, tl, nll, log_alpha, ctx.blank, ctx.zero_infinity
    )
    out = _true_partial(out, lp, il, nll, grad, ctx.zero_infinity)
    return out, None, None, None, None, None


def _correction_scale(
    frames: int, il: Tensor, nll: Tensor, grad: Tensor, zero_infinity: bool
) -> Tensor:
    """``(frames, N, 1)``: each sample's incoming gradient on the frames inside its input
    length, 0 elsewhere (and for infinite losses zeroed by ``zero_infinity``)."""
    if zero_infinity:
        grad = torch.where(torch.isinf(nll), 0.0, grad)
    running = torch.arange(frames, device=il.device)[:, None] < il
    return torch.where(running, grad, 0.0).unsqueeze(-1)


def _true_partial(
    out: Tensor, lp: Tensor, il: Tensor, nll: Tensor, grad: Tensor, zero_infinity: bool
) -> Tensor:
    r"""The native kernel's gradient ``out`` turned into the true partial derivative (the traced
    path, out of place; the eager one is :meth:`_NativeCTC.backward`).

    The kernel's backward returns :math:`p_t(k) - \sum_{s: l'_s = k}\gamma_t(s)` per unit of
    incoming gradient; subtracting :math:`p_t(k)` on the frames inside the input lengths leaves
    :math:`-\sum\gamma`.
    """
    scale = _correction_scale(lp.shape[0], il, nll, grad, zero_infinity)
    return torch.addcmul(out, lp.exp(), scale, value=-1)


_ctc_native.register_autograd(_ctc_native_grad, setup_context=_ctc_native_setup)


class _NativeCTC(torch.autograd.Function):
    """PyTorch's CTC kernel, with the gradient turned into the true partial derivative
    (:func:`_true_partial`). The eager path: an autograd Function dispatches faster than the
    custom operators, and keeps the lengths as lists from the forward to the backward pass."""

    @staticmethod
    def forward(
        ctx: Any,
        lp: Tensor,
        targets: Tensor,
        il: Tensor,
        tl: Tensor,
        blank: int,
        zero_infinity: bool,
    ) -> Tensor:
        # The int-list overload: the tensor overload converts the lengths element by element,
        # in the forward and again in the backward.
        il_list, tl_list = il.tolist(), tl.tolist()
        nll, log_alpha = torch.ops.aten._ctc_loss(
            lp, targets, il_list, tl_list, blank, zero_infinity
        )
        ctx.save_for_backward(lp, targets, il, nll, log_alpha)
        ctx.lengths = (il_list, tl_list)
        ctx.blank = blank
        ctx.zero_infinity = zero_infinity
        return nll

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        lp, targets, il, nll, log_alpha = ctx.saved_tensors
        il_list, tl_list = ctx.lengths
        out = torch.ops.aten._ctc_loss_backward(
            grad, lp, targets, il_list, tl_list, nll, log_alpha, ctx.blank, ctx.zero_infinity
        )
        # Frames past every input length have a zero gradient and need no correction; when
        # every sample runs to the last of them the scale is the incoming gradient itself.
        last = max(il_list, default=0)
        if not ctx.zero_infinity and all(n == last for n in il_list):
            scale = grad.reshape(1, -1, 1)
        else:
            scale = _correction_scale(last, il, nll, grad, ctx.zero_infinity)
        _subtract_scaled_exp(out[:last], lp[:last], scale)
        return out, None, None, None, None, None


_EXP_BLOCK = 1 << 16
"""Elements of the scratch buffer of :func:`_subtract_scaled_exp` (256 KiB in float32)."""


def _subtract_scaled_exp(out: Tensor, lp: Tensor, scale: Tensor) -> Tensor:
    """In place: ``out -= exp(lp) * scale`` for ``(T, N, C)`` tensors, ``scale`` ``(T or 1, N,
    1)``, a block of frames at a time through one cache-sized scratch buffer (a fresh tensor of
    the size of ``lp`` would cost more in page faults than the exponentials)."""
    frames = lp.shape[0]
    step = max(1, _EXP_BLOCK // max(1, lp[0].numel()))
    if frames <= step:
        return out.addcmul_(lp.exp(), scale, value=-1.0)
    scratch = torch.empty((step, *lp.shape[1:]), dtype=lp.dtype, device=lp.device)
    per_frame = scale.shape[0] != 1
    for start in range(0, frames, step):
        stop = min(start + step, frames)
        e = torch.exp(lp[start:stop], out=scratch[: stop - start])
        out[start:stop].addcmul_(e, scale[start:stop] if per_frame else scale, value=-1.0)
    return out


def _native_nll(
    lp: Tensor, targets: Tensor, il: Tensor, tl: Tensor, *, blank: int, zero_infinity: bool
) -> Tensor:
    """Per-sample CTC negative log-likelihood by PyTorch's kernel (true gradient)."""
    if torch.compiler.is_compiling():
        nll, _ = _ctc_native(lp, targets, il, tl, blank, zero_infinity)
    else:
        nll = _NativeCTC.apply(lp, targets, il, tl, blank, zero_infinity)
    if zero_infinity:
        nll = torch.where(torch.isinf(nll), 0.0, nll)
    return nll


# --------------------------------------------------------------------------------------------
# The loss
# --------------------------------------------------------------------------------------------


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    *,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    merge_repeated: bool = True,
    collapse_repeated_labels: bool = False,
    ignore_longer_outputs_than_inputs: bool = False,
    batch_first: bool = False,
    validate: bool | None = None,
) -> Tensor:
    r"""Connectionist temporal classification loss.

    .. math::

        l_n = -\log \sum_{\pi \in \mathcal B^{-1}(y_n),\ |\pi| = T_n}
              \ \prod_{t=1}^{T_n} p_t(\pi_t \mid x_n)

    where :math:`T_n` is ``input_lengths[n]``, :math:`y_n` the ``n``-th target (its first
    ``target_lengths[n]`` labels) and :math:`\mathcal B` the topology's path-to-labels map
    (see :mod:`losskit.functional.ctc`). ``"mean"`` is PyTorch's: each :math:`l_n` divided by its
    target length (at least 1), then averaged over the batch; ``"sum"`` sums :math:`l_n`.

    With the extra options off this is :func:`torch.nn.functional.ctc_loss` (its native kernel;
    values equal, gradients equal w.r.t. the logits, see the module notes for ``log_probs``). The
    extra options follow ``tf.compat.v1.nn.ctc_loss``:

    * ``collapse_repeated_labels=True`` (``preprocess_collapse_repeated``): runs of equal labels in
      each target are merged before the loss (``a a b -> a b``).
    * ``merge_repeated=False`` (``ctc_merge_repeated=False``): repeated non-blank outputs are not
      merged: each frame labelled ``a`` emits one ``a``, and ``a a`` needs no blank in between.
    * ``ignore_longer_outputs_than_inputs=True``: samples whose target is longer than their input
      get loss 0 and gradient 0 (instead of an error).

    ``"mean"`` divides by the given ``target_lengths`` (before any collapsing). TensorFlow's
    ``blank`` is the last class: pass ``blank=C - 1`` to reproduce it.

    Args:
        log_probs: log-probabilities ``(T, N, C)`` (``(N, T, C)`` with ``batch_first``), e.g.
            ``log_softmax`` of logits; floating.
        targets: padded labels ``(N, S)`` or the concatenation of every target
            ``(sum(target_lengths),)``; integer, in ``[0, C)`` and never ``blank``.
        input_lengths: frames of each sample, ``(N,)`` integer tensor or ints, in ``[0, T]``.
        target_lengths: labels of each sample, ``(N,)``, in ``[0, S]``.
        blank: index of the blank class.
        reduction: ``"none" | "mean" | "sum"``.
        zero_infinity: give infeasible samples (infinite loss) loss 0 and gradient 0.
        merge_repeated: the topology, see above.
        collapse_repeated_labels: merge repeated labels of the targets first.
        ignore_longer_outputs_than_inputs: loss and gradient 0 where target length > input length.
        batch_first: ``log_probs`` is ``(N, T, C)``.
        validate: run the data-dependent checks (``log_probs <= 0``, lengths, labels); ``None``
            follows :func:`losskit.set_validation`.

    Returns:
        ``(N,)`` losses for ``"none"``, else a scalar; float32 for half/bfloat16 ``log_probs``.
        Infeasible samples (too few frames for their labels) give ``inf`` unless
        ``zero_infinity``.

    Raises:
        ValueError: wrong shapes, mismatched batch sizes, positive ``log_probs`` (raw logits or
            arguments in TensorFlow's order), lengths outside ``[0, T]`` /
            ``[0, S]`` or not summing to the concatenated targets, labels outside ``[0, C)`` or
            equal to ``blank``, a target longer than its input (unless
            ``ignore_longer_outputs_than_inputs`` or ``zero_infinity``), unknown reduction.
        TypeError: ``log_probs`` not floating, ``targets`` or lengths not integer.

    Example:
        >>> log_probs = torch.full((3, 1, 2), 0.5).log()  # 3 frames, classes {blank, a}
        >>> # paths giving "a": aaa, -aa, aa-, --a, a--, -a- ; each of probability 1/8
        >>> ctc_loss(log_probs, torch.tensor([[1]]), [3], [1], reduction="sum")
        tensor(0.2877)
        >>> # without merging, "a" is one frame of a: -- a, -a-, a-- only
        >>> ctc_loss(log_probs, torch.tensor([[1]]), [3], [1], reduction="sum",
        ...          merge_repeated=False)
        tensor(0.9808)

    References:
        Graves, Fernández, Gomez, Schmidhuber, "Connectionist Temporal Classification: Labelling
        Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006.
        ``torch.nn.functional.ctc_loss`` (the default options); ``tf.nn.ctc_loss`` and
        ``tf.compat.v1.nn.ctc_loss`` (the ``merge_repeated``, ``collapse_repeated_labels`` and
        ``ignore_longer_outputs_than_inputs`` options).
    """
    fn = "ctc_loss"
    for name, flag in (
        ("zero_infinity", zero_infinity),
        ("merge_repeated", merge_repeated),
        ("collapse_repeated_labels", collapse_repeated_labels),
        ("ignore_longer_outputs_than_inputs", ignore_longer_outputs_than_inputs),
        ("batch_first", batch_first),
    ):
        _check_flag(fn, name, flag)
    check_reduction(reduction, fn=fn)
    lp = _check_log_probs(fn, log_probs, batch_first)
    frames, batch, num_classes = lp.shape
    _check_blank(fn, blank, num_classes)
    check_tensor(fn, "targets", targets)
    targets = _check_targets(fn, targets, batch)
    il = _lengths(fn, "input_lengths", input_lengths, batch, lp.device)
    tl = _lengths(fn, "target_lengths", target_lengths, batch, lp.device)
    targets = targets.to(device=lp.device, dtype=torch.long)
    if validation_enabled(validate):
        check_in_range(
            fn,
            "log_probs",
            lp,
            None,
            0.0,
            hint="log-probabilities, e.g. log_softmax(logits, dim=-1); losskit takes "
            "(log_probs, targets, input_lengths, target_lengths), TensorFlow takes the labels "
            "first and raw logits",
            validate=True,
        )
        _validate_lengths(
            fn,
            targets,
            il,
            tl,
            frames=frames,
            num_classes=num_classes,
            blank=blank,
            longer_allowed=ignore_longer_outputs_than_inputs or zero_infinity,
        )

    native = merge_repeated and lp.numel() > 0
    tl_eff = tl
    if targets.dim() == 1 and (
        not native or collapse_repeated_labels or ignore_longer_outputs_than_inputs
    ):
        targets = _pad_targets(targets, tl)
    if collapse_repeated_labels:
        targets, tl_eff = _collapse_repeats(targets, tl_eff)
    longer = tl > il if ignore_longer_outputs_than_inputs else None
    if longer is not None:  # TF compares the given (not collapsed) target lengths
        tl_eff = torch.where(longer, 0, tl_eff)

    if native:
        nll = _native_nll(lp, targets, il, tl_eff, blank=blank, zero_infinity=zero_infinity)
    else:
        nll = _alignment_nll(
            lp,
            targets,
            il,
            tl_eff,
            blank=blank,
            merge_repeated=merge_repeated,
            zero_infinity=zero_infinity,
        )
    if longer is not None:
        nll = torch.where(longer, 0.0, nll)
    # PyTorch's "mean" normalises each loss by its target length before the batch mean.
    return reduce_loss(nll, reduction, mean_scale=1.0 / tl.clamp_min(1).to(nll.dtype), fn=fn)
