"""Registry entries of losskit.functional.levenshtein."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from losskit import nn
from losskit.functional.levenshtein import edit_distance

from ._spec import ErrorCase, LossSpec, Sample, register

_FN = "edit_distance"
_L_HYP, _L_TRUTH, _ALPHABET = 9, 7, 4


def _sample(batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator) -> Sample:
    """Padded integer sequences with lengths (the padding holds tokens too: it must be ignored).

    Truth lengths are at least 1, so the normalised distances are finite. ``dtype`` does not
    apply: the inputs are integer and the distance is float32.
    """
    hyp = torch.randint(0, _ALPHABET, (batch, _L_HYP), generator=gen)
    truth = torch.randint(0, _ALPHABET, (batch, _L_TRUTH), generator=gen)
    hyp_len = torch.randint(0, _L_HYP + 1, (batch,), generator=gen)
    truth_len = torch.randint(1, _L_TRUTH + 1, (batch,), generator=gen)
    return Sample(
        (hyp.to(device), truth.to(device)),
        {
            "normalize": True,
            "hypothesis_lengths": hyp_len.to(device),
            "truth_lengths": truth_len.to(device),
        },
    )


def _reference(
    hypothesis: Tensor,
    truth: Tensor,
    *,
    normalize: bool = True,
    hypothesis_lengths: Tensor | None = None,
    truth_lengths: Tensor | None = None,
) -> Tensor:
    """rapidfuzz's Levenshtein distance, pair by pair (test and benchmark dependency)."""
    from rapidfuzz.distance import Levenshtein

    hyp, ref = hypothesis.cpu().tolist(), truth.cpu().tolist()
    hl = [len(h) for h in hyp] if hypothesis_lengths is None else hypothesis_lengths.tolist()
    tl = [len(t) for t in ref] if truth_lengths is None else truth_lengths.tolist()
    out = []
    for h, t, a, b in zip(hyp, ref, hl, tl, strict=True):
        d = float(Levenshtein.distance(h[:a], t[:b]))
        if normalize:
            d = d / b if b else (0.0 if d == 0 else float("inf"))
        out.append(d)
    return torch.tensor(out, dtype=torch.float64, device=hypothesis.device)


def _make_module(sample: Sample, reduction: str) -> tuple[torch.nn.Module, Sample]:
    """Lengths are batch data (``forward`` arguments), not module options."""
    options = {"normalize": sample.options.get("normalize", True)}
    return nn.EditDistance(**options, reduction=reduction), Sample(sample.args, options)


def _case(
    description: str, error: type[Exception], match: str, *args: Any, **opts: Any
) -> ErrorCase:
    return ErrorCase(description, lambda: Sample(args, opts), error, match)


_H = torch.tensor([[1, 2, 3], [4, 5, 6]])
_T = torch.tensor([[1, 2], [4, 4]])

register(
    LossSpec(
        name="edit_distance",
        family="sequence",
        functional=edit_distance,
        module=nn.EditDistance,
        sample=_sample,
        func=False,  # the dynamic programme reads the sequence lengths on the host
        errors=[
            _case(
                "batch shapes differ",
                ValueError,
                rf"^{_FN}: hypothesis and truth must have the same batch shape \(all but the "
                r"last dimension\), got hypothesis \(2, 3\) and truth \(3, 2\)",
                _H,
                torch.zeros(3, 2, dtype=torch.long),
            ),
            _case(
                "lengths of the wrong shape",
                ValueError,
                rf"^{_FN}: truth_lengths must have the batch shape \(2,\), got \(3,\)",
                _H,
                _T,
                truth_lengths=torch.tensor([1, 2, 2]),
            ),
            _case(
                "length longer than the padded dimension",
                ValueError,
                rf"^{_FN}: hypothesis_lengths must lie in \[0, 3\], got 1 value\(s\) outside, "
                r"e.g. 4",
                _H,
                _T,
                hypothesis_lengths=torch.tensor([4, 1]),
            ),
            _case(
                "negative length",
                ValueError,
                rf"^{_FN}: truth_lengths must lie in \[0, 2\], got 1 value\(s\) outside, e.g. -1",
                _H,
                _T,
                truth_lengths=torch.tensor([1, -1]),
            ),
            _case(
                "lists of different sizes",
                ValueError,
                rf"^{_FN}: hypothesis and truth must hold the same number of sequences, got 2 "
                r"and 1",
                ["ab", "c"],
                ["ab"],
            ),
            _case(
                "lengths with strings",
                ValueError,
                rf"^{_FN}: hypothesis_lengths must be None for string or list inputs, got list",
                ["ab"],
                ["ab"],
                hypothesis_lengths=[2],
            ),
            _case(
                "floating hypothesis",
                TypeError,
                rf"^{_FN}: hypothesis must be an integer tensor, got dtype torch.float32",
                _H.float(),
                _T,
            ),
            _case(
                "floating lengths",
                TypeError,
                rf"^{_FN}: truth_lengths must be an integer tensor, got dtype torch.float32",
                _H,
                _T,
                truth_lengths=torch.tensor([1.0, 2.0]),
            ),
            _case(
                "tensor paired with a list",
                TypeError,
                rf"^{_FN}: truth must be a torch.Tensor, got list",
                _H,
                [[1, 2], [4, 4]],
            ),
            _case(
                "a flat list of tokens",
                TypeError,
                rf"^{_FN}: hypothesis must be a list of strings or token sequences, got a list "
                r"of int \(wrap a single sequence in a list\)",
                [1, 2, 3],
                [[1, 2]],
            ),
            _case(
                "unhashable tokens",
                TypeError,
                rf"^{_FN}: truth tokens must be hashable, got list",
                [["a"]],
                [[["a"]]],
            ),
            _case(
                "normalize not a bool",
                ValueError,
                rf"^{_FN}: normalize must be one of True, False, got 'yes'",
                _H,
                _T,
                normalize="yes",
            ),
        ],
        reference=_reference,
        reference_name="rapidfuzz.distance.Levenshtein.distance",
        reductions=("none", "mean", "sum"),
        grad_args=(),
        twice_differentiable=False,
        low_precision=False,
        make_module=_make_module,
        summary="Levenshtein edit distance of token sequences or strings (TF's tf.edit_distance).",
    ),
)
