"""``losskit list``: every catalogued callable with its kind, family, module twin and reference."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import catalogue

NAME = "list"


def register(sub: Any) -> None:
    """Register ``losskit list`` on the sub-parser collection ``sub``."""
    p: argparse.ArgumentParser = sub.add_parser(
        NAME,
        help="list what losskit provides (losses, ops, decoders, ...)",
        description="Every catalogued callable with its kind, family, module twin and summary.",
    )
    p.add_argument("--kind", choices=catalogue.KINDS, help="only this kind")
    p.add_argument("--family", choices=catalogue.FAMILIES, help="only this family")
    p.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output: every entry, module twins included",
    )
    p.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print the catalogue as a table grouped by family (or every entry as JSON)."""
    found = catalogue.entries(kind=args.kind, family=args.family)
    if args.json:
        print(json.dumps([e.as_dict() for e in found], indent=2))
        return 0
    # The table shows a function and its module twin on one row.
    rows = [e for e in found if not (e.name.startswith("nn.") and e.twin is not None)]
    width = max((len(e.name) for e in rows), default=4)
    twin_width = max((len(e.twin or "") for e in rows), default=4)
    current = None
    for e in rows:
        if e.family != current:
            current = e.family
            print(f"\n{current}")
        print(f"  {e.name:<{width}}  {e.kind:<9}  {e.twin or '':<{twin_width}}  {e.summary}")
    counts = {k: sum(e.kind == k for e in found) for k in catalogue.KINDS}
    shown = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    print(f"\n{len(found)} entries ({shown}; module twins counted)")
    return 0
