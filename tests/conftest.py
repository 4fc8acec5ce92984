"""Test configuration shared by the whole suite."""

from __future__ import annotations

import os

# Keras 3 reads its backend once, at first import: the reference tests use the torch backend.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _validation_on() -> None:
    """Every test starts with data-dependent validation on (the default)."""
    import losskit

    losskit.set_validation(True)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)
