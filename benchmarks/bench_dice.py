"""Dice loss forward+backward against MONAI's ``DiceLoss``, in one run.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_dice.py [--reps 60] [--threads 1] [--compile]

``--compile`` adds ``torch.compile(fullgraph=True)`` of losskit's multiclass loss (validation off;
one compilation, then the same timed loop).

For each case both implementations get the same logits and labels (softmax multiclass with
integer labels, one-hot encoded by MONAI's ``to_onehot_y``; sigmoid binary). Calls are
interleaved so that machine noise hits both alike; the table shows the median wall time and the
median CPU time of the calling thread (``time.thread_time``: with one intra-op thread all the work
runs there, and time spent descheduled on a loaded machine is not counted) of one
forward+backward, and the autograd memory: the bytes of the tensors saved for backward that
are not the caller's inputs (``torch.autograd.graph.saved_tensors_hooks``), which is what a loss
adds to the training step's peak memory between forward and backward.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

import losskit


def saved_bytes(fn: Callable[[Tensor], Tensor], x: Tensor, inputs: list[Tensor]) -> int:
    """Bytes of distinct storages saved for backward, excluding the inputs' storages."""
    skip = {t.untyped_storage().data_ptr() for t in inputs}
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in skip:
            seen[ptr] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x)
    return sum(seen.values())


def run_case(
    name: str,
    logits: Tensor,
    funcs: dict[str, Callable[[Tensor], Tensor]],
    others: list[Tensor],
    reps: int,
) -> dict[str, tuple[float, float, int]]:
    for fn in funcs.values():  # warm-up
        for _ in range(3):
            fn(logits.clone().requires_grad_()).backward()
    wall: dict[str, list[float]] = {k: [] for k in funcs}
    cpu: dict[str, list[float]] = {k: [] for k in funcs}
    for _ in range(reps):
        for key, fn in funcs.items():
            x = logits.clone().requires_grad_()
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn(x).backward()
            cpu[key].append(time.thread_time() - start_cpu)
            wall[key].append(time.perf_counter() - start)
    out = {}
    for key, fn in funcs.items():
        x = logits.clone().requires_grad_()
        mem = saved_bytes(fn, x, [x, *others])
        out[key] = (statistics.median(wall[key]) * 1e3, statistics.median(cpu[key]) * 1e3, mem)
    return out


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
            run_case("mc", logits, funcs, [labels, labels1], args.reps),
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
        rows.append((f"binary sigmoid {shape}", run_case("b", logits, funcs, [target], args.reps)))

    print(
        f"dice_loss vs monai.losses.DiceLoss, forward+backward, CPU float32, "
        f"{torch.get_num_threads()} thread(s), {args.reps} interleaved reps"
    )
    header = f"{'case':40s} {'impl':26s} {'wall ms':>8s} {'cpu ms':>8s} {'saved MiB':>10s}"
    print(header)
    print("-" * len(header))
    for case, res in rows:
        base_wall, base_cpu, base_mem = res["monai"]
        for key, (med, cpu_ms, mem) in res.items():
            print(f"{case:40s} {key:26s} {med:8.3f} {cpu_ms:8.3f} {mem / 2**20:10.2f}")
        for key, (med, cpu_ms, mem) in res.items():
            if key == "monai":
                continue
            mem_ratio = f"{mem / base_mem:.2f}" if base_mem else "n/a"
            print(
                f"{'':40s} speed-up of {key}: wall {base_wall / med:.2f}x, "
                f"cpu {base_cpu / cpu_ms:.2f}x; saved-memory ratio {mem_ratio}"
            )


if __name__ == "__main__":
    main()
