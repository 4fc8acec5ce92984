"""Focal losses against torchvision's formulation, kornia, optax and Keras 3; the laws of the
focal loss (gamma = 0 is cross-entropy, focal <= cross-entropy) with hypothesis; gradients at
saturation; the hand-written backward (block path, second derivatives, saved tensors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given
from hypothesis import strategies as st

import losskit
from losskit import nn
from losskit.functional import focal as focal_module

F64 = torch.float64
REDUCTIONS = ("none", "mean", "sum")
GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.3)


def torchvision_focal(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """The focal loss as ``torchvision.ops.sigmoid_focal_loss`` computes it: BCE on logits,
    modulated by ``(1 - p_t) ** gamma`` and weighted by ``alpha_t`` (Lin et al. 2017, eq. 5)."""
    p = torch.sigmoid(inputs)
    ce_loss = tF.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha is not None and alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _data(gen: torch.Generator, shape, dtype=F64, soft=True):
    x = 3 * torch.randn(shape, generator=gen, dtype=F64)
    t = (torch.rand(shape, generator=gen, dtype=F64) < 0.3).to(F64)
    if soft:
        u = torch.rand(shape, generator=gen, dtype=F64)
        t = torch.where(torch.rand(shape, generator=gen, dtype=F64) < 0.5, t, u)
    return x.to(dtype), t.to(dtype)


def _value_grad(fn, x, *args, **kwargs):
    x = x.detach().clone().requires_grad_(True)
    out = fn(x, *args, **kwargs)
    r = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).view(out.shape)
    (g,) = torch.autograd.grad((out * r).sum(), x)
    return out.detach(), g


# ============================================================== sigmoid_focal_loss


class TestSigmoidFocalParity:
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("alpha", [0.25, None, 0.5, 1.0, 0.0])
    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_matches_torchvision(self, generator, reduction, alpha, gamma):
        x, t = _data(generator, (5, 7))
        v1, g1 = _value_grad(
            losskit.sigmoid_focal_loss, x, t, alpha=alpha, gamma=gamma, reduction=reduction
        )
        v2, g2 = _value_grad(torchvision_focal, x, t, alpha=alpha, gamma=gamma, reduction=reduction)
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)

    @pytest.mark.parametrize("gamma", GAMMAS)
    @pytest.mark.parametrize("dtype", [torch.float32, F64])
    def test_block_path_matches_torchvision(self, generator, gamma, dtype):
        n = 2 * focal_module._BLOCK + 123  # several blocks and a ragged last one
        x, t = _data(generator, (n,), dtype)
        assert focal_module._blocked(x)
        tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {}
        for alpha in (0.25, None, 0.0, 1.0, 0.5):
            for reduction in ("none", "mean"):
                v1, g1 = _value_grad(
                    losskit.sigmoid_focal_loss, x, t, alpha=alpha, gamma=gamma, reduction=reduction
                )
                v2, g2 = _value_grad(
                    torchvision_focal, x, t, alpha=alpha, gamma=gamma, reduction=reduction
                )
                torch.testing.assert_close(v1, v2, **tol)
                torch.testing.assert_close(g1, g2, **tol)

    def test_block_path_mean_reduction_and_shapes(self, generator):
        x, t = _data(generator, (3, focal_module._BLOCK // 2 + 5, 2))
        x_nc = x.transpose(0, 2)  # not contiguous
        t_nc = t.transpose(0, 2)
        v1, g1 = _value_grad(losskit.sigmoid_focal_loss, x_nc, t_nc)
        v2, g2 = _value_grad(torchvision_focal, x_nc, t_nc, reduction="mean")
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)

    @pytest.mark.parametrize("alpha", [0.25, None])
    def test_matches_kornia_on_binary_targets(self, generator, alpha):
        kornia_losses = pytest.importorskip("kornia.losses")
        x, t = _data(generator, (4, 3, 5), soft=False)
        for reduction in REDUCTIONS:
            v1, g1 = _value_grad(losskit.sigmoid_focal_loss, x, t, alpha=alpha, reduction=reduction)
            v2, g2 = _value_grad(
                kornia_losses.binary_focal_loss_with_logits,
                x,
                t,
                alpha=alpha,
                gamma=2.0,
                reduction=reduction,
            )
            torch.testing.assert_close(v1, v2)
            torch.testing.assert_close(g1, g2)

    @pytest.mark.parametrize("alpha", [None, 0.25])
    @pytest.mark.parametrize("gamma", [0.0, 1.5, 2.0])
    def test_matches_optax(self, generator, alpha, gamma):
        jax = pytest.importorskip("jax")
        optax = pytest.importorskip("optax")
        x, t = _data(generator, (6, 5), torch.float32)

        def ref(logits):
            return optax.losses.sigmoid_focal_loss(logits, t.numpy(), alpha=alpha, gamma=gamma)

        want = np.array(ref(x.numpy()))
        want_grad = np.array(jax.grad(lambda z: ref(z).sum())(x.numpy()))
        xg = x.clone().requires_grad_(True)
        got = losskit.sigmoid_focal_loss(xg, t, alpha=alpha, gamma=gamma, reduction="none")
        got.sum().backward()
        torch.testing.assert_close(got.detach(), torch.from_numpy(want), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(xg.grad, torch.from_numpy(want_grad), rtol=1e-4, atol=1e-6)

    @pytest.mark.parametrize("balancing", [False, True])
    def test_matches_keras_binary_focal(self, generator, balancing):
        keras = pytest.importorskip("keras")
        # |x| <= 6 keeps sigmoid(x) inside Keras' clipping range [1e-7, 1 - 1e-7]
        x = torch.rand(4, 3, 6, generator=generator) * 12 - 6
        t = (torch.rand(4, 3, 6, generator=generator) < 0.4).float()
        want = keras.losses.binary_focal_crossentropy(
            t, x, apply_class_balancing=balancing, alpha=0.3, gamma=2.5, from_logits=True
        )
        got = losskit.sigmoid_focal_loss(
            x, t, alpha=0.3 if balancing else None, gamma=2.5, reduction="none"
        ).mean(-1)  # Keras: mean over axis -1
        torch.testing.assert_close(got, torch.as_tensor(want).cpu(), rtol=1e-4, atol=1e-6)

    def test_hand_derived(self):
        # x = 0, t = 1: p_t = 1/2, ce = log 2: alpha (1/2)^gamma log 2
        x = torch.zeros(1, dtype=F64)
        got = losskit.sigmoid_focal_loss(x, torch.ones(1, dtype=F64), alpha=0.25, gamma=2.0)
        torch.testing.assert_close(got, torch.tensor(0.25 * 0.25 * math.log(2), dtype=F64))
        # x = log 3, t = 0: p = 3/4, p_t = 1/4, ce = log 4: (1 - alpha) (3/4)^2 log 4
        got = losskit.sigmoid_focal_loss(
            torch.tensor([math.log(3)], dtype=F64), torch.zeros(1, dtype=F64), alpha=0.25, gamma=2.0
        )
        torch.testing.assert_close(got, torch.tensor(0.75 * 0.5625 * math.log(4), dtype=F64))

    def test_target_with_gradient(self, generator):
        x, t = _data(generator, (4, 5))
        x1 = x.clone().requires_grad_(True)
        t1 = t.clone().requires_grad_(True)
        losskit.sigmoid_focal_loss(x1, t1, gamma=1.5).backward()
        x2 = x.clone().requires_grad_(True)
        t2 = t.clone().requires_grad_(True)
        torchvision_focal(x2, t2, gamma=1.5, reduction="mean").backward()
        torch.testing.assert_close(x1.grad, x2.grad)
        torch.testing.assert_close(t1.grad, t2.grad)

    def test_weight(self, generator):
        x, t = _data(generator, (4, 5))
        w = torch.rand(4, 1, generator=generator, dtype=F64)
        got = losskit.sigmoid_focal_loss(x, t, weight=w)
        torch.testing.assert_close(got, (torchvision_focal(x, t) * w).mean())


class TestSigmoidFocalLaws:
    @given(
        st.lists(st.floats(-40, 40), min_size=1, max_size=10),
        st.lists(st.floats(0, 1), min_size=10, max_size=10),
        st.one_of(st.none(), st.floats(0, 1)),
    )
    def test_gamma_zero_is_alpha_weighted_bce(self, xs, ts, alpha):
        x = torch.tensor(xs, dtype=F64)
        t = torch.tensor(ts[: len(xs)], dtype=F64)
        v1, g1 = _value_grad(
            losskit.sigmoid_focal_loss, x, t, alpha=alpha, gamma=0.0, reduction="none"
        )
        a_t = 1.0 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
        v2, g2 = _value_grad(
            lambda z: a_t * tF.binary_cross_entropy_with_logits(z, t, reduction="none"), x
        )
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)

    @given(
        st.lists(st.floats(-60, 60), min_size=1, max_size=10),
        st.lists(st.floats(0, 1), min_size=10, max_size=10),
        st.floats(0, 5),
        st.one_of(st.none(), st.floats(0, 1)),
    )
    def test_focal_is_at_most_cross_entropy(self, xs, ts, gamma, alpha):
        x = torch.tensor(xs, dtype=F64)
        t = torch.tensor(ts[: len(xs)], dtype=F64)
        focal = losskit.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="none")
        ce = losskit.sigmoid_cross_entropy(x, t, reduction="none")
        # torch's BCE-with-logits, (1 - t) x - logsigmoid(x), carries an absolute rounding
        # error of about |x| eps; the focal loss uses softplus, exact to relative eps.
        assert (focal <= ce * (1 + 1e-12) + 1e-13).all()
        assert (focal >= 0).all()

    @pytest.mark.parametrize("gamma", GAMMAS)
    @pytest.mark.parametrize("alpha", [0.25, None])
    def test_finite_gradient_when_p_t_is_one(self, gamma, alpha):
        # p_t = 1 exactly in float32 and float64: saturated, correct predictions
        for dtype in (torch.float32, F64):
            x = torch.tensor(
                [1e4, -1e4, 800.0, -800.0, 60.0, -60.0], dtype=dtype, requires_grad=True
            )
            t = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], dtype=dtype)
            loss = losskit.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="none")
            (g,) = torch.autograd.grad(loss.sum(), x)
            assert torch.isfinite(loss).all() and torch.isfinite(g).all()
            assert (g.abs() < 1e-20).all()
            # and wrong saturated predictions have gradient +-alpha_t (gamma >= 0)
            xw = x.detach().neg().requires_grad_(True)
            (gw,) = torch.autograd.grad(
                losskit.sigmoid_focal_loss(xw, t, alpha=alpha, gamma=gamma, reduction="sum"), xw
            )
            a = torch.ones_like(t) if alpha is None else alpha * t + (1 - alpha) * (1 - t)
            torch.testing.assert_close(gw, (1 - 2 * t) * a)

    @given(
        st.integers(1, 70),
        st.integers(1, 9),
        st.floats(0, 4),
        st.one_of(st.none(), st.floats(0, 1)),
        st.integers(0, 2**31 - 1),
    )
    def test_any_block_size_matches_the_formula(self, n, block, gamma, alpha, seed):
        """The block path with tiny blocks (ragged ends, one-element blocks), any gamma/alpha."""
        gen = torch.Generator().manual_seed(seed)
        x, t = _data(gen, (n,))
        saved = focal_module._BLOCK
        focal_module._BLOCK = block
        try:
            v1, g1 = _value_grad(
                losskit.sigmoid_focal_loss, x, t, alpha=alpha, gamma=gamma, reduction="none"
            )
        finally:
            focal_module._BLOCK = saved
        v2, g2 = _value_grad(torchvision_focal, x, t, alpha=alpha, gamma=gamma)
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2, atol=1e-12, rtol=1e-7)

    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_second_derivatives(self, generator, gamma):
        x, t = _data(generator, (3, 4))
        x.requires_grad_(True)
        for alpha in (0.25, None):

            def fn(z, alpha=alpha):
                return losskit.sigmoid_focal_loss(z, t, alpha=alpha, gamma=gamma, reduction="none")

            assert torch.autograd.gradcheck(fn, (x,))
            assert torch.autograd.gradgradcheck(fn, (x,))

    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_hessian_matches_elementwise_formula(self, generator, gamma):
        x, t = _data(generator, (6,))

        def ours(z):
            return losskit.sigmoid_focal_loss(z, t, gamma=gamma, reduction="sum")

        def theirs(z):
            return torchvision_focal(z, t, gamma=gamma, reduction="sum")

        torch.testing.assert_close(
            torch.autograd.functional.hessian(ours, x), torch.autograd.functional.hessian(theirs, x)
        )

    @pytest.mark.parametrize(
        ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
    )
    def test_extreme_logits(self, dtype, scale):
        x = (scale * torch.tensor([1.0, -1.0, 1.0, -1.0, 0.0])).to(dtype).requires_grad_(True)
        t = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.5]).to(dtype)
        for gamma in GAMMAS:
            x.grad = None
            loss = losskit.sigmoid_focal_loss(x, t, gamma=gamma)
            loss.backward()
            assert loss.dtype == torch.float32
            assert torch.isfinite(loss) and torch.isfinite(x.grad.float()).all()

    def test_keeps_its_inputs_and_one_derivative(self, generator):
        """The memory promise: autograd keeps ``input`` and ``target``, and the node one
        tensor of the input's size (the derivative formed in the forward pass), which the
        backward pass turns into the gradient in place; a second pass (retain_graph)
        recomputes it and gives the same gradient."""
        x, t = _data(generator, (8, 9), torch.float32)
        x.requires_grad_(True)
        packed: list[torch.Tensor] = []

        def pack(tensor):
            packed.append(tensor)
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            loss = losskit.sigmoid_focal_loss(x, t, reduction="none")
        assert {p.data_ptr() for p in packed} == {x.data_ptr(), t.data_ptr()}
        assert loss.grad_fn.held.shape == x.shape
        w = torch.rand(x.shape, generator=generator)
        loss.backward(w, retain_graph=True)
        assert loss.grad_fn.held is None  # handed out as the gradient
        first = x.grad.clone()
        x.grad = None
        loss.backward(w)
        torch.testing.assert_close(x.grad, first)

    def test_block_path_only_on_cpu_eager(self, monkeypatch):
        big = torch.zeros(focal_module._BLOCK + 1)
        assert focal_module._blocked(big)
        assert not focal_module._blocked(torch.zeros(focal_module._BLOCK))
        assert not focal_module._blocked(big.to("meta"))
        monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
        assert not focal_module._blocked(big)  # torch.compile fuses the whole-tensor form

    def test_inputs_unmodified(self, generator):
        for shape in ((4, 5), (focal_module._BLOCK + 9,)):
            x, t = _data(generator, shape, torch.float32)
            xc, tc = x.clone(), t.clone()
            x.requires_grad_(True)
            losskit.sigmoid_focal_loss(x, t).backward()
            assert torch.equal(x.detach(), xc) and torch.equal(t, tc)


# ============================================================== softmax_focal_loss


def _softmax_ref(x, y, *, dim=1, alpha=None, gamma=2.0, ignore_index=-100):
    """Float64 loop over positions: -alpha_y (1 - p_y)^gamma log p_y."""
    xm = x.movedim(dim, -1)
    out = torch.zeros(y.shape, dtype=x.dtype)
    for idx in np.ndindex(*y.shape):
        label = int(y[idx])
        if label == ignore_index:
            continue
        logits = xm[idx].tolist()
        m = max(logits)
        log_z = m + math.log(sum(math.exp(v - m) for v in logits))
        log_p = logits[label] - log_z
        p = math.exp(log_p)
        a = 1.0 if alpha is None else (float(alpha[label]) if torch.is_tensor(alpha) else alpha)
        out[idx] = -a * (1 - p) ** gamma * log_p
    return out


class TestSoftmaxFocal:
    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_matches_loop(self, generator, gamma):
        x = 2 * torch.randn(3, 4, 5, generator=generator, dtype=F64)
        y = torch.randint(0, 4, (3, 5), generator=generator)
        y[1, 2] = -100
        alpha = torch.tensor([0.1, 0.4, 1.0, 2.0], dtype=F64)
        for a in (None, 0.25, alpha):
            got = losskit.softmax_focal_loss(x, y, alpha=a, gamma=gamma, reduction="none")
            torch.testing.assert_close(got, _softmax_ref(x, y, alpha=a, gamma=gamma))

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_gamma_zero_is_cross_entropy(self, generator, reduction):
        x = 2 * torch.randn(6, 5, 2, generator=generator, dtype=F64)
        y = torch.randint(0, 5, (6, 2), generator=generator)
        y[0, 1] = y[4, 0] = -100
        v1, g1 = _value_grad(losskit.softmax_focal_loss, x, y, gamma=0.0, reduction=reduction)
        v2, g2 = _value_grad(tF.cross_entropy, x, y, reduction=reduction)
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)

    def test_matches_keras_categorical_focal(self, generator):
        keras = pytest.importorskip("keras")
        x = 3 * torch.randn(7, 5, generator=generator)
        y = torch.randint(0, 5, (7,), generator=generator)
        want = keras.losses.categorical_focal_crossentropy(
            tF.one_hot(y, 5).float(), x, alpha=0.25, gamma=2.0, from_logits=True
        )
        got = losskit.softmax_focal_loss(x, y, dim=-1, alpha=0.25, gamma=2.0, reduction="none")
        torch.testing.assert_close(got, torch.as_tensor(want).cpu(), rtol=1e-4, atol=1e-6)

    def test_mean_counts_non_ignored_positions(self, generator):
        x = torch.randn(4, 3, generator=generator, dtype=F64)
        y = torch.tensor([0, -100, 2, 1])
        alpha = torch.tensor([0.5, 2.0, 3.0], dtype=F64)
        total = losskit.softmax_focal_loss(x, y, alpha=alpha, reduction="sum")
        torch.testing.assert_close(losskit.softmax_focal_loss(x, y, alpha=alpha), total / 3)

    @given(st.lists(st.floats(-30, 30), min_size=4, max_size=4), st.integers(0, 3), st.floats(0, 5))
    def test_focal_is_at_most_cross_entropy(self, xs, label, gamma):
        x = torch.tensor([xs], dtype=F64)
        y = torch.tensor([label])
        focal = losskit.softmax_focal_loss(x, y, gamma=gamma, reduction="none")
        ce = tF.cross_entropy(x, y, reduction="none")
        assert (focal <= ce * (1 + 1e-12) + 1e-13).all()

    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_finite_gradient_when_p_is_one(self, gamma):
        x = torch.tensor([[1e4, 0.0, -1e4], [0.0, 200.0, 0.0]], requires_grad=True)
        y = torch.tensor([0, 1])
        loss = losskit.softmax_focal_loss(x, y, gamma=gamma)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
        assert (x.grad.abs() < 1e-20).all()

    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_second_derivatives(self, generator, gamma):
        x = torch.randn(3, 4, generator=generator, dtype=F64, requires_grad=True)
        y = torch.tensor([0, 3, -100])
        alpha = torch.tensor([0.2, 0.4, 0.6, 0.8], dtype=F64)

        def fn(z):
            return losskit.softmax_focal_loss(z, y, alpha=alpha, gamma=gamma, reduction="none")

        assert torch.autograd.gradcheck(fn, (x,))
        assert torch.autograd.gradgradcheck(fn, (x,))

    @pytest.mark.parametrize(
        ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
    )
    def test_extreme_logits(self, dtype, scale):
        x = (scale * torch.tensor([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.0]])).to(dtype)
        x.requires_grad_(True)
        loss = losskit.softmax_focal_loss(x, torch.tensor([1, 1]), gamma=2.0)
        loss.backward()
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss) and torch.isfinite(x.grad.float()).all()

    def test_errors(self):
        with pytest.raises(TypeError, match=r"^softmax_focal_loss: target must be an integer"):
            losskit.softmax_focal_loss(torch.zeros(2, 3), torch.zeros(2, 3))
        with pytest.raises(ValueError, match=r"class indices in \[0, 2\].*got 3"):
            losskit.softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 3]))
        with pytest.raises(ValueError, match=r"alpha must be a float or a tensor of shape \(3,\)"):
            losskit.softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), alpha=torch.ones(2))
        with pytest.raises(ValueError, match=r"alpha must be >= 0, got -1.0"):
            losskit.softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), alpha=-1.0)
        with pytest.raises((IndexError, RuntimeError)):  # validation off: torch's gather
            losskit.softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 3]), validate=False)


def test_modules(generator):
    x, t = _data(generator, (4, 3), torch.float32)
    torch.testing.assert_close(
        nn.SigmoidFocalLoss(alpha=None, gamma=1.0)(x, t),
        losskit.sigmoid_focal_loss(x, t, alpha=None, gamma=1.0),
    )
    alpha = torch.tensor([0.5, 1.0, 2.0])
    m = nn.SoftmaxFocalLoss(alpha=alpha, gamma=2.0)
    assert "alpha" in dict(m.named_buffers())
    y = torch.tensor([0, 2, 1, -100])
    torch.testing.assert_close(m(x, y), losskit.softmax_focal_loss(x, y, alpha=alpha))
    assert "SoftmaxFocalLoss(dim=1, alpha=<tensor of shape (3,)>" in repr(m)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_block_sums_match_the_unreduced_loss(reduction: str, gamma: float) -> None:
    """ "mean" and "sum" without weights sum block by block in the kernel (no loss tensor):
    equal to reducing the "none" result, gradients included, across a ragged last block."""
    gen = torch.Generator().manual_seed(31)
    n = 2 * focal_module._BLOCK + 1001
    x = (torch.randn(n, generator=gen, dtype=torch.float64) * 8).requires_grad_()
    t = (torch.rand(n, generator=gen, dtype=torch.float64) > 0.8).double()
    got = losskit.sigmoid_focal_loss(x, t, gamma=gamma, reduction=reduction)
    (g_got,) = torch.autograd.grad(got, x)
    none = losskit.sigmoid_focal_loss(x, t, gamma=gamma, reduction="none")
    want = none.mean() if reduction == "mean" else none.sum()
    (g_want,) = torch.autograd.grad(want, x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=0.0)
    torch.testing.assert_close(g_got, g_want, rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 1.0])
def test_hard_target_blocks_follow_float64(monkeypatch, gamma, alpha):
    """Blocks whose targets are all 0 or 1 take the one-sigmoid path: float32 values and
    gradients against textbook float64 (log-sigmoid) on logits in [-60, 60], in blocks beside
    soft-target blocks."""
    import torch.nn.functional as tF

    monkeypatch.setattr(focal_module, "_BLOCK", 512)
    x = torch.linspace(-60, 60, 2401).repeat(3)
    t = torch.cat([torch.zeros(2401), torch.ones(2401), torch.full((2401,), 0.3)])
    xg = x.clone().requires_grad_()
    got = losskit.sigmoid_focal_loss(xg, t, alpha=alpha, gamma=gamma, reduction="none")
    (g,) = torch.autograd.grad(got.sum(), xg)
    x64 = x.double().requires_grad_()
    t64 = t.double()
    log_p, log_q = tF.logsigmoid(x64), tF.logsigmoid(-x64)
    m = t64 * log_q.exp() + (1 - t64) * log_p.exp()
    a = 1.0 if alpha is None else alpha * t64 + (1 - alpha) * (1 - t64)
    want = a * m**gamma * -(t64 * log_p + (1 - t64) * log_q)
    (g64,) = torch.autograd.grad(want.sum(), x64)
    keep = want.detach() > 1e-30
    rel = ((got.double() - want.detach()).abs() / want.detach())[keep]
    assert rel.max() < 1e-6, f"value: max relative error {rel.max():.2e}"
    big = g64.abs() > 1e-30
    rel_g = ((g.double() - g64).abs() / g64.abs())[big]
    assert rel_g.max() < 1e-5, f"gradient: max relative error {rel_g.max():.2e}"


@pytest.mark.parametrize("bad", [-0.5, 1.5, float("nan")])
@pytest.mark.parametrize("where", ["first", "last"])
def test_block_path_checks_targets_in_every_block(monkeypatch, bad, where):
    """The blocked path checks the targets through its per-block residual (no separate pass):
    a bad target in any block raises the usual error, before a gradient exists; with
    ``validate=False`` the same targets are computed with the soft-target formula."""
    monkeypatch.setattr(focal_module, "_BLOCK", 256)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(4 * 256 + 17, generator=gen)
    t = (torch.rand(x.shape, generator=gen) > 0.7).float()
    t[0 if where == "first" else -1] = bad
    assert focal_module._blocked(x)
    for reduction in ("none", "mean"):
        with pytest.raises(ValueError, match=r"^sigmoid_focal_loss: target must lie in \[0, 1\]"):
            losskit.sigmoid_focal_loss(x.clone().requires_grad_(), t, reduction=reduction)
    if bad == bad:  # not NaN
        v1, g1 = _value_grad(losskit.sigmoid_focal_loss, x, t, reduction="none", validate=False)
        v2, g2 = _value_grad(torchvision_focal, x, t, alpha=0.25, gamma=2.0)
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)


@pytest.mark.parametrize("n", [100, 2 * focal_module._BLOCK + 7])
def test_kernel_mean_on_every_backward_path(n):
    """The local mean formed in the kernel (1/N inside the derivative) gives the gradient of
    the "none" result's mean on the first pass, on a second pass over a retained graph (which
    recomputes) and with create_graph=True (the differentiable terms)."""
    gen = torch.Generator().manual_seed(8)
    x = torch.randn(n, generator=gen, dtype=torch.float64).requires_grad_()
    t = (torch.rand(n, generator=gen, dtype=torch.float64) > 0.8).double()
    t[:3] = 0.4  # one soft block beside hard ones
    (want,) = torch.autograd.grad(losskit.sigmoid_focal_loss(x, t, reduction="none").mean(), x)
    loss = losskit.sigmoid_focal_loss(x, t)
    (first,) = torch.autograd.grad(loss, x, retain_graph=True)
    (second,) = torch.autograd.grad(loss, x)
    (graph,) = torch.autograd.grad(losskit.sigmoid_focal_loss(x, t), x, create_graph=True)
    for got in (first, second, graph):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-18)
