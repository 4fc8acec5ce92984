"""Dice loss forward+backward against MONAI's ``DiceLoss``, in one run.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_dice.py [--reps 60] [--threads 1] [--compile]

(quick check: ``--reps 3``).

``--compile`` adds ``torch.compile(fullgraph=True)`` of losskit's multiclass loss (validation off;
one compilation, then the same timed loop).

For each case both implementations get the same logits and labels (softmax multiclass with
integer labels, one-hot encoded by MONAI's ``to_onehot_y``; sigmoid binary). Calls are
interleaved round by round so that machine noise hits both alike; the table shows the median
wall time and the median CPU time of the calling thread (``time.thread_time``: with one intra-op
thread all the work runs there, and time spent descheduled on a loaded machine is not counted)
of one forward+backward, the speed-ups over MONAI, and the autograd memory: the bytes of the
tensors saved for backward that are not the caller's inputs
(``torch.autograd.graph.saved_tensors_hooks``), which is what a loss adds to the training
step's peak memory between forward and backward.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

import losskit
from _harness import MIB, fwd_bwd, interleaved_medians, print_table, ratio, saved_bytes

Stats = tuple[float, float, int]  # wall ms, cpu ms, saved bytes


def run_case(
    logits: Tensor, funcs: dict[str, Callable[[Tensor], Tensor]], others: list[Tensor], reps: int
) -> dict[str, Stats]:
    x = logits.clone().requires_grad_()
    thunks = {key: partial(fn, x) for key, fn in funcs.items()}
    timings = interleaved_medians(
        thunks, rounds=reps, warmup=3, measure=partial(fwd_bwd, clear=[x])
    )
    return {
        key: (
            timings.median(key) * 1e3,
            timings.median(key, cpu=True) * 1e3,
            saved_bytes(thunk, exclude=[x, *others]),
        )
        for key, thunk in thunks.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from monai.losses import DiceLoss

    gen = torch.Generator().manual_seed(0)
    rows = []

    n, c, h, w = 8, 4, 128, 128
    logits = torch.randn(n, c, h, w, generator=gen)
    labels = torch.randint(0, c, (n, h, w), generator=gen)
    labels1 = labels.unsqueeze(1)
    monai_mc = DiceLoss(softmax=True, to_onehot_y=True)  # smooth_nr = smooth_dr = 1e-5

    def multiclass(x: Tensor, validate: bool | None = None) -> Tensor:
        return losskit.dice_loss(
            x, labels, mode="multiclass", from_logits=True, smooth=1e-5, eps=0.0, validate=validate
        )

    funcs = {
        "monai": lambda x: monai_mc(x, labels1),
        "losskit": multiclass,
        "losskit (validate=False)": lambda x: multiclass(x, validate=False),
    }
    if args.compile:
        compiled = torch.compile(lambda x: multiclass(x, validate=False), fullgraph=True)
        funcs["losskit (compiled)"] = compiled
    rows.append(
        (
            "multiclass softmax (8, 4, 128, 128)",
            run_case(logits, funcs, [labels, labels1], args.reps),
        )
    )

    for shape in ((8, 1, 128, 128), (4, 1, 64, 128, 128)):
        logits = torch.randn(*shape, generator=gen)
        target = (torch.rand(*shape, generator=gen) > 0.7).float()
        monai_b = DiceLoss(sigmoid=True)
        funcs = {
            "monai": lambda x, t=target, m=monai_b: m(x, t),
            "losskit": lambda x, t=target: losskit.dice_loss(
                x, t, from_logits=True, smooth=1e-5, eps=0.0
            ),
            "losskit (validate=False)": lambda x, t=target: losskit.dice_loss(
                x, t, from_logits=True, smooth=1e-5, eps=0.0, validate=False
            ),
        }
        rows.append((f"binary sigmoid {shape}", run_case(logits, funcs, [target], args.reps)))

    print(
        f"dice_loss vs monai.losses.DiceLoss, forward+backward, CPU float32, "
        f"{torch.get_num_threads()} thread(s), {args.reps} interleaved reps"
    )
    table = []
    for case, res in rows:
        base_wall, base_cpu, base_mem = res["monai"]
        for key, (wall, cpu, mem) in res.items():
            table.append(
                [
                    case,
                    key,
                    f"{wall:.3f}",
                    f"{cpu:.3f}",
                    f"{mem / MIB:.2f}",
                    ratio(base_wall, wall),
                    ratio(base_cpu, cpu),
                    ratio(mem, base_mem, "{:.2f}"),
                ]
            )
    print_table(
        [
            "case",
            "impl",
            "wall ms",
            "cpu ms",
            "saved MiB",
            "speed-up",
            "cpu speed-up",
            "saved ratio",
        ],
        table,
        align="llrrrrrr",
        rule=True,
    )
    print("speed-up: monai time / this time; saved ratio: this saved memory / monai's")


if __name__ == "__main__":
    main()
