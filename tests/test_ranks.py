"""The multi-process harness itself: results come back per rank, a failing rank fails the test."""

from __future__ import annotations

import pytest
import torch

from ranks import run_ranks


def _scaled_sum(rank: int, world: int, x: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist

    y = x.clone() * (rank + 1)
    dist.all_reduce(y)
    return y


def _fails_on_rank_one(rank: int, world: int) -> int:
    if rank == 1:
        raise ValueError("rank one fails")
    return rank


def test_every_rank_returns_its_result() -> None:
    results = run_ranks(_scaled_sum, 3, torch.tensor(1.0))
    assert [r.item() for r in results] == [6.0, 6.0, 6.0]


def test_a_failing_rank_fails_the_run() -> None:
    with pytest.raises(Exception, match="rank one fails"):
        run_ranks(_fails_on_rank_one, 2)
