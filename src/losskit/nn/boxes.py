"""Module twins of the box losses; see :mod:`losskit.functional.boxes`.

Shape: ``input`` and ``target`` ``(..., 4)``; output a scalar, or ``(...)`` for ``"none"``.
"""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.module import Loss

__all__ = [
    "CompleteBoxIoULoss",
    "DistanceBoxIoULoss",
    "GeneralizedBoxIoULoss",
    "IoULoss",
]


class IoULoss(Loss):
    """IoU loss ``1 - IoU`` of aligned box pairs; see :func:`losskit.iou_loss`.

    Shape: ``input`` and ``target`` ``(..., 4)``; output scalar, or ``(...)`` for ``"none"``.

    Example:
        >>> import torch
        >>> IoULoss()(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[1.0, 1.0, 3.0, 3.0]]))
        tensor(0.8571)
    """

    function = staticmethod(F.iou_loss)

    def __init__(
        self,
        *,
        box_format: str = "xyxy",
        eps: float = 1e-7,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, box_format=box_format, eps=eps, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.iou_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class GeneralizedBoxIoULoss(Loss):
    """GIoU loss of aligned box pairs; see :func:`losskit.generalized_box_iou_loss`.

    Shape: ``input`` and ``target`` ``(..., 4)``; output scalar, or ``(...)`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = GeneralizedBoxIoULoss(box_format="xywh")
        >>> loss(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[1.0, 1.0, 1.0, 1.0]]))
        tensor(1.5000)
    """

    function = staticmethod(F.generalized_box_iou_loss)

    def __init__(
        self,
        *,
        box_format: str = "xyxy",
        eps: float = 1e-7,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, box_format=box_format, eps=eps, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.generalized_box_iou_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class DistanceBoxIoULoss(Loss):
    """DIoU loss of aligned box pairs; see :func:`losskit.distance_box_iou_loss`.

    Shape: ``input`` and ``target`` ``(..., 4)``; output scalar, or ``(...)`` for ``"none"``.
    """

    function = staticmethod(F.distance_box_iou_loss)

    def __init__(
        self,
        *,
        box_format: str = "xyxy",
        eps: float = 1e-7,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, box_format=box_format, eps=eps, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.distance_box_iou_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class CompleteBoxIoULoss(Loss):
    """CIoU loss of aligned box pairs; see :func:`losskit.complete_box_iou_loss`.

    Shape: ``input`` and ``target`` ``(..., 4)``; output scalar, or ``(...)`` for ``"none"``.
    """

    function = staticmethod(F.complete_box_iou_loss)

    def __init__(
        self,
        *,
        box_format: str = "xyxy",
        eps: float = 1e-7,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, box_format=box_format, eps=eps, validate=validate)

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.complete_box_iou_loss` with this module's options."""
        return self._call(input, target, weight=weight)
