"""Module twins of the overlap losses; see :mod:`losskit.functional.dice`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.distributed import ProcessGroup
from .._core.module import Loss

__all__ = ["DiceLoss", "JaccardLoss", "TverskyLoss"]


class DiceLoss(Loss):
    """Dice loss; see :func:`losskit.dice_loss`.

    Shape:
        - input: ``(N, C, *spatial)`` scores (``(N, *)`` in binary mode).
        - target: ``(N, *spatial)`` integer labels (multiclass), else ``input``'s shape.
        - output: scalar; ``(N,)`` for ``reduction="none"`` (``()`` with ``batch=True``).

    ``class_weight`` is stored as a buffer (it follows ``.to()`` and ``state_dict``).

    Example:
        >>> import torch
        >>> loss = DiceLoss(mode="multiclass", from_logits=True)
        >>> loss(torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long))
        tensor(0.6667)
    """

    function = staticmethod(F.dice_loss)

    def __init__(
        self,
        *,
        mode: str = "binary",
        from_logits: bool = False,
        eps: float = 1e-5,
        smooth: float = 0.0,
        squared: bool = False,
        batch: bool = False,
        ignore_index: int | None = None,
        class_weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            mode=mode,
            from_logits=from_logits,
            eps=eps,
            smooth=smooth,
            squared=squared,
            batch=batch,
            ignore_index=ignore_index,
            class_weight=class_weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.dice_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class JaccardLoss(Loss):
    """Jaccard (soft IoU) loss; see :func:`losskit.jaccard_loss`.

    Shape: as :class:`DiceLoss`.

    Example:
        >>> import torch
        >>> JaccardLoss(eps=0.0)(torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([[1.0, 0.0, 1.0]]))
        tensor(0.6667)
    """

    function = staticmethod(F.jaccard_loss)

    def __init__(
        self,
        *,
        mode: str = "binary",
        from_logits: bool = False,
        eps: float = 1e-5,
        smooth: float = 0.0,
        squared: bool = False,
        batch: bool = False,
        ignore_index: int | None = None,
        class_weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            mode=mode,
            from_logits=from_logits,
            eps=eps,
            smooth=smooth,
            squared=squared,
            batch=batch,
            ignore_index=ignore_index,
            class_weight=class_weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.jaccard_loss` with this module's options."""
        return self._call(input, target, weight=weight)


class TverskyLoss(Loss):
    """Tversky loss; see :func:`losskit.tversky_loss`.

    Shape: as :class:`DiceLoss`.

    Example:
        >>> import torch
        >>> loss = TverskyLoss(alpha=0.3, beta=0.7, eps=0.0)
        >>> loss(torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([[1.0, 0.0, 1.0]]))
        tensor(0.5000)
    """

    function = staticmethod(F.tversky_loss)

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        beta: float = 0.5,
        mode: str = "binary",
        from_logits: bool = False,
        eps: float = 1e-5,
        smooth: float = 0.0,
        batch: bool = False,
        ignore_index: int | None = None,
        class_weight: Tensor | None = None,
        reduction: str = "mean",
        validate: bool | None = None,
        process_group: ProcessGroup | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            alpha=alpha,
            beta=beta,
            mode=mode,
            from_logits=from_logits,
            eps=eps,
            smooth=smooth,
            batch=batch,
            ignore_index=ignore_index,
            class_weight=class_weight,
            validate=validate,
            process_group=process_group,
        )

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Call :func:`losskit.tversky_loss` with this module's options."""
        return self._call(input, target, weight=weight)
