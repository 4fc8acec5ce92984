"""Registry entries of the regression family."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import pair_sampler, pointwise_errors
from ._spec import ErrorCase, LossSpec, Sample, register


def _quantile_ref(x: Tensor, y: Tensor, *, q: float) -> Tensor:
    e = y - x
    return torch.where(e >= 0, q * e, (q - 1) * e)


def _domain_error(fn: str, name: str, bad: Tensor, **opts: object) -> ErrorCase:
    good = torch.ones(4)
    args = (bad, good) if name == "input" else (good, bad)
    return ErrorCase(
        f"{name} outside the domain",
        lambda: Sample(args, dict(opts)),
        ValueError,
        rf"^{fn}: {name} must lie in",
    )


register(
    LossSpec(
        name="mse_loss",
        family="regression",
        functional=F.mse_loss,
        module=nn.MSELoss,
        sample=pair_sampler(),
        errors=pointwise_errors("mse_loss"),
        reference=lambda x, y: tF.mse_loss(x, y, reduction="none"),
        reference_name="torch.nn.functional.mse_loss",
        summary="Mean squared error (x - y)^2.",
    ),
    LossSpec(
        name="mae_loss",
        family="regression",
        functional=F.mae_loss,
        module=nn.MAELoss,
        sample=pair_sampler(),
        errors=pointwise_errors("mae_loss"),
        reference=lambda x, y: tF.l1_loss(x, y, reduction="none"),
        reference_name="torch.nn.functional.l1_loss",
        twice_differentiable=False,
        summary="Mean absolute error |x - y| (PyTorch's l1_loss).",
    ),
    LossSpec(
        name="l1_loss",
        family="regression",
        functional=F.l1_loss,
        module=nn.L1Loss,
        sample=pair_sampler((5,)),
        errors=pointwise_errors("l1_loss"),
        reference=lambda x, y, dim=-1: (x - y).abs().sum(dim),
        reference_name="sum of |x - y| along dim",
        twice_differentiable=False,
        summary="L1 (Manhattan) distance of the error along dim.",
    ),
    LossSpec(
        name="l2_loss",
        family="regression",
        functional=F.l2_loss,
        module=nn.L2Loss,
        sample=pair_sampler((5,)),
        errors=pointwise_errors("l2_loss"),
        reference=lambda x, y, dim=-1: (x - y).pow(2).sum(dim).sqrt(),
        reference_name="sqrt of the sum of (x - y)^2 along dim",
        summary="L2 (Euclidean) distance of the error along dim.",
    ),
    LossSpec(
        name="huber_loss",
        family="regression",
        functional=F.huber_loss,
        module=nn.HuberLoss,
        sample=pair_sampler(options={"delta": 0.7}),
        errors=[
            *pointwise_errors("huber_loss"),
            ErrorCase(
                "delta <= 0",
                lambda: Sample((torch.zeros(2), torch.zeros(2)), {"delta": 0.0}),
                ValueError,
                r"^huber_loss: delta must be > 0, got 0.0",
            ),
        ],
        reference=lambda x, y, delta=1.0: tF.huber_loss(x, y, reduction="none", delta=delta),
        reference_name="torch.nn.functional.huber_loss",
        summary="Huber loss: quadratic within delta, linear beyond.",
    ),
    LossSpec(
        name="smooth_l1_loss",
        family="regression",
        functional=F.smooth_l1_loss,
        module=nn.SmoothL1Loss,
        sample=pair_sampler(options={"beta": 0.7}),
        errors=[
            *pointwise_errors("smooth_l1_loss"),
            ErrorCase(
                "beta < 0",
                lambda: Sample((torch.zeros(2), torch.zeros(2)), {"beta": -1.0}),
                ValueError,
                r"^smooth_l1_loss: beta must be >= 0, got -1.0",
            ),
        ],
        reference=lambda x, y, beta=1.0: tF.smooth_l1_loss(x, y, reduction="none", beta=beta),
        reference_name="torch.nn.functional.smooth_l1_loss",
        summary="Smooth L1 (Fast R-CNN): Huber divided by beta.",
    ),
    LossSpec(
        name="log_cosh_loss",
        family="regression",
        functional=F.log_cosh_loss,
        module=nn.LogCoshLoss,
        sample=pair_sampler(),
        errors=pointwise_errors("log_cosh_loss"),
        reference=lambda x, y: torch.log(torch.cosh(x - y)),
        reference_name="log(cosh(x - y))",
        summary="log(cosh(x - y)), overflow-free.",
    ),
    LossSpec(
        name="quantile_loss",
        family="regression",
        functional=F.quantile_loss,
        module=nn.QuantileLoss,
        sample=pair_sampler(options={"q": 0.8}),
        errors=[
            *pointwise_errors("quantile_loss"),
            ErrorCase(
                "q outside (0, 1)",
                lambda: Sample((torch.zeros(2), torch.zeros(2)), {"q": 1.0}),
                ValueError,
                r"^quantile_loss: q must lie in \(0, 1\), got 1.0",
            ),
        ],
        reference=_quantile_ref,
        reference_name="pinball loss max(q e, (q - 1) e)",
        twice_differentiable=False,
        summary="Quantile (pinball) loss.",
    ),
    LossSpec(
        name="msle_loss",
        family="regression",
        functional=F.msle_loss,
        module=nn.MSLELoss,
        sample=pair_sampler(input_fn=torch.abs, target_fn=torch.abs),
        errors=[
            *pointwise_errors("msle_loss"),
            _domain_error("msle_loss", "input", torch.tensor([0.0, -1.0, 2.0, 3.0])),
            _domain_error("msle_loss", "target", torch.tensor([0.0, 1.0, float("nan"), 3.0])),
        ],
        reference=lambda x, y: (torch.log(1 + x) - torch.log(1 + y)) ** 2,
        reference_name="(log(1 + x) - log(1 + y))^2",
        summary="Mean squared logarithmic error.",
    ),
    LossSpec(
        name="mape_loss",
        family="regression",
        functional=F.mape_loss,
        module=nn.MAPELoss,
        sample=pair_sampler(target_fn=lambda y: y.sign() * (y.abs() + 0.5)),
        errors=pointwise_errors("mape_loss"),
        reference=lambda x, y, eps=1e-7: 100 * (x - y).abs() / y.abs().clamp_min(eps),
        reference_name="100 |x - y| / max(|y|, eps)",
        twice_differentiable=False,
        summary="Mean absolute percentage error (percent).",
    ),
    LossSpec(
        name="poisson_loss",
        family="regression",
        functional=F.poisson_loss,
        module=nn.PoissonLoss,
        sample=pair_sampler(target_fn=lambda y: (3 * y.abs()).floor()),
        errors=[
            *pointwise_errors("poisson_loss"),
            _domain_error("poisson_loss", "target", torch.tensor([0.0, -2.0, 1.0, 3.0])),
            _domain_error(
                "poisson_loss", "input", torch.tensor([0.5, -0.1, 1.0, 3.0]), log_input=False
            ),
        ],
        reference=lambda x, y: torch.exp(x) - y * x,
        reference_name="exp(x) - y x",
        summary="Poisson negative log-likelihood (log-rate input by default).",
    ),
    LossSpec(
        name="cosine_similarity_loss",
        family="regression",
        functional=F.cosine_similarity_loss,
        module=nn.CosineSimilarityLoss,
        sample=pair_sampler((5,)),
        errors=pointwise_errors("cosine_similarity_loss"),
        reference=lambda x, y, dim=-1, eps=1e-8: 1 - tF.cosine_similarity(x, y, dim=dim, eps=eps),
        reference_name="1 - torch.nn.functional.cosine_similarity",
        summary="1 - cosine similarity along dim.",
    ),
)
