"""Gradient accumulation: micro-batches of unequal counted-token numbers give the gradient of the
whole batch (``global_divisor`` + ``label_count``), against ``torch.nn.functional.cross_entropy``
on the union. One process; the same helpers across ranks are checked in
``test_distributed_losses.py``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF

import losskit
from losskit.distributed import LossParts, global_divisor, global_mean, label_count

F64 = torch.float64
IGNORE = -100


def _batch() -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    gen = torch.Generator().manual_seed(5)
    sizes = [1, 4, 2, 5]  # sequences per micro-batch
    hidden = torch.randn(sum(sizes), 7, 8, generator=gen, dtype=F64)
    tokens = torch.randint(0, 6, (sum(sizes), 7), generator=gen)
    # padding: a different fraction of every micro-batch is ignored
    fraction = torch.repeat_interleave(torch.tensor([0.0, 0.6, 0.3, 0.9]), torch.tensor(sizes))
    tokens[torch.rand(sum(sizes), 7, generator=gen) < fraction.unsqueeze(1)] = IGNORE
    return hidden, tokens, sizes


def _head() -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(8, 6).to(F64)


def _whole_batch_grad(
    hidden: torch.Tensor, tokens: torch.Tensor, weight: torch.Tensor | None
) -> list[torch.Tensor]:
    head = _head()
    logits = head(hidden).transpose(1, 2)
    TF.cross_entropy(logits, tokens, weight=weight, ignore_index=IGNORE).backward()
    return [p.grad for p in head.parameters() if p.grad is not None]


@pytest.mark.parametrize("weighted", [False, True], ids=["counted", "class-weighted"])
def test_four_micro_batches_give_the_whole_batch_gradient(weighted: bool) -> None:
    hidden, tokens, sizes = _batch()
    weight = torch.tensor([0.5, 1.0, 2.0, 1.5, 0.3, 1.2], dtype=F64) if weighted else None
    micro = list(zip(hidden.split(sizes), tokens.split(sizes), strict=True))
    counts = [int((y != IGNORE).sum()) for _, y in micro]
    assert len(set(counts)) == 4, counts

    head = _head()
    divisor = global_divisor([label_count(y, weight=weight) for _, y in micro])
    for x, y in micro:
        logits = head(x).transpose(1, 2)
        total = losskit.sparse_softmax_cross_entropy(logits, y, weight=weight, reduction="sum")
        (total / divisor).backward()
    accumulated = [p.grad for p in head.parameters() if p.grad is not None]

    expected = _whole_batch_grad(hidden, tokens, weight)
    for got, want in zip(accumulated, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-13)

    # the usual recipe, the mean of the micro-batch means over 4, is another gradient
    head = _head()
    for x, y in micro:
        loss = losskit.sparse_softmax_cross_entropy(head(x).transpose(1, 2), y, weight=weight)
        (loss / len(micro)).backward()
    assert head.weight.grad is not None
    assert not torch.allclose(head.weight.grad, expected[0], rtol=1e-3)


def test_label_count_is_cross_entropy_divisor() -> None:
    _, tokens, _ = _batch()
    logits = torch.randn(tokens.shape[0], 6, tokens.shape[1], dtype=F64)
    weight = torch.rand(6, dtype=F64)
    for w in (None, weight):
        total = TF.cross_entropy(logits, tokens, weight=w, reduction="sum")
        mean = TF.cross_entropy(logits, tokens, weight=w)
        torch.testing.assert_close(label_count(tokens, weight=w).to(F64), total / mean)
    assert label_count(tokens).dtype == torch.int64
    assert label_count(tokens, ignore_index=0).item() == int((tokens != 0).sum())


def test_global_mean_of_micro_batch_parts_is_the_union_mean() -> None:
    hidden, tokens, sizes = _batch()
    head = _head()
    parts = [
        LossParts(
            losskit.sparse_softmax_cross_entropy(head(x).transpose(1, 2), y, reduction="sum"),
            label_count(y),
        )
        for x, y in zip(hidden.split(sizes), tokens.split(sizes), strict=True)
    ]
    expected = TF.cross_entropy(head(hidden).transpose(1, 2), tokens)
    torch.testing.assert_close(global_mean(parts), expected)
    means = torch.stack([p.total / p.divisor for p in parts]).mean()
    assert not torch.allclose(means, expected)


def test_everything_ignored_gives_zero_not_nan() -> None:
    tokens = torch.full((2, 3), IGNORE)
    divisor = global_divisor([label_count(tokens), label_count(tokens[:1])])
    assert divisor.item() == 1.0
    logits = torch.randn(2, 4, 3, dtype=F64, requires_grad=True)
    loss = losskit.sparse_softmax_cross_entropy(logits, tokens, reduction="sum") / divisor
    loss.backward()
    assert loss.item() == 0.0
    assert logits.grad is not None and torch.equal(logits.grad, torch.zeros_like(logits))
    assert global_mean(LossParts(logits.sum() * 0, 0.0)).item() == 0.0


def test_divisor_dtype_follows_the_divisors() -> None:
    assert global_divisor([2, 3]).dtype == torch.float32
    assert global_divisor(torch.tensor(2.0, dtype=F64)).dtype == F64
    assert global_divisor([torch.tensor(2), 3.5]).item() == 5.5
