r"""Focal losses (Lin et al. 2017): sigmoid (binary / multi-label) and softmax (multi-class).

The focal loss scales the cross-entropy of each prediction by :math:`(1 - p_t)^\gamma`, where
:math:`p_t` is the probability the model gives to the true outcome, so that well-classified
examples contribute little and training concentrates on the hard ones. An optional factor
:math:`\alpha_t` balances positives against negatives (sigmoid) or weighs classes (softmax).

:func:`sigmoid_focal_loss` runs as one ``torch.autograd.Function`` with a hand-written backward:
it saves only its two inputs for the backward pass and recomputes the rest, working in place on
its own temporaries, instead of keeping the dozen full-size intermediates that the elementwise-op
formulation (torchvision, kornia) leaves in the autograd graph. Its backward is itself written in
differentiable operations, so second derivatives work (``create_graph=True``). On the CPU in
eager mode both passes run block by block (2^17 elements: large enough for torch's intra-op
threads to split each operation, small enough for the temporaries to stay in cache); under
``torch.compile`` and on other devices the same operations run on whole tensors (the compiler
fuses them).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .._core.checks import (
    check_class_dim,
    check_floating,
    check_index,
    check_integer,
    check_positive,
    check_probabilities,
    check_tensor,
    fail,
    prepare_pair,
    shape_str,
    transforming,
    validation_enabled,
    zero_one_residual,
)
from .._core.distributed import ProcessGroup, reduce_global
from .._core.dtypes import compute_dtype
from .._core.function import apply, derivative_times, save_with_derivative
from .._core.reduction import check_reduction

__all__ = ["sigmoid_focal_loss", "softmax_focal_loss"]


def _check_alpha_scalar(fn: str, alpha: float | None) -> None:
    if alpha is None:
        return
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise fail(
            fn, f"alpha must be a float in [0, 1] or None, got {type(alpha).__name__}", TypeError
        )
    if not 0.0 <= alpha <= 1.0:
        raise fail(fn, f"alpha must lie in [0, 1] or be None, got {alpha!r}")


def _check_gamma(fn: str, gamma: float) -> None:
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)):
        raise fail(fn, f"gamma must be a float >= 0, got {type(gamma).__name__}", TypeError)
    check_positive(fn, "gamma", float(gamma), allow_zero=True)


def _softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))``; the linear branch starts where ``log1p(exp(-x))`` is below the
    dtype's resolution of ``x`` (20 in float32, 40 in float64)."""
    return F.softplus(x, threshold=_threshold(x))


def _apply_alpha_(loss: Tensor, t: Tensor, alpha: float | None, inplace: bool) -> Tensor:
    r"""``loss * alpha_t`` with :math:`\alpha_t = \alpha t + (1-\alpha)(1-t)`, without building
    :math:`\alpha_t`: :math:`\alpha_t = (1-\alpha)(1 + c\,t)`, :math:`c = (2\alpha-1)/(1-\alpha)`.
    """
    if alpha is None:
        return loss
    if alpha == 1.0:
        return loss.mul_(t) if inplace else loss * t
    c = (2.0 * alpha - 1.0) / (1.0 - alpha)
    if inplace:
        if c != 0.0:
            loss.addcmul_(loss, t, value=c)
        return loss.mul_(1.0 - alpha)
    return loss * ((1.0 - alpha) + (2.0 * alpha - 1.0) * t)


_BLOCK = 1 << 18
"""Elements per block of the CPU eager path: the temporaries of one block (1 MiB each in
float32) stay in the last-level cache, so the two dozen passes over them cost far less than
passes over full-size tensors, and each operation is well above torch's intra-op grain (2^15),
so it runs on every thread. Measured on 2 idle cores at 2^22 elements, value and derivative
together, forward and backward: 2^17 blocks 27.1 ms, 2^18 blocks 24.2 ms, 2^19 blocks 24.6 ms
(fewer, larger blocks trade Python dispatch for cache misses)."""


def _blocked(x: Tensor) -> bool:
    """Whether to run block by block (CPU eager, more than one block, no torch.func transform)."""
    return (
        x.device.type == "cpu"
        and x.numel() > _BLOCK
        and not torch.compiler.is_compiling()
        and not transforming()
    )


def _threshold(x: Tensor) -> float:
    return 40.0 if x.dtype == torch.float64 else 20.0


def _terms(x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""``(ce, p, q)``: the cross-entropy, :math:`p = \sigma(x)` and :math:`q = \sigma(-x) = 1 - p`,
    each accurate in relative terms at both ends.

    Both sigmoids are computed (no ``1 - p`` cancellation), and with
    :math:`s = \min(p, q) = \sigma(-|x|) \le \tfrac12`,

    .. math:: \mathrm{ce} = \max(x, 0) - x\,t - \log(1 - s),

    whose first two terms are :math:`x(1-t) \ge 0` or :math:`-x t \ge 0` and whose last is
    :math:`\log(1 + e^{-|x|}) > 0`: a sum of non-negative terms, so a confident correct prediction
    (:math:`x = 30, t = 1`) gives :math:`e^{-30}` instead of the 0 that ``softplus(x) - x t``
    rounds to. For first-order use only (the ``|x|`` kink makes autograd through it wrong at
    exactly :math:`x = 0`); :func:`_smooth_terms` is the differentiable twin.
    """
    p, q = torch.sigmoid(x), torch.sigmoid(-x)
    ce = torch.addcmul(x.clamp_min(0.0), x, t, value=-1.0)
    return ce.sub_(torch.minimum(p, q).neg_().log1p_()), p, q


def _smooth_terms(x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`_terms` in operations autograd differentiates correctly everywhere (for double
    backward and for targets that need a gradient): two sigmoids and two softplus."""
    ce = t * _softplus(-x) + (1.0 - t) * _softplus(x)
    return ce, torch.sigmoid(x), torch.sigmoid(-x)


def _modulator(p: Tensor, q: Tensor, t: Tensor) -> Tensor:
    r""":math:`m = 1 - p_t = t\,q + (1 - t)\,p`: exact for hard targets at both ends."""
    return t * q + (1.0 - t) * p


def _focal_value(
    terms: tuple[Tensor, Tensor, Tensor], t: Tensor, alpha: float | None, gamma: float
) -> Tensor:
    r""":math:`\alpha_t\, m^\gamma\, \mathrm{ce}` from the terms."""
    ce, p, q = terms
    loss = ce
    if gamma != 0.0:
        loss = ce * _power(_modulator(p, q, t), gamma)
    return _apply_alpha_(loss, t, alpha, inplace=False)


def _power(m: Tensor, gamma: float) -> Tensor:
    if gamma == 1.0:
        return m
    if gamma == 2.0:
        return m * m
    if gamma < 1.0:
        # m^(gamma - 1) is infinite at m = 0 (a saturated, correct prediction), where the true
        # gradient is 0: keep the power finite (its factors there are 0).
        m = m.clamp_min(torch.finfo(m.dtype).tiny)
    return m.pow(gamma)


class _Scratch:
    """Block-sized buffers of the CPU eager path, reused by every block: the block loop then
    allocates nothing (fresh block-sized tensors would each cost an allocation and page faults,
    as much as the arithmetic)."""

    def __init__(self, n: int, dtype: torch.dtype) -> None:
        self.ce, self.p, self.q, self.m, self.u, self.v, self.w, self.k = (
            torch.empty(n, dtype=dtype) for _ in range(8)
        )
        self.one = torch.ones((), dtype=dtype)

    def residual(self, t: Tensor) -> tuple[float, float]:
        """:func:`zero_one_residual` of a block: ``low >= 0`` says every target lies in
        ``[0, 1]``, ``(0, 0)`` that every target is 0 or 1 (NaN fails both)."""
        return zero_one_residual(t, out=self.k[: t.numel()])

    def hard_block(
        self,
        x: Tensor,
        t: Tensor,
        out: Tensor,
        slope: Tensor | None,
        alpha: float | None,
        gamma: float,
        summed: bool,
        scale: float = 1.0,
    ) -> Tensor | None:
        r"""Value (into ``out``, or its sum times ``scale`` returned with ``summed``) and
        derivative (into ``slope``, times ``scale``) of a block of hard targets.

        With the signed logit :math:`z = (2t - 1)x`, :math:`u = \sigma(-z) = 1 - p_t` (the
        modulator, computed directly, so exact where the prediction is confident and correct)
        and :math:`v = 1 - u`:

        .. math::

            l = \alpha_t\,u^\gamma\,\mathrm{ce}, \quad
            \mathrm{ce} = \max(-z, 0) - \log(1 - \min(u, v)), \qquad
            \frac{\partial l}{\partial x} = f\,u^\gamma\,(\gamma\,v\,\mathrm{ce} + u),

        where :math:`f = -(2t - 1)\,\alpha_t` is :math:`(1 - \alpha) - t` for hard targets
        (:math:`1 - 2t` without ``alpha``; ``scale`` enters through it, in the same operation)
        and :math:`\alpha_t = |f|`: one sigmoid and one
        ``log1p`` per element, against two sigmoids for soft targets.
        :math:`v = 1 - u` loses relative precision only where :math:`u \approx 1`, where its
        term is negligible beside :math:`u`.
        """
        k = x.numel()
        mz, u, v, ce, w, f = self.q[:k], self.u[:k], self.v[:k], self.ce[:k], self.m[:k], self.p[:k]
        torch.addcmul(x, x, t, value=-2.0, out=mz)  # -z = (1 - 2t) x
        torch.sigmoid(mz, out=u)
        torch.sub(self.one, u, out=v)
        low = torch.minimum(u, v, out=w).neg_().log1p_()  # log(1 - min(u, v)) <= 0
        torch.clamp_min(mz, 0.0, out=ce).sub_(low)
        if slope is not None:
            # the bracket gamma v ce + u (gamma = 0: u)
            torch.addcmul(u, v, ce, value=gamma, out=slope)
        # pw = u^gamma (None: 1)
        pw: Tensor | None = None
        if gamma == 1.0:
            pw = u
        elif gamma == 2.0:
            pw = torch.mul(u, u, out=w)
        elif gamma != 0.0:
            pw = torch.pow(u, gamma, out=w)
        head = 1.0 if alpha is None else 1.0 - alpha
        # f = scale (1 - 2t) or scale ((1 - alpha) - t)
        torch.sub(
            self.one.new_full((), head * scale),
            t,
            alpha=(2.0 if alpha is None else 1.0) * scale,
            out=f,
        )
        # factor = scale alpha_t u^gamma (None: 1), the factor of ce in the value
        factor: Tensor | None
        if alpha is None and scale == 1.0:
            factor = pw
            if slope is not None:
                slope.mul_(f if pw is None else torch.mul(pw, f, out=v))
        else:
            signed = f if pw is None else pw.mul_(f)  # f u^gamma
            if slope is not None:
                slope.mul_(signed)
            factor = torch.abs(signed, out=v)  # scale alpha_t u^gamma
        if summed:
            return ce.sum() if factor is None else torch.dot(ce, factor)
        if factor is None:
            out.copy_(ce)
        else:
            torch.mul(ce, factor, out=out)
        return None

    def terms(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """:func:`_terms` of one block into the buffers, plus :math:`1 - t`."""
        k = x.numel()
        ce, p, q, u = self.ce[:k], self.p[:k], self.q[:k], self.u[:k]
        torch.sigmoid(x, out=p)
        torch.sigmoid(torch.neg(x, out=u), out=q)
        log_r = torch.minimum(p, q, out=u).neg_().log1p_()
        torch.clamp_min(x, 0.0, out=ce).addcmul_(x, t, value=-1.0).sub_(log_r)
        omt = torch.sub(1.0, t, out=u)
        return ce, p, q, omt

    def modulator(self, p: Tensor, q: Tensor, t: Tensor, omt: Tensor) -> Tensor:
        m = torch.mul(t, q, out=self.m[: p.numel()])
        return m.addcmul_(omt, p)


def _power_(m: Tensor, gamma: float) -> Tensor:
    """In place: ``m ** gamma`` (finite at 0 for ``gamma < 1``, as :func:`_power`)."""
    if gamma == 2.0:
        return m.mul_(m)
    if gamma < 1.0:
        m.clamp_min_(torch.finfo(m.dtype).tiny)
    return m if gamma == 1.0 else m.pow_(gamma)


def _focal_forward(
    x: Tensor,
    t: Tensor,
    alpha: float | None,
    gamma: float,
    with_slope: bool = True,
    summed: bool = False,
    validate: bool = False,
    scale: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """Unreduced sigmoid focal loss and its derivative with respect to the logits, from the
    same terms (block by block on the CPU in eager mode: the operations of
    :func:`_focal_value` and :func:`_focal_grad_of`, in place in the scratch buffers).
    ``with_slope=False`` (no gradient will be asked for) returns an empty derivative;
    ``summed`` returns the 0-dim sum of the loss instead (block by block: no input-sized loss
    tensor), and with ``scale`` (``1 / N`` for a mean) the sum and the derivative times
    ``scale`` (which then costs no pass of its own). ``validate`` checks that the targets lie
    in ``[0, 1]``: block by block on the blocked path, through the residual :math:`t - t^2`
    the path computes anyway to find the hard blocks (no separate pass over ``target``)."""
    fn = "sigmoid_focal_loss"
    if not _blocked(x):
        if validate:
            check_probabilities(fn, "target", t, validate=True)
        terms = _terms(x, t)
        value = _focal_value(terms, t, alpha, gamma)
        if summed:
            value = value.sum() * scale
        if not with_slope:
            return value, x.new_empty(0)
        slope = _focal_grad_of(terms, t, None, alpha, gamma)
        return value, slope if scale == 1.0 else slope.mul_(scale)
    xf, tf = x.reshape(-1), t.reshape(-1)
    out = torch.empty_like(xf) if not summed else None
    slope = torch.empty_like(xf) if with_slope else xf.new_empty(0)
    scratch = _Scratch(min(_BLOCK, xf.numel()), x.dtype)
    partials = []
    for start in range(0, xf.numel(), _BLOCK):
        sl = slice(start, start + _BLOCK)
        xb, tb = xf[sl], tf[sl]
        low, high = scratch.residual(tb)
        if validate and not low >= 0.0:
            # a target outside [0, 1] or NaN: the full check raises its usual error
            check_probabilities(fn, "target", t, validate=True)
        if low == 0.0 and high == 0.0:
            ob = out[sl] if out is not None else scratch.k[: xb.numel()]
            part = scratch.hard_block(
                xb, tb, ob, slope[sl] if with_slope else None, alpha, gamma, out is None, scale
            )
            if part is not None:
                partials.append(part)
            continue
        ob = out[sl] if out is not None else scratch.w[: xb.numel()]
        ce, p, q, omt = scratch.terms(xb, tb)
        g = torch.mul(omt, p, out=slope[sl]).addcmul_(tb, q, value=-1.0) if with_slope else None
        if gamma == 0.0:
            ob.copy_(ce)
        else:
            m = scratch.modulator(p, q, tb, omt)
            if gamma < 1.0:
                m.clamp_min_(torch.finfo(m.dtype).tiny)
            m_gm1 = (
                m if gamma in (1.0, 2.0) else torch.pow(m, gamma - 1.0, out=scratch.u[: xb.numel()])
            )
            # value: ce m^gamma
            torch.mul(ce, m, out=ob)
            if gamma != 1.0:
                ob.mul_(m_gm1)
            if g is not None:
                # slope: [(p - t) m + gamma ce p q (1 - 2t)] m^(gamma - 1)
                ce.mul_(p).mul_(q)
                ce.mul_(torch.mul(tb, -2.0, out=scratch.v[: xb.numel()]).add_(1.0))
                g.mul_(m).add_(ce, alpha=gamma)
                if gamma != 1.0:
                    g.mul_(m_gm1)
        if alpha is not None:
            at = _alpha_t(tb, alpha, scratch.v[: xb.numel()])
            ob.mul_(at)
            if g is not None:
                g.mul_(at)
        if g is not None and scale != 1.0:
            g.mul_(scale)
        if out is None:
            partials.append(ob.sum() * scale)
    value = out.view(x.shape) if out is not None else torch.stack(partials).sum()
    return value, slope.view(x.shape) if with_slope else slope


def _alpha_t(t: Tensor, alpha: float, out: Tensor) -> Tensor:
    r""":math:`\alpha_t = (1 - \alpha) + (2\alpha - 1)\,t` into ``out``."""
    return torch.mul(t, 2.0 * alpha - 1.0, out=out).add_(1.0 - alpha)


def _focal_grad_of(
    terms: tuple[Tensor, Tensor, Tensor],
    t: Tensor,
    grad: Tensor | None,
    alpha: float | None,
    gamma: float,
) -> Tensor:
    r"""Gradient of the unreduced sigmoid focal loss with respect to the logits, times ``grad``.

    .. math::

        \frac{\partial l}{\partial x} = \alpha_t\Big[(p - t)\,m^\gamma
            + \gamma\,\mathrm{ce}\,m^{\gamma-1}\,p\,q\,(1-2t)\Big],
        \qquad m = t\,q + (1-t)\,p,

    with :math:`p - t = (1 - t)\,p - t\,q` (exact at both ends, like the value).
    """
    ce, p, q = terms
    g = (1.0 - t) * p - t * q
    if gamma != 0.0:
        m = _modulator(p, q, t)
        if gamma < 1.0:
            m = m.clamp_min(torch.finfo(m.dtype).tiny)
        m_gm1 = m if gamma == 2.0 else m.pow(gamma - 1.0)
        bracket = g * m + gamma * (ce * p * q * (1.0 - 2.0 * t))
        g = bracket if gamma == 1.0 else bracket * m_gm1
    g = _apply_alpha_(g, t, alpha, inplace=False)
    return g if grad is None else g * grad


class _SigmoidFocal(torch.autograd.Function):
    """Unreduced sigmoid focal loss; its derivative is formed in the forward pass from the same
    terms (:func:`_focal_forward`) and returned as a non-differentiable output, so the backward
    pass is one product. A differentiated backward (``create_graph=True``, ``torch.func.grad``)
    recomputes it from ``input`` and ``target`` with the smooth terms."""

    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: Tensor,
        t: Tensor,
        alpha: float | None,
        gamma: float,
        with_slope: bool,
        summed: bool,
        validate: bool,
        scale: float,
    ) -> tuple[Tensor, Tensor]:
        return _focal_forward(x, t, alpha, gamma, with_slope, summed, validate, scale)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
        x, t, alpha, gamma, *_, scale = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        ctx.alpha = alpha
        ctx.gamma = gamma
        ctx.scale = scale  # 1/N of a mean formed in the kernel: the recomputed paths apply it too
        # The derivative is a private buffer (the caller drops that output): the first
        # backward pass multiplies it in place and hands it out as the gradient, with no fresh
        # input-sized allocation; a second pass (retain_graph) recomputes it.
        save_with_derivative(ctx, output[1], x, t)

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor | None, _unused: Tensor | None
    ) -> tuple[Tensor | None, None, None, None, None, None, None, None]:
        if grad is None or not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None, None, None
        x, t, *kept = ctx.saved_tensors
        # Grad mode is on in backward only when the backward itself is differentiated
        # (create_graph=True, torch.func.grad): then use the smooth terms.
        if torch.is_grad_enabled():
            scaled = grad if ctx.scale == 1.0 else grad * ctx.scale
            gx = _focal_grad_of(_smooth_terms(x, t), t, scaled, ctx.alpha, ctx.gamma)
        else:
            gx = derivative_times(
                ctx,
                kept,
                grad,
                lambda: _focal_forward(x, t, ctx.alpha, ctx.gamma, scale=ctx.scale)[1],
            )
        return gx, None, None, None, None, None, None, None


def _focal_composite(x: Tensor, t: Tensor, alpha: float | None, gamma: float) -> Tensor:
    """The same loss in plain autograd operations (used when ``target`` requires a gradient)."""
    return _focal_value(_smooth_terms(x, t), t, alpha, gamma)


def sigmoid_focal_loss(
    input: Tensor,
    target: Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Sigmoid focal loss (RetinaNet) on logits, for binary and multi-label targets.

    .. math::

        l_n = -\alpha_t\,(1 - p_t)^\gamma \log p_t, \qquad
        p_t = p\,t + (1-p)(1-t), \quad \alpha_t = \alpha\,t + (1-\alpha)(1-t),
        \quad p = \sigma(x_n)

    computed as :math:`\alpha_t (1-p_t)^\gamma\,\mathrm{BCE}(x, t)` with the cross-entropy in the
    stable softplus form; soft targets :math:`t \in [0, 1]` use the same expression.
    ``alpha=None`` drops :math:`\alpha_t`; ``gamma=0`` is the (α-weighted)
    :func:`sigmoid_cross_entropy`, gradient included. Values equal
    ``torchvision.ops.sigmoid_focal_loss`` and optax ``sigmoid_focal_loss``; Keras'
    ``binary_focal_crossentropy(from_logits=True, apply_class_balancing=..., alpha, gamma)`` is the
    ``"none"`` result averaged over the last axis.

    The loss is one autograd function that forms the derivative in the forward pass, from the
    same terms as the value, and keeps it for a backward pass of one product (one tensor of the
    input's size saved besides ``input`` and ``target``); it is differentiable twice with
    respect to ``input``. A ``target`` that requires a
    gradient is differentiated too (through plain autograd operations).

    Args:
        input: logits ``[*]``, floating.
        target: targets in ``[0, 1]`` (binary or soft), same shape as ``input``.
        alpha: weight of the positive term in ``[0, 1]`` (negatives get ``1 - alpha``), or
            ``None`` for no balancing.
        gamma: focusing parameter ``>= 0``.
        weight: optional weights broadcastable to ``[*]``, multiplying the unreduced loss.
        reduction: ``"none" | "mean" | "sum"``; ``"mean"`` divides by the number of elements.
        validate: check that ``target`` lies in ``[0, 1]`` (which also catches arguments passed
            labels first); ``None`` follows :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` and ``"sum"`` then run over every rank's elements (see
            :mod:`losskit.distributed`); ``None``: this process's batch only.

    Returns:
        ``[*]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, ``alpha`` outside ``[0, 1]``, ``gamma < 0``, ``target``
            outside ``[0, 1]`` (when validating), unknown reduction.
        TypeError: ``input`` is not floating.

    Example:
        >>> x = torch.tensor([3.0, -1.0, 0.5])
        >>> t = torch.tensor([1.0, 0.0, 1.0])
        >>> sigmoid_focal_loss(x, t, reduction="none")
        tensor([2.7321e-05, 1.6994e-02, 1.6893e-02])
        >>> sigmoid_focal_loss(x, t, alpha=None, gamma=0.0, reduction="none")  # plain BCE
        tensor([0.0486, 0.3133, 0.4741])

    References:
        Lin, Goyal, Girshick, He, Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    fn = "sigmoid_focal_loss"
    _check_alpha_scalar(fn, alpha)
    _check_gamma(fn, gamma)
    x, t = prepare_pair(fn, input, target)
    a = None if alpha is None else float(alpha)
    g = float(gamma)
    # A target that needs a gradient goes through plain autograd operations.
    if t.requires_grad:
        check_probabilities(fn, "target", t, validate=validate)
        loss = _focal_composite(x, t, a, g)
    else:
        check_reduction(reduction, fn=fn)
        wanted = torch.is_grad_enabled() and x.requires_grad
        # "mean" and "sum" without weights: the kernel sums block by block (no loss tensor).
        summed = reduction in ("mean", "sum") and weight is None
        # The kernel checks the targets itself (on the blocked path, within its own pass).
        checked = validation_enabled(validate) and t.numel() > 0
        # A local mean is formed in the kernel: 1/N enters the derivative in an operation it
        # has anyway, and a plain backward() then passes a gradient of exactly 1 (no pass).
        local_mean = summed and reduction == "mean" and process_group is None and x.numel() > 0
        scale = 1.0 / x.numel() if local_mean else 1.0
        loss, _ = apply(_SigmoidFocal, x, t, a, g, wanted, summed, checked, scale)
        if local_mean:
            return loss
        if summed:
            return reduce_global(loss, reduction, process_group, divisor=float(x.numel()), fn=fn)
    return reduce_global(loss, reduction, process_group, weight=weight, fn=fn)


def _class_alpha(
    fn: str,
    alpha: float | Tensor | None,
    num_classes: int,
    dtype: torch.dtype,
    device: torch.device,
) -> float | Tensor | None:
    if alpha is None or isinstance(alpha, Tensor):
        if isinstance(alpha, Tensor):
            if not alpha.is_floating_point():
                raise fail(
                    fn,
                    f"alpha must be a floating point tensor, got dtype {alpha.dtype}",
                    TypeError,
                )
            if alpha.shape != (num_classes,):
                raise fail(
                    fn,
                    f"alpha must be a float or a tensor of shape ({num_classes},) (one value "
                    f"per class), got shape {shape_str(alpha.shape)}",
                )
            return alpha.to(device=device, dtype=dtype)
        return None
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise fail(
            fn,
            f"alpha must be None, a float or a per-class tensor, got {type(alpha).__name__}",
            TypeError,
        )
    check_positive(fn, "alpha", float(alpha), allow_zero=True)
    return float(alpha)


def softmax_focal_loss(
    input: Tensor,
    target: Tensor,
    *,
    dim: int = 1,
    alpha: float | Tensor | None = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Multi-class focal loss on logits with integer class labels.

    .. math::

        l_n = -\alpha_{y_n}\,(1 - p_{n,y_n})^\gamma \log p_{n,y_n},
        \qquad \log p_{n} = \operatorname{log\_softmax}(x_n)

    with :math:`1 - p = -\operatorname{expm1}(\log p)` (accurate when :math:`p \to 1`).
    ``alpha`` is ``None`` (no factor), a float (every class, as Keras'
    ``categorical_focal_crossentropy``) or a tensor of one value per class. Positions whose label
    equals ``ignore_index`` contribute 0 and are not counted by ``"mean"``, which divides by the
    number of the other positions (``alpha`` and ``weight`` do not change the divisor). With
    ``gamma=0`` and ``alpha=None`` this is :func:`sparse_softmax_cross_entropy`.

    Args:
        input: logits ``[N, C, *]`` (classes along ``dim``), floating.
        target: class labels, ``input``'s shape without ``dim``, integer.
        dim: the class dimension.
        alpha: ``None``, a float ``>= 0``, or a tensor ``[C]``.
        gamma: focusing parameter ``>= 0``.
        ignore_index: label value that is skipped.
        weight: optional weights broadcastable to the unreduced loss ``[N, *]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that labels lie in ``[0, C)`` (or equal ``ignore_index``); ``None``
            follows :func:`losskit.set_validation`.
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` divides the sum over every rank by the number of counted positions of
            every rank (see :mod:`losskit.distributed`); ``None``: this process's batch only.

    Returns:
        ``[N, *]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: target shape, labels out of range, bad ``alpha``/``gamma``, reduction.
        TypeError: ``input`` not floating or ``target`` not integer.

    Example:
        >>> x = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> softmax_focal_loss(x, torch.tensor([0, 2]), reduction="none")
        tensor([0.0041, 0.4883])

    References:
        Lin, Goyal, Girshick, He, Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    fn = "softmax_focal_loss"
    _check_gamma(fn, gamma)
    check_floating(fn, "input", input)
    check_tensor(fn, "target", target)
    check_integer(fn, "target", target, hint="softmax_focal_loss takes class labels")
    d = check_class_dim(fn, input, dim)
    expected = input.shape[:d] + input.shape[d + 1 :]
    if target.shape != expected:
        raise fail(
            fn,
            f"target must have input's shape without dim {d}, {shape_str(expected)}, got "
            f"{shape_str(target.shape)}",
        )
    num_classes = input.shape[d]
    dtype = compute_dtype(input)
    x = input.to(dtype)
    a = _class_alpha(fn, alpha, num_classes, dtype, x.device)
    check_index(fn, "target", target, num_classes, ignore_index=ignore_index, validate=validate)
    valid = target != ignore_index
    labels = torch.where(valid, target, torch.zeros_like(target)).long().unsqueeze(d)
    log_pt = F.log_softmax(x, dim=d).gather(d, labels).squeeze(d)
    loss = -log_pt
    g = float(gamma)
    if g != 0.0:
        one_minus = -torch.expm1(log_pt)
        if g < 1.0:
            one_minus = one_minus.clamp_min(torch.finfo(dtype).tiny)
        loss = loss * one_minus.pow(g)
    if isinstance(a, Tensor):
        loss = loss * a[labels.squeeze(d)]
    elif a is not None:
        loss = loss * a
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    return reduce_global(loss, reduction, process_group, weight=weight, divisor=valid.sum(), fn=fn)
