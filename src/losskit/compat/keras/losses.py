"""``keras.losses`` of Keras 3 (3.15.1, torch backend) on the native core.

Every function takes ``(y_true, y_pred, ...)`` with Keras' defaults and returns Keras' per-sample
losses (most reduce the last axis with a mean, as Keras does). Probabilities are clipped to
:math:`[\\epsilon, 1 - \\epsilon]` with Keras' :math:`\\epsilon = 10^{-7}` before any logarithm,
so that :math:`p \\in \\{0, 1\\}` gives Keras' finite numbers. The classes
(:mod:`losskit.compat.keras.classes`: ``MeanSquaredError``, ``BinaryCrossentropy``, ...) take
``reduction`` (``"sum_over_batch_size"`` by default, ``"sum"``, ``"mean"``,
``"mean_with_sample_weight"``, ``"none"`` or ``None``) and are called as
``loss(y_true, y_pred, sample_weight=None)``; the reduction is Keras 3's
``reduce_weighted_values`` (:func:`losskit._core.reduction.reduce_keras`), masks included
(``SparseCategoricalCrossentropy(ignore_class=...)``, ``Circle``).

Where a native function computes the same per-element loss it is used (the table in
``docs/dialects.md`` names it); the Keras-only forms (clipped probabilities in the categorical
losses, Keras' categorical hinge, circle loss, generalised cross-entropy) are written here, as
Keras writes them. Deliberate differences: float64 stays float64 (Keras computes the classes in
``floatx``, float32); the results follow Keras 3.15.1, including two behaviours its main branch
has since changed (``tversky``'s α weighs the false negatives and β the false positives; label
smoothing counts the classes along the last axis whatever ``axis`` is).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ... import functional as F
from ..._core.checks import error_context, fail, shape_str
from ..._core.reduction import _keras_same_rank
from .._convert import as_float, as_int, as_tensor, device_of

__all__ = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "ctc_batch_cost",
    "dice",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "tversky",
]

EPSILON = 1e-7
"""Keras' ``backend.epsilon()``: the clipping of probabilities and the floor of denominators."""

_P = "compat.keras."
_NAMES = {"input": "y_pred", "target": "y_true"}
_NO_IGNORE = -(2**62)

# ----------------------------------------------------------------------------------------------
# helpers


def _pair(fn: str, y_true: Any, y_pred: Any, *, same_rank: bool = False) -> tuple[Tensor, Tensor]:
    """``y_pred`` floating (float32 for integers), ``y_true`` cast to its dtype; ``same_rank``
    applies Keras' ``squeeze_or_expand_to_same_rank`` (a trailing dimension of 1)."""
    p = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
    y = as_tensor(y_true, "y_true", fn).to(device=p.device, dtype=p.dtype)
    if same_rank:
        y, p = _keras_same_rank(y, p)
    return y, p


def _same_shape(fn: str, y: Tensor, p: Tensor) -> None:
    if y.shape != p.shape:
        raise fail(
            fn,
            f"y_true and y_pred must have the same shape, got y_true {shape_str(y.shape)} and "
            f"y_pred {shape_str(p.shape)}",
        )


def _mean_last(loss: Tensor, axis: int = -1) -> Tensor:
    return loss.mean(dim=axis) if loss.dim() else loss


def _clip(p: Tensor) -> Tensor:
    return p.clamp(EPSILON, 1.0 - EPSILON)


def _check_axis(fn: str, axis: object) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise fail(fn, f"axis must be of type int, got {axis!r} of type {type(axis).__name__}")
    return axis


def _smooth_categorical(y: Tensor, label_smoothing: float) -> Tensor:
    # Keras 3.15.1 counts the classes along the last axis whatever `axis` is.
    if label_smoothing:
        return y * (1.0 - label_smoothing) + label_smoothing / y.shape[-1]
    return y


# ----------------------------------------------------------------------------------------------
# regression


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    r"""Mean squared error over the last axis (``keras.losses.mean_squared_error``).

    .. math:: \ell = \operatorname{mean}_{-1}\big((y_{true} - y_{pred})^2\big)

    computed by :func:`losskit.mse_loss` (``reduction="none"``).

    Args:
        y_true: targets ``[batch, d0, ..., dN]`` (a trailing dimension of 1 is matched).
        y_pred: predictions, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> mean_squared_error([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
        tensor([0.5000, 0.5000])
    """
    fn = _P + "mean_squared_error"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return _mean_last(F.mse_loss(p, y, reduction="none"))


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    r"""Mean absolute error over the last axis (``keras.losses.mean_absolute_error``).

    .. math:: \ell = \operatorname{mean}_{-1}|y_{true} - y_{pred}|

    computed by :func:`losskit.mae_loss`.

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> mean_absolute_error([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
        tensor([0.5000, 0.5000])
    """
    fn = _P + "mean_absolute_error"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return _mean_last(F.mae_loss(p, y, reduction="none"))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    r"""Mean absolute percentage error (``keras.losses.mean_absolute_percentage_error``).

    .. math:: \ell = 100\,\operatorname{mean}_{-1}\frac{|y_{true} - y_{pred}|}
              {\max(|y_{true}|, \epsilon)}

    computed by :func:`losskit.mape_loss` with Keras' :math:`\epsilon = 10^{-7}`.

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> mean_absolute_percentage_error([[100.0, 50.0]], [[110.0, 45.0]])
        tensor([10.])
    """
    fn = _P + "mean_absolute_percentage_error"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return _mean_last(F.mape_loss(p, y, eps=EPSILON, reduction="none"))


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    r"""Mean squared logarithmic error (``keras.losses.mean_squared_logarithmic_error``).

    .. math:: \ell = \operatorname{mean}_{-1}\big(\log(1 + \max(y_{pred}, \epsilon))
              - \log(1 + \max(y_{true}, \epsilon))\big)^2

    computed by :func:`losskit.msle_loss` on the floored values (Keras replaces values below
    :math:`\epsilon` by :math:`\epsilon`).

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> mean_squared_logarithmic_error([[0.0, 1.0]], [[0.0, 1.0]])
        tensor([0.])
    """
    fn = _P + "mean_squared_logarithmic_error"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        loss = F.msle_loss(p.clamp_min(EPSILON), y.clamp_min(EPSILON), reduction="none")
        return _mean_last(loss)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    r"""Huber loss over the last axis (``keras.losses.huber``).

    .. math:: \ell = \operatorname{mean}_{-1}\begin{cases} \tfrac12 e^2 & |e| \le \delta \\
              \delta |e| - \tfrac12 \delta^2 & \text{otherwise}\end{cases}

    computed by :func:`losskit.huber_loss`.

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, the same shape.
        delta: where the loss turns linear.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]])
        tensor([1.3125])
    """
    fn = _P + "huber"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return _mean_last(F.huber_loss(p, y, delta=delta, reduction="none"))


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    r"""Logarithm of the hyperbolic cosine of the error (``keras.losses.log_cosh``).

    .. math:: \ell = \operatorname{mean}_{-1} \log\cosh(y_{pred} - y_{true})

    computed by :func:`losskit.log_cosh_loss` (stable for large errors).

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> log_cosh([[0.0, 0.0]], [[0.0, 1.0]])
        tensor([0.2169])
    """
    fn = _P + "log_cosh"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return _mean_last(F.log_cosh_loss(p, y, reduction="none"))


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    r"""Poisson loss over the last axis (``keras.losses.poisson``).

    .. math:: \ell = \operatorname{mean}_{-1}\big(y_{pred} - y_{true}\log(y_{pred} + \epsilon)
              \big)

    computed by :func:`losskit.poisson_loss` (``log_input=False``, Keras' :math:`\epsilon`).

    Args:
        y_true: counts ``[batch, d0, ..., dN]``.
        y_pred: rates, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> poisson([[1.0, 0.0]], [[1.0, 2.0]])
        tensor([1.5000])
    """
    fn = _P + "poisson"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        loss = F.poisson_loss(p, y, log_input=False, eps=EPSILON, reduction="none")
        return _mean_last(loss)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    r"""Negative cosine similarity (``keras.losses.cosine_similarity``).

    .. math:: \ell = -\frac{y_{true}}{\max(\|y_{true}\|, \epsilon)} \cdot
              \frac{y_{pred}}{\max(\|y_{pred}\|, \epsilon)} \quad \text{along } axis

    computed as :func:`losskit.cosine_similarity_loss` (which is :math:`1 - \cos`) minus 1; a
    zero vector gives 0.

    Args:
        y_true: targets.
        y_pred: predictions, the same shape.
        axis: the dimension of the vectors.

    Returns:
        The inputs' shape without ``axis``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        tensor([ 0., -1.])
    """
    fn = _P + "cosine_similarity"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred, same_rank=True)
        return F.cosine_similarity_loss(p, y, dim=axis, eps=EPSILON, reduction="none") - 1.0


# ----------------------------------------------------------------------------------------------
# hinge


def _hinge_labels(y: Tensor) -> str:
    """Keras converts {0, 1} labels to {-1, 1} only when every label is 0 or 1."""
    binary = bool(((y == 0) | (y == 1)).all()) if y.numel() else True
    return "01" if binary else "pm1"


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    r"""Hinge loss over the last axis (``keras.losses.hinge``).

    .. math:: \ell = \operatorname{mean}_{-1}\max(0, 1 - t\, y_{pred})

    with :math:`t = 2y - 1` when every label is 0 or 1 and :math:`t = y` otherwise (Keras'
    rule), computed by :func:`losskit.hinge_loss`.

    Args:
        y_true: labels in ``{-1, 1}`` or ``{0, 1}``, ``[batch, d0, ..., dN]``.
        y_pred: scores, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> hinge([[0.0, 1.0]], [[0.5, 2.0]])
        tensor([0.7500])
    """
    fn = _P + "hinge"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        loss = F.hinge_loss(p, y, labels=_hinge_labels(y), reduction="none", validate=False)
        return _mean_last(loss)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    r"""Squared hinge loss over the last axis (``keras.losses.squared_hinge``).

    .. math:: \ell = \operatorname{mean}_{-1}\max(0, 1 - t\, y_{pred})^2

    with Keras' label rule of :func:`hinge`, computed by :func:`losskit.squared_hinge_loss`.

    Args:
        y_true: labels in ``{-1, 1}`` or ``{0, 1}``.
        y_pred: scores, the same shape.

    Returns:
        ``[batch, d0, ..., dN-1]``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> squared_hinge([[0.0, 1.0]], [[0.5, 2.0]])
        tensor([1.1250])
    """
    fn = _P + "squared_hinge"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        loss = F.squared_hinge_loss(p, y, labels=_hinge_labels(y), reduction="none", validate=False)
        return _mean_last(loss)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    r"""Categorical hinge loss (``keras.losses.categorical_hinge``).

    .. math:: \ell = \max\big(0,\, \max_c (1 - y_c) x_c - \textstyle\sum_c y_c x_c + 1\big)

    Keras' form, written here: the "negative" term is the largest of :math:`(1 - y_c) x_c`
    including the zero of the true class, so it differs from the Crammer–Singer
    :func:`losskit.multiclass_hinge_loss` when every other score is negative.

    Args:
        y_true: one-hot labels ``[batch, C]``.
        y_pred: scores ``[batch, C]``.

    Returns:
        ``[batch]``.

    Example:
        >>> categorical_hinge([[0.0, 1.0]], [[0.5, 2.0]])
        tensor([0.])
    """
    fn = _P + "categorical_hinge"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        pos = (y * p).sum(-1)
        neg = ((1.0 - y) * p).amax(-1)
        return (neg - pos + 1.0).clamp_min(0.0)


# ----------------------------------------------------------------------------------------------
# probabilistic


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    r"""Binary cross-entropy, mean over ``axis`` (``keras.losses.binary_crossentropy``).

    .. math:: \ell = \operatorname{mean}_{axis}\big(-z \log \hat p - (1 - z) \log(1 - \hat p)
              \big), \qquad z = y (1 - \epsilon_s) + \tfrac12 \epsilon_s

    with :math:`\hat p = \operatorname{clip}(p, 10^{-7}, 1 - 10^{-7})`; computed by
    :func:`losskit.binary_cross_entropy` on the clipped probabilities, or by
    :func:`losskit.sigmoid_cross_entropy` with ``from_logits=True``.

    Args:
        y_true: targets, the predictions' shape.
        y_pred: probabilities (logits with ``from_logits``).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: :math:`\epsilon_s`, toward 1/2.
        axis: the axis of the mean.

    Returns:
        The shape without ``axis``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> binary_crossentropy([[0.0, 1.0]], [[0.0, 1.0]])  # clipped: finite
        tensor([1.0960e-07])
    """
    fn = _P + "binary_crossentropy"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        if label_smoothing:
            y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
        if from_logits:
            loss = F.sigmoid_cross_entropy(p, y, reduction="none", validate=False)
        else:
            loss = F.binary_cross_entropy(_clip(p), y, reduction="none", validate=False)
        return _mean_last(loss, axis)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    r"""Binary focal cross-entropy (``keras.losses.binary_focal_crossentropy``).

    .. math:: \ell = \operatorname{mean}_{axis}\, w\,(1 - p_t)^\gamma\,
              \mathrm{BCE}(z, \hat p), \qquad p_t = z p + (1 - z)(1 - p)

    with :math:`w = z\alpha + (1 - z)(1 - \alpha)` when ``apply_class_balancing``, else 1. The
    cross-entropy is :func:`losskit.binary_cross_entropy` on clipped probabilities (Keras'
    form, on probabilities, sigmoid first with ``from_logits``); the focal factor uses the
    unclipped :math:`p`, as Keras.

    Args:
        y_true: targets.
        y_pred: probabilities (logits with ``from_logits``).
        apply_class_balancing: weight the classes with ``alpha``.
        alpha: weight of class 1.
        gamma: focusing parameter.
        from_logits: ``y_pred`` holds logits.
        label_smoothing: toward 1/2.
        axis: the axis of the mean.

    Returns:
        The shape without ``axis``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> binary_focal_crossentropy([[0.0, 1.0]], [[0.4, 0.6]], gamma=2.0)
        tensor([0.0817])
    """
    fn = _P + "binary_focal_crossentropy"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        if label_smoothing:
            y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
        if from_logits:
            p = torch.sigmoid(p)
        bce = F.binary_cross_entropy(_clip(p), y, reduction="none", validate=False)
        p_t = y * p + (1 - y) * (1 - p)
        loss = (1.0 - p_t).pow(gamma) * bce
        if apply_class_balancing:
            loss = (y * alpha + (1 - y) * (1 - alpha)) * loss
        return _mean_last(loss, axis)


def _normalised_clipped(p: Tensor, axis: int) -> Tensor:
    return _clip(p / p.sum(dim=axis, keepdim=True))


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    r"""Categorical cross-entropy (``keras.losses.categorical_crossentropy``).

    .. math:: \ell = -\sum_c z_c \log \hat q_c, \qquad
              \hat q = \operatorname{clip}(p / \textstyle\sum_c p_c,\ 10^{-7}, 1 - 10^{-7})

    with :math:`z = y(1 - \epsilon_s) + \epsilon_s / C`. With ``from_logits`` this is
    :func:`losskit.softmax_cross_entropy` along ``axis``; on probabilities Keras' normalised
    and clipped form is written here (no native loss clips).

    Args:
        y_true: one-hot or soft targets, the predictions' shape.
        y_pred: probabilities (logits with ``from_logits``).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: :math:`\epsilon_s`; :math:`C` is the size of the *last* axis, as in
            Keras 3.15.1 (its main branch uses ``axis``).
        axis: the class axis.

    Returns:
        The shape without ``axis``.

    Raises:
        ValueError: shapes differ, rank 0, ``axis`` not an int.

    Example:
        >>> categorical_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.95, 0.0]])
        tensor([0.0513])
    """
    fn = _P + "categorical_crossentropy"
    _check_axis(fn, axis)
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        if p.dim() < 1:
            raise fail(fn, "y_true and y_pred must be at least rank 1, got rank 0")
        y = _smooth_categorical(y, label_smoothing)
        if from_logits:
            return F.softmax_cross_entropy(p, y, dim=axis, reduction="none", validate=False)
        return -(y * torch.log(_normalised_clipped(p, axis))).sum(dim=axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    r"""Categorical focal cross-entropy (``keras.losses.categorical_focal_crossentropy``).

    .. math:: \ell = -\sum_c \alpha (1 - \hat q_c)^\gamma z_c \log \hat q_c

    with :math:`\hat q` the normalised, clipped probabilities of
    :func:`categorical_crossentropy` (softmax first with ``from_logits``). Keras' form, written
    here: :func:`losskit.softmax_focal_loss` weighs the true class of integer labels only and
    does not clip.

    Args:
        y_true: one-hot or soft targets.
        y_pred: probabilities (logits with ``from_logits``).
        alpha: weighting factor (a number or a per-class list).
        gamma: focusing parameter.
        from_logits: ``y_pred`` holds logits.
        label_smoothing: as :func:`categorical_crossentropy`.
        axis: the class axis.

    Returns:
        The shape without ``axis``.

    Raises:
        ValueError: ``axis`` not an int.

    Example:
        >>> categorical_focal_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.95, 0.0]])
        tensor([3.2058e-05])
    """
    fn = _P + "categorical_focal_crossentropy"
    _check_axis(fn, axis)
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        _same_shape(fn, y, p)
        y = _smooth_categorical(y, label_smoothing)
        if from_logits:
            p = torch.softmax(p, dim=axis)
        q = _normalised_clipped(p, axis)
        a = (
            alpha
            if isinstance(alpha, (int, float))
            else as_float(alpha, "alpha", fn, p.dtype, p.device)
        )
        return (a * (1.0 - q).pow(gamma) * (-y * torch.log(q))).sum(dim=axis)


def _sparse_cce(
    fn: str, y_true: Any, y_pred: Any, from_logits: bool, ignore_class: int | None, axis: int
) -> tuple[Tensor, Tensor | None]:
    p = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
    y = as_tensor(y_true, "y_true", fn).to(p.device)
    if y.dim() == p.dim() and y.dim() > 0 and y.shape[axis] == 1:
        y = y.squeeze(axis)
    if p.dim() < 1:
        raise fail(fn, "y_pred must be at least rank 1, got rank 0")
    d = axis % p.dim()
    expected = p.shape[:d] + p.shape[d + 1 :]
    if y.shape != expected:
        raise fail(
            fn,
            f"y_true must have the shape of y_pred without its class axis, "
            f"{shape_str(expected)}, got {shape_str(y.shape)}",
        )
    y = y.long() if y.is_floating_point() else y
    mask = None
    if ignore_class is not None:
        mask = y != ignore_class
        y = torch.where(mask, y, 0)
        p = torch.where(mask.unsqueeze(d), p, 0.0)
    if from_logits:
        loss = F.sparse_softmax_cross_entropy(
            p, y, dim=d, ignore_index=_NO_IGNORE, reduction="none"
        )
    else:
        log_q = torch.log(_normalised_clipped(p, d))
        loss = -torch.gather(log_q, d, y.long().unsqueeze(d)).squeeze(d)
    if mask is not None:
        loss = torch.where(mask, loss, 0.0)
    return loss, mask


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    r"""Categorical cross-entropy against integer labels
    (``keras.losses.sparse_categorical_crossentropy``).

    .. math:: \ell = -\log \hat q_{y}, \qquad
              \hat q = \operatorname{clip}(p / \textstyle\sum_c p_c,\ 10^{-7}, 1 - 10^{-7})

    With ``from_logits`` this is :func:`losskit.sparse_softmax_cross_entropy` along ``axis``.
    Labels equal to ``ignore_class`` give 0 (and the loss classes leave them out of the mean).

    Args:
        y_true: integer labels, ``y_pred``'s shape without ``axis`` (a trailing 1 is squeezed).
        y_pred: probabilities (logits with ``from_logits``).
        from_logits: ``y_pred`` holds logits.
        ignore_class: a label value to ignore, or ``None``.
        axis: the class axis.

    Returns:
        The labels' shape.

    Raises:
        ValueError: shapes, labels out of range.

    Example:
        >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        tensor([0.0513, 2.3026])
    """
    fn = _P + "sparse_categorical_crossentropy"
    with error_context(fn, _NAMES):
        return _sparse_cce(fn, y_true, y_pred, from_logits, ignore_class, axis)[0]


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    r"""Generalised cross-entropy of Zhang & Sabuncu
    (``keras.losses.categorical_generalized_cross_entropy``).

    .. math:: \ell = \frac{1 - p_{y}^{\,q}}{q}

    Written here (no native loss): :math:`q \to 0` tends to the cross-entropy, :math:`q = 1` is
    the mean absolute error of the probabilities.

    Args:
        y_true: integer class labels ``[batch]``.
        y_pred: probabilities ``[batch, C]``.
        q: in ``(0, 1)``.

    Returns:
        ``[batch]``.

    Example:
        >>> categorical_generalized_cross_entropy([0, 1], [[0.7, 0.3], [0.2, 0.8]], q=0.5)
        tensor([0.3267, 0.2111])

    References:
        Zhang and Sabuncu, "Generalized Cross Entropy Loss for Training Deep Neural Networks with
        Noisy Labels", NeurIPS 2018.
    """
    fn = _P + "categorical_generalized_cross_entropy"
    with error_context(fn, _NAMES):
        p = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
        labels = as_tensor(y_true, "y_true", fn).long().to(p.device)
        onehot = torch.nn.functional.one_hot(labels, p.shape[-1]).to(p.dtype)
        prob = (p * onehot).sum(-1)
        return (1 - prob.pow(q)) / q


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    r"""Kullback–Leibler divergence over the last axis (``keras.losses.kl_divergence``).

    .. math:: \ell = \sum_{-1} \hat y \log(\hat y / \hat p), \qquad
              \hat{\cdot} = \operatorname{clip}(\cdot, 10^{-7}, 1)

    computed by :func:`losskit.kl_divergence` on the clipped probabilities.

    Args:
        y_true: target distributions.
        y_pred: predicted distributions, the same shape.

    Returns:
        The shape without the last axis.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])
        tensor([0.1438])
    """
    fn = _P + "kl_divergence"
    with error_context(fn, _NAMES):
        y, p = _pair(fn, y_true, y_pred)
        if p.dim() == 0:
            raise fail(fn, "y_pred must have a last axis, got a 0-dim tensor")
        return F.kl_divergence(
            p.clamp(EPSILON, 1.0),
            y.clamp(EPSILON, 1.0),
            dim=-1,
            input_kind="probs",
            target_kind="probs",
            reduction="none",
            validate=False,  # Keras clips, it does not check that rows sum to 1
        )


# ----------------------------------------------------------------------------------------------
# segmentation


def _overlap_loss(
    fn: str, y_true: Any, y_pred: Any, axis: Any, metric: str, alpha: float, beta: float
) -> Tensor:
    y, p = _pair(fn, y_true, y_pred)
    _same_shape(fn, y, p)
    dims = None if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))

    def total(x: Tensor) -> Tensor:
        return x.sum() if dims is None else x.sum(dim=dims)

    stats = torch.stack([total(y * p), total(p), total(y)])
    score = F.overlap_score(stats, metric=metric, eps=EPSILON, alpha=alpha, beta=beta)
    # Keras has no empty-set rule: an empty target and prediction score 0/eps = 0.
    return 1.0 - torch.where(stats[1] + stats[2] == 0, 0.0, score)


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    r"""Dice loss (``keras.losses.dice``).

    .. math:: \ell = 1 - \frac{2 \sum y p}{\sum y + \sum p + \epsilon}

    sums over ``axis`` (every element for ``None``), by :func:`losskit.overlap_score`
    (``metric="dice"``, Keras' :math:`\epsilon = 10^{-7}`). An empty target and prediction give
    loss 1 as in Keras (the native losses give 0).

    Args:
        y_true: targets.
        y_pred: predictions, the same shape.
        axis: ``None`` or the axes summed.

    Returns:
        A scalar for ``axis=None``, else the shape without ``axis``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> dice([[1.0, 0.0], [1.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]], axis=(1,))
        tensor([0.3333, 0.3333])
    """
    fn = _P + "dice"
    with error_context(fn, _NAMES):
        return _overlap_loss(fn, y_true, y_pred, axis, "dice", 0.5, 0.5)


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> Tensor:
    r"""Tversky loss as Keras 3.15.1 computes it (``keras.losses.tversky``).

    .. math:: \ell = 1 - \frac{\sum y p}{\sum y p + \alpha \sum y (1 - p) + \beta \sum (1 - y) p
              + \epsilon}

    Keras 3.15.1 weighs the false *negatives* :math:`\sum y (1 - p)` by ``alpha`` and the false
    positives by ``beta`` (its main branch has swapped them back to Salehi et al.); this follows
    the release: :func:`losskit.overlap_score` with ``alpha`` and ``beta`` exchanged.

    Args:
        y_true: targets.
        y_pred: predictions, the same shape.
        alpha: Keras' ``alpha``.
        beta: Keras' ``beta``.
        axis: ``None`` or the axes summed.

    Returns:
        A scalar for ``axis=None``, else the shape without ``axis``.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> tversky([[1.0, 1.0, 0.0]], [[1.0, 0.0, 1.0]], alpha=0.7, beta=0.3)
        tensor(0.5000)
    """
    fn = _P + "tversky"
    with error_context(fn, _NAMES):
        return _overlap_loss(fn, y_true, y_pred, axis, "tversky", beta, alpha)


# ----------------------------------------------------------------------------------------------
# metric learning, sequences


def _circle(
    fn: str,
    y_true: Any,
    y_pred: Any,
    ref_labels: Any,
    ref_embeddings: Any,
    remove_diagonal: bool,
    gamma: float,
    margin: float,
) -> Tensor:
    x = as_float(y_pred, "y_pred", fn)
    labels = as_tensor(y_true, "y_true", fn).long().reshape(-1, 1).to(x.device)
    ref = (
        x
        if ref_embeddings is None
        else as_float(ref_embeddings, "ref_embeddings", fn, x.dtype, x.device)
    )
    ref_y = labels if ref_labels is None else as_tensor(ref_labels, "ref_labels", fn).long()
    ref_y = ref_y.reshape(-1, 1).to(x.device)
    distances = (1 - x @ ref.T).clamp_min(0.0)
    positive = labels == ref_y.T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(
            labels.numel(), ref_y.numel(), dtype=torch.bool, device=x.device
        )
    pos_w = ((margin + distances) * positive).clamp_min(0.0)
    neg_w = ((1 + margin - distances) * negative).clamp_min(0.0)
    pos = -gamma * pos_w * (margin - distances)
    neg = gamma * neg_w * (1 - margin - distances)
    p_loss = torch.logsumexp(torch.where(positive, pos, -torch.inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg, -torch.inf), dim=1)
    return torch.nn.functional.softplus(p_loss + n_loss)


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    r"""Circle loss of Sun et al. on L2-normalised embeddings (``keras.losses.circle``).

    .. math:: \ell_i = \operatorname{softplus}\Big(\log\sum_{j \in P_i} e^{-\gamma a_p
              (s_p - \Delta_p)} + \log\sum_{j \in N_i} e^{\gamma a_n (s_n - \Delta_n)}\Big)

    with Keras' cosine-distance parametrisation (:math:`O_p = m`, :math:`O_n = 1 + m`,
    :math:`\Delta_p = m`, :math:`\Delta_n = 1 - m`). Written here: there is no native circle
    loss. The class :class:`Circle` averages over the samples with a positive loss only.

    Args:
        y_true: integer labels ``[batch]``.
        y_pred: L2-normalised embeddings ``[batch, dim]``.
        ref_labels: labels of the reference embeddings (default ``y_true``).
        ref_embeddings: reference embeddings (default ``y_pred``).
        remove_diagonal: leave each sample out of its own positives.
        gamma: scale.
        margin: relaxation margin :math:`m`.

    Returns:
        ``[batch]``.

    Example:
        >>> x = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
        >>> circle([0, 0, 1], x, gamma=1.0).shape
        torch.Size([3])

    References:
        Sun et al., "Circle Loss: A Unified Perspective of Pair Similarity Optimization", CVPR
        2020.
    """
    fn = _P + "circle"
    with error_context(fn, _NAMES):
        return _circle(
            fn, y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin
        )


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    r"""CTC loss with blank 0 and padded integer labels (``keras.losses.ctc``).

    .. math:: \ell_n = -\log \sum_{\pi \in \mathcal B^{-1}(y_n)} \prod_t
              \operatorname{softmax}(x_{n,t})_{\pi_t}

    computed by :func:`losskit.ctc_loss` (``blank=0``) on ``log_softmax(y_pred)``; each label
    row counts its non-zero entries and, as Keras, its first that-many entries are the target
    (a 0 among them included); every sample uses all frames.

    Args:
        y_true: ``[batch, max_length]`` integer labels, 0 = blank / padding.
        y_pred: ``[batch, frames, C]`` logits.

    Returns:
        ``[batch]``.

    Raises:
        ValueError: ``y_true`` not rank 2 or ``y_pred`` not rank 3.

    Example:
        >>> ctc([[1]], torch.zeros(1, 3, 2))
        tensor([0.2877])
    """
    fn = _P + "ctc"
    with error_context(fn, {"log_probs": "y_pred", "targets": "y_true"}):
        x = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
        labels = as_tensor(y_true, "y_true", fn).to(x.device)
        if labels.dim() != 2:
            raise fail(
                fn,
                f"y_true must have shape (batch_size, max_length), got {shape_str(labels.shape)}",
            )
        if x.dim() != 3:
            raise fail(
                fn,
                f"y_pred must have shape (batch_size, max_length, num_classes), got "
                f"{shape_str(x.shape)}",
            )
        labels = labels.long()
        num_classes = x.shape[-1]
        if labels.numel() and bool(((labels < 0) | (labels >= num_classes)).any()):
            raise fail(
                fn,
                f"y_true must hold labels in [0, {num_classes - 1}], got "
                f"{int(labels[(labels < 0) | (labels >= num_classes)][0])}",
            )
        label_length = (labels != 0).sum(-1)
        frames = torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)
        log_probs = torch.log_softmax(x.transpose(0, 1), dim=-1)
        # As Keras: each row's first count-of-non-zero labels are the target, a 0 among them
        # included (the native check refusing a blank inside a target is off for that reason).
        return F.ctc_loss(
            log_probs, labels, frames, label_length, blank=0, reduction="none", validate=False
        )


def ctc_batch_cost(y_true: Any, y_pred: Any, input_length: Any, label_length: Any) -> Tensor:
    r"""Legacy Keras ``backend.ctc_batch_cost``: CTC of softmax outputs, blank = last class.

    .. math:: \ell_n = \text{ctc\_loss}_{\text{TF-1}}\big(\log(y_{pred} + \epsilon)\big)

    As Keras' TensorFlow implementation: ``tf.compat.v1.nn.ctc_loss`` (blank = last class) on
    ``log(y_pred + 1e-7)`` of the batch-major softmax outputs, here
    :func:`losskit.compat.tf.nn.ctc_loss`.

    Args:
        y_true: ``[batch, max_label_length]`` labels (padding past ``label_length`` ignored).
        y_pred: ``[batch, frames, C]`` softmax probabilities.
        input_length: ``[batch, 1]`` frames per sample.
        label_length: ``[batch, 1]`` labels per sample.

    Returns:
        ``[batch, 1]``.

    Example:
        >>> ctc_batch_cost([[0]], torch.full((1, 3, 2), 0.5), [[3]], [[1]])
        tensor([[0.2877]])
    """
    from ..tf import SparseTensor
    from ..tf import nn as tf_nn

    fn = _P + "ctc_batch_cost"
    with error_context(
        fn, {"inputs": "y_pred", "labels": "y_true", "sequence_length": "input_length"}
    ):
        probs = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
        labels = as_tensor(y_true, "y_true", fn).long().to(probs.device)
        il = as_int(input_length, "input_length", fn).reshape(-1)
        ll = as_int(label_length, "label_length", fn).reshape(-1).long()
        if labels.dim() != 2 or ll.shape[0] != labels.shape[0]:
            raise fail(
                fn,
                f"y_true must have shape (batch_size, max_label_length) matching "
                f"label_length, got y_true {shape_str(labels.shape)} and "
                f"label_length {shape_str(ll.shape)}",
            )
        keep = torch.arange(labels.shape[1], device=labels.device) < ll[:, None]
        rows, cols = keep.nonzero(as_tuple=True)
        sparse = SparseTensor(torch.stack([rows, cols], 1), labels[rows, cols], list(labels.shape))
        inputs = torch.log(probs.transpose(0, 1) + EPSILON)
        return tf_nn.ctc_loss(sparse, inputs, il)[:, None]
