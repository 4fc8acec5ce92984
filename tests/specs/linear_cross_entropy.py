"""Registry entry of the chunked linear cross-entropy (classification family)."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._common import randn
from ._spec import ErrorCase, LossSpec, Sample, register

_CPU = torch.device("cpu")
_F64 = torch.float64
_H, _V = 6, 11


def _sample(batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator) -> Sample:
    hidden = randn(gen, (batch, _H), _F64, _CPU)
    weight = randn(gen, (_V, _H), _F64, _CPU)
    target = torch.randint(0, _V, (batch,), generator=gen)
    if batch:
        target[0] = -100
    options = {"label_smoothing": 0.1, "z_loss": 1e-2, "softcap": 4.0, "chunk_size": 3}
    return Sample((hidden.to(device, dtype), weight.to(device, dtype), target.to(device)), options)


def reference(
    hidden: Tensor,
    weight: Tensor,
    target: Tensor,
    *,
    bias: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    chunk_size: int | None = None,
) -> Tensor:
    """The unfused formula written out, per token: ``F.cross_entropy`` of the (capped) logits of
    ``F.linear`` plus ``z * logsumexp^2``, 0 at ignored tokens (``chunk_size`` has no effect)."""
    z = tF.linear(hidden, weight, bias)
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    z = z.reshape(-1, z.shape[-1])
    t = target.reshape(-1)
    ce = tF.cross_entropy(
        z, t, ignore_index=ignore_index, label_smoothing=label_smoothing, reduction="none"
    )
    aux = z_loss * torch.logsumexp(z, -1).square()
    return torch.where(t != ignore_index, ce + aux, torch.zeros_like(ce)).view(target.shape)


def _args(n: int = 2, h: int = 3, v: int = 4) -> tuple[Tensor, Tensor, Tensor]:
    return torch.zeros(n, h), torch.zeros(v, h), torch.zeros(n, dtype=torch.long)


_FN = "linear_cross_entropy"

register(
    LossSpec(
        name="linear_cross_entropy",
        family="classification",
        functional=F.linear_cross_entropy,
        module=nn.LinearCrossEntropyLoss,
        sample=_sample,
        errors=[
            ErrorCase(
                "integer hidden",
                lambda: Sample((torch.zeros(2, 3, dtype=torch.long), *_args()[1:]), {}),
                TypeError,
                rf"^{_FN}: hidden must be a floating point tensor, got dtype torch.int64",
            ),
            ErrorCase(
                "floating target",
                lambda: Sample((*_args()[:2], torch.zeros(2)), {}),
                TypeError,
                rf"^{_FN}: target must be an integer tensor, got dtype torch.float32",
            ),
            ErrorCase(
                "weight of the wrong width",
                lambda: Sample((torch.zeros(2, 3), torch.zeros(4, 5), torch.zeros(2).long()), {}),
                ValueError,
                rf"^{_FN}: weight must have shape \(V, 3\) for hidden of shape \(2, 3\), got "
                r"\(4, 5\)",
            ),
            ErrorCase(
                "target shape",
                lambda: Sample((*_args()[:2], torch.zeros(3, dtype=torch.long)), {}),
                ValueError,
                rf"^{_FN}: target must have hidden's shape without its last dimension, \(2,\), "
                r"got \(3,\)",
            ),
            ErrorCase(
                "bias shape",
                lambda: Sample(_args(), {"bias": torch.zeros(5)}),
                ValueError,
                rf"^{_FN}: bias must have shape \(4,\) \(one per row of weight\), got \(5,\)",
            ),
            ErrorCase(
                "target out of range",
                lambda: Sample((*_args()[:2], torch.tensor([0, 4])), {}),
                ValueError,
                rf"^{_FN}: target must hold class indices in \[0, 3\] or equal "
                r"ignore_index=-100, got 4",
            ),
            ErrorCase(
                "label_smoothing outside [0, 1]",
                lambda: Sample(_args(), {"label_smoothing": 1.5}),
                ValueError,
                rf"^{_FN}: label_smoothing must lie in \[0, 1\], got 1.5",
            ),
            ErrorCase(
                "negative z_loss",
                lambda: Sample(_args(), {"z_loss": -1.0}),
                ValueError,
                rf"^{_FN}: z_loss must be >= 0, got -1.0",
            ),
            ErrorCase(
                "softcap not positive",
                lambda: Sample(_args(), {"softcap": 0.0}),
                ValueError,
                rf"^{_FN}: softcap must be > 0 or None, got 0.0",
            ),
            ErrorCase(
                "chunk_size not positive",
                lambda: Sample(_args(), {"chunk_size": 0}),
                ValueError,
                rf"^{_FN}: chunk_size must be a positive int or None, got 0",
            ),
        ],
        reference=reference,
        reference_name="F.cross_entropy(c tanh(F.linear(h, W, b) / c)) + z logsumexp^2",
        grad_args=(0, 1),
        # The fused "mean"/"sum" path forms the gradient in the forward pass: it is not
        # differentiable twice (gradcheck of the first derivative still runs).
        twice_differentiable=False,
        summary="Chunked cross-entropy of hidden @ weight.T + bias; no (tokens x vocab) tensor.",
    ),
)
