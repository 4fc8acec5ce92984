"""Module twin of the KL divergence; see :mod:`losskit.functional.divergence`."""

from __future__ import annotations

from torch import Tensor
from torch.distributions import Distribution

from .. import functional as F
from .._core.module import Loss
from ..functional.divergence import KL_REDUCTIONS

__all__ = ["KLDivergence"]


class KLDivergence(Loss):
    """Kullback–Leibler divergence KL(target || input); see :func:`losskit.kl_divergence`.

    Accepts ``reduction="batchmean"`` (the default) besides ``"none" | "mean" | "sum"``. Called
    with two ``torch.distributions.Distribution`` objects ``(a, b)`` it gives KL(a || b).

    Shape: ``input`` and ``target`` ``[N, C, *]`` (classes along ``dim``); output scalar, or
    ``[N, *]`` for ``"none"``.

    Example:
        >>> import torch
        >>> loss = KLDivergence(input_kind="probs")
        >>> loss(torch.tensor([[0.5, 0.5]]), torch.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    function = staticmethod(F.kl_divergence)
    allowed_reductions = KL_REDUCTIONS

    def __init__(
        self,
        *,
        dim: int = 1,
        input_kind: str = "logits",
        target_kind: str = "probs",
        allow_nan_stats: bool = True,
        reduction: str = "batchmean",
        validate: bool | None = None,
    ) -> None:
        super().__init__(
            reduction=reduction,
            dim=dim,
            input_kind=input_kind,
            target_kind=target_kind,
            allow_nan_stats=allow_nan_stats,
            validate=validate,
        )

    def forward(
        self,
        input: Tensor | Distribution,
        target: Tensor | Distribution,
        weight: Tensor | None = None,
    ) -> Tensor:
        """Call :func:`losskit.kl_divergence` with this module's options."""
        return self._call(input, target, weight=weight)
