"""Cross-entropy losses: losskit against torch.nn.functional, forward+backward, CPU float32.

Pairs (same arguments, ``reduction="mean"``):

* ``sparse_softmax_cross_entropy`` vs ``F.cross_entropy`` with class indices, plain and with
  class weights + ``ignore_index`` + ``label_smoothing``;
* ``softmax_cross_entropy`` vs ``F.cross_entropy`` with probability targets;
* ``sigmoid_cross_entropy`` vs ``F.binary_cross_entropy_with_logits`` (with ``pos_weight``);
* ``binary_cross_entropy`` vs ``F.binary_cross_entropy``;
* ``balanced_sigmoid_cross_entropy`` (per-sample beta) vs ``F.binary_cross_entropy_with_logits``
  with the equivalent per-sample ``weight = 1 - beta`` and ``pos_weight = beta / (1 - beta)``
  (beta computed outside the timed call, which favours torch).

Time is the median over interleaved rounds (each round runs both sides of every pair once, so a
busy machine slows them alike); the paired ratio is the median of the per-round ratios. Run:
``PYTHONPATH=src python benchmarks/bench_cross_entropy.py [--batch N] [--classes C]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

import losskit

Thunk = Callable[[], Tensor]


def pairs(batch: int, classes: int) -> dict[str, tuple[Tensor, Thunk, Thunk]]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, classes, generator=gen).requires_grad_()
    labels = torch.randint(0, classes, (batch,), generator=gen)
    labels[::17] = -100
    w = torch.rand(classes, generator=gen) + 0.5
    probs = torch.softmax(torch.randn(batch, classes, generator=gen), 1)
    binary = (torch.rand(batch, classes, generator=gen) < 0.2).float()
    pos_weight = torch.rand(classes, generator=gen) + 1.0
    p = torch.rand(batch, classes, generator=gen).clamp(0.01, 0.99).requires_grad_()
    beta = (1 - binary).mean(1, keepdim=True)
    return {
        "sparse_softmax_cross_entropy": (
            x,
            lambda: losskit.sparse_softmax_cross_entropy(x, labels),
            lambda: F.cross_entropy(x, labels),
        ),
        "sparse (weight, ignore, smoothing)": (
            x,
            lambda: losskit.sparse_softmax_cross_entropy(x, labels, weight=w, label_smoothing=0.1),
            lambda: F.cross_entropy(x, labels, weight=w, label_smoothing=0.1),
        ),
        "softmax_cross_entropy (probs)": (
            x,
            lambda: losskit.softmax_cross_entropy(x, probs),
            lambda: F.cross_entropy(x, probs),
        ),
        "sigmoid_cross_entropy (pos_weight)": (
            x,
            lambda: losskit.sigmoid_cross_entropy(x, binary, pos_weight=pos_weight),
            lambda: F.binary_cross_entropy_with_logits(x, binary, pos_weight=pos_weight),
        ),
        "binary_cross_entropy": (
            p,
            lambda: losskit.binary_cross_entropy(p, binary),
            lambda: F.binary_cross_entropy(p, binary),
        ),
        "balanced_sigmoid_cross_entropy": (
            x,
            lambda: losskit.balanced_sigmoid_cross_entropy(x, binary),
            lambda: F.binary_cross_entropy_with_logits(
                x, binary, weight=1 - beta, pos_weight=beta / (1 - beta)
            ),
        ),
    }


def fwd_bwd(leaf: Tensor, thunk: Thunk) -> float:
    leaf.grad = None
    start = time.perf_counter()
    thunk().backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    cases = pairs(args.batch, args.classes)
    ours: dict[str, list[float]] = {k: [] for k in cases}
    theirs: dict[str, list[float]] = {k: [] for k in cases}
    for leaf, a, b in cases.values():  # warm-up
        fwd_bwd(leaf, a)
        fwd_bwd(leaf, b)
    for r in range(args.rounds):
        for name, (leaf, a, b) in cases.items():
            # alternate the order so that neither side always runs on a warm cache
            if r % 2:
                ours[name].append(fwd_bwd(leaf, a))
                theirs[name].append(fwd_bwd(leaf, b))
            else:
                theirs[name].append(fwd_bwd(leaf, b))
                ours[name].append(fwd_bwd(leaf, a))
    print(
        f"cross-entropy fwd+bwd, CPU float32, input ({args.batch}, {args.classes}), "
        f"{torch.get_num_threads()} threads, median of {args.rounds} interleaved rounds"
    )
    print(f"{'loss':38s} {'losskit ms':>11s} {'torch ms':>9s} {'ratio':>7s} {'paired':>7s}")
    for name in cases:
        a, b = statistics.median(ours[name]), statistics.median(theirs[name])
        paired = statistics.median(o / t for o, t in zip(ours[name], theirs[name], strict=True))
        print(f"{name:38s} {a * 1e3:11.2f} {b * 1e3:9.2f} {a / b:7.3f} {paired:7.3f}")
    print(
        "ratio: median losskit time / median torch.nn.functional time; paired: median of the "
        "per-round ratios (robust to load changes between rounds). Target <= 1.1."
    )


if __name__ == "__main__":
    main()
