"""Regression losses: forward+backward time against torch's fused BCE-with-logits.

The product target for an elementwise loss is a forward+backward within 1.5x of
``F.binary_cross_entropy_with_logits`` (one fused kernel each way) on as many elements, and, where
torch has the same loss, a ratio near 1 against ``torch.nn.functional``. All rows are measured in
one process, interleaved round by round so that machine load affects every row alike; medians.

Run: ``python benchmarks/bench_regression.py [--numel 4194304] [--rounds 15]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as tF

import losskit

Fn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def fwd_bwd(fn: Fn, x: torch.Tensor, y: torch.Tensor) -> float:
    x = x.detach().requires_grad_(True)
    start = time.perf_counter()
    fn(x, y).backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numel", type=int, default=2**22)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.numel // 64, 64, generator=g)
    y = torch.randn(args.numel // 64, 64, generator=g)
    y_prob = torch.rand(args.numel // 64, 64, generator=g)
    y_count = (3 * y.abs()).floor()

    rows: dict[str, tuple[Fn, torch.Tensor, Fn | None]] = {
        "mse_loss": (losskit.mse_loss, y, tF.mse_loss),
        "mae_loss": (losskit.mae_loss, y, tF.l1_loss),
        "huber_loss": (losskit.huber_loss, y, tF.huber_loss),
        "smooth_l1_loss": (losskit.smooth_l1_loss, y, tF.smooth_l1_loss),
        "log_cosh_loss": (losskit.log_cosh_loss, y, None),
        "quantile_loss": (losskit.quantile_loss, y, None),
        "msle_loss": (lambda a, b: losskit.msle_loss(a.abs(), b.abs(), validate=False), y, None),
        "mape_loss": (losskit.mape_loss, y, None),
        "poisson_loss": (
            lambda a, b: losskit.poisson_loss(a, b, validate=False),
            y_count,
            tF.poisson_nll_loss,
        ),
        "l1_loss (dim=-1)": (losskit.l1_loss, y, None),
        "l2_loss (dim=-1)": (losskit.l2_loss, y, None),
        "cosine_similarity_loss": (losskit.cosine_similarity_loss, y, None),
    }
    bce = tF.binary_cross_entropy_with_logits
    times: dict[str, list[float]] = {"bce_with_logits": []}
    for name, (_, _, ref) in rows.items():
        times[name] = []
        if ref is not None:
            times[f"{name} [torch]"] = []

    for _ in range(args.rounds):
        times["bce_with_logits"].append(fwd_bwd(bce, x, y_prob))
        for name, (fn, target, ref) in rows.items():
            times[name].append(fwd_bwd(fn, x, target))
            if ref is not None:
                times[f"{name} [torch]"].append(fwd_bwd(ref, x, target))

    base = statistics.median(times["bce_with_logits"])
    print(f"forward+backward, {args.numel} float32 elements, median of {args.rounds} rounds")
    print(f"{'loss':<30}{'ms':>9}{'vs BCE':>9}{'vs torch':>10}")
    for name, (_, _, ref) in rows.items():
        t = statistics.median(times[name])
        vs_torch = ""
        if ref is not None:
            vs_torch = f"{t / statistics.median(times[f'{name} [torch]']):.2f}x"
        print(f"{name:<30}{t * 1e3:>9.2f}{t / base:>8.2f}x{vs_torch:>10}")
    print(f"{'bce_with_logits (baseline)':<30}{base * 1e3:>9.2f}")


if __name__ == "__main__":
    main()
