"""Registry entries of the cross-entropy losses (classification family)."""

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


# ------------------------------------------------------------------ samplers


def _soft_binary_targets(gen: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    """Half hard {0, 1}, half soft in [0, 1] targets (float64, CPU)."""
    u = uniform(gen, shape, _F64, _CPU)
    hard = (uniform(gen, shape, _F64, _CPU) < 0.3).to(_F64)
    mask = uniform(gen, shape, _F64, _CPU) < 0.5
    return torch.where(mask, hard, u)


def _sample_sigmoid(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    shape = (batch, 5)
    x = 2.0 * randn(gen, shape, _F64, _CPU)
    y = _soft_binary_targets(gen, shape)
    pos_weight = uniform(gen, (5,), _F64, _CPU, 0.5, 3.0)
    return Sample(
        (x.to(device, dtype), y.to(device, dtype)),
        {"pos_weight": pos_weight.to(device, dtype), "label_smoothing": 0.1},
    )


def _sample_bce(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    shape = (batch, 5)
    p = uniform(gen, shape, _F64, _CPU, 0.02, 0.98)
    y = _soft_binary_targets(gen, shape)
    return Sample((p.to(device, dtype), y.to(device, dtype)), {})


def _sample_balanced(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    shape = (batch, 1, 3, 4)
    x = 2.0 * randn(gen, shape, _F64, _CPU)
    # a different fraction of positives in each sample
    rate = uniform(gen, (batch, 1, 1, 1), _F64, _CPU, 0.1, 0.6)
    y = (uniform(gen, shape, _F64, _CPU) < rate).to(_F64)
    return Sample((x.to(device, dtype), y.to(device, dtype)), {})


def _sample_softmax(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    x = 2.0 * randn(gen, (batch, 4), _F64, _CPU)
    y = torch.softmax(2.0 * randn(gen, (batch, 4), _F64, _CPU), dim=1)
    # No class ``weight`` here: the shared reference check drops ``weight`` (a per-element
    # multiplier elsewhere); class weights are covered by the family's own tests.
    return Sample((x.to(device, dtype), y.to(device, dtype)), {"label_smoothing": 0.05})


def _labels(gen: torch.Generator, shape: tuple[int, ...], num_classes: int) -> Tensor:
    """Labels in [0, num_classes) with the first one ignored (-100) when there is one."""
    y = torch.randint(0, num_classes, shape, generator=gen)
    if y.numel():
        y.view(-1)[0] = -100
    return y


def _sample_sparse(
    batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
) -> Sample:
    x = 2.0 * randn(gen, (batch, 4), _F64, _CPU)
    y = _labels(gen, (batch,), 4)
    return Sample((x.to(device, dtype), y.to(device)), {"label_smoothing": 0.05})


# ------------------------------------------------------------------ textbook references


def _ref_sigmoid(
    x: Tensor,
    y: Tensor,
    *,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    z = y * (1 - label_smoothing) + 0.5 * label_smoothing
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * z * tF.logsigmoid(x) + (1 - z) * tF.logsigmoid(-x))
    return loss if weight is None else loss * weight


def _ref_bce(
    p: Tensor, y: Tensor, *, weight: Tensor | None = None, validate: bool | None = None
) -> Tensor:
    loss = -(y * torch.log(p).clamp_min(-100) + (1 - y) * torch.log(1 - p).clamp_min(-100))
    return loss if weight is None else loss * weight


def _ref_balanced(
    x: Tensor, y: Tensor, *, beta: float | None = None, weight: Tensor | None = None
) -> Tensor:
    if beta is None:
        b = (y == 0).flatten(1).to(x.dtype).mean(1).view(-1, *([1] * (y.dim() - 1)))
    else:
        b = torch.as_tensor(beta, dtype=x.dtype)
    loss = -(b * y * tF.logsigmoid(x) + (1 - b) * (1 - y) * tF.logsigmoid(-x))
    return loss if weight is None else loss * weight


def _ref_softmax(
    x: Tensor,
    y: Tensor,
    *,
    dim: int = 1,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    c = x.shape[dim]
    z = y * (1 - label_smoothing) + label_smoothing / c
    w = 1.0 if weight is None else weight.view(-1, *([1] * (x.dim() - dim - 1)))
    return -(w * z * torch.log_softmax(x, dim=dim)).sum(dim)


def _ref_sparse(
    x: Tensor,
    y: Tensor,
    *,
    dim: int = 1,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    validate: bool | None = None,
) -> Tensor:
    c = x.shape[dim]
    valid = y != ignore_index
    onehot = tF.one_hot(torch.where(valid, y, 0).long(), c).to(x.dtype).movedim(-1, dim)
    loss = _ref_softmax(x, onehot, dim=dim, weight=weight, label_smoothing=label_smoothing)
    return torch.where(valid, loss, torch.zeros_like(loss))


# ------------------------------------------------------------------ error tables


def _smoothing_error(fn: str, args: tuple[Tensor, Tensor]) -> ErrorCase:
    return ErrorCase(
        "label_smoothing outside [0, 1]",
        lambda: Sample(args, {"label_smoothing": 1.5}),
        ValueError,
        rf"^{fn}: label_smoothing must lie in \[0, 1\], got 1.5",
    )


def _softmax_errors(fn: str) -> list[ErrorCase]:
    sparse = fn.startswith("sparse")
    good_target = torch.tensor([0, 2]) if sparse else torch.full((2, 3), 1 / 3)
    return [
        ErrorCase(
            "integer input",
            lambda: Sample((torch.zeros(2, 3, dtype=torch.long), good_target), {}),
            TypeError,
            rf"^{fn}: input must be a floating point tensor, got dtype torch.int64",
        ),
        ErrorCase(
            "class weight of the wrong size",
            lambda: Sample((torch.zeros(2, 3), good_target), {"weight": torch.ones(4)}),
            ValueError,
            rf"^{fn}: weight must have shape \(3,\) \(one weight per class\), got shape \(4,\)",
        ),
        ErrorCase(
            "dim out of range",
            lambda: Sample((torch.zeros(2, 3), good_target), {"dim": 2}),
            ValueError,
            rf"^{fn}: dim must be an int in \[-2, 1\] for input of shape \(2, 3\), got 2",
        ),
        _smoothing_error(fn, (torch.zeros(2, 3), good_target)),
    ]


register(
    LossSpec(
        name="sigmoid_cross_entropy",
        family="classification",
        functional=F.sigmoid_cross_entropy,
        module=nn.SigmoidCrossEntropyLoss,
        sample=_sample_sigmoid,
        errors=[
            *pointwise_errors("sigmoid_cross_entropy"),
            _smoothing_error("sigmoid_cross_entropy", (torch.zeros(3), torch.ones(3))),
            ErrorCase(
                "pos_weight does not broadcast",
                lambda: Sample(
                    (torch.zeros(2, 3), torch.ones(2, 3)), {"pos_weight": torch.ones(2)}
                ),
                ValueError,
                r"^sigmoid_cross_entropy: pos_weight must broadcast to the input shape "
                r"\(2, 3\), got shape \(2,\)",
            ),
        ],
        reference=_ref_sigmoid,
        reference_name="-(p z log sigmoid(x) + (1 - z) log sigmoid(-x)), z = y(1-ls) + ls/2",
        summary="Binary cross-entropy on logits; pos_weight, TF label smoothing toward 0.5.",
    ),
    LossSpec(
        name="binary_cross_entropy",
        family="classification",
        functional=F.binary_cross_entropy,
        module=nn.BinaryCrossEntropyLoss,
        sample=_sample_bce,
        errors=[
            *pointwise_errors("binary_cross_entropy"),
            ErrorCase(
                "probability outside [0, 1]",
                lambda: Sample((torch.tensor([0.5, 1.5]), torch.ones(2)), {}),
                ValueError,
                r"^binary_cross_entropy: input must lie in \[0, 1\], got 1 value\(s\) outside",
            ),
        ],
        reference=_ref_bce,
        reference_name="-(y max(log p, -100) + (1 - y) max(log(1 - p), -100))",
        summary="Binary cross-entropy on probabilities (torch's, logs clamped at -100).",
    ),
    LossSpec(
        name="balanced_sigmoid_cross_entropy",
        family="classification",
        functional=F.balanced_sigmoid_cross_entropy,
        module=nn.BalancedSigmoidCrossEntropyLoss,
        sample=_sample_balanced,
        errors=[
            *pointwise_errors("balanced_sigmoid_cross_entropy"),
            ErrorCase(
                "one-dimensional input with a per-sample beta",
                lambda: Sample((torch.zeros(4), torch.ones(4)), {}),
                ValueError,
                r"^balanced_sigmoid_cross_entropy: input must have at least 2 dimensions",
            ),
            ErrorCase(
                "beta outside [0, 1]",
                lambda: Sample((torch.zeros(2, 2), torch.ones(2, 2)), {"beta": 1.5}),
                ValueError,
                r"^balanced_sigmoid_cross_entropy: beta must lie in \[0, 1\], got 1.5",
            ),
        ],
        reference=_ref_balanced,
        reference_name="HED: -(b y log sigmoid(x) + (1 - b)(1 - y) log sigmoid(-x)), b=|Y-|/|Y|",
        summary="HED class-balanced sigmoid cross-entropy (per-sample beta = |Y-|/|Y|).",
    ),
    LossSpec(
        name="softmax_cross_entropy",
        family="classification",
        functional=F.softmax_cross_entropy,
        module=nn.SoftmaxCrossEntropyLoss,
        sample=_sample_softmax,
        errors=[
            *_softmax_errors("softmax_cross_entropy"),
            ErrorCase(
                "shape mismatch",
                lambda: Sample((torch.zeros(2, 3), torch.zeros(2, 4)), {}),
                ValueError,
                r"^softmax_cross_entropy: input and target must have the same shape, got "
                r"input \(2, 3\) and target \(2, 4\)",
            ),
            ErrorCase(
                "integer labels",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([0, 2])), {}),
                TypeError,
                r"^softmax_cross_entropy: target must be a floating point tensor of class "
                r"probabilities, got dtype torch.int64; for integer class labels use "
                r"sparse_softmax_cross_entropy",
            ),
        ],
        reference=_ref_softmax,
        reference_name="-sum_c w_c z_c log_softmax(x)_c, z = y(1-ls) + ls/C",
        summary="Softmax cross-entropy with a target distribution (one-hot or soft).",
    ),
    LossSpec(
        name="sparse_softmax_cross_entropy",
        family="classification",
        functional=F.sparse_softmax_cross_entropy,
        module=nn.SparseSoftmaxCrossEntropyLoss,
        sample=_sample_sparse,
        errors=[
            *_softmax_errors("sparse_softmax_cross_entropy"),
            ErrorCase(
                "probability targets",
                lambda: Sample((torch.zeros(2, 3), torch.full((2, 3), 1 / 3)), {}),
                TypeError,
                r"^sparse_softmax_cross_entropy: target must be an integer tensor of class "
                r"labels, got dtype torch.float32; for probability targets use "
                r"softmax_cross_entropy",
            ),
            ErrorCase(
                "target shape",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([0, 1, 2])), {}),
                ValueError,
                r"^sparse_softmax_cross_entropy: target must have input's shape without dim 1, "
                r"\(2,\), got \(3,\)",
            ),
            ErrorCase(
                "label out of range",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([0, 3])), {}),
                ValueError,
                r"^sparse_softmax_cross_entropy: target must hold class indices in \[0, 2\] "
                r"or equal ignore_index=-100, got 3",
            ),
            ErrorCase(
                "negative label",
                lambda: Sample((torch.zeros(2, 3), torch.tensor([-1, 0])), {}),
                ValueError,
                r"^sparse_softmax_cross_entropy: target must hold class indices in \[0, 2\] "
                r"or equal ignore_index=-100, got -1",
            ),
        ],
        reference=_ref_sparse,
        reference_name="one-hot softmax cross-entropy, 0 at ignore_index",
        summary="Softmax cross-entropy with integer labels (torch's cross_entropy).",
    ),
)
