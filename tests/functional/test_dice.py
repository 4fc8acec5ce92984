"""Dice, Jaccard and Tversky losses: hand values, the survey's snippet, laws, MONAI and Keras 3.

References used here are independent of losskit: hand-derived numbers, float64 formulas written
out in the tests, ``monai.losses.DiceLoss``/``TverskyLoss`` and ``keras.losses.dice``/``tversky``
(torch backend).
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import losskit
from losskit import dice_coefficient, dice_loss, jaccard_loss, tversky_loss
from losskit.functional.dice import overlap_score, overlap_statistics

LOSSES = [dice_loss, jaccard_loss, tversky_loss]
F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------
# hand-computed values


def test_binary_hand_values() -> None:
    # sample 0: x = [.9, .8, .1, 0], y = [1, 1, 0, 0]: I = 1.7, |X| = 1.8, |Y| = 2
    # sample 1: x = [.5, .5, .5, .5], y = [1, 0, 0, 0]: I = .5, |X| = 2, |Y| = 1
    x = torch.tensor([[0.9, 0.8, 0.1, 0.0], [0.5, 0.5, 0.5, 0.5]], dtype=F64)
    y = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], dtype=F64)
    d = torch.tensor([3.4 / 3.8, 1.0 / 3.0], dtype=F64)
    torch.testing.assert_close(dice_coefficient(x, y, eps=0.0, reduction="none"), d)
    torch.testing.assert_close(dice_loss(x, y, eps=0.0, reduction="none"), 1 - d)
    torch.testing.assert_close(dice_loss(x, y, eps=0.0), (1 - d).mean())
    torch.testing.assert_close(dice_loss(x, y, eps=0.0, reduction="sum"), (1 - d).sum())
    j = torch.tensor([1.7 / (3.8 - 1.7), 0.5 / 2.5], dtype=F64)
    torch.testing.assert_close(jaccard_loss(x, y, eps=0.0, reduction="none"), 1 - j)
    # Tversky alpha=.3 (FP), beta=.7 (FN): FP = |X| - I, FN = |Y| - I
    t = torch.tensor([1.7 / (1.7 + 0.3 * 0.1 + 0.7 * 0.3), 0.5 / (0.5 + 0.3 * 1.5 + 0.7 * 0.5)])
    got = tversky_loss(x, y, alpha=0.3, beta=0.7, eps=0.0, reduction="none")
    torch.testing.assert_close(got, 1 - t.to(F64))
    # batch=True pools: I = 2.2, |X| = 3.8, |Y| = 3
    got = dice_loss(x, y, eps=0.0, batch=True, reduction="none")
    assert got.shape == ()
    torch.testing.assert_close(got, torch.tensor(1 - 4.4 / 6.8, dtype=F64))
    # smooth and eps: (2I + s) / (|X| + |Y| + s + eps) on sample 1
    got = dice_coefficient(x[1:], y[1:], smooth=1.0, eps=0.5, reduction="none")
    torch.testing.assert_close(got, torch.tensor([2.0 / 4.5], dtype=F64))
    # squared: |X| = sum x^2 = 1.46, |Y| = 2 on sample 0
    got = dice_coefficient(x[:1], y[:1], squared=True, eps=0.0, reduction="none")
    torch.testing.assert_close(got, torch.tensor([3.4 / 3.46], dtype=F64))


def test_multiclass_hand_values() -> None:
    # One sample, 3 classes, 4 pixels with labels [0, 1, 1, 2] and probabilities per pixel.
    p = torch.tensor(
        [[[0.7, 0.2, 0.1, 0.2], [0.2, 0.6, 0.8, 0.3], [0.1, 0.2, 0.1, 0.5]]], dtype=F64
    )
    labels = torch.tensor([[0, 1, 1, 2]])
    # class 0: I = .7, |X| = 1.2, |Y| = 1 -> 1.4/2.2
    # class 1: I = 1.4, |X| = 1.9, |Y| = 2 -> 2.8/3.9
    # class 2: I = .5, |X| = .9, |Y| = 1 -> 1/1.9
    per_class = torch.tensor([1.4 / 2.2, 2.8 / 3.9, 1.0 / 1.9], dtype=F64)
    got = dice_loss(p, labels, mode="multiclass", eps=0.0, reduction="none")
    torch.testing.assert_close(got, (1 - per_class).mean().unsqueeze(0))
    w = torch.tensor([0.0, 1.0, 3.0], dtype=F64)
    got = dice_loss(p, labels, mode="multiclass", eps=0.0, class_weight=w)
    torch.testing.assert_close(got, ((1 - per_class) * w).sum() / 4)
    # the same through multilabel with the one-hot target
    onehot = torch.nn.functional.one_hot(labels, 3).movedim(-1, 1).to(F64)
    got = dice_loss(p, onehot, mode="multilabel", eps=0.0)
    torch.testing.assert_close(got, (1 - per_class).mean())
    # from logits: softmax over C
    logits = torch.log(p) + 1.7
    got = dice_loss(logits, labels, mode="multiclass", from_logits=True, eps=0.0)
    torch.testing.assert_close(got, (1 - per_class).mean())


def test_multiclass_ignore_index() -> None:
    p = torch.tensor(
        [[[0.7, 0.2, 0.1, 0.2], [0.2, 0.6, 0.8, 0.3], [0.1, 0.2, 0.1, 0.5]]], dtype=F64
    )
    labels = torch.tensor([[0, 1, 255, 2]])
    # pixel 2 removed from every statistic, prediction included:
    # class 0: I = .7, |X| = 1.1, |Y| = 1; class 1: I = .6, |X| = 1.1, |Y| = 1;
    # class 2: I = .5, |X| = .8, |Y| = 1
    per_class = torch.tensor([1.4 / 2.1, 1.2 / 2.1, 1.0 / 1.8], dtype=F64)
    got = dice_loss(p, labels, mode="multiclass", eps=0.0, ignore_index=255)
    torch.testing.assert_close(got, (1 - per_class).mean())
    # an ignore_index that is a class: its pixels go and the class leaves the average
    labels = torch.tensor([[0, 1, 1, 2]])
    # pixel 3 (label 2) removed: class 0: I = .7, |X| = 1.0, |Y| = 1;
    # class 1: I = 1.4, |X| = 1.6, |Y| = 2
    per_class = torch.tensor([1.4 / 2.0, 2.8 / 3.6], dtype=F64)
    got = dice_loss(p, labels, mode="multiclass", eps=0.0, ignore_index=2)
    torch.testing.assert_close(got, (1 - per_class).mean())


def test_binary_layouts_agree() -> None:
    gen = _gen(1)
    x = torch.rand(3, 1, 5, 6, generator=gen, dtype=F64)
    y = (torch.rand(3, 1, 5, 6, generator=gen) > 0.5).to(F64)
    a = dice_loss(x, y, reduction="none")
    torch.testing.assert_close(dice_loss(x, y[:, 0], reduction="none"), a)
    torch.testing.assert_close(dice_loss(x[:, 0], y[:, 0], reduction="none"), a)
    torch.testing.assert_close(dice_loss(x, y.bool(), reduction="none"), a)
    torch.testing.assert_close(dice_loss(x, y.long(), reduction="none"), a)


def test_binary_ignore_index() -> None:
    x = torch.tensor([[0.9, 0.8, 0.1, 0.7]], dtype=F64)
    y = torch.tensor([[1.0, 1.0, 0.0, 255.0]], dtype=F64)
    got = dice_loss(x, y, eps=0.0, ignore_index=255)
    torch.testing.assert_close(got, torch.tensor(1 - 3.4 / 3.8, dtype=F64))


# --------------------------------------------------------------------------------------------
# the survey


def _survey_dice_coefficient(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """The survey's TensorFlow snippet, line for line, in float64."""
    eps = 1e-5
    intersection = torch.sum(y_true * y_pred)
    union = torch.sum(y_true) + torch.sum(y_pred) + eps
    return 1.0 - (2 * intersection / union)


@pytest.mark.parametrize("shape", [(4, 1, 16, 16), (4, 16, 16), (2, 1, 4, 8, 8)])
def test_survey_snippet(shape: tuple[int, ...]) -> None:
    gen = _gen(2)
    y_pred = torch.rand(shape, generator=gen, dtype=F64)
    y_true = (torch.rand(shape, generator=gen) > 0.7).to(F64)
    expected = _survey_dice_coefficient(y_true, y_pred)
    torch.testing.assert_close(dice_loss(y_pred, y_true, batch=True), expected, rtol=1e-12, atol=0)
    # also in float32, against the float64 snippet
    got = dice_loss(y_pred.float(), y_true.float(), batch=True)
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-6)
    # soft targets too
    soft = torch.rand(shape, generator=gen, dtype=F64)
    torch.testing.assert_close(
        dice_loss(y_pred, soft, batch=True), _survey_dice_coefficient(soft, y_pred)
    )


# --------------------------------------------------------------------------------------------
# empty masks


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("smooth,eps", [(0.0, 1e-5), (0.0, 0.0), (1.0, 1e-5), (1e-5, 0.0)])
def test_empty_masks_are_perfect(fn, smooth: float, eps: float) -> None:  # type: ignore[no-untyped-def]
    x = torch.zeros(2, 1, 4, 4, requires_grad=True)
    y = torch.zeros(2, 1, 4, 4)
    for batch in (False, True):
        loss = fn(x, y, smooth=smooth, eps=eps, batch=batch, reduction="none")
        assert torch.equal(loss, torch.zeros_like(loss))
        (g,) = torch.autograd.grad(loss.sum(), x)
        assert torch.isfinite(g).all()


def test_empty_class_in_multiclass() -> None:
    # hard prediction: class 2 absent from target and prediction scores 1
    p = torch.tensor([[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]], dtype=F64)
    labels = torch.tensor([[0, 1, 0]])
    assert dice_loss(p, labels, mode="multiclass").item() == pytest.approx(
        ((1 - 4 / (4 + 1e-5)) + (1 - 2 / (2 + 1e-5))) / 3
    )
    # a prediction on an empty target is penalised (score 0 with smooth = 0)
    x = torch.tensor([[0.0, 0.2]])
    assert dice_loss(x, torch.zeros(1, 2)).item() == 1.0
    # and tends to a perfect score as it empties with smooth > 0
    small = dice_loss(torch.tensor([[0.0, 1e-6]], dtype=F64), torch.zeros(1, 2), smooth=1.0)
    # 1 - 1 / (1e-6 + 1 + 1e-5)
    assert small.item() == pytest.approx(1 - 1 / (1 + 1.1e-5), rel=1e-9)


# --------------------------------------------------------------------------------------------
# properties


def _hard_pair(draw, shape):  # type: ignore[no-untyped-def]
    n = math.prod(shape)
    bits = draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n))
    t = torch.tensor(bits, dtype=F64).reshape(2, *shape)
    return t[0], t[1]


@st.composite
def soft_pair(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    p = draw(st.integers(1, 6))
    vals = draw(
        st.lists(
            st.one_of(st.just(0.0), st.just(1.0), st.floats(0, 1)),
            min_size=2 * n * c * p,
            max_size=2 * n * c * p,
        )
    )
    t = torch.tensor(vals, dtype=F64).reshape(2, n, c, p)
    return t[0], t[1]


@st.composite
def hard_pair(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    p = draw(st.integers(1, 6))
    return _hard_pair(draw, (n, c, p))


OPTIONS = st.fixed_dictionaries(
    {
        "smooth": st.sampled_from([0.0, 1e-5, 1.0]),
        "eps": st.sampled_from([0.0, 1e-7, 1e-5]),
        "batch": st.booleans(),
        "squared": st.booleans(),
    }
)


@given(pair=soft_pair(), opts=OPTIONS)
def test_dice_in_unit_interval(pair, opts) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    for mode in ("binary", "multilabel"):
        d = dice_coefficient(x, y, mode=mode, reduction="none", **opts)
        assert torch.isfinite(d).all()
        assert ((d >= 0) & (d <= 1 + 1e-12)).all()
        j = jaccard_loss(x, y, mode=mode, reduction="none", **opts)
        assert ((j >= -1e-12) & (j <= 1)).all()


@given(pair=hard_pair(), batch=st.booleans(), squared=st.booleans())
def test_jaccard_dice_relation_on_hard_masks(pair, batch: bool, squared: bool) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    opts = {"mode": "multilabel", "eps": 0.0, "batch": batch, "squared": squared}
    # per class, before the class average: use one class at a time
    for c in range(x.shape[1]):
        xc, yc = x[:, c : c + 1], y[:, c : c + 1]
        d = dice_coefficient(xc, yc, reduction="none", **opts)
        j = 1 - jaccard_loss(xc, yc, reduction="none", **opts)
        torch.testing.assert_close(j, d / (2 - d))


@given(
    pair=soft_pair(),
    batch=st.booleans(),
    smooth=st.sampled_from([0.0, 0.5]),
    eps=st.sampled_from([0.0, 1e-5]),
)
def test_tversky_special_cases(pair, batch: bool, smooth: float, eps: float) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    opts = {"mode": "multilabel", "batch": batch, "reduction": "none"}
    # alpha = beta = 1 is the Jaccard loss with the same smooth and eps
    torch.testing.assert_close(
        tversky_loss(x, y, alpha=1.0, beta=1.0, smooth=smooth, eps=eps, **opts),
        jaccard_loss(x, y, smooth=smooth, eps=eps, **opts),
    )
    # alpha = beta = 1/2 is the Dice loss (exactly so with smooth = eps = 0; in general with
    # Dice's smooth and eps twice Tversky's)
    torch.testing.assert_close(
        tversky_loss(x, y, smooth=0.0, eps=0.0, **opts), dice_loss(x, y, eps=0.0, **opts)
    )
    torch.testing.assert_close(
        tversky_loss(x, y, smooth=smooth, eps=eps, **opts),
        dice_loss(x, y, smooth=2 * smooth, eps=2 * eps, **opts),
    )


@given(pair=soft_pair())
def test_statistics_are_additive_over_the_batch(pair) -> None:  # type: ignore[no-untyped-def]
    # What a distributed batch=True needs: the sum of the shards' statistics.
    x, y = pair
    whole = overlap_statistics(x, y, mode="multilabel", batch=True)
    k = max(1, x.shape[0] // 2)
    parts = overlap_statistics(x[:k], y[:k], mode="multilabel", batch=True)
    if k < x.shape[0]:
        parts = parts + overlap_statistics(x[k:], y[k:], mode="multilabel", batch=True)
    torch.testing.assert_close(parts, whole)
    score = overlap_score(parts, metric="dice")
    torch.testing.assert_close(1 - score.mean(), dice_loss(x, y, mode="multilabel", batch=True))


def test_multiclass_equals_multilabel_on_one_hot() -> None:
    gen = _gen(3)
    logits = torch.randn(3, 4, 5, 5, generator=gen, dtype=F64)
    labels = torch.randint(0, 4, (3, 5, 5), generator=gen)
    onehot = torch.nn.functional.one_hot(labels, 4).movedim(-1, 1).to(F64)
    probs = logits.softmax(1)
    for fn in LOSSES:
        for opts in ({}, {"batch": True}, {"smooth": 1.0, "eps": 0.0}):
            a = fn(logits, labels, mode="multiclass", from_logits=True, reduction="none", **opts)
            b = fn(probs, onehot, mode="multilabel", reduction="none", **opts)
            torch.testing.assert_close(a, b)


# --------------------------------------------------------------------------------------------
# gradients, dtypes, validation, modules


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_finite_gradients_for_all_zero_inputs(fn, dtype, mode: str, from_logits: bool) -> None:  # type: ignore[no-untyped-def]
    x = torch.zeros(2, 3, 4, 4, dtype=dtype, requires_grad=True)
    if mode == "multiclass":
        y = torch.zeros(2, 4, 4, dtype=torch.long)
    else:
        y = torch.zeros(2, 3, 4, 4, dtype=dtype)
    for batch in (False, True):
        extra = {} if fn is tversky_loss else {"squared": batch}
        loss = fn(x, y, mode=mode, from_logits=from_logits, batch=batch, **extra)
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss)
        (g,) = torch.autograd.grad(loss, x)
        assert g.dtype == dtype
        assert torch.isfinite(g).all()
    # the empty/empty pair scores perfect
    if mode != "multiclass" and not from_logits:
        assert fn(x, y, mode=mode).item() == 0.0


@pytest.mark.parametrize("fn", LOSSES)
def test_large_logits_are_finite(fn) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(11)
    x = (torch.randn(2, 3, 5, 5, generator=gen) * 1e4).requires_grad_()
    labels = torch.randint(0, 3, (2, 5, 5), generator=gen)
    target = (torch.rand(2, 3, 5, 5, generator=gen) > 0.5).float()
    for mode, y in (("multiclass", labels), ("multilabel", target)):
        loss = fn(x, y, mode=mode, from_logits=True)
        (g,) = torch.autograd.grad(loss, x)
        assert torch.isfinite(loss) and torch.isfinite(g).all()


def test_half_close_to_float32() -> None:
    gen = _gen(12)
    x = torch.randn(2, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 3, (2, 8, 8), generator=gen)
    ref = dice_loss(x.half().float(), labels, mode="multiclass", from_logits=True)
    got = dice_loss(x.half(), labels, mode="multiclass", from_logits=True)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref)


def test_gradcheck_with_respect_to_soft_target() -> None:
    gen = _gen(13)
    x = torch.rand(2, 3, 5, generator=gen, dtype=F64, requires_grad=True)
    y = torch.rand(2, 3, 5, generator=gen, dtype=F64, requires_grad=True)
    for fn in LOSSES:
        assert torch.autograd.gradcheck(
            lambda a, b, fn=fn: fn(a, b, mode="multilabel", reduction="none"), (x, y)
        )


def test_gradgradcheck_fused_paths() -> None:
    gen = _gen(14)
    x = torch.randn(2, 3, 5, generator=gen, dtype=F64, requires_grad=True)
    labels = torch.randint(0, 3, (2, 5), generator=gen)
    labels[0, 0] = -1
    y = torch.rand(2, 3, 5, generator=gen, dtype=F64)
    for ii in (None, -1):
        lab = labels.clamp_min(0) if ii is None else labels
        for sq in (False, True):
            f = lambda a, lab=lab, ii=ii, sq=sq: dice_loss(  # noqa: E731
                a,
                lab,
                mode="multiclass",
                from_logits=True,
                ignore_index=ii,
                squared=sq,
                reduction="none",
            )
            assert torch.autograd.gradgradcheck(f, (x,))
    f2 = lambda a: dice_loss(a, y, mode="multilabel", from_logits=True, reduction="none")  # noqa: E731
    assert torch.autograd.gradgradcheck(f2, (x,))


def test_validation_errors_and_switch() -> None:
    x = torch.tensor([[-0.5, 1.5]])
    y = torch.tensor([[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"^dice_loss: input must lie in \[0, 1\]"):
        dice_loss(x, y)
    # validation off: no data-dependent check (the number is then the formula's)
    got = dice_loss(x, y, validate=False, eps=0.0)
    torch.testing.assert_close(got, torch.tensor(1 - 3.0 / 2.0))
    with losskit.validation(False):
        dice_loss(x, y)
    labels = torch.tensor([[0, 3]])
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\] or equal ignore_index=9"):
        dice_loss(torch.rand(1, 3, 2), labels, mode="multiclass", ignore_index=9)
    with pytest.raises(ValueError, match=r"^dice_loss: class_weight must be >= 0"):
        dice_loss(
            torch.rand(1, 3, 2),
            torch.zeros(1, 2, dtype=torch.long),
            mode="multiclass",
            class_weight=torch.tensor([1.0, -1.0, 1.0]),
        )
    with pytest.raises(ValueError, match=r"^tversky_loss: alpha must be >= 0, got -0.1"):
        tversky_loss(torch.rand(1, 2), torch.rand(1, 2), alpha=-0.1)
    with pytest.raises(TypeError, match=r"^dice_loss: batch must be a bool, got 1"):
        dice_loss(torch.rand(1, 2), torch.rand(1, 2), batch=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^dice_loss: weight of shape \(2,\) does not"):
        dice_loss(torch.rand(2, 2), torch.rand(2, 2), batch=True, weight=torch.ones(2))
    with pytest.raises(ValueError, match=r"^overlap_score: stats must have shape \(3, \*\)"):
        overlap_score(torch.zeros(2, 4))


def test_inputs_unmodified_and_weight() -> None:
    gen = _gen(15)
    x = torch.randn(3, 2, 4, generator=gen)
    labels = torch.randint(0, 2, (3, 4), generator=gen)
    labels[0, 0] = 7
    x0, l0 = x.clone(), labels.clone()
    per_sample = dice_loss(
        x, labels, mode="multiclass", from_logits=True, ignore_index=7, reduction="none"
    )
    assert torch.equal(x, x0) and torch.equal(labels, l0)
    w = torch.tensor([1.0, 0.0, 2.0])
    got = dice_loss(x, labels, mode="multiclass", from_logits=True, ignore_index=7, weight=w)
    torch.testing.assert_close(got, (per_sample * w).sum() / 3)


def test_modules() -> None:
    gen = _gen(16)
    x = torch.randn(2, 3, 4, 4, generator=gen)
    labels = torch.randint(0, 3, (2, 4, 4), generator=gen)
    w = torch.tensor([0.2, 1.0, 1.0])
    m = losskit.nn.DiceLoss(mode="multiclass", from_logits=True, class_weight=w, batch=True)
    assert "class_weight" in dict(m.named_buffers())
    torch.testing.assert_close(
        m(x, labels),
        dice_loss(x, labels, mode="multiclass", from_logits=True, class_weight=w, batch=True),
    )
    t = losskit.nn.TverskyLoss(alpha=0.2, beta=0.8, mode="multiclass", from_logits=True)
    torch.testing.assert_close(
        t(x, labels),
        tversky_loss(x, labels, alpha=0.2, beta=0.8, mode="multiclass", from_logits=True),
    )
    j = losskit.nn.JaccardLoss(mode="multiclass", from_logits=True, reduction="none")
    torch.testing.assert_close(
        j(x, labels), jaccard_loss(x, labels, mode="multiclass", from_logits=True, reduction="none")
    )


def test_empty_batch() -> None:
    x = torch.zeros(0, 3, 4, 4, requires_grad=True)
    labels = torch.zeros(0, 4, 4, dtype=torch.long)
    for fn in LOSSES:
        assert fn(x, labels, mode="multiclass", reduction="none").shape == (0,)
        loss = fn(x, labels, mode="multiclass", from_logits=True)
        assert loss.item() == 0.0
        loss.backward()
        pooled = fn(x, labels, mode="multiclass", from_logits=True, batch=True, reduction="none")
        assert pooled.shape == () and pooled.item() == 0.0
