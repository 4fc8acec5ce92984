"""Margin softmax losses: forward+backward time and saved-tensor memory against
pytorch-metric-learning, in one run.

    PYTHONPATH=src python benchmarks/bench_margin.py [--threads 1] [--repeats 25]

Each row times ``loss(x, y).backward()`` (features and class weights require gradient) and
reports the median over ``--repeats`` runs after warm-up (losskit, pml and the floor run
interleaved, so that load changes hit all three alike), plus the bytes of the tensors autograd
saves for backward (``torch.autograd.graph.saved_tensors_hooks``, each storage counted once).
losskit is called at λ = 0 (pytorch-metric-learning has no λ annealing) with a weight ``W`` of
layout ``(C, D)``; pml with its own ``W`` of layout ``(D, C)`` holding the same values. The
ratio columns are pml / losskit (> 1: losskit is faster / lighter); ``x CE`` is losskit's time
over that of ``F.cross_entropy(F.linear(x, W), y)``, the floor any margin softmax pays.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as tF

import losskit


def saved_bytes(fn: Callable[[], torch.Tensor]) -> int:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def fwd_bwd(loss: Callable[[], torch.Tensor]) -> Callable[[], None]:
    def run() -> None:
        loss().backward()

    return run


def median_ms(*steps: Callable[[], None], repeats: int) -> list[float]:
    """Median wall time of each step in ms, the steps interleaved run by run so that a change
    of machine load hits all of them alike."""
    for step in steps:
        for _ in range(3):
            step()
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, record in zip(steps, times, strict=True):
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return [1e3 * statistics.median(record) for record in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(
        f"torch {torch.__version__}, CPU float32, {args.threads} thread(s), "
        f"median of {args.repeats}"
    )
    header = (
        f"{'loss':<18}{'N x D -> C':>18}{'losskit ms':>12}{'pml ms':>9}{'ratio':>7}"
        f"{'x CE':>7}{'losskit MB':>12}{'pml MB':>9}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for n, d, c in [(256, 128, 1000), (512, 256, 4000)]:
        bench_size(n, d, c, args.repeats)


def bench_size(n: int, d: int, c: int, repeats: int) -> None:
    from pytorch_metric_learning import losses as pml

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g).requires_grad_(True)
    y = torch.randint(0, c, (n,), generator=g)
    w = (torch.randn(c, d, generator=g) / math.sqrt(d)).requires_grad_(True)

    def ours(fn: Callable[..., torch.Tensor], **kw: object) -> Callable[[], torch.Tensor]:
        return lambda: fn(x, y, w, **kw)

    def theirs(cls: type, **kw: object) -> Callable[[], torch.Tensor]:
        ref = cls(num_classes=c, embedding_size=d, **kw)
        ref.W.data = w.detach().T.clone()
        return lambda: ref(x, y)

    cases: list[tuple[str, Callable[[], torch.Tensor], Callable[[], torch.Tensor]]] = [
        (
            "large_margin m=4",
            ours(losskit.large_margin_softmax_loss, margin=4, lambda_=0.0),
            theirs(pml.LargeMarginSoftmaxLoss, margin=4, scale=1),
        ),
        (
            "large_margin m=2",
            ours(losskit.large_margin_softmax_loss, margin=2, lambda_=0.0),
            theirs(pml.LargeMarginSoftmaxLoss, margin=2, scale=1),
        ),
        (
            "sphereface m=4",
            ours(losskit.sphereface_loss, margin=4, lambda_=0.0),
            theirs(pml.SphereFaceLoss, margin=4, scale=1),
        ),
        (
            "cosface",
            ours(losskit.cosface_loss, scale=64.0, margin=0.35),
            theirs(pml.CosFaceLoss, margin=0.35, scale=64),
        ),
        (
            "arcface",
            ours(losskit.arcface_loss, scale=64.0, margin=math.radians(28.6)),
            theirs(pml.ArcFaceLoss, margin=28.6, scale=64),
        ),
    ]

    def floor() -> torch.Tensor:
        return tF.cross_entropy(tF.linear(x, w), y)

    with losskit.validation(False):
        for name, mine, other in cases:
            torch.testing.assert_close(mine(), other(), rtol=1e-4, atol=1e-4)
            t_mine, t_other, t_floor = median_ms(
                fwd_bwd(mine), fwd_bwd(other), fwd_bwd(floor), repeats=repeats
            )
            m_mine, m_other = saved_bytes(mine) / 2**20, saved_bytes(other) / 2**20
            print(
                f"{name:<18}{f'{n}x{d} -> {c}':>18}{t_mine:>12.2f}{t_other:>9.2f}"
                f"{t_other / t_mine:>7.2f}{t_mine / t_floor:>7.2f}"
                f"{m_mine:>12.2f}{m_other:>9.2f}{m_other / m_mine:>7.2f}"
            )


if __name__ == "__main__":
    main()
