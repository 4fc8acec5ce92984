"""Module twins of the focal losses; see :mod:`losskit.functional.focal`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.distributed import ProcessGroup
from .._core.module import Loss

__all__ = ["SigmoidFocalLoss", "SoftmaxFocalLoss"]


class SigmoidFocalLoss(Loss):
    """Sigmoid focal loss (RetinaNet); see :func:`losskit.sigmoid_focal_loss`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> SigmoidFocalLoss(alpha=None, gamma=0.0)(torch.zeros(2), torch.ones(2))
        tensor(0.6931)
    """

    function = staticmethod(F.sigmoid_focal_loss)

    def __init__(
        self,
        *,
        alpha: float | None = 0.25,
        gamma: float = 2.0,
        weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            alpha=alpha,
            gamma=gamma,
            weight=weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.sigmoid_focal_loss` with this module's options."""
        return self._call(input, target)


class SoftmaxFocalLoss(Loss):
    """Multi-class focal loss with integer labels; see :func:`losskit.softmax_focal_loss`.

    A per-class ``alpha`` tensor is stored as a buffer.

    Shape: ``input`` ``[N, C, *]`` (classes along ``dim``), ``target`` ``[N, *]`` integer;
    output scalar, or ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> SoftmaxFocalLoss(gamma=0.0)(torch.zeros(2, 4), torch.tensor([0, 3]))
        tensor(1.3863)
    """

    function = staticmethod(F.softmax_focal_loss)

    def __init__(
        self,
        *,
        dim: int = 1,
        alpha: float | Tensor | None = None,
        gamma: float = 2.0,
        ignore_index: int = -100,
        weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            dim=dim,
            alpha=alpha,
            gamma=gamma,
            ignore_index=ignore_index,
            weight=weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.softmax_focal_loss` with this module's options."""
        return self._call(input, target)
