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

Run from the repository root (quick check: ``--numel 262144 --rounds 5``)::

    PYTHONPATH=src python benchmarks/bench_divergence.py [--numel 4194304] [--rounds 15]
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as tF
from torch import Tensor

import losskit
from _harness import (
    MIB,
    fwd_bwd,
    interleaved_medians,
    keras_losses,
    numel_rounds_args,
    print_table,
    saved_bytes,
)

Row = tuple[Callable[[], Tensor], Tensor, Tensor, str]  # thunk, input leaf, target, compared with


def main() -> None:
    args = numel_rounds_args(__doc__)

    g = torch.Generator().manual_seed(0)
    n, c = args.numel // 64, 64
    logits = torch.randn(n, c, generator=g).requires_grad_()
    p = torch.softmax(torch.randn(n, c, generator=g), 1)
    log_p = p.log()
    y_prob = torch.rand(n, c, generator=g)
    log_q = tF.log_softmax(logits.detach(), 1).requires_grad_()

    # name -> (thunk, input, target, compared with)
    rows: dict[str, Row] = {
        "bce_with_logits": (
            lambda: tF.binary_cross_entropy_with_logits(logits, y_prob),
            logits,
            y_prob,
            "",
        ),
        "  torch kl_div(log_softmax(x), p)": (
            lambda: tF.kl_div(tF.log_softmax(logits, 1), p, reduction="batchmean"),
            logits,
            p,
            "",
        ),
        "kl_divergence(logits, probs)": (
            lambda: losskit.kl_divergence(logits, p),
            logits,
            p,
            "  torch kl_div(log_softmax(x), p)",
        ),
        "  torch kl_div(log_q, log_p, log_target)": (
            lambda: tF.kl_div(log_q, log_p, reduction="batchmean", log_target=True),
            log_q,
            log_p,
            "",
        ),
        "kl_divergence(log_probs, log_probs)": (
            lambda: losskit.kl_divergence(
                log_q, log_p, input_kind="log_probs", target_kind="log_probs", validate=False
            ),
            log_q,
            log_p,
            "  torch kl_div(log_q, log_p, log_target)",
        ),
    }
    kl = keras_losses()
    if kl is not None:
        q = torch.softmax(logits.detach(), 1).requires_grad_()
        rows["  keras kl_divergence(p, q)"] = (lambda: kl.kl_divergence(p, q).mean(), q, p, "")
        rows["kl_divergence(probs, probs)"] = (
            lambda: losskit.kl_divergence(
                q, p, input_kind="probs", validate=False, reduction="mean"
            ),
            q,
            p,
            "  keras kl_divergence(p, q)",
        )

    leaves = {id(x): x for _, x, _, _ in rows.values()}.values()
    thunks = {name: thunk for name, (thunk, _, _, _) in rows.items()}
    timings = interleaved_medians(
        thunks, rounds=args.rounds, measure=partial(fwd_bwd, clear=leaves)
    )
    med = timings.medians()
    mem = {name: saved_bytes(thunk, exclude=[x, y]) for name, (thunk, x, y, _) in rows.items()}

    print(
        f"forward+backward, {n} x {c} float32, median of {args.rounds} rounds; "
        "saved = bytes autograd keeps for backward"
    )
    table = []
    for name, (_, _, _, other) in rows.items():
        vs_bce = (
            ""
            if name.startswith(" ") or name == "bce_with_logits"
            else f"{med[name] / med['bce_with_logits']:.2f}x"
        )
        note = ""
        if other:
            note = (
                f"{med[name] / med[other]:.2f}x time, {mem[name] / MIB:.1f} vs "
                f"{mem[other] / MIB:.1f} MB saved ({other.strip()})"
            )
        table.append([name, f"{med[name] * 1e3:.2f}", f"{mem[name] / MIB:.1f}", vs_bce, note])
    print_table(["loss", "ms", "saved MB", "vs BCE", "vs other"], table, align="lrrrl")


if __name__ == "__main__":
    main()
