r"""Softmax with a margin on the target logit: L-Softmax, SphereFace, CosFace, ArcFace.

Every loss of this family is a softmax cross-entropy over class logits built from the features
:math:`x_i` (``input``, shape ``(N, D)``) and a class-weight matrix :math:`W` (``weight``, shape
``(C, D)``, the layout of :func:`torch.nn.functional.linear`), where the logit of the *target*
class is replaced by a harder one. With :math:`\theta_j` the angle between :math:`x_i` and
:math:`W_j`:

* :func:`large_margin_softmax_loss` (L-Softmax): non-target logits
  :math:`\|W_j\|\|x\|\cos\theta_j`, target logit
  :math:`\|W_y\|\|x\|\,\frac{\lambda\cos\theta_y + \psi(\theta_y)}{1+\lambda}`;
* :func:`sphereface_loss` (A-Softmax): :math:`\|x\|\cos\theta_j`, target
  :math:`\|x\|\,\frac{\lambda\cos\theta_y + \psi(\theta_y)}{1+\lambda}`;
* :func:`cosface_loss` (AM-Softmax): :math:`s\cos\theta_j`, target :math:`s(\cos\theta_y - m)`;
* :func:`arcface_loss`: :math:`s\cos\theta_j`, target :math:`s\cos(\theta_y + m)`;

and the loss of sample :math:`i` is :math:`\log\sum_j e^{f_j} - f_{y_i}` (log-sum-exp, stable).
All four share one core (:func:`_margin_cross_entropy`); they differ only in how the target
cosine is modified and in the magnitude that multiplies the cosines.

The margin function of L-Softmax and SphereFace (Liu et al. 2016, 2017) is

.. math::

    \psi(\theta) = (-1)^k \cos(m\theta) - 2k, \qquad
    \theta \in \left[\tfrac{k\pi}{m}, \tfrac{(k+1)\pi}{m}\right],\ k \in \{0, \dots, m-1\},

continuous and monotonically decreasing on :math:`[0, \pi]`, with a continuous first derivative
(:func:`large_margin_psi`). ``cos(mθ)`` is the Chebyshev polynomial :math:`T_m(\cos\theta)`, the
same polynomial as the paper's binomial expansion (its Eq. 7), evaluated by the three-term
recurrence; :math:`k` is found by comparing :math:`\cos\theta` with the constants
:math:`\cos(j\pi/m)`. No ``acos`` enters the value or the gradient: derivatives flow through
:math:`\cos\theta` by the chain rule, as in the paper.

The class-weight matrix is a parameter of the module twins
(:class:`losskit.nn.LargeMarginSoftmaxLoss` and siblings), which also run the λ annealing
schedule of L-Softmax and SphereFace; the functionals take the weight and ``lambda_``
explicitly.

Zero-length features (or weight rows) have :math:`\cos\theta = 0` by convention (the norms are
clamped away from zero in the division), so every value and gradient stays finite.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
import torch.nn.functional as tF
from torch import Tensor

from .._core.checks import (
    check_floating,
    check_index,
    check_integer,
    check_positive,
    fail,
    shape_str,
)
from .._core.dtypes import to_compute
from .._core.reduction import reduce_loss

__all__ = [
    "arcface_loss",
    "cosface_loss",
    "large_margin_psi",
    "large_margin_softmax_loss",
    "sphereface_loss",
]

_NORM_EPS = 1e-12


def _check_integer_margin(fn: str, margin: object) -> int:
    """``margin`` must be an integer (Python or NumPy, not bool) ``>= 1``; returns an ``int``."""
    if isinstance(margin, bool) or not isinstance(margin, numbers.Integral) or margin < 1:
        raise fail(fn, f"margin must be an integer >= 1, got {margin!r}")
    return int(margin)


def _check_lambda(fn: str, lambda_: float | Tensor) -> None:
    if isinstance(lambda_, Tensor):
        if lambda_.dim() != 0:
            raise fail(
                fn,
                f"lambda_ must be a number or a 0-dim tensor, got shape {shape_str(lambda_.shape)}",
            )
        if not lambda_.is_floating_point():
            raise fail(
                fn, f"lambda_ must be a floating tensor, got dtype {lambda_.dtype}", TypeError
            )
        return
    check_positive(fn, "lambda_", float(lambda_), allow_zero=True)


def _prepare(
    fn: str, input: Tensor, target: Tensor, weight: Tensor, validate: bool | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Static checks, the label range check and the cast to the compute dtype."""
    check_floating(fn, "input", input)
    check_integer(fn, "target", target)
    check_floating(fn, "weight", weight)
    if input.dim() != 2:
        raise fail(fn, f"input must have shape (N, in_features), got {shape_str(input.shape)}")
    n, d = input.shape
    if weight.dim() != 2 or weight.shape[1] != d or weight.shape[0] < 1:
        raise fail(
            fn,
            f"weight must have shape (num_classes, {d}) with num_classes >= 1 to match "
            f"input {shape_str(input.shape)}, got {shape_str(weight.shape)}",
        )
    if target.shape != (n,):
        raise fail(
            fn,
            f"target must have shape ({n},) to match input "
            f"{shape_str(input.shape)}, got {shape_str(target.shape)}",
        )
    check_index(fn, "target", target, weight.shape[0], validate=validate)
    x, w = to_compute(input, weight)
    return x, target.long(), w


def _chebyshev(c: Tensor, m: int) -> Tensor:
    """:math:`T_m(c) = \\cos(m\\arccos c)` by the recurrence :math:`T_{n+1} = 2cT_n - T_{n-1}`."""
    prev, cur = torch.ones_like(c), c
    for _ in range(m - 1):
        prev, cur = cur, 2 * c * cur - prev
    return cur


def _psi(cos: Tensor, m: int) -> Tensor:
    """ψ(θ) of L-Softmax as a function of cos θ (see the module docstring)."""
    c = cos.clamp(-1.0, 1.0)
    cos_m = _chebyshev(c, m)
    # k = floor(mθ/π) = #{j in 1..m-1 : θ >= jπ/m} = #{j : cos θ <= cos(jπ/m)}; no gradient.
    k = torch.zeros_like(c)
    for j in range(1, m):
        k = k + (c <= math.cos(j * math.pi / m)).to(c.dtype)
    sign = 1 - 2 * torch.remainder(k, 2)
    return sign * cos_m - 2 * k


def large_margin_psi(cos_theta: Tensor, *, margin: int = 4) -> Tensor:
    r"""The margin function ψ of L-Softmax and SphereFace, as a function of :math:`\cos\theta`.

    .. math::

        \psi(\theta) = (-1)^k \cos(m\theta) - 2k, \qquad k = \lfloor m\theta / \pi \rfloor
        \text{ (capped at } m - 1\text{)}

    ψ is continuous and decreasing on :math:`[0, \pi]`, from :math:`\psi(0) = 1` to
    :math:`\psi(\pi) = 1 - 2m`, and :math:`\psi = \cos` for :math:`m = 1`. ``cos(mθ)`` is computed
    as the Chebyshev polynomial :math:`T_m(\cos\theta)` (no ``acos``), so the gradient flows
    through :math:`\cos\theta`. Inputs are clamped to :math:`[-1, 1]`.

    Args:
        cos_theta: cosines, any shape, floating.
        margin: the integer margin :math:`m \ge 1`.

    Returns:
        ψ of the same shape and dtype.

    Example:
        >>> c = torch.tensor([1.0, 0.0, -1.0])  # θ = 0, π/2, π
        >>> large_margin_psi(c, margin=2)
        tensor([ 1., -1., -3.])

    References:
        Liu, Wen, Yu, Yang, "Large-Margin Softmax Loss for Convolutional Neural Networks",
        ICML 2016, Eq. 6-7.
    """
    m = _check_integer_margin("large_margin_psi", margin)
    check_floating("large_margin_psi", "cos_theta", cos_theta)
    return _psi(cos_theta, m)


def _margin_cross_entropy(
    fn: str,
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    *,
    magnitude: str | float,
    target_cos: Callable[[Tensor], Tensor],
    reduction: str,
    validate: bool | None,
) -> Tensor:
    """The shared core: softmax cross-entropy with the target cosine replaced.

    ``magnitude`` is ``"product"`` (logits :math:`\\|W_j\\|\\|x\\|\\cos\\theta_j`, i.e. plain
    ``F.linear`` logits: L-Softmax), ``"input"`` (:math:`\\|x\\|\\cos\\theta_j`, linear logits
    with normalised weights: SphereFace) or a scale :math:`s` (:math:`s\\cos\\theta_j`: CosFace,
    ArcFace). ``target_cos`` maps the target cosines ``(N, 1)`` to the modified ones; the target
    logit is the magnitude times that. Only the target column needs a cosine: the other logits
    come from one matrix product, so the cost is that of a plain softmax cross-entropy plus
    ``O(N D)``.
    """
    x, y, w = _prepare(fn, input, target, weight, validate)
    index = y.unsqueeze(1)  # (N, 1)
    x_norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)  # (N, 1)
    if magnitude == "product":
        logits = tF.linear(x, w)  # |W_j| |x| cos θ_j
        w_y = w.index_select(0, y)
        mag_y = x_norm * torch.linalg.vector_norm(w_y, dim=1, keepdim=True)
        cos_y = (x * w_y).sum(dim=1, keepdim=True) / mag_y.clamp_min(_NORM_EPS)
    elif magnitude == "input":
        w_unit = _unit_rows(w)
        logits = tF.linear(x, w_unit)  # |x| cos θ_j
        mag_y = x_norm
        cos_y = (x * w_unit.index_select(0, y)).sum(dim=1, keepdim=True) / x_norm.clamp_min(
            _NORM_EPS
        )
    else:
        scale = float(magnitude)
        x_unit, w_unit = _unit_rows(x), _unit_rows(w)
        logits = tF.linear(x_unit * scale, w_unit)  # s cos θ_j
        cos_y = (x_unit * w_unit.index_select(0, y)).sum(dim=1, keepdim=True)
        mag_y = torch.full_like(cos_y, scale)
    target_logit = mag_y * target_cos(cos_y)  # (N, 1)
    logits = logits.scatter(1, index, target_logit)
    loss = tF.cross_entropy(logits, y, reduction="none")
    return reduce_loss(loss, reduction, fn=fn)


def _unit_rows(v: Tensor) -> Tensor:
    """Rows scaled to unit norm; a zero row (norm at most 1e-12) has no direction: it stays 0,
    with gradient 0 (``F.normalize`` would give it a gradient of 1e12 per unit upstream gradient,
    infinite once cast back to float16)."""
    norm = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    nonzero = norm > _NORM_EPS
    return torch.where(nonzero, v / torch.where(nonzero, norm, 1.0), 0.0)


def _annealed(lambda_: float | Tensor, m: int) -> Callable[[Tensor], Tensor]:
    """Target cosine of L-Softmax/SphereFace: (λ cos θ + ψ(θ)) / (1 + λ).

    Written as ``cos + (ψ - cos) / (1 + λ)`` so that ``λ = inf`` gives exactly ``cos``.
    """

    def modify(cos_y: Tensor) -> Tensor:
        if m == 1:  # ψ = cos: the annealing is the identity for every λ
            return cos_y
        lam = lambda_.to(cos_y.dtype) if isinstance(lambda_, Tensor) else lambda_
        return cos_y + (_psi(cos_y, m) - cos_y) / (1 + lam)

    return modify


def large_margin_softmax_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    *,
    margin: int = 4,
    lambda_: float | Tensor = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Large-margin softmax (L-Softmax) loss with the paper's annealing weight λ.

    .. math::

        l_i = \log\Big(e^{f_{y_i}} + \sum_{j \ne y_i} e^{\|W_j\|\|x_i\|\cos\theta_j}\Big)
        - f_{y_i},\qquad
        f_{y_i} = \|W_{y_i}\|\|x_i\|\,\frac{\lambda\cos\theta_{y_i} + \psi(\theta_{y_i})}
        {1 + \lambda}

    The non-target logits are the plain ``F.linear`` logits :math:`W_j^\top x_i`; ψ is
    :func:`large_margin_psi`. ``lambda_ = 0`` is the paper's final objective; a large λ (the
    start of the annealing) is close to plain softmax cross-entropy, which :math:`m = 1` (any
    λ) and :math:`\lambda = \infty` (any m) give exactly.

    Args:
        input: features :math:`x`, ``(N, D)``, floating.
        target: class indices ``(N,)`` in ``[0, C)``, integer.
        weight: class weights :math:`W`, ``(C, D)`` (the layout of ``F.linear``), floating.
        margin: the integer margin :math:`m \ge 1`.
        lambda_: the annealing weight :math:`\lambda \ge 0` (a number or a 0-dim tensor;
            ``float("inf")`` allowed). :class:`losskit.nn.LargeMarginSoftmaxLoss` computes it
            from its schedule.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that labels lie in ``[0, C)`` (``None``: the global switch).

    Returns:
        ``(N,)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: wrong shapes, labels out of range, ``margin`` not an integer >= 1,
            negative ``lambda_``, unknown reduction.
        TypeError: floating ``target`` or integer ``input``/``weight``.

    Relation to pytorch-metric-learning: its ``LargeMarginSoftmaxLoss`` implements the same
    ψ (Eq. 6-7, binomial expansion, :math:`k` from ``acos`` without gradient) but has no λ
    (it is always at the final objective, ``lambda_=0`` here), multiplies all logits by an
    extra ``scale`` (1 by default), stores its weight as ``(D, C)`` and averages over the batch.
    With ``lambda_=0`` and ``scale=1`` the two agree in value and gradient (tested); during the
    annealing (``lambda_ > 0``) only losskit follows the paper.

    Example:
        >>> x = torch.tensor([[1.0, 1.0]])
        >>> w = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> large_margin_softmax_loss(x, torch.tensor([0]), w, margin=2)  # θ = π/4, ψ = 0
        tensor(1.3133)
        >>> large_margin_softmax_loss(x, torch.tensor([0]), w, margin=1)  # plain softmax CE
        tensor(0.6931)
        >>> torch.nn.functional.cross_entropy(x @ w.T, torch.tensor([0]))
        tensor(0.6931)

    References:
        Liu, Wen, Yu, Yang, "Large-Margin Softmax Loss for Convolutional Neural Networks",
        ICML 2016.
    """
    fn = "large_margin_softmax_loss"
    m = _check_integer_margin(fn, margin)
    _check_lambda(fn, lambda_)
    return _margin_cross_entropy(
        fn,
        input,
        target,
        weight,
        magnitude="product",
        target_cos=_annealed(lambda_, m),
        reduction=reduction,
        validate=validate,
    )


def sphereface_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    *,
    margin: int = 4,
    lambda_: float | Tensor = 0.0,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""SphereFace (A-Softmax) loss: L-Softmax with normalised class weights.

    .. math::

        l_i = \log\Big(e^{f_{y_i}} + \sum_{j \ne y_i} e^{\|x_i\|\cos\theta_j}\Big) - f_{y_i},
        \qquad f_{y_i} = \|x_i\|\,\frac{\lambda\cos\theta_{y_i} + \psi(\theta_{y_i})}{1 + \lambda}

    with ψ of :func:`large_margin_psi`. The rows of ``weight`` are normalised inside the loss
    (their length does not matter; the paper renormalises them at every step) and there is no
    bias. ``lambda_ = 0`` is the A-Softmax objective; the authors' released training anneals λ
    (see :class:`losskit.nn.SphereFaceLoss`).

    Args:
        input: features ``(N, D)``, floating.
        target: class indices ``(N,)``, integer.
        weight: class weights ``(C, D)``, floating.
        margin: the integer angular margin :math:`m \ge 1` (the paper uses 4).
        lambda_: the annealing weight :math:`\lambda \ge 0`.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the label range (``None``: the global switch).

    Returns:
        ``(N,)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: wrong shapes, labels out of range, bad ``margin`` or ``lambda_``.
        TypeError: wrong dtypes.

    Example:
        >>> x = torch.tensor([[1.0, 1.0]])
        >>> w = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
        >>> sphereface_loss(x, torch.tensor([0]), w, margin=2)  # ‖x‖ψ(π/4) = 0 vs ‖x‖cos(π/4) = 1
        tensor(1.3133)

    References:
        Liu, Wen, Yu, Li, Raj, Song, "SphereFace: Deep Hypersphere Embedding for Face
        Recognition", CVPR 2017.
    """
    fn = "sphereface_loss"
    m = _check_integer_margin(fn, margin)
    _check_lambda(fn, lambda_)
    return _margin_cross_entropy(
        fn,
        input,
        target,
        weight,
        magnitude="input",
        target_cos=_annealed(lambda_, m),
        reduction=reduction,
        validate=validate,
    )


def _check_scale(fn: str, scale: float) -> None:
    check_positive(fn, "scale", float(scale))
    if not math.isfinite(float(scale)):
        raise fail(fn, f"scale must be finite, got {scale!r}")


def cosface_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    *,
    scale: float = 64.0,
    margin: float = 0.35,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""CosFace / AM-Softmax loss: an additive cosine margin on normalised features and weights.

    .. math::

        l_i = -\log \frac{e^{s(\cos\theta_{y_i} - m)}}
        {e^{s(\cos\theta_{y_i} - m)} + \sum_{j \ne y_i} e^{s\cos\theta_j}}

    Args:
        input: features ``(N, D)``, floating.
        target: class indices ``(N,)``, integer.
        weight: class weights ``(C, D)``, floating.
        scale: the scale :math:`s > 0` (CosFace: 64; AM-Softmax: 30).
        margin: the cosine margin :math:`m \ge 0` (CosFace: 0.35).
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the label range (``None``: the global switch).

    Returns:
        ``(N,)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: wrong shapes, labels out of range, ``scale <= 0``, ``margin < 0``.
        TypeError: wrong dtypes.

    Example:
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> w = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> cosface_loss(x, torch.tensor([0]), w, scale=2.0, margin=0.5)  # logits [1, 0]
        tensor(0.3133)

    References:
        Wang et al., "CosFace: Large Margin Cosine Loss for Deep Face Recognition", CVPR 2018;
        Wang, Cheng, Liu, Liu, "Additive Margin Softmax for Face Verification", IEEE SPL 2018.
    """
    fn = "cosface_loss"
    _check_scale(fn, scale)
    check_positive(fn, "margin", float(margin), allow_zero=True)
    m = float(margin)
    return _margin_cross_entropy(
        fn,
        input,
        target,
        weight,
        magnitude=float(scale),
        target_cos=lambda c: c - m,
        reduction=reduction,
        validate=validate,
    )


def arcface_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    *,
    scale: float = 64.0,
    margin: float = 0.5,
    easy_margin: bool = False,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""ArcFace (additive angular margin) loss on normalised features and weights.

    .. math::

        l_i = -\log \frac{e^{s\,\phi(\theta_{y_i})}}
        {e^{s\,\phi(\theta_{y_i})} + \sum_{j \ne y_i} e^{s\cos\theta_j}},\qquad
        \phi(\theta) = \begin{cases}
            \cos(\theta + m) & \theta + m \le \pi \quad(\cos\theta > \cos(\pi - m)) \\
            \cos\theta - m\sin m & \text{otherwise}
        \end{cases}

    :math:`\cos(\theta + m) = \cos\theta\cos m - \sin\theta\sin m` with
    :math:`\sin\theta = \sqrt{1 - \cos^2\theta}` (no ``acos``). The second branch is the
    authors' reference implementation's fallback that keeps the target logit decreasing in θ
    past :math:`\pi - m` (it is not continuous there: it jumps down by
    :math:`1 - \cos m - m\sin m` in cosine, as in insightface). ``easy_margin=True`` applies the
    margin only where :math:`\cos\theta > 0` and keeps :math:`\cos\theta` elsewhere.
    The margin is in radians (pytorch-metric-learning's ``ArcFaceLoss`` takes degrees).

    Args:
        input: features ``(N, D)``, floating.
        target: class indices ``(N,)``, integer.
        weight: class weights ``(C, D)``, floating.
        scale: the scale :math:`s > 0` (paper: 64).
        margin: the angular margin :math:`m \in [0, \pi)` in radians (paper: 0.5).
        easy_margin: the "easy margin" variant described above.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the label range (``None``: the global switch).

    Returns:
        ``(N,)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: wrong shapes, labels out of range, ``scale <= 0``, margin outside
            ``[0, π)``.
        TypeError: wrong dtypes.

    Example:
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> w = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> arcface_loss(x, torch.tensor([0]), w, scale=1.0, margin=math.pi / 3)  # cos(π/3)
        tensor(0.4741)

    References:
        Deng, Guo, Xue, Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face
        Recognition", CVPR 2019.
    """
    fn = "arcface_loss"
    _check_scale(fn, scale)
    m = float(margin)
    if not 0.0 <= m < math.pi:
        raise fail(fn, f"margin must lie in [0, pi) (radians), got {margin!r}")
    cos_m, sin_m = math.cos(m), math.sin(m)
    threshold = math.cos(math.pi - m)
    fallback = m * sin_m

    def modify(c: Tensor) -> Tensor:
        c = c.clamp(-1.0, 1.0)
        s2 = 1 - c * c
        # sin θ = sqrt(1 - cos²θ); below the dtype's resolution it is 0 with a zero gradient
        # (the infinite slope of sqrt at 0 would otherwise turn 0 * inf into NaN).
        tiny = s2 > torch.finfo(c.dtype).eps
        sin = torch.where(tiny, torch.sqrt(torch.where(tiny, s2, 1.0)), 0.0)
        phi = c * cos_m - sin * sin_m
        if easy_margin:
            return torch.where(c > 0, phi, c)
        return torch.where(c > threshold, phi, c - fallback)

    return _margin_cross_entropy(
        fn,
        input,
        target,
        weight,
        magnitude=float(scale),
        target_cos=modify,
        reduction=reduction,
        validate=validate,
    )
