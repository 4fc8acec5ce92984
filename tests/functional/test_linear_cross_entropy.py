"""linear_cross_entropy against torch's unfused ``F.cross_entropy(F.linear(...))``.

References: ``torch.nn.functional.cross_entropy`` of ``torch.nn.functional.linear`` (values and
autograd gradients for hidden, weight and bias), and for z-loss and softcapping the unfused
formula written out with torch ops (``tests/specs/linear_cross_entropy.reference``).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as tF
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

import losskit
from losskit.functional.linear_cross_entropy import default_chunk_size
from specs.linear_cross_entropy import reference

N, H, V = 13, 5, 17


def _inputs(
    dtype: torch.dtype, *, n: int = N, bias: bool = True, ignored: tuple[int, ...] = (0, 5), seed=0
) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, H, generator=g, dtype=torch.float64).to(dtype).requires_grad_()
    weight = torch.randn(V, H, generator=g, dtype=torch.float64).to(dtype).requires_grad_()
    b = (
        torch.randn(V, generator=g, dtype=torch.float64).to(dtype).requires_grad_()
        if bias
        else None
    )
    target = torch.randint(0, V, (n,), generator=g)
    target[list(i for i in ignored if i < n)] = -100
    return hidden, weight, b, target


def _upstream(reduction: str, n: int, dtype: torch.dtype) -> Tensor:
    g = torch.Generator().manual_seed(99)
    if reduction == "none":
        return torch.randn(n, generator=g, dtype=torch.float64).to(dtype)  # non-uniform
    return torch.tensor(1.7, dtype=dtype)


def _value_and_grads(fn: Any, leaves: list[Tensor], upstream: Tensor) -> list[Tensor]:
    out = fn()
    return [out.detach(), *torch.autograd.grad(out, leaves, upstream)]


def _tol(dtype: torch.dtype) -> dict[str, float]:
    return (
        {"rtol": 1e-10, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 2e-5, "atol": 2e-6}
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
def test_equals_torch_unfused(
    dtype: torch.dtype, reduction: str, label_smoothing: float, bias: bool
) -> None:
    hidden, weight, b, target = _inputs(dtype, bias=bias)
    leaves = [hidden, weight] + ([b] if b is not None else [])
    up = _upstream(reduction, N, dtype)
    opts = {"label_smoothing": label_smoothing, "reduction": reduction}
    got = _value_and_grads(
        lambda: losskit.linear_cross_entropy(hidden, weight, target, bias=b, chunk_size=4, **opts),
        leaves,
        up,
    )
    expected = _value_and_grads(
        lambda: tF.cross_entropy(tF.linear(hidden, weight, b), target, **opts), leaves, up
    )
    for a, e in zip(got, expected, strict=True):
        torch.testing.assert_close(a, e, **_tol(dtype))


@pytest.mark.parametrize("chunk_size", [1, 4, 12, 13, 100, None])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_chunk_boundaries(chunk_size: int | None, reduction: str) -> None:
    """13 tokens: chunks of 1, uneven last chunks, one exact chunk, one chunk larger than all."""
    hidden, weight, b, target = _inputs(torch.float64)
    leaves = [hidden, weight, b]
    up = _upstream(reduction, N, torch.float64)
    opts = {"label_smoothing": 0.1, "reduction": reduction, "ignore_index": -100}
    got = _value_and_grads(
        lambda: losskit.linear_cross_entropy(
            hidden, weight, target, bias=b, chunk_size=chunk_size, **opts
        ),
        leaves,
        up,
    )
    expected = _value_and_grads(
        lambda: tF.cross_entropy(tF.linear(hidden, weight, b), target, **opts), leaves, up
    )
    for a, e in zip(got, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_z_loss_and_softcap_equal_the_formula_written_out(
    dtype: torch.dtype, reduction: str
) -> None:
    hidden, weight, b, target = _inputs(dtype)
    hidden.data.mul_(3.0)  # logits beyond the cap, so tanh saturates for some
    leaves = [hidden, weight, b]
    up = _upstream(reduction, N, dtype)
    opts = {"label_smoothing": 0.2, "z_loss": 1e-2, "softcap": 5.0}
    counted = (target != -100).sum()

    def unfused() -> Tensor:
        loss = reference(hidden, weight, target, bias=b, **opts)
        if reduction == "none":
            return loss
        return loss.sum() if reduction == "sum" else loss.sum() / counted

    got = _value_and_grads(
        lambda: losskit.linear_cross_entropy(
            hidden, weight, target, bias=b, chunk_size=5, reduction=reduction, **opts
        ),
        leaves,
        up,
    )
    expected = _value_and_grads(unfused, leaves, up)
    for a, e in zip(got, expected, strict=True):
        torch.testing.assert_close(a, e, **_tol(dtype))


def test_reference_formula_reduces_to_torch() -> None:
    """The written-out formula itself: without z-loss and cap it is F.cross_entropy."""
    hidden, weight, b, target = _inputs(torch.float64)
    torch.testing.assert_close(
        reference(hidden, weight, target, bias=b, label_smoothing=0.2),
        tF.cross_entropy(
            tF.linear(hidden, weight, b), target, label_smoothing=0.2, reduction="none"
        ),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_token_ignored(reduction: str) -> None:
    hidden, weight, b, target = _inputs(torch.float64)
    target = torch.full_like(target, -100)
    opts = {"label_smoothing": 0.2, "z_loss": 1e-2, "softcap": 5.0, "reduction": reduction}
    out = losskit.linear_cross_entropy(hidden, weight, target, bias=b, chunk_size=4, **opts)
    assert torch.isfinite(out).all() and not out.any()
    grads = torch.autograd.grad(out, [hidden, weight, b], _upstream(reduction, N, torch.float64))
    for grad in grads:
        assert not grad.any()
    if reduction == "sum":  # torch agrees where it is defined (its mean is NaN here)
        ref = tF.cross_entropy(tF.linear(hidden, weight, b), target, reduction="sum")
        assert ref.item() == 0.0


def test_custom_ignore_index_and_leading_dimensions() -> None:
    g = torch.Generator().manual_seed(3)
    hidden = torch.randn(2, 7, H, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(V, H, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, V, (2, 7), generator=g)
    target[0, :3] = 4  # class 4 is the ignored value here
    up = torch.randn(2, 7, generator=g, dtype=torch.float64)
    for reduction in ("none", "mean"):
        upstream = up if reduction == "none" else torch.tensor(1.0, dtype=torch.float64)
        opts = {"ignore_index": 4, "label_smoothing": 0.1, "reduction": reduction}
        got = _value_and_grads(
            lambda o=opts: losskit.linear_cross_entropy(hidden, weight, target, chunk_size=3, **o),
            [hidden, weight],
            upstream,
        )
        expected = _value_and_grads(
            lambda o=opts: tF.cross_entropy(tF.linear(hidden, weight).movedim(-1, 1), target, **o),
            [hidden, weight],
            upstream,
        )
        for a, e in zip(got, expected, strict=True):
            torch.testing.assert_close(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradcheck_float64(reduction: str) -> None:
    hidden, weight, b, target = _inputs(torch.float64, n=7, ignored=(2,))
    opts = {"label_smoothing": 0.2, "z_loss": 0.05, "softcap": 3.0, "reduction": reduction}

    def f(h: Tensor, w: Tensor, bias: Tensor) -> Tensor:
        return losskit.linear_cross_entropy(h, w, target, bias=bias, chunk_size=3, **opts)

    assert torch.autograd.gradcheck(f, (hidden, weight, b), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_only_the_needed_gradients() -> None:
    """A frozen weight gets no gradient; no-grad calls and "none" give the same values."""
    hidden, weight, b, target = _inputs(torch.float64)
    frozen = weight.detach()
    for reduction in ("mean", "none"):
        up = _upstream(reduction, N, torch.float64)
        out = losskit.linear_cross_entropy(hidden, frozen, target, bias=b, reduction=reduction)
        gh, gb = torch.autograd.grad(out, [hidden, b], up)
        ref = tF.cross_entropy(tF.linear(hidden, frozen, b), target, reduction=reduction)
        eh, eb = torch.autograd.grad(ref, [hidden, b], up)
        torch.testing.assert_close(gh, eh)
        torch.testing.assert_close(gb, eb)
        with torch.no_grad():
            plain = losskit.linear_cross_entropy(hidden, weight, target, reduction=reduction)
        torch.testing.assert_close(
            plain, tF.cross_entropy(hidden @ weight.T, target, reduction=reduction)
        )


def test_retained_graph_gives_the_same_gradient_twice() -> None:
    hidden, weight, b, target = _inputs(torch.float64)
    out = losskit.linear_cross_entropy(hidden, weight, target, bias=b, label_smoothing=0.1)
    first = torch.autograd.grad(out, [hidden, weight, b], retain_graph=True)
    second = torch.autograd.grad(out, [hidden, weight, b], torch.tensor(2.0, dtype=torch.float64))
    for a, c in zip(first, second, strict=True):
        torch.testing.assert_close(2 * a, c, rtol=0, atol=0)


def test_gradients_accumulate_into_existing_grad() -> None:
    hidden, weight, b, target = _inputs(torch.float64)
    for _ in range(2):
        losskit.linear_cross_entropy(hidden, weight, target, bias=b).backward()
    expected = torch.autograd.grad(
        tF.cross_entropy(tF.linear(hidden, weight, b), target), [hidden, weight, b]
    )
    for leaf, e in zip([hidden, weight, b], expected, strict=True):
        torch.testing.assert_close(leaf.grad, 2 * e)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_low_precision_computes_in_float32(dtype: torch.dtype) -> None:
    hidden, weight, b, target = _inputs(dtype)
    leaves = [hidden, weight, b]
    for reduction in ("mean", "none"):
        up = _upstream(reduction, N, torch.float32)
        out = losskit.linear_cross_entropy(
            hidden, weight, target, bias=b, reduction=reduction, chunk_size=4
        )
        assert out.dtype == torch.float32
        grads = torch.autograd.grad(out, leaves, up)
        high = [t.detach().float().requires_grad_() for t in leaves]
        ref = tF.cross_entropy(tF.linear(*high), target, reduction=reduction)
        expected = torch.autograd.grad(ref, high, up)
        torch.testing.assert_close(out, ref.detach(), rtol=1e-5, atol=1e-5)
        for g, e in zip(grads, expected, strict=True):
            assert g.dtype == dtype
            # one rounding of the float32 gradient to the input's dtype apart
            torch.testing.assert_close(g.float(), e.to(dtype).float(), rtol=1e-2, atol=1e-3)


def test_default_chunk_size() -> None:
    assert default_chunk_size(4096, 128_000) == 262
    assert default_chunk_size(4096, 10_000_000) == 32
    assert default_chunk_size(10, 100) == 10
    assert default_chunk_size(0, 100) == 1


def test_module_owns_only_options() -> None:
    module = losskit.nn.LinearCrossEntropyLoss(label_smoothing=0.1, softcap=5.0)
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    hidden, weight, b, target = _inputs(torch.float64)
    torch.testing.assert_close(
        module(hidden, weight, target, bias=b),
        losskit.linear_cross_entropy(
            hidden, weight, target, bias=b, label_smoothing=0.1, softcap=5.0
        ),
    )


def _compiled_cases(
    hidden: Tensor, weight: Tensor, b: Tensor, target: Tensor, up: Tensor
) -> Tensor:
    opts = {"label_smoothing": 0.1, "z_loss": 1e-3, "softcap": 4.0, "chunk_size": 5}
    mean = losskit.linear_cross_entropy(hidden, weight, target, bias=b, **opts)
    none = losskit.linear_cross_entropy(hidden, weight, target, bias=b, reduction="none", **opts)
    return mean + (none * up).sum()


@pytest.mark.slow
def test_compile_fullgraph_equals_eager() -> None:
    """Both paths (forward-formed gradients for "mean", recomputation for "none") in one graph."""
    torch._dynamo.reset()
    compiled = torch.compile(_compiled_cases, fullgraph=True, dynamic=False)
    results = []
    for fn in (_compiled_cases, compiled):
        hidden, weight, b, target = _inputs(torch.float32)
        up = _upstream("none", N, torch.float32)
        with losskit.validation(False):
            out = fn(hidden, weight, b, target, up)
        results.append([out.detach(), *torch.autograd.grad(out, [hidden, weight, b])])
    for a, e in zip(*results, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-5)


class _LargestOutput(TorchDispatchMode):
    """Records the largest tensor any aten operation produces while active."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, Tensor):
                self.largest = max(self.largest, t.numel())
        return out


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_no_tokens_by_vocabulary_tensor(reduction: str) -> None:
    """Forward and backward: no operation makes a tensor larger than one chunk's logits
    (8 x 100 here, against 64 x 100 for the full logits)."""
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(64, 4, generator=g, requires_grad=True)
    weight = torch.randn(100, 4, generator=g, requires_grad=True)
    bias = torch.randn(100, generator=g, requires_grad=True)
    target = torch.randint(0, 100, (64,), generator=g)
    opts = {"label_smoothing": 0.1, "z_loss": 1e-3, "softcap": 5.0, "chunk_size": 8}
    with _LargestOutput() as mode:
        out = losskit.linear_cross_entropy(
            hidden, weight, target, bias=bias, reduction=reduction, **opts
        )
        out.sum().backward()
    assert 0 < mode.largest <= 8 * 100
    with _LargestOutput() as unfused:
        tF.cross_entropy(tF.linear(hidden, weight, bias), target).backward()
    assert unfused.largest == 64 * 100  # the check sees the full logits where they exist


def test_weight_gradient_is_handed_over_without_a_copy() -> None:
    """The "mean" path forms dW in the forward pass; backward hands that tensor to autograd,
    which keeps it as ``weight.grad`` (no second (V, H) buffer)."""
    hidden, weight, b, target = _inputs(torch.float32)
    out = losskit.linear_cross_entropy(hidden, weight, target, bias=b)
    formed = out.grad_fn.pending[1].data_ptr()
    with _WeightSized(weight.shape) as seen:
        out.backward()
    assert weight.grad is not None and weight.grad.data_ptr() == formed
    assert seen.pointers <= {formed}, "backward allocated another (V, H) tensor"


class _WeightSized(TorchDispatchMode):
    """Records the storages of the (V, H) tensors operations produce while active."""

    def __init__(self, shape: torch.Size) -> None:
        super().__init__()
        self.shape = shape
        self.pointers: set[int] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, Tensor) and t.shape == self.shape:
                self.pointers.add(t.data_ptr())
        return out
