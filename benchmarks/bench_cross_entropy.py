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
busy machine slows them alike, and the order flips every round); the paired ratio is the median
of the per-round ratios. Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_cross_entropy.py [--batch N] [--classes C] [--rounds R]

(quick check: ``--batch 512 --classes 128 --rounds 5``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

import losskit
from _harness import fwd_bwd, interleaved_medians, print_table

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    cases = pairs(args.batch, args.classes)
    contenders: dict[tuple[str, str], Thunk] = {}
    for name, (_, ours, theirs) in cases.items():
        contenders[name, "losskit"] = ours
        contenders[name, "torch"] = theirs
    leaves = {id(leaf): leaf for leaf, _, _ in cases.values()}.values()
    # alternate the order so that neither side always runs on a warm cache
    timings = interleaved_medians(
        contenders, rounds=args.rounds, measure=partial(fwd_bwd, clear=leaves), alternate=True
    )
    print(
        f"cross-entropy fwd+bwd, CPU float32, input ({args.batch}, {args.classes}), "
        f"{torch.get_num_threads()} threads, median of {args.rounds} interleaved rounds"
    )
    rows = []
    for name in cases:
        a, b = timings.median((name, "losskit")), timings.median((name, "torch"))
        paired = timings.paired((name, "losskit"), (name, "torch"))
        rows.append([name, f"{a * 1e3:.2f}", f"{b * 1e3:.2f}", f"{a / b:.3f}", f"{paired:.3f}"])
    print_table(["loss", "losskit ms", "torch ms", "ratio", "paired"], rows)
    print(
        "ratio: median losskit time / median torch.nn.functional time; paired: median of the "
        "per-round ratios (robust to load changes between rounds). Target <= 1.1."
    )


if __name__ == "__main__":
    main()
