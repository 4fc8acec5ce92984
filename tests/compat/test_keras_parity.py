"""Parity of ``losskit.compat.keras`` with Keras 3 itself (torch backend, installed in the test
environment): every loss function on the same inputs, and every loss class under every reduction
with no, per-sample and full-shape sample weights (zeros included), label smoothing, logits and
probabilities at exactly 0 and 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

keras = pytest.importorskip("keras")
from losskit.compat import keras as lk  # noqa: E402

RNG = np.random.default_rng(7)
B, C = 4, 3


def _probs(shape: tuple[int, ...]) -> np.ndarray:
    p = RNG.uniform(size=shape).astype(np.float32)
    p.flat[0], p.flat[1], p.flat[-1] = 0.0, 1.0, 0.0  # exactly 0 and 1
    return p


def _dist(shape: tuple[int, ...]) -> np.ndarray:
    p = RNG.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(np.float32)
    p[0] = 0.0
    p[0, ..., 1] = 1.0  # a one-hot prediction: probabilities 0 and 1
    return p


def _onehot(shape: tuple[int, ...]) -> np.ndarray:
    return np.eye(shape[-1], dtype=np.float32)[RNG.integers(0, shape[-1], shape[:-1])]


def _binary(shape: tuple[int, ...]) -> np.ndarray:
    return (RNG.uniform(size=shape) > 0.5).astype(np.float32)


def _normal(shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return (RNG.normal(size=shape) * scale).astype(np.float32)


def _unit(shape: tuple[int, ...]) -> np.ndarray:
    x = _normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# name -> (y_true, y_pred, function kwargs, class name, class kwargs)
Case = tuple[np.ndarray, np.ndarray, dict[str, Any], str, dict[str, Any]]
CASES: dict[str, Case] = {
    "mean_squared_error": (_normal((B, C)), _normal((B, C)), {}, "MeanSquaredError", {}),
    "mean_absolute_error": (_normal((B, C)), _normal((B, C)), {}, "MeanAbsoluteError", {}),
    "mean_absolute_percentage_error": (
        np.concatenate([np.zeros((1, C), np.float32), _normal((B - 1, C))]),
        _normal((B, C)),
        {},
        "MeanAbsolutePercentageError",
        {},
    ),
    "mean_squared_logarithmic_error": (
        np.abs(_normal((B, C))) * np.array([0, 1, 1], np.float32),
        np.abs(_normal((B, C))),
        {},
        "MeanSquaredLogarithmicError",
        {},
    ),
    "huber": (_normal((B, C)), _normal((B, C), 3), {"delta": 0.8}, "Huber", {"delta": 0.8}),
    "log_cosh": (_normal((B, C)), _normal((B, C), 30), {}, "LogCosh", {}),
    "poisson": (np.abs(_normal((B, C))).round(), np.abs(_normal((B, C))), {}, "Poisson", {}),
    "cosine_similarity": (
        np.concatenate([np.zeros((1, C), np.float32), _normal((B - 1, C))]),
        _normal((B, C)),
        {"axis": -1},
        "CosineSimilarity",
        {"axis": -1},
    ),
    "hinge": (_binary((B, C)), _normal((B, C)), {}, "Hinge", {}),
    "squared_hinge": (_binary((B, C)) * 2 - 1, _normal((B, C)), {}, "SquaredHinge", {}),
    "categorical_hinge": (_onehot((B, C)), _normal((B, C)), {}, "CategoricalHinge", {}),
    "kl_divergence": (_dist((B, C)), _dist((B, C)), {}, "KLDivergence", {}),
    "binary_crossentropy": (
        _binary((B, C)),
        _probs((B, C)),
        {"label_smoothing": 0.1},
        "BinaryCrossentropy",
        {"label_smoothing": 0.1},
    ),
    "binary_focal_crossentropy": (
        _binary((B, C)),
        _probs((B, C)),
        {"apply_class_balancing": True, "gamma": 1.5, "label_smoothing": 0.2},
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "gamma": 1.5, "label_smoothing": 0.2},
    ),
    "categorical_crossentropy": (
        _onehot((B, C)),
        _dist((B, C)),
        {"label_smoothing": 0.1},
        "CategoricalCrossentropy",
        {"label_smoothing": 0.1},
    ),
    "categorical_focal_crossentropy": (
        _onehot((B, C)),
        _dist((B, C)),
        {"gamma": 1.0, "label_smoothing": 0.1},
        "CategoricalFocalCrossentropy",
        {"gamma": 1.0, "label_smoothing": 0.1},
    ),
    "sparse_categorical_crossentropy": (
        RNG.integers(0, C, B),
        _dist((B, C)),
        {},
        "SparseCategoricalCrossentropy",
        {},
    ),
    "categorical_generalized_cross_entropy": (
        RNG.integers(0, C, B),
        _dist((B, C)),
        {"q": 0.3},
        "CategoricalGeneralizedCrossEntropy",
        {"q": 0.3},
    ),
    "dice": (_binary((B, 5)), _probs((B, 5)), {"axis": (1,)}, "Dice", {"axis": (1,)}),
    "tversky": (
        _binary((B, 5)),
        _probs((B, 5)),
        {"alpha": 0.7, "beta": 0.3, "axis": (1,)},
        "Tversky",
        {"alpha": 0.7, "beta": 0.3, "axis": (1,)},
    ),
    "circle": (
        np.array([0, 0, 1, 1, 2, 0]),
        _unit((6, 4)),
        {"gamma": 2.0},
        "Circle",
        {"gamma": 2.0},
    ),
    "ctc": (
        np.array([[1, 2, 0], [3, 3, 1], [2, 0, 0], [1, 0, 0]]),
        _normal((B, 7, 5)),
        {},
        "CTC",
        {},
    ),
}

# Variants of the function calls: from_logits, other options, other axes.
VARIANTS: list[tuple[str, Callable[[], tuple[np.ndarray, np.ndarray]], dict[str, Any]]] = [
    ("binary_crossentropy", lambda: (_binary((B, C)), _normal((B, C), 5)), {"from_logits": True}),
    ("binary_crossentropy", lambda: (_binary((B, C, 2)), _probs((B, C, 2))), {"axis": 1}),
    (
        "binary_focal_crossentropy",
        lambda: (_binary((B, C)), _normal((B, C), 3)),
        {"from_logits": True},
    ),
    (
        "categorical_crossentropy",
        lambda: (_onehot((B, C)), _normal((B, C), 3)),
        {"from_logits": True, "label_smoothing": 0.2},
    ),
    (
        "categorical_crossentropy",
        lambda: (np.moveaxis(_onehot((B, 2, C)), -1, 1), np.moveaxis(_dist((B, 2, C)), -1, 1)),
        {"axis": 1},
    ),
    (
        "categorical_crossentropy",  # smoothing on a custom axis: Keras 3.15.1 counts the last
        lambda: (np.moveaxis(_onehot((B, 2, C)), -1, 1), np.moveaxis(_dist((B, 2, C)), -1, 1)),
        {"axis": 1, "label_smoothing": 0.3},
    ),
    (
        "categorical_focal_crossentropy",
        lambda: (_onehot((B, C)), _normal((B, C), 3)),
        {"from_logits": True, "alpha": 0.5},
    ),
    (
        "sparse_categorical_crossentropy",
        lambda: (RNG.integers(0, C, (B, 1)), _normal((B, C), 3)),
        {"from_logits": True},
    ),
    (
        "sparse_categorical_crossentropy",
        lambda: (np.array([0, 2, -1, 1]), _normal((B, C), 3)),
        {"from_logits": True, "ignore_class": -1},
    ),
    (
        "sparse_categorical_crossentropy",
        lambda: (RNG.integers(0, C, (2, B)), _dist((2, B, C))),
        {},
    ),
    ("dice", lambda: (_binary((B, 5)), _probs((B, 5))), {}),
    ("tversky", lambda: (_binary((B, 5)), _probs((B, 5))), {"alpha": 0.2, "beta": 0.8}),
    ("cosine_similarity", lambda: (_normal((B, C)), _normal((B, C))), {"axis": 0}),
    ("hinge", lambda: (_normal((B, C)), _normal((B, C))), {}),  # not binary: unconverted
    ("mean_squared_error", lambda: (_normal((B, 1)), _normal((B,))), {}),  # rank matching
    ("circle", lambda: (np.array([0, 1, 0, 1]), _unit((B, 3))), {"remove_diagonal": False}),
]


def _close(got: torch.Tensor, want: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    want_t = torch.as_tensor(np.asarray(want.detach().cpu() if torch.is_tensor(want) else want))
    assert tuple(got.shape) == tuple(want_t.shape)
    torch.testing.assert_close(got.double(), want_t.double(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_matches_keras(name: str) -> None:
    y_true, y_pred, kwargs, _, _ = CASES[name]
    # Keras' generalised cross-entropy multiplies y_pred by a tensor: it needs a tensor y_pred.
    want = getattr(keras.losses, name)(y_true, torch.as_tensor(y_pred), **kwargs)
    _close(getattr(lk, name)(y_true, y_pred, **kwargs), want)


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[v[0] for v in VARIANTS])
def test_function_variant_matches_keras(index: int) -> None:
    name, make, kwargs = VARIANTS[index]
    y_true, y_pred = make()
    want = getattr(keras.losses, name)(y_true, y_pred, **kwargs)
    _close(getattr(lk, name)(y_true, y_pred, **kwargs), want)


REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _weights(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    batch = y_pred.shape[0]
    per_sample = RNG.uniform(size=batch).astype(np.float32)
    per_sample[1] = 0.0
    out: dict[str, Any] = {"none": None, "per_sample": per_sample}
    if name in ("dice", "tversky"):
        return out
    out["column"] = per_sample[:, None]
    return out


CLASS_CASES = [
    (name, reduction, wname)
    for name in sorted(CASES)
    for reduction in REDUCTIONS
    for wname in ("none", "per_sample", "column")
    if not (name in ("dice", "tversky") and wname == "column")
]


@pytest.mark.parametrize(("name", "reduction", "wname"), CLASS_CASES)
def test_class_matches_keras(name: str, reduction: str | None, wname: str) -> None:
    y_true, y_pred, _, cls, cls_kwargs = CASES[name]
    weights = _weights(name, y_true, y_pred)
    w = weights[wname]
    want = getattr(keras.losses, cls)(reduction=reduction, **cls_kwargs)(y_true, y_pred, w)
    got = getattr(lk, cls)(reduction=reduction, **cls_kwargs)(y_true, y_pred, w)
    _close(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_class_mask_matches_keras(reduction: str | None) -> None:
    y_true = np.array([0, 2, -1, 1, -1])
    y_pred = _normal((5, C), 2)
    w = np.array([1.0, 0.5, 2.0, 0.0, 1.0], np.float32)
    for sw in (None, w):
        want = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1, reduction=reduction
        )(y_true, y_pred, sw)
        got = lk.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1, reduction=reduction
        )(y_true, y_pred, sw)
        _close(got, want)


def test_aliases_are_keras_aliases() -> None:
    legacy = {"kullback_leibler_divergence", "logcosh"}  # keras._legacy names (not in get)
    for alias, name in lk.ALIASES.items():
        assert getattr(lk, alias) is getattr(lk, name)
        if alias not in legacy:
            assert keras.losses.get(alias).__name__ == name


def test_every_keras_loss_function_and_class_exists() -> None:
    functions = [
        n
        for n in dir(keras.losses)
        if callable(getattr(keras.losses, n))
        and n[0].islower()
        and n not in ("get", "serialize", "deserialize")
    ]
    assert len(functions) == 22
    for n in functions:
        assert callable(getattr(lk, n)), n
    classes = [n for n in dir(keras.losses) if n[0].isupper() and n not in ("Loss", "Reduction")]
    for n in classes:
        assert callable(getattr(lk, n)), n


def test_unknown_reduction_is_refused_as_keras() -> None:
    with pytest.raises(ValueError):
        keras.losses.MeanSquaredError(reduction="avg")
    with pytest.raises(
        ValueError, match=r"^compat\.keras\.MeanSquaredError: Invalid value for argument reduction"
    ):
        lk.MeanSquaredError(reduction="avg")


def test_float64_stays_float64() -> None:
    # Keras computes in float32 precision; losskit keeps float64 (a float64 textbook value).
    y, p = RNG.normal(size=(B, C)), RNG.normal(size=(B, C))
    got = lk.mean_squared_error(y, p)
    assert got.dtype == torch.float64
    _close(got, ((y - p) ** 2).mean(-1), rtol=1e-14, atol=1e-14)
    _close(got, keras.losses.mean_squared_error(y, p), rtol=1e-6)


def test_sample_weight_that_does_not_broadcast_is_refused_as_keras() -> None:
    y_true, y_pred = _normal((B, C)), _normal((B, C))
    w = np.ones((C,), np.float32)  # per-sample losses are (B,): (C,) does not broadcast
    with pytest.raises(Exception):  # noqa: B017 - Keras raises torch's RuntimeError
        keras.losses.MeanSquaredError()(y_true, y_pred, w)
    with pytest.raises(ValueError, match=r"^compat\.keras\.MeanSquaredError: sample_weight"):
        lk.MeanSquaredError()(y_true, y_pred, w)


def test_full_shape_sample_weight_on_elementwise_losses_matches_keras() -> None:
    # sample_weight of y_true's shape against [batch, d] per-sample losses of a 3-D input
    y_true, y_pred = _normal((B, 2, C)), _normal((B, 2, C))
    w = RNG.uniform(size=(B, 2)).astype(np.float32)
    w[0, 1] = 0.0
    for reduction in REDUCTIONS:
        want = keras.losses.MeanAbsoluteError(reduction=reduction)(y_true, y_pred, w)
        got = lk.MeanAbsoluteError(reduction=reduction)(y_true, y_pred, w)
        _close(got, want)


def test_ctc_batch_cost_matches_keras_legacy_backend() -> None:
    # golden values of keras.src.legacy.backend.ctc_batch_cost (TensorFlow backend), written by
    # scripts/golden/tf_dialects.py
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "compat" / "tf_dialects.json"
    for case in json.loads(path.read_text())["keras_legacy"]:
        y_true, y_pred, input_length, label_length = case["args"]
        got = lk.ctc_batch_cost(
            np.asarray(y_true), np.asarray(y_pred, np.float32), input_length, label_length
        )
        _close(got, np.asarray(case["expected"]), rtol=1e-5, atol=1e-5)


# Keras 3.15.1 behaviours that its main branch has changed: checked against hand-written float64
# references (independent of the installed Keras), and against Keras itself above when the
# installed Keras is that release.
KERAS_RELEASE = "3.15.1"


def test_installed_keras_is_the_release_the_dialect_follows() -> None:
    if keras.__version__ != KERAS_RELEASE:
        pytest.xfail(f"the dialect follows Keras {KERAS_RELEASE}, Keras {keras.__version__} runs")
    assert keras.__version__ == KERAS_RELEASE


def test_tversky_weighs_false_negatives_by_alpha_as_keras_3_15_1() -> None:
    y = np.array([[1.0, 1.0, 0.0, 1.0, 0.0]])
    p = np.array([[0.9, 0.2, 0.7, 0.6, 0.1]])
    tp = (y * p).sum()
    fn = (y * (1 - p)).sum()  # false negatives
    fp = ((1 - y) * p).sum()  # false positives
    alpha, beta = 0.8, 0.2
    want = 1 - tp / (tp + alpha * fn + beta * fp + 1e-7)
    got = lk.tversky(torch.tensor(y), torch.tensor(p), alpha=alpha, beta=beta)
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))


def test_label_smoothing_on_a_custom_axis_counts_the_last_axis_as_keras_3_15_1() -> None:
    # classes along axis 1 (3 of them), last axis of size 2: Keras 3.15.1 smooths with eps / 2
    y = torch.zeros(1, 3, 2, dtype=torch.float64)
    y[0, 0, :] = 1.0
    p = torch.tensor([[[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]]], dtype=torch.float64)
    eps = 0.3
    z = y * (1 - eps) + eps / 2
    want = -(z * torch.log(p / p.sum(1, keepdim=True))).sum(1)
    got = lk.categorical_crossentropy(y, p, label_smoothing=eps, axis=1)
    torch.testing.assert_close(got, want)


def test_a_subclass_with_call_is_reduced_as_keras() -> None:
    class Mine(lk.Loss):
        def call(self, y_true, y_pred):  # type: ignore[no-untyped-def]
            return ((torch.as_tensor(y_true) - torch.as_tensor(y_pred)) ** 2).mean(-1)

    class Theirs(keras.losses.Loss):
        def call(self, y_true, y_pred):  # type: ignore[no-untyped-def]
            return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    y, p = _normal((B, C)), _normal((B, C))
    w = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    for reduction in REDUCTIONS:
        _close(Mine(reduction=reduction)(y, p, w), Theirs(reduction=reduction)(y, p, w))


def _params(fn: Any) -> list[tuple[str, str]]:
    import inspect

    return [
        (p.name, "" if p.default is inspect.Parameter.empty else repr(p.default))
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_and_class_signatures_are_keras(name: str) -> None:
    assert _params(getattr(lk, name)) == _params(getattr(keras.losses, name))
    cls = CASES[name][3]
    assert _params(getattr(lk, cls).__init__) == _params(getattr(keras.losses, cls).__init__)


@pytest.mark.parametrize("name", sorted(CASES))
def test_get_config_round_trip(name: str) -> None:
    cls = getattr(lk, CASES[name][3])
    loss = cls(**CASES[name][4], reduction="sum", name="mine")
    config = loss.get_config()
    assert config["name"] == "mine" and config["reduction"] == "sum"
    assert cls.from_config(config).get_config() == config
