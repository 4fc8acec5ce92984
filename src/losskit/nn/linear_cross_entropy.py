"""Module twin of :func:`losskit.linear_cross_entropy`; see
:mod:`losskit.functional.linear_cross_entropy`."""

from __future__ import annotations

from torch import Tensor

from .. import functional as F
from .._core.module import Loss

__all__ = ["LinearCrossEntropyLoss"]


class LinearCrossEntropyLoss(Loss):
    """Chunked cross-entropy of a linear layer's output; see :func:`losskit.linear_cross_entropy`.

    The module owns only options: the projection ``weight`` (and ``bias``) are passed to
    ``forward``, so that the model keeps them (for example as its ``lm_head``, tied or not to
    the embedding) and this loss replaces ``F.cross_entropy(lm_head(hidden), target)``.

    Shape: ``hidden [*, H]``, ``weight [V, H]``, ``target [*]``, ``bias [V]``; output scalar, or
    ``[*]`` for ``"none"``.

    Example:
        >>> import torch
        >>> head = torch.nn.Linear(8, 50)
        >>> loss = LinearCrossEntropyLoss(label_smoothing=0.1)
        >>> hidden, target = torch.randn(2, 6, 8), torch.randint(0, 50, (2, 6))
        >>> loss(hidden, head.weight, target, bias=head.bias).shape
        torch.Size([])
    """

    function = staticmethod(F.linear_cross_entropy)

    def __init__(
        self,
        *,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        z_loss: float = 0.0,
        softcap: float | None = None,
        reduction: str = "mean",
        chunk_size: int | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
            z_loss=z_loss,
            softcap=softcap,
            chunk_size=chunk_size,
        )

    def forward(
        self, hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None
    ) -> Tensor:
        """Call :func:`losskit.linear_cross_entropy` with this module's options."""
        return self._call(hidden, weight, target, bias=bias)
