"""Module twins of the regression losses; see :mod:`losskit.functional.regression`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.module import Loss

__all__ = [
    "CosineSimilarityLoss",
    "HuberLoss",
    "L1Loss",
    "L2Loss",
    "LogCoshLoss",
    "MAELoss",
    "MAPELoss",
    "MSELoss",
    "MSLELoss",
    "PoissonLoss",
    "QuantileLoss",
    "SmoothL1Loss",
]


class MSELoss(Loss):
    """Mean squared error; see :func:`losskit.mse_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> MSELoss()(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))
        tensor(5.)
    """

    function = staticmethod(F.mse_loss)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.mse_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class MAELoss(Loss):
    """Mean absolute error; see :func:`losskit.mae_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.mae_loss)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.mae_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class L1Loss(Loss):
    """L1 distance along ``dim``; see :func:`losskit.l1_loss` (PyTorch's ``L1Loss`` is
    :class:`MAELoss`).

    Shape: ``input`` and ``target`` ``[*, D, *]``; output ``[*, *]`` for ``"none"``.
    """

    function = staticmethod(F.l1_loss)

    def __init__(self, *, dim: int | None = -1, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, dim=dim)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.l1_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class L2Loss(Loss):
    """L2 distance along ``dim``; see :func:`losskit.l2_loss`.

    Shape: ``input`` and ``target`` ``[*, D, *]``; output ``[*, *]`` for ``"none"``.
    """

    function = staticmethod(F.l2_loss)

    def __init__(self, *, dim: int | None = -1, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, dim=dim)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.l2_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class HuberLoss(Loss):
    """Huber loss; see :func:`losskit.huber_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.huber_loss)

    def __init__(self, *, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, delta=delta)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.huber_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class SmoothL1Loss(Loss):
    """Smooth L1 loss; see :func:`losskit.smooth_l1_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, *, beta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, beta=beta)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.smooth_l1_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class LogCoshLoss(Loss):
    """Log-cosh loss; see :func:`losskit.log_cosh_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.log_cosh_loss)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.log_cosh_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class QuantileLoss(Loss):
    """Quantile (pinball) loss; see :func:`losskit.quantile_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.quantile_loss)

    def __init__(self, *, q: float = 0.5, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, q=q)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.quantile_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class MSLELoss(Loss):
    """Mean squared logarithmic error; see :func:`losskit.msle_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.msle_loss)

    def __init__(self, *, reduction: str = "mean", validate: bool | None = None) -> None:
        super().__init__(reduction=reduction, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.msle_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class MAPELoss(Loss):
    """Mean absolute percentage error; see :func:`losskit.mape_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.mape_loss)

    def __init__(self, *, eps: float = 1e-7, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, eps=eps)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.mape_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class PoissonLoss(Loss):
    """Poisson negative log-likelihood; see :func:`losskit.poisson_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.
    """

    function = staticmethod(F.poisson_loss)

    def __init__(
        self,
        *,
        log_input: bool = True,
        full: bool = False,
        eps: float = 1e-8,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction, log_input=log_input, full=full, eps=eps, validate=validate
        )

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.poisson_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class CosineSimilarityLoss(Loss):
    """One minus cosine similarity; see :func:`losskit.cosine_similarity_loss`.

    Shape: ``input`` and ``target`` ``[*, D, *]``; output ``[*, *]`` for ``"none"``.
    """

    function = staticmethod(F.cosine_similarity_loss)

    def __init__(self, *, dim: int = -1, eps: float = 1e-8, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, dim=dim, eps=eps)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.cosine_similarity_loss` with this module's options."""
        return self._call(input, target, weight=weight)
