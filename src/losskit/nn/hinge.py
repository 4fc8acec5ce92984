"""Module twins of the hinge losses; see :mod:`losskit.functional.hinge`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.module import Loss

__all__ = ["HingeLoss", "MulticlassHingeLoss", "SquaredHingeLoss"]


class HingeLoss(Loss):
    """Binary hinge loss on raw scores; see :func:`losskit.hinge_loss`.

    Shape: ``input`` and ``target`` ``[*]`` (labels in {0, 1} or {-1, 1}); output scalar, or
    ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> HingeLoss()(torch.tensor([2.0, 0.5, -0.3]), torch.tensor([1, 1, 0]))
        tensor(0.4000)
    """

    function = staticmethod(F.hinge_loss)

    def __init__(
        self,
        *,
        margin: float = 1.0,
        labels: str = "auto",
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, margin=margin, labels=labels, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.hinge_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class SquaredHingeLoss(Loss):
    """Squared binary hinge loss; see :func:`losskit.squared_hinge_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> SquaredHingeLoss(reduction="sum")(torch.tensor([0.5, -0.3]), torch.tensor([1, 0]))
        tensor(0.7400)
    """

    function = staticmethod(F.squared_hinge_loss)

    def __init__(
        self,
        *,
        margin: float = 1.0,
        labels: str = "auto",
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, margin=margin, labels=labels, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.squared_hinge_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class MulticlassHingeLoss(Loss):
    """Multiclass hinge loss (Crammer–Singer or Weston–Watkins); see
    :func:`losskit.multiclass_hinge_loss`.

    ``weight`` (per class, ``[C]``) is stored as a buffer.

    Shape: ``input`` ``[N, C, *]`` (classes along ``dim``), ``target`` ``[N, *]`` integer;
    output scalar, or ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = MulticlassHingeLoss(variant="weston_watkins")
        >>> loss(torch.tensor([[2.0, 1.5, -1.0]]), torch.tensor([0]))
        tensor(0.5000)
    """

    function = staticmethod(F.multiclass_hinge_loss)

    def __init__(
        self,
        *,
        dim: int = 1,
        margin: float = 1.0,
        variant: str = "crammer_singer",
        p: int = 1,
        weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            dim=dim,
            margin=margin,
            variant=variant,
            p=p,
            weight=weight,
            validate=validate,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.multiclass_hinge_loss` with this module's options."""
        return self._call(input, target)
