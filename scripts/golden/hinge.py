"""Golden values of TensorFlow's ``tf.compat.v1.losses.hinge_loss`` for the hinge tests.

TensorFlow maps {0, 1} labels to {-1, 1} by ``2 * labels - 1`` and returns
``relu(1 - labels * logits)``. The tests compare ``losskit.hinge_loss`` with the stored values
without importing TensorFlow. Regenerate with::

    /path/to/venv/bin/python scripts/golden/hinge.py

(the venv needs ``tensorflow-cpu``); it rewrites ``tests/data/hinge/tf_hinge_loss.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "hinge" / "tf_hinge_loss.json"

REDUCTIONS = {
    "none": tf.compat.v1.losses.Reduction.NONE,
    "sum": tf.compat.v1.losses.Reduction.SUM,
    "sum_by_nonzero_weights": tf.compat.v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS,
}


def case(name: str, logits: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    results = {
        key: tf.compat.v1.losses.hinge_loss(
            labels=tf.constant(labels), logits=tf.constant(logits), reduction=red
        )
        .numpy()
        .tolist()
        for key, red in REDUCTIONS.items()
    }
    return {
        "name": name,
        "logits": logits.tolist(),
        "labels": labels.tolist(),
        "loss": results,
    }


def main() -> None:
    rng = np.random.default_rng(20240601)
    cases = [
        case(
            "hard labels, (4, 5)",
            rng.normal(scale=2.0, size=(4, 5)),
            rng.integers(0, 2, size=(4, 5)).astype(np.float64),
        ),
        case(
            "hard labels at the hinge and far from it",
            np.array([-1.0, 1.0, 0.0, 1e4, -1e4, 0.999, -0.999, 3.0]),
            np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]),
        ),
        case(
            "soft labels in [0, 1] (affine map 2y - 1)",
            rng.normal(size=(3, 4)),
            rng.uniform(size=(3, 4)),
        ),
    ]
    payload = {
        "generator": "scripts/golden/hinge.py",
        "tensorflow": tf.__version__,
        "function": "tf.compat.v1.losses.hinge_loss(labels, logits, reduction=...)",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
