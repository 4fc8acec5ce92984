"""``losskit bench`` on a tiny configuration: the JSON structure and finite positive ratios.

No timing is asserted: the machine running the tests decides the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from losskit.bench import CASES, FAMILIES, cases, run, select
from losskit.bench._measure import interleaved, paired_ratios, saved_bytes
from losskit.cli import bench_cmd


def _check_result(result: dict, families: set[str]) -> None:
    assert result["device"] == "cpu"
    assert result["threads"] == torch.get_num_threads()
    assert {c["family"] for c in result["cases"]} == families
    for case in result["cases"]:
        names = {c["name"] for c in case["contenders"]}
        roles = {c["role"] for c in case["contenders"]}
        assert "losskit" in roles
        for c in case["contenders"]:
            assert len(c["samples_s"]) == result["rounds"]
            assert all(s > 0 for s in c["samples_s"])
            assert c["saved_bytes"] >= 0
        assert case["ratios"], case["case"]
        for row in case["ratios"]:
            assert row["losskit"] in names and row["against"] in names
            for key in ("time", "time_q1", "time_q3", "time_min", "time_max"):
                assert math.isfinite(row[key]) and row[key] > 0, (case["case"], key, row)
            assert row["time_min"] <= row["time_q1"] <= row["time"] <= row["time_q3"]
            assert row["time_q3"] <= row["time_max"]
            if row["saved"] is not None:
                assert math.isfinite(row["saved"]) and row["saved"] >= 0
            assert row["met"] in (True, False, None)


def test_run_structure_and_ratios(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny sizes: the quick CTC case and the box cases at a few hundred boxes.
    monkeypatch.setattr(cases, "_boxes", _small_boxes(cases._boxes))
    result = run(["ctc", "boxes"], quick=True, rounds=3, warmup=1, peak=False)
    _check_result(result, {"ctc", "boxes"})
    giou = next(c for c in result["cases"] if c["case"] == "generalized_box_iou_loss")
    against = {row["against"] for row in giou["ratios"]}
    assert against == {cases.TV, cases.BCE_FLOOR, cases.BW_FLOOR}
    row = next(r for r in giou["ratios"] if r["against"] == cases.TV)
    assert row["target_time"] == pytest.approx(1 / 3) and row["target_saved"] == pytest.approx(
        1 / 3
    )
    json.dumps(result)  # JSON-ready


def _small_boxes(make):  # type: ignore[no-untyped-def]
    return lambda n, device: make(min(n, 512), device)


def test_peak_memory_in_a_fresh_process() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    cmd = [sys.executable, "-m", "losskit.bench._peak", "--threads", "1", "--quick", "--"]
    cmd.append("ctc:ctc_loss")
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, timeout=120)
    peaks = json.loads(out.stdout.strip().splitlines()[-1])
    got = peaks["ctc:ctc_loss"]
    assert set(got) == {"ctc_loss", "ctc_loss (validate=False)", "F.ctc_loss"}
    if Path("/proc/self/clear_refs").exists():
        assert all(isinstance(v, int) and v >= 0 for v in got.values())


def test_measure_primitives() -> None:
    x = torch.randn(1000, requires_grad=True)
    samples = interleaved(
        {"a": lambda: (x * x).sum(), "b": lambda: x.exp().sum()},
        rounds=4,
        warmup=1,
        clear=[x],
    )
    assert [len(v) for v in samples.values()] == [4, 4]
    assert paired_ratios([2.0, 4.0], [1.0, 0.0]) == [2.0]  # zero denominators dropped
    # x * x saves x (an input, excluded); exp saves its 4000-byte result.
    assert saved_bytes(lambda: (x * x).sum(), exclude=[x]) == 0
    assert saved_bytes(lambda: x.exp().sum(), exclude=[x]) == 4000


def test_select_and_cli_parser() -> None:
    assert select(None) == list(CASES)
    assert {c.family for c in select(["dice"])} == {"dice"}
    with pytest.raises(ValueError, match="--only"):
        select(["nope"])
    assert len({c.key for c in CASES}) == len(CASES)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    bench_cmd.add_parser(sub)
    args = parser.parse_args(["bench", "--quick", "--only", "dice", "--json", "out.json"])
    assert args.quick and args.only == ["dice"] and args.json == "out.json"
    assert args.handler is bench_cmd.run
    assert "dice" in FAMILIES


def test_peers_are_not_imported_by_losskit() -> None:
    code = (
        "import sys, losskit, losskit.bench; "
        "bad = [m for m in ('monai', 'kornia', 'keras', 'torchmetrics', 'rapidfuzz', "
        "'pytorch_metric_learning') if m in sys.modules]; print(bad)"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.stdout.strip() == "[]"


def test_missing_peer_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def fake(name: str, *a: object) -> object:
        if name.startswith("kornia"):
            raise ImportError(name)
        return real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(cases.importlib, "import_module", fake)
    notes: list[str] = []
    assert cases._peer("kornia.losses", notes) is None
    assert notes and "kornia not installed" in notes[0]


def test_diou_timing_runs_the_experiments_simulation() -> None:
    """The timed simulation is the report's: same anchors, same steps, same final errors."""
    from losskit.bench.simulation import diou_timing, format_simulation
    from losskit.experiments.diou import diou_simulation

    rows = diou_timing(1, iterations=6, compiled=False)
    ref = diou_simulation(1, iterations=6).final()
    assert [(r["loss"], r["mode"]) for r in rows] == [
        (name, "eager") for name in ("iou", "giou", "diou", "ciou")
    ]
    for r in rows:
        assert r["cases"] == 343 and r["iterations"] == 6
        assert r["seconds"] > 0 and r["per_step_ms"] > 0 and r["first_step_s"] > 0
        assert r["final_error"] == pytest.approx(ref[r["loss"]], rel=1e-6)
    assert "343 box pairs x 6 steps" in format_simulation(rows)


def test_compiled_simulation_follows_the_eager_one() -> None:
    from losskit.bench.simulation import diou_timing

    rows = diou_timing(1, iterations=4, losses=("ciou",))
    eager, compiled = rows
    assert (eager["mode"], compiled["mode"]) == ("eager", "compiled")
    assert compiled["final_error"] == pytest.approx(eager["final_error"], rel=1e-4)


def test_only_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    from losskit.bench import simulation

    calls = []

    def fake(points: int, *, iterations: int) -> list[dict]:
        calls.append((points, iterations))
        return [{"loss": "iou", "mode": "eager"}]

    monkeypatch.setattr(simulation, "diou_timing", fake)
    result = run(["simulation"], quick=True, peak=False)
    assert result["cases"] == [] and result["simulation"] == [{"loss": "iou", "mode": "eager"}]
    assert calls == [(20, 20)]
    assert run(["ctc"], quick=True, rounds=1, warmup=0, peak=False)["simulation"] == []
