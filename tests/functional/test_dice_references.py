"""Dice, Jaccard and Tversky against other libraries: MONAI, Keras 3 (torch backend) and
scikit-learn's F1 and Jaccard scores on hard masks.
"""

from __future__ import annotations

import pytest
import torch

from losskit import dice_coefficient, dice_loss, jaccard_loss, tversky_loss

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------
# MONAI


@pytest.fixture
def monai_losses():  # type: ignore[no-untyped-def]
    return pytest.importorskip("monai.losses")


def _monai_mean_over_classes(loss: torch.Tensor) -> torch.Tensor:
    """MONAI's reduction="none" is (N, C, 1, ...) (or (C, 1, ...) with batch): class mean."""
    return loss.flatten(1).mean(1) if loss.dim() > 1 else loss.mean()


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("jaccard", [False, True])
@pytest.mark.parametrize("smooth_nr,smooth_dr", [(1e-5, 1e-5), (0.0, 1e-5), (1.0, 1.0)])
def test_monai_multiclass(
    monai_losses, batch: bool, squared: bool, jaccard: bool, smooth_nr: float, smooth_dr: float
) -> None:
    gen = _gen(4)
    logits = torch.randn(3, 4, 6, 7, generator=gen, dtype=F64)
    labels = torch.randint(0, 4, (3, 6, 7), generator=gen)
    labels[0, 0] = 0  # some classes absent from some samples
    monai = monai_losses.DiceLoss(
        to_onehot_y=True,
        softmax=True,
        squared_pred=squared,
        jaccard=jaccard,
        batch=batch,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        reduction="none",
    )
    expected = monai(logits, labels.unsqueeze(1))
    fn = jaccard_loss if jaccard else dice_loss
    # MONAI's Jaccard is (2I + nr) / (2(|X| + |Y| - I) + dr): its smoothing counts half
    scale = 0.5 if jaccard else 1.0
    opts = {
        "mode": "multiclass",
        "from_logits": True,
        "squared": squared,
        "batch": batch,
        "smooth": scale * smooth_nr,
        "eps": scale * (smooth_dr - smooth_nr),
    }
    got = fn(logits, labels, reduction="none", **opts)
    if batch:
        expected = expected.flatten()
        torch.testing.assert_close(got, expected.mean())
    else:
        torch.testing.assert_close(got, _monai_mean_over_classes(expected))
    # include_background=False is a class weight with 0 for class 0
    monai_nb = monai_losses.DiceLoss(
        include_background=False,
        to_onehot_y=True,
        softmax=True,
        squared_pred=squared,
        jaccard=jaccard,
        batch=batch,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
    )
    w = torch.tensor([0.0, 1.0, 1.0, 1.0], dtype=F64)
    torch.testing.assert_close(
        fn(logits, labels, class_weight=w, **opts), monai_nb(logits, labels.unsqueeze(1))
    )


def test_monai_class_weight_and_ignore_index(monai_losses) -> None:
    gen = _gen(5)
    logits = torch.randn(2, 3, 8, 8, generator=gen, dtype=F64)
    labels = torch.randint(0, 3, (2, 8, 8), generator=gen)
    labels[:, :2] = 255
    w = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    monai = monai_losses.DiceLoss(to_onehot_y=True, softmax=True, weight=w, ignore_index=255)
    got = dice_loss(
        logits,
        labels,
        mode="multiclass",
        from_logits=True,
        smooth=1e-5,
        eps=0.0,
        class_weight=w,
        ignore_index=255,
    )
    # MONAI multiplies by the weights and then takes a plain mean over the classes
    torch.testing.assert_close(got * w.sum() / 3, monai(logits, labels.unsqueeze(1)))


@pytest.mark.parametrize("batch", [False, True])
def test_monai_binary_and_multilabel(monai_losses, batch: bool) -> None:
    gen = _gen(6)
    logits = torch.randn(4, 1, 9, 9, generator=gen, dtype=F64)
    target = (torch.rand(4, 1, 9, 9, generator=gen) > 0.6).to(F64)
    monai = monai_losses.DiceLoss(sigmoid=True, batch=batch)
    torch.testing.assert_close(
        dice_loss(logits, target, from_logits=True, batch=batch, smooth=1e-5, eps=0.0),
        monai(logits, target),
    )
    logits = torch.randn(4, 3, 9, 9, generator=gen, dtype=F64)
    target = torch.rand(4, 3, 9, 9, generator=gen, dtype=F64).round()
    monai = monai_losses.DiceLoss(
        sigmoid=True, batch=batch, squared_pred=True, smooth_nr=0.0, smooth_dr=1e-3
    )
    torch.testing.assert_close(
        dice_loss(
            logits, target, mode="multilabel", from_logits=True, batch=batch, squared=True, eps=1e-3
        ),
        monai(logits, target),
    )


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.3, 0.7), (1.0, 0.2)])
@pytest.mark.parametrize("batch", [False, True])
def test_monai_tversky(monai_losses, alpha: float, beta: float, batch: bool) -> None:
    gen = _gen(7)
    logits = torch.randn(3, 4, 6, 6, generator=gen, dtype=F64)
    labels = torch.randint(0, 4, (3, 6, 6), generator=gen)
    monai = monai_losses.TverskyLoss(
        to_onehot_y=True, softmax=True, alpha=alpha, beta=beta, batch=batch
    )
    got = tversky_loss(
        logits,
        labels,
        mode="multiclass",
        from_logits=True,
        alpha=alpha,
        beta=beta,
        batch=batch,
        smooth=1e-5,
        eps=0.0,
    )
    torch.testing.assert_close(got, monai(logits, labels.unsqueeze(1)))


GRADIENT_CASES = [
    # (losskit options, MONAI DiceLoss options); MONAI's defaults smooth_nr = smooth_dr = 1e-5
    ({"mode": "multiclass", "from_logits": True}, {"to_onehot_y": True, "softmax": True}),
    (
        {"mode": "multiclass", "from_logits": True, "batch": True, "squared": True},
        {"to_onehot_y": True, "softmax": True, "batch": True, "squared_pred": True},
    ),
    (
        {"mode": "multiclass", "from_logits": True, "ignore_index": 255},
        {"to_onehot_y": True, "softmax": True, "ignore_index": 255},
    ),
    (
        {"mode": "multiclass", "from_logits": False},
        {"to_onehot_y": True},
    ),
    ({"mode": "multilabel", "from_logits": True}, {"sigmoid": True}),
    (
        {"mode": "multilabel", "from_logits": True, "squared": True, "batch": True},
        {"sigmoid": True, "squared_pred": True, "batch": True},
    ),
    ({"mode": "binary", "from_logits": True}, {"sigmoid": True}),
    ({"mode": "binary", "from_logits": False}, {}),
]


@pytest.mark.parametrize("case", range(len(GRADIENT_CASES)))
def test_monai_gradients_match(monai_losses, case: int) -> None:
    options, monai_options = GRADIENT_CASES[case]
    gen = _gen(8)
    mode = options["mode"]
    channels = 1 if mode == "binary" else 3
    x = torch.randn(2, channels, 5, 5, generator=gen, dtype=F64)
    if not options["from_logits"]:
        x = x.softmax(1) if mode == "multiclass" else x.sigmoid()
    x.requires_grad_()
    if mode == "multiclass":
        target = torch.randint(0, 3, (2, 5, 5), generator=gen)
        if "ignore_index" in options:
            target[0, :2] = 255
        monai_target = target.unsqueeze(1)
    else:
        target = (torch.rand(2, channels, 5, 5, generator=gen) > 0.5).to(F64)
        monai_target = target
    monai = monai_losses.DiceLoss(**monai_options)
    (g_ref,) = torch.autograd.grad(monai(x, monai_target), x)
    got = dice_loss(x, target, smooth=1e-5, eps=0.0, **options)
    (g,) = torch.autograd.grad(got, x)
    torch.testing.assert_close(g, g_ref)


@pytest.mark.parametrize("mode", ["multiclass", "multilabel"])
def test_monai_tversky_gradients_match(monai_losses, mode: str) -> None:
    gen = _gen(19)
    x = torch.randn(2, 3, 4, 6, generator=gen, dtype=F64, requires_grad=True)
    if mode == "multiclass":
        target = torch.randint(0, 3, (2, 4, 6), generator=gen)
        monai = monai_losses.TverskyLoss(to_onehot_y=True, softmax=True, alpha=0.2, beta=0.8)
        monai_target = target.unsqueeze(1)
    else:
        target = (torch.rand(2, 3, 4, 6, generator=gen) > 0.5).to(F64)
        monai = monai_losses.TverskyLoss(sigmoid=True, alpha=0.2, beta=0.8)
        monai_target = target
    (g_ref,) = torch.autograd.grad(monai(x, monai_target), x)
    got = tversky_loss(
        x, target, mode=mode, from_logits=True, alpha=0.2, beta=0.8, smooth=1e-5, eps=0.0
    )
    (g,) = torch.autograd.grad(got, x)
    torch.testing.assert_close(g, g_ref)


# --------------------------------------------------------------------------------------------
# Keras 3 (torch backend)


@pytest.fixture
def keras():  # type: ignore[no-untyped-def]
    return pytest.importorskip("keras")


def _np(t: torch.Tensor):  # type: ignore[no-untyped-def]
    return t.detach().cpu().numpy()


def test_keras_dice(keras) -> None:
    gen = _gen(9)
    y_pred = torch.rand(4, 8, 8, 1, generator=gen)
    y_true = (torch.rand(4, 8, 8, 1, generator=gen) > 0.6).float()
    eps = keras.backend.epsilon()  # 1e-7, denominator only
    # axis=None: one Dice over everything (the batch included)
    expected = torch.as_tensor(_np(keras.losses.dice(y_true, y_pred)))
    torch.testing.assert_close(dice_loss(y_pred, y_true, batch=True, eps=eps), expected)
    # axis=(1, 2, 3): one Dice per sample
    expected = torch.as_tensor(_np(keras.losses.dice(y_true, y_pred, axis=(1, 2, 3))))
    got = dice_loss(y_pred, y_true, eps=eps, reduction="none")
    torch.testing.assert_close(got, expected)
    # the Dice class reduces per-sample values with "sum_over_batch_size" (a mean)
    expected = torch.as_tensor(_np(keras.losses.Dice(axis=(1, 2, 3))(y_true, y_pred)))
    torch.testing.assert_close(dice_loss(y_pred, y_true, eps=eps), expected)


def test_keras_tversky(keras) -> None:
    gen = _gen(10)
    y_pred = torch.rand(3, 6, 6, 1, generator=gen)
    y_true = (torch.rand(3, 6, 6, 1, generator=gen) > 0.5).float()
    eps = keras.backend.epsilon()
    for alpha, beta in ((0.5, 0.5), (0.3, 0.7), (0.9, 0.1)):
        expected = torch.as_tensor(_np(keras.losses.tversky(y_true, y_pred, alpha, beta)))
        # Keras applies its alpha to missed positives and its beta to false positives
        got = tversky_loss(y_pred, y_true, alpha=beta, beta=alpha, batch=True, eps=eps)
        torch.testing.assert_close(got, expected)
        expected = torch.as_tensor(
            _np(keras.losses.tversky(y_true, y_pred, alpha, beta, axis=(1, 2, 3)))
        )
        got = tversky_loss(y_pred, y_true, alpha=beta, beta=alpha, eps=eps, reduction="none")
        torch.testing.assert_close(got, expected)


# --------------------------------------------------------------------------------------------
# hard masks: Dice is F1, Jaccard is IoU (scikit-learn)


def test_hard_masks_match_sklearn_f1_and_jaccard() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    gen = _gen(17)
    x = (torch.rand(5, 1, 7, 7, generator=gen) > 0.5).to(F64)
    y = (torch.rand(5, 1, 7, 7, generator=gen) > 0.4).to(F64)
    d = dice_coefficient(x, y, eps=0.0, reduction="none")
    j = 1 - jaccard_loss(x, y, eps=0.0, reduction="none")
    for n in range(5):
        yt, yp = y[n].flatten().numpy(), x[n].flatten().numpy()
        assert d[n].item() == pytest.approx(metrics.f1_score(yt, yp), abs=1e-12)
        assert j[n].item() == pytest.approx(metrics.jaccard_score(yt, yp), abs=1e-12)
    # multiclass hard predictions: per-class F1 averaged over classes ("macro")
    labels = torch.randint(0, 3, (1, 40), generator=gen)
    pred = torch.randint(0, 3, (1, 40), generator=gen)
    onehot = torch.nn.functional.one_hot(pred, 3).movedim(-1, 1).to(F64)
    got = dice_coefficient(onehot, labels, mode="multiclass", eps=0.0)
    expected = metrics.f1_score(labels[0].numpy(), pred[0].numpy(), average="macro")
    assert got.item() == pytest.approx(expected, abs=1e-12)
