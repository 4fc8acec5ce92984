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
    PYTHONPATH=src /work/tvenv/bin/python benchmarks/bench_boxes.py   # against torchvision.ops
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

import losskit

Loss = Callable[[Tensor, Tensor], Tensor]

try:
    import torchvision
    from torchvision import ops as tv_ops

    REFERENCE_NAME = f"torchvision {torchvision.__version__} ops (IoU: elementwise, copied)"
except ImportError:  # the elementwise formulation torchvision uses, written out here
    tv_ops = None
    REFERENCE_NAME = "elementwise formulation (torchvision's, copied)"


# ---- the elementwise formulation of torchvision.ops (used when torchvision is missing) ------


def _inter_union(b1: Tensor, b2: Tensor) -> tuple[Tensor, Tensor]:
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xkis1, ykis1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xkis2, ykis2 = torch.min(x2, x2g), torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    return intsctk, unionk


def _ew_iou(b1: Tensor, b2: Tensor, eps: float = 1e-7) -> Tensor:
    inter, union = _inter_union(b1, b2)
    return 1 - inter / (union + eps)


def _ew_giou(b1: Tensor, b2: Tensor, eps: float = 1e-7) -> Tensor:
    intsctk, unionk = _inter_union(b1, b2)
    iouk = intsctk / (unionk + eps)
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return 1 - (iouk - ((area_c - unionk) / (area_c + eps)))


def _ew_diou_iou(b1: Tensor, b2: Tensor, eps: float = 1e-7) -> tuple[Tensor, Tensor]:
    intsct, union = _inter_union(b1, b2)
    iou = intsct / (union + eps)
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    diag = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x_p, y_p = (x2 + x1) / 2, (y2 + y1) / 2
    x_g, y_g = (x1g + x2g) / 2, (y1g + y2g) / 2
    dist = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    return 1 - iou + dist / diag, iou


def _ew_diou(b1: Tensor, b2: Tensor, eps: float = 1e-7) -> Tensor:
    return _ew_diou_iou(b1, b2, eps)[0]


def _ew_ciou(b1: Tensor, b2: Tensor, eps: float = 1e-7) -> Tensor:
    diou_loss, iou = _ew_diou_iou(b1, b2)
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    w_pred, h_pred = x2 - x1, y2 - y1
    w_gt, h_gt = x2g - x1g, y2g - y1g
    v = (4 / (torch.pi**2)) * torch.pow((torch.atan(w_gt / h_gt) - torch.atan(w_pred / h_pred)), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou_loss + alpha * v


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


def fwd_bwd(fn: Loss, p0: Tensor, t: Tensor) -> None:
    p = p0.detach().requires_grad_()
    fn(p, t).sum().backward()


def saved_bytes(fn: Loss, p0: Tensor, t: Tensor) -> int:
    """Bytes of the distinct tensor storages autograd saves for backward."""
    seen: dict[int, int] = {}

    def pack(x: Tensor) -> Tensor:
        seen[x.untyped_storage().data_ptr()] = x.untyped_storage().nbytes()
        return x

    p = p0.detach().requires_grad_()
    inputs = {p.untyped_storage().data_ptr(), t.untyped_storage().data_ptr()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        out = fn(p, t).sum()
    out.backward()
    return sum(v for k, v in seen.items() if k not in inputs)


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
    fwd_bwd(fn, p[:64], t[:64])  # import-time and first-call allocations
    with contextlib.suppress(OSError):  # hand freed heap pages back: baseline = live memory
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    fwd_bwd(fn, p, t)
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
        for fn in fns.values():  # warm up
            fwd_bwd(fn, p, t)
        wall: dict[str, list[float]] = {m: [] for m in fns}
        cpu: dict[str, list[float]] = {m: [] for m in fns}
        for _ in range(args.reps):
            for m, fn in fns.items():
                w0, c0 = time.perf_counter(), time.process_time()
                fwd_bwd(fn, p, t)
                wall[m].append(time.perf_counter() - w0)
                cpu[m].append(time.process_time() - c0)
        med = {m: statistics.median(v) for m, v in wall.items()}
        cmed = {m: statistics.median(v) for m, v in cpu.items()}
        saved = {m: saved_bytes(fn, p, t) / 2**20 for m, fn in fns.items()}
        if args.no_peak:
            peak = {m: float("nan") for m in fns}
        else:
            peak = {m: peak_extra(m, name, args.n, args.threads) / 2**20 for m in fns}
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
