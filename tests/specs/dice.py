"""Registry entries of losskit.functional.dice (dice, Jaccard, Tversky)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import randn, uniform
from ._spec import ErrorCase, LossSpec, Sample, register

_CPU = torch.device("cpu")
_F64 = torch.float64


# --------------------------------------------------------------------------------------------
# samples


def _multiclass_sampler(options: Mapping[str, Any]) -> Callable[..., Sample]:
    """Logits ``(batch, 3, 4, 5)`` and labels ``(batch, 4, 5)`` (some set to ignore_index)."""

    def sample(
        batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
    ) -> Sample:
        x = randn(gen, (batch, 3, 4, 5), _F64, _CPU)
        y = torch.randint(0, 3, (batch, 4, 5), generator=gen)
        ignore = options.get("ignore_index")
        if ignore is not None and batch:
            y[0, 0, :2] = ignore
        if not options.get("from_logits", False):
            x = torch.softmax(x, dim=1)
        return Sample((x.to(device, dtype), y.to(device)), dict(options))

    return sample


def _dense_sampler(shape: tuple[int, ...], options: Mapping[str, Any]) -> Callable[..., Sample]:
    """Scores ``(batch, *shape)`` (logits, or probabilities in (0.05, 0.95)), 0/1 target."""

    def sample(
        batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
    ) -> Sample:
        full = (batch, *shape)
        if options.get("from_logits", False):
            x = randn(gen, full, _F64, _CPU)
        else:
            x = uniform(gen, full, _F64, _CPU, 0.05, 0.95)
        y = (torch.rand(full, generator=gen, dtype=_F64) > 0.6).to(_F64)
        return Sample((x.to(device, dtype), y.to(device, dtype)), dict(options))

    return sample


# --------------------------------------------------------------------------------------------
# references: textbook formulas, written independently of losskit.functional.dice


def _probs_onehot(
    x: Tensor, y: Tensor, mode: str, from_logits: bool, ignore_index: int | None
) -> tuple[Tensor, Tensor]:
    """``(N, C, P)`` probabilities and targets, ignored elements zeroed in both."""
    if mode == "multiclass":
        c = x.shape[1]
        p = x.softmax(1) if from_logits else x
        mask = torch.ones_like(y, dtype=torch.bool) if ignore_index is None else y != ignore_index
        yy = torch.nn.functional.one_hot(torch.where(mask, y, 0).long(), c).movedim(-1, 1)
        m = mask.unsqueeze(1).to(p.dtype)
        return (p * m).flatten(2), (yy.to(p.dtype) * m).flatten(2)
    p = x.sigmoid() if from_logits else x
    yy = y.to(p.dtype)
    if mode == "binary":
        p, yy = p.flatten(1).unsqueeze(1), yy.flatten(1).unsqueeze(1)
    else:
        p, yy = p.flatten(2), yy.flatten(2)
    if ignore_index is not None:
        m = (yy != ignore_index).to(p.dtype)
        p, yy = p * m, yy * m
    return p, yy


def _reference(metric: str) -> Callable[..., Tensor]:
    def ref(
        x: Tensor,
        y: Tensor,
        *,
        mode: str = "binary",
        from_logits: bool = False,
        eps: float = 1e-5,
        smooth: float = 0.0,
        squared: bool = False,
        batch: bool = False,
        alpha: float = 0.5,
        beta: float = 0.5,
        ignore_index: int | None = None,
        class_weight: Tensor | None = None,
        validate: bool | None = None,
    ) -> Tensor:
        p, t = _probs_onehot(x, y, mode, from_logits, ignore_index)
        dims = (0, 2) if batch else (2,)
        tp = (p * t).sum(dims)
        fp = (p * (1 - t)).sum(dims)
        fn = ((1 - p) * t).sum(dims)
        px = (p * p).sum(dims) if squared else p.sum(dims)
        ty = (t * t).sum(dims) if squared else t.sum(dims)
        if metric == "dice":
            score = (2 * tp + smooth) / (px + ty + smooth + eps)
        elif metric == "jaccard":
            score = (tp + smooth) / (px + ty - tp + smooth + eps)
        else:
            score = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth + eps)
        score = torch.where(px + ty == 0, torch.ones_like(score), score)
        w = torch.ones(score.shape[-1], dtype=score.dtype)
        if class_weight is not None:
            w = class_weight.to(score.dtype)
        if mode == "multiclass" and ignore_index is not None and 0 <= ignore_index < w.numel():
            w = w.clone()
            w[ignore_index] = 0
        return ((1 - score) * w).sum(-1) / w.sum()

    return ref


# --------------------------------------------------------------------------------------------
# errors


def _errors(fn: str, **opts: Any) -> list[ErrorCase]:
    mc = {**opts, "mode": "multiclass"}
    ml = {**opts, "mode": "multilabel"}
    return [
        ErrorCase(
            "binary shape mismatch",
            lambda: Sample((torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 3)), opts),
            ValueError,
            rf"^{fn}: input and target must have the same shape, got input \(2, 1, 4, 4\) "
            r"and target \(2, 1, 4, 3\)",
        ),
        ErrorCase(
            "multiclass label shape",
            lambda: Sample((torch.rand(2, 3, 4, 4), torch.zeros(2, 4, 5, dtype=torch.long)), mc),
            ValueError,
            rf"^{fn}: target must have shape \(2, 4, 4\) \(input \(2, 3, 4, 4\) without the "
            r"class dimension\), got \(2, 4, 5\)",
        ),
        ErrorCase(
            "integer input",
            lambda: Sample((torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 4)), opts),
            TypeError,
            rf"^{fn}: input must be a floating point tensor, got dtype torch.int64",
        ),
        ErrorCase(
            "float multiclass target",
            lambda: Sample((torch.rand(2, 3, 4), torch.zeros(2, 4)), mc),
            TypeError,
            rf"^{fn}: target must be an integer tensor, got dtype torch.float32; multiclass "
            r"mode takes integer labels; use mode='multilabel'",
        ),
        ErrorCase(
            "label out of range",
            lambda: Sample((torch.rand(2, 3, 4), torch.full((2, 4), 3)), mc),
            ValueError,
            rf"^{fn}: target must hold class indices in \[0, 2\], got 3",
        ),
        ErrorCase(
            "logits passed as probabilities",
            lambda: Sample((torch.tensor([[-1.0, 2.0]]), torch.tensor([[0.0, 1.0]])), opts),
            ValueError,
            rf"^{fn}: input must lie in \[0, 1\] \(pass from_logits=True for logits\), got 2 "
            r"value\(s\) outside, e.g. -1",
        ),
        ErrorCase(
            "target outside [0, 1]",
            lambda: Sample((torch.rand(2, 3, 4), torch.full((2, 3, 4), 2.0)), ml),
            ValueError,
            rf"^{fn}: target must lie in \[0, 1\], got 24 value\(s\) outside, e.g. 2",
        ),
        ErrorCase(
            "unknown mode",
            lambda: Sample((torch.rand(2, 4), torch.rand(2, 4)), {**opts, "mode": "multi"}),
            ValueError,
            rf"^{fn}: mode must be one of 'binary', 'multiclass', 'multilabel', got 'multi'",
        ),
        ErrorCase(
            "class_weight shape",
            lambda: Sample(
                (torch.rand(2, 3, 4), torch.zeros(2, 4, dtype=torch.long)),
                {**mc, "class_weight": torch.ones(2)},
            ),
            ValueError,
            rf"^{fn}: class_weight must have shape \(3,\) \(one weight per class\), "
            r"got shape \(2,\)",
        ),
        ErrorCase(
            "negative eps",
            lambda: Sample((torch.rand(2, 4), torch.rand(2, 4)), {**opts, "eps": -1.0}),
            ValueError,
            rf"^{fn}: eps must be >= 0, got -1.0",
        ),
        ErrorCase(
            "multiclass input without class dimension",
            lambda: Sample((torch.rand(4), torch.zeros(4, dtype=torch.long)), mc),
            ValueError,
            rf"^{fn}: input must have shape \(N, C, \*spatial\) in multiclass mode, got \(4,\)",
        ),
        ErrorCase(
            "per-sample weight with the wrong length",
            lambda: Sample((torch.rand(2, 4), torch.rand(2, 4)), {**opts, "weight": torch.ones(3)}),
            ValueError,
            rf"^{fn}: weight of shape \(3,\) does not broadcast to the unreduced loss shape",
        ),
    ]


_MC_OPTIONS = {"mode": "multiclass", "from_logits": True, "ignore_index": 255}
_BIN_OPTIONS = {"mode": "binary", "squared": True, "smooth": 1.0}
_ML_OPTIONS = {"mode": "multilabel", "from_logits": True, "alpha": 0.3, "beta": 0.7}

register(
    LossSpec(
        name="dice_loss",
        family="segmentation",
        functional=F.dice_loss,
        module=nn.DiceLoss,
        sample=_multiclass_sampler(_MC_OPTIONS),
        errors=_errors("dice_loss"),
        reference=_reference("dice"),
        reference_name="soft Dice from one-hot sums (textbook formula)",
        summary="Dice loss 1 - (2I + s)/(|X| + |Y| + s + eps); binary, multiclass, multilabel.",
    ),
    LossSpec(
        name="jaccard_loss",
        family="segmentation",
        functional=F.jaccard_loss,
        module=nn.JaccardLoss,
        sample=_dense_sampler((1, 4, 5), _BIN_OPTIONS),
        errors=_errors("jaccard_loss"),
        reference=_reference("jaccard"),
        reference_name="soft IoU from sums (textbook formula)",
        summary="Jaccard (soft IoU) loss 1 - (I + s)/(|X| + |Y| - I + s + eps).",
    ),
    LossSpec(
        name="tversky_loss",
        family="segmentation",
        functional=F.tversky_loss,
        module=nn.TverskyLoss,
        sample=_dense_sampler((3, 6), _ML_OPTIONS),
        errors=_errors("tversky_loss"),
        reference=_reference("tversky"),
        reference_name="Tversky index from TP/FP/FN sums (Salehi et al. 2017)",
        summary="Tversky loss 1 - (I + s)/(I + alpha FP + beta FN + s + eps).",
    ),
)
