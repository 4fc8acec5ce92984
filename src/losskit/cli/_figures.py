"""Matplotlib figures of the command line (imported only when a command draws)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..experiments.curves import Curve, CurveLine

FIGURE_FORMATS: tuple[str, ...] = ("png", "svg")


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("drawing needs matplotlib: pip install 'losskit[cli]'") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "losskit", "figure.max_open_warning": 0})
    return plt


def save(fig: Any, path: Path, *, dpi: int = 80) -> Path:
    """Write ``fig`` to ``path`` (PNG or SVG by its suffix) and close it."""
    plt = pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def curve_figure(
    curve: Curve, lines: Sequence[CurveLine], *, size: tuple[float, float] = (8, 3.2)
) -> Any:
    """Value (left) and gradient (right) of one loss against its sweep, a line per setting."""
    plt = pyplot()
    # Fixed margins instead of a layout engine: half the drawing time, which counts when the
    # report draws every loss.
    fig, (ax_v, ax_g) = plt.subplots(1, 2, figsize=size)
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.19, top=0.89, wspace=0.18)
    for line in lines:
        ax_v.plot(line.x.numpy(), line.value.numpy(), label=line.label, lw=1.6)
        ax_g.plot(line.x.numpy(), line.grad.numpy(), label=line.label, lw=1.6)
    ax_v.set_title(f"{curve.name}: value", fontsize=10)
    ax_g.set_title(f"{curve.name}: gradient", fontsize=10)
    for ax in (ax_v, ax_g):
        ax.set_xlabel(curve.axis, fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.axhline(0, color="0.6", lw=0.6)
    if len(lines) > 1:
        ax_v.legend(fontsize=7)
    return fig
