"""The catalogue: every public callable has exactly one entry, every entry a kind, a family, a
summary, a reference and a test spec."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import losskit
from losskit import catalogue
from specs import all_specs

ENTRIES = catalogue.entries()
NAMES = {e.name for e in ENTRIES}


@pytest.mark.parametrize("name", losskit.functional.__all__)
def test_every_public_function_has_an_entry(name: str) -> None:
    assert name in NAMES, f"losskit.functional.{name} has no catalogue entry"
    assert catalogue.get(name).obj is getattr(losskit.functional, name)


@pytest.mark.parametrize("name", losskit.nn.__all__)
def test_every_public_module_has_an_entry(name: str) -> None:
    assert f"nn.{name}" in NAMES, f"losskit.nn.{name} has no catalogue entry"
    assert catalogue.get(f"nn.{name}").obj is getattr(losskit.nn, name)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_entry_is_complete(entry: catalogue.Entry) -> None:
    assert entry.kind in catalogue.KINDS
    assert entry.family in catalogue.FAMILIES
    assert entry.summary, f"{entry.name} has no docstring summary"
    assert entry.reference
    if entry.twin is not None:
        twin = catalogue.get(entry.twin)
        assert twin.twin == entry.name
        assert (twin.kind, twin.family) == (entry.kind, entry.family)


LOSS_SPECS = {s.name for s in all_specs()}


# Native losses only (names without a dot): the module twins ("nn.") share their functional's
# spec, and the dialects ("compat.") and metrics have their own completeness and contract tests
# (tests/compat/test_dialect_contract.py).
@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if e.kind == "loss" and "." not in e.name],
    ids=lambda e: e.name,
)
def test_every_loss_entry_has_a_test_spec(entry: catalogue.Entry) -> None:
    assert entry.name in LOSS_SPECS, f"{entry.name} has no contract spec"
    spec = next(s for s in all_specs() if s.name == entry.name)
    assert spec.functional is entry.obj
    assert spec.family == entry.family
    if entry.twin is not None:
        assert spec.module is catalogue.get(entry.twin).obj


def test_unknown_name_lists_known() -> None:
    with pytest.raises(KeyError, match="unknown name 'nope'; known: "):
        catalogue.get("nope")


def test_duplicate_or_bad_entries_are_rejected() -> None:
    first = catalogue.get("mse_loss")
    catalogue.add(first)  # the same entry again is harmless
    bad = catalogue.Entry("mse_loss", "op", "regression", first.obj, "x")
    with pytest.raises(KeyError, match="catalogued twice"):
        catalogue.add(bad)
    with pytest.raises(KeyError, match="unknown kind"):
        catalogue.add(catalogue.Entry("zz", "widget", "regression", first.obj, "x"))


def test_list_json_gives_every_entry_with_its_kind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "losskit.cli", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} == NAMES
    kinds = {r["name"]: r["kind"] for r in rows}
    assert kinds["nms"] == "op" and kinds["ctc_beam_search_decode"] == "decoder"
    assert kinds["nn.HuberLoss"] == "loss" and kinds["hinge_loss"] == "loss"
