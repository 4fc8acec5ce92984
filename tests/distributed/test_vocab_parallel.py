"""Vocabulary-parallel cross-entropy on 2 and 3 gloo processes against the full computation.

Each rank holds a contiguous block of classes (uneven blocks on 3 ranks); the reference is
``F.cross_entropy`` on the full logits (and ``F.cross_entropy(F.linear(...))`` on the full
weight, plus the written-out z-loss and softcap terms) computed in the test process. Checked on
every rank: the value, the gradient of the rank's logits / weight rows / bias block (the block of
the full gradient), and the hidden-state gradient (the full one), with label smoothing, ignored
tokens, every token ignored and non-uniform upstream gradients for ``"none"``. One spawn per group
size runs every case.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as tF
from torch import Tensor

from ranks import run_ranks
from specs.linear_cross_entropy import reference as linear_reference

N, H, V = 11, 4, 10
IGNORED = (1, 6)

LOGIT_CASES: list[dict[str, Any]] = [
    {"reduction": r, "label_smoothing": ls} for r in ("mean", "sum", "none") for ls in (0.0, 0.2)
] + [{"reduction": "mean", "label_smoothing": 0.1, "z_loss": 0.05}]

LINEAR_CASES: list[dict[str, Any]] = [
    {"reduction": "mean", "label_smoothing": 0.1},
    {"reduction": "sum", "label_smoothing": 0.0},
    {"reduction": "none", "label_smoothing": 0.2, "z_loss": 0.01, "softcap": 4.0},
]


def _data() -> dict[str, Tensor]:
    g = torch.Generator().manual_seed(5)
    target = torch.randint(0, V, (N,), generator=g)
    target[list(IGNORED)] = -100
    target[0], target[2] = 0, V - 1  # the first and the last class appear
    return {
        "logits": 2 * torch.randn(N, V, generator=g, dtype=torch.float64),
        "hidden": torch.randn(N, H, generator=g, dtype=torch.float64),
        "weight": torch.randn(V, H, generator=g, dtype=torch.float64),
        "bias": torch.randn(V, generator=g, dtype=torch.float64),
        "target": target,
        "upstream": torch.randn(N, generator=g, dtype=torch.float64),
    }


def _upstream(case: dict[str, Any], data: dict[str, Tensor]) -> Tensor:
    return (
        data["upstream"] if case["reduction"] == "none" else torch.tensor(1.3, dtype=torch.float64)
    )


def _worker(rank: int, world: int, sizes: list[int]) -> dict[str, Any]:
    import torch.distributed as dist

    from losskit.distributed import (
        vocab_parallel_cross_entropy,
        vocab_parallel_linear_cross_entropy,
    )

    group = dist.group.WORLD
    data = _data()
    lo, hi = sum(sizes[:rank]), sum(sizes[: rank + 1])
    target = data["target"]
    out: dict[str, Any] = {"logits": [], "linear": []}
    for case in LOGIT_CASES:
        x = data["logits"][:, lo:hi].clone().requires_grad_()
        loss = vocab_parallel_cross_entropy(x, target, process_group=group, **case)
        (grad,) = torch.autograd.grad(loss, x, _upstream(case, data))
        out["logits"].append((loss.detach(), grad))
    for case in LINEAR_CASES:
        h = data["hidden"].clone().requires_grad_()
        w = data["weight"][lo:hi].clone().requires_grad_()
        b = data["bias"][lo:hi].clone().requires_grad_()
        loss = vocab_parallel_linear_cross_entropy(
            h, w, target, bias=b, process_group=group, chunk_size=3, **case
        )
        grads = torch.autograd.grad(loss, [h, w, b], _upstream(case, data))
        out["linear"].append((loss.detach(), *grads))
    # every token ignored: 0 and zero gradients, no NaN
    x = data["logits"][:, lo:hi].clone().requires_grad_()
    none = torch.full_like(target, -100)
    loss = vocab_parallel_cross_entropy(x, none, process_group=group, label_smoothing=0.1)
    out["all_ignored"] = (loss.detach(), torch.autograd.grad(loss, x)[0])
    h = data["hidden"].clone().requires_grad_()
    loss = vocab_parallel_linear_cross_entropy(h, data["weight"][lo:hi], none, process_group=group)
    out["all_ignored_linear"] = (loss.detach(), torch.autograd.grad(loss, h)[0])
    # a target beyond the global vocabulary is an error on every rank
    try:
        vocab_parallel_cross_entropy(
            data["logits"][:, lo:hi], torch.full_like(target, V), process_group=group
        )
    except ValueError as error:
        out["error"] = str(error)
    return out


def _reference_logits(case: dict[str, Any], data: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    x = data["logits"].clone().requires_grad_()
    target = data["target"]
    z = case.get("z_loss", 0.0)
    opts = {"label_smoothing": case["label_smoothing"]}
    if z:  # the written-out formula: F.cross_entropy + z * logsumexp^2 over counted tokens
        per = tF.cross_entropy(x, target, reduction="none", **opts)
        per = per + torch.where(target != -100, z * torch.logsumexp(x, 1).square(), 0.0)
        loss = per.sum() / (target != -100).sum()
    else:
        loss = tF.cross_entropy(x, target, reduction=case["reduction"], **opts)
    (grad,) = torch.autograd.grad(loss, x, _upstream(case, data))
    return loss.detach(), grad


def _reference_linear(case: dict[str, Any], data: dict[str, Tensor]) -> list[Tensor]:
    leaves = [data[k].clone().requires_grad_() for k in ("hidden", "weight", "bias")]
    options = {k: v for k, v in case.items() if k != "reduction"}
    per = linear_reference(leaves[0], leaves[1], data["target"], bias=leaves[2], **options)
    counted = (data["target"] != -100).sum()
    reduction = case["reduction"]
    loss = per if reduction == "none" else per.sum() / (counted if reduction == "mean" else 1)
    return [loss.detach(), *torch.autograd.grad(loss, leaves, _upstream(case, data))]


def _close(a: Tensor, b: Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sizes", [[6, 4], [3, 5, 2]], ids=["2 ranks", "3 uneven ranks"])
def test_vocab_parallel_equals_the_full_computation(sizes: list[int]) -> None:
    results = run_ranks(_worker, len(sizes), sizes, timeout=90.0)
    data = _data()
    reference_logits = [_reference_logits(case, data) for case in LOGIT_CASES]
    reference_linear = [_reference_linear(case, data) for case in LINEAR_CASES]
    for rank, out in enumerate(results):
        lo, hi = sum(sizes[:rank]), sum(sizes[: rank + 1])
        for (loss, grad), (ref_loss, ref_grad) in zip(out["logits"], reference_logits, strict=True):
            _close(loss, ref_loss)
            _close(grad, ref_grad[:, lo:hi])
        for got, ref in zip(out["linear"], reference_linear, strict=True):
            loss, gh, gw, gb = got
            _close(loss, ref[0])
            _close(gh, ref[1])  # the hidden states' full gradient on every rank
            _close(gw, ref[2][lo:hi])
            _close(gb, ref[3][lo:hi])
        for key in ("all_ignored", "all_ignored_linear"):
            loss, grad = out[key]
            assert loss.item() == 0.0 and not grad.any()
        assert out["error"].startswith(
            f"vocab_parallel_cross_entropy: target must hold class indices in [0, {V - 1}]"
        )


def test_without_a_group_the_local_block_is_the_vocabulary() -> None:
    from losskit.distributed import (
        vocab_parallel_cross_entropy,
        vocab_parallel_linear_cross_entropy,
    )

    data = _data()
    target = data["target"]
    got = vocab_parallel_cross_entropy(
        data["logits"], target, process_group=None, label_smoothing=0.2
    )
    _close(got, tF.cross_entropy(data["logits"], target, label_smoothing=0.2))
    got = vocab_parallel_linear_cross_entropy(
        data["hidden"], data["weight"], target, process_group=None, reduction="none"
    )
    _close(got, tF.cross_entropy(data["hidden"] @ data["weight"].T, target, reduction="none"))
