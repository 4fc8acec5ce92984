"""Margin softmax losses: forward+backward time and saved-tensor memory against
pytorch-metric-learning, in one run.

    PYTHONPATH=src python benchmarks/bench_margin.py [--threads 1] [--repeats 25]

Each row times ``loss(x, y).backward()`` (features and class weights require gradient) and
reports the median over ``--repeats`` runs after warm-up, plus the bytes of the tensors autograd
saves for backward (measured with ``torch.autograd.graph.saved_tensors_hooks``, counting each
storage once). losskit is called at λ = 0 (pytorch-metric-learning has no λ annealing) with the
module's weight; pml with its own ``W`` of layout ``(D, C)`` holding the same values. The last
column is the ratio pml / losskit (> 1: losskit is faster / lighter). ``F.cross_entropy`` of
``F.linear`` logits is the floor any margin softmax pays.
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


def median_ms(step: Callable[[], None], repeats: int) -> float:
    for _ in range(3):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from pytorch_metric_learning import losses as pml

    print(f"torch {torch.__version__}, CPU float32, {args.threads} thread(s), "
          f"median of {args.repeats}")
    header = (f"{'loss':<26}{'N x D -> C':>18}{'losskit ms':>12}{'pml ms':>10}{'ratio':>8}"
              f"{'losskit MB':>12}{'pml MB':>9}{'ratio':>8}")
    print(header)
    print("-" * len(header))
    for n, d, c in [(256, 128, 1000), (512, 256, 4000)]:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, d, generator=g).requires_grad_(True)
        y = torch.randint(0, c, (n,), generator=g)
        w = (torch.randn(c, d, generator=g) / math.sqrt(d)).requires_grad_(True)
        cases: list[tuple[str, Callable[[], torch.Tensor], Callable[[], torch.Tensor] | None]] = []

        def ours(fn: Callable[..., torch.Tensor], **kw: object) -> Callable[[], torch.Tensor]:
            return lambda: fn(x, y, w, **kw)

        def theirs(cls: type, **kw: object) -> Callable[[], torch.Tensor]:
            ref = cls(num_classes=c, embedding_size=d, **kw)
            ref.W.data = w.detach().T.clone()
            return lambda: ref(x, y)

        with losskit.validation(False):
            cases.append(("large_margin m=4", ours(losskit.large_margin_softmax_loss,
                                                    margin=4, lambda_=0.0),
                          theirs(pml.LargeMarginSoftmaxLoss, margin=4, scale=1)))
            cases.append(("large_margin m=2", ours(losskit.large_margin_softmax_loss,
                                                    margin=2, lambda_=0.0),
                          theirs(pml.LargeMarginSoftmaxLoss, margin=2, scale=1)))
            cases.append(("sphereface m=4", ours(losskit.sphereface_loss, margin=4, lambda_=0.0),
                          theirs(pml.SphereFaceLoss, margin=4, scale=1)))
            cases.append(("cosface", ours(losskit.cosface_loss, scale=64.0, margin=0.35),
                          theirs(pml.CosFaceLoss, margin=0.35, scale=64)))
            cases.append(("arcface", ours(losskit.arcface_loss, scale=64.0,
                                          margin=math.radians(28.6)),
                          theirs(pml.ArcFaceLoss, margin=28.6, scale=64)))
            cases.append(("F.cross_entropy(F.linear)",
                          lambda: tF.cross_entropy(tF.linear(x, w), y), None))
            for name, mine, other in cases:
                if other is not None:
                    torch.testing.assert_close(mine(), other(), rtol=1e-4, atol=1e-4)
                t_mine = median_ms(lambda f=mine: f().backward(), args.repeats)
                m_mine = saved_bytes(mine) / 2**20
                line = f"{name:<26}{f'{n}x{d} -> {c}':>18}{t_mine:>12.3f}"
                if other is None:
                    print(line + f"{'':>18}{m_mine:>12.2f}")
                    continue
                t_other = median_ms(lambda f=other: f().backward(), args.repeats)
                m_other = saved_bytes(other) / 2**20
                print(line + f"{t_other:>10.3f}{t_other / t_mine:>8.2f}"
                      f"{m_mine:>12.2f}{m_other:>9.2f}{m_other / m_mine:>8.2f}")


if __name__ == "__main__":
    main()
