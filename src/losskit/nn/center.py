"""Module twin of the centre loss; see :mod:`losskit.functional.center`."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import functional as F
from .._core.checks import fail
from .._core.distributed import ProcessGroup
from .._core.parametric import ParametricLoss

__all__ = ["CenterLoss"]


class CenterLoss(ParametricLoss):
    r"""Centre loss with class centres updated by the paper's rule; see
    :func:`losskit.center_loss`.

    The centres are a buffer (``centers``, ``(num_classes, feat_dim)``, zeros at start), not a
    parameter: the optimiser never sees them and they receive no gradient; only the features
    do. A forward call in training mode

    1. computes the loss with the centres *as they were before the call*, then
    2. moves the centres by :math:`c_j \leftarrow c_j - \alpha\,\Delta c_j`,
       :math:`\Delta c_j = \sum_{y_i=j}(c_j - x_i)/(1+n_j)`, using this batch (classes absent
       from the batch are unchanged; an empty batch changes nothing).

    The step replaces the ``centers`` buffer with a new tensor rather than writing into it, so
    the loss's autograd graph (also under ``torch.compile``) keeps the centres it was computed
    with; read ``module.centers`` afresh after a step rather than holding on to the old tensor.
    Eval mode never moves the centres; ``alpha=0`` never moves them either. Use it beside
    softmax cross-entropy with a weight λ, ``loss = ce + lam * center(features, labels)``, and
    call it once per optimisation step (each training-mode call moves the centres). The step is
    :func:`losskit.center_update_statistics` followed by :func:`losskit.apply_center_update`.

    With ``process_group``, the loss's ``"mean"`` runs over the samples of every rank, and the
    step's sums and counts are all-reduced over the group before the step (one collective of
    :math:`C (D + 1)` numbers): every rank applies the update of the whole batch, so centres
    that start equal stay equal on every rank. Every rank must then call the module in step
    (an empty shard included). The group is not saved with the ``state_dict``.

    Args:
        num_classes: number of classes ``C``.
        feat_dim: feature size ``D``.
        alpha: centre learning rate :math:`\alpha \in [0, 1]` (paper: 0.5).
        reduction: ``"none" | "mean" | "sum"``.
        process_group: ``torch.distributed`` group holding the other shards of the batch
            (``None``: this process's batch only); see :mod:`losskit.distributed`.

    Shape:
        ``input (N, D)``, ``target (N,)`` integer; output scalar, or ``(N,)`` for ``"none"``.

    Example:
        >>> center = CenterLoss(num_classes=2, feat_dim=2, alpha=0.5)
        >>> x = torch.tensor([[2.0, 0.0], [4.0, 0.0], [0.0, 1.0]])
        >>> center(x, torch.tensor([0, 0, 1]))  # centres are still zero
        tensor(3.5000)
        >>> center.centers  # c_0 = 0 - 0.5 * (-6) / 3, c_1 = 0 - 0.5 * (-1) / 2
        tensor([[1.0000, 0.0000],
                [0.0000, 0.2500]])

    Beside softmax cross-entropy (λ = 0.5 here):

        >>> head, center = torch.nn.Linear(2, 2), CenterLoss(2, 2)
        >>> feats = torch.randn(4, 2, requires_grad=True)
        >>> labels = torch.tensor([0, 1, 1, 0])
        >>> ce = torch.nn.functional.cross_entropy(head(feats), labels)
        >>> (ce + 0.5 * center(feats, labels)).backward()

    References:
        Wen, Zhang, Li, Qiao, "A Discriminative Feature Learning Approach for Deep Face
        Recognition", ECCV 2016.
    """

    centers: Tensor

    def __init__(
        self,
        num_classes: int,
        feat_dim: int,
        *,
        alpha: float = 0.5,
        reduction: str = "mean",
        process_group: ProcessGroup | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(reduction=reduction, num_classes=num_classes, feat_dim=feat_dim)
        self.num_classes: int
        self.feat_dim: int
        if not 0.0 <= float(alpha) <= 1.0:
            raise fail(type(self).__name__, f"alpha must lie in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        self.process_group = process_group
        self.own(
            "centers",
            torch.zeros(num_classes, feat_dim, device=device, dtype=dtype),
            parameter=False,
        )

    def hyperparameters(self) -> dict[str, Any]:
        """Sizes, reduction and ``alpha`` (saved with the ``state_dict``)."""
        return {**super().hyperparameters(), "alpha": self.alpha}

    def forward(self, input: Tensor, target: Tensor, *, weight: Tensor | None = None) -> Tensor:
        """The loss against the current centres; in training mode the centres then move."""
        loss = F.center_loss(
            input,
            target,
            self.centers,
            weight=weight,
            reduction=self.reduction,
            process_group=self.process_group,
        )
        if self.training and self.alpha != 0.0:
            # The loss call has checked the labels (when validation is on).
            self.update_centers(input, target, validate=False)
        return loss

    @torch.no_grad()
    def update_centers(
        self, input: Tensor, target: Tensor, *, validate: bool | None = None
    ) -> None:
        """Apply the paper's centre step for this batch (what a training forward does)."""
        sums, counts = F.center_update_statistics(
            input, target, self.centers, validate=validate, process_group=self.process_group
        )
        # Out of place: the buffer is replaced, never written into. The tensor the loss was
        # computed with stays as it was, so its backward (which torch.compile may recompute from
        # that tensor) sees the centres of before the update.
        self.centers = F.apply_center_update(self.centers, sums, counts, alpha=self.alpha)
