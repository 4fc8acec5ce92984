"""Training under ``DistributedDataParallel`` reaches the parameters of single-process training.

A 1x1 convolution (a per-pixel classifier) is trained for a few SGD steps on two gloo ranks
holding uneven shards (3 and 1 images, with different numbers of ignored pixels) with
``dice_loss(batch=True, process_group=...)`` plus the pixel-mean cross-entropy with
``process_group=...``, and the loss multiplied by the world size before ``backward()`` (DDP
averages the ranks' gradients). Checked exactly as documented in ``docs/distributed.md``:

* without the factor, DDP's gradient is the single-process gradient divided by the world size;
* with it, the parameters after every step equal single-process training on the whole batch;
* without ``process_group`` (each rank its own batch) they do not;
* gradient accumulation as documented (``global_divisor`` of the step, ``no_sync`` on all but
  the last micro-batch, ``total / divisor * world``) gives the whole batch's gradient.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from ranks import run_ranks

F64 = torch.float64
IGNORE = -100
SIZES = [3, 1]
STEPS = 4
LR = 0.5


def _model() -> torch.nn.Module:
    torch.manual_seed(3)
    return torch.nn.Conv2d(4, 3, kernel_size=1).to(F64)


def _loss(logits: torch.Tensor, labels: torch.Tensor, group: Any) -> torch.Tensor:
    import losskit

    dice = losskit.dice_loss(
        logits,
        labels,
        mode="multiclass",
        from_logits=True,
        batch=True,
        ignore_index=IGNORE,
        process_group=group,
    )
    ce = losskit.sparse_softmax_cross_entropy(logits, labels, process_group=group)
    return dice + ce


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(4)
    total = sum(SIZES)
    x = torch.randn(total, 4, 5, 5, generator=gen, dtype=F64)
    labels = torch.randint(0, 3, (total, 5, 5), generator=gen)
    # many ignored pixels in the first images, few in the last one
    drop = torch.rand(total, 5, 5, generator=gen) < torch.tensor([0.7, 0.5, 0.4, 0.1]).view(
        -1, 1, 1
    )
    labels[drop] = IGNORE
    return x, labels


def _train(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, group: Any, scale: float
) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        (_loss(model(x), y, group) * scale).backward()
        opt.step()


def _worker(rank: int, world: int, x: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    import losskit
    from losskit.distributed import global_divisor, label_count

    group = dist.group.WORLD
    xs, ys = x.split(SIZES)[rank], labels.split(SIZES)[rank]

    ddp = DDP(_model())
    _loss(ddp(xs), ys, group).backward()
    unscaled = [p.grad.clone() for p in ddp.parameters() if p.grad is not None]

    ddp = DDP(_model())
    _train(ddp, xs, ys, group, scale=float(dist.get_world_size(group)))
    trained = [p.detach().clone() for p in ddp.module.parameters()]

    local = DDP(_model())
    _train(local, xs, ys, None, scale=1.0)

    ddp = DDP(_model())
    cut = min(1, xs.shape[0])
    micro = [(xs[:cut], ys[:cut]), (xs[cut:], ys[cut:])]
    divisor = global_divisor([label_count(y) for _, y in micro], group)
    world = dist.get_world_size(group)
    for i, (x_mb, y_mb) in enumerate(micro):
        total = losskit.sparse_softmax_cross_entropy(ddp(x_mb), y_mb, reduction="sum")
        with ddp.no_sync() if i < len(micro) - 1 else contextlib.nullcontext():
            (total / divisor * world).backward()
    return {
        "unscaled": unscaled,
        "trained": trained,
        "local": [p.detach().clone() for p in local.module.parameters()],
        "accumulated": [p.grad.clone() for p in ddp.parameters() if p.grad is not None],
    }


def test_ddp_training_equals_single_process_training() -> None:
    x, labels = _data()
    counts = [int((y != IGNORE).sum()) for y in labels.split(SIZES)]
    assert counts[0] / SIZES[0] != counts[1] / SIZES[1]  # uneven ignore counts per image

    model = _model()
    _loss(model(x), labels, None).backward()
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model = _model()
    _train(model, x, labels, None, scale=1.0)
    expected = [p.detach() for p in model.parameters()]

    model = _model()
    torch.nn.functional.cross_entropy(model(x), labels, ignore_index=IGNORE).backward()
    ce_grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]

    world = len(SIZES)
    results = run_ranks(_worker, world, x, labels, timeout=120)
    for rank, result in enumerate(results):
        assert len(result["unscaled"]) == len(grads) == 2
        for got, want in zip(result["unscaled"], grads, strict=True):
            torch.testing.assert_close(got, want / world, rtol=1e-10, atol=1e-12)
        for got, want in zip(result["trained"], expected, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12, msg=f"rank {rank}")
        # each rank's own mean, averaged by DDP: another model
        assert not torch.allclose(result["local"][0], expected[0], rtol=1e-4, atol=1e-6)
        assert len(result["accumulated"]) == 2
        for got, want in zip(result["accumulated"], ce_grads, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
