"""Registry entries of losskit.functional.hinge."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import pointwise_errors, randn
from ._spec import ErrorCase, LossSpec, Sample, register


def _binary_sample(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    """Scores ``(batch, 7)`` and {0, 1} labels (TensorFlow's convention)."""
    cpu = torch.device("cpu")
    x = randn(gen, (batch, 7), torch.float64, cpu)
    y = torch.randint(0, 2, (batch, 7), generator=gen).to(torch.float64)
    return Sample((x.to(device, dtype), y.to(device, dtype)))


def _multiclass_sample(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    """Scores ``(batch, 5)`` and integer labels ``(batch,)``."""
    x = randn(gen, (batch, 5), torch.float64, torch.device("cpu"))
    y = torch.randint(0, 5, (batch,), generator=gen)
    return Sample((x.to(device, dtype), y.to(device)))


def _hinge_ref(x: Tensor, y: Tensor, *, margin: float = 1.0, labels: str = "auto") -> Tensor:
    """max(0, m - t x) with t = +1 for a positive label and -1 for 0 or -1."""
    t = torch.where(y > 0, 1.0, -1.0).to(x.dtype)
    return torch.clamp(margin - t * x, min=0)


def _multiclass_ref(
    x: Tensor,
    y: Tensor,
    *,
    dim: int = 1,
    margin: float = 1.0,
    variant: str = "crammer_singer",
    p: int = 1,
    weight: Tensor | None = None,
) -> Tensor:
    """Crammer–Singer as max_j (margin [j != y] + x_j) - x_y; Weston–Watkins as C times
    ``torch.nn.functional.multi_margin_loss`` (classes along dim 1)."""
    if variant == "weston_watkins":
        return (
            tF.multi_margin_loss(x, y, p=p, margin=margin, weight=weight, reduction="none")
            * (x.shape[1])
        )
    delta = margin * (1 - tF.one_hot(y, x.shape[1]).to(x.dtype))
    loss = (delta + x).amax(dim=1) - x.gather(1, y[:, None]).squeeze(1)
    loss = loss**p
    return loss if weight is None else loss * weight[y]


def _bad_labels(fn: str, target: Tensor, match: str, **opts: object) -> ErrorCase:
    return ErrorCase(
        f"labels {target.tolist()} with {opts or 'defaults'}",
        lambda: Sample((torch.zeros(len(target)), target), dict(opts)),
        ValueError,
        rf"^{fn}: target must {match}",
    )


def _binary_errors(fn: str) -> list[ErrorCase]:
    return [
        *pointwise_errors(fn),
        _bad_labels(
            fn,
            torch.tensor([0.0, 0.5, 1.0]),
            r"hold labels in \{0, 1\} or \{-1, 1\}, "
            r"got 0\.5",
        ),
        _bad_labels(fn, torch.tensor([0, 2, 1]), r"hold labels in \{0, 1\} or \{-1, 1\}, got 2"),
        _bad_labels(fn, torch.tensor([-1.0, 0.0, 1.0]), r"use one label convention"),
        _bad_labels(
            fn,
            torch.tensor([-1.0, 1.0]),
            r"hold labels in \{0, 1\} \(labels='01'\), "
            r"got -1",
            labels="01",
        ),
        _bad_labels(
            fn,
            torch.tensor([0.0, 1.0]),
            r"hold labels in \{-1, 1\} \(labels='pm1'\), "
            r"got 0",
            labels="pm1",
        ),
        ErrorCase(
            "unknown labels option",
            lambda: Sample((torch.zeros(2), torch.ones(2)), {"labels": "signed"}),
            ValueError,
            rf"^{fn}: labels must be one of 'auto', '01', 'pm1', got 'signed'",
        ),
        ErrorCase(
            "negative margin",
            lambda: Sample((torch.zeros(2), torch.ones(2)), {"margin": -1.0}),
            ValueError,
            rf"^{fn}: margin must be >= 0, got -1.0",
        ),
    ]


_MC = "multiclass_hinge_loss"

_multiclass_errors = [
    ErrorCase(
        "target shape",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(4, dtype=torch.long))),
        ValueError,
        rf"^{_MC}: target must have shape \(3,\) \(input \(3, 4\) without dim=1\), got \(4,\)",
    ),
    ErrorCase(
        "float target",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3))),
        TypeError,
        rf"^{_MC}: target must be an integer tensor, got dtype torch.float32",
    ),
    ErrorCase(
        "integer input",
        lambda: Sample((torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, dtype=torch.long))),
        TypeError,
        rf"^{_MC}: input must be a floating point tensor, got dtype torch.int64",
    ),
    ErrorCase(
        "label out of range",
        lambda: Sample((torch.zeros(3, 4), torch.tensor([0, 4, 1]))),
        ValueError,
        rf"^{_MC}: target must hold class indices in \[0, 3\], got 4",
    ),
    ErrorCase(
        "negative label",
        lambda: Sample((torch.zeros(3, 4), torch.tensor([0, -1, 1]))),
        ValueError,
        rf"^{_MC}: target must hold class indices in \[0, 3\], got -1",
    ),
    ErrorCase(
        "weight not per class",
        lambda: Sample(
            (torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)), {"weight": torch.ones(3)}
        ),
        ValueError,
        rf"^{_MC}: weight must have shape \(4,\) \(one weight per class\), got shape \(3,\)",
    ),
    ErrorCase(
        "integer weight",
        lambda: Sample(
            (torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)),
            {"weight": torch.ones(4, dtype=torch.long)},
        ),
        TypeError,
        rf"^{_MC}: weight must be a floating point tensor, got dtype torch.int64",
    ),
    ErrorCase(
        "unknown variant",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)), {"variant": "ovr"}),
        ValueError,
        rf"^{_MC}: variant must be one of 'crammer_singer', 'weston_watkins', got 'ovr'",
    ),
    ErrorCase(
        "p not 1 or 2",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)), {"p": 3}),
        ValueError,
        rf"^{_MC}: p must be one of 1, 2, got 3",
    ),
    ErrorCase(
        "0-dim input",
        lambda: Sample((torch.tensor(0.5), torch.tensor(0))),
        ValueError,
        rf"^{_MC}: input must have a class dimension, got a 0-dim tensor",
    ),
    ErrorCase(
        "bad dim",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)), {"dim": 2}),
        ValueError,
        rf"^{_MC}: dim must be an int in \[-2, 1\] for input of shape \(3, 4\), got 2",
    ),
]


register(
    LossSpec(
        name="hinge_loss",
        family="classification",
        functional=F.hinge_loss,
        module=nn.HingeLoss,
        sample=_binary_sample,
        errors=_binary_errors("hinge_loss"),
        reference=_hinge_ref,
        reference_name="max(0, 1 - t x) with t = sign of the label (0 -> -1)",
        twice_differentiable=False,
        summary="Binary hinge max(0, m - t x); labels {0, 1} (as TensorFlow) or {-1, 1}.",
    ),
    LossSpec(
        name="squared_hinge_loss",
        family="classification",
        functional=F.squared_hinge_loss,
        module=nn.SquaredHingeLoss,
        sample=_binary_sample,
        errors=_binary_errors("squared_hinge_loss"),
        reference=lambda x, y, **opts: _hinge_ref(x, y, **opts) ** 2,
        reference_name="max(0, 1 - t x)^2 with t = sign of the label (0 -> -1)",
        summary="Squared binary hinge max(0, m - t x)^2 (Keras squared_hinge).",
    ),
    LossSpec(
        name="multiclass_hinge_loss",
        family="classification",
        functional=F.multiclass_hinge_loss,
        module=nn.MulticlassHingeLoss,
        sample=_multiclass_sample,
        errors=_multiclass_errors,
        reference=_multiclass_ref,
        reference_name="max_j (m [j != y] + x_j) - x_y (Crammer-Singer); "
        "C * torch.nn.functional.multi_margin_loss (Weston-Watkins)",
        twice_differentiable=False,
        summary="Multiclass hinge: Crammer-Singer (default) or Weston-Watkins.",
    ),
)
