"""Regression losses against torch.nn.functional, Keras 3, float64 textbook formulas, the
survey's tables, and their algebraic properties."""

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

REDUCTIONS = ("none", "mean", "sum")


def pair(shape: tuple[int, ...] = (6, 5), seed: int = 0, dtype: torch.dtype = torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype, requires_grad=True)
    y = torch.randn(shape, generator=g, dtype=dtype)
    return x, y


def assert_same_value_and_grad(ours, theirs, x) -> None:
    a = ours(x)
    b = theirs(x)
    torch.testing.assert_close(a, b)
    (ga,) = torch.autograd.grad(a.sum(), x)
    (gb,) = torch.autograd.grad(b.sum(), x)
    torch.testing.assert_close(ga, gb)


# --- torch.nn.functional parity ------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("ours", "theirs", "options"),
    [
        (losskit.mse_loss, tF.mse_loss, {}),
        (losskit.mae_loss, tF.l1_loss, {}),
        (losskit.huber_loss, tF.huber_loss, {"delta": 0.3}),
        (losskit.huber_loss, tF.huber_loss, {"delta": 2.5}),
        (losskit.smooth_l1_loss, tF.smooth_l1_loss, {"beta": 0.3}),
        (losskit.smooth_l1_loss, tF.smooth_l1_loss, {"beta": 0.0}),
        (losskit.poisson_loss, tF.poisson_nll_loss, {"log_input": True, "full": True}),
    ],
)
def test_matches_torch_functional(ours, theirs, options, reduction) -> None:
    x, y = pair()
    if ours is losskit.poisson_loss:
        y = (3 * y.abs()).floor()
    assert_same_value_and_grad(
        lambda t: ours(t, y, reduction=reduction, **options),
        lambda t: theirs(t, y, reduction=reduction, **options),
        x,
    )


def test_poisson_rates_match_torch() -> None:
    x, y = pair()
    rates = x.detach().abs().requires_grad_(True)
    assert_same_value_and_grad(
        lambda t: losskit.poisson_loss(t, y.abs(), log_input=False, full=True),
        lambda t: tF.poisson_nll_loss(t, y.abs(), log_input=False, full=True),
        rates,
    )


def test_cosine_similarity_loss_matches_torch() -> None:
    x, y = pair((4, 3, 5))
    for dim in (0, 1, -1):
        assert_same_value_and_grad(
            lambda t, d=dim: losskit.cosine_similarity_loss(t, y, dim=d, reduction="none"),
            lambda t, d=dim: 1 - tF.cosine_similarity(t, y, dim=d),
            x,
        )


# --- Keras 3 (torch backend) parity ----------------------------------------------------------


@pytest.fixture(scope="module")
def keras_losses():
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "torch"
    return keras.losses


@pytest.mark.parametrize(
    ("name", "ours", "options"),
    [
        ("log_cosh", losskit.log_cosh_loss, {}),
        ("huber", losskit.huber_loss, {"delta": 1.0}),
        ("mean_squared_error", losskit.mse_loss, {}),
        ("mean_absolute_error", losskit.mae_loss, {}),
        ("mean_absolute_percentage_error", losskit.mape_loss, {}),
    ],
)
def test_matches_keras_per_sample(keras_losses, name, ours, options) -> None:
    x, y = pair((8, 6), dtype=torch.float32)
    x = x.detach()
    keras_fn = getattr(keras_losses, name)
    expected = torch.as_tensor(np.asarray(keras_fn(y, x, **options)))
    # Keras reduces each sample over the last axis with a mean.
    ours_per_sample = ours(x, y, reduction="none", **options).mean(-1)
    torch.testing.assert_close(ours_per_sample, expected, rtol=1e-5, atol=1e-6)


def test_msle_and_poisson_match_keras_inside_their_domain(keras_losses) -> None:
    x, y = pair((8, 6), dtype=torch.float32)
    x, y = x.detach().abs() + 0.1, y.abs() + 0.1
    msle = torch.as_tensor(np.asarray(keras_losses.mean_squared_logarithmic_error(y, x)))
    torch.testing.assert_close(losskit.msle_loss(x, y, reduction="none").mean(-1), msle)
    poisson = torch.as_tensor(np.asarray(keras_losses.poisson(y, x)))
    ours = losskit.poisson_loss(x, y, log_input=False, eps=1e-7, reduction="none").mean(-1)
    torch.testing.assert_close(ours, poisson, rtol=1e-5, atol=1e-6)


def test_cosine_similarity_is_keras_plus_one(keras_losses) -> None:
    x, y = pair((8, 6), dtype=torch.float32)
    keras_value = torch.as_tensor(np.asarray(keras_losses.cosine_similarity(y, x.detach())))
    ours = losskit.cosine_similarity_loss(x.detach(), y, reduction="none")
    torch.testing.assert_close(ours, keras_value + 1, rtol=1e-5, atol=1e-6)


# --- float64 textbook formulas -----------------------------------------------------------------


def textbook(name: str, e: np.ndarray, x: np.ndarray, y: np.ndarray, **o) -> np.ndarray:
    """Elementwise definitions written from the formulas, one scalar at a time."""
    out = np.empty_like(e)
    for i, (ei, xi, yi) in enumerate(zip(e.flat, x.flat, y.flat, strict=True)):
        if name == "huber":
            d = o["delta"]
            v = 0.5 * ei * ei if abs(ei) <= d else d * (abs(ei) - 0.5 * d)
        elif name == "smooth_l1":
            b = o["beta"]
            v = 0.5 * ei * ei / b if abs(ei) < b else abs(ei) - 0.5 * b
        elif name == "log_cosh":
            v = math.log(math.cosh(ei))
        elif name == "quantile":
            r = yi - xi
            v = o["q"] * r if r >= 0 else (o["q"] - 1) * r
        elif name == "msle":
            v = (math.log(1 + xi) - math.log(1 + yi)) ** 2
        elif name == "mape":
            v = 100 * abs(xi - yi) / max(abs(yi), 1e-7)
        else:
            raise KeyError(name)
        out.flat[i] = v
    return out


@pytest.mark.parametrize(
    ("name", "fn", "options"),
    [
        ("huber", losskit.huber_loss, {"delta": 0.8}),
        ("smooth_l1", losskit.smooth_l1_loss, {"beta": 0.8}),
        ("log_cosh", losskit.log_cosh_loss, {}),
        ("quantile", losskit.quantile_loss, {"q": 0.3}),
        ("msle", losskit.msle_loss, {}),
        ("mape", losskit.mape_loss, {}),
    ],
)
def test_matches_textbook_float64(name, fn, options) -> None:
    x, y = pair((5, 4), seed=3)
    x, y = x.detach(), y
    if name == "msle":
        x, y = x.abs(), y.abs()
    expected = textbook(name, (x - y).numpy(), x.numpy(), y.numpy(), **options)
    got = fn(x, y, reduction="none", **options)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_l1_l2_distances_textbook(dim) -> None:
    x, y = pair((4, 3), seed=5)
    e = (x - y).detach().numpy()
    if dim is None:
        l1, l2 = np.abs(e).sum(), math.sqrt((e * e).sum())
    else:
        l1, l2 = np.abs(e).sum(axis=dim), np.sqrt((e * e).sum(axis=dim))
    np.testing.assert_allclose(losskit.l1_loss(x, y, dim=dim, reduction="none").detach(), l1)
    np.testing.assert_allclose(losskit.l2_loss(x, y, dim=dim, reduction="none").detach(), l2)


def test_l2_loss_gradient_is_zero_at_zero_error() -> None:
    x = torch.zeros(3, 4, requires_grad=True)
    (g,) = torch.autograd.grad(losskit.l2_loss(x, torch.zeros(3, 4)), x)
    assert torch.equal(g, torch.zeros(3, 4))


def test_l2_loss_does_not_overflow() -> None:
    x = torch.full((2, 4), 1e30)
    out = losskit.l2_loss(x, torch.zeros(2, 4), reduction="none")
    torch.testing.assert_close(out, torch.full((2,), 2e30))


def test_cosine_similarity_zero_vector_is_finite() -> None:
    x = torch.zeros(2, 3, requires_grad=True)
    out = losskit.cosine_similarity_loss(x, torch.ones(2, 3))
    (g,) = torch.autograd.grad(out, x)
    assert out.item() == 1.0
    assert torch.isfinite(g).all()


def test_log_cosh_gradient_is_tanh() -> None:
    x, y = pair((50,), seed=9)
    (g,) = torch.autograd.grad(losskit.log_cosh_loss(x, y, reduction="sum"), x)
    torch.testing.assert_close(g, torch.tanh(x - y).detach())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_log_cosh_finite_at_large_errors(dtype) -> None:
    x = torch.tensor([-1e4, 1e4, 60.0, -60.0], dtype=dtype, requires_grad=True)
    out = losskit.log_cosh_loss(x, torch.zeros(4, dtype=dtype), reduction="none")
    (g,) = torch.autograd.grad(out.sum(), x)
    assert torch.isfinite(out).all() and torch.isfinite(g).all()
    expected = x.detach().float().abs() - math.log(2)
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-3)
    torch.testing.assert_close(g.float(), x.detach().float().sign())


# --- weights and validation ----------------------------------------------------------------------


def test_weight_broadcasts_and_mean_divides_by_elements() -> None:
    x, y = pair((4, 3))
    w = torch.tensor([[1.0], [0.0], [2.0], [0.5]], dtype=torch.float64)
    none = losskit.mse_loss(x, y, reduction="none")
    weighted = losskit.mse_loss(x, y, weight=w, reduction="none")
    torch.testing.assert_close(weighted, none * w)
    torch.testing.assert_close(losskit.mse_loss(x, y, weight=w), (none * w).sum() / 12)
    torch.testing.assert_close(losskit.mse_loss(x, y, weight=w, reduction="sum"), (none * w).sum())


def test_module_forward_accepts_per_call_weight() -> None:
    x, y = pair((4, 3))
    w = torch.rand(4, 1, dtype=torch.float64)
    module = nn.HuberLoss(delta=0.5)
    torch.testing.assert_close(
        module(x, y, weight=w), losskit.huber_loss(x, y, delta=0.5, weight=w)
    )


def test_module_tensor_options_are_buffers() -> None:
    module = losskit._core.module.Loss(reduction="sum", weight=torch.ones(3))
    assert "weight" in dict(module.named_buffers())
    assert module.to(torch.float64).weight.dtype == torch.float64


def test_validation_can_be_switched_off_per_call_and_globally() -> None:
    bad = torch.tensor([-2.0, 1.0])
    with pytest.raises(ValueError, match=r"msle_loss: input must lie in \(-1, inf\]"):
        losskit.msle_loss(bad, torch.ones(2))
    assert torch.isnan(losskit.msle_loss(bad, torch.ones(2), validate=False))
    with losskit.validation(False):
        assert torch.isnan(losskit.msle_loss(bad, torch.ones(2)))
        with pytest.raises(ValueError):
            losskit.msle_loss(bad, torch.ones(2), validate=True)
    losskit.set_validation(False)
    try:
        assert torch.isnan(losskit.msle_loss(bad, torch.ones(2)))
    finally:
        losskit.set_validation(True)


def test_static_checks_stay_on_without_validation() -> None:
    with losskit.validation(False), pytest.raises(ValueError, match="same shape"):
        losskit.mse_loss(torch.zeros(2, 3), torch.zeros(3))


def test_integer_target_is_accepted_and_cast() -> None:
    x = torch.tensor([0.5, 2.0])
    torch.testing.assert_close(
        losskit.mse_loss(x, torch.tensor([0, 2])), losskit.mse_loss(x, torch.tensor([0.0, 2.0]))
    )


def test_bad_dim_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"l2_loss: dim must be an int in \[-2, 1\]"):
        losskit.l2_loss(torch.zeros(2, 3), torch.zeros(2, 3), dim=2)


# --- the survey's tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "mae", "rmse"),
    [([0, 1, -2, -0.5, 1.5], 1.00, 1.22), ([0, 1, 1, -2, 15], 3.80, 6.80)],
)
def test_survey_error_tables(errors, mae, rmse) -> None:
    e = torch.tensor(errors, dtype=torch.float64)
    zero = torch.zeros_like(e)
    assert round(losskit.mae_loss(e, zero).item(), 2) == mae
    assert round(losskit.mse_loss(e, zero).sqrt().item(), 2) == rmse
    # The survey's L2 distance over the whole error vector, divided by sqrt(n), is the RMSE.
    l2 = losskit.l2_loss(e, zero, dim=None) / math.sqrt(len(errors))
    assert round(l2.item(), 2) == rmse


def test_survey_outlier_case_mae_fits_median_mse_fits_mean() -> None:
    g = torch.Generator().manual_seed(0)
    target = torch.cat([torch.full((90,), 150.0), torch.rand(10, generator=g) * 30])
    pred = torch.zeros(1, requires_grad=True)
    results = {}
    for name, fn in (("mae", losskit.mae_loss), ("mse", losskit.mse_loss)):
        p = pred.detach().clone().requires_grad_(True)
        opt = torch.optim.SGD([p], lr=0.5 if name == "mae" else 0.1)
        for _ in range(3000):
            opt.zero_grad()
            fn(p.expand(100), target).backward()
            opt.step()
        results[name] = p.item()
    assert abs(results["mae"] - 150.0) < 1.0
    assert abs(results["mse"] - target.mean().item()) < 1.0


# --- properties -----------------------------------------------------------------------------------

floats = st.floats(-50, 50, allow_nan=False, width=64)
vectors = st.lists(floats, min_size=1, max_size=20)


@given(vectors, st.floats(0.01, 10))
def test_huber_is_delta_times_smooth_l1(values, delta) -> None:
    e = torch.tensor(values, dtype=torch.float64)
    z = torch.zeros_like(e)
    torch.testing.assert_close(
        losskit.huber_loss(e, z, delta=delta, reduction="none"),
        delta * losskit.smooth_l1_loss(e, z, beta=delta, reduction="none"),
    )


@given(st.floats(-1e-3, 1e-3, allow_nan=False))
def test_log_cosh_is_half_square_for_small_errors(e) -> None:
    v = losskit.log_cosh_loss(
        torch.tensor([e], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    )
    assert abs(v.item() - e * e / 2) <= 1e-3 * e * e + 1e-300


@given(st.floats(20, 1e4))
def test_log_cosh_is_abs_minus_log2_for_large_errors(e) -> None:
    for sign in (1, -1):
        v = losskit.log_cosh_loss(torch.tensor([sign * e]), torch.zeros(1))
        assert math.isfinite(v.item())
        assert abs(v.item() - (e - math.log(2))) <= 1e-6 * e + 1e-5


@given(vectors, vectors)
def test_quantile_half_is_half_mae(a, b) -> None:
    n = min(len(a), len(b))
    x = torch.tensor(a[:n], dtype=torch.float64)
    y = torch.tensor(b[:n], dtype=torch.float64)
    torch.testing.assert_close(losskit.quantile_loss(x, y, q=0.5), 0.5 * losskit.mae_loss(x, y))


@given(vectors)
def test_mae_at_most_rmse(values) -> None:
    e = torch.tensor(values, dtype=torch.float64)
    z = torch.zeros_like(e)
    assert losskit.mae_loss(e, z) <= losskit.mse_loss(e, z).sqrt() * (1 + 1e-12) + 1e-12


@given(vectors)
def test_distances_are_nonnegative_and_l2_at_most_l1(values) -> None:
    e = torch.tensor(values, dtype=torch.float64)
    z = torch.zeros_like(e)
    l1 = losskit.l1_loss(e, z, dim=None)
    l2 = losskit.l2_loss(e, z, dim=None)
    assert 0 <= l2 <= l1 * (1 + 1e-12) + 1e-12


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_log_cosh_value_and_gradient_across_the_range(dtype: torch.dtype) -> None:
    """One expm1 gives value and tanh: against float64 log(cosh) and tanh (mpmath-free: the
    float64 reference is log1p(2 sinh(e/2)^2) below 300 and |e| - log 2 above), from 1e-30 to
    1e30 of either sign, including both sides of the cap at 40."""
    mags = torch.cat(
        [torch.logspace(-30, 30, 241, dtype=torch.float64), torch.tensor([39.9, 40.0, 40.1, 88.0])]
    )
    e64 = torch.cat([mags, -mags])
    ref = torch.where(
        e64.abs() < 300, torch.log1p(2 * torch.sinh(e64 / 2) ** 2), e64.abs() - math.log(2.0)
    )
    x = e64.to(dtype).requires_grad_()
    value = losskit.log_cosh_loss(x, torch.zeros_like(x), reduction="none")
    (grad,) = torch.autograd.grad(value.sum(), x)
    tol = 2e-6 if dtype == torch.float32 else 1e-13
    keep = ref > torch.finfo(dtype).tiny * 1e3  # below that the value is subnormal or zero
    torch.testing.assert_close(value.double()[keep], ref[keep], rtol=tol, atol=0.0)
    torch.testing.assert_close(
        grad.double(), torch.tanh(e64.to(dtype).double()), rtol=tol, atol=0.0
    )
