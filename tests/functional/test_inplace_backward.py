"""Losses whose backward pass turns a buffer of the forward pass into the gradient in place.

Such a buffer is handed out once: a second backward pass over a retained graph recomputes it.
Checked for every such loss: two passes with ``retain_graph=True`` give the same gradient,
gradients accumulate into an existing ``.grad``, ``torch.autograd.grad`` can be called twice,
and the inputs are left as they were. Sizes cross the CPU block boundaries.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

import losskit

Case = Callable[[torch.Generator], tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]]


def _focal(gen: torch.Generator):
    x = torch.randn(3, 300_000, generator=gen)
    t = (torch.rand(3, 300_000, generator=gen) > 0.8).float()
    return x, lambda a: losskit.sigmoid_focal_loss(a, t, reduction="sum")


def _squared_hinge(gen: torch.Generator):
    x = torch.randn(5000, generator=gen)
    y = (torch.rand(5000, generator=gen) > 0.5).float()
    return x, lambda a: losskit.squared_hinge_loss(a, y)


def _log_cosh(gen: torch.Generator):
    x = torch.randn(5000, generator=gen) * 5
    y = torch.randn(5000, generator=gen)
    return x, lambda a: losskit.log_cosh_loss(a, y, reduction="sum")


def _dice(mode: str) -> Case:
    def build(gen: torch.Generator):
        shape = (3, 1, 300, 301) if mode == "binary" else (3, 4, 150, 151)
        x = torch.randn(shape, generator=gen)
        if mode == "multiclass":
            t = torch.randint(0, 4, (shape[0], *shape[2:]), generator=gen)
            t[0, :3] = -1
        else:
            t = (torch.rand(shape, generator=gen) > 0.7).float()
            t[0, 0, :3] = -1
        return x, lambda a: losskit.dice_loss(a, t, mode=mode, from_logits=True, ignore_index=-1)

    return build


def _kl(gen: torch.Generator):
    x = torch.randn(700, 1000, generator=gen)
    p = torch.softmax(torch.randn(700, 1000, generator=gen), 1)
    return x, lambda a: losskit.kl_divergence(a, p)


def _sparse_ce(gen: torch.Generator):
    x = torch.randn(700, 1000, generator=gen)
    y = torch.randint(0, 1000, (700,), generator=gen)
    y[:5] = -100
    return x, lambda a: losskit.sparse_softmax_cross_entropy(a, y)


CASES = {
    "focal": _focal,
    "squared_hinge": _squared_hinge,
    "log_cosh": _log_cosh,
    "kl_divergence": _kl,
    "sparse_ce": _sparse_ce,
    "dice_binary": _dice("binary"),
    "dice_multilabel": _dice("multilabel"),
    "dice_multiclass": _dice("multiclass"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_retained_graph_accumulation_and_repeated_grad(name: str) -> None:
    gen = torch.Generator().manual_seed(4)
    x, fn = CASES[name](gen)
    before = x.clone()
    ref = x.clone().requires_grad_()
    (g_ref,) = torch.autograd.grad(fn(ref), ref)

    a = x.clone().requires_grad_()
    loss = fn(a)
    loss.backward(retain_graph=True)
    torch.testing.assert_close(a.grad, g_ref)
    loss.backward(retain_graph=True)  # a second pass recomputes, and accumulates
    torch.testing.assert_close(a.grad, 2 * g_ref)
    (g1,) = torch.autograd.grad(loss, a, retain_graph=True)
    (g2,) = torch.autograd.grad(loss, a)
    torch.testing.assert_close(g1, g_ref)
    torch.testing.assert_close(g2, g_ref)
    assert torch.equal(x, before)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("reentrant", [False, True])
def test_under_activation_checkpointing(name: str, reentrant: bool) -> None:
    """torch.utils.checkpoint recomputes the forward pass: the gradient is unchanged."""
    from torch.utils.checkpoint import checkpoint

    gen = torch.Generator().manual_seed(6)
    x, fn = CASES[name](gen)
    ref = x.clone().requires_grad_()
    (g_ref,) = torch.autograd.grad(fn(ref * 1.5), ref)
    a = x.clone().requires_grad_()
    out = checkpoint(lambda v: fn(v * 1.5), a, use_reentrant=reentrant)
    out.backward()
    torch.testing.assert_close(a.grad, g_ref)
