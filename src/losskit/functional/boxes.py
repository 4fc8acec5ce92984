r"""Bounding-box geometry and losses: IoU, GIoU, DIoU, CIoU and (DIoU-)NMS.

Every IoU variant is computed by one geometry kernel (intersection, union, enclosing box, centre
distance, aspect-ratio term) with every option passed through it, so the pairwise functions, the
aligned losses and :func:`nms` agree to the last bit on the same pair of boxes.

For a prediction :math:`B` and a target :math:`B^{gt}` with intersection :math:`I`, union
:math:`U`, smallest enclosing box :math:`C` (area :math:`|C|`, squared diagonal :math:`c^2`),
squared centre distance :math:`\rho^2` and widths/heights :math:`w, h`:

.. math::

    \mathrm{IoU} &= \frac{I}{U + \epsilon} \\
    \mathrm{GIoU} &= \mathrm{IoU} - \frac{|C| - U}{|C| + \epsilon} \\
    \mathrm{DIoU} &= \mathrm{IoU} - \frac{\rho^2}{c^2 + \epsilon} \\
    \mathrm{CIoU} &= \mathrm{DIoU} - \alpha v, \quad
        v = \frac{4}{\pi^2}\Big(\arctan\frac{w^{gt}}{h^{gt}} - \arctan\frac{w}{h}\Big)^2, \quad
        \alpha = \frac{v}{1 - \mathrm{IoU} + v + \epsilon}

The ``eps`` placements are torchvision's (its losses; its pairwise ``box_iou`` and
``generalized_box_iou`` use no ``eps``, which gives NaN for two empty boxes where losskit gives a
finite value; for boxes of area much larger than ``eps`` the results agree to rounding). As in the
CIoU paper and torchvision, :math:`\alpha` is a constant for differentiation (no gradient flows
through it); :math:`v` is differentiated normally. The arctangents are computed as
:math:`\arctan` of the tangent of their difference (one vectorised ``atan``), which equals
:math:`\arctan(w^{gt}/h^{gt}) - \arctan(w/h)` for valid boxes and stays finite for zero-height
and zero-size boxes (a zero-size box counts as having the other box's aspect ratio).

The aligned losses are ``1 - metric``. They run through one ``torch.autograd.Function`` whose
backward is written by hand: it saves only the two box tensors and recomputes the geometry, so a
loss over ``N`` boxes keeps ``O(1)`` extra tensors alive between forward and backward instead of
the few dozen intermediates an elementwise-op formulation saves. Away from ties the gradients
are torchvision's (autograd of the same formulas). Where the geometry has a kink (an edge of the
prediction equal to the target's, or boxes that touch) the gradient is the one-sided derivative
in the direction that grows the box: an equal edge counts as bounding the enclosing box, not the
intersection, and touching boxes pass gradient through their (empty) intersection. torchvision's
autograd instead splits ties half and half and zeroes touching intersections; the one-sided rule
keeps GIoU's gradient bounded on degenerate (flat) boxes, where the split rule produces
gradients of order ``1/eps``, and gives touching boxes a gradient that pulls them together.

Box formats (``box_format``): ``"xyxy"`` (corners :math:`x_1, y_1, x_2, y_2`), ``"xywh"``
(corner, width, height) and ``"cxcywh"`` (centre, width, height). Boxes with :math:`x_2 < x_1` or
:math:`y_2 < y_1` (negative width or height) are rejected with a ``ValueError`` while validation
is on (``validate=None`` follows :func:`losskit.set_validation`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from .._core.checks import (
    check_floating,
    check_option,
    check_positive,
    check_tensor,
    error_context,
    fail,
    prepare_pair,
    shape_str,
    validation_enabled,
)
from .._core.dtypes import compute_dtype
from .._core.reduction import reduce_loss

__all__ = [
    "batched_nms",
    "box_convert",
    "box_iou",
    "complete_box_iou",
    "complete_box_iou_loss",
    "distance_box_iou",
    "distance_box_iou_loss",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "iou_loss",
    "nms",
]

BOX_FORMATS: tuple[str, ...] = ("xyxy", "xywh", "cxcywh")
NMS_METHODS: tuple[str, ...] = ("iou", "diou")

# Metric kinds of the shared kernel.
_IOU, _GIOU, _DIOU, _CIOU = 0, 1, 2, 3
_FOUR_OVER_PI2 = 4.0 / math.pi**2


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


def _to_xyxy(boxes: Tensor, box_format: str) -> Tensor:
    """Convert ``(..., 4)`` boxes to corner format (differentiable; no copy for ``"xyxy"``)."""
    if box_format == "xyxy":
        return boxes
    a, b = boxes[..., :2], boxes[..., 2:]
    if box_format == "xywh":
        return torch.cat([a, a + b], dim=-1)
    half = 0.5 * b
    return torch.cat([a - half, a + half], dim=-1)


def _check_last_dim(fn: str, name: str, boxes: Tensor, *, pairwise: bool = False) -> None:
    if boxes.dim() < (2 if pairwise else 1) or boxes.shape[-1] != 4:
        expected = "(..., N, 4)" if pairwise else "(..., 4)"
        raise fail(fn, f"{name} must have shape {expected}, got {shape_str(boxes.shape)}")


def _check_valid(
    fn: str, name: str, original: Tensor, xyxy: Tensor, box_format: str, validate: bool | None
) -> None:
    """Data-dependent: every box must have ``x2 >= x1`` and ``y2 >= y1`` (NaN fails)."""
    if not validation_enabled(validate) or xyxy.numel() == 0:
        return
    with torch.no_grad():
        ok = (xyxy[..., 2:] >= xyxy[..., :2]).all(dim=-1)
        if bool(ok.all()):
            return
        bad = ~ok
        count = int(bad.sum())
        example = [round(float(v), 6) for v in original.detach()[bad][0].tolist()]
    raise fail(
        fn,
        f"{name} must hold valid boxes (x2 >= x1 and y2 >= y1 in box_format={box_format!r}), "
        f"got {count} invalid box(es), e.g. {example}",
    )


def _check_eps(fn: str, eps: float) -> None:
    check_positive(fn, "eps", eps, allow_zero=True)


def _prepare_aligned(
    fn: str, input: Tensor, target: Tensor, box_format: str, eps: float, validate: bool | None
) -> tuple[Tensor, Tensor]:
    x, y = prepare_pair(fn, input, target)
    _check_last_dim(fn, "input", x)
    check_option(fn, "box_format", box_format, BOX_FORMATS)
    _check_eps(fn, eps)
    px, tx = _to_xyxy(x, box_format), _to_xyxy(y, box_format)
    _check_valid(fn, "input", input, px, box_format, validate)
    _check_valid(fn, "target", target, tx, box_format, validate)
    return px, tx


def _real_boxes(fn: str, name: str, boxes: Tensor) -> Tensor:
    check_tensor(fn, name, boxes)
    if boxes.is_complex() or boxes.dtype == torch.bool:
        raise fail(fn, f"{name} must be a real tensor, got dtype {boxes.dtype}", TypeError)
    return boxes


# --------------------------------------------------------------------------------------------
# The geometry kernel
# --------------------------------------------------------------------------------------------


class _Geometry(NamedTuple):
    """Intermediates of the kernel on coordinate planes; a leading 2 means (x, y)."""

    wh_p: Tensor  # (2, ...) width and height of the prediction
    wh_t: Tensor  # (2, ...) of the target
    iwh_raw: Tensor  # (2, ...) extents of the intersection before clamping (< 0: disjoint)
    iwh: Tensor  # (2, ...) clamped at 0
    inter: Tensor  # I
    union: Tensor  # U (no eps)
    cwh: Tensor | None  # (2, ...) extents of the enclosing box (GIoU, DIoU, CIoU)
    dp: Tensor | None  # (4, ...) p - t (DIoU, CIoU; and for the backward pass)
    d: Tensor | None  # (2, ...) (p - t) summed over lo and hi: twice the centre offset (DIoU, CIoU)


def _geometry(p: Tensor, t: Tensor, kind: int, *, offsets: bool = False) -> _Geometry:
    """The one geometry kernel: corner planes ``p``, ``t`` of shape ``(4, ...)`` (broadcastable)
    to intersection, union, enclosing box and centre offset.

    ``offsets`` also returns the corner differences (the backward pass routes the gradients of
    the min/max with them).
    """
    lo_p, hi_p = p[:2], p[2:]
    lo_t, hi_t = t[:2], t[2:]
    wh_p = hi_p - lo_p
    wh_t = hi_t - lo_t
    iwh_raw = torch.minimum(hi_p, hi_t) - torch.maximum(lo_p, lo_t)
    iwh = iwh_raw.clamp_min(0)
    inter = iwh[0] * iwh[1]
    # (area_p + area_t) - I, in this order: torchvision's NMS rounds it so
    union = (wh_p[0] * wh_p[1] + wh_t[0] * wh_t[1]) - inter
    cwh = dp = d = None
    if kind != _IOU:
        cwh = torch.maximum(hi_p, hi_t) - torch.minimum(lo_p, lo_t)
    if offsets:
        dp = p - t
        if kind in (_DIOU, _CIOU):
            d = dp[:2] + dp[2:]
    elif kind in (_DIOU, _CIOU):  # from the centres: cheap when p and t broadcast (pairwise)
        d = (lo_p + hi_p) - (lo_t + hi_t)
    return _Geometry(wh_p, wh_t, iwh_raw, iwh, inter, union, cwh, dp, d)


def _aspect_delta(wh_p: Tensor, wh_t: Tensor) -> Tensor:
    """``atan(w_gt / h_gt) - atan(w / h)``, finite for zero heights and zero-size boxes.

    The difference of the two angles of the vectors ``(h, w)`` in the first quadrant is
    ``atan(cross / dot)`` with ``dot >= 0``: one vectorised ``atan`` instead of two ``atan2``.
    ``dot == 0`` (a flat box against a thin one) gives ``+-pi/2``; a zero-size box counts as
    having the other box's aspect ratio (``0 / 0 -> 0``).
    """
    cross = torch.addcmul(wh_t[0] * wh_p[1], wh_p[0], wh_t[1], value=-1)
    dot = torch.addcmul(wh_t[1] * wh_p[1], wh_t[0], wh_p[0])
    return torch.atan(cross / dot.clamp_min(1e-30))


def _alpha(v: Tensor, iou: Tensor, eps: float) -> Tensor:
    """CIoU's trade-off ``v / (1 - IoU + v + eps)``; 0 where ``v == 0`` even when ``eps == 0``."""
    den = (1 - iou + v) + eps
    if eps > 0:  # the denominator is >= eps: no 0/0 (a trace-time branch on a Python float)
        return v / den
    return v / torch.where(v > 0, den, torch.ones_like(den))


def _distance_terms(g: _Geometry, eps: float) -> tuple[Tensor, Tensor]:
    """``c^2 + eps`` and ``4 rho^2`` (the squared length of ``d``)."""
    assert g.cwh is not None and g.d is not None
    c2 = torch.addcmul(g.cwh[0].square() + eps, g.cwh[1], g.cwh[1])
    ssd = torch.addcmul(g.d[0].square(), g.d[1], g.d[1])
    return c2, ssd


def _metric(p: Tensor, t: Tensor, kind: int, eps: float) -> Tensor:
    g = _geometry(p, t, kind)
    iou = g.inter / (g.union + eps)
    if kind == _IOU:
        return iou
    if kind == _GIOU:
        assert g.cwh is not None
        area_c = g.cwh[0] * g.cwh[1]
        return iou - (area_c - g.union) / (area_c + eps)
    c2, ssd = _distance_terms(g, eps)
    out = torch.sub(iou, ssd / c2, alpha=0.25)  # IoU - rho^2 / c^2
    if kind == _CIOU:
        v = _FOUR_OVER_PI2 * _aspect_delta(g.wh_p, g.wh_t).square()
        out = torch.addcmul(out, _alpha(v, iou, eps), v, value=-1)
    return out


def _metric_grads(
    p: Tensor, t: Tensor, grad: Tensor, kind: int, eps: float, need_t: bool
) -> tuple[Tensor, Tensor | None]:
    """Hand-written gradient of ``_metric`` (times ``grad``) w.r.t. the corner planes.

    With the partial derivatives of the metric: ``G_I = D_I - D_U`` for the intersection
    (which enters ``U`` with a minus sign), ``D_U`` for each area ``w h``, ``D_C`` (GIoU) or
    ``D_{c^2}`` (DIoU, CIoU) for the enclosing box, ``D_{rho^2}`` for the centre distance and
    ``-alpha dv`` for the aspect term. Each corner is the inner one of its pair (it bounds the
    intersection) or the outer one (it bounds the enclosing box). Returns ``(4, ...)`` gradients
    for ``p`` (and ``t``).
    """
    g = _geometry(p, t, kind, offsets=True)
    ud = g.union + eps
    iou = g.inter / ud
    gi = grad / ud  # dIoU/dI
    du = -iou * gi  # dIoU/dU
    gc: tuple[Tensor, Tensor] | None = None  # gradient on the enclosing extents (cw, ch)
    rd: Tensor | None = None  # gradient on each corner from the centre distance
    q: Tensor | None = None  # -alpha dv/dtheta_p (CIoU)
    if kind == _GIOU:
        assert g.cwh is not None
        area_c = g.cwh[0] * g.cwh[1]
        ce = area_c + eps
        rce = grad / ce
        du = du + rce
        d_c = (-ud / ce) * rce  # D_C = -(U + eps) / (C + eps)^2
        gc = (g.cwh[1] * d_c, g.cwh[0] * d_c)
    elif kind in (_DIOU, _CIOU):
        assert g.cwh is not None and g.d is not None
        c2, ssd = _distance_terms(g, eps)
        k = grad / c2
        e = (0.5 * ssd / c2) * k  # 2 D_{c^2} with D_{c^2} = rho^2 / c^4
        gc = (g.cwh[0] * e, g.cwh[1] * e)
        rd = g.d * (-0.5 * k)  # D_{rho^2} d(rho^2)/d(corner) = -(1/c^2) (d / 2)
        if kind == _CIOU:
            delta = _aspect_delta(g.wh_p, g.wh_t)
            v = _FOUR_OVER_PI2 * delta.square()
            q = (2 * _FOUR_OVER_PI2) * (_alpha(v, iou, eps) * delta) * grad
    gi = gi - du  # G_I: I enters U with a minus sign
    # Masks are built from sign() with arithmetic: comparisons, bool tensors and where() cost
    # several times more than a multiply on the CPU.
    # gradient on the intersection extents, none once the boxes are apart along either axis
    # (touching passes): dI/d(raw extent) = other extent * [raw extents >= 0], using
    # [x >= 0] = 1 + min(sign(x), 0)
    apart = torch.sign(torch.minimum(g.iwh_raw[0], g.iwh_raw[1])).clamp_max(0)
    gi = torch.addcmul(gi, gi, apart)
    giw = (g.iwh[1] * gi, g.iwh[0] * gi)

    def wh_grads(wh: Tensor, sign: float) -> tuple[Tensor, Tensor]:
        # gradient on (w, h): D_U * (h, w), plus -alpha dv/d(w, h) = q (h, -w) / (w^2 + h^2)
        if q is None:
            return wh[1] * du, wh[0] * du
        r2 = torch.addcmul(wh[0].square(), wh[1], wh[1]).clamp_min(1e-30)
        qr = q / r2 if sign > 0 else -q / r2
        return wh[1] * (du + qr), wh[0] * (du - qr)

    def corners(gwh: tuple[Tensor, Tensor], pred: bool) -> Tensor:
        # Each corner feeds the intersection when it is the inner one of its pair and the
        # enclosing box when it is the outer one; at a tie it counts as the outer one (the
        # one-sided derivative in the direction that grows the box). With s = sign(p - t):
        # p's lo is inner where s > 0, p's hi where s < 0; the target's the other way round.
        if pred:  # lo = -(base + [s_lo > 0] diff), hi = base + [s_hi < 0] diff
            m_lo, m_hi = sgn[:2].clamp_min(0), sgn[2:].clamp_max(0)
        else:  # lo = -(base + [s_lo < 0] diff), hi = base + [s_hi > 0] diff
            m_lo, m_hi = sgn[:2].clamp_max(0), sgn[2:].clamp_min(0)
        v_lo, v_hi = (1, -1) if pred else (-1, 1)
        planes_lo, planes_hi = [], []
        for ax in (0, 1):
            if gc is None:
                base, diff = gwh[ax], giw[ax]
            else:
                base, diff = gwh[ax] + gc[ax], giw[ax] - gc[ax]
            lo = torch.addcmul(base, m_lo[ax], diff, value=v_lo).neg()
            hi = torch.addcmul(base, m_hi[ax], diff, value=v_hi)
            if rd is not None:  # the centre offset enters with +1 for p, -1 for t
                lo, hi = (lo + rd[ax], hi + rd[ax]) if pred else (lo - rd[ax], hi - rd[ax])
            planes_lo.append(lo)
            planes_hi.append(hi)
        return torch.stack(planes_lo + planes_hi)

    assert g.dp is not None
    sgn = torch.sign(g.dp)
    grad_p = corners(wh_grads(g.wh_p, 1.0), True)
    grad_t = corners(wh_grads(g.wh_t, -1.0), False) if need_t else None
    return grad_p, grad_t


_CHUNK = 1 << 16
"""Boxes per chunk of the CPU eager path: each coordinate-plane temporary (256 KiB in float32)
stays in cache, and each operation is still above torch's intra-op grain (2^15 elements), so it
runs on every thread. Measured on 2 idle cores, 2^20 pairs fwd+bwd: IoU 70 ms with 2^14-box
chunks (single-threaded), 32 ms with 2^16, 29 ms with 2^17, 92 ms unchunked. 2^17 is slightly
faster but its temporaries raise the peak memory to 0.33-0.47 of the elementwise formulation's;
2^16 keeps it at 0.19-0.35."""


def _chunked(p: Tensor, t: Tensor) -> bool:
    """Process aligned CPU boxes in cache-sized chunks (eager only; one pass when compiled)."""
    return (
        p.device.type == "cpu"
        and p.shape == t.shape
        and p.numel() > 4 * _CHUNK
        and not torch.compiler.is_compiling()
        and not torch.is_grad_enabled()
    )


class _BoxMetric(torch.autograd.Function):
    """``metric(p, t)`` (or ``1 - metric`` when ``as_loss``) for ``(..., 4)`` corner boxes that
    broadcast against each other; saves only ``p`` and ``t``.

    The kernel works on contiguous coordinate planes ``(4, ...)``. On the CPU, large aligned
    inputs are processed in chunks of ``_CHUNK`` boxes so that the temporaries stay in cache,
    and the ``(n, 4) <-> (4, n)`` transposes go through an exact identity matrix product (a
    strided copy is several times slower); the arithmetic is the same.
    """

    @staticmethod
    def forward(p: Tensor, t: Tensor, kind: int, eps: float, as_loss: bool) -> Tensor:
        if not _chunked(p, t):
            m = _metric(_planes(p), _planes(t), kind, eps)
            return 1 - m if as_loss else m
        pf, tf = p.reshape(-1, 4), t.reshape(-1, 4)
        eye = torch.eye(4, dtype=p.dtype, device=p.device)
        out = torch.empty(pf.shape[0], dtype=p.dtype, device=p.device)
        for s in range(0, pf.shape[0], _CHUNK):
            e = s + _CHUNK
            m = _metric(eye.mm(pf[s:e].t()), eye.mm(tf[s:e].t()), kind, eps)
            if as_loss:
                torch.sub(1, m, out=out[s:e])
            else:
                out[s:e] = m
        return out.view(p.shape[:-1])

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        p, t, kind, eps, as_loss = inputs
        ctx.save_for_backward(p, t)
        ctx.kind, ctx.eps, ctx.as_loss = kind, eps, as_loss

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_p: Tensor | None = None
        grad_t: Tensor | None = None
        if not _chunked(p, t):
            if ctx.as_loss:
                grad = -grad
            gp, gt = _metric_grads(_planes(p), _planes(t), grad, ctx.kind, ctx.eps, need_t)
            if need_p:
                grad_p = gp.movedim(0, -1).sum_to_size(p.shape)
            if gt is not None:
                grad_t = gt.movedim(0, -1).sum_to_size(t.shape)
            return grad_p, grad_t, None, None, None
        pf, tf, gf = p.reshape(-1, 4), t.reshape(-1, 4), grad.expand(p.shape[:-1]).reshape(-1)
        eye = torch.eye(4, dtype=p.dtype, device=p.device)
        if need_p:
            grad_p = torch.empty_like(pf)
        if need_t:
            grad_t = torch.empty_like(tf)
        for s in range(0, pf.shape[0], _CHUNK):
            e = s + _CHUNK
            gc = -gf[s:e] if ctx.as_loss else gf[s:e]  # negated per chunk: no full-size copy
            gp, gt = _metric_grads(
                eye.mm(pf[s:e].t()), eye.mm(tf[s:e].t()), gc, ctx.kind, ctx.eps, need_t
            )
            if grad_p is not None:
                torch.mm(gp.t(), eye, out=grad_p[s:e])
            if grad_t is not None and gt is not None:
                torch.mm(gt.t(), eye, out=grad_t[s:e])
        return (
            grad_p.view(p.shape) if grad_p is not None else None,
            grad_t.view(t.shape) if grad_t is not None else None,
            None,
            None,
            None,
        )


def _planes(boxes: Tensor) -> Tensor:
    """``(..., 4)`` boxes as contiguous coordinate planes ``(4, ...)``."""
    return boxes.movedim(-1, 0).contiguous()


def _box_metric(p: Tensor, t: Tensor, kind: int, eps: float, as_loss: bool) -> Tensor:
    return _BoxMetric.apply(p, t, kind, eps, as_loss)


# --------------------------------------------------------------------------------------------
# Pairwise functions
# --------------------------------------------------------------------------------------------


def _pairwise(
    fn: str,
    boxes1: Tensor,
    boxes2: Tensor,
    kind: int,
    box_format: str,
    eps: float,
    validate: bool | None,
) -> Tensor:
    _real_boxes(fn, "boxes1", boxes1)
    _real_boxes(fn, "boxes2", boxes2)
    _check_last_dim(fn, "boxes1", boxes1, pairwise=True)
    _check_last_dim(fn, "boxes2", boxes2, pairwise=True)
    try:
        torch.broadcast_shapes(boxes1.shape[:-2], boxes2.shape[:-2])
    except RuntimeError:
        raise fail(
            fn,
            f"boxes1 and boxes2 must have broadcastable batch dimensions, got boxes1 "
            f"{shape_str(boxes1.shape)} and boxes2 {shape_str(boxes2.shape)}",
        ) from None
    check_option(fn, "box_format", box_format, BOX_FORMATS)
    _check_eps(fn, eps)
    dtype = compute_dtype(boxes1, boxes2)
    b1 = _to_xyxy(boxes1.to(dtype), box_format)
    b2 = _to_xyxy(boxes2.to(dtype), box_format)
    _check_valid(fn, "boxes1", boxes1, b1, box_format, validate)
    _check_valid(fn, "boxes2", boxes2, b2, box_format, validate)
    return _box_metric(b1.unsqueeze(-2), b2.unsqueeze(-3), kind, eps, False)


def box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    aligned: bool = False,
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise intersection over union (torchvision's ``box_iou``), or of aligned pairs.

    .. math::

        \mathrm{IoU}_{nm} = \frac{|B_n \cap B'_m|}{|B_n \cup B'_m| + \epsilon}

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
        >>> box_iou(a, b)
        tensor([[0.1429, 1.0000, 0.0000]])

    With ``aligned=True`` the boxes are matched pairs, ``(..., 4)`` and ``(..., 4)`` of the same
    shape, and the result is ``(...)`` (mmdetection's ``bbox_overlaps(..., is_aligned=True)``;
    the diagonal of the pairwise matrix, without computing the rest):

        >>> box_iou(b[:2], torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]]), aligned=True)
        tensor([0.1429, 1.0000])

    """
    if aligned:
        with error_context("box_iou", {"input": "boxes1", "target": "boxes2"}):
            p, t = _prepare_aligned("box_iou", boxes1, boxes2, box_format, eps, validate)
        return _box_metric(p, t, _IOU, eps, False)
    return _pairwise("box_iou", boxes1, boxes2, _IOU, box_format, eps, validate)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    r"""Convert ``(..., 4)`` boxes between the ``"xyxy"``, ``"xywh"`` and ``"cxcywh"`` formats.

    .. math::

        \text{xyxy} = (x_1, y_1, x_2, y_2), \quad
        \text{xywh} = (x_1, y_1, x_2 - x_1, y_2 - y_1), \quad
        \text{cxcywh} = (\tfrac{x_1 + x_2}{2}, \tfrac{y_1 + y_2}{2}, x_2 - x_1, y_2 - y_1)

    Args:
        boxes: ``(..., 4)`` real boxes in ``in_fmt``; any leading dimensions, empty allowed.
        in_fmt: the format of ``boxes``.
        out_fmt: the format of the result.

    Returns:
        ``(..., 4)`` in ``out_fmt``, the dtype of ``boxes``; differentiable. The same format in
        and out returns ``boxes`` itself.

    Raises:
        ValueError: an unknown format, or a last dimension other than 4.
        TypeError: ``boxes`` is not a real floating tensor.

    Example:
        >>> box_convert(torch.tensor([[1.0, 2.0, 5.0, 4.0]]), "xyxy", "cxcywh")
        tensor([[3., 3., 4., 2.]])
        >>> box_convert(torch.tensor([[3.0, 3.0, 4.0, 2.0]]), "cxcywh", "xywh")
        tensor([[1., 2., 4., 2.]])

    References:
        ``torchvision.ops.box_convert`` (same formats and semantics).
    """
    fn = "box_convert"
    check_floating(fn, "boxes", boxes)
    check_option(fn, "in_fmt", in_fmt, BOX_FORMATS)
    check_option(fn, "out_fmt", out_fmt, BOX_FORMATS)
    _check_last_dim(fn, "boxes", boxes)
    if in_fmt == out_fmt:
        return boxes
    xyxy = _to_xyxy(boxes, in_fmt)
    if out_fmt == "xyxy":
        return xyxy
    lo, hi = xyxy[..., :2], xyxy[..., 2:]
    if out_fmt == "xywh":
        return torch.cat([lo, hi - lo], dim=-1)
    return torch.cat([0.5 * (lo + hi), hi - lo], dim=-1)


def generalized_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise generalized IoU (Rezatofighi et al. 2019), in ``(-1, 1]``.

    .. math::

        \mathrm{GIoU}_{nm} = \mathrm{IoU}_{nm} - \frac{|C_{nm}| - U_{nm}}{|C_{nm}| + \epsilon}

    with :math:`C_{nm}` the smallest box enclosing both.

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> generalized_box_iou(a, torch.tensor([[1.0, 1.0, 2.0, 2.0]]))  # diagonal neighbours
        tensor([[-0.5000]])

    References:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and a Loss for
        Bounding Box Regression", CVPR 2019.

    """
    return _pairwise("generalized_box_iou", boxes1, boxes2, _GIOU, box_format, eps, validate)


def distance_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise distance IoU (Zheng et al. 2020), in ``(-1, 1]``.

    .. math::

        \mathrm{DIoU}_{nm} = \mathrm{IoU}_{nm} - \frac{\rho^2_{nm}}{c^2_{nm} + \epsilon}

    with :math:`\rho` the distance between the centres and :math:`c` the diagonal of the
    smallest enclosing box.

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> distance_box_iou(a, torch.tensor([[1.0, 0.0, 2.0, 1.0]]))  # touching side by side
        tensor([[-0.2000]])

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _pairwise("distance_box_iou", boxes1, boxes2, _DIOU, box_format, eps, validate)


def complete_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise complete IoU (Zheng et al. 2020): DIoU minus the aspect-ratio term.

    .. math::

        \mathrm{CIoU}_{nm} = \mathrm{DIoU}_{nm} - \alpha_{nm} v_{nm}, \quad
        v = \tfrac{4}{\pi^2}\big(\arctan\tfrac{w'_m}{h'_m} - \arctan\tfrac{w_n}{h_n}\big)^2,\quad
        \alpha = \frac{v}{1 - \mathrm{IoU} + v + \epsilon}

    (:math:`\alpha` is not differentiated).

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> complete_box_iou(a, torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 4.0, 2.0]]))
        tensor([[1.0000, 0.4468]])

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _pairwise("complete_box_iou", boxes1, boxes2, _CIOU, box_format, eps, validate)


# --------------------------------------------------------------------------------------------
# Aligned losses
# --------------------------------------------------------------------------------------------


def _aligned_loss(
    fn: str,
    input: Tensor,
    target: Tensor,
    kind: int,
    box_format: str,
    eps: float,
    weight: Tensor | None,
    reduction: str,
    validate: bool | None,
) -> Tensor:
    p, t = _prepare_aligned(fn, input, target, box_format, eps, validate)
    loss = _box_metric(p, t, kind, eps, True)
    return reduce_loss(loss, reduction, weight=weight, fn=fn)


def iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""IoU loss of aligned box pairs: :math:`1 - \mathrm{IoU}`.

    .. math::

        l_n = 1 - \frac{|B_n \cap B^{gt}_n|}{|B_n \cup B^{gt}_n| + \epsilon}

    Its gradient vanishes for disjoint boxes; :func:`generalized_box_iou_loss` and its successors
    fix that.

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
        >>> t = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]])
        >>> iou_loss(p, t, reduction="none")
        tensor([0.8571, 0.0000])

    References:
        Yu et al., "UnitBox: An Advanced Object Detection Network", ACM MM 2016.

    """
    return _aligned_loss(
        "iou_loss", input, target, _IOU, box_format, eps, weight, reduction, validate
    )


def generalized_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""GIoU loss of aligned box pairs (torchvision's ``generalized_box_iou_loss``), in ``[0, 2)``.

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{|C_n| - U_n}{|C_n| + \epsilon}

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> generalized_box_iou_loss(p, torch.tensor([[1.0, 1.0, 2.0, 2.0]]))
        tensor(1.5000)

    References:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and a Loss for
        Bounding Box Regression", CVPR 2019.

    """
    return _aligned_loss(
        "generalized_box_iou_loss",
        input,
        target,
        _GIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )


def distance_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""DIoU loss of aligned box pairs (torchvision's ``distance_box_iou_loss``), in ``[0, 2)``.

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{\rho^2(b_n, b^{gt}_n)}{c_n^2 + \epsilon}

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> distance_box_iou_loss(p, torch.tensor([[1.0, 0.0, 2.0, 1.0]]))
        tensor(1.2000)

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _aligned_loss(
        "distance_box_iou_loss",
        input,
        target,
        _DIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )


def complete_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""CIoU loss of aligned box pairs (torchvision's ``complete_box_iou_loss``).

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{\rho^2}{c^2 + \epsilon} + \alpha_n v_n, \quad
        v_n = \tfrac{4}{\pi^2}\Big(\arctan\tfrac{w^{gt}_n}{h^{gt}_n}
            - \arctan\tfrac{w_n}{h_n}\Big)^2, \quad
        \alpha_n = \frac{v_n}{1 - \mathrm{IoU}_n + v_n + \epsilon}

    :math:`\alpha` is held constant in the backward pass (the paper's and torchvision's choice);
    :math:`v` is differentiated exactly. The gradient is therefore not the derivative of the
    value (a finite-difference check disagrees by the :math:`v\,\partial\alpha` term). The
    arctangent difference stays finite for zero-height and zero-size boxes; ``eps``
    reaches every denominator (torchvision drops it on the DIoU part).

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> complete_box_iou_loss(p, torch.tensor([[0.0, 0.0, 4.0, 2.0]]))
        tensor(0.5532)

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020; Zheng et al., "Enhancing Geometric Factors in Model Learning
        and Inference for Object Detection and Instance Segmentation", IEEE TCYB 2021.

    """
    return _aligned_loss(
        "complete_box_iou_loss",
        input,
        target,
        _CIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )


# --------------------------------------------------------------------------------------------
# Non-maximum suppression
# --------------------------------------------------------------------------------------------

_NMS_BLOCK = 128


def _threshold_below(threshold: float, dtype: torch.dtype) -> float:
    """The largest value of ``dtype`` that is ``<= threshold``.

    For ``x`` of that dtype, ``x > result`` is exactly ``x > threshold`` compared in float64
    (torchvision's CPU kernel compares the float IoU with the double threshold; torch would
    otherwise round the threshold to the tensor's dtype first).
    """
    if dtype == torch.float64:
        return float(threshold)
    t32 = np.float32(threshold)
    if float(t32) > threshold:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    return float(t32)


def _suppression(rows: Tensor, cols: Tensor, threshold: float, method: str, beta: float) -> Tensor:
    """``(R, K)`` boolean: does row box suppress column box (overlap criterion > threshold)."""
    p = rows.t().unsqueeze(-1)  # (4, R, 1)
    t = cols.t().unsqueeze(-2)  # (4, 1, K)
    g = _geometry(p, t, _DIOU if method == "diou" else _IOU)
    score = g.inter / g.union  # torchvision's IoU: no eps
    if method == "diou":
        c2, ssd = _distance_terms(g, 0.0)
        ratio = (0.25 * ssd) / c2.clamp_min(1e-30)  # c == 0 only for one point: rho == 0
        score = score - (ratio if beta == 1.0 else ratio.pow(beta))
    return score > _threshold_below(threshold, score.dtype)


def _greedy_keep(
    boxes: Tensor,
    idxs: Tensor | None,
    threshold: float,
    method: str,
    beta: float,
) -> Tensor:
    """Greedy suppression over boxes already sorted by decreasing score; a boolean keep mask.

    Blocks of ``_NMS_BLOCK`` boxes: the rows of the suppression matrix of the block's
    surviving boxes are computed once against every surviving later box; inside the block the
    greedy keep is the fixed point of ``keep_i = ~any_{j<i}(keep_j & S_ji)`` (reached in at
    most block-size iterations, usually two or three); the kept boxes then suppress the later
    boxes in one reduction.
    """
    n = boxes.shape[0]
    removed = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    keep = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    for start in range(0, n, _NMS_BLOCK):
        end = min(start + _NMS_BLOCK, n)
        # survivors from `start` on; those of this block come first
        cols = torch.nonzero(~removed[start:]).flatten() + start
        r = int((cols < end).sum())
        if r == 0:
            continue
        over = _suppression(boxes[cols[:r]], boxes[cols], threshold, method, beta)
        if idxs is not None:
            over &= idxs[cols[:r], None] == idxs[None, cols]
        block = over[:, :r].triu(1)
        k = torch.ones(r, dtype=torch.bool, device=boxes.device)
        for _ in range(r + 1):
            nk = ~(block & k[:, None]).any(0)
            if torch.equal(nk, k):
                break
            k = nk
        keep[cols[:r]] = k
        if cols.numel() > r:
            removed[cols[r:]] = (over[:, r:] & k[:, None]).any(0)
    return keep


def _nms_impl(
    fn: str,
    boxes: Tensor,
    scores: Tensor,
    idxs: Tensor | None,
    iou_threshold: float,
    method: str,
    beta: float,
    box_format: str,
    validate: bool | None,
) -> Tensor:
    _real_boxes(fn, "boxes", boxes)
    check_floating(fn, "scores", scores)
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise fail(fn, f"boxes must have shape (N, 4), got {shape_str(boxes.shape)}")
    if scores.shape != boxes.shape[:1]:
        raise fail(
            fn,
            f"scores must have shape (N,) = {shape_str(boxes.shape[:1])}, got "
            f"{shape_str(scores.shape)}",
        )
    if idxs is not None:
        check_tensor(fn, "idxs", idxs)
        if idxs.is_floating_point() or idxs.is_complex():
            raise fail(fn, f"idxs must be an integer tensor, got dtype {idxs.dtype}", TypeError)
        if idxs.shape != boxes.shape[:1]:
            raise fail(
                fn,
                f"idxs must have shape (N,) = {shape_str(boxes.shape[:1])}, got "
                f"{shape_str(idxs.shape)}",
            )
    check_option(fn, "method", method, NMS_METHODS)
    check_option(fn, "box_format", box_format, BOX_FORMATS)
    check_positive(fn, "beta", beta)
    threshold = float(iou_threshold)
    if threshold != threshold:
        raise fail(fn, "iou_threshold must be a number, got nan")
    with torch.no_grad():
        b = _to_xyxy(boxes.detach().to(compute_dtype(boxes)), box_format)
        _check_valid(fn, "boxes", boxes, b, box_format, validate)
        if b.shape[0] == 0:
            return torch.empty(0, dtype=torch.int64, device=boxes.device)
        order = torch.sort(scores.detach(), descending=True, stable=True).indices
        sorted_idxs = idxs[order] if idxs is not None else None
        keep = _greedy_keep(b[order], sorted_idxs, threshold, method, float(beta))
        return order[keep]


def nms(
    boxes: Tensor,
    scores: Tensor,
    iou_threshold: float,
    *,
    method: str = "iou",
    beta: float = 1.0,
    box_format: str = "xyxy",
    validate: bool | None = None,
) -> Tensor:
    r"""Non-maximum suppression, plain (torchvision's ``nms``) or DIoU-NMS.

    Boxes are visited by decreasing score (equal scores in index order, as torchvision's stable
    sort); a visited box that has not been suppressed is kept and suppresses every later box
    ``j`` with

    .. math::

        \mathrm{IoU}(b_i, b_j) > \tau \quad (\texttt{method="iou"}), \qquad
        \mathrm{IoU}(b_i, b_j) - \Big(\frac{\rho^2(b_i, b_j)}{c^2}\Big)^{\beta} > \tau
        \quad (\texttt{method="diou"}).

    With ``method="iou"`` the IoU is computed exactly as torchvision's CPU kernel does
    (no ``eps``, the box dtype, the threshold compared in float64), so the kept indices are the
    same, ties included. The suppression matrix is computed in row blocks of 128 boxes (the
    block's surviving boxes against every surviving later box), and the greedy pass over a
    block is a tensor fixed-point iteration (no loop over box pairs; one Python iteration per
    block and fixed-point step, usually two or three per block).

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores, floating.
        iou_threshold: suppress when the criterion exceeds it.
        method: ``"iou"`` or ``"diou"``.
        beta: the DIoU-NMS exponent on the distance term, ``> 0`` (ignored by ``"iou"``).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``.

    Returns:
        int64 ``(K,)`` indices of the kept boxes, by decreasing score.

    Raises:
        ValueError: bad shapes, an unknown ``method``/``box_format``, ``beta <= 0``, or
            (validation on) an invalid box.
        TypeError: non-floating scores or non-real boxes.

    Example:
        >>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
        >>> nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
        tensor([0, 2])

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020 (DIoU-NMS).
    """
    return _nms_impl("nms", boxes, scores, None, iou_threshold, method, beta, box_format, validate)


def batched_nms(
    boxes: Tensor,
    scores: Tensor,
    idxs: Tensor,
    iou_threshold: float,
    *,
    method: str = "iou",
    beta: float = 1.0,
    box_format: str = "xyxy",
    validate: bool | None = None,
) -> Tensor:
    r"""Non-maximum suppression within each category (torchvision's ``batched_nms``).

    Boxes of different ``idxs`` never suppress each other; otherwise as :func:`nms`. The
    result equals running :func:`nms` per category and merging by decreasing score (ties in
    index order). torchvision's coordinate-offset shortcut can differ from this by rounding
    when an IoU lies within a few ulps of the threshold.

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        idxs: ``(N,)`` integer category of each box.
        iou_threshold: suppress when the criterion exceeds it.
        method: ``"iou"`` or ``"diou"``.
        beta: DIoU-NMS exponent, ``> 0``.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``.

    Returns:
        int64 ``(K,)`` indices of the kept boxes, by decreasing score.

    Raises:
        ValueError: bad shapes or options, or (validation on) an invalid box.
        TypeError: non-integer ``idxs``, non-floating scores or non-real boxes.

    Example:
        >>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]])
        >>> batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]), 0.5)
        tensor([0, 2])
    """
    return _nms_impl(
        "batched_nms", boxes, scores, idxs, iou_threshold, method, beta, box_format, validate
    )
