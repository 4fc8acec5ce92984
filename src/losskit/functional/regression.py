r"""Regression losses: MSE, MAE, L1/L2 distances, Huber, smooth L1, log-cosh and relatives.

All functions take ``(input, target)`` of the same shape (no broadcasting), compute in at least
float32 and reduce with the shared reduction (``"none" | "mean" | "sum"``). ``weight``, where
given, multiplies the unreduced loss and must broadcast to its shape; ``"mean"`` then divides the
weighted sum by the number of elements of the unreduced loss (as ``torch.nn.functional`` does for
``binary_cross_entropy_with_logits``; the TensorFlow and Keras dialects have their own divisors).

Names differ between frameworks; losskit keeps the survey's meaning:

* :func:`mae_loss` is PyTorch's ``l1_loss`` (mean absolute error); :func:`l1_loss` is the survey's
  L1 *distance*, the sum of absolute errors along ``dim``.
* :func:`l2_loss` is the survey's L2 distance, :math:`\sqrt{\sum e^2}` along ``dim``.
  ``tf.nn.l2_loss`` is :math:`\tfrac12\sum e^2` over everything and optax's ``l2_loss`` is the
  elementwise :math:`\tfrac12 e^2`; for those, use ``0.5 * mse_loss(..., reduction="sum")`` and
  ``0.5 * mse_loss(..., reduction="none")``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .._core.checks import (
    check_dim,
    check_in_range,
    check_positive,
    fail,
    prepare_pair,
    transforming,
)
from .._core.function import apply, derivative_times, save_with_derivative
from .._core.reduction import reduce_loss

__all__ = [
    "cosine_similarity_loss",
    "huber_loss",
    "l1_loss",
    "l2_loss",
    "log_cosh_loss",
    "mae_loss",
    "mape_loss",
    "mse_loss",
    "msle_loss",
    "poisson_loss",
    "quantile_loss",
    "smooth_l1_loss",
]

_LOG2 = math.log(2.0)


def mse_loss(
    input: Tensor, target: Tensor, *, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Mean squared error.

    .. math::

        \ell(x, y) = \{l_1, \dots, l_N\}, \qquad l_n = (x_n - y_n)^2

    reduced as described in :mod:`losskit.functional.regression` (``"mean"`` is the MSE, its
    square root the RMSE).

    Args:
        input: predictions, any shape ``[*]``, floating.
        target: targets, same shape as ``input``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Returns:
        The loss, ``[*]`` for ``"none"`` else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, or an unknown reduction.
        TypeError: ``input`` is not floating.

    Example:
        >>> errors = torch.tensor([0.0, 1.0, -2.0, -0.5, 1.5])
        >>> mse_loss(errors, torch.zeros(5)).sqrt()  # the survey's RMSE table
        tensor(1.2247)

    See also :class:`losskit.nn.MSELoss`; equals :func:`torch.nn.functional.mse_loss`.

    References:
        ``torch.nn.functional.mse_loss``; ``tf.compat.v1.losses.mean_squared_error``.
    """
    x, y = prepare_pair("mse_loss", input, target)
    loss = F.mse_loss(x, y, reduction="none")
    return reduce_loss(loss, reduction, weight=weight, fn="mse_loss")


def mae_loss(
    input: Tensor, target: Tensor, *, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Mean absolute error (PyTorch's ``l1_loss``).

    .. math::

        l_n = |x_n - y_n|

    Args:
        input: predictions ``[*]``, floating.
        target: targets, same shape.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Returns:
        ``[*]`` for ``"none"``, else a scalar.

    Example:
        >>> errors = torch.tensor([0.0, 1.0, 1.0, -2.0, 15.0])
        >>> mae_loss(errors, torch.zeros(5))  # the survey's MAE table
        tensor(3.8000)

    The gradient at zero error is 0 (the subgradient torch uses). Equals
    :func:`torch.nn.functional.l1_loss`; see :class:`losskit.nn.MAELoss`.

    References:
        ``torch.nn.functional.l1_loss``; ``tf.compat.v1.losses.absolute_difference``.
    """
    x, y = prepare_pair("mae_loss", input, target)
    loss = F.l1_loss(x, y, reduction="none")
    return reduce_loss(loss, reduction, weight=weight, fn="mae_loss")


def l1_loss(
    input: Tensor,
    target: Tensor,
    *,
    dim: int | None = -1,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""L1 (Manhattan) distance between prediction and target along ``dim``.

    .. math::

        l = \sum_{d} |x_{\cdot d} - y_{\cdot d}|

    This is the survey's L1 loss: the *sum* of absolute errors of each sample. For PyTorch's
    ``torch.nn.functional.l1_loss`` (the mean absolute error) use :func:`mae_loss`.

    Args:
        input: predictions ``[*, D, *]``, floating.
        target: targets, same shape.
        dim: the dimension summed over; ``None`` sums over every element (one scalar distance).
        weight: optional weights broadcastable to the unreduced shape (``input`` without ``dim``).
        reduction: ``"none" | "mean" | "sum"`` over the per-sample distances.

    Returns:
        Distances of shape ``input.shape`` without ``dim`` for ``"none"``, else a scalar.

    Example:
        >>> x = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
        >>> l1_loss(x, torch.zeros(2, 2), reduction="none")
        tensor([3., 1.])

    References:
        The survey's L1 loss (sum of absolute errors); ``torch.cdist(..., p=1)`` of the pair.
    """
    x, y = prepare_pair("l1_loss", input, target)
    d = check_dim("l1_loss", "input", x, dim)
    err = (x - y).abs()
    loss = err.sum() if d is None else err.sum(dim=d)
    return reduce_loss(loss, reduction, weight=weight, fn="l1_loss")


def _magnitude(v: Tensor, d: int | None) -> Tensor:
    """``max |v|`` along ``d`` (over everything for ``None``), without gradient; 1 where it is 0
    or the dimension is empty."""
    if d is None:
        if v.numel() == 0:
            return v.new_ones(())
        m = v.detach().abs().amax()
    elif v.shape[d] == 0:
        return v.new_ones(v.shape[:d] + v.shape[d + 1 :])
    else:
        m = v.detach().abs().amax(dim=d)
    return torch.where(m > 0, m, torch.ones_like(m))


def l2_loss(
    input: Tensor,
    target: Tensor,
    *,
    dim: int | None = -1,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""L2 (Euclidean) distance between prediction and target along ``dim``.

    .. math::

        l = \sqrt{\sum_{d} (x_{\cdot d} - y_{\cdot d})^2}

    This is the survey's L2 loss (sum of squares, then square root). It is not ``tf.nn.l2_loss``
    (:math:`\tfrac12\sum e^2`) nor optax's ``l2_loss`` (:math:`\tfrac12 e^2` elementwise). The
    gradient at zero error is 0, not NaN; the norm is computed with overflow-safe scaling.

    Args:
        input: predictions ``[*, D, *]``, floating.
        target: targets, same shape.
        dim: the dimension of the vectors; ``None`` takes all elements as one vector.
        weight: optional weights broadcastable to the unreduced shape.
        reduction: ``"none" | "mean" | "sum"`` over the distances.

    Returns:
        Distances of shape ``input.shape`` without ``dim`` for ``"none"``, else a scalar.

    Example:
        >>> x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
        >>> l2_loss(x, torch.zeros(2, 2), reduction="none")
        tensor([5., 0.])

    References:
        The survey's L2 loss (square root of the sum of squares); ``torch.linalg.vector_norm``
        of the error. ``tf.nn.l2_loss`` (sum/2) and optax ``l2_loss`` (½·squared) differ.
    """
    x, y = prepare_pair("l2_loss", input, target)
    d = check_dim("l2_loss", "input", x, dim)
    err = x - y
    # Scale by the largest magnitude (a constant for autograd) so that squares cannot overflow
    # or underflow; an all-zero or empty error keeps scale 1 (an empty vector has norm 0).
    scale = _magnitude(err, d)
    unscaled = err / (scale if d is None else scale.unsqueeze(d))
    loss = torch.linalg.vector_norm(unscaled, ord=2, dim=d) * scale
    return reduce_loss(loss, reduction, weight=weight, fn="l2_loss")


def huber_loss(
    input: Tensor,
    target: Tensor,
    *,
    delta: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Huber loss: quadratic near zero, linear beyond ``delta``.

    .. math::

        l_n = \begin{cases}
            \tfrac12 e_n^2 & |e_n| \le \delta \\
            \delta\,(|e_n| - \tfrac12\delta) & \text{otherwise}
        \end{cases}, \qquad e_n = x_n - y_n

    Equals :func:`torch.nn.functional.huber_loss`, ``tf.losses.huber_loss`` and Keras ``huber``
    (before their own reductions). ``huber_loss(delta=d) == d * smooth_l1_loss(beta=d)``.

    Args:
        input: predictions ``[*]``, floating.
        target: targets, same shape.
        delta: the switch point, ``> 0``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Example:
        >>> huber_loss(torch.tensor([0.5, 3.0]), torch.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])

    References:
        Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_positive("huber_loss", "delta", delta)
    x, y = prepare_pair("huber_loss", input, target)
    loss = F.huber_loss(x, y, reduction="none", delta=float(delta))
    return reduce_loss(loss, reduction, weight=weight, fn="huber_loss")


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    *,
    beta: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Smooth L1 loss (Fast R-CNN): Huber divided by ``beta``.

    .. math::

        l_n = \begin{cases}
            \tfrac12 e_n^2 / \beta & |e_n| < \beta \\
            |e_n| - \tfrac12\beta & \text{otherwise}
        \end{cases}

    ``beta=0`` is the absolute error. Equals :func:`torch.nn.functional.smooth_l1_loss`.

    Args:
        input: predictions ``[*]``, floating.
        target: targets, same shape.
        beta: the switch point, ``>= 0``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Example:
        >>> smooth_l1_loss(torch.tensor([0.5, 3.0]), torch.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])

    References:
        Girshick, "Fast R-CNN", ICCV 2015.
    """
    check_positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    x, y = prepare_pair("smooth_l1_loss", input, target)
    loss = F.smooth_l1_loss(x, y, reduction="none", beta=float(beta))
    return reduce_loss(loss, reduction, weight=weight, fn="smooth_l1_loss")


def log_cosh_loss(
    input: Tensor, target: Tensor, *, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Log-cosh loss, computed without overflow.

    .. math::

        l_n = \log\cosh(e_n) = |e_n| + \operatorname{softplus}(-2|e_n|) - \log 2

    Behaves like :math:`e^2/2` for small errors and :math:`|e| - \log 2` for large ones; its
    gradient is :math:`\tanh(e)`. The naive ``log(cosh(e))`` overflows at :math:`|e| \approx 89`
    in float32; this form is finite for any finite error. Equals Keras ``log_cosh`` before its
    mean over the last axis.

    Args:
        input: predictions ``[*]``, floating.
        target: targets, same shape.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Example:
        >>> log_cosh_loss(torch.tensor([0.0, 1.0, 1e4]), torch.zeros(3), reduction="none")
        tensor([0.0000e+00, 4.3378e-01, 9.9993e+03])

    References:
        ``keras.losses.log_cosh`` (Keras 3); Chen et al., "Log Hyperbolic Cosine Loss
        Improves Variational Auto-Encoder", 2019.
    """
    x, y = prepare_pair("log_cosh_loss", input, target)
    wanted = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
    loss, _ = apply(_LogCosh, x, y, wanted)
    return reduce_loss(loss, reduction, weight=weight, fn="log_cosh_loss")


_LOG_COSH_CAP = 40.0
"""Largest ``|e|`` given to ``expm1`` (``e^{80}`` is still finite in float32); beyond it
``log cosh e = |e| - log 2`` to working precision, and ``tanh e = ±1``."""


def _log_cosh_and_slope(d: Tensor, with_slope: bool = True) -> tuple[Tensor, Tensor]:
    r"""``(log cosh d, tanh d)`` from one ``expm1``, accurate in relative terms everywhere.

    With :math:`m = e^{|d|} - 1` (``expm1``, no cancellation for tiny :math:`d`):

    .. math::

        \log\cosh d = \operatorname{log1p}\frac{m^2}{2(1 + m)}, \qquad
        \tanh |d| = \frac{m(m + 2)}{m(m + 2) + 2},

    both sums and products of non-negative terms (:math:`\cosh d - 1 = (e^{|d|} - 1)^2 /
    2e^{|d|}`, :math:`\tanh|d| = (e^{2|d|} - 1)/(e^{2|d|} + 1)`), so the value is
    :math:`d^2/2` for tiny :math:`d` where ``|d| + softplus(-2|d|) - log 2`` gives 0. Beyond
    :data:`_LOG_COSH_CAP` the excess :math:`|d| - 40` is added to the value at 40. Two
    transcendental passes (``expm1``, ``log1p``) in all, against three with a separate ``tanh``
    for the gradient (``tanh`` alone costs more than ``expm1`` on CPU).
    """
    a = d.abs()
    eager = not (torch.compiler.is_compiling() or transforming())
    excess = None
    if not eager or (a.numel() and bool(a.amax() > _LOG_COSH_CAP)):
        excess = (a - _LOG_COSH_CAP).relu_()
        a = a.clamp_(max=_LOG_COSH_CAP)
    m = a.expm1_()
    slope = (m + 2.0).mul_(m) if with_slope else None  # m (m + 2) = e^{2|d|} - 1
    value = m * m
    m.add_(1.0).mul_(2.0)  # 2 e^{|d|}
    value.div_(m).log1p_()
    if excess is not None:
        value.add_(excess)
    if slope is None:  # no gradient will be asked for
        return value, d.new_empty(0)
    denominator = torch.add(slope, 2.0, out=m) if eager else slope + 2.0
    return value, slope.div_(denominator).copysign_(d)


class _LogCosh(torch.autograd.Function):
    """log-cosh of ``x - y`` with the analytic gradient ``tanh(x - y)``, formed in the forward
    pass from the same ``expm1`` as the value (:func:`_log_cosh_and_slope`) and returned as a
    non-differentiable output: the backward pass is one product. A differentiated backward
    (``create_graph=True``) recomputes ``tanh`` from the inputs. :mod:`torch.func` transforms
    run it through the generated vmap rule.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, y: Tensor, with_slope: bool) -> tuple[Tensor, Tensor]:
        return _log_cosh_and_slope(torch.sub(x, y), with_slope)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        # The derivative is private (the caller drops that output): the first backward pass
        # turns it into the gradient in place.
        x, y, _ = inputs
        save_with_derivative(ctx, output[1], x, y)

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor | None, _unused: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None, None]:
        if grad is None:
            return None, None, None
        x, y, *kept = ctx.saved_tensors
        if torch.is_grad_enabled():  # differentiated backward: differentiable operations
            gx = grad * torch.tanh(x - y)
        else:
            gx = derivative_times(ctx, kept, grad, lambda: _log_cosh_and_slope(x - y)[1])
        gy = -gx if ctx.needs_input_grad[1] else None
        return (gx if ctx.needs_input_grad[0] else None), gy, None


def quantile_loss(
    input: Tensor,
    target: Tensor,
    *,
    q: float = 0.5,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Quantile (pinball) loss; its minimiser is the ``q``-quantile of the target.

    .. math::

        l_n = \max\bigl(q\,e_n,\ (q - 1)\,e_n\bigr), \qquad e_n = y_n - x_n

    ``q=0.5`` is half the absolute error.

    Args:
        input: predicted quantiles ``[*]``, floating.
        target: targets, same shape.
        q: the quantile level, in ``(0, 1)``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Example:
        >>> quantile_loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, -1.0]), q=0.9,
        ...               reduction="none")
        tensor([0.9000, 0.1000])

    References:
        Koenker and Bassett, "Regression Quantiles", Econometrica 46(1), 1978.
    """
    if not 0.0 < q < 1.0:
        raise fail("quantile_loss", f"q must lie in (0, 1), got {q!r}")
    x, y = prepare_pair("quantile_loss", input, target)
    # max(q e, (q - 1) e) == q * leaky_relu(e, slope=(q - 1) / q) for q in (0, 1): one fused
    # kernel each way instead of two products, a comparison and a select.
    loss = q * F.leaky_relu(y - x, negative_slope=(q - 1.0) / q)
    return reduce_loss(loss, reduction, weight=weight, fn="quantile_loss")


def msle_loss(
    input: Tensor,
    target: Tensor,
    *,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Mean squared logarithmic error.

    .. math::

        l_n = \bigl(\log(1 + x_n) - \log(1 + y_n)\bigr)^2

    computed with ``log1p``. Inputs and targets must be greater than :math:`-1`; with validation
    on (the default) anything else is a ``ValueError`` rather than a NaN. Keras'
    ``mean_squared_logarithmic_error`` clips at its epsilon instead; its dialect does that.

    Args:
        input: predictions ``[*]``, floating, ``> -1``.
        target: targets, same shape, ``> -1``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the value domain; ``None`` follows :func:`losskit.set_validation`.

    Example:
        >>> msle_loss(torch.tensor([math.e - 1.0]), torch.tensor([0.0]))
        tensor(1.)

    References:
        ``keras.losses.mean_squared_logarithmic_error`` (Keras 3).
    """
    x, y = prepare_pair("msle_loss", input, target)
    check_in_range("msle_loss", "input", x, -1.0, None, low_inclusive=False, validate=validate)
    check_in_range("msle_loss", "target", y, -1.0, None, low_inclusive=False, validate=validate)
    loss = (torch.log1p(x) - torch.log1p(y)).square()
    return reduce_loss(loss, reduction, weight=weight, fn="msle_loss")


def mape_loss(
    input: Tensor,
    target: Tensor,
    *,
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Mean absolute percentage error, in percent.

    .. math::

        l_n = 100\,\frac{|x_n - y_n|}{\max(|y_n|, \epsilon)}

    As Keras' ``mean_absolute_percentage_error`` (same ``eps``); torchmetrics returns the
    fraction instead (divide by 100).

    Args:
        input: predictions ``[*]``, floating.
        target: targets, same shape.
        eps: floor of the denominator, ``> 0``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.

    Example:
        >>> mape_loss(torch.tensor([110.0, 45.0]), torch.tensor([100.0, 50.0]))
        tensor(10.)

    References:
        ``keras.losses.mean_absolute_percentage_error`` (Keras 3).
    """
    check_positive("mape_loss", "eps", eps)
    x, y = prepare_pair("mape_loss", input, target)
    loss = 100.0 * (x - y).abs() / y.abs().clamp_min(eps)
    return reduce_loss(loss, reduction, weight=weight, fn="mape_loss")


def poisson_loss(
    input: Tensor,
    target: Tensor,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Poisson negative log-likelihood of counts ``target`` under rates given by ``input``.

    .. math::

        l_n = \begin{cases}
            e^{x_n} - y_n x_n & \text{log\_input} \\
            x_n - y_n \log(x_n + \epsilon) & \text{otherwise}
        \end{cases}
        \;+\; \mathbb{1}_{\text{full}}\,\mathbb{1}_{y_n > 1}
            \bigl(y_n\log y_n - y_n + \tfrac12\log(2\pi y_n)\bigr)

    Equals :func:`torch.nn.functional.poisson_nll_loss`; Keras ``poisson`` is the
    ``log_input=False`` form with ``eps=1e-7``.

    Args:
        input: log-rates (``log_input=True``) or rates ``[*]``, floating.
        target: counts (non-negative), same shape.
        log_input: whether ``input`` holds log-rates.
        full: add the Stirling approximation of :math:`\log(y!)`.
        eps: added to rates before the log when ``log_input=False``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that targets (and rates, when ``log_input=False``) are non-negative.

    Example:
        >>> poisson_loss(torch.tensor([0.0]), torch.tensor([2.0]))
        tensor(1.)

    References:
        ``torch.nn.functional.poisson_nll_loss`` (``log_input=True``, ``full=False``).
    """
    check_positive("poisson_loss", "eps", eps, allow_zero=True)
    x, y = prepare_pair("poisson_loss", input, target)
    check_in_range("poisson_loss", "target", y, 0.0, None, validate=validate)
    if not log_input:
        check_in_range("poisson_loss", "input", x, 0.0, None, validate=validate)
    loss = F.poisson_nll_loss(x, y, log_input=log_input, full=full, eps=eps, reduction="none")
    return reduce_loss(loss, reduction, weight=weight, fn="poisson_loss")


def cosine_similarity_loss(
    input: Tensor,
    target: Tensor,
    *,
    dim: int = -1,
    eps: float = 1e-8,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""One minus the cosine similarity of prediction and target vectors along ``dim``.

    .. math::

        l = 1 - \frac{x \cdot y}{\max(\|x\|_2, \epsilon)\,\max(\|y\|_2, \epsilon)}

    In :math:`[0, 2]`, zero when the vectors point the same way. Keras' ``cosine_similarity``
    loss is :math:`-\cos`, i.e. this loss minus one. A zero vector gives loss 1 and finite
    gradients.

    Args:
        input: predictions ``[*, D, *]``, floating.
        target: targets, same shape.
        dim: the vector dimension.
        eps: floor of each norm, ``> 0``.
        weight: optional weights broadcastable to the unreduced shape.
        reduction: ``"none" | "mean" | "sum"``.

    Returns:
        ``input.shape`` without ``dim`` for ``"none"``, else a scalar.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
        >>> cosine_similarity_loss(x, torch.tensor([[2.0, 0.0], [1.0, 0.0]]), reduction="none")
        tensor([0., 1.])

    References:
        ``torch.nn.functional.cosine_similarity``; ``keras.losses.cosine_similarity``
        (Keras returns the negated similarity).
    """
    check_positive("cosine_similarity_loss", "eps", eps)
    x, y = prepare_pair("cosine_similarity_loss", input, target)
    d = check_dim("cosine_similarity_loss", "input", x, dim)
    if d is None:  # one vector: the whole tensor
        x, y, d = x.reshape(-1), y.reshape(-1), 0
    # cos is scale-free: divide each vector by its largest magnitude (a constant for autograd,
    # 1 for a zero vector) so that products and norms cannot overflow or underflow; the floor
    # eps of the norm |x| = s |x / s| becomes eps / s.
    sx, sy = _magnitude(x, d), _magnitude(y, d)
    xs, ys = x / sx.unsqueeze(d), y / sy.unsqueeze(d)
    nx = torch.maximum(torch.linalg.vector_norm(xs, dim=d), eps / sx)
    ny = torch.maximum(torch.linalg.vector_norm(ys, dim=d), eps / sy)
    loss = 1.0 - (xs * ys).sum(dim=d) / (nx * ny)
    return reduce_loss(loss, reduction, weight=weight, fn="cosine_similarity_loss")
