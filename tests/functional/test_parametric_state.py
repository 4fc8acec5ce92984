"""Parametric losses save their hyperparameters with the state_dict and refuse a checkpoint of a
module built with other hyperparameters."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import torch
from torch import nn

import losskit
from losskit._core.parametric import ParametricLoss

Builder = Callable[..., nn.Module]

CASES: list[tuple[str, Builder, dict, str, object]] = [
    ("LargeMarginSoftmaxLoss", losskit.nn.LargeMarginSoftmaxLoss, {}, "margin", 2),
    ("LargeMarginSoftmaxLoss", losskit.nn.LargeMarginSoftmaxLoss, {}, "power", 10.0),
    ("SphereFaceLoss", losskit.nn.SphereFaceLoss, {}, "lambda_min", 2.0),
    ("CosFaceLoss", losskit.nn.CosFaceLoss, {}, "scale", 16.0),
    ("ArcFaceLoss", losskit.nn.ArcFaceLoss, {}, "margin", 0.3),
    ("ArcFaceLoss", losskit.nn.ArcFaceLoss, {}, "reduction", "sum"),
    ("CenterLoss", losskit.nn.CenterLoss, {}, "alpha", 0.1),
]


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, generator=gen), torch.randint(0, 3, (6,), generator=gen)


@pytest.mark.parametrize(("name", "cls", "kw", "key", "other"), CASES)
def test_round_trip_and_mismatch(
    name: str, cls: Builder, kw: dict, key: str, other: object
) -> None:
    torch.manual_seed(1)
    a = cls(3, 4, **kw) if name == "CenterLoss" else cls(4, 3, **kw)
    x, y = _inputs()
    a.train()
    a(x, y)  # a training step moves centres / the annealing iteration
    state = a.state_dict()
    assert isinstance(a, ParametricLoss)
    assert "_extra_state" in state and state["_extra_state"][key] != other
    torch.manual_seed(2)
    b = cls(3, 4, **kw) if name == "CenterLoss" else cls(4, 3, **kw)
    b.load_state_dict(state)
    a.eval()
    b.eval()
    torch.testing.assert_close(b(x, y), a(x, y))
    for k, v in a.state_dict().items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(b.state_dict()[k], v)
    sizes = (3, 4) if name == "CenterLoss" else (4, 3)
    c = cls(*sizes, **{**kw, key: other})
    with pytest.raises(ValueError, match=rf"^{name}: state_dict hyperparameter {key} is "):
        c.load_state_dict(state)


@pytest.mark.parametrize("cls", [losskit.nn.ArcFaceLoss, losskit.nn.CenterLoss])
def test_other_sizes_are_an_error(cls: Builder) -> None:
    state = cls(4, 3).state_dict()
    with pytest.raises((ValueError, RuntimeError)):
        cls(5, 3).load_state_dict(state)


def test_weights_only_torch_load_round_trip() -> None:
    a = losskit.nn.LargeMarginSoftmaxLoss(4, 3, margin=3)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    b = losskit.nn.LargeMarginSoftmaxLoss(4, 3, margin=3)
    b.load_state_dict(state)
    assert torch.equal(b.weight, a.weight)
    assert state["_extra_state"]["margin"] == 3


def test_malformed_extra_state() -> None:
    a = losskit.nn.CenterLoss(3, 2)
    state = a.state_dict()
    state["_extra_state"] = {"num_classes": 3}
    with pytest.raises(ValueError, match="missing from the checkpoint"):
        a.load_state_dict(state)
    state["_extra_state"] = [1, 2]
    with pytest.raises(ValueError, match="must be a dict"):
        a.load_state_dict(state)
