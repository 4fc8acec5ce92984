"""Module twins of the cross-entropy losses; see :mod:`losskit.functional.cross_entropy`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.distributed import ProcessGroup
from .._core.module import Loss

__all__ = [
    "BalancedSigmoidCrossEntropyLoss",
    "BinaryCrossEntropyLoss",
    "SigmoidCrossEntropyLoss",
    "SoftmaxCrossEntropyLoss",
    "SparseSoftmaxCrossEntropyLoss",
]


class SigmoidCrossEntropyLoss(Loss):
    """Sigmoid (binary) cross-entropy on logits; see :func:`losskit.sigmoid_cross_entropy`.

    ``weight`` and ``pos_weight`` are stored as buffers (they follow ``.to()``).

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = SigmoidCrossEntropyLoss(pos_weight=torch.tensor([2.0, 1.0]))
        >>> loss(torch.zeros(3, 2), torch.ones(3, 2))
        tensor(1.0397)
    """

    function = staticmethod(F.sigmoid_cross_entropy)

    def __init__(
        self,
        *,
        weight: Tensor | None = None,
        pos_weight: Tensor | float | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            weight=weight,
            pos_weight=pos_weight,
            label_smoothing=label_smoothing,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.sigmoid_cross_entropy` with this module's options."""
        return self._call(input, target)


class BinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy on probabilities; see :func:`losskit.binary_cross_entropy`.

    Shape: ``input`` and ``target`` ``[*]``; output scalar, or ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> BinaryCrossEntropyLoss()(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    function = staticmethod(F.binary_cross_entropy)

    def __init__(
        self,
        *,
        weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(reduction=reduction, weight=weight, validate=validate)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.binary_cross_entropy` with this module's options."""
        return self._call(input, target)


class BalancedSigmoidCrossEntropyLoss(Loss):
    """HED class-balanced sigmoid cross-entropy; see
    :func:`losskit.balanced_sigmoid_cross_entropy`.

    Shape: ``input`` and ``target`` ``[N, *]``; output scalar, or ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = BalancedSigmoidCrossEntropyLoss()
        >>> loss(torch.zeros(1, 4), torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
        tensor(0.2600)
    """

    function = staticmethod(F.balanced_sigmoid_cross_entropy)

    def __init__(
        self,
        *,
        beta: float | Tensor | str | None = None,
        weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            beta=beta,
            weight=weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.balanced_sigmoid_cross_entropy` with this module's options."""
        return self._call(input, target)


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax cross-entropy with probability targets; see :func:`losskit.softmax_cross_entropy`.

    Shape: ``input`` and ``target`` ``[N, C, *]`` (classes along ``dim``); output scalar, or
    ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> SoftmaxCrossEntropyLoss()(torch.zeros(2, 4), torch.full((2, 4), 0.25))
        tensor(1.3863)
    """

    function = staticmethod(F.softmax_cross_entropy)

    def __init__(
        self,
        *,
        dim: int = 1,
        weight: Tensor | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            dim=dim,
            weight=weight,
            label_smoothing=label_smoothing,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.softmax_cross_entropy` with this module's options."""
        return self._call(input, target)


class SparseSoftmaxCrossEntropyLoss(Loss):
    """Softmax cross-entropy with integer labels; see
    :func:`losskit.sparse_softmax_cross_entropy` (PyTorch's ``CrossEntropyLoss``).

    Shape: ``input`` ``[N, C, *]`` (classes along ``dim``), ``target`` ``[N, *]`` integer;
    output scalar, or ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> SparseSoftmaxCrossEntropyLoss()(torch.zeros(2, 4), torch.tensor([0, 3]))
        tensor(1.3863)
    """

    function = staticmethod(F.sparse_softmax_cross_entropy)

    def __init__(
        self,
        *,
        dim: int = 1,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            dim=dim,
            weight=weight,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Call :func:`losskit.sparse_softmax_cross_entropy` with this module's options."""
        return self._call(input, target)
