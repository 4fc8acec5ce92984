"""Module twin of the edit distance; see :mod:`losskit.functional.levenshtein`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from .._core.module import Loss
from ..functional.levenshtein import edit_distance

__all__ = ["EditDistance"]


class EditDistance(Loss):
    """Levenshtein edit distance of a batch; see :func:`losskit.edit_distance`.

    The options (``normalize``, ``reduction``, ``validate``) are fixed at construction; the
    lengths and weights of a batch are arguments of :meth:`forward`.

    Shape:
        - hypothesis: ``(*, L_h)`` integer tensor, or strings / lists of token sequences.
        - truth: ``(*, L_t)`` integer tensor (same batch shape ``*``), or the same kind of list.
        - hypothesis_lengths, truth_lengths: ``(*)``, optional, tensor inputs only.
        - output: ``(*)`` for ``reduction="none"`` (the default), else a scalar; float32.

    Example:
        >>> import torch
        >>> metric = EditDistance(normalize=False)
        >>> metric
        EditDistance(normalize=False, validate=None, reduction='none')
        >>> metric(["kitten", "flaw"], ["sitting", "lawn"])
        tensor([3., 2.])
        >>> EditDistance(reduction="mean")(torch.tensor([[1, 2, 3]]), torch.tensor([[1, 3, 0]]),
        ...                                truth_lengths=torch.tensor([2]))
        tensor(0.5000)
    """

    function = staticmethod(edit_distance)

    def __init__(
        self, *, normalize: bool = True, validate: bool | None = None, reduction: str = "none"
    ) -> None:
        super().__init__(reduction=reduction, normalize=normalize, validate=validate)

    def forward(
        self,
        hypothesis: Any,
        truth: Any,
        *,
        hypothesis_lengths: Tensor | Sequence[int] | None = None,
        truth_lengths: Tensor | Sequence[int] | None = None,
        weight: Tensor | None = None,
    ) -> Tensor:
        """Distances of a batch; arguments as for :func:`losskit.edit_distance`."""
        return self._call(
            hypothesis,
            truth,
            hypothesis_lengths=hypothesis_lengths,
            truth_lengths=truth_lengths,
            weight=weight,
        )
