"""Golden values of ``tf.edit_distance`` for losskit's edit distance tests.

Run once with TensorFlow installed (``tensorflow-cpu``); the tests read the JSON it writes and
never import TensorFlow:

    python scripts/golden/edit_distance.py

Cases: random integer sequences of lengths 0..40 over alphabets of 2..12 symbols (rank-2 sparse
tensors, one pair per row), the empty-hypothesis / empty-truth / both-empty corners, a rank-3
batch ``(2, 3, T)``, and word tokens (string values), each with ``normalize`` True and False.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "edit_distance"


def sparse(rows: list[list], batch_shape: tuple[int, ...]) -> tf.SparseTensor:
    """Sequences (one per batch element, row-major over ``batch_shape``) as a SparseTensor."""
    indices, values = [], []
    for flat, seq in enumerate(rows):
        prefix = list(np.unravel_index(flat, batch_shape)) if batch_shape else []
        for t, tok in enumerate(seq):
            indices.append([*map(int, prefix), t])
            values.append(tok)
    width = max([len(r) for r in rows] + [1])
    is_str = any(isinstance(v, str) for r in rows for v in r)
    dtype = tf.string if is_str else tf.int64
    idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(batch_shape) + 1)
    return tf.sparse.reorder(
        tf.SparseTensor(idx, tf.constant(values, dtype=dtype), [*batch_shape, width])
    )


def case(name: str, hyp: list[list], truth: list[list], batch_shape: tuple[int, ...]) -> dict:
    out = {"name": name, "hypothesis": hyp, "truth": truth, "batch_shape": list(batch_shape)}
    for normalize in (True, False):
        d = tf.edit_distance(sparse(hyp, batch_shape), sparse(truth, batch_shape), normalize)
        values = d.numpy().astype(np.float64).reshape(-1)
        # JSON has no inf: store it as a string.
        out[f"normalize_{normalize}"] = [v if np.isfinite(v) else str(v) for v in values.tolist()]
    return out


def main() -> None:
    rng = np.random.default_rng(20261130)
    cases = []
    hyp, truth = [], []
    for _ in range(300):
        alphabet = int(rng.integers(2, 13))
        hyp.append(rng.integers(0, alphabet, int(rng.integers(0, 41))).tolist())
        truth.append(rng.integers(0, alphabet, int(rng.integers(0, 41))).tolist())
    cases.append(case("random", hyp, truth, (len(hyp),)))
    corners_h = [[], [1, 2, 3], [], [5], [1, 2], [7, 7, 7, 7], [1, 2, 3], [3, 2, 1]]
    corners_t = [[1, 2, 3], [], [], [5], [2, 1], [7], [1, 2, 3], [1, 2, 3]]
    cases.append(case("corners", corners_h, corners_t, (len(corners_h),)))
    hyp3 = [rng.integers(0, 4, int(rng.integers(0, 9))).tolist() for _ in range(6)]
    truth3 = [rng.integers(0, 4, int(rng.integers(1, 9))).tolist() for _ in range(6)]
    cases.append(case("rank3", hyp3, truth3, (2, 3)))
    words_h = [["the", "cat", "sat", "on", "mat"], ["a", "b"], [], ["hello", "world"]]
    words_t = [["the", "cat", "sat", "on", "the", "mat"], ["b", "a"], ["x"], ["hello", "world"]]
    cases.append(case("words", words_h, words_t, (len(words_h),)))
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "scripts/golden/edit_distance.py", "tensorflow": tf.__version__}
    path = OUT / "tf_edit_distance.json"
    path.write_text(json.dumps({"meta": meta, "cases": cases}, indent=None) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
