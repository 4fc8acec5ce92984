"""``losskit report --quick`` end to end: the page, its figures, its numbers, a real browser."""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from losskit.experiments.survey import outlier_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(html.parser.HTMLParser):
    """Collects image sources, element text by id, and every external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.by_id: dict[str, str] = {}
        self.sections: list[str] = []
        self.links: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a["src"] or "")
        if tag == "section":
            self.sections.append(a.get("id") or "")
        for key in ("src", "href"):
            if a.get(key) and not (a[key] or "").startswith("#"):
                self.links.append(a[key] or "")
        self._open.append(a.get("id"))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self._open:
            if ident:
                self.by_id[ident] = self.by_id.get(ident, "") + data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the console entry point (``python -m losskit``) once for the module's tests."""
    out = tmp_path_factory.mktemp("report")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "losskit", "report", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def _page(out: Path) -> _Page:
    page = _Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    return page


def test_terminal_summary_names_every_section_and_the_page(report: tuple[Path, str]) -> None:
    out, stdout = report
    lines = stdout.strip().splitlines()
    assert lines[-1] == f"page: {(out / 'index.html').resolve()}"
    for n in range(1, 9):
        assert any(line.startswith(f"{n} ") for line in lines), (n, stdout)


def test_every_figure_is_referenced_exists_and_is_a_valid_image(report: tuple[Path, str]) -> None:
    out, _ = report
    page = _page(out)
    on_disk = sorted(p.relative_to(out).as_posix() for p in (out / "figures").iterdir())
    assert sorted(page.images) == on_disk
    assert len(on_disk) >= 40  # 35 loss curves + 5 experiment figures
    for rel in on_disk:
        path = out / rel
        assert path.read_bytes()[:8] == PNG_SIGNATURE, rel
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("L"), dtype=float)
            assert im.size[0] > 100 and im.size[1] > 100, rel
            assert pixels.std() > 5, f"{rel} is blank"


def test_page_is_self_contained(report: tuple[Path, str]) -> None:
    out, _ = report
    text = (out / "index.html").read_text(encoding="utf-8")
    page = _page(out)
    assert all(link.startswith("figures/") for link in page.links), page.links
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert page.sections == [
        "gallery",
        "tables",
        "outliers",
        "imbalance",
        "diou",
        "embedding",
        "ctc",
        "which",
    ]


def test_section_2_numbers_are_the_survey_tables(report: tuple[Path, str]) -> None:
    page = _page(report[0])
    # Recomputed from the survey's errors with numpy.
    for i, errors in ((1, [0, 1, -2, -0.5, 1.5]), (2, [0, 1, 1, -2, 15])):
        e = np.array(errors, dtype=float)
        assert page.by_id[f"table{i}-mae"] == f"{np.abs(e).mean():.2f}"
        assert page.by_id[f"table{i}-rmse"] == f"{np.sqrt((e**2).mean()):.2f}"
    assert (page.by_id["table1-mae"], page.by_id["table1-rmse"]) == ("1.00", "1.22")
    assert (page.by_id["table2-mae"], page.by_id["table2-rmse"]) == ("3.80", "6.80")
    text = (report[0] / "index.html").read_text(encoding="utf-8")
    assert "6.80 is right" in text


def test_section_3_mae_lands_on_the_median_and_mse_on_the_mean(
    report: tuple[Path, str],
) -> None:
    page = _page(report[0])
    _, y = outlier_data()
    median, mean = float(np.median(y.numpy())), float(np.mean(y.numpy()))
    assert median == 150.0
    assert page.by_id["outlier-median"] == "150.00"
    assert page.by_id["outlier-mean"] == f"{mean:.2f}"
    assert page.by_id["outlier-mae"] == f"{median:.2f}"
    assert page.by_id["outlier-mse"] == f"{mean:.2f}"
    huber = float(page.by_id["outlier-huber"])
    assert mean < huber < median


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_browser() is None, reason="no chromium or chrome browser installed")
def test_page_renders_in_a_headless_browser(report: tuple[Path, str], tmp_path: Path) -> None:
    """A full-page screenshot (a window taller than the page) is neither blank nor missing
    its figures."""
    out, _ = report
    shot = tmp_path / "page.png"
    browser = _browser()
    assert browser is not None
    height = 20000
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--virtual-time-budget=20000",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size=1280,{height}",
            f"--screenshot={shot}",
            (out / "index.html").resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=float)
    assert rgb.shape[:2] == (height, 1280)
    gray = rgb.mean(axis=2)
    assert gray.std() > 20, "blank screenshot"
    ink = np.where((gray < 200).any(axis=1))[0]
    # The whole page fits in the window (a full-page capture) and is long: text and figures
    # of eight sections.
    assert 4000 < ink.max() < height - 200, ink.max()
    # The figures rendered: coloured (saturated) pixels from the plots cover a real area.
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    assert (saturation > 80).mean() > 0.002
