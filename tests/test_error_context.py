"""Errors in the caller's language: one context in ``_core/checks.py`` renames the function and
its arguments in every error the native core raises."""

from __future__ import annotations

import pytest
import torch

import losskit
from losskit._core.checks import current_error_context, error_context, fail, speaks_as

KERAS_ARGS = {"input": "y_pred", "target": "y_true"}


def test_shape_error_speaks_the_dialect() -> None:
    with (
        error_context("mean_squared_error", KERAS_ARGS),
        pytest.raises(ValueError) as info,
    ):
        losskit.mse_loss(torch.zeros(3, 4), torch.zeros(3))
    message = str(info.value)
    assert message.startswith("mean_squared_error: y_pred and y_true must have the same shape")
    assert "mse_loss" not in message
    assert "input" not in message and "target" not in message


def test_reduction_and_weight_errors_speak_the_dialect() -> None:
    with error_context("huber_loss", {"weight": "weights"}), pytest.raises(ValueError) as info:
        losskit.huber_loss(torch.zeros(3), torch.zeros(3), weight=torch.ones(5))
    assert str(info.value).startswith("huber_loss: weights of shape (5,) does not broadcast")
    with error_context("keras_mse"), pytest.raises(ValueError, match=r"^keras_mse: reduction"):
        losskit.mse_loss(torch.zeros(3), torch.zeros(3), reduction="avg")


def test_data_dependent_errors_speak_the_dialect() -> None:
    args = {"input": "logits", "target": "labels"}
    with (
        error_context("sparse_softmax_cross_entropy_with_logits", args),
        pytest.raises(ValueError) as info,
    ):
        losskit.sparse_softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 7]))
    message = str(info.value)
    assert message.startswith("sparse_softmax_cross_entropy_with_logits: labels ")
    assert "target" not in message


def test_renaming_is_simultaneous_and_whole_word() -> None:
    with error_context("f", {"input": "target", "target": "input"}):
        err = fail("native", "input and target differ; target_lengths and input.shape stay")
    assert str(err) == "f: target and input differ; target_lengths and target.shape stay"


def test_context_is_scoped_and_outermost_wins() -> None:
    assert current_error_context() is None
    with error_context("outer"):
        with error_context("inner"):
            assert str(fail("native", "x bad")) == "outer: x bad"
        assert current_error_context() is not None
    assert current_error_context() is None
    assert str(fail("native", "x bad")) == "native: x bad"


def test_decorator_keeps_metadata_and_restores_after_error() -> None:
    @speaks_as("absolute_difference", input="predictions", target="labels")
    def absolute_difference(labels: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
        """TF-1 style absolute difference."""
        return losskit.mae_loss(predictions, labels)

    assert absolute_difference.__name__ == "absolute_difference"
    assert absolute_difference.__doc__ == "TF-1 style absolute difference."
    with pytest.raises(ValueError, match=r"^absolute_difference: predictions and labels must"):
        absolute_difference(torch.zeros(3), torch.zeros(2))
    assert current_error_context() is None
    assert absolute_difference(torch.zeros(2), torch.ones(2)).item() == 1.0
