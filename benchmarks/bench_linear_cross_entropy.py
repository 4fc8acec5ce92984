"""Large-vocabulary cross-entropy: ``losskit.linear_cross_entropy`` against
``F.cross_entropy(F.linear(hidden, weight), target)``, forward+backward, CPU.

For each vocabulary size, dtype and mode (eager, ``torch.compile(fullgraph=True)``):

* **time**: one child process runs both contenders interleaved (a warm-up round, then
  ``--rounds`` rounds, the order flipped every other round); medians and the median of the
  per-round ratios;
* **peak extra memory**: a fresh child process per contender: after a warm-up call (at full
  size when compiled, so the compiled graph exists; at 64 tokens in eager mode), freed memory is
  returned to the system (``malloc_trim``), the peak resident set is reset
  (``/proc/self/clear_refs``), and one forward+backward runs; the figure is the peak resident
  set (``VmHWM``) minus the resident set before the call. It includes the gradients the call
  returns (``hidden.grad``, ``weight.grad``, the same for both contenders); the
  ``workspace`` column subtracts them.

Tokens have every 17th target ignored (``-100``), no smoothing, ``reduction="mean"``, no bias.
The unfused side is what a user writes; in bfloat16 it runs torch's bfloat16 matrix products,
while losskit computes in float32 (slow bfloat16 products on CPUs without native support make
that comparison one of the kernels more than of the losses).

Cut Cross-Entropy's non-Triton path (``impl="torch_compile"``) is ``F.cross_entropy(e @ c.T)``
under ``torch.compile``, the "unfused, compiled" row here; its Triton kernels need a GPU.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_linear_cross_entropy.py \\
        [--tokens 4096] [--hidden 1024] [--vocab 32000 128000] [--dtype float32] \\
        [--modes eager compiled] [--rounds 3] [--skip-memory] [--skip-time]

(quick check: ``--tokens 256 --hidden 64 --vocab 2000 --rounds 2``).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

import losskit
from _harness import MIB, Sample, interleaved_medians, print_table

CONTENDERS = ("unfused", "losskit")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def make_inputs(tokens: int, hidden: int, vocab: int, dtype: torch.dtype) -> list[Tensor]:
    gen = torch.Generator().manual_seed(0)
    h = (torch.randn(tokens, hidden, generator=gen) / hidden**0.25).to(dtype).requires_grad_()
    w = (torch.randn(vocab, hidden, generator=gen) / hidden**0.25).to(dtype).requires_grad_()
    t = torch.randint(0, vocab, (tokens,), generator=gen)
    t[::17] = -100
    return [h, w, t]


def _unfused(h: Tensor, w: Tensor, t: Tensor) -> Tensor:
    return F.cross_entropy(F.linear(h, w), t)


def _losskit(h: Tensor, w: Tensor, t: Tensor) -> Tensor:
    return losskit.linear_cross_entropy(h, w, t)


def _losskit_compiled(h: Tensor, w: Tensor, t: Tensor) -> Tensor:
    return losskit.linear_cross_entropy(h, w, t, validate=False)


def loss_fn(contender: str, mode: str) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    if mode == "eager":
        return _unfused if contender == "unfused" else _losskit
    fn = _unfused if contender == "unfused" else _losskit_compiled
    return torch.compile(fn, fullgraph=True, dynamic=False)  # type: ignore[return-value]


# ------------------------------------------------------------------ child jobs


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _release() -> None:
    gc.collect()
    with contextlib.suppress(OSError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def memory_job(args: dict[str, Any]) -> dict[str, Any]:
    dtype = DTYPES[args["dtype"]]
    fn = loss_fn(args["contender"], args["mode"])
    warm_tokens = args["tokens"] if args["mode"] == "compiled" else 64
    small = make_inputs(warm_tokens, args["hidden"], args["vocab"], dtype)
    fn(*small).backward()
    del small
    h, w, t = make_inputs(args["tokens"], args["hidden"], args["vocab"], dtype)
    _release()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident set
    fn(h, w, t).backward()
    peak = _status_kib("VmHWM")
    assert h.grad is not None and w.grad is not None
    grads = h.grad.numel() * h.grad.element_size() + w.grad.numel() * w.grad.element_size()
    return {"extra_mib": (peak - before) / 1024, "grad_mib": grads / MIB}


def fwd_bwd_process(thunk: Callable[[], Tensor], *, clear: list[Tensor]) -> Sample:
    """Wall seconds and CPU seconds of the whole process (every intra-op thread) of one
    forward+backward; on a shared machine the CPU seconds are the steadier figure."""
    for leaf in clear:
        leaf.grad = None
    start, start_cpu = time.perf_counter(), time.process_time()
    thunk().backward()
    return Sample(time.perf_counter() - start, time.process_time() - start_cpu)


def time_job(args: dict[str, Any]) -> dict[str, Any]:
    dtype = DTYPES[args["dtype"]]
    h, w, t = make_inputs(args["tokens"], args["hidden"], args["vocab"], dtype)
    contenders = {name: partial(loss_fn(name, args["mode"]), h, w, t) for name in CONTENDERS}
    timings = interleaved_medians(
        contenders,
        rounds=args["rounds"],
        warmup=1,
        measure=partial(fwd_bwd_process, clear=[h, w]),
        alternate=True,
    )
    return {
        "median_s": timings.medians(),
        "ratio": timings.paired("losskit", "unfused"),
        "median_cpu_s": timings.medians(cpu=True),
        "ratio_cpu": timings.paired("losskit", "unfused", cpu=True),
        "threads": torch.get_num_threads(),
    }


def run_child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", job, json.dumps(args)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{job} {args} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--vocab", type=int, nargs="+", default=[32_000, 128_000])
    parser.add_argument("--dtype", nargs="+", default=["float32"], choices=sorted(DTYPES))
    parser.add_argument("--modes", nargs="+", default=["eager", "compiled"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-time", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        job, payload = opts.child
        result = (memory_job if job == "memory" else time_job)(json.loads(payload))
        print(json.dumps(result))
        return

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, tokens {opts.tokens}, "
        f"hidden {opts.hidden}, reduction='mean', every 17th token ignored"
    )
    rows = []
    for vocab in opts.vocab:
        for dtype in opts.dtype:
            for mode in opts.modes:
                base = {
                    "tokens": opts.tokens,
                    "hidden": opts.hidden,
                    "vocab": vocab,
                    "dtype": dtype,
                    "mode": mode,
                }
                timing = None
                if not opts.skip_time:
                    timing = run_child("time", {**base, "rounds": opts.rounds})
                memory = {}
                if not opts.skip_memory:
                    memory = {c: run_child("memory", {**base, "contender": c}) for c in CONTENDERS}
                cells = [f"{vocab:,}", dtype, mode]
                if timing is not None:
                    med = timing["median_s"]
                    cells += [f"{med['unfused']:.2f}", f"{med['losskit']:.2f}"]
                    cells += [f"{timing['ratio']:.2f}x"]
                    cpu = timing["median_cpu_s"]
                    cells += [f"{cpu['unfused']:.2f}", f"{cpu['losskit']:.2f}"]
                    cells += [f"{timing['ratio_cpu']:.2f}x"]
                else:
                    cells += ["-"] * 6
                if memory:
                    un, lk = memory["unfused"], memory["losskit"]
                    cells += [f"{un['extra_mib']:.0f}", f"{lk['extra_mib']:.0f}"]
                    cells += [f"{lk['extra_mib'] / max(un['extra_mib'], 1e-9):.3f}"]
                    work_un = un["extra_mib"] - un["grad_mib"]
                    work_lk = lk["extra_mib"] - lk["grad_mib"]
                    cells += [f"{work_un:.0f}", f"{work_lk:.0f}"]
                    cells += [f"{work_lk / max(work_un, 1e-9):.3f}"]
                else:
                    cells += ["-"] * 6
                rows.append(cells)
                print("  ".join(cells), flush=True)
    print()
    print_table(
        [
            "vocab",
            "dtype",
            "mode",
            "unfused s",
            "losskit s",
            "time ratio",
            "unfused cpu s",
            "losskit cpu s",
            "cpu ratio",
            "unfused MiB",
            "losskit MiB",
            "mem ratio",
            "unf. work MiB",
            "lk work MiB",
            "work ratio",
        ],
        rows,
        align="lll" + "r" * 12,
        rule=True,
    )
    print(
        "\ntime: median wall seconds of one forward+backward; cpu: median process CPU seconds "
        "(all threads); ratios: median of per-round losskit/unfused. MiB: peak resident set "
        "above the inputs during one forward+backward "
        "(gradients included); work: the same less the gradients (hidden.grad, weight.grad)."
    )


if __name__ == "__main__":
    main()
