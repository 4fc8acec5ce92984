"""The ``losskit bench`` runner: time, memory and ratios of every case, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import torch

from . import _measure
from .cases import CASES, FAMILIES, Built, Case
from .simulation import format_simulation

__all__ = ["add_arguments", "format_table", "main", "run", "select"]

MIB = float(1 << 20)


def select(only: Sequence[str] | None = None) -> list[Case]:
    """The cases of the families in ``only`` (every case when empty or ``None``)."""
    if not only:
        return list(CASES)
    unknown = [f for f in only if f not in FAMILIES]
    if unknown:
        raise ValueError(
            f"losskit bench: --only must name a family among {', '.join(FAMILIES)}, "
            f"got {', '.join(unknown)}"
        )
    return [case for case in CASES if case.family in only]


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _peaks(
    cases: Sequence[Case], quick: bool, device: torch.device, threads: int
) -> tuple[dict[str, dict[str, int | None]], str | None]:
    """Peak extra memory of every contender, from one fresh process (see ``_peak``)."""
    cmd = [sys.executable, "-m", "losskit.bench._peak", "--device", str(device)]
    cmd += ["--threads", str(threads), *(["--quick"] if quick else []), "--"]
    cmd += [case.key for case in cases]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900)
        return json.loads(done.stdout.strip().splitlines()[-1]), None
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
        return {}, f"peak memory not measured: the measuring process failed ({last[0]})"
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as exc:
        return {}, f"peak memory not measured: {exc.__class__.__name__}"


def _run_case(
    case: Case, built: Built, rounds: int, warmup: int, device: torch.device
) -> dict[str, Any]:
    samples = _measure.interleaved(
        {c.name: c.thunk for c in built.contenders},
        rounds=rounds,
        warmup=warmup,
        backward={c.name: c.backward for c in built.contenders},
        clear=built.leaves,
        device=device,
    )
    saved = {
        c.name: _measure.saved_bytes(c.thunk, exclude=built.inputs) if c.backward else 0
        for c in built.contenders
    }
    contenders = [
        {
            "name": c.name,
            "role": c.role,
            "items": c.items,
            "median_s": statistics.median(samples[c.name]),
            "samples_s": samples[c.name],
            "saved_bytes": saved[c.name],
            "peak_bytes": None,
        }
        for c in built.contenders
    ]
    ratios = []
    for ours in (c for c in built.contenders if c.role == "losskit"):
        for other in (c for c in built.contenders if c.role != "losskit"):
            per = _measure.paired_ratios(
                samples[ours.name], samples[other.name], scale=other.items / ours.items
            )
            target = built.targets.get(other.name)
            row: dict[str, Any] = {
                "losskit": ours.name,
                "against": other.name,
                "role": other.role,
                "time": statistics.median(per),
                "time_q1": _quantile(per, 0.25),
                "time_q3": _quantile(per, 0.75),
                "time_min": min(per),
                "time_max": max(per),
                "saved": saved[ours.name] / saved[other.name] if saved[other.name] else None,
                "peak": None,
                # the bandwidth floor copies into a preallocated buffer: no memory to compare
                "memory_compared": other.backward,
                "target_time": target.time if target else None,
                "target_saved": target.saved if target else None,
            }
            ratios.append(row)
    return {
        "family": case.family,
        "case": case.name,
        "size": case.size,
        "key": case.key,
        "contenders": contenders,
        "ratios": ratios,
        "notes": built.notes,
    }


def _verdict(row: dict[str, Any]) -> bool | None:
    checks = []
    if row["target_time"] is not None:
        checks.append(row["time"] <= row["target_time"])
    if row["target_saved"] is not None and row["saved"] is not None:
        checks.append(row["saved"] <= row["target_saved"])
    return all(checks) if checks else None


def run(
    only: Sequence[str] | None = None,
    *,
    quick: bool = False,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    rounds: int | None = None,
    warmup: int | None = None,
    peak: bool = True,
) -> dict[str, Any]:
    """Measure every case of the families in ``only`` and return the results as a dict.

    Args:
        only: family names (``losskit bench --only``); ``None``: all.
        quick: small sizes and few rounds (the whole run in under two minutes on two cores).
        device: where the tensors live; ``"cuda"`` measures the allocator's peak.
        threads: ``torch.set_num_threads`` for the run; ``None`` keeps the current setting.
        rounds: timed interleaved rounds (default 21, quick 5).
        warmup: untimed rounds first (default 3, quick 1).
        peak: also measure the peak memory of each contender in a fresh process.

    Returns:
        JSON-ready: the settings, and per case its contenders (median and per-round seconds,
        saved and peak bytes) and its ratios ``losskit / other`` (median of the per-round
        ratios, quartiles and extremes; saved and peak ratios; the target and whether it holds).
    """
    simulate = only is None or "simulation" in only
    families = None if only is None else [f for f in only if f != "simulation"]
    cases = [] if only and not families else select(families)
    dev = torch.device(device)
    if threads is not None:
        torch.set_num_threads(threads)
    rounds = rounds if rounds is not None else (5 if quick else 21)
    warmup = warmup if warmup is not None else (1 if quick else 3)
    started = time.perf_counter()
    results = []
    for case in cases:
        built = case.build(quick, dev)
        result = _run_case(case, built, rounds, warmup, dev)
        result["size"] = case.quick_size if quick else case.size
        results.append(result)
        del built
    notes: list[str] = []
    if peak:
        peaks, problem = _peaks(cases, quick, dev, torch.get_num_threads())
        if problem:
            notes.append(problem)
        for result in results:
            got = peaks.get(result["key"], {})
            for c in result["contenders"]:
                c["peak_bytes"] = got.get(c["name"])
            mine = {c["name"]: c["peak_bytes"] for c in result["contenders"]}
            for row in result["ratios"]:
                a, b = mine.get(row["losskit"]), mine.get(row["against"])
                compared = row["memory_compared"]
                row["peak"] = a / b if compared and a is not None and b else None
    for result in results:
        for row in result["ratios"]:
            row["met"] = _verdict(row)
    simulation: list[dict[str, Any]] = []
    if simulate and dev.type == "cpu":
        from .simulation import diou_timing

        simulation = diou_timing(20 if quick else 5000, iterations=20 if quick else 200)
    elif simulate:
        notes.append("the DIoU simulation runs on the CPU only")
    import losskit

    return {
        "losskit": getattr(losskit, "__version__", None),
        "torch": torch.__version__,
        "device": str(dev),
        "dtype": "float32",
        "threads": torch.get_num_threads(),
        "quick": quick,
        "rounds": rounds,
        "warmup": warmup,
        "seconds": time.perf_counter() - started,
        "notes": notes,
        "cases": results,
        "simulation": simulation,
    }


def _fmt(value: float | None, spec: str = "{:.2f}") -> str:
    return "-" if value is None or not math.isfinite(value) else spec.format(value)


def format_table(result: dict[str, Any]) -> str:
    """The ratio table of :func:`run`'s result, as text."""
    header = [
        "case",
        "size",
        "losskit",
        "against",
        "ms",
        "other ms",
        "time x",
        "q1-q3",
        "saved x",
        "peak x",
        "target",
        "",
    ]
    rows = []
    for case in result["cases"]:
        ms = {c["name"]: c["median_s"] * 1e3 for c in case["contenders"]}
        for row in case["ratios"]:
            target = []
            if row["target_time"] is not None:
                target.append(f"t<={row['target_time']:.2f}")
            if row["target_saved"] is not None:
                target.append(f"m<={row['target_saved']:.2f}")
            met = {True: "ok", False: "MISSED", None: ""}[row["met"]]
            rows.append(
                [
                    case["case"],
                    case["size"],
                    row["losskit"],
                    row["against"],
                    _fmt(ms[row["losskit"]], "{:.2f}"),
                    _fmt(ms[row["against"]], "{:.2f}"),
                    _fmt(row["time"]),
                    f"{_fmt(row['time_q1'])}-{_fmt(row['time_q3'])}",
                    _fmt(row["saved"]),
                    _fmt(row["peak"]),
                    " ".join(target),
                    met,
                ]
            )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    left = {0, 1, 2, 3, 10, 11}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [
        f"losskit bench: fwd+bwd, {result['device']} {result['dtype']}, "
        f"{result['threads']} thread(s), median of {result['rounds']} interleaved rounds after "
        f"{result['warmup']} warm-up, torch {result['torch']}"
        + (" (quick)" if result["quick"] else ""),
        line(header),
        "-" * (sum(widths) + 2 * (len(widths) - 1)),
        *(line(r) for r in rows),
        "time x: median over rounds of losskit time / other time (per item); q1-q3: quartiles "
        "of those ratios; saved x: bytes saved for backward beyond the inputs, losskit / other; "
        "peak x: peak extra memory (fresh process RSS on CPU, allocator on GPU), losskit / other.",
    ]
    notes = list(result["notes"])
    for case in result["cases"]:
        notes += [f"{case['case']}: {note}" for note in case["notes"]]
    out += [f"note: {note}" for note in dict.fromkeys(notes)]
    out.append(f"({result['seconds']:.0f} s)")
    return "\n".join(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``losskit bench`` / ``python -m losskit.bench``."""
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, few rounds (under two minutes)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="FAMILY",
        choices=(*FAMILIES, "simulation"),
        help=f"only this family (repeatable): {', '.join(FAMILIES)}, or simulation (the DIoU "
        "simulation, eager and compiled)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--threads", type=int, default=None, help="intra-op threads (default: torch's setting)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds")
    parser.add_argument("--no-peak", action="store_true", help="skip the peak-memory process")


def run_from_args(args: argparse.Namespace) -> int:
    """Run with parsed :func:`add_arguments` options; print the table, write the JSON."""
    result = run(
        args.only,
        quick=args.quick,
        device=args.device,
        threads=args.threads,
        rounds=args.rounds,
        peak=not args.no_peak,
    )
    print(format_table(result))
    if result["simulation"]:
        print()
        print(format_simulation(result["simulation"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m losskit.bench [--quick] [--only FAMILY] [--json FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m losskit.bench",
        description="Time and memory of losskit's losses against other libraries.",
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
