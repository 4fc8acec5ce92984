"""The public surface of ``losskit.distributed``: catalogued, and local without a group."""

from __future__ import annotations

import inspect

import pytest
import torch

import losskit
from losskit import catalogue, distributed


@pytest.mark.parametrize("name", distributed.__all__)
def test_every_public_name_has_an_entry(name: str) -> None:
    entry = catalogue.get(f"distributed.{name}")
    assert entry.obj is getattr(distributed, name)


GROUPED = [
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
    "balanced_sigmoid_cross_entropy",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "center_loss",
    "center_update_statistics",
]


@pytest.mark.parametrize("name", GROUPED)
def test_process_group_is_a_keyword_defaulting_to_local(name: str) -> None:
    param = inspect.signature(getattr(losskit, name)).parameters["process_group"]
    assert param.kind is inspect.Parameter.KEYWORD_ONLY
    assert param.default is None


def test_all_reduce_without_group_is_the_identity() -> None:
    x = torch.randn(3, requires_grad=True)
    assert distributed.all_reduce_sum(x, None) is x
    parts = distributed.LossParts(x.sum(), 3.0)
    assert distributed.global_parts(parts, None) is parts
