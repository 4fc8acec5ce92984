"""Registry entries of losskit.functional.center."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from losskit import functional as F
from losskit import nn as lnn

from ._common import input_and_target, randn
from ._spec import ErrorCase, LossSpec, Sample, register

_DIM, _CLASSES = 3, 4


def _sample(batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator) -> Sample:
    x = randn(gen, (batch, _DIM), dtype, device)
    y = torch.randint(0, _CLASSES, (batch,), generator=gen).to(device)
    c = randn(gen, (_CLASSES, _DIM), dtype, device)
    return Sample((x, y, c))


def _make_module(sample: Sample, reduction: str) -> tuple[nn.Module, Sample]:
    """The module with the sample's centres, in training mode: the call computes the loss with
    the centres of before the call (the functional sample holds a copy of them) and then moves
    the module's centres."""
    x, y, c = sample.args
    module = lnn.CenterLoss(
        c.shape[0], c.shape[1], alpha=0.5, reduction=reduction, dtype=c.dtype, device=c.device
    )
    with torch.no_grad():
        module.centers.copy_(c)
    return module, Sample((x, y, module.centers.clone()), dict(sample.options))


def _textbook(x: Tensor, y: Tensor, c: Tensor) -> Tensor:
    """½‖x_i − c_{y_i}‖², one sample at a time in float64 (Wen et al. 2016, Eq. 2)."""
    xs, cs = x.detach().double().cpu().tolist(), c.detach().double().cpu().tolist()
    out = [
        0.5 * sum((a - b) ** 2 for a, b in zip(xi, cs[yi], strict=True))
        for xi, yi in zip(xs, y.cpu().tolist(), strict=True)
    ]
    return torch.tensor(out, dtype=torch.float64).to(x.device)


def _errors() -> list[ErrorCase]:
    fn = "center_loss"
    x, y, c = torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), torch.zeros(4, 2)

    def case(
        desc: str,
        args: tuple[object, ...],
        error: type[Exception],
        match: str,
        options: dict[str, object] | None = None,
    ) -> ErrorCase:
        return ErrorCase(desc, lambda: Sample(args, dict(options or {})), error, match)

    return [
        case(
            "centers feature size",
            (x, y, torch.zeros(4, 3)),
            ValueError,
            rf"^{fn}: centers must have shape \(num_classes, 2\) with num_classes >= 1 to "
            r"match input \(3, 2\), got \(4, 3\)",
        ),
        case(
            "target shape",
            (x, torch.zeros(2, dtype=torch.long), c),
            ValueError,
            rf"^{fn}: target must have shape \(3,\) to match input \(3, 2\), got \(2,\)",
        ),
        case(
            "1-D input",
            (torch.zeros(2), y, c),
            ValueError,
            rf"^{fn}: input must have shape \(N, feat_dim\), got \(2,\)",
        ),
        case(
            "floating target",
            (x, torch.zeros(3), c),
            TypeError,
            rf"^{fn}: target must be an integer tensor, got dtype torch.float32",
        ),
        case(
            "integer input",
            (torch.zeros(3, 2, dtype=torch.long), y, c),
            TypeError,
            rf"^{fn}: input must be a floating point tensor, got dtype torch.int64",
        ),
        case(
            "integer centers",
            (x, y, torch.zeros(4, 2, dtype=torch.long)),
            TypeError,
            rf"^{fn}: centers must be a floating point tensor, got dtype torch.int64",
        ),
        case(
            "label out of range",
            (x, torch.tensor([0, -1, 2]), c),
            ValueError,
            rf"^{fn}: target must hold class indices in \[0, 3\], got -1",
        ),
        case(
            "weight does not broadcast",
            (x, y, c),
            ValueError,
            rf"^{fn}: weight of shape \(2,\) does not broadcast to the unreduced loss shape",
            {"weight": torch.ones(2)},
        ),
    ]


register(
    LossSpec(
        name="center_loss",
        family="embedding",
        functional=F.center_loss,
        module=lnn.CenterLoss,
        sample=_sample,
        errors=_errors(),
        reference=_textbook,
        reference_name="1/2 ||x_i - c_{y_i}||^2, float64 loop",
        grad_args=(0, 2),
        make_module=_make_module,
        module_args=input_and_target,
        summary="Centre loss 1/2 ||x - c_y||^2; centres follow the paper's update rule.",
    ),
)
