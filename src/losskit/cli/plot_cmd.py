"""``losskit plot LOSS``: value and gradient of one loss along its 1-D curve (PNG or SVG)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "plot"


def register(sub: Any) -> None:
    """Register ``losskit plot`` on the sub-parser collection ``sub``."""
    p: argparse.ArgumentParser = sub.add_parser(
        NAME,
        help="plot a loss's value and gradient (PNG or SVG)",
        description=(
            "Plot the value and gradient of LOSS against the residual, margin, logit, "
            "probability, angle or box offset, one line per parameter value. Without --param "
            "the loss's default grid is drawn (for example delta=0.5,1,2 for huber_loss)."
        ),
    )
    p.add_argument("loss", metavar="LOSS", help="catalogue name, e.g. huber_loss")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V[,V...]",
        help="an option of the loss; several comma-separated values draw several lines "
        "(repeatable)",
    )
    p.add_argument(
        "--range",
        dest="x_range",
        metavar="LO,HI",
        help="the horizontal range (default: the loss's)",
    )
    p.add_argument(
        "--out", type=Path, help="output file, .png or .svg (default: LOSS.png in this folder)"
    )
    p.set_defaults(handler=run)


def parse_value(text: str) -> Any:
    """``"2"`` -> 2, ``"0.5"`` -> 0.5, ``"none"`` -> None, ``"true"`` -> True, else the text."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_params(items: list[str]) -> dict[str, list[Any]]:
    """``["delta=0.5,2", "q=0.9"]`` -> ``{"delta": [0.5, 2], "q": [0.9]}``."""
    from . import CommandError

    params: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise CommandError(f"--param must look like NAME=VALUE[,VALUE...], got {item!r}")
        params[key.strip()] = [parse_value(v) for v in values.split(",")]
    return params


def run(args: argparse.Namespace) -> int:
    """Draw the curve and write it to ``--out``."""
    from ..experiments.curves import curve_lines, get_curve
    from . import CommandError
    from ._figures import FIGURE_FORMATS, curve_figure, save

    out: Path = args.out or Path(f"{args.loss}.png")
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise CommandError(f"--out must end in .png or .svg, got {str(out)!r}")
    curve = get_curve(args.loss)
    x_range = None
    if args.x_range:
        try:
            lo, hi = (float(v) for v in args.x_range.split(","))
        except ValueError:
            raise CommandError(f"--range must be LO,HI, got {args.x_range!r}") from None
        if not lo < hi:
            raise CommandError(f"--range must have LO < HI, got {args.x_range!r}")
        x_range = (lo, hi)
    lines = curve_lines(args.loss, parse_params(args.param), x_range=x_range)
    save(curve_figure(curve, lines), out)
    print(
        f"{out} ({len(lines)} line{'s' if len(lines) != 1 else ''}: "
        f"{'; '.join(line.label for line in lines)})"
    )
    return 0
