r"""Overlap losses for segmentation: dice, Jaccard (soft IoU) and Tversky.

Every function here works in two steps, so that the statistics can be summed across processes
before the ratio is taken (``batch=True`` under ``torch.distributed`` only needs an all-reduce of
the per-class sums):

1. :func:`overlap_statistics` reduces the prediction :math:`x` and the target :math:`y` to three
   sums per sample and class (or per class, pooled over the batch, with ``batch=True``):
   the intersection :math:`I = \sum x y`, :math:`|X| = \sum x` and :math:`|Y| = \sum y`
   (:math:`\sum x^2` and :math:`\sum y^2` with ``squared=True``).
2. :func:`overlap_score` turns those sums into a score in :math:`[0, 1]`:

   .. math::

       D = \frac{2I + s}{|X| + |Y| + s + \epsilon}, \qquad
       J = \frac{I + s}{|X| + |Y| - I + s + \epsilon}, \qquad
       T = \frac{I + s}{I + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN} + s + \epsilon}

   with :math:`\mathrm{FP} = |X| - I`, :math:`\mathrm{FN} = |Y| - I`, the smoothing
   :math:`s` (``smooth``, numerator and denominator) and :math:`\epsilon` (``eps``, denominator
   only).

The loss of a sample is :math:`1 - \text{score}` averaged over the classes (weighted by
``class_weight``), then reduced over the samples by the shared reduction.

**Modes** (the layout of ``input`` and ``target``):

* ``"binary"``: ``input`` ``(N, *)`` (often ``(N, 1, H, W)``), one class; every element of a
  sample is pooled. ``target`` has ``input``'s shape (or ``(N, *spatial)`` for an ``(N, 1,
  *spatial)`` input), values in :math:`[0, 1]` (soft targets allowed). ``from_logits=True``
  applies a sigmoid.
* ``"multiclass"``: ``input`` ``(N, C, *spatial)`` class scores, ``target`` integer labels
  ``(N, *spatial)`` in :math:`[0, C)`, one-hot encoded internally. ``from_logits=True`` applies
  a softmax over ``C``.
* ``"multilabel"``: ``input`` and ``target`` ``(N, C, *spatial)``, ``target`` in :math:`[0, 1]`
  (soft allowed); ``from_logits=True`` applies a sigmoid.

**Empty masks.** Where the prediction and the target are both empty (:math:`|X| + |Y| = 0`,
the 0/0 case) the score is defined as 1 and the loss as 0, whatever ``smooth`` and ``eps`` are:
an absent class that is correctly predicted absent is a perfect prediction, not a failure (with
``smooth=0``, ``eps>0`` the bare formula would give loss 1, as several libraries do; with
``smooth=eps=0`` it would give NaN). The gradient there is 0. A prediction that is not exactly
zero on an empty target scores :math:`s / (|X| + s + \epsilon)`: 0 with ``smooth=0`` however
small :math:`|X|` is, so with soft predictions (sigmoid, softmax) an absent class keeps a loss
near 1 unless ``smooth > 0`` makes the score tend to 1 as the prediction empties.

**Ignored pixels.** With ``ignore_index``, the target elements equal to it (labels in multiclass
mode; elements in binary and multilabel mode) are removed from every statistic, prediction
included. In multiclass mode an ``ignore_index`` in :math:`[0, C)` also removes that class from
the class average.

**batch=True** pools the statistics over the batch (one score per class) and the unreduced loss
is a 0-dim tensor; with the defaults it is the survey's ``dice_coefficient``
(``1 - 2 sum(y x) / (sum(y) + sum(x) + 1e-5)``).

**Across processes.** The statistics are sums, so ``process_group=`` (with ``batch=True``)
all-reduces the ``(3, C)`` statistics of every rank once before the score is taken: every rank
holds the loss of the whole batch, and the gradient of each rank's shard is the single-process
gradient restricted to it (see :mod:`losskit.distributed`). Without ``batch=True``,
``process_group=`` makes ``"mean"`` the mean over the samples of every rank.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .._core.checks import (
    check_class_tensor,
    check_floating,
    check_in_range,
    check_index,
    check_integer,
    check_option,
    check_positive,
    check_tensor,
    fail,
    shape_str,
    transforming,
    validation_enabled,
)
from .._core.distributed import ProcessGroup, all_reduce_sums, reduce_global
from .._core.dtypes import compute_dtype
from .._core.function import apply, hold, release
from .._core.reduction import safe_divide

__all__ = [
    "dice_coefficient",
    "dice_loss",
    "jaccard_loss",
    "overlap_score",
    "overlap_statistics",
    "tversky_loss",
]

_MODES = ("binary", "multiclass", "multilabel")
_METRICS = ("dice", "jaccard", "tversky")


# --------------------------------------------------------------------------------------------
# statistics


def _check_unit_interval(
    fn: str, name: str, tensor: Tensor, ignore_index: int | None, validate: bool | None
) -> None:
    """Data-dependent: values in [0, 1] (or equal to ``ignore_index``)."""
    if tensor.dtype == torch.bool:
        return
    hint = "pass from_logits=True for logits" if name == "input" else ""
    check_in_range(
        fn, name, tensor, 0.0, 1.0, ignore_value=ignore_index, hint=hint, validate=validate
    )


class _Target(NamedTuple):
    """The target after checks: integer ``labels`` ``(N, P)`` or a dense ``(N, C, P)`` tensor."""

    labels: Tensor | None
    dense: Tensor | None
    valid: Tensor | None  # counted elements, (N, 1, P) or (N, C, P), compute dtype


def _prepare(
    fn: str,
    input: Tensor,
    target: Tensor,
    mode: str,
    from_logits: bool,
    ignore_index: int | None,
    validate: bool | None,
) -> tuple[Tensor, _Target, str]:
    """Checks, dtype rule and layout.

    Returns the scores ``(N, C, P)`` in the compute dtype (before the activation), the target
    and the activation (``"softmax" | "sigmoid" | "none"``).
    """
    check_option(fn, "mode", mode, _MODES)
    check_floating(fn, "input", input)
    check_tensor(fn, "target", target)
    if ignore_index is not None and (
        isinstance(ignore_index, bool) or not isinstance(ignore_index, int)
    ):
        raise fail(fn, f"ignore_index must be an int or None, got {ignore_index!r}", TypeError)
    dtype = compute_dtype(input, target)
    n = input.shape[0] if input.dim() > 0 else 0

    if mode == "multiclass":
        if input.dim() < 2:
            raise fail(
                fn,
                f"input must have shape (N, C, *spatial) in multiclass mode, got "
                f"{shape_str(input.shape)}",
            )
        check_integer(
            fn,
            "target",
            target,
            hint="multiclass mode takes integer labels; use mode='multilabel' for one-hot or "
            "soft targets",
        )
        expected = input.shape[:1] + input.shape[2:]
        if target.shape != expected:
            raise fail(
                fn,
                f"target must have shape {shape_str(expected)} (input {shape_str(input.shape)} "
                f"without the class dimension), got {shape_str(target.shape)}",
            )
        c = input.shape[1]
        check_index(fn, "target", target, c, ignore_index=ignore_index, validate=validate)
        if not from_logits:
            _check_unit_interval(fn, "input", input, None, validate)
        p = math.prod(target.shape[1:])
        x = input.to(dtype).reshape(n, c, p)
        labels = target.reshape(n, p).long()
        valid = None
        if ignore_index is not None:
            # Ignored pixels count nowhere (their label is replaced to keep gather in range).
            keep = labels != ignore_index
            valid = keep.to(dtype).unsqueeze(1)
            labels = torch.where(keep, labels, 0)
        return x, _Target(labels, None, valid), "softmax" if from_logits else "none"

    if mode == "multilabel":
        if input.dim() < 2:
            raise fail(
                fn,
                f"input must have shape (N, C, *spatial) in multilabel mode, got "
                f"{shape_str(input.shape)}",
            )
        target_in = target
    else:  # binary
        if input.dim() < 1:
            raise fail(
                fn, f"input must have shape (N, *) in binary mode, got {shape_str(input.shape)}"
            )
        target_in = target
        if (
            target.shape != input.shape
            and input.dim() >= 2
            and input.shape[1] == 1
            and target.shape == input.shape[:1] + input.shape[2:]
        ):
            target_in = target.unsqueeze(1)
    if target_in.is_complex():
        raise fail(fn, f"target must be a real tensor, got dtype {target.dtype}", TypeError)
    if target_in.shape != input.shape:
        raise fail(
            fn,
            f"input and target must have the same shape, got input {shape_str(input.shape)} "
            f"and target {shape_str(target.shape)}",
        )
    _check_unit_interval(fn, "target", target_in, ignore_index, validate)
    if not from_logits:
        _check_unit_interval(fn, "input", input, None, validate)
    c = input.shape[1] if mode == "multilabel" else 1
    p = math.prod(input.shape[2:] if mode == "multilabel" else input.shape[1:])
    x = input.to(dtype).reshape(n, c, p)
    t = target_in.reshape(n, c, p)
    valid = None
    if ignore_index is not None:
        keep = t != ignore_index
        valid = keep.to(dtype)
        t = torch.where(keep, t, 0)
    y = t.to(dtype)
    return x, _Target(None, y, valid), "sigmoid" if from_logits else "none"


_Stats = tuple[Tensor, Tensor, Tensor]
"""Intersection, prediction sum, target sum."""


def _activate(x: Tensor, activation: str) -> Tensor:
    if activation == "softmax":
        return torch.softmax(x, dim=1)
    if activation == "sigmoid":
        return torch.sigmoid(x)
    return x


class _PredictionSums(torch.autograd.Function):
    """``(I, |X|)`` of the activated scores with a hand-written backward.

    Forward: the activation (one pass writing the scores), then one reduction per sum: a dot
    product along the elements for :math:`I` (dense targets) or a gather and an ``(N, P)``
    scatter (labels), and a plain sum for :math:`|X|` (a batched matrix-vector product with the
    valid mask when elements are ignored), with no ``(N, C, P)`` product tensor.

    Backward: the gradient with respect to the scores, :math:`g^S + g^I y`, is written into one
    fresh buffer, and the activation's backward runs in place on it; the zero gradients of the
    non-differentiable outputs are never materialised. When the backward is itself
    differentiated (``create_graph=True``) it is written with differentiable operations of the
    saved input, so that double backward recomputes the activation and stays exact; the target
    gets no gradient (the generic path is used when it requires one).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: Tensor,
        labels: Tensor | None,
        dense: Tensor | None,
        valid: Tensor | None,
        activation: str,
        squared: bool,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(I, |X|)`` plus, for the backward pass, the activated scores and the score of each
        element's own class (empty without labels)."""
        p = _activate(x, activation)
        if p is x:  # no activation: return a view, never the input itself
            p = x.view_as(x)
        picked = p.new_empty(0)
        if labels is not None:
            # Score of each element's own class: I is its per-class sum (no one-hot needed).
            picked = p.gather(1, labels.unsqueeze(1)).squeeze(1)  # (N, P)
            counted = picked if valid is None else picked * valid.squeeze(1)
            inter = p.new_zeros(p.shape[:2]).scatter_add_(1, labels, counted)
        else:
            assert dense is not None
            # Ignored elements have a zero target already: no mask needed for I.
            inter = _rowwise_dot(p, dense)
        if squared:
            pv = p if valid is None else p * valid
            xsum = torch.linalg.vecdot(pv, pv)
        elif valid is None:
            xsum = p.sum(-1)
        elif valid.shape[1] == 1:  # one mask for every class: a matrix-vector product
            xsum = torch.bmm(p, valid.transpose(1, 2)).squeeze(-1)
        else:
            xsum = torch.linalg.vecdot(p, valid)
        return inter, xsum, p, picked

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, ...]) -> None:
        x, labels, dense, valid, activation, squared = inputs
        _, _, p, picked = output
        ctx.mark_non_differentiable(p, picked)
        ctx.set_materialize_grads(False)
        ctx.activation = activation
        ctx.squared = squared
        # The activated scores are a private buffer (the caller drops that output; without an
        # activation they are a view of the input and are saved as usual): the first backward
        # pass writes the gradient into them, with no fresh input-sized allocation.
        in_place = (
            activation != "none" and not squared and (dense is not None or activation == "softmax")
        )
        if in_place and hold(ctx, p):
            ctx.save_for_backward(x, picked, labels, dense, valid)
        else:
            ctx.save_for_backward(x, picked, labels, dense, valid, p)

    @staticmethod
    def backward(
        ctx: Any, grad_inter: Tensor | None, grad_sum: Tensor | None, *_unused: Tensor | None
    ) -> tuple[Tensor | None, None, None, None, None, None]:
        if grad_inter is None and grad_sum is None:
            return None, *_NONE5
        x, picked, labels, dense, valid, *kept = ctx.saved_tensors
        activation = ctx.activation
        graph = torch.is_grad_enabled()
        held = None if kept else release(ctx)
        shape = x.shape[:2]
        g_inter = grad_inter if grad_inter is not None else x.new_zeros(shape)
        g_sum = grad_sum if grad_sum is not None else x.new_zeros(shape)
        if not kept and not graph:
            # The held scores (a second pass over a retained graph recomputes them, bit for
            # bit, and takes the same arithmetic).
            scores = held if held is not None else _activate(x, activation)
            gx = _gradient_into_scores(scores, picked, labels, dense, valid, g_inter, g_sum)
            return gx, *_NONE5
        if graph or not kept:
            # Differentiated backward, or a second pass after the scores were handed out:
            # recompute them from the input (out of place, so double backward is exact).
            p = _activate(x, activation)
            if labels is not None:
                picked = p.gather(1, labels.unsqueeze(1)).squeeze(1)
        else:
            p = kept[0]
        if activation == "softmax" and labels is not None and not ctx.squared:
            gx = _softmax_label_backward(p, picked, labels, valid, g_inter, g_sum, graph)
            return gx, *_NONE5
        gi, gs = g_inter.unsqueeze(-1), g_sum.unsqueeze(-1)
        # Gradient with respect to the scores: g^S (2 x with squared=True) + g^I y.
        if labels is not None:
            gp = 2 * p * gs if ctx.squared else gs.expand_as(p).clone()
            src = gi.squeeze(-1).gather(1, labels).unsqueeze(1)
            gp = (
                gp.scatter_add(1, labels.unsqueeze(1), src)
                if graph
                else gp.scatter_add_(1, labels.unsqueeze(1), src)
            )
        else:
            assert dense is not None
            if ctx.squared:
                gp = torch.addcmul(2 * p * gs, dense, gi)
            elif graph:
                gp = dense * gi + gs
            else:
                gp = torch.mul(dense, gi).add_(gs)
        if valid is not None:
            gp = gp * valid if graph else gp.mul_(valid)
        if activation == "softmax":
            return torch.ops.aten._softmax_backward_data(gp, p, 1, p.dtype), *_NONE5
        if activation == "sigmoid":
            if graph:
                return torch.ops.aten.sigmoid_backward(gp, p), *_NONE5
            return torch.ops.aten.sigmoid_backward.grad_input(gp, p, grad_input=gp), *_NONE5
        return gp, *_NONE5


_NONE5 = (None, None, None, None, None)


def _column_blocks(p: Tensor) -> tuple[int, int]:
    """``(rows, step)``: ``p`` seen as ``(N * C, P)`` rows, walked ``step`` columns at a time so
    that one block of every row fits the :data:`_DOT_BLOCK` scratch buffer."""
    rows = p.shape[0] * p.shape[1]
    return rows, max(1, _DOT_BLOCK // max(rows, 1))


def _gradient_into_scores(
    p: Tensor,
    picked: Tensor,
    labels: Tensor | None,
    dense: Tensor | None,
    valid: Tensor | None,
    g_inter: Tensor,
    g_sum: Tensor,
) -> Tensor:
    r"""First-order backward written into the activated scores ``p`` (consumed).

    Sigmoid, dense targets: :math:`p(1 - p)(g^S + g^I y)` (times the valid mask), with the
    bracket formed a block of columns at a time in one cache-sized scratch buffer and
    ``sigmoid_backward`` run in place on the scores. Softmax, labels: :math:`p_c (g^S_c - q)`
    per block, then the ``(N, P)`` scatter of :math:`[c = l]\,u` (see
    :func:`_softmax_label_backward`).
    """
    if p.numel() == 0:
        return p
    n, c = p.shape[:2]
    rows, step = _column_blocks(p)
    width = p.shape[-1]
    scratch = p.new_empty(rows, min(step, width))
    if labels is None:
        assert dense is not None
        p2, t2 = p.view(rows, width), dense.reshape(rows, width)
        gi, gs = g_inter.reshape(rows, 1), g_sum.reshape(rows, 1)
        v2 = None if valid is None else valid.expand(p.shape).reshape(rows, width)
        for start in range(0, width, step):
            stop = min(start + step, width)
            block, pb = scratch[:, : stop - start], p2[:, start:stop]
            torch.mul(t2[:, start:stop], gi, out=block).add_(gs)
            if v2 is not None:
                block.mul_(v2[:, start:stop])
            torch.ops.aten.sigmoid_backward.grad_input(block, pb, grad_input=pb)
        return p
    u = picked * g_inter.gather(1, labels)  # (N, P): p_l g^I_l
    q = torch.bmm(g_sum.unsqueeze(1), p).squeeze(1).add_(u)  # sum_k p_k g_k
    gs3 = g_sum.unsqueeze(-1)
    s3 = scratch.view(n, c, -1)
    for start in range(0, width, step):
        stop = min(start + step, width)
        block = s3[:, :, : stop - start]
        torch.sub(gs3, q[:, None, start:stop], out=block)
        if valid is not None:
            block.mul_(valid[:, :, start:stop])
        p[:, :, start:stop].mul_(block)
    if valid is not None:
        u.mul_(valid.squeeze(1))
    return p.scatter_add_(1, labels.unsqueeze(1), u.unsqueeze(1))


_DOT_BLOCK = 1 << 18
"""Elements of the scratch product of :func:`_rowwise_dot` (1 MiB in float32)."""


def _rowwise_dot(a: Tensor, b: Tensor) -> Tensor:
    """``(a * b).sum(-1)`` for ``(N, C, P)`` tensors without an ``(N, C, P)`` product tensor.

    The product goes through one cache-sized scratch buffer, a block of columns at a time:
    a fresh tensor as large as the input would cost an allocation and its page faults, about
    as much as the arithmetic. Under tracing, transforms or on other devices it is one
    ``vecdot``.
    """
    rows = a.shape[0] * a.shape[1]
    width = a.shape[-1]
    if (
        a.device.type != "cpu"
        or torch.compiler.is_compiling()
        or transforming()
        or rows * width <= _DOT_BLOCK
    ):
        return torch.linalg.vecdot(a, b)
    step = _column_blocks(a)[1]
    a2, b2 = a.reshape(rows, width), b.reshape(rows, width)
    scratch = a.new_empty(rows, min(step, width))
    out = a.new_zeros(rows)
    for start in range(0, width, step):
        stop = min(start + step, width)
        block = scratch[:, : stop - start]
        out.add_(torch.mul(a2[:, start:stop], b2[:, start:stop], out=block).sum(-1))
    return out.view(a.shape[:-1])


def _softmax_label_backward(
    p: Tensor,
    picked: Tensor,
    labels: Tensor,
    valid: Tensor | None,
    g_inter: Tensor,
    g_sum: Tensor,
    graph: bool,
) -> Tensor:
    r"""Gradient w.r.t. the logits of ``I = sum_p p_l`` and ``S = sum_p p`` through a softmax.

    With :math:`g_c = g^S_c + g^I_c [c = l]` (times the valid mask :math:`r`) the softmax
    backward :math:`p_c (g_c - \sum_k p_k g_k)` is, with :math:`u = p_l g^I_l`,
    :math:`r\,p_c (g^S_c - q) + r\,[c = l]\,u` where :math:`q = \sum_k p_k g^S_k + u`: one
    small matrix product, two elementwise passes into one fresh buffer and an ``(N, P)``
    scatter, no ``(N, C, P)`` one-hot. ``graph``: out of place, for a differentiated backward.
    """
    u = picked * g_inter.gather(1, labels)  # (N, P)
    q = torch.bmm(g_sum.unsqueeze(1), p).squeeze(1) + u  # sum_k p_k g_k
    gs, qs = g_sum.unsqueeze(-1), q.unsqueeze(1)
    if valid is not None:
        u = u * valid.squeeze(1)
    if graph:
        gx = p * (gs - qs)
        if valid is not None:
            gx = gx * valid
        return gx.scatter_add(1, labels.unsqueeze(1), u.unsqueeze(1))
    gx = torch.mul(p, gs).addcmul_(p, qs, value=-1)
    if valid is not None:
        gx.mul_(valid)
    return gx.scatter_add_(1, labels.unsqueeze(1), u.unsqueeze(1))


def _statistics(
    fn: str,
    input: Tensor,
    target: Tensor,
    mode: str,
    from_logits: bool,
    squared: bool,
    batch: bool,
    ignore_index: int | None,
    validate: bool | None,
) -> tuple[_Stats, int]:
    x, tgt, activation = _prepare(fn, input, target, mode, from_logits, ignore_index, validate)
    n, c = x.shape[:2]
    labels, dense, valid = tgt
    if dense is not None and dense.requires_grad:
        # Soft targets that need a gradient: plain autograd.
        pv = _activate(x, activation)
        if valid is not None:
            pv = pv * valid
        inter = (pv * dense).sum(-1)
        xsum = (pv * pv).sum(-1) if squared else pv.sum(-1)
    else:
        inter, xsum, _, _ = apply(_PredictionSums, x, labels, dense, valid, activation, squared)
    with torch.no_grad():
        if labels is not None:
            ones = (
                valid.squeeze(1)
                if valid is not None
                else torch.ones((), dtype=x.dtype, device=x.device).expand(labels.shape)
            )
            ysum = x.new_zeros(n, c).scatter_add_(1, labels, ones)
        else:
            assert dense is not None
            ysum = None
    if ysum is None:
        assert dense is not None
        ysum = (dense * dense).sum(-1) if squared else dense.sum(-1)
    if batch:
        return (inter.sum(0), xsum.sum(0), ysum.sum(0)), c
    return (inter, xsum, ysum), c


def overlap_statistics(
    input: Tensor,
    target: Tensor,
    *,
    mode: str = "binary",
    from_logits: bool = False,
    squared: bool = False,
    batch: bool = False,
    ignore_index: int | None = None,
    validate: bool | None = None,
) -> Tensor:
    r"""The sums every overlap score is made of, per sample and class.

    .. math::

        I_{nc} = \sum_p x_{ncp}\, y_{ncp}, \qquad |X|_{nc} = \sum_p x_{ncp}, \qquad
        |Y|_{nc} = \sum_p y_{ncp}

    (:math:`x^2` and :math:`y^2` in the last two with ``squared=True``), over the counted elements
    :math:`p` (all but the ``ignore_index`` ones). The statistics are additive: the pooled
    statistics of a batch split over processes are the sum of each process's ``batch=True``
    statistics (one ``all_reduce``), from which :func:`overlap_score` gives the global score.

    Args:
        input: scores, see the modes in :mod:`losskit.functional.dice`.
        target: target of the mode.
        mode: ``"binary" | "multiclass" | "multilabel"``.
        from_logits: apply a sigmoid (binary, multilabel) or a softmax over ``C`` (multiclass).
        squared: sum squares for :math:`|X|` and :math:`|Y|` (V-Net).
        batch: pool the statistics over the batch.
        ignore_index: target value excluded from every statistic.
        validate: data-dependent checks (label range, values in [0, 1]); ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(3, N, C)`` (``(3, C)`` with ``batch=True``): :math:`I`, :math:`|X|`, :math:`|Y|`;
        ``C = 1`` in binary mode. Float32 for half/bfloat16 inputs.

    Example:
        >>> x = torch.tensor([[[0.5, 1.0, 0.0]]])
        >>> overlap_statistics(x, torch.tensor([[[1.0, 1.0, 0.0]]]))
        tensor([[[1.5000]],
        <BLANKLINE>
                [[1.5000]],
        <BLANKLINE>
                [[2.0000]]])

    References:
        Milletari et al., "V-Net", 3DV 2016 (soft sums); ``monai.losses.DiceLoss`` (same sums).
    """
    stats, _ = _statistics(
        "overlap_statistics",
        input,
        target,
        mode,
        from_logits,
        squared,
        batch,
        ignore_index,
        validate,
    )
    return torch.stack(stats)


def _check_scalars(fn: str, **values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(fn, f"{name} must be a real number, got {value!r}", TypeError)
        check_positive(fn, name, value, allow_zero=True)


def _score(
    stats: _Stats, metric: str, smooth: float, eps: float, alpha: float, beta: float
) -> Tensor:
    inter, xsum, ysum = stats
    total = xsum + ysum
    if metric == "dice":
        num = 2 * inter + smooth if smooth else 2 * inter
        den = total + (smooth + eps)
    elif metric == "jaccard":
        num = inter + smooth if smooth else inter
        den = total - inter + (smooth + eps)
    else:
        num = inter + smooth if smooth else inter
        den = inter + alpha * (xsum - inter) + beta * (ysum - inter) + (smooth + eps)
    # With x, y in [0, 1] every denominator is >= 0 and zero only if the target is empty, or, for
    # Tversky with alpha = 0 or beta = 0, if the missing term is the only non-zero one; then the
    # numerator is zero too. smooth + eps > 0 rules a zero denominator out.
    score = num / den if smooth + eps > 0 else safe_divide(num, den)
    # Empty prediction and empty target (0/0): a perfect score. The gradient there is 0: the
    # unselected branch is finite (den > 0, or safe_divide), so its zeroed gradient stays 0.
    return torch.where(total == 0, 1.0, score)


def overlap_score(
    stats: Tensor,
    *,
    metric: str = "dice",
    smooth: float = 0.0,
    eps: float = 1e-5,
    alpha: float = 0.5,
    beta: float = 0.5,
) -> Tensor:
    r"""Dice, Jaccard or Tversky score from :func:`overlap_statistics`.

    .. math::

        D = \frac{2I + s}{|X| + |Y| + s + \epsilon}, \quad
        J = \frac{I + s}{|X| + |Y| - I + s + \epsilon}, \quad
        T = \frac{I + s}{I + \alpha (|X| - I) + \beta (|Y| - I) + s + \epsilon}

    and 1 where :math:`|X| + |Y| = 0` (empty prediction and target).

    Args:
        stats: ``(3, *)`` statistics (intersection, input sum, target sum).
        metric: ``"dice" | "jaccard" | "tversky"``.
        smooth: :math:`s`, added to numerator and denominator, ``>= 0``.
        eps: :math:`\epsilon`, added to the denominator, ``>= 0``.
        alpha: Tversky weight of false positives, ``>= 0``.
        beta: Tversky weight of false negatives, ``>= 0``.

    Returns:
        The scores, shape ``stats.shape[1:]``.

    Example:
        >>> stats = torch.tensor([[1.5], [1.5], [2.0]])
        >>> overlap_score(stats, eps=0.0)
        tensor([0.8571])
        >>> overlap_score(torch.zeros(3, 1))  # empty prediction, empty target
        tensor([1.])

    References:
        Tversky, "Features of Similarity", Psychological Review 84(4), 1977; Salehi et al.,
        "Tversky loss function for image segmentation", MLMI 2017.
    """
    fn = "overlap_score"
    check_floating(fn, "stats", stats)
    if stats.dim() < 1 or stats.shape[0] != 3:
        raise fail(fn, f"stats must have shape (3, *), got {shape_str(stats.shape)}")
    check_option(fn, "metric", metric, _METRICS)
    _check_scalars(fn, smooth=smooth, eps=eps, alpha=alpha, beta=beta)
    inter, xsum, ysum = stats.unbind(0)
    return _score((inter, xsum, ysum), metric, smooth, eps, alpha, beta)


# --------------------------------------------------------------------------------------------
# losses


def _overlap(
    fn: str,
    input: Tensor,
    target: Tensor,
    *,
    metric: str,
    mode: str,
    from_logits: bool,
    eps: float,
    smooth: float,
    squared: bool,
    batch: bool,
    alpha: float,
    beta: float,
    ignore_index: int | None,
    class_weight: Tensor | None,
    weight: Tensor | None,
    reduction: str,
    validate: bool | None,
    as_loss: bool,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    for name, flag in (("from_logits", from_logits), ("squared", squared), ("batch", batch)):
        if not isinstance(flag, bool):
            raise fail(fn, f"{name} must be a bool, got {flag!r}", TypeError)
    _check_scalars(fn, smooth=smooth, eps=eps, alpha=alpha, beta=beta)
    stats, c = _statistics(
        fn, input, target, mode, from_logits, squared, batch, ignore_index, validate
    )
    if batch:
        inter, xsum, ysum = all_reduce_sums(stats, process_group)
        stats = (inter, xsum, ysum)
    score = _score(stats, metric, smooth, eps, alpha, beta)  # (N, C) or (C,)
    per_class = 1 - score if as_loss else score

    w: Tensor | None = None
    if class_weight is not None:
        check_class_tensor(fn, "class_weight", class_weight, c)
        if validation_enabled(validate) and bool((class_weight < 0).any()):
            raise fail(fn, "class_weight must be >= 0, got a negative weight")
        w = class_weight.to(device=score.device, dtype=score.dtype)
    if mode == "multiclass" and ignore_index is not None and 0 <= ignore_index < c:
        classes = torch.arange(c, device=score.device)
        keep = (classes != ignore_index).to(score.dtype)
        w = keep if w is None else w * keep
    if w is not None:
        per_sample = safe_divide((per_class * w).sum(-1), w.sum())
    else:
        per_sample = per_class.mean(-1)
    group = None if batch else process_group  # pooled statistics are global already
    return reduce_global(per_sample, reduction, group, weight=weight, fn=fn)


def dice_loss(
    input: Tensor,
    target: Tensor,
    *,
    mode: str = "binary",
    from_logits: bool = False,
    eps: float = 1e-5,
    smooth: float = 0.0,
    squared: bool = False,
    batch: bool = False,
    ignore_index: int | None = None,
    class_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Dice loss (Milletari et al., V-Net), one minus the soft Dice coefficient.

    .. math::

        l_n = \frac{\sum_c w_c \left(1 - D_{nc}\right)}{\sum_c w_c}, \qquad
        D_{nc} = \frac{2 \sum_p x_{ncp} y_{ncp} + s}
                      {\sum_p x_{ncp} + \sum_p y_{ncp} + s + \epsilon}

    (:math:`x^2`, :math:`y^2` in the denominator with ``squared=True``; :math:`D = 1` when
    prediction and target are both empty). With ``batch=True`` the sums also run over
    :math:`n` and the unreduced loss is a single value. Modes, empty masks and ignored pixels
    are described in :mod:`losskit.functional.dice`.

    With ``batch=True`` and the defaults this is the survey's ``dice_coefficient``:
    ``1 - 2 * sum(y * x) / (sum(y) + sum(x) + 1e-5)``. MONAI's ``DiceLoss(smooth_nr=a,
    smooth_dr=b)`` is ``smooth=a, eps=b - a`` (MONAI's defaults: ``smooth=1e-5, eps=0``);
    its ``include_background=False`` is a ``class_weight`` with 0 for class 0 (MONAI's ``weight``
    multiplies the class losses before a plain mean over classes, losskit's ``class_weight``
    takes the weighted mean).

    Args:
        input: ``(N, C, *spatial)`` probabilities (``(N, *)`` in binary mode), or logits with
            ``from_logits=True``.
        target: ``(N, *spatial)`` integer labels (multiclass), else ``input``'s shape in
            :math:`[0, 1]`.
        mode: ``"binary" | "multiclass" | "multilabel"``.
        from_logits: apply a sigmoid (binary, multilabel) or a softmax over ``C`` (multiclass).
        eps: :math:`\epsilon`, added to the denominator only, ``>= 0``.
        smooth: :math:`s`, added to numerator and denominator, ``>= 0``.
        squared: square prediction and target in the denominator.
        batch: pool the statistics over the batch (one Dice per class).
        ignore_index: target value excluded from every statistic.
        class_weight: ``(C,)`` non-negative weights of the class average.
        weight: per-sample weights ``(N,)`` (a scalar with ``batch=True``).
        reduction: ``"none" | "mean" | "sum"`` over the samples.
        validate: data-dependent checks (labels in range, values in :math:`[0, 1]`);
            ``None`` follows :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group whose ranks hold the other shards of the
            batch: the statistics (``batch=True``) or the ``"mean"`` count are summed over it;
            ``None``: this process's batch only. See :mod:`losskit.distributed`.

    Returns:
        ``(N,)`` for ``"none"`` (``()`` with ``batch=True``), else a scalar; float32 for
        half/bfloat16 input.

    Raises:
        ValueError: bad shapes, an unknown mode or reduction, negative ``eps``/``smooth``,
            labels out of range or values outside :math:`[0, 1]` (validation on).
        TypeError: non-floating ``input``, non-integer multiclass ``target``.

    Example:
        >>> x = torch.tensor([[0.9, 0.8, 0.1, 0.0]])
        >>> y = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> dice_loss(x, y, eps=0.0)  # 1 - 2*1.7/(1.8+2)
        tensor(0.1053)
        >>> logits = torch.randn(2, 3, 4, 4)
        >>> labels = torch.randint(0, 3, (2, 4, 4))
        >>> dice_loss(logits, labels, mode="multiclass", from_logits=True, reduction="none").shape
        torch.Size([2])
        >>> dice_loss(torch.zeros(1, 4), torch.zeros(1, 4))  # empty masks: perfect
        tensor(0.)

    References:
        F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net: Fully Convolutional Neural Networks for
        Volumetric Medical Image Segmentation", 3DV 2016. C. H. Sudre et al., "Generalised Dice
        overlap as a deep learning loss function for highly unbalanced segmentations", 2017.
    """
    return _overlap(
        "dice_loss",
        input,
        target,
        metric="dice",
        mode=mode,
        from_logits=from_logits,
        eps=eps,
        smooth=smooth,
        squared=squared,
        batch=batch,
        alpha=0.5,
        beta=0.5,
        ignore_index=ignore_index,
        class_weight=class_weight,
        weight=weight,
        reduction=reduction,
        validate=validate,
        as_loss=True,
        process_group=process_group,
    )


def dice_coefficient(
    input: Tensor,
    target: Tensor,
    *,
    mode: str = "binary",
    from_logits: bool = False,
    eps: float = 1e-5,
    smooth: float = 0.0,
    squared: bool = False,
    batch: bool = False,
    ignore_index: int | None = None,
    class_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Soft Dice coefficient (the score; :func:`dice_loss` is one minus it).

    .. math::

        d_n = \frac{\sum_c w_c D_{nc}}{\sum_c w_c}, \qquad
        D_{nc} = \frac{2 \sum_p x_{ncp} y_{ncp} + s}
                      {\sum_p x_{ncp} + \sum_p y_{ncp} + s + \epsilon}

    Same arguments, modes and empty-mask policy as :func:`dice_loss`; on hard (0/1) masks this
    is the Dice similarity / F1 score. Note that the survey's function named
    ``dice_coefficient`` returns the *loss*: it is :func:`dice_loss` with ``batch=True``.

    Args:
        input: see :func:`dice_loss`.
        target: see :func:`dice_loss`.
        mode: see :func:`dice_loss`.
        from_logits: see :func:`dice_loss`.
        eps: see :func:`dice_loss`.
        smooth: see :func:`dice_loss`.
        squared: see :func:`dice_loss`.
        batch: see :func:`dice_loss`.
        ignore_index: see :func:`dice_loss`.
        class_weight: see :func:`dice_loss`.
        weight: see :func:`dice_loss`.
        reduction: see :func:`dice_loss`.
        validate: see :func:`dice_loss`.

    Returns:
        ``(N,)`` for ``"none"`` (``()`` with ``batch=True``), else a scalar in :math:`[0, 1]`.

    Raises:
        ValueError: as :func:`dice_loss`.
        TypeError: as :func:`dice_loss`.

    Example:
        >>> x = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> y = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> dice_coefficient(x, y, eps=0.0)  # 2*1/(2+2)
        tensor(0.5000)

    References:
        L. R. Dice, "Measures of the Amount of Ecologic Association Between Species", Ecology
        1945; F. Milletari et al., "V-Net", 3DV 2016.
    """
    return _overlap(
        "dice_coefficient",
        input,
        target,
        metric="dice",
        mode=mode,
        from_logits=from_logits,
        eps=eps,
        smooth=smooth,
        squared=squared,
        batch=batch,
        alpha=0.5,
        beta=0.5,
        ignore_index=ignore_index,
        class_weight=class_weight,
        weight=weight,
        reduction=reduction,
        validate=validate,
        as_loss=False,
    )


def jaccard_loss(
    input: Tensor,
    target: Tensor,
    *,
    mode: str = "binary",
    from_logits: bool = False,
    eps: float = 1e-5,
    smooth: float = 0.0,
    squared: bool = False,
    batch: bool = False,
    ignore_index: int | None = None,
    class_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Jaccard loss (soft IoU), one minus the soft intersection over union.

    .. math::

        l_n = \frac{\sum_c w_c \left(1 - J_{nc}\right)}{\sum_c w_c}, \qquad
        J_{nc} = \frac{\sum_p x y + s}{\sum_p x + \sum_p y - \sum_p x y + s + \epsilon}

    (:math:`x^2`, :math:`y^2` with ``squared=True``; :math:`J = 1` for empty prediction and
    target). Without smoothing, :math:`J = D / (2 - D)` with :math:`D` the Dice coefficient.
    MONAI's ``DiceLoss(jaccard=True, smooth_nr=a, smooth_dr=b)`` computes
    :math:`(2I + a) / (2(|X| + |Y| - I) + b)`, which is ``smooth=a/2, eps=(b - a)/2`` here.

    Args:
        input: see :func:`dice_loss`.
        target: see :func:`dice_loss`.
        mode: ``"binary" | "multiclass" | "multilabel"``.
        from_logits: sigmoid (binary, multilabel) or softmax (multiclass) first.
        eps: :math:`\epsilon`, denominator only, ``>= 0``.
        smooth: :math:`s`, numerator and denominator, ``>= 0``.
        squared: square prediction and target in :math:`|X|`, :math:`|Y|`.
        batch: pool the statistics over the batch.
        ignore_index: target value excluded from every statistic.
        class_weight: ``(C,)`` weights of the class average.
        weight: per-sample weights ``(N,)``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: data-dependent checks; ``None`` follows the global switch.
        process_group: see :func:`dice_loss`.

    Returns:
        ``(N,)`` for ``"none"`` (``()`` with ``batch=True``), else a scalar.

    Raises:
        ValueError: as :func:`dice_loss`.
        TypeError: as :func:`dice_loss`.

    Example:
        >>> x = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> y = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> jaccard_loss(x, y, eps=0.0)  # 1 - 1/3
        tensor(0.6667)

    References:
        M. A. Rahman, Y. Wang, "Optimizing Intersection-Over-Union in Deep Neural Networks for
        Image Segmentation", ISVC 2016.
    """
    return _overlap(
        "jaccard_loss",
        input,
        target,
        metric="jaccard",
        mode=mode,
        from_logits=from_logits,
        eps=eps,
        smooth=smooth,
        squared=squared,
        batch=batch,
        alpha=1.0,
        beta=1.0,
        ignore_index=ignore_index,
        class_weight=class_weight,
        weight=weight,
        reduction=reduction,
        validate=validate,
        as_loss=True,
        process_group=process_group,
    )


def tversky_loss(
    input: Tensor,
    target: Tensor,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    mode: str = "binary",
    from_logits: bool = False,
    eps: float = 1e-5,
    smooth: float = 0.0,
    batch: bool = False,
    ignore_index: int | None = None,
    class_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Tversky loss (Salehi et al. 2017): Dice with separate weights for the two error kinds.

    .. math::

        l_n = \frac{\sum_c w_c \left(1 - T_{nc}\right)}{\sum_c w_c}, \qquad
        T_{nc} = \frac{I + s}{I + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN} + s + \epsilon}

    with :math:`I = \sum_p x y`, :math:`\mathrm{FP} = \sum_p x (1 - y)` (predicted, not in the
    target) and :math:`\mathrm{FN} = \sum_p (1 - x) y` (missed); :math:`T = 1` for empty
    prediction and target. :math:`\alpha = \beta = 1` is the Jaccard loss with the same ``smooth``
    and ``eps``; :math:`\alpha = \beta = 1/2` is the Dice loss with ``smooth`` and ``eps``
    doubled. ``beta > alpha`` favours recall. MONAI's ``TverskyLoss(alpha, beta, smooth_nr=a,
    smooth_dr=b)`` is ``smooth=a, eps=b - a``.

    Keras' ``keras.losses.tversky`` depends on the version. Released Keras 3, up to and
    including 3.15.1, applies its ``alpha`` to the missed positives and its ``beta`` to the
    false positives, the other way round from its docs and the paper: there Keras'
    ``(alpha, beta)`` is losskit's ``(beta, alpha)``. Keras' main branch has fixed the swap
    (commit fa9afd5a, not in 3.15.1): from the first release that contains it, Keras'
    ``(alpha, beta)`` is losskit's ``(alpha, beta)``. Check ``keras.__version__`` when porting.

    Args:
        input: see :func:`dice_loss`.
        target: see :func:`dice_loss`.
        alpha: weight of false positives, ``>= 0``.
        beta: weight of false negatives, ``>= 0``.
        mode: ``"binary" | "multiclass" | "multilabel"``.
        from_logits: sigmoid (binary, multilabel) or softmax (multiclass) first.
        eps: :math:`\epsilon`, denominator only, ``>= 0``.
        smooth: :math:`s`, numerator and denominator, ``>= 0``.
        batch: pool the statistics over the batch.
        ignore_index: target value excluded from every statistic.
        class_weight: ``(C,)`` weights of the class average.
        weight: per-sample weights ``(N,)``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: data-dependent checks; ``None`` follows the global switch.
        process_group: see :func:`dice_loss`.

    Returns:
        ``(N,)`` for ``"none"`` (``()`` with ``batch=True``), else a scalar.

    Raises:
        ValueError: as :func:`dice_loss`, and negative ``alpha`` or ``beta``.
        TypeError: as :func:`dice_loss`.

    Example:
        >>> x = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> y = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> tversky_loss(x, y, alpha=0.3, beta=0.7, eps=0.0)  # 1 - 1/(1 + 0.3 + 0.7)
        tensor(0.5000)

    References:
        S. S. M. Salehi, D. Erdogmus, A. Gholipour, "Tversky loss function for image
        segmentation using 3D fully convolutional deep networks", MLMI 2017.
    """
    return _overlap(
        "tversky_loss",
        input,
        target,
        metric="tversky",
        mode=mode,
        from_logits=from_logits,
        eps=eps,
        smooth=smooth,
        squared=False,
        batch=batch,
        alpha=alpha,
        beta=beta,
        ignore_index=ignore_index,
        class_weight=class_weight,
        weight=weight,
        reduction=reduction,
        validate=validate,
        as_loss=True,
        process_group=process_group,
    )
