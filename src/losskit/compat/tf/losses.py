"""``tf.compat.v1.losses`` on the native core: TensorFlow-1 signatures, argument names and defaults.

Each function computes its unreduced loss with the native losskit function and reduces it with
TensorFlow-1's table (:func:`losskit._core.reduction.reduce_weighted`): ``weights`` multiply the
unreduced loss, then

=================================  ====================================================
``Reduction.NONE``                 the weighted losses, the labels' shape
``Reduction.SUM``                  :math:`S = \\sum w \\odot \\ell`
``Reduction.MEAN``                 :math:`S / \\sum w` (the weights broadcast to the losses)
``Reduction.SUM_OVER_BATCH_SIZE``  :math:`S / \\text{numel}(\\ell)`
``Reduction.SUM_BY_NONZERO_WEIGHTS`` (default)  :math:`S / \\#\\{w \\ne 0\\}` (broadcast)
=================================  ====================================================

and a division by zero gives 0 (TensorFlow's ``div_no_nan``). ``weights`` are a scalar or a
tensor of the losses' rank whose every dimension is 1 or the losses' (TensorFlow's
``assert_broadcastable``); any other shape is refused with a ``ValueError`` naming ``weights``.

Differences from TensorFlow, all deliberate: float64 inputs are computed and returned in float64
(TensorFlow-1 casts to float32); integer inputs are computed in float32 as TensorFlow does;
``scope`` and ``loss_collection`` are accepted and ignored (there is no graph collection).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ... import functional as F
from ..._core.checks import error_context, fail, shape_str, speaks_as
from ..._core.reduction import reduce_weighted
from .._convert import as_float, as_int, device_of, float_dtype

__all__ = [
    "Reduction",
    "absolute_difference",
    "compute_weighted_loss",
    "hinge_loss",
    "huber_loss",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]

_P = "compat.tf.losses."
NO_IGNORE = -(2**62)
"""An ``ignore_index`` no label takes: TensorFlow ignores no label (a -100 is out of range)."""
LOSSES = "losses"
"""The default ``loss_collection`` (TensorFlow's ``GraphKeys.LOSSES``); accepted and ignored."""


class Reduction:
    """Types of loss reduction of ``tf.compat.v1.losses`` (the same strings as TensorFlow's).

    ``NONE`` keeps the weighted losses; ``SUM`` adds them; ``MEAN`` divides the sum by the sum of
    the weights; ``SUM_OVER_BATCH_SIZE`` by the number of elements of the losses;
    ``SUM_BY_NONZERO_WEIGHTS`` (the default of every loss, also called
    ``SUM_OVER_NONZERO_WEIGHTS``) by the number of non-zero weights.

    Example:
        >>> Reduction.SUM_BY_NONZERO_WEIGHTS
        'weighted_sum_by_nonzero_weights'
        >>> Reduction.validate("weighted_mean")
        >>> Reduction.validate("mean")
        Traceback (most recent call last):
        ...
        ValueError: compat.tf.losses.Reduction.validate: Invalid Reduction Key mean.
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every reduction key, in TensorFlow's order."""
        return (
            cls.NONE,
            cls.SUM,
            cls.MEAN,
            cls.SUM_OVER_BATCH_SIZE,
            cls.SUM_OVER_NONZERO_WEIGHTS,
            cls.SUM_BY_NONZERO_WEIGHTS,
        )

    @classmethod
    def validate(cls, key: str) -> None:
        """Raise ``ValueError`` unless ``key`` is one of :meth:`all`."""
        if key not in cls.all():
            raise fail(_P + "Reduction.validate", f"Invalid Reduction Key {key}.")


_TABLE = {
    Reduction.NONE: "none",
    Reduction.SUM: "sum",
    Reduction.MEAN: "mean",
    Reduction.SUM_OVER_BATCH_SIZE: "sum_over_batch_size",
    Reduction.SUM_BY_NONZERO_WEIGHTS: "sum_by_nonzero_weights",
}


def _native_reduction(fn: str, reduction: str) -> str:
    if not isinstance(reduction, str) or reduction not in _TABLE:
        choices = ", ".join(
            f"Reduction.{k} ({getattr(Reduction, k)!r})"
            for k in ("NONE", "SUM", "MEAN", "SUM_OVER_BATCH_SIZE", "SUM_BY_NONZERO_WEIGHTS")
        )
        raise fail(
            fn,
            f"Invalid Reduction Key {reduction}: reduction must be one of {choices}; "
            f"got {reduction!r}",
        )
    return _TABLE[reduction]


def _weights(fn: str, weights: Any, losses: Tensor, loss_name: str) -> Tensor:
    """``weights`` as a tensor that TensorFlow's ``assert_broadcastable`` accepts for ``losses``."""
    if weights is None:
        raise fail(fn, "weights must not be None (pass 1.0 for unweighted losses)")
    w = as_float(weights, "weights", fn, losses.dtype, losses.device)
    if w.dim() == 0:
        return w
    if w.dim() != losses.dim() or any(
        a != 1 and a != b for a, b in zip(w.shape, losses.shape, strict=True)
    ):
        raise fail(
            fn,
            f"weights can not be broadcast to {loss_name}: weights must be a scalar or have "
            f"the rank of {loss_name} ({losses.dim()}) with every dimension 1 or equal to "
            f"{loss_name}'s, got weights {shape_str(w.shape)} and {loss_name} "
            f"{shape_str(losses.shape)}",
        )
    return w


def _reduce(fn: str, losses: Tensor, weights: Any, reduction: str, loss_name: str) -> Tensor:
    mode = _native_reduction(fn, reduction)
    w = _weights(fn, weights, losses, loss_name)
    return reduce_weighted(losses, w, mode, fn=fn)


def _pair(fn: str, labels: Any, predictions: Any, names: tuple[str, str]) -> tuple[Tensor, Tensor]:
    """Labels and predictions as floating tensors of one dtype and the same shape."""
    y = as_float(labels, names[0], fn)
    p = as_float(predictions, names[1], fn)
    dtype = float_dtype(y, p)
    device = device_of(predictions, labels)
    y, p = y.to(device=device, dtype=dtype), p.to(device=device, dtype=dtype)
    if y.shape != p.shape:
        raise fail(
            fn,
            f"{names[1]} and {names[0]} must have the same shape, got {names[1]} "
            f"{shape_str(p.shape)} and {names[0]} {shape_str(y.shape)}",
        )
    return y, p


def compute_weighted_loss(
    losses: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Weight and reduce a loss tensor (``tf.compat.v1.losses.compute_weighted_loss``).

    .. math::

        S = \sum_i w_i \ell_i, \qquad
        \text{result} = S / D_{\text{reduction}}

    with :math:`D` of the table in :mod:`losskit.compat.tf.losses`.

    Args:
        losses: the unreduced losses ``[d_0, ..., d_{r-1}]``.
        weights: a scalar or a tensor of rank ``r`` whose dimensions are 1 or the losses'.
        scope: ignored (TensorFlow's name scope).
        loss_collection: ignored (TensorFlow's graph collection).
        reduction: a :class:`Reduction` key.

    Returns:
        The losses' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: ``weights`` do not broadcast to ``losses``, unknown ``reduction``.

    Example:
        >>> compute_weighted_loss([[1.0, 2.0], [3.0, 4.0]], [[1.0], [0.0]])
        tensor(1.5000)
        >>> compute_weighted_loss([1.0, 2.0], 2.0, reduction=Reduction.MEAN)
        tensor(1.5000)

    References:
        ``tf.compat.v1.losses.compute_weighted_loss``.
    """
    fn = _P + "compute_weighted_loss"
    with error_context(fn):
        values = as_float(losses, "losses", fn)
        return _reduce(fn, values, weights, reduction, "losses")


@speaks_as(_P + "absolute_difference", input="predictions", target="labels")
def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Absolute difference loss (``tf.compat.v1.losses.absolute_difference``).

    .. math:: \ell_i = |\text{predictions}_i - \text{labels}_i|

    computed by :func:`losskit.mae_loss`, reduced as :func:`compute_weighted_loss`.

    Args:
        labels: ground truth, any shape.
        predictions: the predictions, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast, unknown ``reduction``.

    Example:
        >>> absolute_difference([1.0, 2.0, 3.0], [1.5, 2.0, 1.0], weights=[1.0, 0.0, 1.0])
        tensor(1.2500)

    References:
        ``tf.compat.v1.losses.absolute_difference``.
    """
    fn = _P + "absolute_difference"
    y, p = _pair(fn, labels, predictions, ("labels", "predictions"))
    return _reduce(fn, F.mae_loss(p, y, reduction="none"), weights, reduction, "labels")


@speaks_as(_P + "mean_squared_error", input="predictions", target="labels")
def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Sum-of-squares loss (``tf.compat.v1.losses.mean_squared_error``).

    .. math:: \ell_i = (\text{predictions}_i - \text{labels}_i)^2

    computed by :func:`losskit.mse_loss`, reduced as :func:`compute_weighted_loss`.

    Args:
        labels: ground truth, any shape.
        predictions: the predictions, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast, unknown ``reduction``.

    Example:
        >>> mean_squared_error([[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]],
        ...                    weights=[[1.0], [0.0]])
        tensor(0.5000)

    References:
        ``tf.compat.v1.losses.mean_squared_error``.
    """
    fn = _P + "mean_squared_error"
    y, p = _pair(fn, labels, predictions, ("labels", "predictions"))
    return _reduce(fn, F.mse_loss(p, y, reduction="none"), weights, reduction, "labels")


@speaks_as(_P + "huber_loss", input="predictions", target="labels")
def huber_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    delta: float = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Huber loss (``tf.compat.v1.losses.huber_loss``).

    .. math::

        \ell_i = \begin{cases} \tfrac12 e_i^2 & |e_i| \le \delta \\
                 \delta |e_i| - \tfrac12 \delta^2 & \text{otherwise} \end{cases},
        \qquad e = \text{predictions} - \text{labels}

    computed by :func:`losskit.huber_loss`, reduced as :func:`compute_weighted_loss`.

    Args:
        labels: ground truth, any shape.
        predictions: the predictions, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        delta: the point where the loss turns from quadratic to linear.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast, unknown ``reduction``.

    Example:
        >>> huber_loss([0.0, 0.0], [0.5, 3.0], reduction=Reduction.NONE)
        tensor([0.1250, 2.5000])

    References:
        ``tf.compat.v1.losses.huber_loss``; Huber, "Robust Estimation of a Location Parameter",
        1964.
    """
    fn = _P + "huber_loss"
    y, p = _pair(fn, labels, predictions, ("labels", "predictions"))
    losses = F.huber_loss(p, y, delta=delta, reduction="none")
    return _reduce(fn, losses, weights, reduction, "labels")


@speaks_as(_P + "log_loss", input="predictions", target="labels")
def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    epsilon: float = 1e-7,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Log loss of probabilities (``tf.compat.v1.losses.log_loss``).

    .. math::

        \ell_i = -y_i \log(p_i + \epsilon) - (1 - y_i) \log(1 - p_i + \epsilon)

    The :math:`\epsilon` inside each logarithm is TensorFlow's, not a clipping of :math:`p`:
    no native loss has this form (:func:`losskit.binary_cross_entropy` clamps the logarithms at
    -100), so it is written here.

    Args:
        labels: ground truth in ``[0, 1]``, any shape.
        predictions: probabilities, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        epsilon: added inside the logarithms.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast, unknown ``reduction``.

    Example:
        >>> log_loss([1.0, 0.0], [0.9, 0.2], reduction=Reduction.NONE)
        tensor([0.1054, 0.2231])

    References:
        ``tf.compat.v1.losses.log_loss``.
    """
    fn = _P + "log_loss"
    y, p = _pair(fn, labels, predictions, ("labels", "predictions"))
    losses = -y * torch.log(p + epsilon) - (1 - y) * torch.log(1 - p + epsilon)
    return _reduce(fn, losses, weights, reduction, "labels")


@speaks_as(_P + "hinge_loss", input="logits", target="labels")
def hinge_loss(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Hinge loss with labels in ``{0, 1}`` (``tf.compat.v1.losses.hinge_loss``).

    .. math:: \ell_i = \max(0, 1 - (2 y_i - 1)\, x_i)

    computed by :func:`losskit.hinge_loss` with ``labels="01"``, reduced as
    :func:`compute_weighted_loss`.

    Args:
        labels: ground truth in ``{0, 1}``, any shape.
        logits: raw scores, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, labels outside ``{0, 1}`` (validation on), ``weights`` do not
            broadcast, unknown ``reduction``.

    Example:
        >>> hinge_loss([1.0, 0.0, 1.0], [2.0, 0.5, -1.0], reduction=Reduction.NONE)
        tensor([0.0000, 1.5000, 2.0000])

    References:
        ``tf.compat.v1.losses.hinge_loss``.
    """
    fn = _P + "hinge_loss"
    y, x = _pair(fn, labels, logits, ("labels", "logits"))
    losses = F.hinge_loss(x, y, labels="01", reduction="none")
    return _reduce(fn, losses, weights, reduction, "labels")


@speaks_as(_P + "sigmoid_cross_entropy", input="logits", target="multi_class_labels")
def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Sigmoid cross-entropy of logits (``tf.compat.v1.losses.sigmoid_cross_entropy``).

    .. math::

        \ell_i = -z_i \log \sigma(x_i) - (1 - z_i) \log(1 - \sigma(x_i)),
        \qquad z = y (1 - \epsilon) + \tfrac12 \epsilon

    computed by :func:`losskit.sigmoid_cross_entropy`, reduced as
    :func:`compute_weighted_loss`.

    Args:
        multi_class_labels: targets in ``[0, 1]``, ``[batch, num_classes]`` (any shape).
        logits: logits, the labels' shape.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        label_smoothing: :math:`\epsilon`, pulling the targets toward 1/2.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast, smoothing outside ``[0, 1]``,
            unknown ``reduction``.

    Example:
        >>> sigmoid_cross_entropy([[1.0, 0.0]], [[2.0, -1.0]], label_smoothing=0.2)
        tensor(0.3701)

    References:
        ``tf.compat.v1.losses.sigmoid_cross_entropy``.
    """
    fn = _P + "sigmoid_cross_entropy"
    y, x = _pair(fn, multi_class_labels, logits, ("multi_class_labels", "logits"))
    losses = F.sigmoid_cross_entropy(
        x, y, label_smoothing=label_smoothing, reduction="none", validate=False
    )
    return _reduce(fn, losses, weights, reduction, "multi_class_labels")


@speaks_as(_P + "softmax_cross_entropy", input="logits", target="onehot_labels")
def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Softmax cross-entropy against one-hot or soft labels
    (``tf.compat.v1.losses.softmax_cross_entropy``).

    .. math::

        \ell_n = -\sum_c z_{n,c} \log \operatorname{softmax}(x_n)_c,
        \qquad z = y (1 - \epsilon) + \epsilon / C

    computed by :func:`losskit.softmax_cross_entropy` over the last axis, reduced as
    :func:`compute_weighted_loss` over the ``[batch]`` losses.

    Args:
        onehot_labels: ``[batch, num_classes]`` one-hot or soft labels.
        logits: ``[batch, num_classes]`` logits.
        weights: a scalar or ``[batch]`` weights (one per sample).
        label_smoothing: :math:`\epsilon`, spreading mass uniformly over the classes.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        ``[batch]`` for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: shapes differ, ``weights`` do not broadcast to ``[batch]``, smoothing
            outside ``[0, 1]``, unknown ``reduction``.

    Example:
        >>> softmax_cross_entropy([[1.0, 0.0, 0.0]], [[2.0, 0.0, -1.0]])
        tensor(0.1698)

    References:
        ``tf.compat.v1.losses.softmax_cross_entropy``.
    """
    fn = _P + "softmax_cross_entropy"
    y, x = _pair(fn, onehot_labels, logits, ("onehot_labels", "logits"))
    if x.dim() == 0:
        raise fail(fn, "logits must have a class dimension, got a 0-dim tensor")
    losses = F.softmax_cross_entropy(
        x, y, dim=-1, label_smoothing=label_smoothing, reduction="none", validate=False
    )
    return _reduce(fn, losses, weights, reduction, "losses")


@speaks_as(_P + "sparse_softmax_cross_entropy", input="logits", target="labels")
def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    r"""Softmax cross-entropy against integer labels
    (``tf.compat.v1.losses.sparse_softmax_cross_entropy``).

    .. math:: \ell_n = -\log \operatorname{softmax}(x_n)_{y_n}

    computed by :func:`losskit.sparse_softmax_cross_entropy` over the last axis. As TensorFlow,
    labels ``[d_0, ..., d_{r-1}, 1]`` against logits ``[d_0, ..., d_{r-1}, C]`` and weights one
    rank above the labels with a last dimension of 1 are squeezed first.

    Args:
        labels: integer labels in ``[0, C)``, ``[d_0, ..., d_{r-1}]``.
        logits: ``[d_0, ..., d_{r-1}, C]``.
        weights: a scalar or a tensor of the labels' rank with dimensions 1 or the labels'.
        scope: ignored.
        loss_collection: ignored.
        reduction: a :class:`Reduction` key.

    Returns:
        The labels' shape for ``Reduction.NONE``, else a scalar.

    Raises:
        ValueError: labels of the wrong rank or shape, labels out of range (validation on),
            ``weights`` do not broadcast, unknown ``reduction``.
        TypeError: floating labels.

    Example:
        >>> sparse_softmax_cross_entropy([0, 2], [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]],
        ...                              reduction=Reduction.NONE)
        tensor([0.1698, 1.0986])

    References:
        ``tf.compat.v1.losses.sparse_softmax_cross_entropy``.
    """
    fn = _P + "sparse_softmax_cross_entropy"
    x = as_float(logits, "logits", fn)
    y = as_int(labels, "labels", fn).to(x.device)
    if x.dim() == 0:
        raise fail(fn, "logits must have a class dimension, got a 0-dim tensor")
    if y.dim() == x.dim() and y.dim() > 0 and y.shape[-1] == 1:
        y = y.squeeze(-1)
    if y.dim() != x.dim() - 1:
        raise fail(
            fn,
            f"labels must have rank {x.dim() - 1} (the rank of logits minus 1), got labels "
            f"{shape_str(y.shape)} and logits {shape_str(x.shape)}",
        )
    if y.shape != x.shape[:-1]:
        raise fail(
            fn,
            f"labels must have the shape of logits without its last dimension, "
            f"{shape_str(x.shape[:-1])}, got {shape_str(y.shape)}",
        )
    w: Any = weights
    if weights is not None and not isinstance(weights, (int, float)):
        w = as_float(weights, "weights", fn, x.dtype, x.device)
        if w.dim() == y.dim() + 1 and w.shape[-1] == 1:
            w = w.squeeze(-1)
    losses = F.sparse_softmax_cross_entropy(x, y, dim=-1, ignore_index=NO_IGNORE, reduction="none")
    return _reduce(fn, losses, w, reduction, "labels")
