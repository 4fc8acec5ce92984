"""Margin softmax family: L-Softmax, SphereFace, CosFace, ArcFace.

References: float64 textbook formulas written here from the papers (the angle by ``acos``,
``k = floor(mθ/π)``, ``cos(mθ)`` directly), ``torch.nn.functional.cross_entropy`` for the limits
that reduce to plain softmax, and pytorch-metric-learning where its formulation coincides with
the papers'.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given, settings
from hypothesis import strategies as st

import losskit
from losskit import nn as lnn

F64 = torch.float64


# ---- float64 textbook formulas (vectorised, acos-based: independent of the library) -----------


def textbook_psi(theta: torch.Tensor, m: int) -> torch.Tensor:
    """Liu et al. 2016, Eq. 6: ψ(θ) = (-1)^k cos(mθ) - 2k, θ in [kπ/m, (k+1)π/m]."""
    k = torch.floor(m * theta / math.pi).clamp(max=m - 1)
    return (-1.0) ** k * torch.cos(m * theta) - 2 * k


def angles(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    cos = (x @ w.T) / (x.norm(dim=1, keepdim=True) * w.norm(dim=1))
    return torch.acos(cos.clamp(-1, 1))


def ce_from_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(logits, 1) - logits.gather(1, y[:, None]).squeeze(1)


def textbook_lsoftmax(x, y, w, m, lam=0.0, normalize_weight=False):
    theta = angles(x, w)
    mag = x.norm(dim=1, keepdim=True) * (1.0 if normalize_weight else w.norm(dim=1))
    target = (lam * torch.cos(theta) + textbook_psi(theta, m)) / (1 + lam)
    onehot = tF.one_hot(y, w.shape[0]).bool()
    logits = mag * torch.where(onehot, target, torch.cos(theta))
    return ce_from_logits(logits, y)


def textbook_cosface(x, y, w, s, m):
    cos = torch.cos(angles(x, w))
    logits = s * torch.where(tF.one_hot(y, w.shape[0]).bool(), cos - m, cos)
    return ce_from_logits(logits, y)


def textbook_arcface(x, y, w, s, m, easy=False):
    theta = angles(x, w)
    if easy:
        target = torch.where(theta < math.pi / 2, torch.cos(theta + m), torch.cos(theta))
    else:
        target = torch.where(
            theta + m < math.pi, torch.cos(theta + m), torch.cos(theta) - m * math.sin(m)
        )
    logits = s * torch.where(tF.one_hot(y, w.shape[0]).bool(), target, torch.cos(theta))
    return ce_from_logits(logits, y)


def data(n=16, d=6, c=5, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=F64).to(dtype)
    w = torch.randn(c, d, generator=g, dtype=F64).to(dtype)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y, w


def at_angle(theta: torch.Tensor, radius: float = 1.7) -> torch.Tensor:
    """2-D features at angle θ from the first class weight (1, 0)."""
    return radius * torch.stack([torch.cos(theta), torch.sin(theta)], 1)


# ---- ψ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", range(1, 7))
def test_psi_matches_textbook_and_endpoints(m):
    theta = torch.linspace(0, math.pi, 2001, dtype=F64)
    psi = losskit.large_margin_psi(torch.cos(theta), margin=m)
    torch.testing.assert_close(psi, textbook_psi(theta, m), rtol=0, atol=1e-12)
    assert psi[0].item() == pytest.approx(1.0, abs=1e-12)
    assert psi[-1].item() == pytest.approx(1 - 2 * m, abs=1e-12)


@settings(max_examples=40)
@given(
    m=st.integers(1, 6),
    t1=st.floats(0.0, math.pi, allow_nan=False),
    t2=st.floats(0.0, math.pi, allow_nan=False),
)
def test_psi_is_monotone_and_lipschitz(m, t1, t2):
    """Decreasing on [0, π], and |ψ(θ1) - ψ(θ2)| <= m |θ1 - θ2| (|dψ/dθ| = m|sin mθ| <= m):
    Lipschitz, hence continuous, across every boundary kπ/m."""
    lo, hi = sorted((t1, t2))
    psi = losskit.large_margin_psi(torch.cos(torch.tensor([lo, hi], dtype=F64)), margin=m)
    assert psi[0] >= psi[1] - 1e-12
    assert abs(psi[0] - psi[1]) <= m * (hi - lo) + 1e-9


@pytest.mark.parametrize("m", range(2, 7))
def test_psi_continuous_at_each_boundary(m):
    for k in range(1, m):
        b = k * math.pi / m
        left, right = torch.tensor([b - 1e-9, b + 1e-9], dtype=F64)
        psi = losskit.large_margin_psi(torch.cos(torch.stack([left, right])), margin=m)
        assert psi[0].item() == pytest.approx(1 - 2 * k, abs=1e-7)
        assert psi[1].item() == pytest.approx(1 - 2 * k, abs=1e-7)


def test_psi_has_no_acos_and_the_chain_rule_gradient():
    """dψ/dcosθ = (-1)^k m U_{m-1}(cos θ) = (-1)^k m sin(mθ)/sin θ."""
    m = 4
    theta = torch.tensor([0.3, 1.0, 1.7, 2.5], dtype=F64)
    c = torch.cos(theta).requires_grad_(True)
    (g,) = torch.autograd.grad(losskit.large_margin_psi(c, margin=m).sum(), c)
    k = torch.floor(m * theta / math.pi)
    expected = (-1.0) ** k * m * torch.sin(m * theta) / torch.sin(theta)
    torch.testing.assert_close(g, expected, rtol=1e-10, atol=1e-10)


# ---- L-Softmax ---------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [2, 3, 4, 6])
@pytest.mark.parametrize("lam", [0.0, 0.7, 25.0])
def test_lsoftmax_target_logit(m, lam):
    """Two classes: the loss is softplus(f_other - f_target), so the target logit is recovered
    from the loss and compared with ‖W‖‖x‖(λ cos θ + ψ(θ))/(1 + λ) (λ = 0: ‖W‖‖x‖ψ(θ))."""
    x, _, w = data(n=64, d=4, c=2, seed=m)
    y = torch.zeros(64, dtype=torch.long)
    loss = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=lam, reduction="none")
    f_other = x @ w[1]
    f_target = f_other - torch.log(torch.expm1(loss))
    theta = angles(x, w)[:, 0]
    expected = (
        w[0].norm() * x.norm(dim=1) * (lam * torch.cos(theta) + textbook_psi(theta, m)) / (1 + lam)
    )
    torch.testing.assert_close(f_target, expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("lam", [0.0, 0.3, 1000.0])
def test_lsoftmax_against_textbook(m, lam):
    x, y, w = data(seed=10 + m)
    got = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=lam, reduction="none")
    torch.testing.assert_close(got, textbook_lsoftmax(x, y, w, m, lam), rtol=1e-10, atol=1e-10)


def test_lsoftmax_gradient_against_acos_autograd():
    """Gradients via the cos θ chain rule equal autograd through the textbook acos formula."""
    x, y, w = data(seed=3)
    xa, wa = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    xb, wb = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    losskit.large_margin_softmax_loss(xa, y, wa, margin=4, lambda_=0.5).backward()
    textbook_lsoftmax(xb, y, wb, 4, 0.5).mean().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(wa.grad, wb.grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 2.0, 1e6])
def test_lsoftmax_margin_one_is_softmax_cross_entropy(lam):
    x, y, w = data(seed=4)
    xa, wa = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    xb, wb = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    got = losskit.large_margin_softmax_loss(xa, y, wa, margin=1, lambda_=lam)
    expected = tF.cross_entropy(tF.linear(xb, wb), y)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    got.backward()
    expected.backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(wa.grad, wb.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("m", [2, 4, 6])
def test_lsoftmax_lambda_infinity_is_softmax_cross_entropy(m):
    x, y, w = data(seed=5)
    plain = tF.cross_entropy(tF.linear(x, w), y, reduction="none")
    inf = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=math.inf, reduction="none")
    torch.testing.assert_close(inf, plain, rtol=1e-12, atol=1e-12)
    inf_t = losskit.large_margin_softmax_loss(
        x, y, w, margin=m, lambda_=torch.tensor(math.inf, dtype=F64), reduction="none"
    )
    torch.testing.assert_close(inf_t, plain, rtol=1e-12, atol=1e-12)
    # and the limit is approached continuously
    big = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=1e9, reduction="none")
    torch.testing.assert_close(big, plain, rtol=1e-7, atol=1e-7)
    assert not torch.allclose(
        losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=0.0, reduction="none"),
        plain,
    )


@settings(max_examples=30)
@given(
    lam=st.one_of(st.floats(0.0, 1e8), st.just(math.inf)),
    seed=st.integers(0, 2**16),
)
def test_lsoftmax_margin_one_is_softmax_for_any_lambda(lam, seed):
    x, y, w = data(n=6, d=3, c=4, seed=seed)
    got = losskit.large_margin_softmax_loss(x, y, w, margin=1, lambda_=lam, reduction="none")
    expected = tF.cross_entropy(tF.linear(x, w), y, reduction="none")
    torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-11)


@settings(max_examples=30)
@given(m=st.integers(1, 10), seed=st.integers(0, 2**16))
def test_lsoftmax_lambda_infinity_is_softmax_for_any_margin(m, seed):
    x, y, w = data(n=6, d=3, c=4, seed=seed)
    got = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=math.inf, reduction="none")
    expected = tF.cross_entropy(tF.linear(x, w), y, reduction="none")
    torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-11)


@settings(max_examples=30)
@given(
    m=st.integers(2, 6),
    lam1=st.floats(0.0, 100.0),
    lam2=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**16),
)
def test_lsoftmax_loss_decreases_as_lambda_grows(m, lam1, lam2, seed):
    """ψ(θ) <= cos θ, so the annealed target logit, and with it the loss, moves monotonically
    from the full-margin loss (λ = 0) to plain softmax (λ = ∞)."""
    x, y, w = data(n=6, d=3, c=4, seed=seed)
    lo, hi = sorted((lam1, lam2))
    loss_lo = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=lo, reduction="none")
    loss_hi = losskit.large_margin_softmax_loss(x, y, w, margin=m, lambda_=hi, reduction="none")
    assert (loss_lo >= loss_hi - 1e-12).all()


def test_no_acos_in_the_loss_or_its_gradient():
    """The forward value path and the backward use cos θ only (TorchFunctionMode sees every
    torch call, function or method)."""
    from torch.overrides import TorchFunctionMode

    class Record(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = set()

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.add(getattr(func, "__name__", str(func)))
            return func(*args, **(kwargs or {}))

    x, y, w = data(seed=8)
    x.requires_grad_(True)
    record = Record()
    with record:
        for fn in (losskit.large_margin_softmax_loss, losskit.sphereface_loss):
            fn(x, y, w, margin=4, lambda_=0.5).backward()
        losskit.arcface_loss(x, y, w).backward()
    assert "linear" in record.names  # the recorder works
    assert not {n for n in record.names if "acos" in n or "arccos" in n}


@pytest.mark.parametrize("which", ["sphereface", "cosface"])
def test_normalised_losses_gradient_against_acos_autograd(which):
    x, y, w = data(seed=42)
    xa, wa = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    xb, wb = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    if which == "sphereface":
        losskit.sphereface_loss(xa, y, wa, margin=3, lambda_=0.2).backward()
        textbook_lsoftmax(xb, y, wb, 3, 0.2, normalize_weight=True).mean().backward()
    else:
        losskit.cosface_loss(xa, y, wa, scale=16.0, margin=0.3).backward()
        textbook_cosface(xb, y, wb, 16.0, 0.3).mean().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(wa.grad, wb.grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("m", [2, 4])
def test_lsoftmax_gradgradcheck_near_boundaries(m):
    boundaries = torch.tensor([k * math.pi / m for k in range(1, m)], dtype=F64)
    x = at_angle(torch.cat([boundaries - 1e-3, boundaries + 1e-3]))
    y = torch.zeros(len(x), dtype=torch.long)
    w = torch.tensor([[1.3, 0.0], [0.2, -0.9], [-0.7, 0.4]], dtype=F64)

    def f(x_, w_):
        return losskit.large_margin_softmax_loss(x_, y, w_, margin=m, lambda_=0.3, reduction="sum")

    inputs = (x.clone().requires_grad_(True), w.clone().requires_grad_(True))
    assert torch.autograd.gradgradcheck(f, inputs, eps=1e-7, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("delta", [1e-3, -1e-3, 1e-5, -1e-5])
def test_lsoftmax_gradcheck_across_boundaries(m, delta):
    """float64 gradcheck with target angles just either side of every kπ/m."""
    boundaries = torch.tensor([k * math.pi / m for k in range(1, m)], dtype=F64)
    x = at_angle(boundaries + delta)
    y = torch.zeros(len(boundaries), dtype=torch.long)
    w = torch.tensor([[1.3, 0.0], [0.2, -0.9], [-0.7, 0.4]], dtype=F64)
    for lam in (0.0, 0.5):

        def f(x_, w_, lam=lam):
            return losskit.large_margin_softmax_loss(
                x_, y, w_, margin=m, lambda_=lam, reduction="sum"
            )

        assert torch.autograd.gradcheck(
            f,
            (x.clone().requires_grad_(True), w.clone().requires_grad_(True)),
            eps=1e-7,
            atol=1e-6,
            rtol=1e-5,
        )


@pytest.mark.parametrize("m", [2, 3, 4, 6])
def test_lsoftmax_value_and_gradient_continuous_across_boundaries(m):
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-0.5, -0.5]], dtype=F64)
    for k in range(1, m):
        b = k * math.pi / m
        theta = torch.tensor([b - 1e-8, b + 1e-8], dtype=F64)
        x = at_angle(theta).requires_grad_(True)
        loss = losskit.large_margin_softmax_loss(
            x, torch.zeros(2, dtype=torch.long), w, margin=m, reduction="none"
        )
        (g,) = torch.autograd.grad(loss.sum(), x)
        assert abs(loss[0] - loss[1]).item() < 1e-6
        torch.testing.assert_close(g[0], g[1], rtol=0, atol=1e-5)


def test_lsoftmax_margin_makes_the_loss_larger_for_correctly_classified_samples():
    x, y, w = data(seed=6)
    plain = losskit.large_margin_softmax_loss(x, y, w, margin=1, reduction="none")
    for m in (2, 3, 4):
        harder = losskit.large_margin_softmax_loss(x, y, w, margin=m, reduction="none")
        assert (harder >= plain - 1e-12).all()  # ψ(θ) <= cos θ on [0, π]


def test_lsoftmax_large_and_zero_features_are_finite():
    x, y, w = data(dtype=torch.float32)
    x = x * 1e4
    x[0] = 0.0
    x.requires_grad_(True)
    w.requires_grad_(True)
    loss = losskit.large_margin_softmax_loss(x, y, w, margin=4)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(x.grad).all() and torch.isfinite(w.grad).all()


def test_numpy_integer_margin_is_accepted():
    np = pytest.importorskip("numpy")
    x, y, w = data(seed=9)
    a = losskit.large_margin_softmax_loss(x, y, w, margin=np.int64(3))
    torch.testing.assert_close(a, losskit.large_margin_softmax_loss(x, y, w, margin=3))
    assert lnn.SphereFaceLoss(6, 5, margin=np.int32(2)).options()["margin"] == 2


def test_lambda_tensor_equals_float():
    x, y, w = data(seed=7)
    a = losskit.large_margin_softmax_loss(x, y, w, margin=3, lambda_=0.25)
    b = losskit.large_margin_softmax_loss(x, y, w, margin=3, lambda_=torch.tensor(0.25))
    torch.testing.assert_close(a, b)


# ---- SphereFace, CosFace, ArcFace against their papers -----------------------------------------


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("lam", [0.0, 5.0])
def test_sphereface_against_textbook(m, lam):
    x, y, w = data(seed=20 + m)
    got = losskit.sphereface_loss(x, y, w, margin=m, lambda_=lam, reduction="none")
    expected = textbook_lsoftmax(x, y, w, m, lam, normalize_weight=True)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    # The weight rows' lengths do not matter.
    scaled = losskit.sphereface_loss(
        x, y, w * torch.rand(w.shape[0], 1, dtype=F64) * 5, margin=m, lambda_=lam, reduction="none"
    )
    torch.testing.assert_close(scaled, got, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("s", "m"), [(64.0, 0.35), (30.0, 0.2), (1.0, 0.0)])
def test_cosface_against_textbook(s, m):
    x, y, w = data(seed=30)
    got = losskit.cosface_loss(x, y, w, scale=s, margin=m, reduction="none")
    torch.testing.assert_close(got, textbook_cosface(x, y, w, s, m), rtol=1e-10, atol=1e-10)


def test_cosface_margin_zero_is_normalised_softmax():
    x, y, w = data(seed=31)
    got = losskit.cosface_loss(x, y, w, scale=10.0, margin=0.0)
    expected = tF.cross_entropy(10.0 * tF.normalize(x) @ tF.normalize(w).T, y)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize(("s", "m"), [(64.0, 0.5), (30.0, 0.3), (8.0, 1.2)])
@pytest.mark.parametrize("easy", [False, True])
def test_arcface_against_textbook(s, m, easy):
    x, y, w = data(n=64, seed=40)
    got = losskit.arcface_loss(x, y, w, scale=s, margin=m, easy_margin=easy, reduction="none")
    torch.testing.assert_close(got, textbook_arcface(x, y, w, s, m, easy), rtol=1e-9, atol=1e-9)


def test_arcface_both_branches_and_aligned_features():
    """Target angles spread over [0, π]: exercises cos(θ + m), the fallback past π - m (and
    the easy-margin switch at π/2); θ = 0 exactly (sin θ = 0) has a finite gradient."""
    m = 0.5
    theta = torch.tensor(
        [0.0, 0.4, 1.5, 1.7, math.pi - m - 0.05, math.pi - m + 0.05, 3.0], dtype=F64
    )
    x = at_angle(theta)
    w = torch.tensor([[2.0, 0.0], [0.3, 1.0], [-1.0, -0.2]], dtype=F64)
    y = torch.zeros(len(theta), dtype=torch.long)
    for easy in (False, True):
        got = losskit.arcface_loss(x, y, w, scale=4.0, margin=m, easy_margin=easy, reduction="none")
        torch.testing.assert_close(
            got, textbook_arcface(x, y, w, 4.0, m, easy), rtol=1e-10, atol=1e-10
        )
    xg = x.clone().requires_grad_(True)
    losskit.arcface_loss(xg, y, w, scale=4.0, margin=m).backward()
    assert torch.isfinite(xg.grad).all()


def test_arcface_gradient_against_acos_autograd():
    x, y, w = data(seed=41)
    xa, wa = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    xb, wb = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    losskit.arcface_loss(xa, y, wa, scale=16.0, margin=0.5).backward()
    textbook_arcface(xb, y, wb, 16.0, 0.5).mean().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(wa.grad, wb.grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fn", [losskit.cosface_loss, losskit.arcface_loss])
def test_scaled_losses_finite_for_extreme_inputs(fn):
    x, y, w = data(dtype=torch.float32)
    x = (x * 1e4).requires_grad_(True)
    loss = fn(x, y, w, scale=64.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()


# ---- pytorch-metric-learning -------------------------------------------------------------------

pml = pytest.importorskip("pytorch_metric_learning.losses")


def _pml_pair(pml_loss, ours, x, y, w, **options):
    """Loss and gradients of pml (weight layout (D, C)) and of losskit (weight (C, D))."""
    pml_loss.W.data = w.T.clone()
    xa = x.clone().requires_grad_(True)
    va = pml_loss(xa, y)
    va.backward()
    xb, wb = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    vb = ours(xb, y, wb, **options)
    vb.backward()
    return (va, xa.grad, pml_loss.W.grad.T), (vb, xb.grad, wb.grad)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_lsoftmax_agrees_with_pytorch_metric_learning(m):
    """pml's LargeMarginSoftmaxLoss implements Eq. 5-7 of the paper without the λ annealing
    and with an extra ``scale`` factor: it coincides with losskit at λ = 0 and scale = 1."""
    x, y, w = data(seed=50 + m)
    ref = pml.LargeMarginSoftmaxLoss(num_classes=5, embedding_size=6, margin=m, scale=1).double()
    a, b = _pml_pair(ref, losskit.large_margin_softmax_loss, x, y, w, margin=m, lambda_=0.0)
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pb, pa, rtol=1e-9, atol=1e-10)


def test_sphereface_agrees_with_pytorch_metric_learning():
    x, y, w = data(seed=60)
    ref = pml.SphereFaceLoss(num_classes=5, embedding_size=6, margin=4, scale=1).double()
    a, b = _pml_pair(ref, losskit.sphereface_loss, x, y, w, margin=4, lambda_=0.0)
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pb, pa, rtol=1e-9, atol=1e-10)


def test_cosface_agrees_with_pytorch_metric_learning():
    x, y, w = data(seed=61)
    ref = pml.CosFaceLoss(num_classes=5, embedding_size=6, margin=0.35, scale=64).double()
    a, b = _pml_pair(ref, losskit.cosface_loss, x, y, w, scale=64.0, margin=0.35)
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pb, pa, rtol=1e-9, atol=1e-10)


def test_arcface_agrees_with_pytorch_metric_learning():
    """pml takes the margin in degrees; same fallback past π - m."""
    x, y, w = data(n=64, seed=62)
    ref = pml.ArcFaceLoss(num_classes=5, embedding_size=6, margin=28.6, scale=64).double()
    a, b = _pml_pair(ref, losskit.arcface_loss, x, y, w, scale=64.0, margin=math.radians(28.6))
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pb, pa, rtol=1e-8, atol=1e-9)


# ---- modules -----------------------------------------------------------------------------------


def test_lsoftmax_module_lambda_schedule_and_iteration_buffer():
    base, gamma, power, lmin = 1000.0, 2.5e-5, 35.0, 0.0
    loss = lnn.LargeMarginSoftmaxLoss(6, 5, margin=3).double()
    assert "iteration" in loss.state_dict() and int(loss.iteration) == 0
    x, y, _ = data(seed=70)
    for t in range(3):
        lam_t = max(lmin, base * (1 + gamma * t) ** -power)
        expected = losskit.large_margin_softmax_loss(x, y, loss.weight, margin=3, lambda_=lam_t)
        torch.testing.assert_close(loss(x, y), expected)  # λ of the current iteration
        assert int(loss.iteration) == t + 1  # then advanced once
    loss.eval()
    lam_3 = base * (1 + gamma * 3) ** -power
    for _ in range(2):
        got = loss(x, y)
        assert int(loss.iteration) == 3  # eval never advances
    torch.testing.assert_close(
        got, losskit.large_margin_softmax_loss(x, y, loss.weight, margin=3, lambda_=lam_3)
    )


def test_lsoftmax_module_schedule_formula_and_floor():
    loss = lnn.LargeMarginSoftmaxLoss(4, 3, base=100.0, gamma=0.1, power=2.0, lambda_min=3.0)
    for t, expected in [(0, 100.0), (10, 25.0), (40, 4.0), (90, 3.0), (10_000, 3.0)]:
        loss.iteration.fill_(t)
        assert float(loss.current_lambda(F64)) == pytest.approx(expected)


def test_lsoftmax_module_state_dict_resumes_the_schedule():
    a = lnn.LargeMarginSoftmaxLoss(6, 5, margin=2)
    x, y, _ = data(seed=71, dtype=torch.float32)
    for _ in range(5):
        a(x, y)
    b = lnn.LargeMarginSoftmaxLoss(6, 5, margin=2)
    b.load_state_dict(a.state_dict())
    assert int(b.iteration) == 5
    torch.testing.assert_close(b(x, y), a(x, y))


def test_lsoftmax_module_gradients_reach_its_weight_and_logits_are_plain():
    loss = lnn.LargeMarginSoftmaxLoss(6, 5, margin=2)
    x, y, _ = data(seed=72, dtype=torch.float32)
    loss(x, y).backward()
    assert loss.weight.grad is not None and loss.weight.grad.abs().sum() > 0
    assert [n for n, _ in loss.named_parameters()] == ["weight"]
    torch.testing.assert_close(loss.logits(x), x @ loss.weight.T)


def test_sphereface_module_defaults_follow_the_released_configuration():
    loss = lnn.SphereFaceLoss(6, 5)
    assert (loss.base, loss.gamma, loss.power, loss.lambda_min) == (1000.0, 0.12, 1.0, 5.0)
    loss.iteration.fill_(100_000)
    assert float(loss.current_lambda()) == 5.0
    x, y, _ = data(seed=73, dtype=torch.float32)
    expected = losskit.sphereface_loss(x, y, loss.weight, margin=4, lambda_=5.0)
    torch.testing.assert_close(loss(x, y), expected)


@pytest.mark.parametrize(
    ("cls", "fn", "options"),
    [
        (lnn.CosFaceLoss, losskit.cosface_loss, {"scale": 30.0, "margin": 0.4}),
        (
            lnn.ArcFaceLoss,
            losskit.arcface_loss,
            {"scale": 30.0, "margin": 0.3, "easy_margin": True},
        ),
    ],
)
def test_scaled_modules_equal_functional(cls, fn, options):
    loss = cls(6, 5, **options, reduction="sum")
    x, y, _ = data(seed=74, dtype=torch.float32)
    torch.testing.assert_close(loss(x, y), fn(x, y, loss.weight, **options, reduction="sum"))
    torch.testing.assert_close(
        loss.logits(x), options["scale"] * tF.normalize(x) @ tF.normalize(loss.weight).T
    )


def test_module_follows_to_and_low_precision_input():
    loss = lnn.LargeMarginSoftmaxLoss(6, 5).to(F64)
    assert loss.weight.dtype == F64 and loss.iteration.dtype == torch.long
    x, y, _ = data(seed=75, dtype=torch.bfloat16)
    out = lnn.ArcFaceLoss(6, 5)(x, y)
    assert out.dtype == torch.float32 and torch.isfinite(out)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lnn.LargeMarginSoftmaxLoss(4, 3, margin=1.5), r"margin must be an integer >= 1"),
        (lambda: lnn.LargeMarginSoftmaxLoss(0, 3), r"in_features must be a positive integer"),
        (lambda: lnn.SphereFaceLoss(4, 3, gamma=-1.0), r"gamma must be >= 0"),
        (lambda: lnn.ArcFaceLoss(4, 3, margin=4.0), r"margin must lie in \[0, pi\)"),
        (lambda: lnn.CosFaceLoss(4, 3, reduction="avg"), r"reduction must be one of"),
    ],
)
def test_module_construction_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_functional_option_errors():
    x, y, w = data(dtype=torch.float32)
    with pytest.raises(ValueError, match=r"^arcface_loss: margin must lie in \[0, pi\)"):
        losskit.arcface_loss(x, y, w, margin=-0.1)
    with pytest.raises(ValueError, match=r"^cosface_loss: margin must be >= 0, got -0.1"):
        losskit.cosface_loss(x, y, w, margin=-0.1)
    with pytest.raises(ValueError, match=r"^large_margin_softmax_loss: lambda_ must be a number"):
        losskit.large_margin_softmax_loss(x, y, w, lambda_=torch.ones(2))
    with pytest.raises(ValueError, match=r"^large_margin_psi: margin must be an integer"):
        losskit.large_margin_psi(torch.zeros(2), margin=True)
    with losskit.validation(False):  # label range is a data-dependent check
        losskit.large_margin_softmax_loss(x, y, w)
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 4\], got 5"):
        losskit.sphereface_loss(x, torch.full_like(y, 5), w)
