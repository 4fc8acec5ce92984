"""The dice statistics' hand-written forward and backward against plain autograd.

The reference builds the one-hot target and the masked products out of elementary operations
and lets autograd differentiate them (float64). The fast path is run with a tiny scratch block
so that the blocked dot product has several blocks and a ragged last one, and with the default
block on a tensor that crosses it.
"""

from __future__ import annotations

import pytest
import torch

import losskit.functional.dice as dice_module
from losskit.functional.dice import overlap_statistics

F64 = torch.float64


def _reference(
    x: torch.Tensor,
    target: torch.Tensor,
    mode: str,
    from_logits: bool,
    squared: bool,
    ignore_index: int | None,
) -> torch.Tensor:
    """``(3, N, C)`` statistics by elementary operations (autograd differentiates them)."""
    n = x.shape[0]
    if mode == "multiclass":
        c = x.shape[1]
        p = torch.softmax(x, 1) if from_logits else x
        lab = target.reshape(n, -1)
        keep = torch.ones_like(lab, dtype=F64)
        if ignore_index is not None:
            keep = (lab != ignore_index).to(F64)
        safe = torch.where(lab == ignore_index, 0, lab) if ignore_index is not None else lab
        y = torch.nn.functional.one_hot(safe, c).permute(0, 2, 1).to(F64) * keep[:, None]
        p = p.reshape(n, c, -1) * keep[:, None]
    else:
        c = x.shape[1] if mode == "multilabel" else 1
        p = torch.sigmoid(x) if from_logits else x
        p = p.reshape(n, c, -1)
        t = target.reshape(n, c, -1).to(F64)
        keep = torch.ones_like(t) if ignore_index is None else (t != ignore_index).to(F64)
        y = torch.where(keep > 0, t, 0.0)
        p = p * keep
    inter = (p * y).sum(-1)
    xs = (p * p).sum(-1) if squared else p.sum(-1)
    ys = (y * y).sum(-1) if squared else y.sum(-1)
    return torch.stack((inter, xs, ys))


def _case(mode: str, shape: tuple[int, ...], ignore: bool, gen: torch.Generator):
    x = torch.randn(shape, generator=gen, dtype=F64)
    if mode == "multiclass":
        target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=gen)
        if ignore:
            target[torch.rand(target.shape, generator=gen) < 0.2] = -1
    else:
        target = (torch.rand(shape, generator=gen) > 0.6).to(F64)
        if ignore:
            target[torch.rand(shape, generator=gen) < 0.2] = -1
    return x, target


MODES = ["binary", "multilabel", "multiclass"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("block", [7, None])
def test_statistics_and_gradient_match_autograd(
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    ignore: bool,
    squared: bool,
    from_logits: bool,
    block: int | None,
) -> None:
    gen = torch.Generator().manual_seed(hash((mode, ignore, squared, from_logits)) % 2**31)
    if block is None:  # default block, a tensor crossing it (several blocks, a ragged end)
        shape = (3, 2, 257, 205) if mode != "binary" else (3, 1, 301, 293)
    else:
        monkeypatch.setattr(dice_module, "_DOT_BLOCK", block)
        shape = (2, 3, 5, 4) if mode != "binary" else (2, 1, 6, 5)
    x, target = _case(mode, shape, ignore, gen)
    if not from_logits:
        x = torch.sigmoid(x) if mode != "multiclass" else torch.softmax(x, 1)
    ii = -1 if ignore else None
    xa = x.clone().requires_grad_()
    xb = x.clone().requires_grad_()
    got = overlap_statistics(
        xa, target, mode=mode, from_logits=from_logits, squared=squared, ignore_index=ii
    )
    want = _reference(xb, target, mode, from_logits, squared, ii)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-9)
    w = torch.randn(want.shape, generator=gen, dtype=F64)
    (got * w).sum().backward()
    (want * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("which", [0, 1])
def test_one_statistic_alone_has_the_right_gradient(mode: str, which: int) -> None:
    """Backward through the intersection or the prediction sum alone (the other output's
    gradient is never materialised)."""
    gen = torch.Generator().manual_seed(5 + which)
    x, target = _case(mode, (2, 3, 4, 5) if mode != "binary" else (2, 1, 4, 5), False, gen)
    xa = x.clone().requires_grad_()
    xb = x.clone().requires_grad_()
    overlap_statistics(xa, target, mode=mode, from_logits=True)[which].sum().backward()
    _reference(xb, target, mode, True, False, None)[which].sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)


def test_backward_twice_with_retain_graph() -> None:
    gen = torch.Generator().manual_seed(3)
    x, target = _case("multilabel", (2, 3, 40, 40), False, gen)
    x.requires_grad_()
    loss = dice_module.dice_loss(x, target, mode="multilabel", from_logits=True)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward()
    torch.testing.assert_close(x.grad, 2 * first)
