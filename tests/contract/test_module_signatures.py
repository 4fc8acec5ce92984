"""Modules show their signatures: an explicit ``forward`` for every module of ``losskit.nn``, and
constructor defaults equal to the defaults of the functional each module delegates to."""

from __future__ import annotations

import inspect

import pytest

import losskit
from losskit import catalogue

MODULES = [e for e in catalogue.entries() if e.name.startswith("nn.")]


@pytest.mark.parametrize("entry", MODULES, ids=lambda e: e.name)
def test_forward_signature_is_explicit(entry: catalogue.Entry) -> None:
    params = list(inspect.signature(entry.obj.forward).parameters.values())[1:]
    kinds = {p.kind for p in params}
    assert inspect.Parameter.VAR_POSITIONAL not in kinds
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert params, f"{entry.name}.forward takes no arguments"


@pytest.mark.parametrize("entry", [e for e in MODULES if e.twin is not None], ids=lambda e: e.name)
def test_forward_names_the_functional_inputs(entry: catalogue.Entry) -> None:
    functional = catalogue.get(entry.twin).obj
    fn_params = inspect.signature(functional).parameters
    forward = list(inspect.signature(entry.obj.forward).parameters)[1:]
    leading = [n for n, p in fn_params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    # Parametric modules own what their functional takes after input and target.
    owned = len(leading) - len([n for n in forward if n in leading])
    assert forward[: len(leading) - owned] == leading[: len(leading) - owned]
    for name in forward:
        assert name in fn_params, f"{entry.name}.forward has {name!r}, unknown to {entry.twin}"


@pytest.mark.parametrize("entry", [e for e in MODULES if e.twin is not None], ids=lambda e: e.name)
def test_constructor_defaults_equal_functional_defaults(entry: catalogue.Entry) -> None:
    functional = catalogue.get(entry.twin).obj
    fn_params = inspect.signature(functional).parameters
    checked = 0
    for name, param in inspect.signature(entry.obj.__init__).parameters.items():
        if name == "self" or param.default is inspect.Parameter.empty or name not in fn_params:
            continue
        expected = fn_params[name].default
        if expected is inspect.Parameter.empty:
            continue
        assert param.default == expected, (
            f"{entry.name}({name}={param.default!r}) but {entry.twin}({name}={expected!r})"
        )
        checked += 1
    assert checked or "reduction" not in fn_params


def test_huber_forward_names_input_and_target() -> None:
    params = inspect.signature(losskit.nn.HuberLoss().forward).parameters
    assert list(params)[:2] == ["input", "target"]
