"""Golden values of the TensorFlow-1 dialect (``losskit.compat.tf``) from TensorFlow itself.

Run once in an environment with ``tensorflow-cpu`` (never in CI; the tests read the file):

    /work/venv-tf/bin/python scripts/golden/tf_dialects.py

Writes ``tests/data/compat/tf_dialects.json``: a list of cases, each ``{"fn": dialect function,
"args": positional arguments, "kwargs": keyword arguments, "expected": TensorFlow's output}`` or,
where TensorFlow refuses the call, ``"raises": the exception class name`` (``"losskit_refuses"``
marks a documented difference). Arguments are plain JSON; a sparse tensor is
``{"sparse": [indices, values, dense_shape]}``, a distribution ``{"dist": name, "params": {...}}``,
an array ``{"ref": key}`` into ``"arrays"`` (each stored once, as ``{"array": list}`` or
``{"float64": list}``). Also the TensorFlow-1 streaming metrics after each of several weighted
updates (``"metrics"``), Keras' legacy ``ctc_batch_cost`` (``"keras_legacy"``), TensorFlow's
gradients of the summed outputs (``"gradients"``) and its signatures (``"signatures"``).

The inputs cover every ``Reduction``, scalar / per-sample / full-shape weights including zeros,
label smoothing, sparse and dense labels and probabilities at exactly 0 and 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"  # the legacy ctc_batch_cost exists for TF only
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "compat" / "tf_dialects.json"
V1 = tf.compat.v1
R = V1.losses.Reduction
REDUCTIONS = [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS]
rng = np.random.default_rng(20261202)
CASES: list[dict[str, Any]] = []


def r3(a: np.ndarray) -> np.ndarray:
    """Round to 3 decimals and to float32, so the stored input is exactly what TF saw."""
    return np.asarray(a, np.float64).round(3).astype(np.float32)


ARRAYS: dict[str, Any] = {}


def _shared(payload: dict[str, Any]) -> dict[str, str]:
    """Store an input once (many cases share it) and refer to it by key."""
    key = str(len(ARRAYS))
    for k, v in ARRAYS.items():
        if v == payload:
            return {"ref": k}
    ARRAYS[key] = payload
    return {"ref": key}


def encode(value: Any) -> Any:
    if isinstance(value, tf.SparseTensor):
        return {
            "sparse": [
                value.indices.numpy().tolist(),
                value.values.numpy().tolist(),
                value.dense_shape.numpy().tolist(),
            ]
        }
    if isinstance(value, np.ndarray):
        if value.dtype == np.float64:
            return _shared({"float64": value.tolist()})
        return _shared({"array": value.tolist()})
    if isinstance(value, dict) and "dist" in value:
        return value
    return value


def tf_value(value: Any) -> Any:
    if isinstance(value, dict) and "dist" in value:
        cls = getattr(V1.distributions, value["dist"])
        return cls(**{k: np.asarray(v, np.float64) for k, v in value["params"].items()})
    return value


def short(value: Any) -> Any:
    """Nested lists of floats with 9 significant digits (float32 exactly, float64 to 1e-9)."""
    if isinstance(value, list):
        return [short(v) for v in value]
    return float(f"{value:.9g}")


def output(value: Any) -> Any:
    if isinstance(value, tf.SparseTensor):
        return encode(value)
    if isinstance(value, (list, tuple)):
        return [output(v) for v in value]
    return short(np.asarray(value).astype(np.float64).tolist())


def case(fn: str, call: Any, *args: Any, note: str | None = None, **kwargs: Any) -> None:
    """Record TensorFlow's answer to ``call(*args, **kwargs)``; ``note`` marks a documented
    difference (losskit refuses a call TensorFlow answers)."""
    entry: dict[str, Any] = {
        "fn": fn,
        "args": [encode(a) for a in args],
        "kwargs": {k: encode(v) for k, v in kwargs.items()},
    }
    if note:
        entry["losskit_refuses"] = note
    try:
        result = call(*[tf_value(a) for a in args], **{k: tf_value(v) for k, v in kwargs.items()})
        entry["expected"] = output(result)
    except Exception as error:
        entry["raises"] = type(error).__name__
        entry["message"] = str(error).splitlines()[0][:100]
    CASES.append(entry)


def sparse(rows: list[list[int]], width: int | None = None) -> tf.SparseTensor:
    index = [[i, j] for i, row in enumerate(rows) for j in range(len(row))]
    values = [v for row in rows for v in row]
    w = max([len(r) for r in rows] + [1]) if width is None else width
    return tf.SparseTensor(
        np.array(index, np.int64).reshape(-1, 2), np.array(values, np.int32), [len(rows), w]
    )


def losses_cases() -> None:
    labels01 = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    soft = r3(rng.uniform(size=(4, 3)))
    pred = r3(rng.normal(size=(4, 3)))
    logits = r3(rng.normal(size=(4, 3)) * 2)
    probs = r3(rng.uniform(size=(4, 3)))
    probs[0, 0], probs[0, 1], probs[1, 0], probs[1, 1] = 0.0, 1.0, 1.0, 0.0
    labels_p = labels01.copy()
    labels_p[0, 0], labels_p[0, 1], labels_p[1, 0], labels_p[1, 1] = 0.0, 1.0, 0.0, 1.0
    weights = {
        "scalar": 2.5,
        "zero": 0.0,
        "per_sample": r3(rng.uniform(size=(4, 1))) * np.array([[1], [0], [1], [1]], np.float32),
        "full": r3(rng.uniform(size=(4, 3))) * (rng.uniform(size=(4, 3)) > 0.3),
        "row": np.array([[0.0, 1.5, 2.0]], np.float32),
    }
    pairs = {
        "absolute_difference": (V1.losses.absolute_difference, soft, pred, {}),
        "mean_squared_error": (V1.losses.mean_squared_error, soft, pred, {}),
        "huber_loss": (V1.losses.huber_loss, soft, pred * 2, {"delta": 0.7}),
        "log_loss": (V1.losses.log_loss, labels_p, probs, {}),
        "hinge_loss": (V1.losses.hinge_loss, labels01, logits, {}),
        "sigmoid_cross_entropy": (V1.losses.sigmoid_cross_entropy, soft, logits, {}),
    }
    for name, (call, y, x, extra) in pairs.items():
        for w in weights.values():
            for red in REDUCTIONS:
                case(f"losses.{name}", call, y, x, w, reduction=red, **extra)
        case(f"losses.{name}", call, y, x)  # every default
        case(f"losses.{name}", call, y, x, np.ones(3, np.float32))  # rank differs: refused
        case(f"losses.{name}", call, y, x, np.ones((4, 2), np.float32))  # shape: refused
        case(f"losses.{name}", call, y, x[:, :2])  # labels and predictions differ: refused
    for ls in (0.1, 0.5):
        for red in REDUCTIONS:
            case(
                "losses.sigmoid_cross_entropy",
                V1.losses.sigmoid_cross_entropy,
                labels01,
                logits,
                weights["full"],
                label_smoothing=ls,
                reduction=red,
            )
    case("losses.huber_loss", V1.losses.huber_loss, soft, pred * 3)  # default delta
    case("losses.log_loss", V1.losses.log_loss, labels_p, probs, epsilon=1e-3)

    onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4)]
    softlab = r3(rng.dirichlet(np.ones(3), size=4))
    ce_w = {
        "scalar": 2.5,
        "zero": 0.0,
        "per_sample": np.array([1.0, 0.0, 0.5, 2.0], np.float32),
        "per_sample_col": np.array([[1.0], [0.0], [0.5], [2.0]], np.float32),
    }
    for lab in (onehot, softlab):
        for w in ce_w.values():
            for red in REDUCTIONS:
                for ls in (0.0, 0.2):
                    case(
                        "losses.softmax_cross_entropy",
                        V1.losses.softmax_cross_entropy,
                        lab,
                        logits,
                        w,
                        label_smoothing=ls,
                        reduction=red,
                    )
    case("losses.softmax_cross_entropy", V1.losses.softmax_cross_entropy, onehot, logits)
    case(
        "losses.softmax_cross_entropy",
        V1.losses.softmax_cross_entropy,
        onehot,
        logits,
        np.ones(3, np.float32),
    )
    case("losses.softmax_cross_entropy", V1.losses.softmax_cross_entropy, onehot[:, :2], logits)

    sparse_labels = rng.integers(0, 3, 4).astype(np.int64)
    for w in ce_w.values():
        for red in REDUCTIONS:
            case(
                "losses.sparse_softmax_cross_entropy",
                V1.losses.sparse_softmax_cross_entropy,
                sparse_labels,
                logits,
                w,
                reduction=red,
            )
            case(
                "losses.sparse_softmax_cross_entropy",
                V1.losses.sparse_softmax_cross_entropy,
                sparse_labels[:, None],
                logits,
                w,
                reduction=red,
            )
    logits3 = r3(rng.normal(size=(2, 3, 4)))
    labels3 = rng.integers(0, 4, (2, 3)).astype(np.int64)
    for w in (1.0, r3(rng.uniform(size=(2, 3))), np.array([[1.0], [0.0]], np.float32)):
        for red in REDUCTIONS:
            case(
                "losses.sparse_softmax_cross_entropy",
                V1.losses.sparse_softmax_cross_entropy,
                labels3,
                logits3,
                w,
                reduction=red,
            )
    case(
        "losses.sparse_softmax_cross_entropy",
        V1.losses.sparse_softmax_cross_entropy,
        labels3[:, :, None, None],
        logits3,
    )  # labels of the wrong rank: refused
    case(
        "losses.sparse_softmax_cross_entropy",
        V1.losses.sparse_softmax_cross_entropy,
        sparse_labels,
        logits,
        np.ones(3, np.float32),
    )

    losses = r3(rng.normal(size=(4, 3)))
    for w in weights.values():
        for red in REDUCTIONS:
            case(
                "losses.compute_weighted_loss",
                V1.losses.compute_weighted_loss,
                losses,
                w,
                reduction=red,
            )
    case(
        "losses.compute_weighted_loss",
        V1.losses.compute_weighted_loss,
        losses,
        np.ones(3, np.float32),
    )
    case(
        "losses.compute_weighted_loss", V1.losses.compute_weighted_loss, losses, reduction="mean"
    )  # not a Reduction key: refused
    case(
        "losses.compute_weighted_loss",
        V1.losses.compute_weighted_loss,
        np.zeros((0, 3), np.float32),
        np.zeros((0, 1), np.float32),
    )


def nn_cases() -> None:
    x = r3(rng.normal(size=(3, 4)) * 3)
    x[0, 0], x[0, 1] = 50.0, -50.0
    z = r3(rng.uniform(size=(3, 4)))
    z[0, 0], z[0, 1] = 1.0, 0.0
    case(
        "nn.sigmoid_cross_entropy_with_logits",
        V1.nn.sigmoid_cross_entropy_with_logits,
        labels=z,
        logits=x,
    )
    case(
        "nn.sigmoid_cross_entropy_with_logits",
        V1.nn.sigmoid_cross_entropy_with_logits,
        labels=z.astype(np.float64),
        logits=x.astype(np.float64),
    )
    case(
        "nn.sigmoid_cross_entropy_with_logits",
        V1.nn.sigmoid_cross_entropy_with_logits,
        labels=z[:, :2],
        logits=x,
    )
    for q in (2.5, r3(rng.uniform(size=4) * 3)):
        case(
            "nn.weighted_cross_entropy_with_logits",
            V1.nn.weighted_cross_entropy_with_logits,
            labels=z,
            logits=x,
            pos_weight=q,
        )
    case(
        "nn.weighted_cross_entropy_with_logits",
        V1.nn.weighted_cross_entropy_with_logits,
        labels=z.astype(np.float64),
        logits=x.astype(np.float64),
        pos_weight=0.5,
    )
    dist = r3(rng.dirichlet(np.ones(4), size=3))
    for dim in (-1, 1, 0):
        case(
            "nn.softmax_cross_entropy_with_logits",
            V1.nn.softmax_cross_entropy_with_logits,
            labels=dist,
            logits=x,
            dim=dim,
        )
    case(
        "nn.softmax_cross_entropy_with_logits",
        V1.nn.softmax_cross_entropy_with_logits,
        labels=dist,
        logits=x,
        axis=0,
    )  # refused: dim keeps its default -1
    case(
        "nn.softmax_cross_entropy_with_logits",
        V1.nn.softmax_cross_entropy_with_logits,
        labels=dist,
        logits=x,
        dim=None,
        axis=0,
    )
    case(
        "nn.softmax_cross_entropy_with_logits",
        V1.nn.softmax_cross_entropy_with_logits,
        labels=dist.astype(np.float64),
        logits=x.astype(np.float64),
    )
    case(
        "nn.softmax_cross_entropy_with_logits",
        V1.nn.softmax_cross_entropy_with_logits,
        labels=dist[:, :3],
        logits=x,
    )
    y = rng.integers(0, 4, 3).astype(np.int64)
    case(
        "nn.sparse_softmax_cross_entropy_with_logits",
        V1.nn.sparse_softmax_cross_entropy_with_logits,
        labels=y,
        logits=x,
    )
    case(
        "nn.sparse_softmax_cross_entropy_with_logits",
        V1.nn.sparse_softmax_cross_entropy_with_logits,
        labels=y,
        logits=x.astype(np.float64),
    )
    x3 = r3(rng.normal(size=(2, 3, 4)))
    case(
        "nn.sparse_softmax_cross_entropy_with_logits",
        V1.nn.sparse_softmax_cross_entropy_with_logits,
        labels=rng.integers(0, 4, (2, 3)).astype(np.int64),
        logits=x3,
    )
    case(
        "nn.sparse_softmax_cross_entropy_with_logits",
        V1.nn.sparse_softmax_cross_entropy_with_logits,
        labels=y[:, None],
        logits=x,
    )
    case(
        "nn.sparse_softmax_cross_entropy_with_logits",
        V1.nn.sparse_softmax_cross_entropy_with_logits,
        labels=y[:2],
        logits=x,
    )
    case("nn.l2_loss", tf.nn.l2_loss, x)
    case("nn.l2_loss", tf.nn.l2_loss, x.astype(np.float64))
    case("nn.l2_loss", tf.nn.l2_loss, np.zeros((0, 3), np.float32))

    # CTC: 4 samples, 6 classes (blank 5 for v1), repeated labels, an empty label
    frames, batch, classes = 7, 4, 6
    logits = r3(rng.normal(size=(frames, batch, classes)) * 2)
    rows = [[1, 1, 2], [0, 3, 3, 4], [3], [2]]
    seq = np.array([7, 6, 3, 5], np.int32)
    for collapse in (False, True):
        for merge in (True, False):
            case(
                "nn.ctc_loss",
                V1.nn.ctc_loss,
                sparse(rows),
                logits,
                seq,
                preprocess_collapse_repeated=collapse,
                ctc_merge_repeated=merge,
            )
    case(
        "nn.ctc_loss",
        V1.nn.ctc_loss,
        sparse(rows),
        logits.transpose(1, 0, 2),
        seq,
        time_major=False,
    )
    case("nn.ctc_loss", V1.nn.ctc_loss, sparse(rows), logits.astype(np.float64), seq)
    long_rows = [[1, 2, 3, 4], [0, 3], [1], [2]]
    case(
        "nn.ctc_loss",
        V1.nn.ctc_loss,
        sparse(long_rows),
        logits,
        np.array([3, 6, 3, 5], np.int32),
        ignore_longer_outputs_than_inputs=True,
    )
    case("nn.ctc_loss", V1.nn.ctc_loss, sparse(long_rows), logits, np.array([3, 6, 3, 5], np.int32))
    case(
        "nn.ctc_loss",
        V1.nn.ctc_loss,
        sparse([[5], [1], [1], [1]]),
        logits,
        seq,
        note="a label equal to the blank (the last class) has no CTC path",
    )
    case("nn.ctc_loss", V1.nn.ctc_loss, sparse([[1], [1], [], [1]]), logits, seq)  # empty label
    # v2, dense labels: blank_index 0 (labels 1..5), -1 and 2 (labels avoid the blank)
    dense0 = np.array([[1, 1, 2, 0], [3, 4, 4, 5], [0, 0, 0, 0], [2, 0, 0, 0]], np.int64)
    lens = np.array([3, 4, 0, 1], np.int32)
    case("nn.ctc_loss_v2", tf.nn.ctc_loss, dense0, logits, lens, seq)
    case("nn.ctc_loss_v2", tf.nn.ctc_loss, dense0, logits, lens, seq, blank_index=0)
    dense_last = np.array([[1, 1, 2, 0], [0, 3, 3, 4], [0, 0, 0, 0], [2, 0, 0, 0]], np.int64)
    case("nn.ctc_loss_v2", tf.nn.ctc_loss, dense_last, logits, lens, seq, blank_index=-1)
    dense2 = np.array([[1, 1, 3, 0], [0, 3, 3, 4], [0, 0, 0, 0], [5, 0, 0, 0]], np.int64)
    case("nn.ctc_loss_v2", tf.nn.ctc_loss, dense2, logits, lens, seq, blank_index=2)
    case(
        "nn.ctc_loss_v2",
        tf.nn.ctc_loss,
        dense2,
        logits.transpose(1, 0, 2),
        lens,
        seq,
        logits_time_major=False,
        blank_index=2,
    )
    case(
        "nn.ctc_loss_v2",
        tf.nn.ctc_loss,
        sparse([[1, 1, 3], [0, 3, 3, 4], [], [5]]),
        logits,
        None,
        seq,
        blank_index=2,
    )
    case("nn.ctc_loss_v2", tf.nn.ctc_loss, sparse(rows), logits, None, seq, blank_index=-1)
    case(
        "nn.ctc_loss_v2",
        tf.nn.ctc_loss,
        sparse([[1], [], [1], [1]]),
        logits,
        None,
        seq,
        blank_index=0,
    )  # an empty sparse label: refused
    # decoders
    for merge in (True, False):
        case("nn.ctc_greedy_decoder", V1.nn.ctc_greedy_decoder, logits, seq, merge_repeated=merge)
    case("nn.ctc_greedy_decoder", V1.nn.ctc_greedy_decoder, logits, seq, blank_index=0)
    case("nn.ctc_greedy_decoder", V1.nn.ctc_greedy_decoder, logits, seq, blank_index=-3)
    peaky = r3(rng.normal(size=(8, 3, 4)) * 3)
    for width, top in ((1, 1), (4, 2), (10, 3)):
        for merge in (True, False):
            case(
                "nn.ctc_beam_search_decoder",
                V1.nn.ctc_beam_search_decoder,
                peaky,
                np.array([8, 5, 6], np.int32),
                beam_width=width,
                top_paths=top,
                merge_repeated=merge,
            )


def other_cases() -> None:
    def sp(entries: list[tuple[tuple[int, ...], int]], shape: list[int]) -> tf.SparseTensor:
        return tf.SparseTensor(
            np.array([e[0] for e in entries], np.int64).reshape(-1, len(shape)),
            np.array([e[1] for e in entries], np.int64),
            shape,
        )

    hyp = sp([((0, 0), 1), ((0, 1), 2), ((1, 0), 3), ((2, 0), 4), ((2, 1), 4)], [4, 2])
    truth = sp([((0, 0), 1), ((1, 0), 3), ((1, 1), 5), ((1, 2), 3), ((3, 0), 7)], [4, 3])
    for normalize in (True, False):
        case("edit_distance", tf.edit_distance, hyp, truth, normalize=normalize)
    hyp3 = sp([((0, 0, 0), 1), ((0, 1, 0), 2), ((0, 1, 1), 3), ((1, 0, 0), 1)], [2, 2, 2])
    truth3 = sp([((0, 0, 0), 1), ((0, 0, 1), 2), ((0, 1, 0), 2), ((1, 1, 0), 4)], [2, 3, 2])
    for normalize in (True, False):
        case("edit_distance", tf.edit_distance, hyp3, truth3, normalize=normalize)
    case("edit_distance", tf.edit_distance, hyp, truth3)  # ranks differ: refused
    normal = {"dist": "Normal", "params": {"loc": [0.0, 1.0, -2.0], "scale": [1.0, 0.5, 3.0]}}
    normal_b = {"dist": "Normal", "params": {"loc": [0.5, 0.0, 0.0], "scale": [2.0, 0.5, 1.0]}}
    case("distributions.kl_divergence", V1.distributions.kl_divergence, normal, normal_b)
    cat_a = {"dist": "Categorical", "params": {"probs": [[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]}}
    cat_b = {"dist": "Categorical", "params": {"probs": [[0.4, 0.4, 0.2], [0.5, 0.25, 0.25]]}}
    case("distributions.kl_divergence", V1.distributions.kl_divergence, cat_a, cat_b)
    bern_a = {"dist": "Bernoulli", "params": {"probs": [0.1, 0.5, 0.9]}}
    bern_b = {"dist": "Bernoulli", "params": {"probs": [0.3, 0.5, 0.2]}}
    case("distributions.kl_divergence", V1.distributions.kl_divergence, bern_a, bern_b)


def metric_cases() -> list[dict[str, Any]]:
    """TensorFlow-1 streaming metrics (graph mode): the value after each of several weighted
    updates."""
    updates = []
    for i, shape in enumerate([(3, 2), (4, 2), (2, 2), (3, 2)]):
        pred, label = r3(rng.normal(size=shape)), r3(rng.normal(size=shape))
        w: Any = [
            1.0,
            r3(rng.uniform(size=(shape[0], 1))),
            r3(rng.uniform(size=shape)),
            np.zeros(shape, np.float32),
        ][i]
        if i == 2:
            w[0] = 0.0
        updates.append((label, pred, w))
    out = []
    for name in ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error"):
        graph = tf.Graph()
        with graph.as_default():
            labels = V1.placeholder(tf.float32, [None, 2])
            preds = V1.placeholder(tf.float32, [None, 2])
            weights = V1.placeholder(tf.float32, None)
            value, update = getattr(V1.metrics, name)(labels, preds, weights)
            values = []
            with V1.Session() as sess:
                sess.run(V1.local_variables_initializer())
                for label, pred, w in updates:
                    sess.run(update, {labels: label, preds: pred, weights: w})
                    values.append(float(sess.run(value)))
        out.append({"metric": name, "values": short(values)})
    return [
        {
            "updates": [[encode(np.asarray(a, np.float32)) for a in u] for u in updates],
            "metrics": out,
        }
    ]


def keras_legacy_cases() -> list[dict[str, Any]]:
    """Keras' legacy ``backend.ctc_batch_cost`` (TensorFlow backend): softmax outputs in."""
    from keras.src.legacy import backend as legacy

    batch, frames, classes = 3, 6, 5
    probs = r3(rng.dirichlet(np.ones(classes), size=(batch, frames)))
    probs /= probs.sum(-1, keepdims=True)
    y_true = np.array([[1, 2, 2], [0, 3, 0], [3, 1, 0]], np.int32)
    input_length = np.array([[6], [5], [4]], np.int32)
    label_length = np.array([[3], [2], [1]], np.int32)
    out = legacy.ctc_batch_cost(y_true, probs, input_length, label_length)
    return [
        {
            "fn": "ctc_batch_cost",
            "args": [
                y_true.tolist(),
                probs.astype(np.float32).tolist(),
                input_length.tolist(),
                label_length.tolist(),
            ],
            "expected": short(np.asarray(out).astype(np.float64).tolist()),
        }
    ]


def gradient_cases() -> list[dict[str, Any]]:
    """The gradient of the summed output w.r.t. the prediction argument, as TensorFlow's tape."""
    x = r3(rng.normal(size=(4, 3)) * 2)
    y01 = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    soft = r3(rng.uniform(size=(4, 3)))
    probs = r3(rng.uniform(0.05, 0.95, size=(4, 3)))
    w = r3(rng.uniform(size=(4, 1))) * np.array([[1], [0], [1], [1]], np.float32)
    onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4)]
    labels = rng.integers(0, 3, 4).astype(np.int64)
    frames, batch, classes = 6, 3, 5
    ctc_logits = r3(rng.normal(size=(frames, batch, classes)))
    rows = [[1, 1, 2], [0, 3], [2]]
    seq = np.array([6, 5, 4], np.int32)
    dense = np.array([[2, 2, 3], [1, 4, 0], [3, 0, 0]], np.int64)
    specs = [
        ("losses.mean_squared_error", V1.losses.mean_squared_error, (soft, x, w), {}, 1),
        ("losses.absolute_difference", V1.losses.absolute_difference, (soft, x, w), {}, 1),
        ("losses.huber_loss", V1.losses.huber_loss, (soft, x, w), {"delta": 0.5}, 1),
        ("losses.log_loss", V1.losses.log_loss, (y01, probs, w), {}, 1),
        ("losses.hinge_loss", V1.losses.hinge_loss, (y01, x, w), {}, 1),
        (
            "losses.sigmoid_cross_entropy",
            V1.losses.sigmoid_cross_entropy,
            (soft, x, w),
            {"label_smoothing": 0.1},
            1,
        ),
        (
            "losses.softmax_cross_entropy",
            V1.losses.softmax_cross_entropy,
            (onehot, x, w[:, 0]),
            {"label_smoothing": 0.2},
            1,
        ),
        (
            "losses.sparse_softmax_cross_entropy",
            V1.losses.sparse_softmax_cross_entropy,
            (labels, x, w),
            {},
            1,
        ),
        ("nn.l2_loss", tf.nn.l2_loss, (x,), {}, 0),
        ("nn.ctc_loss", V1.nn.ctc_loss, (sparse(rows), ctc_logits, seq), {}, 1),
        (
            "nn.ctc_loss_v2",
            tf.nn.ctc_loss,
            (dense, ctc_logits, np.array([3, 2, 1], np.int32), seq),
            {"blank_index": 0},
            1,
        ),
    ]
    out = []
    for name, call, args, kwargs, index in specs:
        tensors = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
        with tf.GradientTape() as tape:
            tape.watch(tensors[index])
            value = tf.reduce_sum(call(*tensors, **kwargs))
        grad = tape.gradient(value, tensors[index])
        out.append(
            {
                "fn": name,
                "args": [encode(a) for a in args],
                "kwargs": kwargs,
                "wrt": index,
                "expected": short(np.asarray(grad, np.float64).tolist()),
            }
        )
    for name, call in (
        ("nn.sigmoid_cross_entropy_with_logits", V1.nn.sigmoid_cross_entropy_with_logits),
        ("nn.softmax_cross_entropy_with_logits", V1.nn.softmax_cross_entropy_with_logits),
    ):
        logits = tf.constant(x)
        lab = soft if "sigmoid" in name else onehot
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = tf.reduce_sum(call(labels=tf.constant(lab), logits=logits))
        out.append(
            {
                "fn": name,
                "args": [],
                "kwargs": {"labels": encode(lab), "logits": encode(x)},
                "wrt": "logits",
                "expected": short(np.asarray(tape.gradient(value, logits)).tolist()),
            }
        )
    return out


SIGNATURES = {
    "losses.compute_weighted_loss": V1.losses.compute_weighted_loss,
    "losses.absolute_difference": V1.losses.absolute_difference,
    "losses.mean_squared_error": V1.losses.mean_squared_error,
    "losses.huber_loss": V1.losses.huber_loss,
    "losses.log_loss": V1.losses.log_loss,
    "losses.hinge_loss": V1.losses.hinge_loss,
    "losses.sigmoid_cross_entropy": V1.losses.sigmoid_cross_entropy,
    "losses.softmax_cross_entropy": V1.losses.softmax_cross_entropy,
    "losses.sparse_softmax_cross_entropy": V1.losses.sparse_softmax_cross_entropy,
    "nn.sigmoid_cross_entropy_with_logits": V1.nn.sigmoid_cross_entropy_with_logits,
    "nn.weighted_cross_entropy_with_logits": V1.nn.weighted_cross_entropy_with_logits,
    "nn.softmax_cross_entropy_with_logits": V1.nn.softmax_cross_entropy_with_logits,
    "nn.sparse_softmax_cross_entropy_with_logits": V1.nn.sparse_softmax_cross_entropy_with_logits,
    "nn.l2_loss": V1.nn.l2_loss,
    "nn.ctc_loss": V1.nn.ctc_loss,
    "nn.ctc_loss_v2": tf.nn.ctc_loss,
    "nn.ctc_greedy_decoder": V1.nn.ctc_greedy_decoder,
    "nn.ctc_beam_search_decoder": V1.nn.ctc_beam_search_decoder,
    "edit_distance": V1.edit_distance,
    "distributions.kl_divergence": V1.distributions.kl_divergence,
}


def signatures() -> dict[str, list[list[str]]]:
    """Parameter names and the repr of their defaults, as TensorFlow declares them."""
    import inspect

    out = {}
    for name, fn in SIGNATURES.items():
        params = inspect.signature(fn).parameters.values()
        out[name] = [
            [p.name, "" if p.default is inspect.Parameter.empty else repr(p.default)]
            for p in params
        ]
    return out


def main() -> None:
    losses_cases()
    nn_cases()
    other_cases()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "tensorflow": tf.__version__,
        "arrays": ARRAYS,
        "cases": CASES,
        "metrics": metric_cases(),
        "keras_legacy": keras_legacy_cases(),
        "signatures": signatures(),
        "gradients": gradient_cases(),
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"{len(CASES)} cases, {sum('raises' in c for c in CASES)} refusals -> {OUT}")


if __name__ == "__main__":
    main()
