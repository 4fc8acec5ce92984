"""KL divergence: forward+backward time and saved-tensor memory against torch and Keras 3.

Rows (CPU float32, medians, all measured in one process, interleaved round by round), for a
batch of distributions over 64 classes given as logits, target probabilities:

* ``kl_divergence(logits, p)`` (batchmean) against the PyTorch idiom
  ``kl_div(log_softmax(logits), p, reduction="batchmean")`` (the target here is about 1.1x),
  and against torch's fused ``binary_cross_entropy_with_logits`` on as many elements;
* ``kl_divergence(log_q, log_p, log_probs both)`` against ``kl_div(..., log_target=True)``;
* ``kl_divergence(q, p, probs both)`` against Keras 3's ``kl_divergence`` (torch backend).

Memory is the bytes of the tensors autograd saves for backward (counted with
``torch.autograd.graph.saved_tensors_hooks``, each storage once, inputs excluded).

Run: ``python benchmarks/bench_divergence.py [--numel 4194304] [--rounds 15]``
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numel", type=int, default=2**22)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    n, c = args.numel // 64, 64
    logits = torch.randn(n, c, generator=g)
    p = torch.softmax(torch.randn(n, c, generator=g), 1)
    log_p = p.log()
    y_prob = torch.rand(n, c, generator=g)

    # name -> (fn, input transform, target, compared with)
    rows: dict[str, tuple[Fn, torch.Tensor, torch.Tensor, str]] = {
        "bce_with_logits": (tF.binary_cross_entropy_with_logits, logits, y_prob, ""),
        "  torch kl_div(log_softmax(x), p)": (
            lambda a, b: tF.kl_div(tF.log_softmax(a, 1), b, reduction="batchmean"),
            logits,
            p,
            "",
        ),
        "kl_divergence(logits, probs)": (
            losskit.kl_divergence,
            logits,
            p,
            "  torch kl_div(log_softmax(x), p)",
        ),
        "  torch kl_div(log_q, log_p, log_target)": (
            lambda a, b: tF.kl_div(a, b, reduction="batchmean", log_target=True),
            tF.log_softmax(logits, 1),
            log_p,
            "",
        ),
        "kl_divergence(log_probs, log_probs)": (
            lambda a, b: losskit.kl_divergence(
                a, b, input_kind="log_probs", target_kind="log_probs", validate=False
            ),
            tF.log_softmax(logits, 1),
            log_p,
            "  torch kl_div(log_q, log_p, log_target)",
        ),
    }
    try:
        import keras

        keras_ok = keras.backend.backend() == "torch"
    except ImportError:
        keras_ok = False
    if keras_ok:
        q = torch.softmax(logits, 1)
        rows["  keras kl_divergence(p, q)"] = (
            lambda a, b: keras.losses.kl_divergence(b, a).mean(),
            q,
            p,
            "",
        )
        rows["kl_divergence(probs, probs)"] = (
            lambda a, b: losskit.kl_divergence(
                a, b, input_kind="probs", validate=False, reduction="mean"
            ),
            q,
            p,
            "  keras kl_divergence(p, q)",
        )

    times: dict[str, list[float]] = {name: [] for name in rows}
    for fn, x, y, _ in rows.values():  # warm-up
        fwd_bwd(fn, x, y)
    for _ in range(args.rounds):
        for name, (fn, x, y, _) in rows.items():
            times[name].append(fwd_bwd(fn, x, y))
    med = {name: statistics.median(t) for name, t in times.items()}
    mem = {name: saved_bytes(fn, x, y) for name, (fn, x, y, _) in rows.items()}

    print(
        f"forward+backward, {n} x {c} float32, median of {args.rounds} rounds; "
        "saved = bytes autograd keeps for backward"
    )
    print(f"{'loss':<42}{'ms':>9}{'saved MB':>10}{'vs BCE':>9}  vs other")
    for name, (_, _, _, other) in rows.items():
        vs_bce = (
            ""
            if name.startswith(" ") or name == "bce_with_logits"
            else f"{med[name] / med['bce_with_logits']:.2f}x"
        )
        note = ""
        if other:
            note = (
                f"{med[name] / med[other]:.2f}x time, {mem[name] / 2**20:.1f} vs "
                f"{mem[other] / 2**20:.1f} MB saved ({other.strip()})"
            )
        print(f"{name:<42}{med[name] * 1e3:>9.2f}{mem[name] / 2**20:>10.1f}{vs_bce:>9}  {note}")


if __name__ == "__main__":
    main()
