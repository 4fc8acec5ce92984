"""``python -m losskit.bench._peak``: peak extra memory of each contender, in a fresh process.

Run by :func:`losskit.bench.run`: builds the named cases, runs every contender once to warm it
up (first-call allocations, lazy imports), then measures one more call with
:func:`losskit.bench._measure.peak_bytes` and prints ``{case key: {contender: bytes}}`` as JSON
on the last line.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import torch

from . import _measure
from .cases import CASES


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the peaks of the cases named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m losskit.bench._peak")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("keys", nargs="*")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    out: dict[str, dict[str, int | None]] = {}
    for case in CASES:
        if case.key not in args.keys:
            continue
        built = case.build(args.quick, device)
        got: dict[str, int | None] = {}
        for c in built.contenders:
            _measure.run_once(c.thunk, backward=c.backward, clear=built.leaves, device=device)
            got[c.name] = _measure.peak_bytes(
                c.thunk, backward=c.backward, clear=built.leaves, device=device
            )
        out[case.key] = got
        del built
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
