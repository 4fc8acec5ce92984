"""The ``losskit`` command line (also ``python -m losskit``).

Each sub-command is one module of this package with a ``register(sub)`` function that adds its
parser (and sets ``handler``); :data:`COMMANDS` lists them, so a new sub-command is one module
plus one entry. The command modules import only the standard library and :mod:`losskit` at
import time; matplotlib, scikit-learn and tqdm (the ``[cli]`` extra) are imported when a command
runs, so ``losskit --help`` and ``import losskit`` stay light.

A failure prints one line, ``losskit <command>: error: <message>``, on stderr and exits with
status 1 (2 for a malformed command line, as argparse does); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from . import bench_cmd, list_cmd, plot_cmd, report_cmd

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

COMMANDS: tuple[ModuleType, ...] = (list_cmd, plot_cmd, report_cmd, bench_cmd)
"""The sub-command modules, in the order ``--help`` lists them."""


class CommandError(Exception):
    """A user-facing failure: printed as one line, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="losskit",
        description="losskit: loss functions for PyTorch. Commands: "
        + ", ".join(m.NAME for m in COMMANDS)
        + ".",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when a command fails"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def _message(exc: BaseException) -> str:
    # KeyError's str() is the repr of its argument; show the message itself.
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join(str(text).split()) or type(exc).__name__
    return (
        text
        if isinstance(exc, CommandError | ValueError | KeyError)
        else (f"{type(exc).__name__}: {text}")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``losskit`` script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except KeyboardInterrupt:
        print(f"losskit {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"losskit {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
