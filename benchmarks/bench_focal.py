"""Sigmoid focal loss: losskit against the elementwise-op formulation, forward+backward.

The elementwise-op formulation is the one torchvision's ``sigmoid_focal_loss`` computes (sigmoid,
BCE-with-logits, p_t, (1 - p_t)^gamma, alpha_t, mean), written out below; kornia's
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

Run from the repository root (quick check: ``--numel 262144 --rounds 5``)::

    PYTHONPATH=src python benchmarks/bench_focal.py [--numel N] [--rounds R]
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

import losskit
from _harness import MIB, fwd_bwd, interleaved_medians, numel_rounds_args, print_table, saved_bytes

Loss = Callable[[Tensor, Tensor], Tensor]


def elementwise_focal(
    inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> Tensor:
    """The focal loss in elementwise ops, as torchvision and kornia compute it (mean)."""
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


def peak_bytes(thunk: Callable[[], Tensor], x: Tensor) -> int:
    """Peak of the bytes allocated during forward + backward (profiler allocation timeline)."""
    from torch.profiler import ProfilerActivity, profile

    x.grad = None
    with profile(
        activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True
    ) as prof:
        thunk().backward()
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
    args = numel_rounds_args(__doc__.splitlines()[0])

    gen = torch.Generator().manual_seed(0)
    shape = (args.numel // 1024, 1024)  # (batch, classes): kornia wants at least 2 dims
    x = torch.randn(shape, generator=gen).requires_grad_()
    t = (torch.rand(shape, generator=gen) < 0.1).float()
    impls = candidates()

    thunks = {name: partial(fn, x, t) for name, fn in impls.items()}
    timings = interleaved_medians(thunks, rounds=args.rounds, measure=partial(fwd_bwd, clear=[x]))
    medians = timings.medians()
    saved = {name: saved_bytes(thunk, exclude=[x, t]) for name, thunk in thunks.items()}
    peaks = {name: peak_bytes(thunk, x) for name, thunk in thunks.items()}

    ref = "elementwise (torchvision)"
    print(
        f"sigmoid_focal_loss fwd+bwd, CPU float32, {args.numel} elements, "
        f"{torch.get_num_threads()} threads, median of {args.rounds} interleaved rounds"
    )
    print_table(
        [
            "implementation",
            "time ms",
            "saved MiB",
            "peak MiB",
            "speed-up",
            "saved ratio",
            "peak ratio",
        ],
        [
            [
                name,
                f"{medians[name] * 1e3:.1f}",
                f"{saved[name] / MIB:.1f}",
                f"{peaks[name] / MIB:.1f}",
                f"{medians[ref] / medians[name]:.2f}x",
                f"{saved[name] / max(saved[ref], 1):.3f}",
                f"{peaks[name] / max(peaks[ref], 1):.3f}",
            ]
            for name in impls
        ],
    )
    print("speed-up: elementwise time / this time; ratios: this / elementwise (lower is better)")


if __name__ == "__main__":
    main()
