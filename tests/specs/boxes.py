"""Registry entries of losskit.functional.boxes (the aligned box losses; the pairwise functions
and NMS are not losses and are not registered)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import pointwise_errors
from ._spec import ErrorCase, LossSpec, Sample, SampleFn, register


def _random_boxes(gen: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    """Valid ``xyxy`` boxes in float64: corners in [0, 10), sides in [0.5, 5.5)."""
    lo = 10 * torch.rand((*shape, 2), generator=gen, dtype=torch.float64)
    wh = 0.5 + 5 * torch.rand((*shape, 2), generator=gen, dtype=torch.float64)
    return torch.cat([lo, lo + wh], dim=-1)


def _box_sampler() -> SampleFn:
    def sample(
        batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
    ) -> Sample:
        p = _random_boxes(gen, (batch, 3))
        t = _random_boxes(gen, (batch, 3))
        return Sample((p.to(device=device, dtype=dtype), t.to(device=device, dtype=dtype)), {})

    return sample


# Independent elementwise formulas (the textbook definitions, written out per coordinate).


def _parts(p: Tensor, t: Tensor, eps: float) -> dict[str, Tensor]:
    x1, y1, x2, y2 = p.unbind(-1)
    u1, v1, u2, v2 = t.unbind(-1)
    iw = (torch.min(x2, u2) - torch.max(x1, u1)).clamp(min=0)
    ih = (torch.min(y2, v2) - torch.max(y1, v1)).clamp(min=0)
    inter = iw * ih
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    cw = torch.max(x2, u2) - torch.min(x1, u1)
    ch = torch.max(y2, v2) - torch.min(y1, v1)
    rho2 = ((x1 + x2 - u1 - u2) / 2) ** 2 + ((y1 + y2 - v1 - v2) / 2) ** 2
    return {
        "iou": inter / (union + eps),
        "union": union,
        "area_c": cw * ch,
        "dist": rho2 / (cw**2 + ch**2 + eps),
        "w": x2 - x1,
        "h": y2 - y1,
        "wg": u2 - u1,
        "hg": v2 - v1,
    }


def _ref_iou(p: Tensor, t: Tensor, *, eps: float = 1e-7) -> Tensor:
    return 1 - _parts(p, t, eps)["iou"]


def _ref_giou(p: Tensor, t: Tensor, *, eps: float = 1e-7) -> Tensor:
    q = _parts(p, t, eps)
    return 1 - q["iou"] + (q["area_c"] - q["union"]) / (q["area_c"] + eps)


def _ref_diou(p: Tensor, t: Tensor, *, eps: float = 1e-7) -> Tensor:
    q = _parts(p, t, eps)
    return 1 - q["iou"] + q["dist"]


def _ref_ciou(p: Tensor, t: Tensor, *, eps: float = 1e-7) -> Tensor:
    q = _parts(p, t, eps)
    v = 4 / math.pi**2 * (torch.atan(q["wg"] / q["hg"]) - torch.atan(q["w"] / q["h"])) ** 2
    with torch.no_grad():
        alpha = v / (1 - q["iou"] + v + eps)
    return 1 - q["iou"] + q["dist"] + alpha * v


def _box_errors(fn: str) -> list[ErrorCase]:
    good = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    bad = torch.tensor([[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 1.0, 1.0]])
    return [
        *pointwise_errors(fn),
        ErrorCase(
            "last dimension is not 4",
            lambda: Sample((torch.zeros(3, 5), torch.zeros(3, 5)), {}),
            ValueError,
            rf"^{fn}: input must have shape \(\.\.\., 4\), got \(3, 5\)",
        ),
        ErrorCase(
            "x2 < x1 in the prediction",
            lambda: Sample((bad, bad.flip(0)), {}),
            ValueError,
            rf"^{fn}: input must hold valid boxes \(x2 >= x1 and y2 >= y1 in "
            r"box_format='xyxy'\), got 1 invalid box\(es\), e\.g\. \[2\.0, 0\.0, 1\.0, 1\.0\]",
        ),
        ErrorCase(
            "negative height in the target (xywh)",
            lambda: Sample((good, torch.tensor([[0.0, 0.0, 1.0, -1.0]])), {"box_format": "xywh"}),
            ValueError,
            rf"^{fn}: target must hold valid boxes \(x2 >= x1 and y2 >= y1 in "
            r"box_format='xywh'\), got 1 invalid box",
        ),
        ErrorCase(
            "unknown box format",
            lambda: Sample((good, good), {"box_format": "yxyx"}),
            ValueError,
            rf"^{fn}: box_format must be one of 'xyxy', 'xywh', 'cxcywh', got 'yxyx'",
        ),
        ErrorCase(
            "negative eps",
            lambda: Sample((good, good), {"eps": -1.0}),
            ValueError,
            rf"^{fn}: eps must be >= 0, got -1.0",
        ),
    ]


def _spec(
    name: str,
    functional: Callable[..., Tensor],
    module: type,
    reference: Callable[..., Tensor],
    summary: str,
    *,
    gradcheck: bool = True,
) -> LossSpec:
    return LossSpec(
        name=name,
        family="boxes",
        functional=functional,
        module=module,
        sample=_box_sampler(),
        errors=_box_errors(name),
        reference=reference,
        reference_name=f"elementwise formula of {name} (torchvision's)",
        grad_args=(0, 1),
        gradcheck=gradcheck,
        summary=summary,
    )


register(
    _spec("iou_loss", F.iou_loss, nn.IoULoss, _ref_iou, "Box IoU loss 1 - IoU (UnitBox)."),
    _spec(
        "generalized_box_iou_loss",
        F.generalized_box_iou_loss,
        nn.GeneralizedBoxIoULoss,
        _ref_giou,
        "Generalized IoU loss of aligned boxes (GIoU).",
    ),
    _spec(
        "distance_box_iou_loss",
        F.distance_box_iou_loss,
        nn.DistanceBoxIoULoss,
        _ref_diou,
        "Distance IoU loss of aligned boxes (DIoU).",
    ),
    # CIoU's alpha is held constant in the backward pass (the paper's and torchvision's rule),
    # so its gradient is not the derivative of its value: a finite-difference gradcheck of the
    # value cannot pass (gradgradcheck of the backward does). Its gradient is tested against
    # torchvision's golden gradients in tests/functional/test_boxes.py.
    _spec(
        "complete_box_iou_loss",
        F.complete_box_iou_loss,
        nn.CompleteBoxIoULoss,
        _ref_ciou,
        "Complete IoU loss of aligned boxes (CIoU, alpha held constant).",
        gradcheck=False,
    ),
)
