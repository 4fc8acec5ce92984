"""TensorFlow's own test cases, pointed at ``losskit.compat.tf``.

Inputs and expected values transcribed from TensorFlow's ``kernel_tests/nn_ops/losses_test.py``,
``nn_ops/ctc_loss_op_test.py``, ``nn_ops/ctc_decoder_ops_test.py``,
``array_ops/edit_distance_op_test.py``, ``nn_ops/xent_op_test_base``
(softmax and sparse softmax cross-entropy), and the ``l2_loss`` test of ``nn_test.py``; the same
tolerances (``assertAlmostEqual(..., 3)`` is an absolute 5e-4).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from losskit.compat import tf

L = tf.losses
R = tf.losses.Reduction


def close(got: torch.Tensor, want: object, atol: float = 5e-4, rtol: float = 0.0) -> None:
    torch.testing.assert_close(
        got.double(), torch.as_tensor(np.asarray(want, np.float64)), atol=atol, rtol=rtol
    )


# ---- absolute_difference / mean_squared_error (same fixture) --------------------------------
PRED = np.array([4, 8, 12, 8, 1, 3]).reshape(2, 3)
LAB = np.array([1, 9, 2, -5, -2, 6]).reshape(2, 3)


@pytest.mark.parametrize("fn", [L.absolute_difference, L.mean_squared_error, L.log_loss])
def test_value_error_when_weight_is_none(fn: object) -> None:
    with pytest.raises(ValueError, match="weights"):
        fn(LAB, PRED, weights=None)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("weights", "ad", "mse"),
    [
        (1.0, 5.5, 49.5),
        (2.3, 5.5 * 2.3, 49.5 * 2.3),
        (torch.tensor(2.3), 5.5 * 2.3, 49.5 * 2.3),
        (np.array([1.2, 0.0]).reshape(2, 1), 5.6, None),
        (np.array([1.2, 3.4]).reshape(2, 1), None, 767.8 / 6.0),
        (np.array([3, 6, 5, 0, 4, 2]).reshape(2, 3), 16.6, 587 / 5.0),
        (np.array([0, 0, 0, 0, 0, 2]).reshape(2, 3), 6.0, 18.0),
        (np.zeros((2, 3)), 0.0, 0.0),
    ],
)
def test_absolute_difference_and_mse(weights: object, ad: float | None, mse: float | None) -> None:
    if ad is not None:
        close(L.absolute_difference(LAB, PRED, weights), ad)
    if mse is not None:
        close(L.mean_squared_error(LAB, PRED, weights), mse)
    close(L.absolute_difference(PRED, PRED), 0.0)
    close(L.mean_squared_error(PRED, PRED), 0.0)


def test_mse_of_scalars() -> None:
    assert L.mean_squared_error(predictions=torch.tensor(0), labels=torch.tensor(0)).item() == 0.0


# ---- softmax / sparse softmax cross-entropy ---------------------------------------------------
LOGITS = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]], np.float32)
WRONG = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
BIG = np.array(
    [[100.0, -100.0, -100.0], [-100.0, 100.0, -100.0], [-100.0, -100.0, 100.0]], np.float32
)


def test_softmax_cross_entropy_cases() -> None:
    eye = np.eye(3, dtype=np.int64)
    with pytest.raises(ValueError):
        L.softmax_cross_entropy(eye, LOGITS, weights=None)
    close(L.softmax_cross_entropy(eye, LOGITS), 0.0)
    close(L.softmax_cross_entropy(WRONG, LOGITS), 10.0)
    close(L.softmax_cross_entropy(WRONG, LOGITS, 2.3), 23.0)
    close(L.softmax_cross_entropy(WRONG, LOGITS, torch.tensor(2.3)), 23.0)
    close(
        L.softmax_cross_entropy(WRONG, LOGITS, np.array([1.2, 3.4, 5.6])),
        (1.2 + 3.4 + 5.6) * 10.0 / 3.0,
    )
    close(L.softmax_cross_entropy(WRONG, LOGITS, np.zeros(3)), 0.0)
    close(L.softmax_cross_entropy(WRONG, LOGITS, np.array([1.2, 0, 0])), 12.0)
    with pytest.raises(ValueError, match="weights"):
        L.softmax_cross_entropy(eye, BIG, weights=np.array([[3, 4, 5], [2, 6, 0], [8, 0, 1]]))
    # label smoothing: 400 L / n
    close(
        L.softmax_cross_entropy([[1, 0, 0]], [[100.0, -100.0, -100.0]], label_smoothing=0.1),
        400.0 * 0.1 / 3.0,
    )


def test_sparse_softmax_cross_entropy_cases() -> None:
    col = np.array([[0], [1], [2]])
    wrong = np.array([[2], [0], [1]])
    with pytest.raises(ValueError):
        L.sparse_softmax_cross_entropy(col, LOGITS, weights=None)
    for labels in (col.astype(np.int32), col.astype(np.int64), np.array([0, 1, 2])):
        close(L.sparse_softmax_cross_entropy(labels, LOGITS), 0.0)
    for labels in (wrong.astype(np.int32), wrong.astype(np.int64), np.array([2, 0, 1])):
        close(L.sparse_softmax_cross_entropy(labels, LOGITS), 10.0)
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, 2.3), 23.0)
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, torch.tensor(2.3)), 23.0)
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, np.array([2.3])), 23.0)
    mean = (1.2 + 3.4 + 5.6) * 10.0 / 3.0
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, np.array([[1.2], [3.4], [5.6]])), mean)
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, np.zeros((3, 1))), 0.0)
    close(L.sparse_softmax_cross_entropy(wrong, LOGITS, np.array([[1.2], [0], [0]])), 12.0)
    with pytest.raises(ValueError):  # measurement-specific weights
        L.sparse_softmax_cross_entropy(
            col, BIG, weights=np.array([[3, 4, 5], [2, 6, 0], [8, 0, 1]])
        )
    with pytest.raises(ValueError):  # inconsistent weight size
        L.sparse_softmax_cross_entropy(col, BIG, weights=np.array([1.2, 3.4, 5.6, 7.8]))
    with pytest.raises(ValueError):  # inconsistent label size
        L.sparse_softmax_cross_entropy(
            np.array([[0], [1], [2], [3]]), BIG, weights=np.array([1.2, 3.4, 5.6])
        )
    big4 = np.full((4, 4), -100.0) + np.eye(4) * 200.0
    with pytest.raises(ValueError):  # inconsistent weight shape
        L.sparse_softmax_cross_entropy(
            np.array([[0], [1], [2], [3]]), big4, weights=np.array([[1.2, 3.4], [5.6, 7.8]])
        )
    with pytest.raises(ValueError, match="rank"):  # inconsistent label shape
        L.sparse_softmax_cross_entropy(np.array([[0, 1], [2, 3]]), big4, weights=1.2)


# ---- sigmoid cross-entropy ---------------------------------------------------------------------
def test_sigmoid_cross_entropy_cases() -> None:
    eye = np.eye(3, dtype=np.int64)
    loss = L.sigmoid_cross_entropy(eye, BIG)
    assert loss.dtype == torch.float32
    close(loss, 0.0)
    ones = np.ones((32, 1), np.float32)
    close(L.sigmoid_cross_entropy(ones, ones, np.ones_like(ones)), 0.313)
    ones2 = np.ones((32, 2), np.float32)
    close(L.sigmoid_cross_entropy(ones2, ones2, np.ones_like(ones2)), 0.313)
    close(L.sigmoid_cross_entropy(WRONG, BIG), 600.0 / 9.0)
    close(
        L.sigmoid_cross_entropy(WRONG, BIG, np.array([[3, 4, 5], [2, 6, 0], [8, 0, 1]])),
        1700.0 / 7.0,
    )
    multi = np.array([[100.0, -100.0, 100.0], [100.0, 100.0, -100.0], [-100.0, 100.0, 100.0]])
    close(
        L.sigmoid_cross_entropy(
            np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]]), multi.astype(np.float32)
        ),
        0.0,
    )
    logits64 = torch.tensor(
        ((100.0, -100.0, 100.0), (100.0, -100.0, 100.0), (100.0, 100.0, -100.0)),
        dtype=torch.float64,
    )
    labels64 = torch.tensor(((1, 0, 1), (1, 1, 0), (0, 1, 1)))
    loss = L.sigmoid_cross_entropy(labels64, logits64)
    assert loss.dtype == torch.float64
    close(loss, 44.444)
    close(
        L.sigmoid_cross_entropy(labels64, logits64.float(), reduction=R.NONE),
        ((0.0, 0.0, 0.0), (0.0, 100.0, 100.0), (100.0, 0.0, 100.0)),
    )
    close(
        L.sigmoid_cross_entropy([[1, 0, 1]], [[100.0, -100.0, -100.0]], label_smoothing=0.1),
        (100.0 + 50.0 * 0.1) / 3.0,
    )
    sig = L.sigmoid_cross_entropy([[1, 0, 1]], [[100.0, -100.0, -100.0]], label_smoothing=0.1)
    soft = L.softmax_cross_entropy(
        [[0, 1], [1, 0], [0, 1]], [[0.0, 100.0], [100.0, 0.0], [100.0, 0.0]], label_smoothing=0.1
    )
    close(sig, soft.item())


# ---- log loss ------------------------------------------------------------------------------------
P = np.asarray([0.9, 0.2, 0.2, 0.8, 0.4, 0.6]).reshape((2, 3))
Y = np.asarray([1.0, 0.0, 1.0, 1.0, 0.0, 0.0]).reshape((2, 3))
EXPECTED = Y * np.log(P + 1e-7) + (1 - Y) * np.log(1 - P + 1e-7)


def test_log_loss_cases() -> None:
    close(L.log_loss(Y, Y), 0.0)
    close(L.log_loss(Y, P), -EXPECTED.sum() / 6.0)
    close(L.log_loss(Y, P, 2.3), 2.3 * -EXPECTED.sum() / 6.0)
    close(L.log_loss(Y, P, torch.tensor(2.3)), 2.3 * -EXPECTED.sum() / 6.0)
    w = np.array([1.2, 3.4]).reshape(2, 1)
    close(L.log_loss(Y, P, w), -(EXPECTED * np.repeat(w, 3, 1)).sum() / 6.0)
    w = np.array([1.2, 0.0]).reshape(2, 1)
    close(L.log_loss(Y, P, w), -(EXPECTED * np.repeat(w, 3, 1)).sum() / 3.0)
    with pytest.raises(ValueError):
        L.log_loss(Y, P, np.random.default_rng(0).normal(size=(2, 4)))
    w = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
    close(L.log_loss(Y, P, w), -(EXPECTED * w).sum() / 5.0)
    w = np.array([0, 0, 0, 0, 0, 2]).reshape((2, 3))
    close(L.log_loss(Y, P, w), -(EXPECTED * w).sum())
    close(L.log_loss(Y, P, np.zeros((2, 3))), 0.0)


# ---- hinge and huber ---------------------------------------------------------------------
def test_hinge_loss_cases() -> None:
    with pytest.raises(ValueError):
        L.hinge_loss([0.0, 1.0], [[-1.0], [2.1]])
    close(L.hinge_loss([1.0, 0.0, 0.0, 1.0], [1.2, -1.4, -1.0, 2.1]), 0.0, atol=1e-3)
    close(
        L.hinge_loss([[0.0], [0.0], [1.0], [1.0]], [[-0.7], [-1.4], [1.4], [0.6]]), 0.175, atol=1e-3
    )
    close(
        L.hinge_loss([[[1.0], [0.0], [0.0], [1.0]]], [[[1.2], [0.4], [-1.0], [-1.1]]]),
        0.875,
        atol=1e-3,
    )


def test_huber_loss_cases() -> None:
    with pytest.raises(ValueError):
        L.huber_loss([0.0, 1.0], [[-1.0], [2.1]])
    pred = [1.5, -1.4, -1.0, 0.0]
    quadratic = 0.5 * (0.25 + 0.16 + 1.0 + 0.25) / 4.0
    linear = (1.5 + 2.4 + 1.0 + 1.5) / 4.0 - 0.5
    close(L.huber_loss([1.0, -1.0, 0.0, 0.5], pred), quadratic, atol=1e-5)
    close(L.huber_loss([0.0, 1.0, 0.0, 1.5], pred), linear, atol=1e-5)
    close(
        L.huber_loss([[1.0, -1.0, 0.0, 0.5], [0.0, 1.0, 0.0, 1.5]], [pred, pred]),
        (quadratic + linear) / 2.0,
        atol=1e-5,
    )
    close(
        L.huber_loss([1.0, -1.0, 0.0, 0.5], [1.5, -1.4, -0.5, 0.0], delta=0.5),
        0.5 * np.array([0.5**2, 0.4**2, 0.5**2, 0.5**2]).mean(),
        atol=1e-5,
    )
    close(
        L.huber_loss([0.0, 1.0, 0.0, 1.5], pred, delta=0.5),
        0.5 * np.array([1.5, 2.4, 1.0, 1.5]).mean() - 0.5 * 0.5**2,
        atol=1e-5,
    )


# ---- compute_weighted_loss -----------------------------------------------------------------
RAW = np.arange(24, dtype=np.float64).reshape(3, 2, 4)


@pytest.mark.parametrize("reduction", R.all())
@pytest.mark.parametrize(
    "shape",
    [None, (1, 1, 1), (1, 1, 4), (1, 2, 1), (1, 2, 4), (3, 1, 1), (3, 1, 4), (3, 2, 1), (3, 2, 4)],
)
def test_compute_weighted_loss_unweighted(reduction: str, shape: tuple[int, ...] | None) -> None:
    kwargs = {} if shape is None else {"weights": np.ones(shape)}
    loss = L.compute_weighted_loss(RAW, reduction=reduction, **kwargs)
    want = RAW if reduction == R.NONE else RAW.sum() if reduction == R.SUM else RAW.mean()
    close(loss, want, atol=1e-6)


def test_compute_weighted_loss_scalar_weight() -> None:
    close(L.compute_weighted_loss(RAW, weights=17.0), np.mean(17.0 * RAW), atol=1e-4)


@pytest.mark.parametrize(
    "weights",
    [
        np.zeros((2, 2, 2, 2)),
        (17.0, 5.0, 2.0),
        ((17.0,), (5.0,), (2.0,)),
        ((17.0, 3.0), (5.0, 31.0), (2.0, 7.0)),
        (17.0, 3.0),
        (17.0,),
    ],
)
def test_compute_weighted_loss_invalid_weights(weights: object) -> None:
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        L.compute_weighted_loss(RAW, weights=weights)


def test_compute_weighted_loss_mismatched_dim() -> None:
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        L.compute_weighted_loss(RAW.reshape(3, 2, 4, 1), weights=np.ones((3, 2, 4, 2)))


VALID = [
    (((17.0,),),),
    (((17.0,), (3.0,)),),
    (((17.0, 0.0, 2.0, 5.0),),),
    (((17.0,),), ((5.0,),), ((2.0,),)),
    (((17.0,), (3.0,)), ((5.0,), (31.0,)), ((2.0,), (7.0,))),
    (((17.0, 0.0, 2.0, 5.0),), ((5.0, 31.0, 17.0, 5.0),), ((7.0, 3.0, 11.0, 5.0),)),
    (((17.0, 0.0, 2.0, 5.0), (3.0, 13.0, 11.0, 2.0)),),
    (
        ((17.0, 0.0, 2.0, 5.0), (3.0, 13.0, 11.0, 2.0)),
        ((5.0, 31.0, 17.0, 5.0), (13.0, 3.0, 0.0, 11.0)),
        ((0.0, 3.0, 11.0, 5.0), (13.0, 11.0, 1.0, 7.0)),
    ),
]


@pytest.mark.parametrize("reduction", R.all())
@pytest.mark.parametrize("weights", VALID, ids=lambda w: str(np.asarray(w).shape))
def test_compute_weighted_loss_valid_weights(reduction: str, weights: object) -> None:
    w = np.asarray(weights)
    loss = L.compute_weighted_loss(RAW, weights=w, reduction=reduction)
    weighted = w * RAW
    broadcast = w * np.ones_like(RAW)
    want = {
        R.NONE: weighted,
        R.SUM: weighted.sum(),
        R.MEAN: weighted.sum() / broadcast.sum(),
        R.SUM_BY_NONZERO_WEIGHTS: weighted.sum() / np.count_nonzero(broadcast),
        R.SUM_OVER_BATCH_SIZE: weighted.sum() / RAW.size,
    }[reduction]
    close(loss, want, atol=1e-6)


def test_reduction_keys() -> None:
    assert R.all() == (
        "none",
        "weighted_sum",
        "weighted_mean",
        "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights",
        "weighted_sum_by_nonzero_weights",
    )
    assert R.SUM_OVER_NONZERO_WEIGHTS == R.SUM_BY_NONZERO_WEIGHTS
    for key in R.all():
        R.validate(key)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        R.validate("mean")


# ---- tf.nn cross-entropies and l2_loss ---------------------------------------------------------
FEATURES = [[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]]


def test_softmax_xent_np_case() -> None:
    logits = torch.tensor(FEATURES, requires_grad=True)
    loss = tf.nn.softmax_cross_entropy_with_logits(
        labels=[[0.0, 0.0, 0.0, 1.0], [0.0, 0.5, 0.5, 0.0]], logits=logits
    )
    close(loss, [1.3862, 1.9401], atol=1e-3, rtol=1e-3)
    loss.sum().backward()
    close(
        logits.grad,
        [[0.25, 0.25, 0.25, -0.75], [0.0321, -0.4129, -0.2632, 0.6439]],
        atol=1e-3,
        rtol=1e-3,
    )


def test_softmax_xent_single_class_loss() -> None:
    loss = tf.nn.softmax_cross_entropy_with_logits(
        labels=[[-1.0], [0.0], [1.0], [1.0]], logits=[[1.0], [-1.0], [0.0], [1.0]]
    )
    close(loss, [0.0, 0.0, 0.0, 0.0])


def test_sparse_xent_np_case_and_invalid_labels() -> None:
    logits = torch.tensor(FEATURES, requires_grad=True)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[3, 0], logits=logits)
    close(loss, [1.3862, 3.4420], atol=1e-3, rtol=1e-3)
    loss.sum().backward()
    close(
        logits.grad,
        [[0.25, 0.25, 0.25, -0.75], [-0.968, 0.087, 0.237, 0.6439]],
        atol=1e-3,
        rtol=1e-3,
    )
    with pytest.raises(ValueError, match="labels"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=[4, 3, 0, -1], logits=FEATURES + FEATURES
        )
    with pytest.raises(ValueError, match="rank"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=[1, 2], logits=[[[1.0, 1.0, 1.0, 1.0]], [[1.0, 2.0, 3.0, 4.0]]]
        )
    single = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=[0, 0, 0], logits=[[1.0], [-1.0], [0.0]]
    )
    close(single, [0.0, 0.0, 0.0])


def test_l2_loss_value_and_gradient() -> None:
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0]], requires_grad=True)
    loss = tf.nn.l2_loss(x)
    close(loss, 7.0, atol=1e-6)
    loss.backward()
    close(x.grad, x.detach(), atol=1e-6)
    assert tf.nn.l2_loss(torch.zeros(2, dtype=torch.float64)).dtype == torch.float64


# ---- CTC: Graves' two-sample case ----------------------------------------------------------------
P0 = np.asarray(
    [
        [0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
        [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
        [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
        [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
        [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
    ],
    np.float32,
)
G0 = np.asarray(
    [
        [-0.366234, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
        [0.111121, -0.411608, 0.278779, 0.0055756, 0.00569609, 0.010436],
        [0.0357786, 0.633813, -0.678582, 0.00249248, 0.00272882, 0.0037688],
        [0.0663296, -0.356151, 0.280111, 0.00283995, 0.0035545, 0.00331533],
        [-0.541765, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
    ],
    np.float32,
)
P1 = np.asarray(
    [
        [0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
        [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
        [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
        [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
        [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
    ],
    np.float32,
)
G1 = np.asarray(
    [
        [-0.69824, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
        [0.24082, -0.602467, 0.0557226, 0.0546814, 0.0557528, 0.19549],
        [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, -0.797544],
        [0.280884, -0.570478, 0.0326593, 0.0339046, 0.0326856, 0.190345],
        [-0.576714, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
    ],
    np.float32,
)


def _sparse(rows: list[list[int]]) -> torch.Tensor:
    idx = [[b, t] for b, row in enumerate(rows) for t in range(len(row))]
    return tf.SparseTensor(
        idx, [v for row in rows for v in row], [len(rows), max(len(r) for r in rows)]
    )


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_ctc_graves_case(api: str) -> None:
    frames = [np.vstack([np.log(P0)[t], np.log(P1)[t]]) for t in range(5)]
    frames += 2 * [np.full((2, 6), np.nan, np.float32)]  # beyond sequence_length
    inputs = torch.tensor(np.asarray(frames, np.float32), requires_grad=True)
    labels = _sparse([[0, 1, 2, 1, 0], [0, 1, 1, 0]])
    if api == "v1":
        loss = tf.nn.ctc_loss(labels, inputs, [5, 5])
    else:
        loss = tf.nn.ctc_loss_v2(labels, inputs, None, [5, 5], blank_index=-1)
    close(loss, [3.34211, 5.42262], atol=1e-5)
    loss.sum().backward()
    grad = [np.vstack([G0[t], G1[t]]) for t in range(5)] + 2 * [np.zeros((2, 6))]
    close(inputs.grad, np.asarray(grad), atol=1e-5)


def test_ctc_time_major() -> None:
    inputs = np.random.default_rng(0).normal(size=(2, 2, 3)).astype(np.float32)
    labels = _sparse([[0, 1], [1, 0]])
    a = tf.nn.ctc_loss(labels, inputs, [2, 2])
    b = tf.nn.ctc_loss(labels, inputs.transpose(1, 0, 2), [2, 2], time_major=False)
    torch.testing.assert_close(a, b)


def test_ctc_v2_validation() -> None:
    labels, one = [[0]], [1]
    with pytest.raises(ValueError, match="rank 3"):
        tf.nn.ctc_loss_v2(labels, [[1.0, 2.0]], one, one)
    with pytest.raises(ValueError, match="blank_index must lie in"):
        tf.nn.ctc_loss_v2(labels, np.zeros((1, 1, 3), np.float32), one, one, blank_index=-4)


# ---- edit distance -----------------------------------------------------------------------------
def _ed(h: tuple, t: tuple, normalize: bool) -> torch.Tensor:
    return tf.edit_distance(tf.SparseTensor(*h), tf.SparseTensor(*t), normalize=normalize)


def test_edit_distance_cases() -> None:
    close(
        _ed(
            ([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, -1], [2, 2]),
            ([[0, 0], [1, 0], [1, 1]], [0, 1, 1], [2, 2]),
            True,
        ),
        [1.0, 0.5],
        atol=1e-6,
    )
    close(
        _ed(
            ([[0, 0], [1, 0], [1, 1]], [10, 10, 11], [2, 2]),
            ([[0, 0], [0, 1], [1, 0], [1, 1]], [1, 2, 1, -1], [2, 3]),
            False,
        ),
        [2.0, 2.0],
        atol=1e-6,
    )
    # characters as their code points (a torch sparse tensor holds numbers)
    a, b = [ord(c) for c in "algorithm"], [ord(c) for c in "altruistic"]
    hyp = ([[0, i] for i in range(len(a))] + [[1, i] for i in range(len(b))], a + b, [2, 11])
    truth = ([[0, i] for i in range(len(b))] + [[1, i] for i in range(len(a))], b + a, [2, 11])
    close(_ed(hyp, truth, False), [6.0, 6.0], atol=1e-6)
    close(_ed(hyp, truth, True), [6.0 / 10, 6.0 / 9], atol=1e-6)
    out = _ed(
        ([[0, 0, 0], [1, 0, 0]], [0, 1], [2, 1, 1]),
        ([[0, 1, 0], [1, 0, 0], [1, 1, 0]], [0, 1, 1], [2, 2, 1]),
        True,
    )
    assert out.shape == (2, 2)
    close(out, [[np.inf, 1.0], [0.0, 1.0]], atol=1e-6)
    empty = (np.empty((0, 2), np.int64), [], [1, 0])
    close(_ed(empty, ([[0, 0]], [0], [1, 1]), True), [1.0])
    close(_ed(([[0, 0]], [0], [1, 1]), empty, True), [np.inf])
    close(_ed(empty, empty, True), [0.0])
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.edit_distance(tf.SparseTensor([[0]], [0], [1]), tf.SparseTensor([[0]], [1], [1]))


# ---- CTC v2 (dense labels, blank_index) against v1, as TensorFlow's CTCLossTestV2 -----------
def _dense_case(seed: int, low: int, high: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    batch, num_labels, max_len, frames = 8, 6, 5, 12
    logits = torch.rand(frames, batch, num_labels, generator=gen)
    labels = torch.randint(low, high, (batch, max_len), generator=gen)
    lengths = torch.randint(2, max_len, (batch,), generator=gen)
    labels = labels * (torch.arange(max_len) < lengths[:, None])
    return logits, labels, lengths


def _to_sparse(labels: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    keep = torch.arange(labels.shape[1]) < lengths[:, None]
    rows, cols = keep.nonzero(as_tuple=True)
    return tf.SparseTensor(torch.stack([rows, cols], 1), labels[rows, cols], list(labels.shape))


def _loss_and_grad(fn: object, logits: torch.Tensor, *args: object, **kw: object) -> tuple:
    x = logits.clone().requires_grad_()
    loss = fn(*args[:1], x, *args[1:], **kw)  # type: ignore[operator]
    loss.sum().backward()
    return loss.detach(), x.grad


def test_ctc_v2_sparse_equals_dense_blank_0() -> None:
    logits, labels, lengths = _dense_case(5, 1, 6)
    frames = [12] * 8
    ref = _loss_and_grad(tf.nn.ctc_loss_v2, logits, labels, lengths, frames)
    got = _loss_and_grad(
        tf.nn.ctc_loss_v2, logits, _to_sparse(labels, lengths), lengths, frames, blank_index=0
    )
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=2e-6, atol=2e-6)


def test_ctc_dense_blank_0_equals_v1_with_blank_last() -> None:
    logits, labels, lengths = _dense_case(6, 1, 6)
    logit_lengths = torch.arange(8) + 4
    dense = _loss_and_grad(tf.nn.ctc_loss_v2, logits, labels, lengths, logit_lengths)
    x = logits.clone().requires_grad_()
    shifted = torch.cat([x[:, :, 1:], x[:, :, :1]], dim=2)
    v1 = tf.nn.ctc_loss(_to_sparse(labels - 1, lengths), shifted, logit_lengths)
    v1.sum().backward()
    torch.testing.assert_close(dense[0], v1.detach(), rtol=4e-6, atol=4e-6)
    torch.testing.assert_close(dense[1], x.grad, rtol=4e-6, atol=4e-6)


@pytest.mark.parametrize("blank_index", [2, -1])
def test_ctc_dense_with_blank_index_equals_v1(blank_index: int) -> None:
    logits, labels, lengths = _dense_case(7, 0, 5)
    frames = [12] * 8
    x = logits.clone().requires_grad_()
    v1 = tf.nn.ctc_loss(_to_sparse(labels, lengths), x, frames)
    v1.sum().backward()
    y = logits.clone().requires_grad_()
    if blank_index == -1:
        dense = tf.nn.ctc_loss_v2(labels, y, lengths, frames, blank_index=-1)
    else:  # the blank logits moved to the middle, the labels shifted around it
        moved = torch.cat([y[:, :, :blank_index], y[:, :, -1:], y[:, :, blank_index:-1]], 2)
        shifted = torch.where(labels < blank_index, labels, labels + 1)
        dense = tf.nn.ctc_loss_v2(shifted, moved, lengths, frames, blank_index=blank_index)
    dense.sum().backward()
    torch.testing.assert_close(dense.detach(), v1.detach(), rtol=2e-6, atol=2e-6)
    torch.testing.assert_close(y.grad, x.grad, rtol=2e-6, atol=2e-6)


def test_ctc_collapse_repeated_as_tensorflow() -> None:
    # TensorFlow's collapse_repeated cases, seen through preprocess_collapse_repeated: the loss of
    # the collapsed labels equals the loss of the labels with the repeats merged by hand
    logits = torch.randn(12, 3, 10, generator=torch.Generator().manual_seed(0))
    raw = [[1, 3, 3, 3], [1, 4, 4, 4, 0], [4, 2, 2, 8, 4]]
    merged = [[1, 3], [1, 4, 0], [4, 2, 8, 4]]
    a = tf.nn.ctc_loss(_sparse(raw), logits, [12] * 3, preprocess_collapse_repeated=True)
    b = tf.nn.ctc_loss(_sparse(merged), logits, [12] * 3)
    torch.testing.assert_close(a, b)


# ---- CTC decoders (TensorFlow's ctc_decoder_ops_test) ------------------------------------------
def _assert_sparse(st: torch.Tensor, indices: list, values: list, shape: list) -> None:
    st = st.coalesce()
    assert st.indices().T.tolist() == indices
    assert st.values().tolist() == values
    assert list(st.shape) == shape


def test_ctc_greedy_decoder_case() -> None:
    p0 = np.asarray(
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.4, 0.6],
            [0.0, 0.0, 0.4, 0.6],
            [0.0, 0.9, 0.1, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ],
        np.float32,
    )
    p1 = np.asarray(
        [
            [0.1, 0.9, 0.0, 0.0],
            [0.0, 0.9, 0.1, 0.0],
            [0.0, 0.0, 0.1, 0.9],
            [0.0, 0.9, 0.1, 0.1],
            [0.9, 0.1, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ],
        np.float32,
    )
    with np.errstate(divide="ignore"):
        inputs = np.array([np.vstack([np.log(p0)[t], np.log(p1)[t]]) for t in range(6)])
    want = np.array([np.sum(-np.log([1.0, 0.6, 0.6, 0.9])), np.sum(-np.log([0.9] * 5))])[:, None]
    indices, values, shape = [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]], [0, 1, 1, 1, 0], [2, 3]
    decoded, neg_sum = tf.nn.ctc_greedy_decoder(inputs, [4, 5])
    _assert_sparse(decoded[0], indices, values, shape)
    close(neg_sum, want, atol=1e-6)
    moved = np.concatenate((inputs[:, :, :2], inputs[:, :, -1:], inputs[:, :, 2:-1]), axis=2)
    for blank_index in (2, -2):
        decoded, neg_sum = tf.nn.ctc_greedy_decoder(moved, [4, 5], blank_index=blank_index)
        _assert_sparse(decoded[0], indices, values, shape)
        close(neg_sum, want, atol=1e-6)


def test_ctc_beam_search_decoder_case() -> None:
    p0 = (
        np.asarray(
            [
                [0.30999, 0.309938, 0.0679938, 0.0673362, 0.0708352, 0.173908],
                [0.215136, 0.439699, 0.0370931, 0.0393967, 0.0381581, 0.230517],
                [0.199959, 0.489485, 0.0233221, 0.0251417, 0.0233289, 0.238763],
                [0.279611, 0.452966, 0.0204795, 0.0209126, 0.0194803, 0.20655],
                [0.51286, 0.288951, 0.0243026, 0.0220788, 0.0219297, 0.129878],
                [0.155251, 0.164444, 0.173517, 0.176138, 0.169979, 0.160671],
            ],
            np.float32,
        )
        + 2.0
    )
    inputs = np.array([p0[t][None] for t in range(5)] + 2 * [np.zeros((1, 6), np.float32)])
    decoded, log_prob = tf.nn.ctc_beam_search_decoder(inputs, [5], beam_width=2, top_paths=2)
    assert len(decoded) == 2
    _assert_sparse(decoded[0], [[0, 0], [0, 1]], [1, 0], [1, 2])
    _assert_sparse(decoded[1], [[0, 0]], [1], [1, 1])
    close(log_prob, [[-5.811451, -6.63339]], atol=1e-5)
    with pytest.raises(ValueError, match="top_paths"):
        tf.nn.ctc_beam_search_decoder(inputs, [5], beam_width=2, top_paths=3)
