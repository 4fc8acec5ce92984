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

import torch
from torch import Tensor

from .._core.checks import (
    check_option,
    check_positive,
    check_tensor,
    fail,
    prepare_pair,
    shape_str,
    transforming,
    validation_enabled,
)
from .._core.function import apply, hold, release

__all__ = ["BOX_FORMATS", "NMS_METHODS"]

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
        # Fast path: one subtraction, one minimum, one host sync (NaN falls through).
        if bool((xyxy[..., 2:] - xyxy[..., :2]).amin() >= 0):
            return
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
    # atan2 with a positive second argument is atan(cross / dot), in one operation without the
    # division's rounding.
    return torch.atan2(cross, dot.clamp_min(1e-30))


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
    p: Tensor,
    t: Tensor,
    grad: Tensor | float,
    kind: int,
    eps: float,
    need_t: bool,
    with_value: bool = False,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Hand-written gradient of ``_metric`` (times ``grad``) w.r.t. the corner planes.

    With the partial derivatives of the metric: ``G_I = D_I - D_U`` for the intersection
    (which enters ``U`` with a minus sign), ``D_U`` for each area ``w h``, ``D_C`` (GIoU) or
    ``D_{c^2}`` (DIoU, CIoU) for the enclosing box, ``D_{rho^2}`` for the centre distance and
    ``-alpha dv`` for the aspect term. Each corner is the inner one of its pair (it bounds the
    intersection) or the outer one (it bounds the enclosing box). Returns ``(4, ...)`` gradients
    for ``p`` (and ``t``), and with ``with_value`` the metric itself from the same
    intermediates (the forward pass that also forms the gradient).
    """
    g = _geometry(p, t, kind, offsets=True)
    ud = g.union + eps
    iou = g.inter / ud
    gi = grad / ud  # dIoU/dI
    du = -iou * gi  # dIoU/dU
    gc: tuple[Tensor, Tensor] | None = None  # gradient on the enclosing extents (cw, ch)
    rd: Tensor | None = None  # gradient on each corner from the centre distance
    q: Tensor | None = None  # -alpha dv/dtheta_p (CIoU)
    value = iou if with_value else None
    if kind == _GIOU:
        assert g.cwh is not None
        area_c = g.cwh[0] * g.cwh[1]
        ce = area_c + eps
        rce = grad / ce
        du = du + rce
        d_c = (-ud / ce) * rce  # D_C = -(U + eps) / (C + eps)^2
        gc = (g.cwh[1] * d_c, g.cwh[0] * d_c)
        if with_value:
            value = iou - (area_c - g.union) / ce
    elif kind in (_DIOU, _CIOU):
        assert g.cwh is not None and g.d is not None
        c2, ssd = _distance_terms(g, eps)
        k = grad / c2
        ratio = ssd / c2
        e = (0.5 * ratio) * k  # 2 D_{c^2} with D_{c^2} = rho^2 / c^4
        gc = (g.cwh[0] * e, g.cwh[1] * e)
        rd = g.d * (-0.5 * k)  # D_{rho^2} d(rho^2)/d(corner) = -(1/c^2) (d / 2)
        if with_value:
            value = torch.sub(iou, ratio, alpha=0.25)  # IoU - rho^2 / c^2
        if kind == _CIOU:
            delta = _aspect_delta(g.wh_p, g.wh_t)
            v = _FOUR_OVER_PI2 * delta.square()
            alpha = _alpha(v, iou, eps)
            q = (2 * _FOUR_OVER_PI2) * (alpha * delta) * grad
            if value is not None:
                value = torch.addcmul(value, alpha, v, value=-1)
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
    return grad_p, grad_t, value


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
        and not transforming()
        and not torch.is_grad_enabled()
    )


class _BoxMetric(torch.autograd.Function):
    """``metric(p, t)`` (or ``1 - metric`` when ``as_loss``) for ``(..., 4)`` corner boxes that
    broadcast against each other.

    The kernel works on contiguous coordinate planes ``(4, ...)``. On the CPU, large aligned
    inputs are processed in chunks of ``_CHUNK`` boxes so that the temporaries stay in cache,
    and the ``(n, 4) <-> (4, n)`` transposes go through an exact identity matrix product (a
    strided copy is several times slower); the arithmetic is the same. There, with ``want_p``
    / ``want_t`` (CIoU, when a gradient can be asked for), the forward pass forms the
    derivative of every box from the same geometry as the value (:func:`_metric_grads`) and
    keeps it, and the first backward pass multiplies it in place by the incoming gradient: one
    geometry pass instead of two, one input-sized tensor held per box argument. Otherwise only
    ``p`` and ``t`` are saved and the backward pass recomputes the geometry. :mod:`torch.func`
    transforms (``vmap``, ``grad``) run the one-pass kernel through the generated vmap rule.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        p: Tensor, t: Tensor, kind: int, eps: float, as_loss: bool, want_p: bool, want_t: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        if not _chunked(p, t):
            m = _metric(_planes(p), _planes(t), kind, eps)
            return (1 - m if as_loss else m), p.new_empty(0), p.new_empty(0)
        pf, tf = p.reshape(-1, 4), t.reshape(-1, 4)
        eye = torch.eye(4, dtype=p.dtype, device=p.device)
        out = torch.empty(pf.shape[0], dtype=p.dtype, device=p.device)
        grad_p = torch.empty_like(pf) if want_p else None
        grad_t = torch.empty_like(tf) if want_t else None
        sign = -1.0 if as_loss else 1.0
        for s in range(0, pf.shape[0], _CHUNK):
            e = s + _CHUNK
            pc, tc = eye.mm(pf[s:e].t()), eye.mm(tf[s:e].t())
            if grad_p is None and grad_t is None:
                m = _metric(pc, tc, kind, eps)
            else:
                gp, gt, value = _metric_grads(pc, tc, sign, kind, eps, want_t, with_value=True)
                assert value is not None
                m = value
                if grad_p is not None:
                    torch.mm(gp.t(), eye, out=grad_p[s:e])
                if grad_t is not None and gt is not None:
                    torch.mm(gt.t(), eye, out=grad_t[s:e])
            if as_loss:
                torch.sub(1, m, out=out[s:e])
            else:
                out[s:e] = m
        return (
            out.view(p.shape[:-1]),
            grad_p.view(p.shape) if grad_p is not None else p.new_empty(0),
            grad_t.view(t.shape) if grad_t is not None else p.new_empty(0),
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, ...]) -> None:
        p, t, kind, eps, as_loss, _, _ = inputs
        _, grad_p, grad_t = output
        ctx.mark_non_differentiable(grad_p, grad_t)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(p, t)
        ctx.kind, ctx.eps, ctx.as_loss = kind, eps, as_loss
        formed = grad_p.numel() or grad_t.numel()
        if not (formed and hold(ctx, (grad_p, grad_t))):
            ctx.held = None

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, *_unused: Tensor | None) -> tuple[Any, ...]:
        if grad is None:
            return None, None, None, None, None, None, None
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        held = None if torch.is_grad_enabled() else release(ctx)
        if held is not None and (held[0].numel() or not need_p) and (held[1].numel() or not need_t):
            # The derivatives formed in the forward pass, times the incoming gradient.
            g = grad.unsqueeze(-1)
            grad_p = held[0].mul_(g) if need_p else None
            grad_t = held[1].mul_(g) if need_t else None
            return grad_p, grad_t, None, None, None, None, None
        return (*_recomputed_grads(ctx, p, t, grad, need_p, need_t), None, None, None, None, None)


def _recomputed_grads(
    ctx: Any, p: Tensor, t: Tensor, grad: Tensor, need_p: bool, need_t: bool
) -> tuple[Tensor | None, Tensor | None]:
    """The backward pass from the saved boxes: the geometry again, then the gradients."""
    grad_p: Tensor | None = None
    grad_t: Tensor | None = None
    if not _chunked(p, t):
        if ctx.as_loss:
            grad = -grad
        gp, gt, _ = _metric_grads(_planes(p), _planes(t), grad, ctx.kind, ctx.eps, need_t)
        if need_p:
            grad_p = gp.movedim(0, -1).sum_to_size(p.shape)
        if gt is not None:
            grad_t = gt.movedim(0, -1).sum_to_size(t.shape)
        return grad_p, grad_t
    pf, tf, gf = p.reshape(-1, 4), t.reshape(-1, 4), grad.expand(p.shape[:-1]).reshape(-1)
    eye = torch.eye(4, dtype=p.dtype, device=p.device)
    if need_p:
        grad_p = torch.empty_like(pf)
    if need_t:
        grad_t = torch.empty_like(tf)
    for s in range(0, pf.shape[0], _CHUNK):
        e = s + _CHUNK
        gc = -gf[s:e] if ctx.as_loss else gf[s:e]  # negated per chunk: no full-size copy
        gp, gt, _ = _metric_grads(
            eye.mm(pf[s:e].t()), eye.mm(tf[s:e].t()), gc, ctx.kind, ctx.eps, need_t
        )
        if grad_p is not None:
            torch.mm(gp.t(), eye, out=grad_p[s:e])
        if grad_t is not None and gt is not None:
            torch.mm(gt.t(), eye, out=grad_t[s:e])
    return (
        grad_p.view(p.shape) if grad_p is not None else None,
        grad_t.view(t.shape) if grad_t is not None else None,
    )


def _planes(boxes: Tensor) -> Tensor:
    """``(..., 4)`` boxes as contiguous coordinate planes ``(4, ...)``."""
    return boxes.movedim(-1, 0).contiguous()


def _box_metric(p: Tensor, t: Tensor, kind: int, eps: float, as_loss: bool) -> Tensor:
    """The metric (or loss) of corner boxes that broadcast against each other, safe against
    overflow: see :func:`_rescaled`."""
    p, t = _rescaled(p, t)
    # Only CIoU forms its derivative in the forward pass (see _BoxMetric): recomputing its
    # geometry costs the most (the aspect angle), and the derivative it keeps, 4 numbers a box,
    # is well under the memory the elementwise formulation saves; for IoU, GIoU and DIoU it
    # would not be, so they keep the inputs only.
    form = kind == _CIOU and torch.is_grad_enabled()
    out, _, _ = apply(
        _BoxMetric, p, t, kind, eps, as_loss, form and p.requires_grad, form and t.requires_grad
    )
    return out


def _rescaled(p: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    r"""Pairs of boxes whose coordinates would overflow the areas, divided by a common factor.

    Areas and squared diagonals grow as the square of the coordinates: in float32 they overflow
    beyond about 1e19, where the metric would be ``inf / inf = NaN``. Every metric is scale-free
    (up to ``eps``), so each pair whose largest coordinate magnitude exceeds
    :math:`\sqrt{\max}/4` of the dtype is divided by a factor bringing it to that bound (a
    constant for autograd). Other pairs are untouched, and in eager mode nothing is computed
    beyond one maximum when no coordinate is that large.
    """
    if p.numel() == 0 or t.numel() == 0:
        return p, t
    safe = math.sqrt(torch.finfo(p.dtype).max) / 4.0
    with torch.no_grad():
        eager = not (torch.compiler.is_compiling() or transforming())
        if eager:  # one min/max pass per tensor and one host sync when nothing is that large
            bounds = torch.stack([*torch.aminmax(p), *torch.aminmax(t)])
            if not bool(bounds.abs().amax() > safe):
                return p, t
        mp, mt = p.abs().amax(-1, keepdim=True), t.abs().amax(-1, keepdim=True)
        largest = torch.maximum(mp, mt)
        scale = torch.where(largest > safe, safe / largest, 1.0)
    return p * scale, t * scale
