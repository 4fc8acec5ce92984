"""Regression losses: forward+backward time against torch's fused BCE-with-logits.

The product target for an elementwise loss is a forward+backward within 1.5x of
``F.binary_cross_entropy_with_logits`` (one fused kernel each way) on as many elements, and, where
torch has the same loss, a ratio near 1 against ``torch.nn.functional``. All rows are measured in
one process, interleaved round by round so that machine load affects every row alike; medians.

Run from the repository root (quick check: ``--numel 262144 --rounds 5``)::

    PYTHONPATH=src python benchmarks/bench_regression.py [--numel 4194304] [--rounds 15]
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as tF
from torch import Tensor

import losskit
from _harness import fwd_bwd, interleaved_medians, numel_rounds_args, print_table

Fn = Callable[[Tensor, Tensor], Tensor]


def main() -> None:
    args = numel_rounds_args(__doc__)

    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.numel // 64, 64, generator=g).requires_grad_()
    y = torch.randn(args.numel // 64, 64, generator=g)
    y_prob = torch.rand(args.numel // 64, 64, generator=g)
    y_count = (3 * y.abs()).floor()
    # MSLE's domain is (-1, inf): a non-negative leaf of its own, prepared outside the timing.
    x_pos = x.detach().abs().requires_grad_()
    y_pos = y.abs()

    rows: dict[str, tuple[Fn, Tensor, Tensor, Fn | None]] = {
        "mse_loss": (losskit.mse_loss, x, y, tF.mse_loss),
        "mae_loss": (losskit.mae_loss, x, y, tF.l1_loss),
        "huber_loss": (losskit.huber_loss, x, y, tF.huber_loss),
        "smooth_l1_loss": (losskit.smooth_l1_loss, x, y, tF.smooth_l1_loss),
        "log_cosh_loss": (losskit.log_cosh_loss, x, y, None),
        "quantile_loss": (losskit.quantile_loss, x, y, None),
        "msle_loss": (partial(losskit.msle_loss, validate=False), x_pos, y_pos, None),
        "mape_loss": (losskit.mape_loss, x, y, None),
        "poisson_loss": (
            partial(losskit.poisson_loss, validate=False),
            x,
            y_count,
            tF.poisson_nll_loss,
        ),
        "l1_loss (dim=-1)": (losskit.l1_loss, x, y, None),
        "l2_loss (dim=-1)": (losskit.l2_loss, x, y, None),
        "cosine_similarity_loss": (losskit.cosine_similarity_loss, x, y, None),
    }
    # every round: the BCE baseline, then each loss followed by its torch twin
    contenders: dict[str, Callable[[], Tensor]] = {
        "bce_with_logits": partial(tF.binary_cross_entropy_with_logits, x, y_prob)
    }
    for name, (fn, inp, target, ref) in rows.items():
        contenders[name] = partial(fn, inp, target)
        if ref is not None:
            contenders[f"{name} [torch]"] = partial(ref, inp, target)
    timings = interleaved_medians(
        contenders, rounds=args.rounds, warmup=0, measure=partial(fwd_bwd, clear=[x, x_pos])
    )

    base = timings.median("bce_with_logits")
    print(f"forward+backward, {args.numel} float32 elements, median of {args.rounds} rounds")
    table = []
    for name, (_, _, _, ref) in rows.items():
        t = timings.median(name)
        vs_torch = f"{t / timings.median(f'{name} [torch]'):.2f}x" if ref is not None else ""
        table.append([name, f"{t * 1e3:.2f}", f"{t / base:.2f}x", vs_torch])
    table.append(["bce_with_logits (baseline)", f"{base * 1e3:.2f}", "", ""])
    print_table(["loss", "ms", "vs BCE", "vs torch"], table)


if __name__ == "__main__":
    main()
