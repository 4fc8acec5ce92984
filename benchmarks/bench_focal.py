"""Sigmoid focal loss: losskit against the elementwise-op formulation, forward+backward.

The elementwise-op formulation is torchvision's ``sigmoid_focal_loss`` (reproduced below verbatim
in spirit: sigmoid, BCE-with-logits, p_t, (1 - p_t)^gamma, alpha_t, mean); kornia's
``binary_focal_loss_with_logits`` is measured too when kornia is installed, and the fused
``binary_cross_entropy_with_logits`` of torch as the floor of an elementwise loss.

Measured in one process, on CPU float32, 2^22 elements by default:

* time: median over interleaved rounds (each round runs every implementation once, so a busy
  machine slows them alike) of forward + backward (``loss.backward()``);
* saved bytes: the bytes of the tensors autograd keeps for the backward pass, recorded with
  ``torch.autograd.graph.saved_tensors_hooks``, not counting the storages of the inputs;
* peak: the peak of the bytes allocated during forward + backward above what existed before,
  from the allocation timeline of ``torch.profiler`` (``profile_memory=True``; this uses the
  profiler's ``_memory_profile()``).

Run: ``PYTHONPATH=src python benchmarks/bench_focal.py [--numel N] [--rounds R]``.
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

Loss = Callable[[Tensor, Tensor], Tensor]


def elementwise_focal(
    inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> Tensor:
    """torchvision.ops.sigmoid_focal_loss (reduction="mean"), one torch op per line."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean()


def candidates() -> dict[str, Loss]:
    found: dict[str, Loss] = {
        "losskit": lambda x, t: losskit.sigmoid_focal_loss(x, t, alpha=0.25, gamma=2.0),
        "elementwise (torchvision)": elementwise_focal,
    }
    try:
        from kornia.losses import binary_focal_loss_with_logits
    except ImportError:  # pragma: no cover - optional
        pass
    else:
        found["kornia"] = lambda x, t: binary_focal_loss_with_logits(
            x, t, alpha=0.25, gamma=2.0, reduction="mean"
        )
    found["F.bce_with_logits (fused BCE)"] = lambda x, t: F.binary_cross_entropy_with_logits(x, t)
    return found


def fwd_bwd(fn: Loss, x: Tensor, t: Tensor) -> None:
    x.grad = None
    fn(x, t).backward()


def saved_bytes(fn: Loss, x: Tensor, t: Tensor) -> int:
    """Bytes of the distinct storages saved for backward, the inputs' own storages excluded."""
    inputs = {x.untyped_storage().data_ptr(), t.untyped_storage().data_ptr()}
    seen: dict[int, int] = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in inputs:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    x.grad = None
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = fn(x, t)
    loss.backward()
    return sum(seen.values())


def peak_bytes(fn: Loss, x: Tensor, t: Tensor) -> int:
    """Peak of the bytes allocated during forward + backward (profiler allocation timeline)."""
    from torch.profiler import ProfilerActivity, profile

    x.grad = None
    with profile(
        activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True
    ) as prof:
        fn(x, t).backward()
    live: dict[int, int] = {}
    current = peak = 0
    for _, action, key, size in prof._memory_profile().timeline:
        name = action.name
        if name == "CREATE":
            live[key[0]] = size
            current += size
        elif name == "DESTROY" and key[0] in live:
            current -= live.pop(key[0])
        peak = max(peak, current)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numel", type=int, default=1 << 22)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(0)
    shape = (args.numel // 1024, 1024)  # (batch, classes): kornia wants at least 2 dims
    x = torch.randn(shape, generator=gen).requires_grad_()
    t = (torch.rand(shape, generator=gen) < 0.1).float()
    impls = candidates()

    times: dict[str, list[float]] = {name: [] for name in impls}
    for fn in impls.values():  # warm-up
        fwd_bwd(fn, x, t)
    for _ in range(args.rounds):
        for name, fn in impls.items():
            start = time.perf_counter()
            fwd_bwd(fn, x, t)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(v) for name, v in times.items()}
    saved = {name: saved_bytes(fn, x, t) for name, fn in impls.items()}
    peaks = {name: peak_bytes(fn, x, t) for name, fn in impls.items()}

    mib = 1 << 20
    ref = "elementwise (torchvision)"
    print(
        f"sigmoid_focal_loss fwd+bwd, CPU float32, {args.numel} elements, "
        f"{torch.get_num_threads()} threads, median of {args.rounds} interleaved rounds"
    )
    print(
        f"{'implementation':32s} {'time ms':>9s} {'saved MiB':>10s} {'peak MiB':>9s} "
        f"{'speed-up':>9s} {'saved ratio':>12s} {'peak ratio':>11s}"
    )
    for name in impls:
        print(
            f"{name:32s} {medians[name] * 1e3:9.1f} {saved[name] / mib:10.1f} "
            f"{peaks[name] / mib:9.1f} {medians[ref] / medians[name]:8.2f}x "
            f"{saved[name] / max(saved[ref], 1):12.3f} {peaks[name] / max(peaks[ref], 1):11.3f}"
        )
    print("speed-up: elementwise time / this time; ratios: this / elementwise (lower is better)")


if __name__ == "__main__":
    main()
