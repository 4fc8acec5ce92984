"""Centre loss and the centre update rule of Wen et al. 2016 (Eq. 2-4, Algorithm 1)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import losskit
from losskit import nn as lnn

F64 = torch.float64

# A small batch with a repeated class (0: three samples, 2: two) and absent classes (1, 3).
CENTERS = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [3.0, 3.0]], dtype=F64)
X = torch.tensor([[2.0, 1.0], [0.0, 0.0], [1.0, 3.0], [-2.0, 0.0], [4.0, -1.0]], dtype=F64)
Y = torch.tensor([0, 2, 0, 2, 0])
# By hand, ½‖x_i − c_{y_i}‖²: ½(1+1), ½(1+1), ½(0+9), ½(1+1), ½(9+1).
HAND_LOSS = torch.tensor([1.0, 1.0, 4.5, 1.0, 5.0], dtype=F64)
# By hand, α = 0.5:
#   class 0: Σ(c_0 − x_i) = (−1,−1) + (0,−3) + (−3,1) = (−4,−3), n = 3, Δ = (−1, −0.75),
#            c_0 = (1, 0) − 0.5 Δ = (1.5, 0.375)
#   class 2: Σ(c_2 − x_i) = (−1,−1) + (1,−1) = (0,−2), n = 2, Δ = (0, −2/3),
#            c_2 = (−1, −1) − 0.5 Δ = (−1, −2/3)
#   classes 1 and 3 are absent: unchanged.
HAND_CENTERS = torch.tensor([[1.5, 0.375], [0.0, 2.0], [-1.0, -2.0 / 3.0], [3.0, 3.0]], dtype=F64)


def paper_update(x, y, c, alpha):
    """Algorithm 1 of the paper, one class at a time, float64 loops."""
    new = c.clone()
    for j in range(c.shape[0]):
        members = [i for i in range(len(y)) if int(y[i]) == j]
        delta = sum((c[j] - x[i] for i in members), torch.zeros_like(c[j])) / (1 + len(members))
        new[j] = c[j] - alpha * delta
    return new


def module_with(centers, alpha=0.5, reduction="mean"):
    m = lnn.CenterLoss(
        centers.shape[0], centers.shape[1], alpha=alpha, reduction=reduction, dtype=centers.dtype
    )
    m.centers.copy_(centers)
    return m


def test_loss_by_hand():
    got = losskit.center_loss(X, Y, CENTERS, reduction="none")
    torch.testing.assert_close(got, HAND_LOSS)
    torch.testing.assert_close(losskit.center_loss(X, Y, CENTERS), HAND_LOSS.mean())
    torch.testing.assert_close(losskit.center_loss(X, Y, CENTERS, reduction="sum"), HAND_LOSS.sum())


def test_update_by_hand_with_repeated_and_absent_classes():
    module = module_with(CENTERS)
    loss = module(X, Y)
    torch.testing.assert_close(loss, HAND_LOSS.mean())  # computed with the old centres
    torch.testing.assert_close(module.centers, HAND_CENTERS)
    # absent classes keep their centres bit for bit
    torch.testing.assert_close(module.centers[[1, 3]], CENTERS[[1, 3]], rtol=0, atol=0)


def test_statistics_and_update_helpers_by_hand():
    sums, counts = losskit.center_update_statistics(X.clone().requires_grad_(True), Y, CENTERS)
    assert not sums.requires_grad and not counts.requires_grad
    torch.testing.assert_close(
        sums, torch.tensor([[-4.0, -3.0], [0.0, 0.0], [0.0, -2.0], [0.0, 0.0]], dtype=F64)
    )
    torch.testing.assert_close(counts, torch.tensor([3.0, 0.0, 2.0, 0.0], dtype=F64))
    before = CENTERS.clone()
    torch.testing.assert_close(
        losskit.apply_center_update(CENTERS, sums, counts, alpha=0.5), HAND_CENTERS
    )
    torch.testing.assert_close(CENTERS, before, rtol=0, atol=0)  # out of place


@settings(max_examples=25)
@given(
    n=st.integers(0, 12),
    c=st.integers(1, 5),
    alpha=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_update_equals_paper_algorithm(n, c, alpha, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=F64)
    y = torch.randint(0, c, (n,), generator=g)
    centers = torch.randn(c, 3, generator=g, dtype=F64)
    module = module_with(centers, alpha=alpha)
    module(x, y)
    torch.testing.assert_close(module.centers, paper_update(x, y, centers, alpha))


def test_alpha_zero_never_moves_the_centres():
    module = module_with(CENTERS, alpha=0.0)
    for _ in range(3):
        module(X, Y)
    torch.testing.assert_close(module.centers, CENTERS, rtol=0, atol=0)
    sums, counts = losskit.center_update_statistics(X, Y, CENTERS)
    torch.testing.assert_close(
        losskit.apply_center_update(CENTERS, sums, counts, alpha=0.0), CENTERS, rtol=0, atol=0
    )


def test_eval_mode_never_moves_the_centres():
    module = module_with(CENTERS).eval()
    for _ in range(3):
        torch.testing.assert_close(module(X, Y), HAND_LOSS.mean())
    torch.testing.assert_close(module.centers, CENTERS, rtol=0, atol=0)
    module.train()
    module(X, Y)
    torch.testing.assert_close(module.centers, HAND_CENTERS)


def test_loss_uses_the_centres_of_before_the_call():
    module = module_with(CENTERS)
    first = module(X, Y)
    second = module(X, Y)
    torch.testing.assert_close(first, losskit.center_loss(X, Y, CENTERS))
    torch.testing.assert_close(second, losskit.center_loss(X, Y, HAND_CENTERS))


def test_gradient_flows_to_the_features_only():
    module = module_with(CENTERS)
    x = X.clone().requires_grad_(True)
    module(x, Y).backward()
    # d/dx_i of mean ½‖x_i − c_{y_i}‖² is (x_i − c_{y_i}) / N, with the pre-update centres.
    torch.testing.assert_close(x.grad, (X - CENTERS[Y]) / len(Y))
    assert list(module.parameters()) == []
    assert not module.centers.requires_grad
    assert "centers" in module.state_dict()


def test_functional_differentiates_centres_when_asked():
    c = CENTERS.clone().requires_grad_(True)
    losskit.center_loss(X, Y, c, reduction="sum").backward()
    expected = torch.zeros_like(CENTERS).index_add(0, Y, CENTERS[Y] - X)
    torch.testing.assert_close(c.grad, expected)


def test_empty_batch_is_zero_with_gradient_and_no_update():
    module = module_with(CENTERS)
    x = torch.zeros(0, 2, dtype=F64, requires_grad=True)
    loss = module(x, torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad is not None and x.grad.shape == (0, 2)
    torch.testing.assert_close(module.centers, CENTERS, rtol=0, atol=0)


def test_statistics_add_up_over_batch_shards():
    """What a data-parallel update relies on: sums and counts of the shards add up to those of
    the whole batch, so all-reducing them gives the single-process update."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, 4, generator=g, dtype=F64)
    y = torch.randint(0, 6, (20,), generator=g)
    c = torch.randn(6, 4, generator=g, dtype=F64)
    parts = [losskit.center_update_statistics(x[s], y[s], c) for s in (slice(0, 7), slice(7, 20))]
    sums = parts[0][0] + parts[1][0]
    counts = parts[0][1] + parts[1][1]
    whole = losskit.center_update_statistics(x, y, c)
    torch.testing.assert_close(sums, whole[0])
    torch.testing.assert_close(counts, whole[1])
    torch.testing.assert_close(
        losskit.apply_center_update(c, sums, counts, alpha=0.3), paper_update(x, y, c, 0.3)
    )


def test_class_means_are_the_fixed_point_and_the_centres_converge_to_them():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(30, 2, generator=g, dtype=F64)
    y = torch.arange(30) % 3
    means = torch.stack([x[y == j].mean(0) for j in range(3)])
    fixed = module_with(means)
    fixed(x, y)
    torch.testing.assert_close(fixed.centers, means)
    module = module_with(torch.zeros(3, 2, dtype=F64), alpha=0.5)
    for _ in range(60):
        module(x, y)
    torch.testing.assert_close(module.centers, means, rtol=1e-8, atol=1e-8)


def test_half_features_with_float32_centres():
    module = lnn.CenterLoss(4, 2)
    x = X.to(torch.float16)
    out = module(x, Y)
    assert out.dtype == torch.float32 and module.centers.dtype == torch.float32
    expected = paper_update(x.double(), Y, torch.zeros(4, 2, dtype=F64), 0.5)
    torch.testing.assert_close(module.centers.double(), expected, rtol=1e-6, atol=1e-6)


def test_per_sample_weight_and_module_override():
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.5], dtype=F64)
    got = losskit.center_loss(X, Y, CENTERS, weight=w)
    torch.testing.assert_close(got, (w * HAND_LOSS).mean())
    module = module_with(CENTERS).eval()
    torch.testing.assert_close(module(X, Y, weight=w), got)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: lnn.CenterLoss(3, 2, alpha=1.5), ValueError, r"alpha must lie in \[0, 1\]"),
        (lambda: lnn.CenterLoss(0, 2), ValueError, r"num_classes must be a positive integer"),
        (lambda: lnn.CenterLoss(3, 2, reduction="avg"), ValueError, r"reduction must be one of"),
        (
            lambda: losskit.apply_center_update(
                CENTERS, torch.zeros(4, 3, dtype=F64), torch.zeros(4, dtype=F64), alpha=0.5
            ),
            ValueError,
            r"^apply_center_update: sums and counts must have shapes",
        ),
        (
            lambda: losskit.apply_center_update(
                CENTERS, CENTERS, torch.zeros(4, dtype=F64), alpha=-0.1
            ),
            ValueError,
            r"^apply_center_update: alpha must lie in \[0, 1\], got -0.1",
        ),
        (
            lambda: losskit.center_update_statistics(X, torch.tensor([0, 1, 2, 3, 4]), CENTERS),
            ValueError,
            r"^center_update_statistics: target must hold class indices in \[0, 3\]",
        ),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_repr():
    assert repr(lnn.CenterLoss(10, 2)) == (
        "CenterLoss(num_classes=10, feat_dim=2, alpha=0.5, reduction='mean')"
    )


@pytest.mark.slow
def test_compiled_training_step_uses_the_state_of_before_the_update():
    """Under torch.compile(fullgraph=True), a training step with both stateful modules (centre
    update, λ-schedule counter) gives the eager loss and gradients: the backward sees the
    centres and λ of the call, not the updated ones."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 5, generator=g)
    y = torch.randint(0, 4, (8,), generator=g)

    def build():
        torch.manual_seed(1)
        center = lnn.CenterLoss(4, 5, alpha=0.5)
        center.centers.normal_(generator=torch.Generator().manual_seed(2))
        # a schedule whose λ halves at the first step, so a stale λ would show
        head = lnn.LargeMarginSoftmaxLoss(5, 4, margin=3, base=1.0, gamma=1.0, power=1.0)
        return center, head

    def step(center, head, x, y):
        return head(x, y) + 0.5 * center(x, y)

    eager_mods, compiled_mods = build(), build()
    compiled = torch.compile(step, fullgraph=True, dynamic=False)
    with losskit.validation(False):
        for _ in range(2):
            xe, xc = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
            le, lc = step(*eager_mods, xe, y), compiled(*compiled_mods, xc, y)
            le.backward()
            lc.backward()
            torch.testing.assert_close(lc, le)
            torch.testing.assert_close(xc.grad, xe.grad)
    torch.testing.assert_close(compiled_mods[0].centers, eager_mods[0].centers)
    torch.testing.assert_close(compiled_mods[1].weight.grad, eager_mods[1].weight.grad)
    assert int(compiled_mods[1].iteration) == int(eager_mods[1].iteration) == 2
