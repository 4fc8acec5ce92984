"""The shared contract of the catalogue's ops, decoders and statistics helpers.

Every catalogue entry of kind ``op``, ``decoder`` or ``statistic`` has a spec here, keyed by its
catalogue name (a missing spec fails ``test_every_op_entry_has_a_spec``). Checks: empty input,
float32 agrees with float64, half and bfloat16 inputs are accepted, the error table, inputs
unmodified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

import losskit.functional as F
from losskit import catalogue

Call = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class OpSpec:
    """``sample(batch, dtype, generator) -> (args, kwargs)``; ``errors``: (description, call,
    error type, regex)."""

    sample: Callable[[int, torch.dtype, torch.Generator], Call]
    errors: list[tuple[str, Callable[[], Call], type[Exception], str]] = field(default_factory=list)
    low_precision: bool = True
    empty_ok: bool = True


def _boxes(n: int, dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 10
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 5 + 0.5
    return torch.cat([xy, xy + wh], dim=-1).to(dtype)


def _pairwise(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    return (_boxes(batch, dtype, gen), _boxes(3, dtype, gen)), {}


def _pairwise_errors(fn: str) -> list[tuple[str, Callable[[], Call], type[Exception], str]]:
    return [
        (
            "last dim not 4",
            lambda: ((torch.zeros(2, 3), torch.zeros(2, 4)), {}),
            ValueError,
            rf"^{fn}: boxes1",
        ),
        (
            "boxes2 not (M, 4)",
            lambda: ((torch.zeros(2, 4), torch.zeros(2, 4, 1)), {}),
            ValueError,
            rf"^{fn}: boxes2",
        ),
        (
            "bad format",
            lambda: ((torch.zeros(2, 4), torch.zeros(2, 4)), {"box_format": "xy"}),
            ValueError,
            rf"^{fn}: box_format",
        ),
    ]


def _nms(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    scores = torch.rand(batch, generator=gen, dtype=torch.float64).to(dtype)
    return (_boxes(batch, dtype, gen), scores, 0.5), {}


def _batched_nms(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    (boxes, scores, thr), _ = _nms(batch, dtype, gen)
    idxs = torch.randint(0, 3, (batch,), generator=gen)
    return (boxes, scores, idxs, thr), {}


def _log_probs(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    x = torch.randn(6, batch, 5, generator=gen, dtype=torch.float64).log_softmax(-1).to(dtype)
    return (x, torch.full((batch,), 6, dtype=torch.long)), {}


def _beam(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    args, _ = _log_probs(batch, dtype, gen)
    return args, {"beam_width": 4}


def _decoder_errors(fn: str) -> list[tuple[str, Callable[[], Call], type[Exception], str]]:
    return [
        (
            "2-d log_probs",
            lambda: ((torch.zeros(6, 5), torch.tensor([6])), {}),
            ValueError,
            rf"^{fn}: log_probs",
        ),
        (
            "integer log_probs",
            lambda: ((torch.zeros(6, 1, 5, dtype=torch.long), torch.tensor([6])), {}),
            TypeError,
            rf"^{fn}: log_probs",
        ),
    ]


def _probs_pair(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    x = torch.rand(batch, 1, 4, 4, generator=gen, dtype=torch.float64).to(dtype)
    y = (torch.rand(batch, 1, 4, 4, generator=gen) > 0.5).to(dtype)
    return (x, y), {}


def _stats(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    stats = torch.rand(3, batch, generator=gen, dtype=torch.float64).to(dtype)
    return (stats,), {}


def _psi(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    c = (torch.rand(batch, 3, generator=gen, dtype=torch.float64) * 2 - 1).to(dtype)
    return (c,), {"margin": 3}


def _center_stats(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    x = torch.randn(batch, 2, generator=gen, dtype=torch.float64).to(dtype)
    y = torch.randint(0, 3, (batch,), generator=gen)
    c = torch.randn(3, 2, generator=gen, dtype=torch.float64).to(dtype)
    return (x, y, c), {}


def _center_apply(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    (x, y, c), _ = _center_stats(batch, dtype, gen)
    sums, counts = F.center_update_statistics(x, y, c)
    return (c, sums, counts), {"alpha": 0.5}


SPECS: dict[str, OpSpec] = {
    "box_iou": OpSpec(_pairwise, _pairwise_errors("box_iou")),
    "generalized_box_iou": OpSpec(_pairwise, _pairwise_errors("generalized_box_iou")),
    "distance_box_iou": OpSpec(_pairwise, _pairwise_errors("distance_box_iou")),
    "complete_box_iou": OpSpec(_pairwise, _pairwise_errors("complete_box_iou")),
    "nms": OpSpec(
        _nms,
        [
            (
                "scores shape",
                lambda: ((torch.zeros(3, 4), torch.zeros(2), 0.5), {}),
                ValueError,
                r"^nms: scores",
            )
        ],
    ),
    "batched_nms": OpSpec(
        _batched_nms,
        [
            (
                "idxs shape",
                lambda: ((torch.zeros(3, 4), torch.zeros(3), torch.zeros(2).long(), 0.5), {}),
                ValueError,
                r"^batched_nms: idxs",
            )
        ],
    ),
    "ctc_greedy_decode": OpSpec(_log_probs, _decoder_errors("ctc_greedy_decode")),
    "ctc_beam_search_decode": OpSpec(_beam, _decoder_errors("ctc_beam_search_decode")),
    "dice_coefficient": OpSpec(
        _probs_pair,
        [
            (
                "shape",
                lambda: ((torch.zeros(2, 1, 4), torch.zeros(2, 1, 3)), {}),
                ValueError,
                r"^dice_coefficient: ",
            )
        ],
    ),
    "overlap_statistics": OpSpec(
        _probs_pair,
        [
            (
                "mode",
                lambda: ((torch.zeros(2, 1, 4), torch.zeros(2, 1, 4)), {"mode": "x"}),
                ValueError,
                r"^overlap_statistics: mode",
            )
        ],
    ),
    "overlap_score": OpSpec(
        _stats,
        [
            (
                "metric",
                lambda: ((torch.zeros(3, 2),), {"metric": "x"}),
                ValueError,
                r"^overlap_score: metric",
            )
        ],
    ),
    "large_margin_psi": OpSpec(
        _psi,
        [
            (
                "margin",
                lambda: ((torch.zeros(2),), {"margin": 0}),
                ValueError,
                r"^large_margin_psi: margin",
            )
        ],
    ),
    "center_update_statistics": OpSpec(
        _center_stats,
        [
            (
                "centres dim",
                lambda: ((torch.zeros(2, 2), torch.zeros(2).long(), torch.zeros(3, 5)), {}),
                ValueError,
                r"^center_update_statistics: ",
            )
        ],
    ),
    "apply_center_update": OpSpec(
        _center_apply,
        [
            (
                "sums shape",
                lambda: ((torch.zeros(3, 2), torch.zeros(2, 2), torch.zeros(3)), {"alpha": 0.5}),
                ValueError,
                r"^apply_center_update: ",
            )
        ],
    ),
}


def _box_convert(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    return (_boxes(batch, dtype, gen), "xyxy", "cxcywh"), {}


if hasattr(F, "box_convert"):
    SPECS["box_convert"] = OpSpec(
        _box_convert,
        [
            (
                "bad format",
                lambda: ((torch.zeros(2, 4), "xy", "xyxy"), {}),
                ValueError,
                r"^box_convert: in_fmt",
            )
        ],
    )

# losskit.distributed: the helpers on reduction parts (process_group=None, the local case; the
# collectives themselves are checked by the multi-process tests in tests/distributed).
from losskit import distributed as D  # noqa: E402


def _tensor_none(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    return (torch.randn(batch, 3, generator=gen, dtype=torch.float64).to(dtype), None), {}


def _parts(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    x = torch.rand(batch, 3, generator=gen, dtype=torch.float64).to(dtype)
    return (D.LossParts(x.sum(), float(x.numel())), None), {}


def _parts_list(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    x = torch.rand(batch, 3, generator=gen, dtype=torch.float64).to(dtype)
    y = torch.rand(2 * batch, generator=gen, dtype=torch.float64).to(dtype)
    return ([D.LossParts(x.sum(), x.numel()), D.LossParts(y.sum(), y.numel())],), {}


def _divisors(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    counts = (torch.rand(3, generator=gen, dtype=torch.float64) * batch).to(dtype)
    return ([*counts.unbind(), float(batch)],), {}


def _labels(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    labels = torch.randint(-1, 4, (batch, 5), generator=gen)
    weight = torch.rand(4, generator=gen, dtype=torch.float64).to(dtype)
    return (labels,), {"ignore_index": -1, "weight": weight}


SPECS["distributed.all_reduce_sum"] = OpSpec(_tensor_none, [])
SPECS["distributed.global_parts"] = OpSpec(_parts, [])
SPECS["distributed.global_mean"] = OpSpec(
    _parts_list,
    [
        ("no parts", lambda: (([],), {}), ValueError, r"^global_mean: parts must hold"),
        (
            "not parts",
            lambda: (([torch.tensor(1.0)],), {}),
            TypeError,
            r"^global_mean: parts must be LossParts, got Tensor",
        ),
    ],
)
SPECS["distributed.global_divisor"] = OpSpec(
    _divisors,
    [
        ("no divisor", lambda: (([],), {}), ValueError, r"^global_divisor: divisors must hold"),
        (
            "not a number",
            lambda: ((["3"],), {}),
            TypeError,
            r"^global_divisor: divisors must be numbers or tensors, got str",
        ),
        (
            "not one number",
            lambda: (([torch.ones(2)],), {}),
            ValueError,
            r"^global_divisor: each divisor must be a single number, got shape \(2,\)",
        ),
        (
            "negative",
            lambda: (([-1.0],), {}),
            ValueError,
            r"^global_divisor: divisors must be >= 0",
        ),
    ],
)
SPECS["distributed.label_count"] = OpSpec(
    _labels,
    [
        (
            "floating labels",
            lambda: ((torch.zeros(3),), {}),
            TypeError,
            r"^label_count: target must be an integer tensor",
        ),
        (
            "weight not (C,)",
            lambda: ((torch.zeros(3).long(),), {"weight": torch.ones(2, 2)}),
            ValueError,
            r"^label_count: weight must have shape \(C,\)",
        ),
        (
            "label out of range",
            lambda: ((torch.tensor([0, 5]),), {"weight": torch.ones(2)}),
            ValueError,
            r"^label_count: target",
        ),
    ],
)


def _vocab_target(batch: int, gen: torch.Generator) -> torch.Tensor:
    target = torch.randint(0, 7, (batch,), generator=gen)
    target[:1] = -100
    return target


def _vocab_logits(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    logits = torch.randn(batch, 7, generator=gen, dtype=torch.float64).to(dtype)
    return (logits, _vocab_target(batch, gen)), {"process_group": None, "label_smoothing": 0.1}


def _vocab_linear(batch: int, dtype: torch.dtype, gen: torch.Generator) -> Call:
    hidden = torch.randn(batch, 4, generator=gen, dtype=torch.float64).to(dtype)
    weight = torch.randn(7, 4, generator=gen, dtype=torch.float64).to(dtype)
    options = {"process_group": None, "label_smoothing": 0.1, "chunk_size": 3}
    return (hidden, weight, _vocab_target(batch, gen)), options


# Without a group (process_group=None) the local block is the whole vocabulary; the multi-rank
# checks are in tests/distributed/test_vocab_parallel.py.
SPECS["distributed.vocab_parallel_cross_entropy"] = OpSpec(
    _vocab_logits,
    [
        (
            "integer logits",
            lambda: ((torch.zeros(2, 3).long(), torch.zeros(2).long()), {"process_group": None}),
            TypeError,
            r"^vocab_parallel_cross_entropy: local_logits must be a floating point tensor",
        ),
        (
            "target shape",
            lambda: ((torch.zeros(2, 3), torch.zeros(3).long()), {"process_group": None}),
            ValueError,
            r"^vocab_parallel_cross_entropy: target must have local_logits' shape",
        ),
    ],
)
SPECS["distributed.vocab_parallel_linear_cross_entropy"] = OpSpec(
    _vocab_linear,
    [
        (
            "floating target",
            lambda: (
                (torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(2)),
                {"process_group": None},
            ),
            TypeError,
            r"^vocab_parallel_linear_cross_entropy: target must be an integer tensor",
        ),
        (
            "local_weight width",
            lambda: (
                (torch.zeros(2, 3), torch.zeros(4, 5), torch.zeros(2).long()),
                {"process_group": None},
            ),
            ValueError,
            r"^vocab_parallel_linear_cross_entropy: local_weight must have shape \(V, 3\)",
        ),
    ],
)


# Native ops only: the dialects' ops and decoders have their specs in
# tests/compat/test_dialect_contract.py.
OP_ENTRIES = [
    e
    for e in catalogue.entries()
    if e.kind in ("op", "decoder", "statistic") and not e.name.startswith("compat.")
]
NAMES = sorted(SPECS)


def _flat(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for item in out for t in _flat(item)] if isinstance(out, (tuple, list)) else []


def _run(name: str, batch: int, dtype: torch.dtype) -> tuple[Call, Any]:
    args, kwargs = SPECS[name].sample(batch, dtype, torch.Generator().manual_seed(7))
    return (args, kwargs), catalogue.get(name).obj(*args, **kwargs)


@pytest.mark.parametrize("entry", OP_ENTRIES, ids=lambda e: e.name)
def test_every_op_entry_has_a_spec(entry: catalogue.Entry) -> None:
    assert entry.name in SPECS, f"{entry.name} ({entry.kind}) has no contract spec"


@pytest.mark.parametrize("name", NAMES)
def test_empty_input(name: str) -> None:
    _, out = _run(name, 0, torch.float64)
    tensors = _flat(out)
    assert tensors
    for t in tensors:
        if t.is_floating_point():
            assert torch.isfinite(t).all()


@pytest.mark.parametrize("name", NAMES)
def test_float32_agrees_with_float64(name: str) -> None:
    _, hi = _run(name, 5, torch.float64)
    _, lo = _run(name, 5, torch.float32)
    for a, b in zip(_flat(hi), _flat(lo), strict=True):
        if a.is_floating_point():
            assert b.dtype == torch.float32
            torch.testing.assert_close(b.double(), a, rtol=1e-4, atol=1e-5)
        else:
            assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_low_precision_inputs(name: str, dtype: torch.dtype) -> None:
    if not SPECS[name].low_precision:
        pytest.skip("float32 and float64 only")
    _, out = _run(name, 5, dtype)
    for t in _flat(out):
        if t.is_floating_point():
            assert torch.isfinite(t).all()


@pytest.mark.parametrize("name", NAMES)
def test_inputs_unmodified(name: str) -> None:
    args, kwargs = SPECS[name].sample(5, torch.float64, torch.Generator().manual_seed(7))
    before = [a.clone() for a in args if isinstance(a, torch.Tensor)]
    catalogue.get(name).obj(*args, **kwargs)
    after = [a for a in args if isinstance(a, torch.Tensor)]
    for b, a in zip(before, after, strict=True):
        assert torch.equal(a, b)


ERRORS = [(n, e) for n in NAMES for e in SPECS[n].errors]


@pytest.mark.parametrize(("name", "case"), ERRORS, ids=[f"{n}-{e[0]}" for n, e in ERRORS])
def test_error_table(name: str, case: tuple[str, Callable[[], Call], type[Exception], str]) -> None:
    _, make, error, match = case
    args, kwargs = make()
    with pytest.raises(error, match=match):
        catalogue.get(name).obj(*args, **kwargs)
