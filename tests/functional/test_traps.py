"""Regression tests for the traps found by first users, a bad-input campaign and the peers' suites.

Each test is one finding: a silent wrong number, an unhelpful error, a NaN or an infinite
gradient, or a transform that failed. References are torch.nn.functional and float64 formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as tF

import losskit
from losskit import nn

F32, F64 = torch.float32, torch.float64
ORDER = r"losskit takes \(input, target\)"


# --------------------------------------------------------------------------------------------
# Arguments in TensorFlow/Keras order (labels first) and targets outside their domain


def _labels_and_logits() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (8, 3), generator=gen).float()
    logits = 3.0 * torch.randn(8, 3, generator=gen)
    return labels, logits


@pytest.mark.parametrize(
    "fn",
    [
        losskit.sigmoid_cross_entropy,
        losskit.balanced_sigmoid_cross_entropy,
        losskit.sigmoid_focal_loss,
    ],
    ids=lambda f: f.__name__,
)
def test_labels_first_is_a_value_error(fn: Callable[..., torch.Tensor]) -> None:
    labels, logits = _labels_and_logits()
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: target must lie in \[0, 1\].*{ORDER}"):
        fn(labels, logits)  # TensorFlow's order: labels, logits
    fn(logits, labels)  # the right order works
    fn(labels, logits, validate=False)  # and the check can be switched off


def test_balanced_sigmoid_cross_entropy_target_two() -> None:
    # was -3.25: a negative "loss"
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\].* e.g. 2"):
        losskit.balanced_sigmoid_cross_entropy(torch.zeros(1, 4), torch.full((1, 4), 2.0))


@pytest.mark.parametrize("bad", [2.0, -0.5, float("nan")])
def test_binary_cross_entropy_checks_its_target(bad: float) -> None:
    # was torch's internal RuntimeError, which does not name the function (and fires on NaN)
    target = torch.tensor([1.0, bad])
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must lie in \[0, 1\]"):
        losskit.binary_cross_entropy(torch.tensor([0.5, 0.5]), target)


def test_softmax_cross_entropy_onehot_first() -> None:
    # was -1.05 in the trial: logits passed as the target distribution
    labels, logits = _labels_and_logits()
    onehot = tF.one_hot(labels[:, 0].long(), 3).float()
    with pytest.raises(ValueError, match=rf"^softmax_cross_entropy: target .*{ORDER}"):
        losskit.softmax_cross_entropy(onehot, logits)
    losskit.softmax_cross_entropy(logits, onehot)


def test_softmax_cross_entropy_rows_must_sum_to_one() -> None:
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"distributions along dim 1 .*got a sum of 2"):
        losskit.softmax_cross_entropy(x, torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    # soft targets rounded to half precision are distributions up to rounding
    soft = torch.softmax(torch.randn(4, 7), dim=1).half()
    losskit.softmax_cross_entropy(torch.randn(4, 7), soft.float())
    # classes along another dim
    y = torch.softmax(torch.randn(2, 3, 5), dim=2)
    losskit.softmax_cross_entropy(torch.randn(2, 3, 5), y, dim=2)
    with pytest.raises(ValueError, match="along dim 1"):
        losskit.softmax_cross_entropy(torch.randn(2, 3, 5), y, dim=1)


def test_kl_divergence_target_rows_summing_to_two() -> None:
    with pytest.raises(ValueError, match=r"^kl_divergence: target must hold distributions"):
        losskit.kl_divergence(torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"^kl_divergence: input must hold distributions"):
        losskit.kl_divergence(
            torch.full((1, 2), 0.9).log(), torch.full((1, 2), 0.5), input_kind="log_probs"
        )


def test_ctc_loss_positive_log_probs() -> None:
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 2, 4, generator=gen) + 2.0  # raw logits, not log-probabilities
    targets = torch.tensor([[1, 2], [3, 3]])
    with pytest.raises(ValueError, match=r"^ctc_loss: log_probs must lie in \[-inf, 0\]"):
        losskit.ctc_loss(logits, targets, [6, 6], [2, 2])
    losskit.ctc_loss(logits.log_softmax(-1), targets, [6, 6], [2, 2])


# --------------------------------------------------------------------------------------------
# pos_weight as a Python float (TensorFlow's weighted_cross_entropy_with_logits takes one)


def test_pos_weight_float_equals_tensor() -> None:
    labels, logits = _labels_and_logits()
    got = losskit.sigmoid_cross_entropy(logits, labels, pos_weight=3.0, reduction="none")
    want = tF.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=torch.tensor(3.0), reduction="none"
    )
    torch.testing.assert_close(got, want)
    module = nn.SigmoidCrossEntropyLoss(pos_weight=3.0)
    torch.testing.assert_close(module(logits, labels), want.mean())
    with pytest.raises(TypeError, match="pos_weight must be a tensor or a float, got str"):
        losskit.sigmoid_cross_entropy(logits, labels, pos_weight="3")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Edge values: empty vectors, huge magnitudes, zero features


def test_l2_loss_of_zero_width_vectors_is_zero() -> None:
    # was an IndexError
    x = torch.zeros(3, 0, requires_grad=True)
    out = losskit.l2_loss(x, torch.zeros(3, 0), reduction="none")
    assert out.shape == (3,) and not out.any()
    losskit.l2_loss(x, torch.zeros(3, 0)).backward()
    assert x.grad is not None and x.grad.shape == (3, 0)
    assert losskit.l2_loss(torch.zeros(0), torch.zeros(0), dim=None).item() == 0.0


@pytest.mark.parametrize("magnitude", [1e30, 1e-30, 1e38])
def test_cosine_similarity_loss_is_scale_free(magnitude: float) -> None:
    # was NaN at 1e30 in float32 (the products overflow)
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(5, 4, generator=gen), torch.randn(5, 4, generator=gen)
    want = 1 - tF.cosine_similarity(x.double(), y.double(), dim=1)
    xs = (x * magnitude if magnitude > 1 else x).requires_grad_()
    ys = y * magnitude if magnitude > 1 else y
    got = losskit.cosine_similarity_loss(xs, ys, reduction="none")
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-6)
    got.sum().backward()
    assert xs.grad is not None and torch.isfinite(xs.grad).all()


@pytest.mark.parametrize("cls", [nn.ArcFaceLoss, nn.CosFaceLoss], ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [torch.float16, F32], ids=str)
def test_margin_losses_zero_features_have_finite_gradients(cls: Any, dtype: torch.dtype) -> None:
    # were infinite in float16 (about 1e12 in float32): a zero feature has no direction
    torch.manual_seed(3)
    loss = cls(8, 4)
    x = torch.randn(3, 8).to(dtype)
    x[0] = 0.0
    x.requires_grad_()
    loss(x, torch.tensor([0, 1, 2])).backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert not x.grad[0].any()
    assert x.grad[1:].abs().max() < 100  # the other rows keep their (ordinary) gradients
    # a zero feature's loss is that of cos = 0 for every class
    ref = cls(8, 4)
    ref.load_state_dict(loss.state_dict())
    one = ref(torch.zeros(1, 8), torch.tensor([0]))
    torch.testing.assert_close(one, torch.tensor(one.item()))
    assert torch.isfinite(one)


_BOX_LOSSES = [
    losskit.iou_loss,
    losskit.generalized_box_iou_loss,
    losskit.distance_box_iou_loss,
    losskit.complete_box_iou_loss,
]
_BOX_OPS = [
    losskit.box_iou,
    losskit.generalized_box_iou,
    losskit.distance_box_iou,
    losskit.complete_box_iou,
]


def _boxes() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(4)
    xy = torch.rand(6, 2, generator=gen) * 10
    p = torch.cat([xy, xy + 1 + torch.rand(6, 2, generator=gen) * 5], dim=1)
    xy = torch.rand(6, 2, generator=gen) * 10
    t = torch.cat([xy, xy + 1 + torch.rand(6, 2, generator=gen) * 5], dim=1)
    return p, t


@pytest.mark.parametrize("fn", _BOX_LOSSES, ids=lambda f: f.__name__)
def test_box_losses_near_1e30_float32(fn: Callable[..., torch.Tensor]) -> None:
    # were NaN: the areas overflow float32
    p, t = _boxes()
    want = fn(p.double(), t.double(), reduction="none")
    big = p.mul(1e29).requires_grad_()
    got = fn(big, t * 1e29, reduction="none")
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-6)
    got.sum().backward()
    assert big.grad is not None and torch.isfinite(big.grad).all()
    # a pair of ordinary boxes next to a huge pair is computed as it is alone
    mixed_p, mixed_t = torch.cat([p[:3] * 1e30, p[3:]]), torch.cat([t[:3] * 1e30, t[3:]])
    torch.testing.assert_close(
        fn(mixed_p, mixed_t, reduction="none")[3:], fn(p[3:], t[3:], reduction="none")
    )


@pytest.mark.parametrize("fn", _BOX_OPS, ids=lambda f: f.__name__)
def test_pairwise_box_ops_near_1e30_float32(fn: Callable[..., torch.Tensor]) -> None:
    p, t = _boxes()
    want = fn(p.double(), t[:4].double())
    got = fn(p * 1e30, t[:4] * 1e30)
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# The sigmoid focal loss at confident predictions (torchvision's and optax's properties)


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_focal_gamma_zero_is_bce_with_logits(target: float) -> None:
    x = torch.linspace(-30, 30, 601)
    t = torch.full_like(x, target)
    got = losskit.sigmoid_focal_loss(x, t, alpha=None, gamma=0.0, reduction="none")
    want = tF.binary_cross_entropy_with_logits(x, t, reduction="none")
    torch.testing.assert_close(got, want)  # float32 rounding (rtol 1.3e-6, atol 1e-5)


def _focal64(x: torch.Tensor, t: torch.Tensor, alpha: float | None, gamma: float) -> torch.Tensor:
    """Textbook float64: -alpha_t (1 - p_t)^gamma log p_t with log p_t by log-sigmoid."""
    x, t = x.double(), t.double()
    log_p, log_q = tF.logsigmoid(x), tF.logsigmoid(-x)
    ce = -(t * log_p + (1 - t) * log_q)
    m = t * log_q.exp() + (1 - t) * log_p.exp()
    a = 1.0 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
    return a * m**gamma * ce


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
def test_focal_follows_float64(gamma: float, target: float) -> None:
    # was 8e-3 relative error at x = 10 and exactly 0 beyond x = 15 (gamma = 2 too)
    x = torch.linspace(-60, 60, 1201)
    t = torch.full_like(x, target)
    got = losskit.sigmoid_focal_loss(x, t, alpha=0.25, gamma=gamma, reduction="none")
    want = _focal64(x, t, 0.25, gamma)
    keep = want > 1e-30
    rel = ((got.double() - want).abs() / want)[keep]
    assert rel.max() < 1e-6, f"max relative error {rel.max():.2e}"
    # the gradient too, where it is representable
    xg = x.clone().requires_grad_()
    losskit.sigmoid_focal_loss(xg, t, alpha=0.25, gamma=gamma, reduction="sum").backward()
    x64 = x.double().requires_grad_()
    _focal64(x64, t, 0.25, gamma).sum().backward()
    assert xg.grad is not None and x64.grad is not None
    big = x64.grad.abs() > 1e-30
    grel = ((xg.grad.double() - x64.grad).abs() / x64.grad.abs())[big]
    assert grel.max() < 1e-4 if target == 0.25 else grel.max() < 1e-5


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0])
def test_focal_over_bce_is_the_analytic_ratio(gamma: float) -> None:
    # torchvision's test: focal / BCE = alpha_t (1 - p_t)^gamma (failed for gamma = 0)
    gen = torch.Generator().manual_seed(5)
    x = 12.0 * torch.randn(2000, generator=gen)
    t = torch.randint(0, 2, (2000,), generator=gen).float()
    focal = losskit.sigmoid_focal_loss(x, t, alpha=0.25, gamma=gamma, reduction="none")
    # float64 BCE by log-sigmoid (torch's BCE kernel itself rounds log(1 + e^-|x|) to 0 for
    # |x| > 37 in float64)
    bce = _focal64(x, t, None, 0.0)
    p = torch.sigmoid(x.double())
    one_minus_pt = p * (1 - t) + torch.sigmoid(-x.double()) * t
    ratio = (0.25 * t + 0.75 * (1 - t)) * one_minus_pt**gamma
    keep = bce * ratio > 1e-30  # representable in float32
    torch.testing.assert_close((focal.double() / bce)[keep], ratio[keep], rtol=1e-5, atol=0)
    assert (focal.double() <= bce * (1 + 1e-6)).all()


def test_focal_block_path_equals_whole_tensor_path() -> None:
    from losskit.functional import focal

    gen = torch.Generator().manual_seed(6)
    n = 2 * focal._BLOCK + 77  # three blocks, the last one partial
    x = 8.0 * torch.randn(n, generator=gen)
    t = torch.rand(n, generator=gen)
    t[::3], t[1::3] = 1.0, 0.0
    for gamma, alpha in [(0.0, None), (0.5, 0.25), (2.0, 0.25), (3.0, 1.0)]:
        xa = x.clone().requires_grad_()
        la = losskit.sigmoid_focal_loss(xa, t, alpha=alpha, gamma=gamma, reduction="none")
        (la * t).sum().backward()
        xb = x.clone().requires_grad_()
        lb = focal._focal_composite(xb, t, alpha, gamma)  # whole tensors, plain autograd
        (lb * t).sum().backward()
        torch.testing.assert_close(la, lb)
        assert xa.grad is not None and xb.grad is not None
        torch.testing.assert_close(xa.grad, xb.grad)


# --------------------------------------------------------------------------------------------
# torch.func over the custom autograd Functions (the contract suite checks every loss)


def test_torch_func_grad_of_dice() -> None:
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 4, 4, generator=gen, dtype=F64)
    y = torch.randint(0, 3, (2, 4, 4), generator=gen)

    def f(z: torch.Tensor) -> torch.Tensor:
        return losskit.dice_loss(z, y, mode="multiclass", from_logits=True)

    got = torch.func.grad(f)(x)
    leaf = x.clone().requires_grad_()
    (want,) = torch.autograd.grad(f(leaf), [leaf])
    torch.testing.assert_close(got, want)


# --------------------------------------------------------------------------------------------
# CTC under torch.compile: the native kernel, not the log-space one


def test_compiled_ctc_loss_runs_the_native_kernel() -> None:
    graphs: list[str] = []

    def backend(gm: torch.fx.GraphModule, example_inputs: Any) -> Any:
        graphs.append(str(gm.graph))
        return gm.forward

    gen = torch.Generator().manual_seed(8)
    logits = torch.randn(12, 3, 5, generator=gen, dtype=F64)
    targets = torch.randint(1, 5, (3, 4), generator=gen)
    il, tl = torch.tensor([12, 10, 11]), torch.tensor([4, 2, 3])

    def step(z: torch.Tensor) -> torch.Tensor:
        return losskit.ctc_loss(z.log_softmax(-1), targets, il, tl)  # validation on

    torch._dynamo.reset()
    compiled = torch.compile(step, backend=backend, fullgraph=True)
    a = logits.clone().requires_grad_()
    got = compiled(a)
    got.backward()
    assert any("losskit.ctc_native" in g for g in graphs)
    b = logits.clone().requires_grad_()
    want = tF.ctc_loss(b.log_softmax(-1), targets, il, tl)
    want.backward()
    torch.testing.assert_close(got, want)
    assert a.grad is not None and b.grad is not None
    torch.testing.assert_close(a.grad, b.grad)


# --------------------------------------------------------------------------------------------
# Documentation that must say which Keras versions a mapping holds for


def test_tversky_docstring_names_the_keras_versions() -> None:
    doc = losskit.tversky_loss.__doc__ or ""
    assert "3.15.1" in doc and "fa9afd5a" in doc
