"""Generate TensorFlow golden values for the cross-entropy tests.

Writes ``tests/data/cross_entropy/tensorflow.json``: inputs, per-element losses
(``Reduction.NONE``) and gradients of their sum with respect to the logits, computed by
TensorFlow's own ops in float64:

* ``tf.compat.v1.losses.sigmoid_cross_entropy`` with ``label_smoothing`` (targets pulled toward
  0.5: ``z (1 - ls) + 0.5 ls``);
* ``tf.nn.weighted_cross_entropy_with_logits`` (``pos_weight``);
* ``tf.compat.v1.losses.softmax_cross_entropy`` with ``label_smoothing``
  (``onehot (1 - ls) + ls / C``), for one-hot and soft targets;
* ``tf.nn.sparse_softmax_cross_entropy_with_logits``.

TensorFlow is not needed to run the tests; run this script (with ``tensorflow-cpu`` installed)
only to regenerate the file: ``python scripts/golden/cross_entropy.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "cross_entropy" / "tensorflow.json"
NONE = tf.compat.v1.losses.Reduction.NONE


def _loss_and_grad(fn, logits: np.ndarray) -> tuple[list, list]:
    x = tf.constant(logits, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = fn(x)
        total = tf.reduce_sum(loss)
    grad = tape.gradient(total, x)
    return loss.numpy().tolist(), grad.numpy().tolist()


def main() -> None:
    rng = np.random.default_rng(20151217)
    cases: dict[str, list[dict]] = {"sigmoid": [], "weighted": [], "softmax": [], "sparse": []}

    logits = np.concatenate(
        [rng.normal(0, 3, size=(6, 5)), [[-30.0, -5.0, 0.0, 5.0, 30.0]]]
    ).astype(np.float64)
    hard = (rng.random((7, 5)) < 0.4).astype(np.float64)
    soft = rng.random((7, 5))
    for name, labels in (("hard", hard), ("soft", soft)):
        for ls in (0.0, 0.1, 0.35):
            loss, grad = _loss_and_grad(
                lambda x, labels=labels, ls=ls: tf.compat.v1.losses.sigmoid_cross_entropy(
                    labels, x, label_smoothing=ls, reduction=NONE
                ),
                logits,
            )
            cases["sigmoid"].append(
                {
                    "targets": name,
                    "label_smoothing": ls,
                    "logits": logits.tolist(),
                    "labels": labels.tolist(),
                    "loss": loss,
                    "grad": grad,
                }
            )
    pos_weight = rng.uniform(0.2, 4.0, size=5)
    loss, grad = _loss_and_grad(
        lambda x: tf.nn.weighted_cross_entropy_with_logits(soft, x, pos_weight), logits
    )
    cases["weighted"].append(
        {
            "logits": logits.tolist(),
            "labels": soft.tolist(),
            "pos_weight": pos_weight.tolist(),
            "loss": loss,
            "grad": grad,
        }
    )

    c = 6
    logits2 = np.concatenate([rng.normal(0, 3, size=(7, c)), [[40.0, -40.0, 0, 1, 2, 3]]])
    index = rng.integers(0, c, size=8)
    onehot = np.eye(c)[index]
    soft2 = rng.dirichlet(np.ones(c), size=8)
    for name, labels in (("onehot", onehot), ("soft", soft2)):
        for ls in (0.0, 0.1, 0.35):
            loss, grad = _loss_and_grad(
                lambda x, labels=labels, ls=ls: tf.compat.v1.losses.softmax_cross_entropy(
                    labels, x, label_smoothing=ls, reduction=NONE
                ),
                logits2,
            )
            cases["softmax"].append(
                {
                    "targets": name,
                    "label_smoothing": ls,
                    "logits": logits2.tolist(),
                    "labels": labels.tolist(),
                    "loss": loss,
                    "grad": grad,
                }
            )
    loss, grad = _loss_and_grad(
        lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=index, logits=x), logits2
    )
    cases["sparse"].append(
        {"logits": logits2.tolist(), "labels": index.tolist(), "loss": loss, "grad": grad}
    )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "scripts/golden/cross_entropy.py", "tensorflow": tf.__version__}
    OUT.write_text(json.dumps({"meta": meta, **cases}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
