"""The loss classes of ``keras.losses`` (Keras 3.15.1): ``reduction`` and
``__call__(y_true, y_pred, sample_weight=None)`` around the functions of
:mod:`losskit.compat.keras.losses`.

The reduction is Keras 3's ``reduce_weighted_values`` (:func:`losskit._core.reduction.reduce_keras`)
with Keras' masks (``SparseCategoricalCrossentropy(ignore_class=...)``, ``Circle``) turned into
weights as Keras' ``apply_mask`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..._core.checks import error_context, fail
from ..._core.reduction import KERAS_REDUCTIONS, _keras_same_rank, reduce_keras
from .._convert import as_float, as_tensor, device_of
from .losses import (
    _NAMES,
    _P,
    _circle,
    _sparse_cce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
    tversky,
)

__all__ = [
    "CTC",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge",
    "Circle",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
]


class Loss:
    """Base of the Keras loss classes: ``reduction`` and ``__call__(y_true, y_pred,
    sample_weight=None)`` as ``keras.losses.Loss``.

    Subclasses implement :meth:`call` (the per-sample losses, as in Keras; a loss with a mask
    overrides :meth:`call_with_mask`); ``__call__`` reduces them with Keras 3's
    ``reduce_weighted_values``:
    ``"sum_over_batch_size"`` and ``"mean"`` divide the weighted sum by the number of elements
    (of the masked elements, when a mask exists), ``"mean_with_sample_weight"`` by the summed
    sample weights, ``"sum"`` by 1; ``"none"`` or ``None`` keep the weighted losses.

    Args:
        name: the loss' name (default: the class' Keras name).
        reduction: see above.
        dtype: ``None`` keeps the inputs' floating dtype (Keras uses ``floatx``); a floating
            dtype (``"bfloat16"``, ``torch.float16``, ...) converts ``y_pred`` to it and returns
            the loss in it (half and bfloat16 are computed in float32, the native rule).

    Raises:
        ValueError: unknown ``reduction``.
    """

    keras_name = "loss"

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        self.name = name or self.keras_name
        self.reduction = _standardize_reduction(type(self).__name__, reduction)
        self.dtype = dtype

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The per-sample losses (Keras' ``Loss.call``; override it in a subclass)."""
        raise NotImplementedError

    def call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor | None]:
        """The per-sample losses and Keras' mask of those that count (``None``: all of them).

        The default is :meth:`call` without a mask; the losses that set a Keras mask
        (``SparseCategoricalCrossentropy(ignore_class=...)``, ``Circle``) override this.
        """
        return as_float(self.call(y_true, y_pred), "loss", _P + type(self).__name__), None

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        fn = _P + type(self).__name__
        with error_context(fn, _NAMES):
            dtype = self._torch_dtype(fn)
            if dtype is not None:
                y_pred = as_float(y_pred, "y_pred", fn, dtype)
            losses, mask = self.call_with_mask(y_true, y_pred)
            weight = None
            if sample_weight is not None:
                weight = as_float(sample_weight, "sample_weight", fn, losses.dtype, losses.device)
            weight = _apply_mask(weight, mask, losses, str(self.reduction))
            reduction = "none" if self.reduction is None else self.reduction
            out = reduce_keras(losses, weight, reduction, fn=fn)
            # computed in at least float32 (the native rule), returned in the requested dtype
            return out if dtype is None else out.to(dtype)

    def _torch_dtype(self, fn: str) -> torch.dtype | None:
        if self.dtype is None or isinstance(self.dtype, torch.dtype):
            return self.dtype
        dtype = getattr(torch, str(self.dtype), None)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise fail(fn, f"dtype must name a floating dtype, got {self.dtype!r}", TypeError)
        return dtype

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., "reduction": ...}`` and the options, as Keras."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """The loss :meth:`get_config` describes."""
        return cls(**config)


def _standardize_reduction(cls: str, reduction: str | None) -> str | None:
    if reduction is not None and reduction not in KERAS_REDUCTIONS:
        choices = ", ".join(repr(r) for r in (*KERAS_REDUCTIONS, None))
        raise fail(
            _P + cls,
            f"Invalid value for argument reduction: must be one of {choices}; got {reduction!r}",
        )
    return reduction


def _apply_mask(
    weight: Tensor | None, mask: Tensor | None, losses: Tensor, reduction: str
) -> Tensor | None:
    """Keras' ``apply_mask``: a mask becomes a weight (scaled by total/valid for the means)."""
    if mask is None:
        return weight
    m = mask.to(losses.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        total = float(mask.numel())
        valid = m.sum()
        scale = torch.where(valid == 0, torch.zeros_like(valid), total / valid)
        m = torch.where(mask, scale, 0.0)
    if weight is None:
        return m
    m, weight = _keras_same_rank(m, weight)
    return weight * m


class _Wrapper(Loss):
    """Keras' ``LossFunctionWrapper``: match the ranks of ``y_true`` and ``y_pred``, then call
    the function."""

    function: Callable[..., Tensor]

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.options = options

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        fn = _P + type(self).__name__
        p = as_float(y_pred, "y_pred", fn, device=device_of(y_pred, y_true))
        y = as_tensor(y_true, "y_true", fn).to(p.device)
        y, p = _keras_same_rank(y, p)
        return type(self).function(y, p, **self.options)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.options}


class MeanSquaredError(_Wrapper):
    """Keras' ``MeanSquaredError``: :func:`mean_squared_error` reduced by ``reduction``.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
        tensor(0.5000)
        >>> MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]],
        ...                    sample_weight=[1.0, 0.0])
        tensor(0.2500)
    """

    function = staticmethod(mean_squared_error)
    keras_name = "mean_squared_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "mean_squared_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_Wrapper):
    """Keras' ``MeanAbsoluteError``: :func:`mean_absolute_error` reduced by ``reduction``."""

    function = staticmethod(mean_absolute_error)
    keras_name = "mean_absolute_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "mean_absolute_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_Wrapper):
    """Keras' ``MeanAbsolutePercentageError``: the percentage error, reduced."""

    function = staticmethod(mean_absolute_percentage_error)
    keras_name = "mean_absolute_percentage_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "mean_absolute_percentage_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_Wrapper):
    """Keras' ``MeanSquaredLogarithmicError``: the squared log error, reduced."""

    function = staticmethod(mean_squared_logarithmic_error)
    keras_name = "mean_squared_logarithmic_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "mean_squared_logarithmic_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(_Wrapper):
    """Keras' ``CosineSimilarity``: :func:`cosine_similarity` along ``axis``, reduced."""

    function = staticmethod(cosine_similarity)
    keras_name = "cosine_similarity"

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "cosine_similarity",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(_Wrapper):
    """Keras' ``Huber``: :func:`huber` with ``delta``, reduced."""

    function = staticmethod(huber)
    keras_name = "huber_loss"

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "huber_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(_Wrapper):
    """Keras' ``LogCosh``: :func:`log_cosh` reduced by ``reduction``."""

    function = staticmethod(log_cosh)
    keras_name = "log_cosh"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "log_cosh",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Hinge(_Wrapper):
    """Keras' ``Hinge``: :func:`hinge` reduced by ``reduction``."""

    function = staticmethod(hinge)
    keras_name = "hinge"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_Wrapper):
    """Keras' ``SquaredHinge``: :func:`squared_hinge` reduced by ``reduction``."""

    function = staticmethod(squared_hinge)
    keras_name = "squared_hinge"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "squared_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_Wrapper):
    """Keras' ``CategoricalHinge``: :func:`categorical_hinge` reduced by ``reduction``."""

    function = staticmethod(categorical_hinge)
    keras_name = "categorical_hinge"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "categorical_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_Wrapper):
    """Keras' ``KLDivergence``: :func:`kl_divergence` reduced by ``reduction``."""

    function = staticmethod(kl_divergence)
    keras_name = "kl_divergence"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "kl_divergence",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Poisson(_Wrapper):
    """Keras' ``Poisson``: :func:`poisson` reduced by ``reduction``."""

    function = staticmethod(poisson)
    keras_name = "poisson"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "poisson",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(_Wrapper):
    """Keras' ``BinaryCrossentropy``: :func:`binary_crossentropy` with its options, reduced.

    Example:
        >>> BinaryCrossentropy(from_logits=True)([[0.0, 1.0]], [[-2.0, 3.0]])
        tensor(0.0878)
    """

    function = staticmethod(binary_crossentropy)
    keras_name = "binary_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryFocalCrossentropy(_Wrapper):
    """Keras' ``BinaryFocalCrossentropy``: :func:`binary_focal_crossentropy`, reduced."""

    function = staticmethod(binary_focal_crossentropy)
    keras_name = "binary_focal_crossentropy"

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalCrossentropy(_Wrapper):
    """Keras' ``CategoricalCrossentropy``: :func:`categorical_crossentropy`, reduced."""

    function = staticmethod(categorical_crossentropy)
    keras_name = "categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalFocalCrossentropy(_Wrapper):
    """Keras' ``CategoricalFocalCrossentropy``: the focal cross-entropy, reduced."""

    function = staticmethod(categorical_focal_crossentropy)
    keras_name = "categorical_focal_crossentropy"

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "categorical_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalGeneralizedCrossEntropy(_Wrapper):
    """Keras' ``CategoricalGeneralizedCrossEntropy``: the generalised cross-entropy, reduced.

    :func:`categorical_generalized_cross_entropy` with ``q`` in ``(0, 1)``.

    Raises:
        ValueError: ``q`` outside ``(0, 1)``.
    """

    function = staticmethod(categorical_generalized_cross_entropy)
    keras_name = "categorical_generalized_cross_entropy"

    def __init__(
        self,
        q: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "categorical_generalized_cross_entropy",
        dtype: Any = None,
    ) -> None:
        if not 0 < q < 1:
            raise fail(
                _P + "CategoricalGeneralizedCrossEntropy", f"q must lie in (0, 1), got {q!r}"
            )
        super().__init__(reduction=reduction, name=name, dtype=dtype, q=q)


class SparseCategoricalCrossentropy(Loss):
    """Keras' ``SparseCategoricalCrossentropy``: the integer-label cross-entropy, reduced.

    :func:`sparse_categorical_crossentropy`; with ``ignore_class`` the ignored labels are masked
    out of the mean, as Keras.

    Example:
        >>> SparseCategoricalCrossentropy(ignore_class=-1)([1, -1], [[0.05, 0.95], [0.5, 0.5]])
        tensor(0.0513)
    """

    keras_name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str | None = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.call_with_mask(y_true, y_pred)[0]

    def call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor | None]:
        fn = _P + type(self).__name__
        return _sparse_cce(fn, y_true, y_pred, self.from_logits, self.ignore_class, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


class Circle(Loss):
    """Keras' ``Circle``: :func:`circle` averaged over the samples with a positive loss.

    Keras masks the samples whose loss is 0 out of the mean.
    """

    keras_name = "circle"

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "circle",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.call_with_mask(y_true, y_pred)[0]

    def call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor | None]:
        fn = _P + type(self).__name__
        loss = _circle(
            fn, y_true, y_pred, None, None, self.remove_diagonal, self.gamma, self.margin
        )
        return loss, loss > 0

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "margin": self.margin,
            "remove_diagonal": self.remove_diagonal,
        }


class CTC(_Wrapper):
    """Keras' ``CTC``: :func:`ctc` reduced by ``reduction``."""

    function = staticmethod(ctc)
    keras_name = "ctc"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "ctc",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return ctc(y_true, y_pred)


class Dice(_Wrapper):
    """Keras' ``Dice``: :func:`dice` over ``axis``, reduced."""

    function = staticmethod(dice)
    keras_name = "dice"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "dice",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_Wrapper):
    """Keras' ``Tversky``: :func:`tversky` (Keras 3.15.1's α/β) over ``axis``, reduced."""

    function = staticmethod(tversky)
    keras_name = "tversky"

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "tversky",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )
