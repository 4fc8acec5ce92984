"""Hinge losses against TensorFlow (stored golden values), Keras 3, torch.nn.functional and
float64 textbook loops; properties; label conventions; numerics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given
from hypothesis import strategies as st

import losskit
from losskit import hinge_loss, multiclass_hinge_loss, squared_hinge_loss

DATA = Path(__file__).resolve().parents[1] / "data" / "hinge" / "tf_hinge_loss.json"
BINARY = [hinge_loss, squared_hinge_loss]


def _cs_loop(x: torch.Tensor, y: torch.Tensor, margin: float = 1.0, p: int = 1) -> torch.Tensor:
    """Crammer–Singer, one sample at a time, straight from the definition (float64)."""
    out = []
    for n in range(x.shape[0]):
        rival = max(float(x[n, j]) for j in range(x.shape[1]) if j != int(y[n]))
        out.append(max(0.0, margin + rival - float(x[n, int(y[n])])) ** p)
    return torch.tensor(out, dtype=torch.float64)


def _ww_loop(x: torch.Tensor, y: torch.Tensor, margin: float = 1.0, p: int = 1) -> torch.Tensor:
    """Weston–Watkins, one sample and one rival at a time (float64)."""
    out = []
    for n in range(x.shape[0]):
        yn = int(y[n])
        terms = [
            max(0.0, margin + float(x[n, j]) - float(x[n, yn])) ** p
            for j in range(x.shape[1])
            if j != yn
        ]
        out.append(sum(terms))
    return torch.tensor(out, dtype=torch.float64)


# --------------------------------------------------------------------------------------------
# TensorFlow: tf.compat.v1.losses.hinge_loss (golden values from scripts/golden/hinge.py)


def _tf_cases() -> list[dict]:
    return json.loads(DATA.read_text())["cases"]


@pytest.mark.parametrize("case", _tf_cases(), ids=lambda c: c["name"])
def test_tensorflow_hinge_loss(case: dict) -> None:
    x = torch.tensor(case["logits"], dtype=torch.float64)
    y = torch.tensor(case["labels"], dtype=torch.float64)
    soft = bool(((y != 0) & (y != 1)).any())
    # TensorFlow always applies 2y - 1: labels="01" is its convention; soft labels need
    # validation off (they are not hard labels).
    opts = {"labels": "01", "validate": False} if soft else {}
    expected = case["loss"]
    torch.testing.assert_close(
        hinge_loss(x, y, reduction="none", **opts), torch.tensor(expected["none"], dtype=x.dtype)
    )
    torch.testing.assert_close(
        hinge_loss(x, y, reduction="sum", **opts), torch.tensor(expected["sum"], dtype=x.dtype)
    )
    # With unit weights, TF's default SUM_BY_NONZERO_WEIGHTS is the mean over elements.
    torch.testing.assert_close(
        hinge_loss(x, y, **opts),
        torch.tensor(expected["sum_by_nonzero_weights"], dtype=x.dtype),
    )


def test_tensorflow_hand_derived() -> None:
    # TF: labels {0, 1} -> 2y - 1; loss relu(1 - t x). x = 0.25 with y = 0 -> relu(1 + 0.25).
    x = torch.tensor([0.25, 0.25, -3.0, 1.0])
    y = torch.tensor([0.0, 1.0, 0.0, 1.0])
    expected = torch.tensor([1.25, 0.75, 0.0, 0.0])
    torch.testing.assert_close(hinge_loss(x, y, reduction="none"), expected)
    torch.testing.assert_close(hinge_loss(x, y, labels="01", reduction="none"), expected)
    torch.testing.assert_close(
        squared_hinge_loss(x, y, reduction="none"), torch.tensor([1.5625, 0.5625, 0.0, 0.0])
    )
    torch.testing.assert_close(
        hinge_loss(x, y, margin=2.0, reduction="none"), torch.tensor([2.25, 1.75, 0.0, 1.0])
    )


# --------------------------------------------------------------------------------------------
# Keras 3 (torch backend): hinge, squared_hinge, categorical_hinge


@pytest.fixture(scope="module")
def keras_losses():  # type: ignore[no-untyped-def]
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    return keras.losses


@pytest.mark.parametrize("convention", ["01", "pm1"])
@pytest.mark.parametrize(
    ("ours", "theirs"), [(hinge_loss, "hinge"), (squared_hinge_loss, "squared_hinge")]
)
def test_keras_binary(keras_losses, ours, theirs, convention, generator) -> None:  # type: ignore[no-untyped-def]
    # Keras computes in its floatx, float32
    x = 2 * torch.randn(6, 9, generator=generator)
    y = torch.randint(0, 2, (6, 9), generator=generator).float()
    if convention == "pm1":
        y = 2 * y - 1
    expected = getattr(keras_losses, theirs)(y, x)  # Keras: mean over the last axis
    got = ours(x, y, reduction="none").mean(-1)
    torch.testing.assert_close(got, torch.as_tensor(expected))


@pytest.mark.parametrize(
    ("ours", "theirs"), [(hinge_loss, "hinge"), (squared_hinge_loss, "squared_hinge")]
)
def test_keras_binary_gradients(keras_losses, ours, theirs, generator) -> None:  # type: ignore[no-untyped-def]
    x = (2 * torch.randn(5, 8, generator=generator)).requires_grad_()
    y = torch.randint(0, 2, (5, 8), generator=generator).float()
    keras_value = getattr(keras_losses, theirs)(y, x).mean()  # mean over samples of row means
    (g_keras,) = torch.autograd.grad(keras_value, x)
    (g_ours,) = torch.autograd.grad(ours(x, y), x)  # "mean" over every element: the same mean
    torch.testing.assert_close(g_ours, g_keras)


def test_keras_categorical_hinge_nonnegative_scores(keras_losses, generator) -> None:  # type: ignore[no-untyped-def]
    # With non-negative scores (probabilities, say) Keras' categorical_hinge is Crammer-Singer.
    x = torch.softmax(3 * torch.randn(8, 5, generator=generator), 1)
    y = torch.randint(0, 5, (8,), generator=generator)
    expected = keras_losses.categorical_hinge(tF.one_hot(y, 5).to(x.dtype), x)
    got = multiclass_hinge_loss(x, y, reduction="none")
    torch.testing.assert_close(got, torch.as_tensor(expected))


def test_keras_categorical_hinge_negative_rivals(keras_losses) -> None:  # type: ignore[no-untyped-def]
    # Keras zeroes the target score instead of excluding it, so with every rival < 0 it takes
    # max(0, rival): larger than Crammer-Singer, as documented.
    x = torch.tensor([[0.5, -2.0, -3.0], [-1.0, -0.5, 0.2]])
    y = torch.tensor([0, 1])
    keras_value = torch.as_tensor(keras_losses.categorical_hinge(tF.one_hot(y, 3).float(), x))
    torch.testing.assert_close(keras_value, torch.tensor([0.5, 1.7]))
    ours = multiclass_hinge_loss(x, y, reduction="none")
    torch.testing.assert_close(ours, torch.tensor([0.0, 1.7]))
    assert bool((keras_value >= ours).all()) and float(keras_value[0] - ours[0]) == 0.5


# --------------------------------------------------------------------------------------------
# torch.nn.functional.multi_margin_loss: Weston-Watkins / C


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multi_margin_loss_parity(p, margin, weighted, reduction, generator) -> None:  # type: ignore[no-untyped-def]
    c = 6
    x = torch.randn(10, c, generator=generator, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, c, (10,), generator=generator)
    w = torch.rand(c, generator=generator, dtype=torch.float64) + 0.5 if weighted else None
    theirs = tF.multi_margin_loss(x, y, p=p, margin=margin, weight=w, reduction=reduction)
    ours = (
        multiclass_hinge_loss(
            x, y, variant="weston_watkins", p=p, margin=margin, weight=w, reduction=reduction
        )
        / c
    )
    torch.testing.assert_close(ours, theirs)
    g_theirs = torch.autograd.grad(theirs.sum(), x)[0]
    g_ours = torch.autograd.grad(ours.sum(), x)[0]
    torch.testing.assert_close(g_ours, g_theirs)


def test_multi_margin_loss_one_dimensional() -> None:
    x = torch.tensor([0.1, 0.2, 0.4, 0.8])
    y = torch.tensor(3)
    # torch's documented example: 0.3250 (= WW / 4)
    torch.testing.assert_close(tF.multi_margin_loss(x[None], y[None]), torch.tensor(0.3250))
    ww = multiclass_hinge_loss(x, y, dim=0, variant="weston_watkins", reduction="none")
    assert ww.shape == ()
    torch.testing.assert_close(ww, torch.tensor(1.3))
    torch.testing.assert_close(multiclass_hinge_loss(x, y, dim=0), torch.tensor(0.6))


# --------------------------------------------------------------------------------------------
# Textbook loops


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.0, 2.5])
def test_multiclass_against_loops(p, margin, generator) -> None:  # type: ignore[no-untyped-def]
    x = torch.randn(12, 4, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 4, (12,), generator=generator)
    torch.testing.assert_close(
        multiclass_hinge_loss(x, y, margin=margin, p=p, reduction="none"), _cs_loop(x, y, margin, p)
    )
    torch.testing.assert_close(
        multiclass_hinge_loss(x, y, margin=margin, p=p, variant="weston_watkins", reduction="none"),
        _ww_loop(x, y, margin, p),
    )


def test_binary_weight_broadcasts_per_sample() -> None:
    x = torch.tensor([[0.5, -0.5], [2.0, 0.0]])
    y = torch.tensor([[1, 0], [1, 1]])
    w = torch.tensor([[2.0], [0.5]])
    per_element = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    torch.testing.assert_close(hinge_loss(x, y, weight=w, reduction="none"), per_element * w)
    torch.testing.assert_close(hinge_loss(x, y, weight=w), (per_element * w).sum() / 4)
    with pytest.raises(ValueError, match=r"^hinge_loss: weight of shape \(3,\) does not broadcast"):
        hinge_loss(x, y, weight=torch.ones(3))


def test_multiclass_class_weight_and_mean_divisor() -> None:
    x = torch.tensor([[2.0, 1.5, -1.0], [0.0, 0.3, 0.2]], dtype=torch.float64)
    y = torch.tensor([0, 2])
    w = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    unweighted = _cs_loop(x, y)  # [0.5, 1.1]
    torch.testing.assert_close(
        multiclass_hinge_loss(x, y, weight=w, reduction="none"), unweighted * torch.tensor([2, 0.5])
    )
    # "mean" divides by the number of samples, as multi_margin_loss (not by the summed weights)
    torch.testing.assert_close(
        multiclass_hinge_loss(x, y, weight=w), (unweighted * torch.tensor([2, 0.5])).sum() / 2
    )


@pytest.mark.parametrize("variant", ["crammer_singer", "weston_watkins"])
def test_multiclass_spatial_and_dim(variant, generator) -> None:  # type: ignore[no-untyped-def]
    x = torch.randn(3, 4, 5, 2, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 4, (3, 5, 2), generator=generator)
    loop = _cs_loop if variant == "crammer_singer" else _ww_loop
    flat_x = x.movedim(1, -1).reshape(-1, 4)
    expected = loop(flat_x, y.reshape(-1)).reshape(3, 5, 2)
    got = multiclass_hinge_loss(x, y, variant=variant, reduction="none")
    torch.testing.assert_close(got, expected)
    # classes last, addressed with a negative dim
    got_last = multiclass_hinge_loss(x.movedim(1, -1), y, dim=-1, variant=variant, reduction="none")
    torch.testing.assert_close(got_last, expected)


def test_multiclass_single_class_is_zero() -> None:
    x = torch.randn(4, 1, requires_grad=True)
    loss = multiclass_hinge_loss(x, torch.zeros(4, dtype=torch.long), reduction="sum")
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert x.grad is not None and torch.equal(x.grad, torch.zeros(4, 1))


# --------------------------------------------------------------------------------------------
# Properties


_score = st.floats(-50, 50, allow_nan=False, width=64)


@given(
    st.lists(st.tuples(_score, st.sampled_from([0, 1])), min_size=1, max_size=20),
    st.floats(0.0, 5.0),
)
def test_hinge_properties(pairs: list[tuple[float, int]], margin: float) -> None:
    x = torch.tensor([a for a, _ in pairs], dtype=torch.float64)
    y01 = torch.tensor([b for _, b in pairs], dtype=torch.float64)
    ypm = 2 * y01 - 1
    h = hinge_loss(x, y01, margin=margin, reduction="none")
    assert bool((h >= 0).all())
    # the two label conventions agree, whether detected or stated
    for labels, y in (("auto", ypm), ("pm1", ypm), ("01", y01)):
        torch.testing.assert_close(
            hinge_loss(x, y, margin=margin, labels=labels, reduction="none"), h
        )
    # integer and boolean labels read like floats
    torch.testing.assert_close(hinge_loss(x, y01.long(), margin=margin, reduction="none"), h)
    torch.testing.assert_close(hinge_loss(x, y01.bool(), margin=margin, reduction="none"), h)
    torch.testing.assert_close(
        squared_hinge_loss(x, ypm, margin=margin, reduction="none"), h.square()
    )
    # zero exactly when the signed score clears the margin
    assert torch.equal(h == 0, ypm * x >= margin)


@given(
    st.integers(2, 6).flatmap(
        lambda c: st.tuples(
            st.just(c),
            st.lists(st.lists(_score, min_size=c, max_size=c), min_size=1, max_size=8),
            st.data(),
        )
    ),
    st.floats(0.0, 3.0),
    st.sampled_from([1, 2]),
)
def test_crammer_singer_at_most_weston_watkins(args, margin: float, p: int) -> None:  # type: ignore[no-untyped-def]
    c, rows, data = args
    x = torch.tensor(rows, dtype=torch.float64)
    y = torch.tensor(
        data.draw(st.lists(st.integers(0, c - 1), min_size=len(rows), max_size=len(rows)))
    )
    cs = multiclass_hinge_loss(x, y, margin=margin, p=p, reduction="none")
    ww = multiclass_hinge_loss(x, y, margin=margin, p=p, variant="weston_watkins", reduction="none")
    assert bool((cs >= 0).all())
    assert bool((cs <= ww + 1e-12).all())
    # with two classes there is one rival: the variants coincide
    if c == 2:
        torch.testing.assert_close(cs, ww)
    # Weston-Watkins is at most (C - 1) times Crammer-Singer
    assert bool((ww <= (c - 1) * cs + 1e-9).all())


@given(
    st.lists(st.tuples(_score, _score, st.sampled_from([0, 1])), min_size=1, max_size=12),
    st.floats(0.0, 3.0),
)
def test_two_classes_reduce_to_binary_hinge(
    rows: list[tuple[float, float, int]], margin: float
) -> None:
    # With two classes, both variants are the binary hinge on the score difference x1 - x0.
    x = torch.tensor([[a, b] for a, b, _ in rows], dtype=torch.float64)
    y = torch.tensor([c for _, _, c in rows])
    binary = hinge_loss(x[:, 1] - x[:, 0], y, margin=margin, reduction="none")
    for variant in ("crammer_singer", "weston_watkins"):
        torch.testing.assert_close(
            multiclass_hinge_loss(x, y, margin=margin, variant=variant, reduction="none"), binary
        )


# --------------------------------------------------------------------------------------------
# Label conventions and validation


def test_label_validation_errors() -> None:
    x = torch.zeros(3)
    with pytest.raises(
        ValueError,
        match=r"^hinge_loss: target must hold labels in \{0, 1\} or "
        r"\{-1, 1\}, got 0\.5$",
    ):
        hinge_loss(x, torch.tensor([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="got both 0 and -1"):
        hinge_loss(x, torch.tensor([-1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\{0, 1\} \(labels='01'\), got -1"):
        squared_hinge_loss(x, torch.tensor([-1.0, 1.0, 1.0]), labels="01")
    with pytest.raises(ValueError, match=r"got nan"):
        hinge_loss(x, torch.tensor([float("nan"), 1.0, 1.0]))


def test_validation_off_applies_the_map() -> None:
    x = torch.tensor([1.0, 1.0, 1.0])
    mixed = torch.tensor([-1.0, 0.0, 1.0])
    # per call
    got = hinge_loss(x, mixed, reduction="none", validate=False)
    # a -1 is present: the tensor is read as +-1 and the 0 label gives max(0, 1 - 0)
    torch.testing.assert_close(got, torch.tensor([2.0, 1.0, 0.0]))
    # globally
    with losskit.validation(False):
        torch.testing.assert_close(hinge_loss(x, mixed, reduction="none"), got)
    with pytest.raises(ValueError):
        hinge_loss(x, mixed, reduction="none")


def test_all_positive_labels_read_the_same() -> None:
    x = torch.tensor([0.3, -2.0])
    ones = torch.ones(2)
    for labels in ("auto", "01", "pm1"):
        torch.testing.assert_close(
            hinge_loss(x, ones, labels=labels, reduction="none"), torch.tensor([0.7, 3.0])
        )


def test_multiclass_label_validation() -> None:
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\], got 3"):
        multiclass_hinge_loss(x, torch.tensor([0, 3]))
    # off: no check (gather would fail on the bad index, so use a valid one to see it runs)
    assert multiclass_hinge_loss(x, torch.tensor([0, 2]), validate=False).shape == ()


# --------------------------------------------------------------------------------------------
# Numerics


@pytest.mark.parametrize("fn", BINARY)
@pytest.mark.parametrize(
    ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
)
def test_binary_extremes(fn, dtype, scale) -> None:  # type: ignore[no-untyped-def]
    x = torch.tensor([-scale, scale, -scale, scale, 0.0], dtype=dtype, requires_grad=True)
    y = torch.tensor([1, 1, 0, 0, 1])
    loss = fn(x, y, reduction="none")
    assert loss.dtype == torch.float32
    expected = torch.tensor([1 + scale, 0.0, 0.0, 1 + scale, 1.0]).float()
    if fn is squared_hinge_loss:
        expected = expected.square()
    torch.testing.assert_close(
        loss, expected, rtol=1e-2 if dtype != torch.float32 else 1e-6, atol=0
    )
    loss.sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


@pytest.mark.parametrize("variant", ["crammer_singer", "weston_watkins"])
@pytest.mark.parametrize(
    ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
)
def test_multiclass_extremes(variant, dtype, scale) -> None:  # type: ignore[no-untyped-def]
    x = (scale * torch.tensor([[1.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [1.0, 1.0, -1.0]])).to(dtype)
    x.requires_grad_()
    y = torch.tensor([0, 0, 2])
    loss = multiclass_hinge_loss(x, y, variant=variant, p=2, reduction="none")
    assert loss.dtype == torch.float32 and bool(torch.isfinite(loss).all())
    assert float(loss[0].detach()) == 0.0 and float(loss[1].detach()) > 0
    loss.sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


def test_inputs_unmodified_and_module(generator) -> None:  # type: ignore[no-untyped-def]
    x = torch.randn(5, 3, generator=generator)
    y = torch.randint(0, 3, (5,), generator=generator)
    w = torch.tensor([1.0, 2.0, 3.0])
    x0, y0, w0 = x.clone(), y.clone(), w.clone()
    module = losskit.nn.MulticlassHingeLoss(variant="weston_watkins", weight=w, reduction="sum")
    torch.testing.assert_close(
        module(x, y),
        multiclass_hinge_loss(x, y, variant="weston_watkins", weight=w, reduction="sum"),
    )
    assert "weight" in dict(module.named_buffers())
    assert torch.equal(x, x0) and torch.equal(y, y0) and torch.equal(w, w0)
    yb = torch.randint(0, 2, (5, 3), generator=generator)
    torch.testing.assert_close(
        losskit.nn.HingeLoss(margin=0.5)(x, yb), hinge_loss(x, yb, margin=0.5)
    )
    torch.testing.assert_close(
        losskit.nn.SquaredHingeLoss(labels="01")(x, yb), squared_hinge_loss(x, yb, labels="01")
    )


@pytest.mark.slow
def test_compiles_without_graph_break(generator) -> None:  # type: ignore[no-untyped-def]
    """The "auto" label detection is tensor-only: fullgraph compile with validation off."""
    x = torch.randn(4, 6, generator=generator)
    y = torch.randint(0, 2, (4, 6), generator=generator).float() * 2 - 1

    def both(x: torch.Tensor, y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        binary = hinge_loss(x, y, validate=False) + squared_hinge_loss(
            x, (y + 1) / 2, validate=False
        )
        multi = multiclass_hinge_loss(x, labels, variant="weston_watkins", validate=False)
        return binary + multi + multiclass_hinge_loss(x, labels, validate=False)

    labels = torch.randint(0, 6, (4,), generator=generator)
    compiled = torch.compile(both, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x, y, labels), both(x, y, labels))


@pytest.mark.parametrize("labels", ["01", "pm1", "auto"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_squared_hinge_fast_path_matches_autograd(labels: str, reduction: str) -> None:
    """The hand-written forward/backward against autograd on the textbook formula (float64),
    first and second derivatives, with a margin and a weight."""
    gen = torch.Generator().manual_seed(21)
    x = torch.randn(1000, 7, generator=gen, dtype=torch.float64)
    y01 = (torch.rand(1000, 7, generator=gen) > 0.4).double()
    y = y01 if labels == "01" or (labels == "auto" and reduction != "sum") else 2 * y01 - 1
    t = 2 * y01 - 1
    w = torch.rand(1000, 7, generator=gen, dtype=torch.float64)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = losskit.squared_hinge_loss(xa, y, margin=0.7, labels=labels, reduction=reduction)
    want = torch.relu(0.7 - t * xb) ** 2
    want = want.mean() if reduction == "mean" else want.sum() if reduction == "sum" else want
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    (ga,) = torch.autograd.grad(
        (got * w).sum() if reduction == "none" else got, xa, create_graph=True
    )
    (gb,) = torch.autograd.grad(
        (want * w).sum() if reduction == "none" else want, xb, create_graph=True
    )
    torch.testing.assert_close(ga, gb, rtol=1e-12, atol=1e-12)
    (hh_a,) = torch.autograd.grad((ga * w).sum(), xa)
    (hh_b,) = torch.autograd.grad((gb * w).sum(), xb)
    torch.testing.assert_close(hh_a, hh_b, rtol=1e-12, atol=1e-12)
