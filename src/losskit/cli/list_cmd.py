"""``losskit list``: every registered loss with its family, module and reference."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._core.registry import FAMILIES, all_specs


def add_list_command(sub: Any) -> None:
    """Register ``losskit list`` on the sub-parser collection ``sub``."""
    p: argparse.ArgumentParser = sub.add_parser("list", help="list the losses losskit provides")
    p.add_argument("--family", choices=FAMILIES, help="only this family")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print the registry as a table (or JSON)."""
    specs = all_specs(args.family)
    rows = [
        {
            "name": s.name,
            "family": s.family,
            "module": s.module.__name__ if s.module is not None else "",
            "reference": s.reference_name,
            "summary": s.summary,
        }
        for s in specs
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    mod_width = max((len(r["module"]) for r in rows), default=6)
    current = None
    for r in rows:
        if r["family"] != current:
            current = r["family"]
            print(f"\n{current}")
        print(f"  {r['name']:<{width}}  {r['module']:<{mod_width}}  {r['summary']}")
    print(f"\n{len(rows)} losses")
    return 0
