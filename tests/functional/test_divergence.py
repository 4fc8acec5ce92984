"""KL divergence against torch.nn.functional.kl_div, Keras 3, scipy and closed-form / Monte-Carlo
float64 formulas for torch.distributions; properties; zeros and infinities; numerics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Categorical, Normal

import losskit
from losskit import kl_divergence

REDUCTIONS = ["none", "mean", "sum", "batchmean"]
TF_GOLDEN = Path(__file__).resolve().parents[1] / "data" / "divergence" / "tf_kl_divergence.json"


def _pair(generator: torch.Generator, shape: tuple[int, ...] = (6, 5), dim: int = 1):  # type: ignore[no-untyped-def]
    logits = 2 * torch.randn(shape, generator=generator, dtype=torch.float64)
    target = torch.softmax(torch.randn(shape, generator=generator, dtype=torch.float64), dim)
    return logits, target


# --------------------------------------------------------------------------------------------
# torch.nn.functional.kl_div


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 2)])
def test_kl_div_parity_every_reduction(log_target, shape, generator) -> None:  # type: ignore[no-untyped-def]
    logits, p = _pair(generator, shape)
    log_q = tF.log_softmax(logits, 1).requires_grad_()
    t = (p.log() if log_target else p).requires_grad_()
    kind = "log_probs" if log_target else "probs"
    c = shape[1]
    for reduction in REDUCTIONS:
        ours = kl_divergence(
            log_q, t, input_kind="log_probs", target_kind=kind, reduction=reduction
        )
        torch_red = "none" if reduction == "none" else reduction
        theirs = tF.kl_div(log_q, t, reduction=torch_red, log_target=log_target)
        if reduction == "none":
            theirs = theirs.sum(1)  # losskit's "none" is per distribution
        elif reduction == "mean":
            theirs = theirs * c  # kl_div averages over elements, losskit over distributions
        torch.testing.assert_close(ours, theirs)
        g_ours = torch.autograd.grad(ours.sum(), (log_q, t))
        g_theirs = torch.autograd.grad(theirs.sum(), (log_q, t))
        for a, b in zip(g_ours, g_theirs, strict=True):
            torch.testing.assert_close(a, b)


def test_batchmean_and_sum_equal_kl_div_defaults(generator) -> None:  # type: ignore[no-untyped-def]
    logits, p = _pair(generator)
    log_q = tF.log_softmax(logits, 1)
    torch.testing.assert_close(kl_divergence(logits, p), tF.kl_div(log_q, p, reduction="batchmean"))
    torch.testing.assert_close(
        kl_divergence(logits, p, reduction="sum"), tF.kl_div(log_q, p, reduction="sum")
    )


@pytest.mark.parametrize("input_kind", ["logits", "log_probs", "probs"])
@pytest.mark.parametrize("target_kind", ["logits", "log_probs", "probs"])
def test_kinds_agree(input_kind, target_kind, generator) -> None:  # type: ignore[no-untyped-def]
    a = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    b = torch.randn(5, 4, generator=generator, dtype=torch.float64)

    def as_kind(logits: torch.Tensor, kind: str) -> torch.Tensor:
        return {
            "logits": logits,
            "log_probs": tF.log_softmax(logits, 1),
            "probs": torch.softmax(logits, 1),
        }[kind]

    expected = tF.kl_div(
        tF.log_softmax(a, 1), tF.log_softmax(b, 1), log_target=True, reduction="none"
    ).sum(1)
    got = kl_divergence(
        as_kind(a, input_kind),
        as_kind(b, target_kind),
        input_kind=input_kind,
        target_kind=target_kind,
        reduction="none",
    )
    torch.testing.assert_close(got, expected)


def test_dim_and_weight(generator) -> None:  # type: ignore[no-untyped-def]
    logits, p = _pair(generator, (4, 3, 5))
    expected = tF.kl_div(tF.log_softmax(logits, 1), p, reduction="none").sum(1)
    got = kl_divergence(logits.movedim(1, -1), p.movedim(1, -1), dim=-1, reduction="none")
    torch.testing.assert_close(got, expected)
    w = torch.rand(4, 1, generator=generator, dtype=torch.float64)  # per-sample weights
    torch.testing.assert_close(
        kl_divergence(logits, p, weight=w, reduction="sum"), (expected * w).sum()
    )


def test_single_distribution_dim0() -> None:
    # One 1-D distribution: "none" is a scalar and "batchmean" divides by 1 (kl_div divides by C).
    q = torch.tensor([0.25, 0.25, 0.5])
    p = torch.tensor([0.5, 0.25, 0.25])
    value = 0.5 * math.log(2) + 0.25 * math.log(0.5)
    for reduction in REDUCTIONS:
        got = kl_divergence(q, p, dim=0, input_kind="probs", reduction=reduction)
        assert got.shape == ()
        torch.testing.assert_close(got, torch.tensor(value))
    torch.testing.assert_close(
        tF.kl_div(q.log(), p, reduction="batchmean"), torch.tensor(value / 3)
    )


# --------------------------------------------------------------------------------------------
# Keras 3 (torch backend) and scipy


def test_keras_kl_divergence(generator) -> None:  # type: ignore[no-untyped-def]
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    # Keras clips both distributions to [1e-7, 1]: compare where the clip does nothing.
    p = torch.rand(7, 6, generator=generator) * 0.9 + 0.05
    q = torch.rand(7, 6, generator=generator) * 0.9 + 0.05
    p, q = p / p.sum(-1, keepdim=True), q / q.sum(-1, keepdim=True)
    expected = torch.as_tensor(keras.losses.kl_divergence(p, q))
    got = kl_divergence(q, p, dim=-1, input_kind="probs", reduction="none")
    torch.testing.assert_close(got, expected)


def test_scipy_entropy_with_zeros() -> None:
    stats = pytest.importorskip("scipy.stats")
    p = torch.tensor([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0], [0.2, 0.8, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.1, 0.1, 0.8], [0.0, 0.6, 0.4], [0.3, 0.7, 0.0]], dtype=torch.float64)
    expected = torch.tensor([stats.entropy(p[i].numpy(), q[i].numpy()) for i in range(3)])
    got = kl_divergence(q, p, input_kind="probs", reduction="none")
    assert math.isinf(float(expected[1]))  # scipy agrees: p > 0 = q gives +inf
    torch.testing.assert_close(got, expected.to(got.dtype))


# --------------------------------------------------------------------------------------------
# torch.distributions: analytic KL(a || b) against closed forms and Monte Carlo


def _normal_kl(mu1: torch.Tensor, s1: torch.Tensor, mu2: torch.Tensor, s2: torch.Tensor):  # type: ignore[no-untyped-def]
    """KL(N(mu1, s1^2) || N(mu2, s2^2)) in closed form."""
    return torch.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


def test_normal_closed_form_and_direction(generator) -> None:  # type: ignore[no-untyped-def]
    mu1, mu2 = torch.randn(2, 5, generator=generator, dtype=torch.float64)
    s1, s2 = torch.rand(2, 5, generator=generator, dtype=torch.float64) + 0.3
    a, b = Normal(mu1, s1), Normal(mu2, s2)
    got = kl_divergence(a, b, reduction="none")
    torch.testing.assert_close(got, _normal_kl(mu1, s1, mu2, s2))  # first argument first
    assert not torch.allclose(got, _normal_kl(mu2, s2, mu1, s1))  # the other direction differs
    torch.testing.assert_close(kl_divergence(a, b), got.sum() / 5)  # batchmean over the batch
    torch.testing.assert_close(kl_divergence(a, b, reduction="sum"), got.sum())
    torch.testing.assert_close(losskit.nn.KLDivergence(reduction="mean")(a, b), got.mean())


def test_distribution_weight_and_module(generator) -> None:  # type: ignore[no-untyped-def]
    a = Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    b = Normal(
        torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    )
    w = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    per = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)  # (mu1 - mu2)^2 / 2
    torch.testing.assert_close(kl_divergence(a, b, weight=w, reduction="none"), per * w)
    torch.testing.assert_close(
        kl_divergence(a, b, weight=w, reduction="sum"), torch.tensor(1.0, dtype=torch.float64)
    )
    torch.testing.assert_close(losskit.nn.KLDivergence(reduction="none")(a, b), per)


def _tf_cases() -> list[dict]:
    return json.loads(TF_GOLDEN.read_text())["cases"]


@pytest.mark.parametrize("case", _tf_cases(), ids=lambda c: c["distribution"])
def test_tensorflow_distributions_kl(case: dict) -> None:
    """TF1's kl_divergence(a, b) = KL(a || b) (golden values, scripts/golden/divergence.py)."""
    cls = getattr(torch.distributions, case["distribution"])

    def build(params: dict) -> torch.distributions.Distribution:
        return cls(**{k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()})

    a, b = build(case["a"]), build(case["b"])
    expected = torch.tensor(case["kl_a_b"], dtype=torch.float64)
    torch.testing.assert_close(kl_divergence(a, b, reduction="none"), expected)
    torch.testing.assert_close(
        kl_divergence(a, b, reduction="sum", allow_nan_stats=False), expected.sum()
    )
    if case["distribution"] == "Categorical":
        # the tensor form: KL(target || input), so a's logits are the target
        la = torch.tensor(case["a"]["logits"], dtype=torch.float64)
        lb = torch.tensor(case["b"]["logits"], dtype=torch.float64)
        torch.testing.assert_close(
            kl_divergence(lb, la, dim=-1, target_kind="logits", reduction="none"), expected
        )


def test_normal_monte_carlo() -> None:
    gen = torch.Generator().manual_seed(1)
    a, b = (
        Normal(torch.tensor(0.3, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64)),
        Normal(torch.tensor(-0.5, dtype=torch.float64), torch.tensor(1.7, dtype=torch.float64)),
    )
    z = 0.3 + 0.8 * torch.randn(400_000, generator=gen, dtype=torch.float64)
    mc = (a.log_prob(z) - b.log_prob(z)).mean()
    got = kl_divergence(a, b, reduction="none")
    # standard error of the MC mean is about 1e-3 here
    assert abs(float(got - mc)) < 5e-3


def test_categorical_closed_form(generator) -> None:  # type: ignore[no-untyped-def]
    pa = torch.softmax(torch.randn(4, 6, generator=generator, dtype=torch.float64), -1)
    pb = torch.softmax(torch.randn(4, 6, generator=generator, dtype=torch.float64), -1)
    expected = torch.tensor(
        [
            sum(float(pa[i, j]) * math.log(float(pa[i, j] / pb[i, j])) for j in range(6))
            for i in range(4)
        ],
        dtype=torch.float64,
    )
    got = kl_divergence(Categorical(probs=pa), Categorical(probs=pb), reduction="none")
    torch.testing.assert_close(got, expected)
    # the tensor form with the roles of the arguments swapped gives the same numbers
    torch.testing.assert_close(
        kl_divergence(pb, pa, dim=-1, input_kind="probs", reduction="none"), expected
    )


def test_allow_nan_stats() -> None:
    a = Normal(torch.tensor([0.0, float("nan")]), torch.ones(2), validate_args=False)
    b = Normal(torch.zeros(2), torch.ones(2))
    got = kl_divergence(a, b, reduction="none")
    assert float(got[0]) == 0.0 and math.isnan(float(got[1]))
    with pytest.raises(
        ValueError,
        match=r"^kl_divergence: result must not be NaN when "
        r"allow_nan_stats=False, got 1 NaN value\(s\)$",
    ):
        kl_divergence(a, b, allow_nan_stats=False, reduction="none")
    ok = Normal(torch.zeros(2), torch.ones(2))
    torch.testing.assert_close(kl_divergence(ok, b, allow_nan_stats=False), torch.tensor(0.0))


def test_distribution_errors() -> None:
    n = Normal(0.0, 1.0)
    with pytest.raises(TypeError, match=r"must both be tensors or both torch\.distributions"):
        kl_divergence(n, torch.zeros(2))
    with pytest.raises(ValueError, match="must keep their defaults"):
        kl_divergence(n, n, input_kind="probs")
    with pytest.raises(
        TypeError, match="registered analytic KL divergence, got Normal and Categorical"
    ):
        kl_divergence(n, Categorical(probs=torch.tensor([0.5, 0.5])))


# --------------------------------------------------------------------------------------------
# Properties


def _logit_rows(c: int) -> st.SearchStrategy[list[list[float]]]:
    row = st.lists(st.floats(-8, 8, allow_nan=False, width=64), min_size=c, max_size=c)
    return st.lists(row, min_size=2, max_size=10)


@given(st.integers(2, 6).flatmap(_logit_rows))
def test_kl_nonnegative_pinsker_and_identity(rows: list[list[float]]) -> None:
    half = len(rows) // 2
    a = torch.tensor(rows[:half], dtype=torch.float64)
    b = torch.tensor(rows[half : 2 * half], dtype=torch.float64)
    p, q = torch.softmax(b, 1), torch.softmax(a, 1)
    kl = kl_divergence(a, p, reduction="none")
    assert bool((kl >= -1e-12).all())
    # Pinsker: KL >= 1/2 ||p - q||_1^2, so KL = 0 only if the distributions are equal
    tv = (p - q).abs().sum(1)
    assert bool((kl >= 0.5 * tv**2 - 1e-12).all())
    # KL(p || p) = 0 for every kind
    self_kl = kl_divergence(b, p, reduction="none")
    torch.testing.assert_close(self_kl, torch.zeros_like(self_kl), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        kl_divergence(p, p, input_kind="probs", reduction="none"),
        torch.zeros_like(self_kl),
        atol=1e-12,
        rtol=0,
    )


@given(st.integers(2, 6).flatmap(_logit_rows))
def test_kl_is_cross_entropy_minus_entropy(rows: list[list[float]]) -> None:
    half = len(rows) // 2
    logits = torch.tensor(rows[:half], dtype=torch.float64)
    p = torch.softmax(torch.tensor(rows[half : 2 * half], dtype=torch.float64), 1)
    cross_entropy = tF.cross_entropy(logits, p, reduction="none")  # soft-target CE
    entropy = Categorical(probs=p).entropy()
    torch.testing.assert_close(
        kl_divergence(logits, p, reduction="none"), cross_entropy - entropy, atol=1e-10, rtol=1e-7
    )


@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=6),
    st.lists(st.booleans(), min_size=2, max_size=6),
)
def test_zeros_in_target_are_finite(raw: list[float], zero: list[bool]) -> None:
    n = min(len(raw), len(zero))
    p = torch.tensor(raw[:n], dtype=torch.float64) + 0.01
    p = torch.where(torch.tensor(zero[:n]), 0.0, p)
    if float(p.sum()) == 0:
        p[0] = 1.0
    p = (p / p.sum())[None]
    logits = torch.linspace(-3, 3, n, dtype=torch.float64)[None].requires_grad_()
    kl = kl_divergence(logits, p, reduction="sum")
    kl.backward()
    assert math.isfinite(float(kl.detach())) and float(kl.detach()) >= 0
    assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())
    # d KL / d logits = softmax(logits) - p
    torch.testing.assert_close(logits.grad, torch.softmax(logits.detach(), 1) - p)


# --------------------------------------------------------------------------------------------
# Zeros, infinities and extreme logits


@pytest.mark.parametrize("input_kind", ["probs", "log_probs"])
def test_zero_target_with_zero_input_is_finite(input_kind) -> None:  # type: ignore[no-untyped-def]
    q = torch.tensor([[0.0, 0.5, 0.5]], dtype=torch.float64)
    p = torch.tensor([[0.0, 0.25, 0.75]], dtype=torch.float64)
    x = (q if input_kind == "probs" else q.log()).requires_grad_()
    t = p.clone().requires_grad_()
    kl = kl_divergence(x, t, input_kind=input_kind, reduction="sum")
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    torch.testing.assert_close(kl, torch.tensor(expected, dtype=torch.float64))
    kl.backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    assert float(x.grad[0, 0]) == 0.0


def test_log_target_minus_inf_is_zero_not_nan() -> None:
    log_q = torch.log(torch.tensor([[0.2, 0.8]]))
    log_p = torch.tensor([[float("-inf"), 0.0]])
    assert math.isnan(float(tF.kl_div(log_q, log_p, log_target=True, reduction="sum")))
    got = kl_divergence(
        log_q, log_p, input_kind="log_probs", target_kind="log_probs", reduction="sum"
    )
    torch.testing.assert_close(got, -torch.log(torch.tensor(0.8)))


@pytest.mark.parametrize("input_kind", ["probs", "log_probs"])
def test_target_mass_where_input_has_none_is_inf(input_kind) -> None:  # type: ignore[no-untyped-def]
    q = torch.tensor([[0.0, 1.0], [0.5, 0.5]])
    p = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    x = q if input_kind == "probs" else q.log()
    got = kl_divergence(x, p, input_kind=input_kind, reduction="none")
    assert math.isinf(float(got[0])) and float(got[0]) > 0
    assert float(got[1]) == 0.0


def test_extreme_logits_use_log_softmax() -> None:
    # log(softmax(x)) would be log(0) = -inf here; log_softmax gives -2e4.
    x = torch.tensor([[1e4, -1e4]], requires_grad=True)
    p = torch.tensor([[0.5, 0.5]])
    kl = kl_divergence(x, p, reduction="sum")
    torch.testing.assert_close(kl, torch.tensor(1e4 - math.log(2)))
    kl.backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, torch.tensor([[0.5, -0.5]]))


@pytest.mark.parametrize(
    ("dtype", "scale"), [(torch.float32, 1e4), (torch.float16, 60.0), (torch.bfloat16, 60.0)]
)
@pytest.mark.parametrize("target_kind", ["probs", "logits"])
def test_finite_at_extremes(dtype, scale, target_kind, generator) -> None:  # type: ignore[no-untyped-def]
    x = (scale * torch.sign(torch.randn(4, 5, generator=generator))).to(dtype).requires_grad_()
    y_logits = (scale * torch.sign(torch.randn(4, 5, generator=generator))).to(dtype)
    y = y_logits if target_kind == "logits" else torch.softmax(y_logits.float(), 1).to(dtype)
    y.requires_grad_()
    kl = kl_divergence(x, y, target_kind=target_kind)
    assert kl.dtype == torch.float32 and math.isfinite(float(kl.detach()))
    kl.backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    # target probabilities that underflow to 0 have zero gradient (their terms are masked)
    assert y.grad is not None and bool(torch.isfinite(y.grad.float()).all())


# --------------------------------------------------------------------------------------------
# Validation, module, compile


def test_validation() -> None:
    with pytest.raises(ValueError, match=r"^kl_divergence: input must lie in \[0, 1\]"):
        kl_divergence(torch.tensor([[1.5, -0.5]]), torch.tensor([[0.5, 0.5]]), input_kind="probs")
    with pytest.raises(ValueError, match=r"^kl_divergence: target must lie in \[-inf, 0\]"):
        kl_divergence(torch.zeros(1, 2), torch.tensor([[0.5, -0.5]]), target_kind="log_probs")
    # off: the formula runs on whatever arrives
    got = kl_divergence(
        torch.zeros(1, 2), torch.tensor([[1.5, 0.5]]), validate=False, reduction="sum"
    )
    torch.testing.assert_close(got, torch.tensor(1.5 * math.log(3.0) + 0.5 * math.log(1.0)))


def test_module_reductions(generator) -> None:  # type: ignore[no-untyped-def]
    logits, p = _pair(generator)
    module = losskit.nn.KLDivergence()
    assert module.reduction == "batchmean"
    torch.testing.assert_close(module(logits, p), kl_divergence(logits, p))
    torch.testing.assert_close(
        losskit.nn.KLDivergence(reduction="none", target_kind="logits")(logits, logits),
        torch.zeros(6, dtype=torch.float64),
    )
    with pytest.raises(ValueError, match="'none', 'mean', 'sum', 'batchmean'; got 'avg'"):
        losskit.nn.KLDivergence(reduction="avg")
    with pytest.raises(ValueError, match="'none', 'mean', 'sum', 'batchmean'; got 'avg'"):
        kl_divergence(logits, p, reduction="avg")


def test_inputs_unmodified(generator) -> None:  # type: ignore[no-untyped-def]
    q = torch.tensor([[0.0, 0.5, 0.5]])
    p = torch.tensor([[0.0, 0.25, 0.75]])
    q0, p0 = q.clone(), p.clone()
    kl_divergence(q, p, input_kind="probs")
    assert torch.equal(q, q0) and torch.equal(p, p0)


@pytest.mark.slow
def test_compiles_without_graph_break(generator) -> None:  # type: ignore[no-untyped-def]
    logits, p = _pair(generator)
    p[0, 0] = 0.0

    def fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return kl_divergence(x, t, validate=False) + kl_divergence(
            torch.softmax(x, 1), t, input_kind="probs", validate=False, reduction="mean"
        )

    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(logits, p), fn(logits, p))


@pytest.mark.parametrize("reduction", ["mean", "sum", "batchmean"])
@pytest.mark.parametrize("dim", [1, -1, 0])
def test_reduced_logits_path_equals_reducing_the_rows(reduction: str, dim: int) -> None:
    """Logits against probabilities, reduced without weights, go through torch's kernel in one
    sum: equal to reducing the "none" result (values and gradients), zeros in p included."""
    gen = torch.Generator().manual_seed(12)
    x = torch.randn(4, 6, 5, generator=gen, dtype=torch.float64).requires_grad_()
    p = torch.softmax(torch.randn(4, 6, 5, generator=gen, dtype=torch.float64), dim)
    p = torch.where(torch.rand(4, 6, 5, generator=gen) < 0.2, 0.0, p)
    p = p / p.sum(dim, keepdim=True)
    got = losskit.kl_divergence(x, p, dim=dim, reduction=reduction)
    (g_got,) = torch.autograd.grad(got, x)
    rows = losskit.kl_divergence(x, p, dim=dim, reduction="none")
    want = {"mean": rows.mean(), "sum": rows.sum(), "batchmean": rows.sum() / rows.shape[0]}
    (g_want,) = torch.autograd.grad(want[reduction], x)
    torch.testing.assert_close(got, want[reduction], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g_got, g_want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("block", [None, 70])
def test_logits_kernel_blocks_against_torch(
    monkeypatch: pytest.MonkeyPatch, block: int | None
) -> None:
    """The blocked logits kernel (one exp, one log pass) against F.kl_div(log_softmax) in
    float64: several blocks of rows and a ragged last one, zeros in p, retained and
    differentiated backward passes."""
    import losskit.functional.divergence as div

    if block is not None:
        monkeypatch.setattr(div, "_KL_BLOCK", block)
    gen = torch.Generator().manual_seed(3)
    rows, classes = (53, 7) if block is not None else (1500, 1000)
    x = (torch.randn(rows, classes, generator=gen, dtype=torch.float64) * 4).requires_grad_()
    p = torch.softmax(torch.randn(rows, classes, generator=gen, dtype=torch.float64), 1)
    p = torch.where(torch.rand(rows, classes, generator=gen) < 0.1, 0.0, p)
    p = p / p.sum(1, keepdim=True)
    got = losskit.kl_divergence(x, p, reduction="sum")
    want = tF.kl_div(tF.log_softmax(x, 1), p, reduction="sum")
    torch.testing.assert_close(got, want, rtol=1e-11, atol=1e-11)
    (g_want,) = torch.autograd.grad(want, x)
    got.backward(retain_graph=True)
    torch.testing.assert_close(x.grad, g_want, rtol=1e-11, atol=1e-14)
    x.grad = None
    got.backward()  # a second pass recomputes the derivative
    torch.testing.assert_close(x.grad, g_want, rtol=1e-11, atol=1e-14)
    if block is not None:
        f = lambda a: losskit.kl_divergence(a, p, reduction="mean")  # noqa: E731
        assert torch.autograd.gradgradcheck(f, (x.detach().requires_grad_(),))


def test_logits_kernel_keeps_nan_for_negative_probabilities() -> None:
    """With validation off a negative probability gives NaN, as torch's xlogy does."""
    x = torch.randn(4, 5, dtype=torch.float64)
    p = torch.full((4, 5), 0.2, dtype=torch.float64)
    p[1, 2] = -0.1
    got = losskit.kl_divergence(x, p, reduction="sum", validate=False)
    assert torch.isnan(got)
    assert torch.isnan(tF.kl_div(tF.log_softmax(x, 1), p, reduction="sum"))
