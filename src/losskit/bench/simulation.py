"""The DIoU paper's box-regression simulation, timed with each box loss, eager and compiled.

The simulation (:mod:`losskit.experiments.diou`: 5,000 anchor points, 1,715,000 box pairs, 200
gradient steps) moves every anchor by gradient descent on a loss. One step is the loss and its
gradient over all pairs (``reduction="sum"``), the IoU of every pair and the update
:math:`B \\leftarrow B - \\eta (2 - \\mathrm{IoU}) \\nabla L`. Timed per loss:

* ``eager``: the step as :func:`losskit.experiments.diou.diou_simulation` runs it;
* ``compiled``: the loss (forward and backward, through AOTAutograd) and the update each under
  :func:`torch.compile` (``fullgraph=True``); the step size is a 0-dim tensor so the three
  step sizes share one graph. The first step, which compiles, is reported apart.

Both runs start from the same anchors and their final regression errors are reported, so a
compiled run that diverged from the eager one would show.

Example:
    >>> rows = diou_timing(2, iterations=3, compiled=False)
    >>> [(r["loss"], r["mode"]) for r in rows][:2]
    [('iou', 'eager'), ('giou', 'eager')]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..experiments.diou import _LOSS_FNS, DIOU_LOSSES, _step_size, diou_cases
from ..functional import iou_loss

__all__ = ["diou_timing", "format_simulation"]


def _parts(name: str, compiled: bool) -> tuple[Callable[..., Tensor], Callable[..., Tensor]]:
    fn = _LOSS_FNS[name]

    def loss(b: Tensor, t: Tensor) -> Tensor:
        return fn(b, t, box_format="cxcywh", reduction="sum", validate=False)

    def update(boxes: Tensor, t: Tensor, grad: Tensor, lr: Tensor) -> Tensor:
        iou = 1 - iou_loss(boxes, t, box_format="cxcywh", reduction="none", validate=False)
        return boxes - lr * (2 - iou).unsqueeze(-1) * grad

    if compiled:
        return (
            torch.compile(loss, fullgraph=True, dynamic=False),
            torch.compile(update, fullgraph=True, dynamic=False),
        )
    return loss, update


def _run(name: str, compiled: bool, anchors: Tensor, targets: Tensor, iterations: int) -> dict:
    loss_fn, update = _parts(name, compiled)
    boxes = anchors.clone()
    first = 0.0
    start = time.perf_counter()
    for t in range(1, iterations + 1):
        b = boxes.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(b, targets), b)
        with torch.no_grad():
            lr = torch.tensor(_step_size(t, iterations), dtype=boxes.dtype)
            boxes = update(boxes, targets, grad, lr)
        if t == 1:
            first = time.perf_counter() - start
            start = time.perf_counter()
    rest = time.perf_counter() - start
    error = float((boxes - targets).abs().sum(dtype=torch.float64))
    steps = max(iterations - 1, 1)
    return {
        "loss": name,
        "mode": "compiled" if compiled else "eager",
        "cases": anchors.shape[0],
        "iterations": iterations,
        "first_step_s": first,
        "seconds": rest * iterations / steps,
        "per_step_ms": rest / steps * 1e3,
        "final_error": error,
    }


def diou_timing(
    points: int = 5000,
    *,
    iterations: int = 200,
    losses: Sequence[str] = DIOU_LOSSES,
    compiled: bool = True,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Time the simulation with each loss: every eager run, then every compiled run.

    Args:
        points: anchor points (5,000: the paper's 1,715,000 box pairs).
        iterations: gradient steps (the paper: 200).
        losses: which of ``iou``, ``giou``, ``diou``, ``ciou``.
        compiled: also run under :func:`torch.compile`.
        threads: ``torch.set_num_threads`` for the run; ``None`` keeps the current setting.

    Returns:
        One row per loss and mode: ``seconds`` for all the steps (the steps after the first,
        scaled to ``iterations``: the first step, which compiles in the compiled mode, is
        ``first_step_s``), ``per_step_ms`` and ``final_error``
        (:math:`\\sum |B - B^{gt}|_1` after the last step).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    anchors, targets = diou_cases(points)
    rows = [_run(name, False, anchors, targets, iterations) for name in losses]
    if compiled:
        rows += [_run(name, True, anchors, targets, iterations) for name in losses]
    return rows


def format_simulation(rows: Sequence[dict[str, Any]]) -> str:
    """The rows of :func:`diou_timing` as a text table."""
    if not rows:
        return ""
    head = f"DIoU simulation: {rows[0]['cases']:,} box pairs x {rows[0]['iterations']} steps"
    lines = [
        head,
        f"{'loss':6s} {'mode':9s} {'seconds':>9s} {'ms/step':>9s} {'first step s':>13s}"
        f" {'final error':>13s}",
    ]
    for r in rows:
        lines.append(
            f"{r['loss']:6s} {r['mode']:9s} {r['seconds']:9.2f} {r['per_step_ms']:9.1f}"
            f" {r['first_step_s']:13.2f} {r['final_error']:13.1f}"
        )
    return "\n".join(lines)
