"""Golden values of TensorFlow-1 ``compute_weighted_loss`` for every ``Reduction``.

Run once in an environment with ``tensorflow-cpu``; writes
``tests/data/reduction/tf_compute_weighted_loss.json``. The tests read the file and never import
TensorFlow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "reduction"
R = tf.compat.v1.losses.Reduction
MODES = {
    "none": R.NONE,
    "sum": R.SUM,
    "mean": R.MEAN,
    "sum_over_batch_size": R.SUM_OVER_BATCH_SIZE,
    "sum_by_nonzero_weights": R.SUM_BY_NONZERO_WEIGHTS,
}


def main() -> None:
    rng = np.random.default_rng(0)
    losses = rng.normal(size=(4, 3)).round(3)
    weight_cases = {
        "scalar": 2.0,
        "scalar_zero": 0.0,
        "per_sample": rng.uniform(size=(4, 1)).round(3) * np.array([[1], [0], [1], [1]]),
        "full": rng.uniform(size=(4, 3)).round(3) * (rng.uniform(size=(4, 3)) > 0.3),
        "row": np.array([[0.0, 1.5, 2.0]]),
        "all_zero": np.zeros((4, 3)),
    }
    cases = []
    for wname, w in weight_cases.items():
        for mode, reduction in MODES.items():
            out = tf.compat.v1.losses.compute_weighted_loss(
                tf.constant(losses, tf.float64), tf.constant(w, tf.float64), reduction=reduction
            )
            cases.append(
                {
                    "weights_name": wname,
                    "weights": np.asarray(w).tolist(),
                    "reduction": mode,
                    "expected": np.asarray(out).tolist(),
                }
            )
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"tensorflow": tf.__version__, "losses": losses.tolist(), "cases": cases}
    (OUT / "tf_compute_weighted_loss.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
