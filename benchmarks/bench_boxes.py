"""Box losses: losskit against the elementwise-op formulation (torchvision.ops when importable).

Forward + backward of the four aligned box losses on 2**20 float32 box pairs (CPU), gradient
with respect to the prediction, ``reduction="none"`` then ``.sum()``. Printed per loss:

* time: median wall-clock and median process CPU time of fwd+bwd, runs interleaved;
* saved: bytes autograd keeps between forward and backward (``saved_tensors_hooks``);
* peak: extra resident memory during one fwd+bwd, measured in a fresh process per method
  (``VmHWM`` after ``malloc_trim`` and a reset through ``/proc/self/clear_refs``, minus the
  resident size with the inputs allocated; Linux/glibc only). Both methods allocate the
  output (4 MiB) and the input gradient (16 MiB) at 2**20 boxes.

Run:
    PYTHONPATH=src python benchmarks/bench_boxes.py [--threads 1] [--n 1048576] [--reps 7]
    PYTHONPATH=src <python with torchvision> benchmarks/bench_boxes.py   # against torchvision.ops
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

import losskit
from _harness import MIB, fwd_bwd, interleaved_medians, saved_bytes

Loss = Callable[[Tensor, Tensor], Tensor]

try:
    import torchvision
    from torchvision import ops as tv_ops

    REFERENCE_NAME = f"torchvision {torchvision.__version__} ops (IoU: elementwise formulation)"
except ImportError:
    tv_ops = None
    REFERENCE_NAME = "elementwise formulation (the op sequence torchvision.ops uses)"


# ---- the elementwise formulation, one torch op per step, autograd for the backward ----------
# The same sequence of operations as torchvision's box losses (masked intersection, eps added to
# the denominators, alpha of CIoU without gradient), written out so that the benchmark runs
# where torchvision is not installed.


def _overlap(pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union areas of aligned boxes."""
    px1, py1, px2, py2 = pred.unbind(-1)
    gx1, gy1, gx2, gy2 = gt.unbind(-1)
    left, top = torch.max(px1, gx1), torch.max(py1, gy1)
    right, bottom = torch.min(px2, gx2), torch.min(py2, gy2)
    overlaps = (right > left) & (bottom > top)
    inter = torch.zeros_like(px1)
    inter[overlaps] = (right[overlaps] - left[overlaps]) * (bottom[overlaps] - top[overlaps])
    union = (px2 - px1) * (py2 - py1) + (gx2 - gx1) * (gy2 - gy1) - inter
    return inter, union


def _enclosing_extent(pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
    """Width and height of the smallest box enclosing both."""
    lo = torch.min(pred[..., :2], gt[..., :2])
    hi = torch.max(pred[..., 2:], gt[..., 2:])
    return (hi - lo).unbind(-1)


def _ew_iou(pred: Tensor, gt: Tensor, eps: float = 1e-7) -> Tensor:
    inter, union = _overlap(pred, gt)
    return 1 - inter / (union + eps)


def _ew_giou(pred: Tensor, gt: Tensor, eps: float = 1e-7) -> Tensor:
    inter, union = _overlap(pred, gt)
    width, height = _enclosing_extent(pred, gt)
    hull = width * height
    return 1 - (inter / (union + eps) - (hull - union) / (hull + eps))


def _ew_diou_and_iou(pred: Tensor, gt: Tensor, eps: float = 1e-7) -> tuple[Tensor, Tensor]:
    inter, union = _overlap(pred, gt)
    iou = inter / (union + eps)
    width, height = _enclosing_extent(pred, gt)
    diagonal_sq = width**2 + height**2 + eps
    centre_offset = (pred[..., :2] + pred[..., 2:]) / 2 - (gt[..., :2] + gt[..., 2:]) / 2
    distance_sq = (centre_offset**2).sum(-1)
    return 1 - iou + distance_sq / diagonal_sq, iou


def _ew_diou(pred: Tensor, gt: Tensor, eps: float = 1e-7) -> Tensor:
    return _ew_diou_and_iou(pred, gt, eps)[0]


def _ew_ciou(pred: Tensor, gt: Tensor, eps: float = 1e-7) -> Tensor:
    diou, iou = _ew_diou_and_iou(pred, gt, eps)
    pw, ph = (pred[..., 2:] - pred[..., :2]).unbind(-1)
    gw, gh = (gt[..., 2:] - gt[..., :2]).unbind(-1)
    v = (4 / torch.pi**2) * (torch.atan(gw / gh) - torch.atan(pw / ph)) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou + alpha * v


def _reference(name: str) -> Loss:
    if tv_ops is None:
        return {"iou": _ew_iou, "giou": _ew_giou, "diou": _ew_diou, "ciou": _ew_ciou}[name]
    if name == "iou":  # torchvision has no aligned IoU loss
        return _ew_iou
    fn = {
        "giou": tv_ops.generalized_box_iou_loss,
        "diou": tv_ops.distance_box_iou_loss,
        "ciou": tv_ops.complete_box_iou_loss,
    }[name]
    return lambda a, b: fn(a, b, reduction="none")


def _losskit(name: str) -> Loss:
    fn = {
        "iou": losskit.iou_loss,
        "giou": losskit.generalized_box_iou_loss,
        "diou": losskit.distance_box_iou_loss,
        "ciou": losskit.complete_box_iou_loss,
    }[name]
    return lambda a, b: fn(a, b, reduction="none", validate=False)


METHODS: dict[str, Callable[[str], Loss]] = {"losskit": _losskit, "reference": _reference}
NAMES = ("iou", "giou", "diou", "ciou")


def make_boxes(n: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(0)

    def boxes() -> Tensor:
        lo = 10 * torch.rand(n, 2, generator=gen)
        return torch.cat([lo, lo + 0.1 + 5 * torch.rand(n, 2, generator=gen)], -1)

    return boxes(), boxes()


def _summed(fn: Loss, p: Tensor, t: Tensor) -> Tensor:
    return fn(p, t).sum()


def fwd_bwd_once(fn: Loss, p0: Tensor, t: Tensor) -> None:
    """One untimed forward + backward from a fresh leaf (warm-up and the peak-memory child)."""
    p = p0.detach().requires_grad_()
    fn(p, t).sum().backward()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def peak_child(method: str, name: str, n: int, threads: int) -> None:
    """In a fresh process: extra peak resident memory of one fwd+bwd, printed as JSON."""
    torch.set_num_threads(threads)
    p, t = make_boxes(n)
    fn = METHODS[method](name)
    fwd_bwd_once(fn, p[:64], t[:64])  # import-time and first-call allocations
    with contextlib.suppress(OSError):  # hand freed heap pages back: baseline = live memory
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    fwd_bwd_once(fn, p, t)
    print(json.dumps({"extra_bytes": (_status_kb("VmHWM") - before) * 1024}))


def peak_extra(method: str, name: str, n: int, threads: int) -> float:
    cmd = [sys.executable, __file__, "--peak", method, name, "--n", str(n)]
    cmd += ["--threads", str(threads)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        return float(json.loads(out.strip().splitlines()[-1])["extra_bytes"])
    except (subprocess.CalledProcessError, OSError, ValueError, KeyError):
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 20)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--no-peak", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--peak", nargs=2, metavar=("METHOD", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak:
        peak_child(args.peak[0], args.peak[1], args.n, args.threads)
        return
    torch.set_num_threads(args.threads)
    p, t = make_boxes(args.n)
    print(
        f"box losses, fwd+bwd, {args.n} float32 box pairs, CPU, {args.threads} thread(s), "
        f"torch {torch.__version__}; reference: {REFERENCE_NAME}"
    )
    header = (
        f"{'loss':5} {'losskit ms':>10} {'ref ms':>8} {'speedup':>7} {'cpu-time x':>10} "
        f"{'saved MB lk/ref':>16} {'peak MB lk/ref':>15} {'peak ratio':>10}"
    )
    print(header)
    for name in NAMES:
        fns = {m: make(name) for m, make in METHODS.items()}
        leaf = p.detach().requires_grad_()
        timings = interleaved_medians(
            {m: functools.partial(_summed, fn, leaf, t) for m, fn in fns.items()},
            rounds=args.reps,
            measure=functools.partial(fwd_bwd, clear=(leaf,)),
        )
        med = timings.medians()
        cmed = timings.medians(cpu=True)
        saved = {
            m: saved_bytes(functools.partial(fn, leaf, t), exclude=(leaf, t)) / MIB
            for m, fn in fns.items()
        }
        if args.no_peak:
            peak = {m: float("nan") for m in fns}
        else:
            peak = {m: peak_extra(m, name, args.n, args.threads) / MIB for m in fns}
        speedup = med["reference"] / med["losskit"]
        cpu_speedup = cmed["reference"] / cmed["losskit"]
        print(
            f"{name:5} {med['losskit'] * 1e3:10.1f} {med['reference'] * 1e3:8.1f} "
            f"{speedup:6.2f}x {cpu_speedup:9.2f}x "
            f"{saved['losskit']:7.1f} / {saved['reference']:6.1f} "
            f"{peak['losskit']:6.1f} / {peak['reference']:6.1f} "
            f"{peak['losskit'] / peak['reference']:9.2f}"
        )


if __name__ == "__main__":
    main()
