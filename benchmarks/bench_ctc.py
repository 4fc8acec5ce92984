"""CTC benchmark: losskit.ctc_loss against torch.nn.functional.ctc_loss, forward + backward.

    PYTHONPATH=src python benchmarks/bench_ctc.py [--repeats 30] [--threads 1]

One process, CPU float32, T=100, N=32, C=30, S=20 (target lengths 10..20). The calls are
interleaved round by round (so that load on the machine hits every contender alike) and the
medians compared. One intra-op thread by default (a loaded machine stalls OpenMP barriers
and turns every parallel elementwise op into noise); ``--threads`` changes it. Rows:

* ``ctc_loss``: the default (standard topology, PyTorch's native kernel, validation on);
* ``ctc_loss validate=False``: the same without the data-dependent checks;
* ``ctc_loss merge_repeated=False``: TensorFlow's ctc_merge_repeated=False topology, losskit's
  log-space forward-backward (a loop over time vectorised over batch and states);
* ``log-space kernel, standard topology``: the same kernel on the standard topology (what runs
  under ``torch.compile``).

Memory: bytes of the tensors each call saves for backward, counted with
``torch.autograd.graph.saved_tensors_hooks`` (distinct storages, inputs excluded).
Decoders are timed on their own (no reference library in the benchmark environment).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as tF

import losskit
from losskit.functional.ctc import _alignment_nll

T, N, C, S = 100, 32, 30, 20


def inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(T, N, C, generator=gen).log_softmax(-1)
    targets = torch.randint(1, C, (N, S), generator=gen)
    input_lengths = torch.randint(80, T + 1, (N,), generator=gen)
    target_lengths = torch.randint(10, S + 1, (N,), generator=gen)
    return log_probs, targets, input_lengths, target_lengths


def saved_bytes(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> int:
    seen: dict[int, int] = {}
    leaf = x.detach().requires_grad_(True)

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() != leaf.data_ptr():
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(leaf)
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lp, targets, il, tl = inputs()

    contenders: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "F.ctc_loss": lambda x: tF.ctc_loss(x, targets, il, tl),
        "ctc_loss": lambda x: losskit.ctc_loss(x, targets, il, tl),
        "ctc_loss validate=False": lambda x: losskit.ctc_loss(x, targets, il, tl, validate=False),
        "ctc_loss merge_repeated=False": lambda x: losskit.ctc_loss(
            x, targets, il, tl, merge_repeated=False
        ),
        "log-space kernel, standard topology": lambda x: (
            _alignment_nll(x, targets, il, tl, blank=0, merge_repeated=True, zero_infinity=False)
            / tl
        ).mean(),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(3):  # warm-up
        for fn in contenders.values():
            fn(lp.clone().requires_grad_(True)).backward()
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            x = lp.clone().requires_grad_(True)
            start = time.perf_counter()
            fn(x).backward()
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["F.ctc_loss"])
    base_mem = saved_bytes(contenders["F.ctc_loss"], lp)
    print(
        f"CTC forward+backward, CPU float32, T={T} N={N} C={C} S={S}, "
        f"{args.repeats} interleaved rounds, threads={torch.get_num_threads()}"
    )
    print(
        f"{'':38s} {'median ms':>10s} {'x F.ctc_loss':>13s} {'paired x':>9s} "
        f"{'saved MiB':>10s} {'x':>6s}"
    )
    for name, ts in times.items():
        med = statistics.median(ts)
        # Median of the per-round ratios: each round runs every contender back to back.
        paired = statistics.median(t / b for t, b in zip(ts, times["F.ctc_loss"], strict=True))
        mem = saved_bytes(contenders[name], lp)
        print(
            f"{name:38s} {med * 1e3:10.2f} {med / base:13.3f} {paired:9.3f} "
            f"{mem / 2**20:10.2f} {mem / base_mem:6.2f}"
        )

    # Decoders (no reference in this environment: absolute times only).
    start = time.perf_counter()
    losskit.ctc_greedy_decode(lp, il)
    greedy = time.perf_counter() - start
    start = time.perf_counter()
    losskit.ctc_beam_search_decode(lp[:, :8], il[:8], beam_width=16)
    beam = time.perf_counter() - start
    print(
        f"ctc_greedy_decode (N={N}): {greedy * 1e3:.2f} ms; "
        f"ctc_beam_search_decode (N=8, beam_width=16): {beam * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
