"""Registry entries of losskit.functional.divergence."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor
from torch.distributions import Normal

from losskit import functional as F
from losskit import nn
from losskit.functional.divergence import KL_REDUCTIONS

from ._common import randn
from ._spec import ErrorCase, LossSpec, Sample, register

_FN = "kl_divergence"


def _sample(batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator) -> Sample:
    """Logits ``(batch, 5)`` and a target distribution with full support."""
    cpu = torch.device("cpu")
    x = randn(gen, (batch, 5), torch.float64, cpu)
    y = torch.softmax(randn(gen, (batch, 5), torch.float64, cpu), dim=1)
    return Sample((x.to(device, dtype), y.to(device, dtype)))


def _to_log(value: Tensor, kind: str, dim: int) -> Tensor:
    if kind == "logits":
        return tF.log_softmax(value, dim=dim)
    return value if kind == "log_probs" else value.log()


def _reference(
    x: Tensor,
    y: Tensor,
    *,
    dim: int = 1,
    input_kind: str = "logits",
    target_kind: str = "probs",
    **_: object,
) -> Tensor:
    """``torch.nn.functional.kl_div`` with log targets, summed along ``dim``."""
    log_q, log_p = _to_log(x, input_kind, dim), _to_log(y, target_kind, dim)
    return tF.kl_div(log_q, log_p, log_target=True, reduction="none").sum(dim)


_errors = [
    ErrorCase(
        "shape mismatch",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3, 5))),
        ValueError,
        rf"^{_FN}: input and target must have the same shape, got input \(3, 4\) and target "
        r"\(3, 5\)",
    ),
    ErrorCase(
        "integer input",
        lambda: Sample((torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 4))),
        TypeError,
        rf"^{_FN}: input must be a floating point tensor, got dtype torch.int64",
    ),
    ErrorCase(
        "integer target",
        lambda: Sample((torch.zeros(3, 4), torch.zeros(3, 4, dtype=torch.long))),
        TypeError,
        rf"^{_FN}: target must be a floating point tensor, got dtype torch.int64",
    ),
    ErrorCase(
        "target probabilities outside [0, 1]",
        lambda: Sample((torch.zeros(2, 2), torch.tensor([[1.5, -0.5], [0.5, 0.5]]))),
        ValueError,
        rf"^{_FN}: target must lie in \[0, 1\] \(probs along dim 1; pass "
        r"input_kind/target_kind='logits' for scores\), got 2 value\(s\) outside, e.g. 1.5",
    ),
    ErrorCase(
        "target rows summing to 2",
        lambda: Sample((torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.5, 0.5]]))),
        ValueError,
        rf"^{_FN}: target must hold distributions along dim 1 \(entries summing to 1; probs "
        r"along dim 1; .*\), got a sum of 2$",
    ),
    ErrorCase(
        "positive log-probabilities",
        lambda: Sample(
            (torch.tensor([[0.1, -1.0]]), torch.tensor([[0.5, 0.5]])), {"input_kind": "log_probs"}
        ),
        ValueError,
        rf"^{_FN}: input must lie in \[-inf, 0\] \(log_probs along dim 1; .*\), got 1 "
        r"value\(s\) outside, e.g. 0.1",
    ),
    ErrorCase(
        "unknown kind",
        lambda: Sample((torch.zeros(2, 2), torch.zeros(2, 2)), {"target_kind": "one_hot"}),
        ValueError,
        rf"^{_FN}: target_kind must be one of 'probs', 'log_probs', 'logits', got 'one_hot'",
    ),
    ErrorCase(
        "bad dim",
        lambda: Sample((torch.zeros(2, 2), torch.zeros(2, 2)), {"dim": 3}),
        ValueError,
        rf"^{_FN}: dim must be an int in \[-2, 1\] for input of shape \(2, 2\), got 3",
    ),
    ErrorCase(
        "0-dim input",
        lambda: Sample((torch.tensor(0.5), torch.tensor(0.5))),
        ValueError,
        rf"^{_FN}: input must have a class dimension, got a 0-dim tensor",
    ),
    ErrorCase(
        "weight does not broadcast",
        lambda: Sample((torch.zeros(3, 4), torch.full((3, 4), 0.25)), {"weight": torch.ones(4)}),
        ValueError,
        rf"^{_FN}: weight of shape \(4,\) does not broadcast to the unreduced loss shape \(3,\)",
    ),
    ErrorCase(
        "tensor and distribution",
        lambda: Sample((torch.zeros(2), Normal(0.0, 1.0))),
        TypeError,
        rf"^{_FN}: input and target must both be tensors or both torch.distributions."
        r"Distribution objects, got Tensor and Normal",
    ),
    ErrorCase(
        "NaN with allow_nan_stats=False",
        lambda: Sample(
            (torch.tensor([[float("nan"), 0.0]]), torch.tensor([[0.5, 0.5]])),
            {"allow_nan_stats": False},
        ),
        ValueError,
        rf"^{_FN}: result must not be NaN when allow_nan_stats=False, got 1 NaN value\(s\)",
    ),
]


def _curve(x: Tensor) -> tuple[Tensor, Tensor]:
    """Logit of class 0 against class 1 swept, target (0.5, 0.5)."""
    logits = torch.stack([x, torch.zeros_like(x)], -1)
    return logits, torch.full_like(logits, 0.5)


register(
    LossSpec(
        name="kl_divergence",
        family="classification",
        functional=F.kl_divergence,
        module=nn.KLDivergence,
        sample=_sample,
        errors=_errors,
        reference=_reference,
        reference_name="torch.nn.functional.kl_div (log_target=True) summed along dim",
        reductions=KL_REDUCTIONS,
        grad_args=(0, 1),
        curve=_curve,
        summary="KL(target || input) along dim; logits, log-probs or probs; distributions too.",
    ),
)
