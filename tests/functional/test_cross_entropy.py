"""Cross-entropy losses against torch.nn.functional, TensorFlow golden values, Keras 3, textbook
float64 formulas and hand-derived numbers; properties with hypothesis; numerics at extremes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given
from hypothesis import strategies as st

import losskit
from losskit import nn

DATA = Path(__file__).resolve().parents[1] / "data" / "cross_entropy" / "tensorflow.json"
REDUCTIONS = ("none", "mean", "sum")
F64 = torch.float64


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(DATA.read_text())


def _grad(fn, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    """Value and gradient w.r.t. the first argument of ``(fn(...) * r).sum()`` for a fixed random
    cotangent ``r`` (so that "none" is checked with a non-uniform upstream gradient)."""
    x = args[0].detach().clone().requires_grad_(True)
    out = fn(x, *args[1:], **kwargs)
    r = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).view(out.shape)
    (g,) = torch.autograd.grad((out * r).sum(), x)
    return out.detach(), g


def _assert_same(ours, theirs, *args, tol=None, **kwargs) -> None:
    v1, g1 = _grad(ours, *args, **kwargs)
    v2, g2 = _grad(theirs, *args, **kwargs)
    tol = tol or {}
    torch.testing.assert_close(v1, v2, **tol)
    torch.testing.assert_close(g1, g2, **tol)


def _binary(gen: torch.Generator, shape: tuple[int, ...], dtype=F64):
    x = 3 * torch.randn(shape, generator=gen, dtype=F64)
    y = torch.rand(shape, generator=gen, dtype=F64)
    y = torch.where(torch.rand(shape, generator=gen, dtype=F64) < 0.5, y.round(), y)
    return x.to(dtype), y.to(dtype)


# ============================================================== sigmoid_cross_entropy


class TestSigmoidCrossEntropy:
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("dtype", [torch.float32, F64])
    def test_matches_torch(self, generator, reduction, dtype):
        x, y = _binary(generator, (6, 5), dtype)
        weight = torch.rand(6, 1, generator=generator, dtype=F64).to(dtype)
        pos_weight = torch.rand(5, generator=generator, dtype=F64).to(dtype) * 3
        for kw in (
            {},
            {"weight": weight},
            {"pos_weight": pos_weight},
            {"weight": weight, "pos_weight": pos_weight},
        ):
            _assert_same(
                losskit.sigmoid_cross_entropy,
                tF.binary_cross_entropy_with_logits,
                x,
                y,
                reduction=reduction,
                **kw,
            )

    @pytest.mark.parametrize("case", range(6))
    def test_label_smoothing_matches_tensorflow(self, golden, case):
        g = golden["sigmoid"][case]
        x = torch.tensor(g["logits"], dtype=F64)
        y = torch.tensor(g["labels"], dtype=F64)
        v, grad = _grad_sum(
            losskit.sigmoid_cross_entropy, x, y, label_smoothing=g["label_smoothing"]
        )
        torch.testing.assert_close(v, torch.tensor(g["loss"], dtype=F64))
        torch.testing.assert_close(grad, torch.tensor(g["grad"], dtype=F64))

    def test_pos_weight_matches_tensorflow(self, golden):
        g = golden["weighted"][0]
        x = torch.tensor(g["logits"], dtype=F64)
        y = torch.tensor(g["labels"], dtype=F64)
        pw = torch.tensor(g["pos_weight"], dtype=F64)
        v, grad = _grad_sum(losskit.sigmoid_cross_entropy, x, y, pos_weight=pw)
        torch.testing.assert_close(v, torch.tensor(g["loss"], dtype=F64))
        # TensorFlow differentiates |x| and max(-x, 0) with subgradient 0 at x = 0 exactly; the
        # loss is smooth there, with derivative (1 - y - p y) / 2. Compare elsewhere.
        tf_grad = torch.tensor(g["grad"], dtype=F64)
        at_zero = x == 0
        assert at_zero.any()
        torch.testing.assert_close(grad[~at_zero], tf_grad[~at_zero])
        pw_full = pw.expand_as(x)[at_zero]
        torch.testing.assert_close(grad[at_zero], (1 - y[at_zero] - pw_full * y[at_zero]) / 2)

    def test_label_smoothing_hand_derived(self):
        # y = 1, eps = 0.2 -> z = 0.9: l = 0.9 softplus(-x) + 0.1 softplus(x)
        x = torch.tensor([2.0, 0.0, -3.0], dtype=F64)
        got = losskit.sigmoid_cross_entropy(
            x, torch.ones(3, dtype=F64), label_smoothing=0.2, reduction="none"
        )
        sp = [math.log1p(math.exp(-v)) for v in (2.0, 0.0, -3.0)]
        want = [0.9 * s + 0.1 * (s + v) for s, v in zip(sp, (2.0, 0.0, -3.0), strict=True)]
        torch.testing.assert_close(got, torch.tensor(want, dtype=F64))
        # label_smoothing=1 makes every target 0.5
        full = losskit.sigmoid_cross_entropy(
            x, torch.ones(3, dtype=F64), label_smoothing=1.0, reduction="none"
        )
        half = tF.binary_cross_entropy_with_logits(x, torch.full_like(x, 0.5), reduction="none")
        torch.testing.assert_close(full, half)

    @given(st.lists(st.floats(-30, 30), min_size=1, max_size=8), st.floats(0, 1))
    def test_zero_smoothing_is_a_no_op(self, xs, t):
        x = torch.tensor(xs, dtype=F64)
        y = torch.full_like(x, t)
        a = losskit.sigmoid_cross_entropy(x, y, label_smoothing=0.0, reduction="none")
        b = -(y * tF.logsigmoid(x) + (1 - y) * tF.logsigmoid(-x))
        torch.testing.assert_close(a, b)

    def test_extreme_logits_are_exact(self):
        x = torch.tensor([-1e4, 1e4, -100.0, 100.0], requires_grad=True)
        y = torch.tensor([1.0, 0.0, 1.0, 1.0])
        loss = losskit.sigmoid_cross_entropy(x, y, reduction="none")
        torch.testing.assert_close(loss.detach(), torch.tensor([1e4, 1e4, 100.0, 0.0]))
        loss.sum().backward()
        torch.testing.assert_close(x.grad, torch.tensor([-1.0, 1.0, -1.0, 0.0]))

    def test_errors(self):
        with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0, 1\], got -0.1"):
            losskit.sigmoid_cross_entropy(torch.zeros(2), torch.zeros(2), label_smoothing=-0.1)
        with pytest.raises(ValueError, match=r"pos_weight must broadcast to the input shape"):
            losskit.sigmoid_cross_entropy(
                torch.zeros(2, 3), torch.zeros(2, 3), pos_weight=torch.ones(3, 3)
            )
        with pytest.raises(TypeError, match=r"pos_weight must be a real floating tensor"):
            losskit.sigmoid_cross_entropy(
                torch.zeros(2, 3), torch.zeros(2, 3), pos_weight=torch.ones(3, dtype=torch.bool)
            )


def _grad_sum(fn, x, *args, **kwargs):
    x = x.detach().clone().requires_grad_(True)
    out = fn(x, *args, reduction="none", **kwargs)
    (g,) = torch.autograd.grad(out.sum(), x)
    return out.detach(), g


# ============================================================== binary_cross_entropy


class TestBinaryCrossEntropy:
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("dtype", [torch.float32, F64])
    def test_matches_torch(self, generator, reduction, dtype):
        p = torch.rand(5, 4, generator=generator, dtype=F64).clamp(0.01, 0.99).to(dtype)
        y = torch.rand(5, 4, generator=generator, dtype=F64).to(dtype)
        w = torch.rand(4, generator=generator, dtype=F64).to(dtype)
        for kw in ({}, {"weight": w}):
            _assert_same(
                losskit.binary_cross_entropy,
                tF.binary_cross_entropy,
                p,
                y,
                reduction=reduction,
                **kw,
            )

    def test_log_clamp_at_minus_100(self):
        p = torch.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
        y = torch.tensor([1.0, 0.0, 0.0, 1.0])
        ours = losskit.binary_cross_entropy(p, y, reduction="none")
        torch.testing.assert_close(ours.detach(), torch.tensor([100.0, 100.0, 0.0, 0.0]))
        ours.sum().backward()
        p2 = p.detach().clone().requires_grad_(True)
        tF.binary_cross_entropy(p2, y, reduction="none").sum().backward()
        torch.testing.assert_close(p.grad, p2.grad)
        assert torch.isfinite(p.grad).all()

    def test_out_of_range_is_a_value_error(self):
        with pytest.raises(ValueError, match=r"^binary_cross_entropy: input must lie in \[0, 1\]"):
            losskit.binary_cross_entropy(torch.tensor([-0.1, 0.5]), torch.ones(2))
        with pytest.raises(ValueError, match=r"got 1 value\(s\) outside, e.g. 1.5"):
            losskit.binary_cross_entropy(torch.tensor([1.0, 1.5, 0.0]), torch.ones(3))
        with pytest.raises(ValueError, match=r"e.g. nan"):
            losskit.binary_cross_entropy(torch.tensor([0.5, float("nan")]), torch.ones(2))
        # validation off: the check is skipped (torch's own kernel still refuses on CPU)
        with pytest.raises(RuntimeError):
            losskit.binary_cross_entropy(torch.tensor([-0.1, 0.5]), torch.ones(2), validate=False)

    def test_equals_sigmoid_cross_entropy_of_logits(self, generator):
        x, y = _binary(generator, (4, 3))
        a = losskit.binary_cross_entropy(torch.sigmoid(x), y, reduction="none")
        b = losskit.sigmoid_cross_entropy(x, y, reduction="none")
        torch.testing.assert_close(a, b)


# ============================================================== balanced_sigmoid_cross_entropy


def _hed_loop(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """HED eq. (2) sample by sample: count |Y-| and |Y| per image, weigh, no vectorisation."""
    out = torch.empty_like(x)
    for n in range(x.shape[0]):
        flat_y = y[n].flatten().tolist()
        beta = sum(1 for v in flat_y if v == 0) / len(flat_y)
        for i, (xi, yi) in enumerate(zip(x[n].flatten().tolist(), flat_y, strict=True)):
            log_p = -math.log1p(math.exp(-xi)) if xi > 0 else xi - math.log1p(math.exp(xi))
            log_q = log_p - xi
            out[n].view(-1)[i] = -(beta * yi * log_p + (1 - beta) * (1 - yi) * log_q)
    return out


class TestBalancedSigmoidCrossEntropy:
    def test_matches_hed_loop(self, generator):
        x = 2 * torch.randn(3, 1, 4, 5, generator=generator, dtype=F64)
        y = (
            torch.rand(3, 1, 4, 5, generator=generator, dtype=F64)
            < torch.tensor([0.1, 0.5, 0.8], dtype=F64).view(3, 1, 1, 1)
        ).to(F64)
        got = losskit.balanced_sigmoid_cross_entropy(x, y, reduction="none")
        torch.testing.assert_close(got, _hed_loop(x, y))
        torch.testing.assert_close(
            losskit.balanced_sigmoid_cross_entropy(x, y, reduction="sum"), _hed_loop(x, y).sum()
        )

    def test_beta_is_per_sample_and_constant(self, generator):
        x = torch.randn(2, 6, generator=generator, dtype=F64, requires_grad=True)
        y = torch.tensor([[1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], dtype=F64)
        loss = losskit.balanced_sigmoid_cross_entropy(x, y, reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        beta = torch.tensor([[5 / 6], [1 / 6]], dtype=F64)
        want = torch.where(y == 1, beta * (torch.sigmoid(x) - 1), (1 - beta) * torch.sigmoid(x))
        torch.testing.assert_close(g, want)

    def test_fixed_and_tensor_beta(self, generator):
        x, y = _binary(generator, (3, 4))
        y = y.round()
        fixed = losskit.balanced_sigmoid_cross_entropy(x, y, beta=0.7, reduction="none")
        want = -(0.7 * y * tF.logsigmoid(x) + 0.3 * (1 - y) * tF.logsigmoid(-x))
        torch.testing.assert_close(fixed, want)
        per_sample = torch.tensor([[0.2], [0.5], [0.9]], dtype=F64)
        got = losskit.balanced_sigmoid_cross_entropy(x, y, beta=per_sample, reduction="none")
        want = -(per_sample * y * tF.logsigmoid(x) + (1 - per_sample) * (1 - y) * tF.logsigmoid(-x))
        torch.testing.assert_close(got, want)

    @given(st.integers(1, 7), st.integers(0, 2**31 - 1))
    def test_equals_bce_with_pos_weight(self, positives, seed):
        gen = torch.Generator().manual_seed(seed)
        x = 3 * torch.randn(1, 8, generator=gen, dtype=F64)
        y = torch.zeros(1, 8, dtype=F64)
        y[0, torch.randperm(8, generator=gen)[:positives]] = 1.0
        beta = (8 - positives) / 8
        ours = losskit.balanced_sigmoid_cross_entropy(x, y, reduction="none")
        pw = torch.tensor(beta / (1 - beta), dtype=F64)
        bce = tF.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="none")
        torch.testing.assert_close(ours, (1 - beta) * bce)

    def test_batch_wide_beta_through_the_count_seam(self, generator):
        """A batch-wide (later cross-process) beta: sum the counts, then reuse the kernel."""
        from losskit.functional.cross_entropy import _balanced_unreduced, _beta_from_counts

        x = torch.randn(3, 1, 2, 5, generator=generator, dtype=F64)
        y = (torch.rand(3, 1, 2, 5, generator=generator, dtype=F64) < 0.3).to(F64)
        shards = [(x[:1], y[:1]), (x[1:], y[1:])]  # as if on two ranks
        num_negative = sum((1 - ys).sum() for _, ys in shards)
        num_total = float(sum(ys.numel() for _, ys in shards))
        beta = _beta_from_counts(num_negative, num_total)
        got = torch.cat([_balanced_unreduced(xs, ys, beta) for xs, ys in shards])
        b = float((y == 0).sum()) / y.numel()
        want = -(b * y * tF.logsigmoid(x) + (1 - b) * (1 - y) * tF.logsigmoid(-x))
        torch.testing.assert_close(got, want)
        public = losskit.balanced_sigmoid_cross_entropy(
            x, y, beta=torch.tensor(b, dtype=F64), reduction="none"
        )
        torch.testing.assert_close(public, want)

    def test_all_negative_sample_is_finite(self):
        x = torch.tensor([[3.0, -2.0, 0.5]], requires_grad=True)
        loss = losskit.balanced_sigmoid_cross_entropy(x, torch.zeros(1, 3))
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
        # beta = 1: negatives weigh 0, there are no positives: the loss is 0
        assert loss.item() == 0.0

    def test_errors(self):
        with pytest.raises(ValueError, match=r"at least 2 dimensions"):
            losskit.balanced_sigmoid_cross_entropy(torch.zeros(3), torch.zeros(3))
        with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\], got -0.5"):
            losskit.balanced_sigmoid_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3), beta=-0.5)
        with pytest.raises(TypeError, match=r"beta must be None, a float or a tensor"):
            losskit.balanced_sigmoid_cross_entropy(
                torch.zeros(2, 3), torch.zeros(2, 3), beta="auto"
            )
        with pytest.raises(ValueError, match=r"beta must broadcast to the input shape"):
            losskit.balanced_sigmoid_cross_entropy(
                torch.zeros(2, 3), torch.zeros(2, 3), beta=torch.ones(2)
            )


# ============================================================== softmax_cross_entropy


class TestSoftmaxCrossEntropy:
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("smoothing", [0.0, 0.15])
    def test_matches_torch(self, generator, reduction, smoothing):
        x = 2 * torch.randn(6, 4, 3, generator=generator, dtype=F64)
        y = torch.softmax(torch.randn(6, 4, 3, generator=generator, dtype=F64), dim=1)
        w = torch.rand(4, generator=generator, dtype=F64) + 0.2
        for kw in ({}, {"weight": w}):
            _assert_same(
                losskit.softmax_cross_entropy,
                tF.cross_entropy,
                x,
                y,
                reduction=reduction,
                label_smoothing=smoothing,
                **kw,
            )

    def test_mean_divides_by_number_of_distributions_not_weights(self, generator):
        x = torch.randn(5, 3, generator=generator, dtype=F64)
        y = torch.softmax(torch.randn(5, 3, generator=generator, dtype=F64), dim=1)
        w = torch.tensor([0.1, 2.0, 5.0], dtype=F64)
        mean = losskit.softmax_cross_entropy(x, y, weight=w)
        total = losskit.softmax_cross_entropy(x, y, weight=w, reduction="sum")
        torch.testing.assert_close(mean, total / 5)

    @pytest.mark.parametrize("case", range(6))
    def test_matches_tensorflow(self, golden, case):
        g = golden["softmax"][case]
        x = torch.tensor(g["logits"], dtype=F64)
        y = torch.tensor(g["labels"], dtype=F64)
        v, grad = _grad_sum(
            losskit.softmax_cross_entropy, x, y, label_smoothing=g["label_smoothing"]
        )
        torch.testing.assert_close(v, torch.tensor(g["loss"], dtype=F64))
        torch.testing.assert_close(grad, torch.tensor(g["grad"], dtype=F64))

    def test_hand_derived(self):
        # uniform logits over C = 4: -log(1/4) whatever the target distribution
        got = losskit.softmax_cross_entropy(
            torch.zeros(2, 4),
            torch.tensor([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25]]),
            reduction="none",
        )
        torch.testing.assert_close(got, torch.full((2,), math.log(4)))
        # smoothing eps = 0.4 on [1, 0] over logits [0, log 3]: z = [0.8, 0.2],
        # p = [1/4, 3/4]: l = 0.8 log 4 + 0.2 log(4/3)
        got = losskit.softmax_cross_entropy(
            torch.tensor([[0.0, math.log(3.0)]], dtype=F64),
            torch.tensor([[1.0, 0.0]], dtype=F64),
            label_smoothing=0.4,
            reduction="none",
        )
        torch.testing.assert_close(
            got, torch.tensor([0.8 * math.log(4) + 0.2 * math.log(4 / 3)], dtype=F64)
        )

    def test_dim_and_single_distribution(self, generator):
        x = torch.randn(3, 5, 4, generator=generator, dtype=F64)
        y = torch.softmax(torch.randn(3, 5, 4, generator=generator, dtype=F64), dim=-1)
        w = torch.rand(4, generator=generator, dtype=F64) + 0.5
        got = losskit.softmax_cross_entropy(x, y, dim=-1, weight=w, reduction="none")
        want = tF.cross_entropy(x.movedim(-1, 1), y.movedim(-1, 1), weight=w, reduction="none")
        torch.testing.assert_close(got, want)
        got0 = losskit.softmax_cross_entropy(x[0, 0], y[0, 0], dim=0, reduction="none")
        torch.testing.assert_close(got0, tF.cross_entropy(x[0, 0], y[0, 0], reduction="none"))

    def test_integer_target_names_sparse(self):
        with pytest.raises(TypeError, match=r"use sparse_softmax_cross_entropy"):
            losskit.softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]))

    @given(st.lists(st.floats(-20, 20), min_size=3, max_size=3), st.integers(0, 2))
    def test_zero_smoothing_is_a_no_op(self, xs, label):
        x = torch.tensor([xs], dtype=F64)
        y = tF.one_hot(torch.tensor([label]), 3).to(F64)
        a = losskit.softmax_cross_entropy(x, y, label_smoothing=0.0, reduction="none")
        b = torch.logsumexp(x, 1) - x[0, label]
        torch.testing.assert_close(a, b)


# ============================================================== sparse_softmax_cross_entropy


class TestSparseSoftmaxCrossEntropy:
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("smoothing", [0.0, 0.2])
    @pytest.mark.parametrize("ignore_index", [-100, 2])
    def test_matches_torch(self, generator, reduction, smoothing, ignore_index):
        x = 2 * torch.randn(7, 4, 3, generator=generator, dtype=F64)
        y = torch.randint(0, 4, (7, 3), generator=generator)
        y[0, 0] = y[3, 2] = ignore_index
        w = torch.rand(4, generator=generator, dtype=F64) + 0.2
        for kw in ({}, {"weight": w}):
            _assert_same(
                losskit.sparse_softmax_cross_entropy,
                tF.cross_entropy,
                x,
                y,
                reduction=reduction,
                label_smoothing=smoothing,
                ignore_index=ignore_index,
                **kw,
            )

    def test_mean_divides_by_summed_weights_of_counted_labels(self):
        x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]], dtype=F64)
        y = torch.tensor([0, 1, -100])
        w = torch.tensor([2.0, 3.0], dtype=F64)
        l0 = 2.0 * (math.log1p(math.exp(-1.0)))
        l1 = 3.0 * (math.log1p(math.exp(-2.0)))
        got = losskit.sparse_softmax_cross_entropy(x, y, weight=w)
        torch.testing.assert_close(got, torch.tensor((l0 + l1) / 5.0, dtype=F64))

    def test_matches_tensorflow(self, golden):
        g = golden["sparse"][0]
        x = torch.tensor(g["logits"], dtype=F64)
        y = torch.tensor(g["labels"])
        v, grad = _grad_sum(losskit.sparse_softmax_cross_entropy, x, y)
        torch.testing.assert_close(v, torch.tensor(g["loss"], dtype=F64))
        torch.testing.assert_close(grad, torch.tensor(g["grad"], dtype=F64))

    def test_smoothing_matches_tensorflow_one_hot(self, golden):
        # torch's index-target smoothing equals TF's one-hot smoothing (no class weights)
        for g in golden["softmax"]:
            if g["targets"] != "onehot":
                continue
            x = torch.tensor(g["logits"], dtype=F64)
            y = torch.tensor(g["labels"], dtype=F64).argmax(1)
            v, grad = _grad_sum(
                losskit.sparse_softmax_cross_entropy, x, y, label_smoothing=g["label_smoothing"]
            )
            torch.testing.assert_close(v, torch.tensor(g["loss"], dtype=F64))
            torch.testing.assert_close(grad, torch.tensor(g["grad"], dtype=F64))

    def test_matches_keras(self, generator):
        keras = pytest.importorskip("keras")
        x = 3 * torch.randn(6, 5, generator=generator)
        y = torch.randint(0, 5, (6,), generator=generator)
        want = keras.losses.sparse_categorical_crossentropy(y, x, from_logits=True)
        got = losskit.sparse_softmax_cross_entropy(x, y, reduction="none")
        torch.testing.assert_close(got, torch.as_tensor(want).cpu(), rtol=1e-5, atol=1e-6)

    def test_dim_last_and_spatial(self, generator):
        x = torch.randn(2, 3, 5, generator=generator, dtype=F64)
        y = torch.randint(0, 5, (2, 3), generator=generator)
        got = losskit.sparse_softmax_cross_entropy(x, y, dim=-1, reduction="none")
        torch.testing.assert_close(got, tF.cross_entropy(x.movedim(-1, 1), y, reduction="none"))
        got1 = losskit.sparse_softmax_cross_entropy(x[0, 0], y[0, 0], dim=0)
        torch.testing.assert_close(got1, tF.cross_entropy(x[0, 0], y[0, 0]))

    def test_all_ignored_mean_is_zero(self):
        x = torch.randn(3, 4, requires_grad=True)
        loss = losskit.sparse_softmax_cross_entropy(x, torch.full((3,), -100))
        loss.backward()
        assert loss.item() == 0.0 and (x.grad == 0).all()

    def test_target_dtype_errors_name_the_other_function(self):
        with pytest.raises(TypeError, match=r"for probability targets use softmax_cross_entropy"):
            losskit.sparse_softmax_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3))
        with pytest.raises(TypeError, match=r"must be an integer tensor, got dtype torch.bool"):
            losskit.sparse_softmax_cross_entropy(
                torch.zeros(2, 3), torch.zeros(2, dtype=torch.bool)
            )

    def test_label_range(self):
        with pytest.raises(ValueError, match=r"class indices in \[0, 3\].*got 4"):
            losskit.sparse_softmax_cross_entropy(torch.zeros(2, 4), torch.tensor([0, 4]))
        with pytest.raises(ValueError, match=r"got -100"):
            losskit.sparse_softmax_cross_entropy(
                torch.zeros(2, 4), torch.tensor([0, -100]), ignore_index=0
            )
        # switched off per call and globally: torch's own check answers instead
        with pytest.raises((IndexError, RuntimeError)) as info:
            losskit.sparse_softmax_cross_entropy(
                torch.zeros(2, 4), torch.tensor([0, 4]), validate=False
            )
        assert not isinstance(info.value, ValueError)
        with losskit.validation(False), pytest.raises((IndexError, RuntimeError)):
            losskit.sparse_softmax_cross_entropy(torch.zeros(2, 4), torch.tensor([0, 4]))

    def test_uint8_labels(self):
        x = torch.randn(3, 4)
        y = torch.tensor([0, 3, 1], dtype=torch.uint8)
        torch.testing.assert_close(
            losskit.sparse_softmax_cross_entropy(x, y), tF.cross_entropy(x, y.long())
        )


# ============================================================== shared numerics and modules


LOGIT_FNS = {
    "sigmoid_cross_entropy": lambda x: losskit.sigmoid_cross_entropy(
        x,
        (torch.arange(x.numel()).view(x.shape) % 2).float(),
        label_smoothing=0.1,
        pos_weight=torch.tensor(2.0),
    ),
    "balanced_sigmoid_cross_entropy": lambda x: losskit.balanced_sigmoid_cross_entropy(
        x, (torch.arange(x.numel()).view(x.shape) % 3 == 0).float()
    ),
    "softmax_cross_entropy": lambda x: losskit.softmax_cross_entropy(
        x,
        torch.softmax(torch.arange(x.numel(), dtype=torch.float32).view(x.shape), 1),
        label_smoothing=0.1,
        weight=torch.rand(x.shape[1]) + 0.5,
    ),
    "sparse_softmax_cross_entropy": lambda x: losskit.sparse_softmax_cross_entropy(
        x,
        torch.arange(x.shape[0]) % x.shape[1],
        label_smoothing=0.1,
        weight=torch.rand(x.shape[1]) + 0.5,
    ),
}


@pytest.mark.parametrize("name", sorted(LOGIT_FNS))
@pytest.mark.parametrize(
    ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
)
def test_finite_at_extreme_logits(name, dtype, scale):
    base = torch.tensor([[1.0, -1.0, 1.0, -1.0], [-1.0, 1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
    x = (scale * base).to(dtype).requires_grad_(True)
    loss = LOGIT_FNS[name](x)
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss), name
    assert x.grad is not None and torch.isfinite(x.grad.float()).all(), name


def test_half_inputs_compute_in_float32(generator):
    x, y = _binary(generator, (4, 3), torch.float32)
    full = losskit.sigmoid_cross_entropy(x, y)
    half = losskit.sigmoid_cross_entropy(x.half(), y.half())
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, full, rtol=1e-2, atol=1e-3)


def test_modules_match_functionals_and_keep_buffers(generator):
    x, y = _binary(generator, (4, 3), torch.float32)
    pw = torch.tensor([1.0, 2.0, 3.0])
    m = nn.SigmoidCrossEntropyLoss(pos_weight=pw, label_smoothing=0.1)
    assert "pos_weight" in dict(m.named_buffers())
    torch.testing.assert_close(
        m(x, y), losskit.sigmoid_cross_entropy(x, y, pos_weight=pw, label_smoothing=0.1)
    )
    w = torch.tensor([0.5, 1.0, 2.0])
    labels = torch.tensor([0, 2, -100, 1])
    ms = nn.SparseSoftmaxCrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert "weight" in dict(ms.named_buffers())
    torch.testing.assert_close(
        ms(x, labels), tF.cross_entropy(x, labels, weight=w, label_smoothing=0.1)
    )
    probs = torch.softmax(y, 1)
    torch.testing.assert_close(
        nn.SoftmaxCrossEntropyLoss(weight=w)(x, probs), tF.cross_entropy(x, probs, weight=w)
    )
    torch.testing.assert_close(
        nn.BinaryCrossEntropyLoss()(torch.sigmoid(x), y),
        tF.binary_cross_entropy(torch.sigmoid(x), y),
    )
    torch.testing.assert_close(
        nn.BalancedSigmoidCrossEntropyLoss(beta=0.3)(x, y),
        losskit.balanced_sigmoid_cross_entropy(x, y, beta=0.3),
    )


@pytest.mark.parametrize("beta", [None, 0.3, 1.0, "batch", "tensor"])
def test_balanced_hard_label_path_matches_the_formula(beta: object) -> None:
    """Hard labels take torch's kernel with a per-element class weight, soft labels (and
    validation off) the pos_weight form: both equal HED's formula in float64, with gradients,
    at logits up to +-60 (torch's kernels round log(1 + e^-|x|) to 0 beyond |x| ~ 37, hence
    the absolute tolerance)."""
    gen = torch.Generator().manual_seed(8)
    x = (torch.randn(6, 3, 50, generator=gen, dtype=torch.float64) * 20).clamp(-60, 60)
    y = (torch.rand(6, 3, 50, generator=gen) > 0.8).double()
    y[2] = 0.0  # a sample without positives: beta = 1
    if beta == "tensor":
        beta = torch.rand(6, 1, 1, generator=gen, dtype=torch.float64)
    if beta is None:
        b = 1 - y.mean(dim=(1, 2), keepdim=True)
    elif beta == "batch":
        b = 1 - y.mean()
    else:
        b = torch.as_tensor(beta, dtype=torch.float64)

    def softplus(v: torch.Tensor) -> torch.Tensor:
        return torch.clamp_min(v, 0) + torch.log1p(torch.exp(-v.abs()))

    xr = x.clone().requires_grad_()
    ref = b * y * softplus(-xr) + (1 - b) * (1 - y) * softplus(xr)
    (g_ref,) = torch.autograd.grad(ref.sum(), xr)
    for validate in (True, False):
        xa = x.clone().requires_grad_()
        out = losskit.balanced_sigmoid_cross_entropy(
            xa, y, beta=beta, reduction="none", validate=validate
        )
        torch.testing.assert_close(out, ref.detach(), rtol=1e-12, atol=1e-14)
        (g,) = torch.autograd.grad(out.sum(), xa)
        torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("block", [None, 45])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sparse_kernel_against_torch(
    monkeypatch: pytest.MonkeyPatch, block: int | None, ignore_index: int, reduction: str
) -> None:
    """The blocked sparse kernel (one exponential pass, the derivative formed in the forward
    pass) against F.cross_entropy in float64: several blocks of rows and a ragged last one,
    ignored rows (by -100 or by a class index), retained and differentiated backward passes."""
    import losskit.functional.cross_entropy as ce_module

    if block is not None:
        monkeypatch.setattr(ce_module, "_CE_BLOCK", block)
    gen = torch.Generator().manual_seed(17)
    shape = (37, 3, 8) if block is not None else (3, 700, 1000)
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) * 5).requires_grad_()
    y = torch.randint(0, shape[-1], shape[:-1], generator=gen)
    y[0, :3] = ignore_index
    got = losskit.sparse_softmax_cross_entropy(
        x, y, dim=-1, ignore_index=ignore_index, reduction=reduction
    )
    want = tF.cross_entropy(x.movedim(-1, 1), y, ignore_index=ignore_index, reduction=reduction)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    (g_want,) = torch.autograd.grad(want, x)
    got.backward(retain_graph=True)
    torch.testing.assert_close(x.grad, g_want, rtol=1e-10, atol=1e-14)
    x.grad = None
    got.backward()  # a second pass recomputes the derivative
    torch.testing.assert_close(x.grad, g_want, rtol=1e-10, atol=1e-14)
    if block is not None:
        small = x.detach()[:4, :2].clone().requires_grad_()
        ys = y[:4, :2]
        g = lambda a: losskit.sparse_softmax_cross_entropy(  # noqa: E731
            a, ys, dim=-1, ignore_index=ignore_index, reduction=reduction
        )
        assert torch.autograd.gradgradcheck(g, (small,))


def test_sparse_kernel_with_every_row_ignored() -> None:
    x = torch.randn(5, 4, requires_grad=True)
    y = torch.full((5,), -100)
    out = losskit.sparse_softmax_cross_entropy(x, y)
    out.backward()
    assert out.item() == 0.0 and torch.equal(x.grad, torch.zeros(5, 4))
