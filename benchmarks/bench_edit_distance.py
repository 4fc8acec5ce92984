"""Edit distance: losskit against torchmetrics and rapidfuzz, in one run.

    PYTHONPATH=src python benchmarks/bench_edit_distance.py [--pairs 10000] [--length 64]

(from the repository root; also ``--tm-pairs``, ``--repeat``, ``--seed``; quick check:
``--pairs 500 --tm-pairs 20 --repeat 5``).

Workload: ``--pairs`` random pairs of ``--length`` letters (26-letter alphabet). losskit gets
them as padded ``int64`` tensors ``(N, L)`` (its tensor path; the string-list path is timed too),
rapidfuzz and torchmetrics as the equivalent Python strings. rapidfuzz is called pair by pair
in a Python loop (its ``Levenshtein.distance`` takes one pair). torchmetrics'
``text.EditDistance`` is a pure-Python dynamic programme: it is timed on a subset of
``--tm-pairs`` pairs and scaled linearly to the full count (the time per pair does not depend on
the batch). Edit distance has no gradient, so only the forward pass is timed.

Timings are medians of ``--repeat`` rounds of wall-clock time; the contenders run interleaved
in every round so that load on the machine affects them alike. All results are checked to agree
before timing.
"""

from __future__ import annotations

import argparse

import torch
from rapidfuzz.distance import Levenshtein
from torchmetrics.text import EditDistance as TMEditDistance

import losskit
from _harness import call, interleaved_medians, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--tm-pairs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(args.seed)
    hyp = torch.randint(0, 26, (args.pairs, args.length), generator=gen)
    ref = torch.randint(0, 26, (args.pairs, args.length), generator=gen)
    hyp_text = ["".join(chr(97 + c) for c in row) for row in hyp.tolist()]
    ref_text = ["".join(chr(97 + c) for c in row) for row in ref.tolist()]
    sub = slice(0, args.tm_pairs)

    def losskit_tensor() -> torch.Tensor:
        return losskit.edit_distance(hyp, ref, normalize=False)

    def losskit_strings() -> torch.Tensor:
        return losskit.edit_distance(hyp_text, ref_text, normalize=False)

    def rapidfuzz_loop() -> list[int]:
        return [Levenshtein.distance(a, b) for a, b in zip(hyp_text, ref_text, strict=True)]

    def torchmetrics_subset() -> torch.Tensor:
        metric = TMEditDistance(reduction="none")
        metric.update(hyp_text[sub], ref_text[sub])
        return metric.compute()

    expected = torch.tensor(rapidfuzz_loop(), dtype=torch.float32)
    torch.testing.assert_close(losskit_tensor(), expected, rtol=0, atol=0)
    torch.testing.assert_close(losskit_strings(), expected, rtol=0, atol=0)
    torch.testing.assert_close(torchmetrics_subset().float(), expected[sub], rtol=0, atol=0)

    fast = interleaved_medians(
        {
            "losskit tensor": losskit_tensor,
            "losskit strings": losskit_strings,
            "rapidfuzz loop": rapidfuzz_loop,
        },
        rounds=args.repeat,
        measure=call,
    ).medians()
    slow = interleaved_medians(
        {"torchmetrics": torchmetrics_subset}, rounds=max(1, args.repeat // 5), measure=call
    ).medians()
    scale = args.pairs / len(hyp_text[sub])
    times = {**fast, "torchmetrics": slow["torchmetrics"] * scale}

    print(
        f"edit distance, {args.pairs} pairs of length {args.length}, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeat} rounds"
    )
    print(f"torchmetrics timed on {len(hyp_text[sub])} pairs and scaled x{scale:g}")
    print_table(["", "ms"], [[name, f"{seconds * 1e3:.2f}"] for name, seconds in times.items()])
    base = times["losskit tensor"]
    print(
        f"speed-up of losskit tensor over torchmetrics: {times['torchmetrics'] / base:8.1f}x"
        "  (target >= 50x)"
    )
    print(
        f"losskit tensor time / rapidfuzz loop time:    {base / times['rapidfuzz loop']:8.2f}"
        "   (target <= 2)"
    )
    print(
        f"losskit strings time / rapidfuzz loop time:   "
        f"{times['losskit strings'] / times['rapidfuzz loop']:8.2f}"
    )


if __name__ == "__main__":
    main()
