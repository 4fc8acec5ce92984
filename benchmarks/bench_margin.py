"""Margin softmax losses: forward+backward time and saved-tensor memory against
pytorch-metric-learning, in one run.

    PYTHONPATH=src python benchmarks/bench_margin.py [--threads 1] [--repeats 25]

(from the repository root; quick check: ``--repeats 3``).

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
from collections.abc import Callable

import torch
import torch.nn.functional as tF

import losskit
from _harness import MIB, interleaved_medians, print_table, saved_bytes


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
    rows = [
        row
        for n, d, c in [(256, 128, 1000), (512, 256, 4000)]
        for row in bench_size(n, d, c, args.repeats)
    ]
    print_table(
        [
            "loss",
            "N x D -> C",
            "losskit ms",
            "pml ms",
            "ratio",
            "x CE",
            "losskit MB",
            "pml MB",
            "ratio",
        ],
        rows,
        rule=True,
    )


def bench_size(n: int, d: int, c: int, repeats: int) -> list[list[str]]:
    """The table rows of one problem size."""
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

    rows = []
    with losskit.validation(False):
        for name, mine, other in cases:
            torch.testing.assert_close(mine(), other(), rtol=1e-4, atol=1e-4)
            timings = interleaved_medians(
                {"losskit": mine, "pml": other, "CE": floor}, rounds=repeats, warmup=3
            )
            t_mine, t_other, t_floor = (1e3 * timings.median(k) for k in ("losskit", "pml", "CE"))
            m_mine, m_other = saved_bytes(mine) / MIB, saved_bytes(other) / MIB
            rows.append(
                [
                    name,
                    f"{n}x{d} -> {c}",
                    f"{t_mine:.2f}",
                    f"{t_other:.2f}",
                    f"{t_other / t_mine:.2f}",
                    f"{t_mine / t_floor:.2f}",
                    f"{m_mine:.2f}",
                    f"{m_other:.2f}",
                    f"{m_other / m_mine:.2f}",
                ]
            )
    return rows


if __name__ == "__main__":
    main()
