"""CTC benchmark: losskit.ctc_loss against torch.nn.functional.ctc_loss, forward + backward.

    PYTHONPATH=src python benchmarks/bench_ctc.py [--repeats 30] [--threads 1]

(from the repository root; quick check: ``--repeats 5``).

One process, CPU float32, T=200, N=32, C=40, S=20 (target lengths 10..20). The calls are
interleaved round by round (so that load on the machine hits every contender alike) and the
medians compared. One intra-op thread by default (a loaded machine stalls OpenMP barriers
and turns every parallel elementwise op into noise); ``--threads`` changes it. Rows:

* ``ctc_loss``: the default (standard topology, PyTorch's native kernel, validation on);
* ``ctc_loss validate=False``: the same without the data-dependent checks;
* ``ctc_loss merge_repeated=False``: TensorFlow's ctc_merge_repeated=False topology, losskit's
  log-space forward-backward (a loop over time vectorised over batch and states);
* ``log-space kernel, standard topology``: the same kernel on the standard topology;
* ``compiled F.ctc_loss`` / ``compiled ctc_loss``: ``torch.compile`` of a step
  ``log_softmax(logits) -> loss`` (``F.ctc_loss`` breaks the graph at the kernel, whose output
  shape is data-dependent; losskit's compiles with ``fullgraph=True``, validation on, and runs
  the same native kernel inside the graph). The ``x compiled F`` column is the ratio of the two.

Memory: bytes of the tensors each call saves for backward, counted with
``torch.autograd.graph.saved_tensors_hooks`` (distinct storages, the log-probabilities' own
storage excluded).
Decoders are timed on their own (no reference library in the benchmark environment).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as tF

import losskit
from _harness import MIB, fwd_bwd, interleaved_medians, print_table, saved_bytes
from losskit.functional.ctc import _alignment_nll

T, N, C, S = 200, 32, 40, 20


def inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(T, N, C, generator=gen).log_softmax(-1)
    targets = torch.randint(1, C, (N, S), generator=gen)
    input_lengths = torch.randint(160, T + 1, (N,), generator=gen)
    target_lengths = torch.randint(10, S + 1, (N,), generator=gen)
    return log_probs, targets, input_lengths, target_lengths


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

    def torch_step(z: torch.Tensor) -> torch.Tensor:
        return tF.ctc_loss(z.log_softmax(-1), targets, il, tl)

    def losskit_step(z: torch.Tensor) -> torch.Tensor:
        return losskit.ctc_loss(z.log_softmax(-1), targets, il, tl)

    compiled = {
        "compiled F.ctc_loss": torch.compile(torch_step),
        "compiled ctc_loss": torch.compile(losskit_step, fullgraph=True),
    }
    x = lp.clone().requires_grad_(True)
    thunks = {name: partial(fn, x) for name, fn in contenders.items()}
    thunks.update({name: partial(fn, x) for name, fn in compiled.items()})
    timings = interleaved_medians(
        thunks, rounds=args.repeats, warmup=3, measure=partial(fwd_bwd, clear=[x])
    )
    mem = {name: saved_bytes(thunk, exclude=[x]) for name, thunk in thunks.items()}

    base, base_mem = timings.median("F.ctc_loss"), mem["F.ctc_loss"]
    print(
        f"CTC forward+backward, CPU float32, T={T} N={N} C={C} S={S}, "
        f"{args.repeats} interleaved rounds, threads={torch.get_num_threads()}"
    )
    rows = []
    for name in thunks:
        med = timings.median(name)
        # Median of the per-round ratios: each round runs every contender back to back.
        paired = timings.paired(name, "F.ctc_loss")
        rows.append(
            [
                name,
                f"{med * 1e3:.2f}",
                f"{med / base:.3f}",
                f"{paired:.3f}",
                f"{mem[name] / MIB:.2f}",
                f"{mem[name] / base_mem:.2f}",
            ]
        )
    print_table(["", "median ms", "x F.ctc_loss", "paired x", "saved MiB", "x"], rows)
    print(
        "compiled ctc_loss / compiled F.ctc_loss (paired): "
        f"{timings.paired('compiled ctc_loss', 'compiled F.ctc_loss'):.3f}"
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
