"""``batch=True`` across processes: the global dice needs one all-reduce of the statistics.

Kept apart from the other dice tests so that the spawned workers import little.
"""

from __future__ import annotations

import pytest
import torch

from losskit import dice_loss
from losskit.functional.dice import overlap_score, overlap_statistics

F64 = torch.float64


# --------------------------------------------------------------------------------------------
# batch=True across processes: one all-reduce of the statistics


def _distributed_worker(
    rank: int, world: int, init: str, x: torch.Tensor, labels: torch.Tensor, out: str
) -> None:
    import torch.distributed as dist
    import torch.distributed.nn.functional as dist_fn

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        shard = x.chunk(world)[rank].clone().requires_grad_()
        local = overlap_statistics(
            shard, labels.chunk(world)[rank], mode="multiclass", from_logits=True, batch=True
        )
        stats = dist_fn.all_reduce(local)  # differentiable sum over ranks
        loss = 1 - overlap_score(stats, metric="dice").mean()
        loss.backward()
        assert shard.grad is not None
        torch.save({"loss": loss.detach(), "grad": shard.grad}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_batch_statistics_all_reduce(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import torch.distributed as dist
    import torch.multiprocessing as mp

    if not dist.is_available():
        pytest.skip("torch.distributed unavailable")
    gen = torch.Generator().manual_seed(18)
    x = torch.randn(4, 3, 5, 5, generator=gen, dtype=F64)
    labels = torch.randint(0, 3, (4, 5, 5), generator=gen)
    world = 2
    out = str(tmp_path / "result")
    mp.spawn(
        _distributed_worker,
        args=(world, f"file://{tmp_path}/init", x, labels, out),
        nprocs=world,
        join=True,
    )
    whole = x.clone().requires_grad_()
    expected = dice_loss(whole, labels, mode="multiclass", from_logits=True, batch=True)
    expected.backward()
    assert whole.grad is not None
    for rank, grad_slice in enumerate(whole.grad.chunk(world)):
        result = torch.load(f"{out}.{rank}")
        torch.testing.assert_close(result["loss"], expected.detach())
        # every rank back-propagates the same global loss and all_reduce's backward sums the
        # ranks' gradients: world x the single-process gradient (data-parallel training then
        # averages over ranks)
        torch.testing.assert_close(result["grad"], world * grad_slice)
