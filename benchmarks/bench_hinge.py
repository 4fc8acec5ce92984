"""Hinge losses: forward+backward time and saved-tensor memory against torch and Keras 3.

Rows (CPU float32, medians, all measured in one process, interleaved round by round):

* ``hinge_loss`` / ``squared_hinge_loss`` ({0, 1} labels, ``labels="auto"``) against torch's
  fused ``binary_cross_entropy_with_logits`` on as many elements (the product target for an
  elementwise loss is within 1.5x), against Keras 3's ``hinge`` / ``squared_hinge`` (torch
  backend) and against the plain torch expression ``relu(1 - (2y - 1) x).mean()``;
* ``multiclass_hinge_loss`` (Weston–Watkins, divided by C) against
  ``torch.nn.functional.multi_margin_loss``, and Crammer–Singer against Keras'
  ``categorical_hinge`` on one-hot targets.

Memory is the bytes of the tensors autograd saves for backward (counted with
``torch.autograd.graph.saved_tensors_hooks``, each storage once): the extra memory a loss holds
between forward and backward.

Run: ``python benchmarks/bench_hinge.py [--numel 4194304] [--rounds 15]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
import torch.nn.functional as tF

import losskit

Fn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def fwd_bwd(fn: Fn, x: torch.Tensor, y: torch.Tensor) -> float:
    x = x.detach().requires_grad_(True)
    start = time.perf_counter()
    fn(x, y).backward()
    return time.perf_counter() - start


def saved_bytes(fn: Fn, x: torch.Tensor, y: torch.Tensor) -> int:
    """Bytes of the distinct storages autograd saves for backward (inputs excluded)."""
    x = x.detach().requires_grad_(True)
    seen: dict[int, int] = {}
    inputs = {x.untyped_storage().data_ptr(), y.untyped_storage().data_ptr()}

    def pack(t: torch.Tensor) -> Any:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in inputs:
            seen[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(x, y)
    out.backward()
    return sum(seen.values())


def keras_losses() -> Any:
    try:
        import keras
    except ImportError:
        return None
    return keras.losses if keras.backend.backend() == "torch" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numel", type=int, default=2**22)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    rows_n, classes = args.numel // 64, 64
    x = torch.randn(rows_n, classes, generator=g)
    y01 = torch.randint(0, 2, (rows_n, classes), generator=g).float()
    y_prob = torch.rand(rows_n, classes, generator=g)
    labels = torch.randint(0, classes, (rows_n,), generator=g)
    one_hot = tF.one_hot(labels, classes).float()
    kl = keras_losses()

    def plain_hinge(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(1 - (2 * b - 1) * a).mean()

    # name -> (fn, target, baseline name)
    rows: dict[str, tuple[Fn, torch.Tensor, str]] = {
        "bce_with_logits": (tF.binary_cross_entropy_with_logits, y_prob, ""),
        "hinge_loss": (losskit.hinge_loss, y01, "bce_with_logits"),
        "hinge_loss (validate=False)": (
            lambda a, b: losskit.hinge_loss(a, b, validate=False),
            y01,
            "bce_with_logits",
        ),
        "  torch relu(1 - (2y-1)x)": (plain_hinge, y01, ""),
        "squared_hinge_loss": (losskit.squared_hinge_loss, y01, "bce_with_logits"),
        "multi_margin_loss [torch]": (tF.multi_margin_loss, labels, ""),
        "multiclass_hinge_loss (WW)": (
            lambda a, b: losskit.multiclass_hinge_loss(a, b, variant="weston_watkins") / classes,
            labels,
            "multi_margin_loss [torch]",
        ),
        "multiclass_hinge_loss (CS)": (losskit.multiclass_hinge_loss, labels, ""),
    }
    vs_other = {
        "hinge_loss": "  torch relu(1 - (2y-1)x)",
        "multiclass_hinge_loss (WW)": "multi_margin_loss [torch]",
    }
    if kl is not None:
        rows["  keras hinge"] = (lambda a, b: kl.hinge(b, a).mean(), y01, "")
        rows["  keras squared_hinge"] = (lambda a, b: kl.squared_hinge(b, a).mean(), y01, "")
        rows["  keras categorical_hinge"] = (
            lambda a, b: kl.categorical_hinge(b, a).mean(),
            one_hot,
            "",
        )
        vs_other["squared_hinge_loss"] = "  keras squared_hinge"
        vs_other["multiclass_hinge_loss (CS)"] = "  keras categorical_hinge"
        vs_keras_hinge = "  keras hinge"
    else:
        vs_keras_hinge = ""

    times: dict[str, list[float]] = {name: [] for name in rows}
    for fn, target, _ in rows.values():  # warm-up
        fwd_bwd(fn, x, target)
    for _ in range(args.rounds):
        for name, (fn, target, _) in rows.items():
            times[name].append(fwd_bwd(fn, x, target))
    med = {name: statistics.median(t) for name, t in times.items()}
    mem = {name: saved_bytes(fn, x, target) for name, (fn, target, _) in rows.items()}

    print(
        f"forward+backward, {rows_n} x {classes} float32, median of {args.rounds} rounds; "
        "saved = bytes autograd keeps for backward"
    )
    print(f"{'loss':<32}{'ms':>9}{'saved MB':>10}{'vs BCE':>9}  other")
    for name in rows:
        base = rows[name][2]
        vs_bce = f"{med[name] / med['bce_with_logits']:.2f}x" if base == "bce_with_logits" else ""
        other = vs_other.get(name, "")
        note = ""
        if other:
            note = (
                f"{med[name] / med[other]:.2f}x time, saved {mem[name] / 2**20:.1f} vs "
                f"{mem[other] / 2**20:.1f} MB ({other.strip()})"
            )
        if name == "hinge_loss" and vs_keras_hinge:
            note += f"; {med[name] / med[vs_keras_hinge]:.2f}x vs keras hinge"
        print(f"{name:<32}{med[name] * 1e3:>9.2f}{mem[name] / 2**20:>10.1f}{vs_bce:>9}  {note}")


if __name__ == "__main__":
    main()
