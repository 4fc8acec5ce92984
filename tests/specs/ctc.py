"""Registry entries of losskit.functional.ctc (the decoders are not losses)."""

from __future__ import annotations

import torch
import torch.nn.functional as tF
from torch import Tensor

from losskit import functional as F
from losskit import nn

from ._spec import ErrorCase, LossSpec, Sample, register

_FRAMES, _CLASSES, _WIDTH = 6, 4, 3


def _sample(batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator) -> Sample:
    """Log-probabilities ``(T, N, C)`` as log_softmax of normal logits, padded targets without
    the blank (0), input lengths in [4, T] and target lengths in [0, 3] (always feasible)."""
    logits = torch.randn((_FRAMES, batch, _CLASSES), generator=gen, dtype=torch.float64)
    log_probs = logits.log_softmax(-1).to(device=device, dtype=dtype)
    targets = torch.randint(1, _CLASSES, (batch, _WIDTH), generator=gen)
    input_lengths = torch.randint(_FRAMES - 2, _FRAMES + 1, (batch,), generator=gen)
    target_lengths = torch.randint(0, _WIDTH + 1, (batch,), generator=gen)
    # Repeated labels need a blank in between: keep every target feasible in 4 frames.
    for s in (1, 2):
        repeat = targets[:, s] == targets[:, s - 1]
        targets[:, s] = torch.where(repeat, targets[:, s - 1] % 3 + 1, targets[:, s])
    return Sample(
        (log_probs, targets.to(device), input_lengths.to(device), target_lengths.to(device)),
    )


def _reference(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor,
    target_lengths: Tensor,
    *,
    blank: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    if log_probs.numel() == 0:  # torch's kernel refuses empty input
        return log_probs.sum(dim=(0, 2)) * 0
    return tF.ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank=blank,
        reduction="none",
        zero_infinity=zero_infinity,
    )


def _call(*args: object, **options: object) -> Sample:
    return Sample(tuple(args), dict(options))


def _lp(frames: int = 5, batch: int = 2, classes: int = 4) -> Tensor:
    return torch.zeros(frames, batch, classes).log_softmax(-1)


_LONG = torch.long
_ERRORS = [
    ErrorCase(
        "log_probs not 3-D",
        lambda: _call(torch.zeros(5, 4), torch.ones(2, 2, dtype=_LONG), [5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: log_probs must be 3-D \(T, N, C\), got shape \(5, 4\)",
    ),
    ErrorCase(
        "integer log_probs",
        lambda: _call(
            torch.zeros(5, 2, 4, dtype=_LONG), torch.ones(2, 2, dtype=_LONG), [5, 5], [2, 2]
        ),
        TypeError,
        r"^ctc_loss: log_probs must be a floating point tensor, got dtype torch.int64",
    ),
    ErrorCase(
        "floating targets",
        lambda: _call(_lp(), torch.ones(2, 2), [5, 5], [2, 2]),
        TypeError,
        r"^ctc_loss: targets must be an integer tensor, got dtype torch.float32",
    ),
    ErrorCase(
        "targets batch mismatch",
        lambda: _call(_lp(), torch.ones(3, 2, dtype=_LONG), [5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: targets must have the batch size of log_probs \(2\) in dimension 0, got "
        r"shape \(3, 2\)",
    ),
    ErrorCase(
        "input_lengths batch mismatch",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, 5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: input_lengths must have one entry per sample, shape \(2,\), got shape "
        r"\(3,\)",
    ),
    ErrorCase(
        "floating target_lengths",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, 5], torch.tensor([2.0, 2.0])),
        TypeError,
        r"^ctc_loss: target_lengths must be an integer tensor, got dtype torch.float32",
    ),
    ErrorCase(
        "negative input length",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, -1], [2, 0]),
        ValueError,
        r"^ctc_loss: input_lengths must lie in \[0, 5\], got 1 value\(s\) outside, e.g. -1",
    ),
    ErrorCase(
        "input length beyond T",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, 6], [2, 2]),
        ValueError,
        r"^ctc_loss: input_lengths must lie in \[0, 5\], got 1 value\(s\) outside, e.g. 6",
    ),
    ErrorCase(
        "target length beyond S",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, 5], [2, 3]),
        ValueError,
        r"^ctc_loss: target_lengths must lie in \[0, 2\], got 1 value\(s\) outside, e.g. 3",
    ),
    ErrorCase(
        "concatenated targets of the wrong total length",
        lambda: _call(_lp(), torch.ones(3, dtype=_LONG), [5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: concatenated targets must have sum\(target_lengths\) = 4 elements, got 3",
    ),
    ErrorCase(
        "target longer than input",
        lambda: _call(_lp(), torch.ones(2, 3, dtype=_LONG), [5, 2], [2, 3]),
        ValueError,
        r"^ctc_loss: target_lengths must not exceed input_lengths .*got target length 3 > "
        r"input length 2 for sample 1",
    ),
    ErrorCase(
        "label out of range",
        lambda: _call(_lp(), torch.tensor([[1, 4], [1, 1]]), [5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: targets must hold class indices in \[0, 3\], got 4",
    ),
    ErrorCase(
        "blank in targets",
        lambda: _call(_lp(), torch.tensor([[1, 0], [1, 2]]), [5, 5], [2, 2]),
        ValueError,
        r"^ctc_loss: targets must not contain the blank index 0",
    ),
    ErrorCase(
        "blank out of range",
        lambda: _call(_lp(), torch.ones(2, 2, dtype=_LONG), [5, 5], [2, 2], blank=4),
        ValueError,
        r"^ctc_loss: blank must lie in \[0, 3\] \(C = 4\), got 4",
    ),
]

register(
    LossSpec(
        name="ctc_loss",
        family="sequence",
        functional=F.ctc_loss,
        module=nn.CTCLoss,
        sample=_sample,
        errors=_ERRORS,
        reference=_reference,
        reference_name="torch.nn.functional.ctc_loss",
        grad_args=(0,),
        twice_differentiable=False,
        func=False,  # the native kernel reads the sequence lengths on the host
        summary="Connectionist temporal classification (torch and TF topologies).",
    ),
)
