"""``losskit bench``: time and memory of losskit's losses against other libraries."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "bench"


def register(sub: Any) -> None:
    """Add the ``bench`` sub-command to the command line's sub-parsers."""
    add_parser(sub)


def add_parser(subparsers: Any) -> None:
    """Register ``losskit bench [--quick] [--only FAMILY] [--json FILE]`` on ``subparsers``."""
    from ..bench.runner import add_arguments

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="benchmark losskit against other libraries (time, memory, ratios)",
        description="Forward+backward time and extra memory of every loss against the peers "
        "that have it, as ratios (losskit / other, lower is better).",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with the parsed options: print the ratio table, write ``--json``."""
    from ..bench.runner import run_from_args

    return run_from_args(args)
