"""Golden values of losskit's CTC functions from TensorFlow (run once; the tests read the files).

    PYTHONPATH=src python scripts/golden/ctc.py

Writes ``tests/data/ctc/tf_ctc.npz``:

* ``loss{i}_*``: ``tf.compat.v1.nn.ctc_loss`` on float64 logits (time-major, blank = C - 1) for
  every combination of ``preprocess_collapse_repeated`` x ``ctc_merge_repeated`` and with
  ``ignore_longer_outputs_than_inputs``: the per-sample loss and the gradient of the summed
  loss w.r.t. the logits.
* ``greedy{i}_*``: ``tf.nn.ctc_greedy_decoder`` (decoded dense rows padded with -1,
  ``neg_sum_logits``) for both ``merge_repeated``.
* ``beam{i}_*``: ``tf.compat.v1.nn.ctc_beam_search_decoder`` with ``merge_repeated=False``
  (TF2's ``tf.nn.ctc_beam_search_decoder``) and ``merge_repeated=True``, decoded top paths and
  log-probabilities, for several beam widths.
* ``v2_*``: blank = 0 through the TF2 APIs that take ``blank_index``: ``tf.nn.ctc_loss`` (loss
  and gradient) and ``tf.nn.ctc_greedy_decoder``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "ctc" / "tf_ctc.npz"


def sparse(labels: list[list[int]]) -> tf.SparseTensor:
    index = [[i, j] for i, row in enumerate(labels) for j in range(len(row))]
    values = [v for row in labels for v in row]
    width = max([len(r) for r in labels] + [1])
    return tf.SparseTensor(
        np.array(index, np.int64).reshape(-1, 2), np.array(values, np.int32), [len(labels), width]
    )


def padded(labels: list[list[int]], width: int) -> np.ndarray:
    out = np.full((len(labels), width), -1, np.int64)
    for i, row in enumerate(labels):
        out[i, : len(row)] = row
    return out


def dense(sp: tf.SparseTensor, batch: int) -> np.ndarray:
    shape = [batch, max(int(sp.dense_shape[1]), 0)]
    sp = tf.SparseTensor(sp.indices, sp.values, shape)
    return tf.sparse.to_dense(sp, default_value=-1).numpy().astype(np.int64)


def main() -> None:
    rng = np.random.default_rng(20240611)
    data: dict[str, np.ndarray] = {}

    # ---- loss ------------------------------------------------------------------------------
    classes = 5  # blank = 4
    label_sets = [
        ([[1, 1, 2], [0, 0], [3, 1, 3, 3], [2], [0, 1, 2, 3], [2, 2, 2]], [9, 8, 9, 5, 7, 9]),
        ([[0, 3, 3, 0], [1], [2, 2], [3, 0, 1, 1, 1]], [10, 6, 4, 10]),
    ]
    case = 0
    for labels, seq in label_sets:
        frames = max(seq)
        for collapse in (False, True):
            for merge in (True, False):
                logits = rng.normal(size=(frames, len(labels), classes)) * 1.5
                x = tf.constant(logits)
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = tf.compat.v1.nn.ctc_loss(
                        sparse(labels),
                        x,
                        np.array(seq, np.int32),
                        preprocess_collapse_repeated=collapse,
                        ctc_merge_repeated=merge,
                    )
                grad = tape.gradient(loss, x)
                key = f"loss{case}_"
                data[key + "logits"] = logits
                data[key + "targets"] = padded(labels, 5)
                data[key + "target_lengths"] = np.array([len(r) for r in labels], np.int64)
                data[key + "input_lengths"] = np.array(seq, np.int64)
                data[key + "options"] = np.array([collapse, merge, False])
                data[key + "loss"] = loss.numpy()
                data[key + "grad"] = grad.numpy()
                case += 1
    # ignore_longer_outputs_than_inputs: samples 1 and 3 have more labels than frames.
    labels = [[1, 2, 1], [0, 1, 2, 3, 0, 1], [3, 3], [2, 2, 2, 2, 2]]
    seq = [6, 4, 6, 3]
    for collapse in (False, True):
        for merge in (True, False):
            logits = rng.normal(size=(6, len(labels), classes)) * 1.5
            x = tf.constant(logits)
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.compat.v1.nn.ctc_loss(
                    sparse(labels),
                    x,
                    np.array(seq, np.int32),
                    preprocess_collapse_repeated=collapse,
                    ctc_merge_repeated=merge,
                    ignore_longer_outputs_than_inputs=True,
                )
            grad = tape.gradient(loss, x)
            key = f"loss{case}_"
            data[key + "logits"] = logits
            data[key + "targets"] = padded(labels, 6)
            data[key + "target_lengths"] = np.array([len(r) for r in labels], np.int64)
            data[key + "input_lengths"] = np.array(seq, np.int64)
            data[key + "options"] = np.array([collapse, merge, True])
            data[key + "loss"] = loss.numpy()
            data[key + "grad"] = grad.numpy()
            case += 1
    data["loss_cases"] = np.array(case)

    # ---- greedy ----------------------------------------------------------------------------
    case = 0
    for frames, batch, classes in ((12, 5, 4), (20, 3, 7)):
        logits = (rng.normal(size=(frames, batch, classes)) * 2).astype(np.float32)
        # Make runs of the same best class (so that merging matters).
        logits[1::3] = logits[0::3][: logits[1::3].shape[0]]
        seq = rng.integers(0, frames + 1, size=batch).astype(np.int32)
        seq[0] = frames
        for merge in (True, False):
            decoded, neg_sum = tf.nn.ctc_greedy_decoder(logits, seq, merge_repeated=merge)
            key = f"greedy{case}_"
            data[key + "logits"] = logits
            data[key + "input_lengths"] = seq.astype(np.int64)
            data[key + "merge"] = np.array(merge)
            data[key + "decoded"] = dense(decoded[0], batch)
            data[key + "neg_sum_logits"] = neg_sum.numpy()[:, 0]
            case += 1
    data["greedy_cases"] = np.array(case)

    # ---- beam search -----------------------------------------------------------------------
    case = 0
    for frames, batch, classes, beam, top in (
        (8, 4, 4, 1, 1),
        (10, 4, 5, 3, 2),
        (10, 4, 5, 10, 3),
        (12, 3, 6, 25, 5),
        (6, 3, 3, 100, 4),
        (30, 6, 10, 16, 4),
        (40, 4, 8, 50, 10),
    ):
        logits = (rng.normal(size=(frames, batch, classes)) * 1.5).astype(np.float32)
        logits[1::2] = (
            logits[0::2][: logits[1::2].shape[0]]
            + rng.normal(size=logits[1::2].shape).astype(np.float32) * 0.3
        )
        seq = rng.integers(frames // 2, frames + 1, size=batch).astype(np.int32)
        seq[0] = frames
        key = f"beam{case}_"
        data[key + "logits"] = logits
        data[key + "input_lengths"] = seq.astype(np.int64)
        data[key + "config"] = np.array([beam, top])
        for merge in (False, True):
            decoded, log_probs = tf.compat.v1.nn.ctc_beam_search_decoder(
                logits, seq, beam_width=beam, top_paths=top, merge_repeated=merge
            )
            tag = "merged_" if merge else ""
            data[key + tag + "decoded"] = np.stack(
                [_pad_to(dense(d, batch), frames) for d in decoded], axis=1
            )
            data[key + tag + "log_probs"] = log_probs.numpy()
        case += 1
    data["beam_cases"] = np.array(case)

    # ---- blank = 0 (TF2 APIs that take blank_index) ------------------------------------------
    rng = np.random.default_rng(7)
    frames, batch, classes = 9, 4, 5
    logits = (rng.normal(size=(frames, batch, classes)) * 1.5).astype(np.float32)  # TF2: float32
    labels = np.array([[1, 1, 2, 4], [3, 4, 0, 0], [2, 0, 0, 0], [4, 4, 4, 1]], np.int32)
    label_lengths = np.array([4, 2, 1, 4], np.int32)
    logit_lengths = np.array([9, 7, 5, 9], np.int32)
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.ctc_loss(
            labels, x, label_lengths, logit_lengths, logits_time_major=True, blank_index=0
        )
    data["v2_logits"] = logits
    data["v2_targets"] = labels.astype(np.int64)
    data["v2_target_lengths"] = label_lengths.astype(np.int64)
    data["v2_input_lengths"] = logit_lengths.astype(np.int64)
    data["v2_loss"] = loss.numpy()
    data["v2_grad"] = tape.gradient(loss, x).numpy()
    greedy_logits = logits
    for merge in (True, False):
        decoded, neg_sum = tf.nn.ctc_greedy_decoder(
            greedy_logits, logit_lengths, merge_repeated=merge, blank_index=0
        )
        tag = "merged" if merge else "plain"
        data[f"v2_greedy_{tag}_decoded"] = dense(decoded[0], batch)
        data[f"v2_greedy_{tag}_neg_sum_logits"] = neg_sum.numpy()[:, 0]

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({len(data)} arrays)")


def _pad_to(rows: np.ndarray, width: int) -> np.ndarray:
    out = np.full((rows.shape[0], width), -1, np.int64)
    out[:, : rows.shape[1]] = rows
    return out


if __name__ == "__main__":
    main()
