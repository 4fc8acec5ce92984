"""Run a function on several spawned processes joined in a gloo process group.

Shared by every multi-process test (distributed losses, vocabulary-parallel cross-entropy,
metric synchronisation). Workers are plain module-level functions
``worker(rank, world, *args) -> result``; each rank's result comes back through ``torch.save``.
A run is bounded in time: past ``timeout`` seconds every process is killed and the test fails.

Example (in a test module; the worker must be importable, so defined at module level)::

    def _worker(rank, world, x):
        import torch.distributed as dist
        y = x.clone()
        dist.all_reduce(y)
        return y

    def test_sum():
        assert [r.item() for r in run_ranks(_worker, 2, torch.tensor(1.0))] == [2.0, 2.0]
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pytest
import torch


def _entry(
    rank: int,
    world: int,
    init: str,
    out_dir: str,
    worker: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        result = worker(rank, world, *args)
        torch.save(result, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def run_ranks(
    worker: Callable[..., Any], world: int, *args: Any, timeout: float = 120.0
) -> list[Any]:
    """``[worker(0, world, *args), ..., worker(world - 1, world, *args)]``, each in its own process.

    An exception in any rank fails the calling test with that rank's traceback; a run that
    outlives ``timeout`` seconds is killed and fails the test.
    """
    import torch.distributed as dist
    import torch.multiprocessing as mp

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is unavailable")
    with tempfile.TemporaryDirectory() as out_dir:
        init = f"file://{os.path.join(out_dir, 'init')}"
        context = mp.start_processes(
            _entry,
            args=(world, init, out_dir, worker, args),
            nprocs=world,
            join=False,
            start_method="spawn",
        )
        deadline = time.monotonic() + timeout
        try:
            while not context.join(timeout=max(0.1, deadline - time.monotonic())):
                if time.monotonic() > deadline:
                    pytest.fail(f"{world} ranks did not finish within {timeout:.0f} s")
        finally:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
                    process.join()
        return [
            torch.load(os.path.join(out_dir, f"rank{rank}.pt"), weights_only=False)
            for rank in range(world)
        ]
