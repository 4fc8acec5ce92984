"""Module twin of the CTC loss; see :mod:`losskit.functional.ctc`."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from .. import functional as F
from .._core.module import Loss

__all__ = ["CTCLoss"]


class CTCLoss(Loss):
    """Connectionist temporal classification loss; see :func:`losskit.ctc_loss`.

    Shape:
        ``log_probs`` ``(T, N, C)`` (``(N, T, C)`` with ``batch_first``); ``targets`` ``(N, S)``
        or ``(sum(target_lengths),)``; ``input_lengths`` and ``target_lengths`` ``(N,)``; output
        scalar, or ``(N,)`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = CTCLoss(blank=0, zero_infinity=True)
        >>> log_probs = torch.full((3, 1, 2), 0.5).log()
        >>> loss(log_probs, torch.tensor([[1]]), [3], [1])
        tensor(0.2877)
    """

    function = staticmethod(F.ctc_loss)

    def __init__(
        self,
        *,
        blank: int = 0,
        reduction: str = "mean",
        zero_infinity: bool = False,
        merge_repeated: bool = True,
        collapse_repeated_labels: bool = False,
        ignore_longer_outputs_than_inputs: bool = False,
        batch_first: bool = False,
        validate: bool | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            blank=blank,
            zero_infinity=zero_infinity,
            merge_repeated=merge_repeated,
            collapse_repeated_labels=collapse_repeated_labels,
            ignore_longer_outputs_than_inputs=ignore_longer_outputs_than_inputs,
            batch_first=batch_first,
            validate=validate,
        )

    def forward(
        self,
        log_probs: Tensor,
        targets: Tensor,
        input_lengths: Tensor | Sequence[int],
        target_lengths: Tensor | Sequence[int],
    ) -> Tensor:
        """Call :func:`losskit.ctc_loss` with this module's options."""
        return self._call(log_probs, targets, input_lengths, target_lengths)
