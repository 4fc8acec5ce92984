"""Registry entries of losskit.functional.margin.

The references are textbook float64 formulas written independently of the library code: the
angle by ``acos``, :math:`k = \\lfloor m\\theta/\\pi \\rfloor` and :math:`\\cos(m\\theta)` directly,
one sample at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from losskit import functional as F
from losskit import nn as lnn

from ._common import input_and_target, randn
from ._spec import ErrorCase, LossSpec, Sample, SampleFn, register

_IN, _CLASSES = 5, 4


def margin_sampler(
    options: dict[str, Any], *, in_features: int = _IN, num_classes: int = _CLASSES
) -> SampleFn:
    """``(input (N, D), target (N,), weight (C, D))`` with normal features and weights."""

    def sample(
        batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
    ) -> Sample:
        x = randn(gen, (batch, in_features), dtype, device)
        y = torch.randint(0, num_classes, (batch,), generator=gen).to(device)
        w = randn(gen, (num_classes, in_features), dtype, device)
        return Sample((x, y, w), dict(options))

    return sample


def _annealed_module(
    cls: type[lnn.LargeMarginSoftmaxLoss] | type[lnn.SphereFaceLoss],
) -> Callable[[Sample, str], tuple[nn.Module, Sample]]:
    """The module with the sample's weight and a schedule whose λ at iteration 10 is close to
    the sample's ``lambda_``; the functional sample gets λ of that iteration."""

    def make(sample: Sample, reduction: str) -> tuple[nn.Module, Sample]:
        x, y, w = sample.args
        module = cls(
            w.shape[1],
            w.shape[0],
            margin=sample.options["margin"],
            base=float(sample.options["lambda_"]),
            gamma=2.5e-5,
            power=35.0,
            lambda_min=0.0,
            reduction=reduction,
            dtype=w.dtype,
            device=w.device,
        )
        with torch.no_grad():
            module.weight.copy_(w)
            module.iteration.fill_(10)
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        lam = float(module.current_lambda(dtype))
        options = {**sample.options, "lambda_": lam}
        return module, Sample((x, y, module.weight.detach().clone()), options)

    return make


def _scaled_module(
    cls: type[lnn.CosFaceLoss] | type[lnn.ArcFaceLoss],
) -> Callable[[Sample, str], tuple[nn.Module, Sample]]:
    def make(sample: Sample, reduction: str) -> tuple[nn.Module, Sample]:
        x, y, w = sample.args
        module = cls(
            w.shape[1],
            w.shape[0],
            **sample.options,
            reduction=reduction,
            dtype=w.dtype,
            device=w.device,
        )
        with torch.no_grad():
            module.weight.copy_(w)
        return module, Sample((x, y, module.weight.detach().clone()), dict(sample.options))

    return make


# ---- textbook references (float64, one sample at a time) ------------------------------------


def _rows(x: Tensor, y: Tensor, w: Tensor) -> list[tuple[list[float], int, list[list[float]]]]:
    xs = x.detach().double().cpu().tolist()
    ws = w.detach().double().cpu().tolist()
    return [(xi, int(yi), ws) for xi, yi in zip(xs, y.cpu().tolist(), strict=True)]


def _norm(v: Sequence[float]) -> float:
    return math.sqrt(sum(a * a for a in v))


def _angle(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    na, nb = _norm(a), _norm(b)
    if na == 0 or nb == 0:
        return math.pi / 2, na, nb
    cos = sum(p * q for p, q in zip(a, b, strict=True)) / (na * nb)
    return math.acos(max(-1.0, min(1.0, cos))), na, nb


def _softmax_ce(logits: list[float], y: int) -> float:
    top = max(logits)
    return top + math.log(sum(math.exp(v - top) for v in logits)) - logits[y]


def _textbook_psi(theta: float, m: int) -> float:
    k = min(math.floor(m * theta / math.pi), m - 1)
    return (-1) ** k * math.cos(m * theta) - 2 * k


def _out(values: list[float], like: Tensor) -> Tensor:
    return torch.tensor(values, dtype=torch.float64).to(like.device)


def textbook_large_margin(
    x: Tensor,
    y: Tensor,
    w: Tensor,
    *,
    margin: int = 4,
    lambda_: float = 0.0,
    normalize_weight: bool = False,
) -> Tensor:
    """L-Softmax (Liu et al. 2016, Eq. 5-6 with the annealed target logit of their Sec. 5.1);
    ``normalize_weight=True`` gives A-Softmax (SphereFace)."""
    out = []
    for xi, yi, ws in _rows(x, y, w):
        logits = []
        for j, wj in enumerate(ws):
            theta, nx, nw = _angle(xi, wj)
            mag = nx * (1.0 if normalize_weight else nw)
            if j == yi:
                psi = _textbook_psi(theta, margin)
                logits.append(mag * (lambda_ * math.cos(theta) + psi) / (1 + lambda_))
            else:
                logits.append(mag * math.cos(theta))
        out.append(_softmax_ce(logits, yi))
    return _out(out, x)


def textbook_sphereface(
    x: Tensor, y: Tensor, w: Tensor, *, margin: int = 4, lambda_: float = 0.0
) -> Tensor:
    """A-Softmax (Liu et al. 2017, Eq. 8, annealed as in their Sec. 3.4)."""
    return textbook_large_margin(x, y, w, margin=margin, lambda_=lambda_, normalize_weight=True)


def textbook_cosface(
    x: Tensor, y: Tensor, w: Tensor, *, scale: float = 64.0, margin: float = 0.35
) -> Tensor:
    """CosFace (Wang et al. 2018, Eq. 4)."""
    out = []
    for xi, yi, ws in _rows(x, y, w):
        logits = []
        for j, wj in enumerate(ws):
            cos = math.cos(_angle(xi, wj)[0])
            logits.append(scale * (cos - margin if j == yi else cos))
        out.append(_softmax_ce(logits, yi))
    return _out(out, x)


def textbook_arcface(
    x: Tensor,
    y: Tensor,
    w: Tensor,
    *,
    scale: float = 64.0,
    margin: float = 0.5,
    easy_margin: bool = False,
) -> Tensor:
    """ArcFace (Deng et al. 2019, Eq. 3) with the reference implementation's handling of
    θ + m > π (``cos θ - m sin m``) or, with ``easy_margin``, of θ > π/2 (no margin)."""
    out = []
    for xi, yi, ws in _rows(x, y, w):
        logits = []
        for j, wj in enumerate(ws):
            theta = _angle(xi, wj)[0]
            if j != yi:
                logits.append(scale * math.cos(theta))
            elif easy_margin:
                logits.append(
                    scale * (math.cos(theta + margin) if theta < math.pi / 2 else math.cos(theta))
                )
            elif theta + margin < math.pi:
                logits.append(scale * math.cos(theta + margin))
            else:
                logits.append(scale * (math.cos(theta) - margin * math.sin(margin)))
        out.append(_softmax_ce(logits, yi))
    return _out(out, x)


# ---- error tables -----------------------------------------------------------------------------


def margin_errors(fn: str, options: dict[str, Any]) -> list[ErrorCase]:
    x, y, w = torch.zeros(3, 5), torch.zeros(3, dtype=torch.long), torch.ones(4, 5)
    opts = dict(options)

    def case(
        desc: str,
        args: tuple[Any, ...],
        error: type[Exception],
        match: str,
        extra: dict[str, Any] | None = None,
    ) -> ErrorCase:
        return ErrorCase(desc, lambda: Sample(args, {**opts, **(extra or {})}), error, match)

    cases = [
        case(
            "target shape",
            (x, torch.zeros(3, 1, dtype=torch.long), w),
            ValueError,
            rf"^{fn}: target must have shape \(3,\) to match input \(3, 5\), got \(3, 1\)",
        ),
        case(
            "weight feature size",
            (x, y, torch.ones(4, 6)),
            ValueError,
            rf"^{fn}: weight must have shape \(num_classes, 5\) with num_classes >= 1 to match "
            r"input \(3, 5\), got \(4, 6\)",
        ),
        case(
            "1-D input",
            (torch.zeros(5), y, w),
            ValueError,
            rf"^{fn}: input must have shape \(N, in_features\), got \(5,\)",
        ),
        case(
            "floating target",
            (x, torch.zeros(3), w),
            TypeError,
            rf"^{fn}: target must be an integer tensor, got dtype torch.float32",
        ),
        case(
            "integer input",
            (torch.zeros(3, 5, dtype=torch.long), y, w),
            TypeError,
            rf"^{fn}: input must be a floating point tensor, got dtype torch.int64",
        ),
        case(
            "integer weight",
            (x, y, torch.ones(4, 5, dtype=torch.long)),
            TypeError,
            rf"^{fn}: weight must be a floating point tensor, got dtype torch.int64",
        ),
        case(
            "label out of range",
            (x, torch.tensor([0, 4, 1]), w),
            ValueError,
            rf"^{fn}: target must hold class indices in \[0, 3\], got 4",
        ),
    ]
    if "lambda_" in options:
        cases += [
            case(
                "margin not an integer",
                (x, y, w),
                ValueError,
                rf"^{fn}: margin must be an integer >= 1, got 2.5",
                {"margin": 2.5},
            ),
            case(
                "margin zero",
                (x, y, w),
                ValueError,
                rf"^{fn}: margin must be an integer >= 1, got 0",
                {"margin": 0},
            ),
            case(
                "negative lambda",
                (x, y, w),
                ValueError,
                rf"^{fn}: lambda_ must be >= 0, got -1.0",
                {"lambda_": -1.0},
            ),
        ]
    else:
        cases.append(
            case(
                "scale zero",
                (x, y, w),
                ValueError,
                rf"^{fn}: scale must be > 0, got 0.0",
                {"scale": 0.0},
            )
        )
    return cases


_LSOFTMAX = {"margin": 3, "lambda_": 0.5}
_SPHERE = {"margin": 4, "lambda_": 0.25}
_COS = {"scale": 8.0, "margin": 0.35}
_ARC = {"scale": 8.0, "margin": 0.5}

register(
    LossSpec(
        name="large_margin_softmax_loss",
        family="embedding",
        functional=F.large_margin_softmax_loss,
        module=lnn.LargeMarginSoftmaxLoss,
        sample=margin_sampler(_LSOFTMAX),
        errors=margin_errors("large_margin_softmax_loss", _LSOFTMAX),
        reference=textbook_large_margin,
        reference_name="L-Softmax textbook formula (acos, floor, cos(m theta)), float64",
        grad_args=(0, 2),
        make_module=_annealed_module(lnn.LargeMarginSoftmaxLoss),
        module_args=input_and_target,
        summary="L-Softmax: multiplicative angular margin psi(theta) with lambda annealing.",
    ),
    LossSpec(
        name="sphereface_loss",
        family="embedding",
        functional=F.sphereface_loss,
        module=lnn.SphereFaceLoss,
        sample=margin_sampler(_SPHERE),
        errors=margin_errors("sphereface_loss", _SPHERE),
        reference=textbook_sphereface,
        reference_name="A-Softmax textbook formula, float64",
        grad_args=(0, 2),
        make_module=_annealed_module(lnn.SphereFaceLoss),
        module_args=input_and_target,
        summary="SphereFace (A-Softmax): L-Softmax margin with normalised class weights.",
    ),
    LossSpec(
        name="cosface_loss",
        family="embedding",
        functional=F.cosface_loss,
        module=lnn.CosFaceLoss,
        sample=margin_sampler(_COS),
        errors=margin_errors("cosface_loss", _COS),
        reference=textbook_cosface,
        reference_name="CosFace textbook formula, float64",
        grad_args=(0, 2),
        make_module=_scaled_module(lnn.CosFaceLoss),
        module_args=input_and_target,
        summary="CosFace / AM-Softmax: additive cosine margin s(cos theta - m).",
    ),
    LossSpec(
        name="arcface_loss",
        family="embedding",
        functional=F.arcface_loss,
        module=lnn.ArcFaceLoss,
        sample=margin_sampler(_ARC),
        errors=margin_errors("arcface_loss", _ARC),
        reference=textbook_arcface,
        reference_name="ArcFace textbook formula (cos(theta + m), insightface fallback), float64",
        grad_args=(0, 2),
        make_module=_scaled_module(lnn.ArcFaceLoss),
        module_args=input_and_target,
        summary="ArcFace: additive angular margin s cos(theta + m).",
    ),
)
