"""The two-step reduction: parts (weighted sum, divisor) and their finalisation, the TensorFlow-1
and Keras 3 tables kept apart, parts that add up over micro-batches."""

from __future__ import annotations

import pytest
import torch

import losskit
from losskit._core.reduction import (
    KERAS_REDUCTIONS,
    TF_REDUCTIONS,
    LossParts,
    combine_parts,
    finalize,
    keras_parts,
    loss_parts,
    reduce_keras,
    reduce_loss,
    reduce_weighted,
    tf_parts,
)

keras_loss = pytest.importorskip("keras.src.losses.loss")

SHAPES = [
    ((6,), (6,)),
    ((4, 3), (4, 1)),
    ((4, 1), (4,)),
    ((4, 3), (4, 3)),
    ((2, 3, 5), (2, 3, 1)),
    ((2, 3, 1), (2, 3)),
    ((4, 3), ()),
]


@pytest.mark.parametrize("reduction", KERAS_REDUCTIONS)
@pytest.mark.parametrize(("values_shape", "weight_shape"), SHAPES)
def test_keras_table_matches_keras(
    reduction: str, values_shape: tuple[int, ...], weight_shape: tuple[int, ...]
) -> None:
    gen = torch.Generator().manual_seed(0)
    values = torch.rand(values_shape, generator=gen, dtype=torch.float64)
    weight = torch.rand(weight_shape, generator=gen, dtype=torch.float64)
    if weight.dim() > 0:
        weight.view(-1)[0] = 0.0
    expected = keras_loss.reduce_weighted_values(values, weight, reduction=reduction)
    got = reduce_keras(values, weight, reduction)
    torch.testing.assert_close(got, torch.as_tensor(expected), check_dtype=False)
    expected_unweighted = keras_loss.reduce_weighted_values(values, None, reduction=reduction)
    got_unweighted = reduce_keras(values, None, reduction)
    torch.testing.assert_close(
        got_unweighted, torch.as_tensor(expected_unweighted), check_dtype=False
    )


def test_no_reduction_name_means_two_things_silently() -> None:
    losses = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    weights = torch.tensor([[2.0], [1.0]])
    # "mean": TensorFlow-1 divides by the summed broadcast weights, Keras 3 by the count.
    assert reduce_weighted(losses, weights, "mean").item() == pytest.approx(13.0 / 6.0)
    assert reduce_keras(losses, weights, "mean").item() == pytest.approx(13.0 / 4.0)
    # Keras' mean_with_sample_weight sums the weights as given (not broadcast).
    got = reduce_keras(losses, weights, "mean_with_sample_weight").item()
    assert got == pytest.approx(13.0 / 3.0)
    assert "sum_by_nonzero_weights" in TF_REDUCTIONS
    assert "sum_by_nonzero_weights" not in KERAS_REDUCTIONS
    assert "mean_with_sample_weight" not in TF_REDUCTIONS
    with pytest.raises(ValueError, match="reduction must be one of"):
        reduce_keras(losses, None, "sum_by_nonzero_weights")
    with pytest.raises(ValueError, match="reduction must be one of"):
        reduce_weighted(losses, 1.0, "mean_with_sample_weight")


@pytest.mark.parametrize(
    "reduction", ["sum", "mean", "sum_over_batch_size", "sum_by_nonzero_weights"]
)
def test_tf_parts_finalise_to_reduce_weighted(reduction: str) -> None:
    losses = torch.arange(12.0).reshape(3, 4)
    weights = torch.tensor([[1.0], [0.0], [3.0]])
    got = finalize(tf_parts(losses, weights, reduction))
    torch.testing.assert_close(got, reduce_weighted(losses, weights, reduction))


def test_native_parts() -> None:
    loss = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    assert loss_parts(loss, "sum") == LossParts(torch.tensor(12.0), 1.0)
    total, divisor = loss_parts(loss, "mean")
    assert (total.item(), divisor) == (12.0, 4.0)
    total, divisor = loss_parts(loss, "batchmean", allowed=("batchmean",))
    assert (total.item(), divisor) == (12.0, 2.0)
    total, divisor = loss_parts(loss, "mean", weight=torch.tensor([1.0, 0.0]))
    assert (total.item(), divisor) == (4.0, 4.0)
    with pytest.raises(ValueError, match="'none' has no parts"):
        loss_parts(loss, "none")


def test_parts_add_up_over_uneven_micro_batches() -> None:
    """The mean over micro-batches of unequal size equals the mean over their union."""
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(11, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (11,), generator=gen)
    labels[[1, 4, 9]] = -100
    whole = losskit.sparse_softmax_cross_entropy(logits, labels)
    chunks = [(0, 2), (2, 3), (3, 11)]
    parts = []
    for lo, hi in chunks:
        loss = losskit.sparse_softmax_cross_entropy(logits[lo:hi], labels[lo:hi], reduction="none")
        counted = (labels[lo:hi] != -100).sum()
        parts.append(loss_parts(loss, "mean", divisor=counted))
    torch.testing.assert_close(finalize(combine_parts(parts)), whole)
    naive = torch.stack(
        [losskit.sparse_softmax_cross_entropy(logits[lo:hi], labels[lo:hi]) for lo, hi in chunks]
    ).mean()
    assert not torch.allclose(naive, whole)


def test_reduce_loss_is_finalised_parts() -> None:
    loss = torch.rand(3, 4, requires_grad=True)
    w = torch.rand(3, 1)
    for reduction in ("mean", "sum"):
        torch.testing.assert_close(
            reduce_loss(loss, reduction, weight=w), finalize(loss_parts(loss, reduction, weight=w))
        )
    parts = keras_parts(loss, w, "mean_with_sample_weight")
    torch.testing.assert_close(parts.divisor, w.sum())


def test_combine_parts_needs_parts() -> None:
    with pytest.raises(ValueError, match="at least one"):
        combine_parts([])
