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

Run from the repository root (quick check: ``--numel 262144 --rounds 5``)::

    PYTHONPATH=src python benchmarks/bench_hinge.py [--numel 4194304] [--rounds 15]
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

Fn = Callable[[Tensor, Tensor], Tensor]


def main() -> None:
    args = numel_rounds_args(__doc__)

    g = torch.Generator().manual_seed(0)
    rows_n, classes = args.numel // 64, 64
    x = torch.randn(rows_n, classes, generator=g).requires_grad_()
    y01 = torch.randint(0, 2, (rows_n, classes), generator=g).float()
    y_prob = torch.rand(rows_n, classes, generator=g)
    labels = torch.randint(0, classes, (rows_n,), generator=g)
    one_hot = tF.one_hot(labels, classes).float()
    kl = keras_losses()

    def plain_hinge(a: Tensor, b: Tensor) -> Tensor:
        return torch.relu(1 - (2 * b - 1) * a).mean()

    # name -> (fn, target, baseline name)
    rows: dict[str, tuple[Fn, Tensor, str]] = {
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

    thunks = {name: partial(fn, x, target) for name, (fn, target, _) in rows.items()}
    timings = interleaved_medians(thunks, rounds=args.rounds, measure=partial(fwd_bwd, clear=[x]))
    med = timings.medians()
    mem = {
        name: saved_bytes(thunks[name], exclude=[x, target])
        for name, (_, target, _) in rows.items()
    }

    print(
        f"forward+backward, {rows_n} x {classes} float32, median of {args.rounds} rounds; "
        "saved = bytes autograd keeps for backward"
    )
    table = []
    for name in rows:
        base = rows[name][2]
        vs_bce = f"{med[name] / med['bce_with_logits']:.2f}x" if base == "bce_with_logits" else ""
        other = vs_other.get(name, "")
        note = ""
        if other:
            note = (
                f"{med[name] / med[other]:.2f}x time, saved {mem[name] / MIB:.1f} vs "
                f"{mem[other] / MIB:.1f} MB ({other.strip()})"
            )
        if name == "hinge_loss" and vs_keras_hinge:
            note += f"; {med[name] / med[vs_keras_hinge]:.2f}x vs keras hinge"
        table.append([name, f"{med[name] * 1e3:.2f}", f"{mem[name] / MIB:.1f}", vs_bce, note])
    print_table(["loss", "ms", "saved MB", "vs BCE", "other"], table, align="lrrrl")


if __name__ == "__main__":
    main()
