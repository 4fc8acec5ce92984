"""``losskit plot``, ``--help`` and the one-line failures of the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from losskit import catalogue
from losskit.cli import COMMANDS, main
from losskit.cli.plot_cmd import parse_params, parse_value

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "losskit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


# One loss of each family that has 1-D curves (sequence losses have none, tested below).
FAMILY_LOSSES = {
    "regression": "huber_loss",
    "classification": "sigmoid_focal_loss",
    "segmentation": "dice_loss",
    "boxes": "complete_box_iou_loss",
    "embedding": "arcface_loss",
}


def test_one_loss_per_family_covers_every_family_with_curves() -> None:
    from losskit.experiments.curves import CURVES

    families = {catalogue.get(name).family for name in CURVES}
    assert families == set(FAMILY_LOSSES)
    assert all(catalogue.get(n).family == f for f, n in FAMILY_LOSSES.items())


@pytest.mark.parametrize("loss", FAMILY_LOSSES.values())
def test_plot_writes_valid_png_and_svg(loss: str, tmp_path: Path, capsys) -> None:
    png, svg = tmp_path / f"{loss}.png", tmp_path / f"{loss}.svg"
    assert main(["plot", loss, "--out", str(png)]) == 0
    assert main(["plot", loss, "--out", str(svg)]) == 0
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert np.asarray(im.convert("L"), dtype=float).std() > 5
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10
    assert str(png) in capsys.readouterr().out


def test_param_values_draw_one_line_each(tmp_path: Path, capsys) -> None:
    out = tmp_path / "h.svg"
    assert main(["plot", "huber_loss", "--param", "delta=0.25,1,4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 lines: delta=0.25; delta=1; delta=4" in printed
    # Three coloured lines in each of the two panels.
    text = out.read_text()
    assert len(set(re.findall(r"stroke: (#[0-9a-f]{6})", text)) - {"#000000", "#ffffff"}) >= 3


def test_default_output_is_named_after_the_loss(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "mse_loss"]) == 0
    assert (tmp_path / "mse_loss.png").read_bytes()[:8] == PNG_SIGNATURE


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``main(args)`` in this process: status 1 and exactly one line on stderr."""
    assert main(list(args)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_unknown_loss_is_one_line_naming_the_known_ones() -> None:
    # Through the real entry point: exit status, stderr, no traceback.
    line = _one_line_error(_run("plot", "hubber_loss"))
    assert line.startswith("losskit plot: error: unknown loss 'hubber_loss'; losses with a curve:")
    for name in ("huber_loss", "sigmoid_focal_loss", "complete_box_iou_loss", "arcface_loss"):
        assert name in line


def test_loss_without_a_curve_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    line = _fails(capsys, "plot", "ctc_loss")
    assert "ctc_loss has no 1-D curve" in line and "huber_loss" in line


def test_unknown_param_is_one_line_naming_the_loss_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _fails(capsys, "plot", "huber_loss", "--param", "delt=2")
    assert line == "losskit plot: error: huber_loss has no option 'delt'; its options: delta"
    line = _fails(capsys, "plot", "sigmoid_focal_loss", "--param", "beta=2")
    assert "its options: alpha, gamma" in line


def test_bad_param_value_and_bad_output_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.png")
    line = _fails(capsys, "plot", "huber_loss", "--param", "delta=-1", "--out", out)
    assert line == "losskit plot: error: huber_loss: delta must be > 0, got -1"
    line = _fails(capsys, "plot", "huber_loss", "--out", str(tmp_path / "x.pdf"))
    assert "--out must end in .png or .svg" in line
    line = _fails(capsys, "plot", "huber_loss", "--param", "delta")
    assert "--param must look like NAME=VALUE" in line
    line = _fails(capsys, "plot", "huber_loss", "--range", "3,1", "--out", out)
    assert "--range must have LO < HI" in line
    line = _fails(capsys, "report", "--threads", "0", "--out", str(tmp_path / "r"))
    assert line == "losskit report: error: --threads must be >= 1, got 0"


def test_debug_shows_the_traceback() -> None:
    with pytest.raises(KeyError, match="unknown loss 'hubber_loss'"):
        main(["--debug", "plot", "hubber_loss"])


def test_help_lists_only_the_commands_that_exist() -> None:
    done = _run("--help")
    assert done.returncode == 0
    listed = re.findall(r"^    ([a-z]+)\s{2,}\S", done.stdout, flags=re.MULTILINE)
    assert listed == ["list", "plot", "report", "bench"]
    assert "Commands: list, plot, report, bench." in done.stdout
    assert [m.NAME for m in COMMANDS] == listed


@pytest.mark.parametrize("command", ["list", "plot", "report", "bench"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: losskit {command}")


def test_python_m_losskit_cli_also_runs() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "losskit.cli", "list", "--kind", "decoder"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0 and "ctc_greedy_decode" in done.stdout


def test_import_losskit_and_help_stay_light() -> None:
    # torch itself imports tqdm; what losskit adds must not include the [cli] extra.
    code = (
        "import sys, torch; before = set(sys.modules); "
        "import losskit, losskit.cli, losskit.experiments; losskit.cli.build_parser(); "
        "heavy = [m for m in ('matplotlib', 'sklearn', 'tqdm', 'PIL') "
        "if m in sys.modules and m not in before]; print(heavy)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_parse_values() -> None:
    assert [parse_value(v) for v in ("2", "0.5", "None", "true", "weston_watkins")] == [
        2,
        0.5,
        None,
        True,
        "weston_watkins",
    ]
    assert parse_params(["delta=0.5,2", "q=0.9"]) == {"delta": [0.5, 2], "q": [0.9]}
