"""Registry entries of the focal losses (classification family)."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import pointwise_errors, randn, uniform
from ._spec import ErrorCase, LossSpec, Sample, register

_CPU = torch.device("cpu")
_F64 = torch.float64


def _sample_sigmoid(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    shape = (batch, 6)
    x = 2.0 * randn(gen, shape, _F64, _CPU)
    soft = uniform(gen, shape, _F64, _CPU)
    hard = (uniform(gen, shape, _F64, _CPU) < 0.3).to(_F64)
    y = torch.where(uniform(gen, shape, _F64, _CPU) < 0.5, hard, soft)
    return Sample((x.to(device, dtype), y.to(device, dtype)), {"alpha": 0.25, "gamma": 2.0})


def _sample_softmax(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    x = 2.0 * randn(gen, (batch, 4, 3), _F64, _CPU)
    y = torch.randint(0, 4, (batch, 3), generator=gen)
    if y.numel():
        y[0, 0] = -100
    alpha = uniform(gen, (4,), _F64, _CPU, 0.25, 1.0)
    return Sample(
        (x.to(device, dtype), y.to(device)),
        {"alpha": alpha.to(device, dtype), "gamma": 2.0},
    )


def _ref_sigmoid(
    x: Tensor,
    t: Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    weight: Tensor | None = None,
) -> Tensor:
    """torchvision.ops.sigmoid_focal_loss, reduction="none"."""
    p = torch.sigmoid(x)
    ce = tF.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss if weight is None else loss * weight


def _ref_softmax(
    x: Tensor,
    y: Tensor,
    *,
    dim: int = 1,
    alpha: float | Tensor | None = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    weight: Tensor | None = None,
    validate: bool | None = None,
) -> Tensor:
    valid = y != ignore_index
    safe = torch.where(valid, y, 0).long()
    p = torch.softmax(x, dim=dim).gather(dim, safe.unsqueeze(dim)).squeeze(dim)
    loss = -((1 - p) ** gamma) * torch.log(p)
    if isinstance(alpha, Tensor):
        loss = loss * alpha[safe]
    elif alpha is not None:
        loss = loss * alpha
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    return loss if weight is None else loss * weight


_GOOD = (torch.zeros(2, 3), torch.ones(2, 3))
_SOFT_GOOD = (torch.zeros(2, 3), torch.tensor([0, 2]))

register(
    LossSpec(
        name="sigmoid_focal_loss",
        family="classification",
        functional=F.sigmoid_focal_loss,
        module=nn.SigmoidFocalLoss,
        sample=_sample_sigmoid,
        errors=[
            *pointwise_errors("sigmoid_focal_loss"),
            ErrorCase(
                "alpha outside [0, 1]",
                lambda: Sample(_GOOD, {"alpha": 1.5}),
                ValueError,
                r"^sigmoid_focal_loss: alpha must lie in \[0, 1\] or be None, got 1.5",
            ),
            ErrorCase(
                "negative gamma",
                lambda: Sample(_GOOD, {"gamma": -1.0}),
                ValueError,
                r"^sigmoid_focal_loss: gamma must be >= 0, got -1.0",
            ),
        ],
        reference=_ref_sigmoid,
        reference_name="torchvision.ops.sigmoid_focal_loss formula",
        summary="Sigmoid focal loss (RetinaNet): alpha-balanced, (1 - p_t)^gamma-modulated BCE.",
    ),
    LossSpec(
        name="softmax_focal_loss",
        family="classification",
        functional=F.softmax_focal_loss,
        module=nn.SoftmaxFocalLoss,
        sample=_sample_softmax,
        errors=[
            ErrorCase(
                "integer input",
                lambda: Sample((torch.zeros(2, 3, dtype=torch.long), _SOFT_GOOD[1]), {}),
                TypeError,
                r"^softmax_focal_loss: input must be a floating point tensor, got dtype "
                r"torch.int64",
            ),
            ErrorCase(
                "probability targets",
                lambda: Sample(_GOOD, {}),
                TypeError,
                r"^softmax_focal_loss: target must be an integer tensor, got dtype "
                r"torch.float32; softmax_focal_loss takes class labels",
            ),
            ErrorCase(
                "target shape",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([0, 1, 2])), {}),
                ValueError,
                r"^softmax_focal_loss: target must have input's shape without dim 1, "
                r"\(2,\), got \(3,\)",
            ),
            ErrorCase(
                "label out of range",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([0, 5])), {}),
                ValueError,
                r"^softmax_focal_loss: target must hold class indices in \[0, 2\] or equal "
                r"ignore_index=-100, got 5",
            ),
            ErrorCase(
                "alpha of the wrong size",
                lambda: Sample(_SOFT_GOOD, {"alpha": torch.ones(4)}),
                ValueError,
                r"^softmax_focal_loss: alpha must be a float or a tensor of shape \(3,\)",
            ),
            ErrorCase(
                "negative gamma",
                lambda: Sample(_SOFT_GOOD, {"gamma": -0.5}),
                ValueError,
                r"^softmax_focal_loss: gamma must be >= 0, got -0.5",
            ),
            ErrorCase(
                "weight does not broadcast",
                lambda: Sample(_SOFT_GOOD, {"weight": torch.ones(3)}),
                ValueError,
                r"^softmax_focal_loss: weight of shape \(3,\) does not broadcast to the "
                r"unreduced loss shape",
            ),
        ],
        reference=_ref_softmax,
        reference_name="-alpha_y (1 - p_y)^gamma log p_y, 0 at ignore_index",
        summary="Multi-class focal loss on softmax probabilities, integer labels.",
    ),
)
