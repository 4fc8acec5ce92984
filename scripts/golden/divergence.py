"""Golden values of TensorFlow's ``tf.compat.v1.distributions.kl_divergence`` for the KL tests.

``kl_divergence(distribution_a, distribution_b)`` is KL(a || b). The tests rebuild the same
distributions with ``torch.distributions`` and compare ``losskit.kl_divergence`` with the stored
values without importing TensorFlow. Regenerate with::

    /path/to/venv/bin/python scripts/golden/divergence.py

(the venv needs ``tensorflow-cpu``); it rewrites ``tests/data/divergence/tf_kl_divergence.json``.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "divergence" / "tf_kl_divergence.json"


def main() -> None:
    warnings.filterwarnings("ignore")
    tfd = tf.compat.v1.distributions
    rng = np.random.default_rng(20240602)

    def pos(*shape: int) -> np.ndarray:
        return rng.uniform(0.3, 3.0, size=shape)

    params = {
        "Normal": (
            {"loc": rng.normal(size=5), "scale": pos(5)},
            {"loc": rng.normal(size=5), "scale": pos(5)},
        ),
        "Bernoulli": ({"probs": rng.uniform(0.05, 0.95, 4)}, {"probs": rng.uniform(0.05, 0.95, 4)}),
        "Beta": (
            {"concentration1": pos(4), "concentration0": pos(4)},
            {"concentration1": pos(4), "concentration0": pos(4)},
        ),
        "Gamma": (
            {"concentration": pos(4), "rate": pos(4)},
            {"concentration": pos(4), "rate": pos(4)},
        ),
        "Categorical": ({"logits": rng.normal(size=(3, 6))}, {"logits": rng.normal(size=(3, 6))}),
        "Dirichlet": ({"concentration": pos(3, 4)}, {"concentration": pos(3, 4)}),
    }
    cases = []
    for name, (pa, pb) in params.items():
        cls = getattr(tfd, name)
        a = cls(**{k: tf.constant(v) for k, v in pa.items()})
        b = cls(**{k: tf.constant(v) for k, v in pb.items()})
        kl = tfd.kl_divergence(a, b, allow_nan_stats=True).numpy()
        cases.append(
            {
                "distribution": name,
                "a": {k: v.tolist() for k, v in pa.items()},
                "b": {k: v.tolist() for k, v in pb.items()},
                "kl_a_b": kl.tolist(),
            }
        )
    payload = {
        "generator": "scripts/golden/divergence.py",
        "tensorflow": tf.__version__,
        "function": "tf.compat.v1.distributions.kl_divergence(a, b) = KL(a || b), float64",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
