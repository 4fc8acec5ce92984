"""Calling a :class:`torch.autograd.Function` without the per-call signature binding, and
handing a private buffer from the forward to the backward pass to be reused in place.

``Function.apply`` binds the arguments to ``forward``'s signature on every call when the
function defines ``setup_context`` (``inspect.signature``: about 60 µs, more than the whole
forward pass of a small loss). :func:`apply` goes straight to the C++ entry point, which runs
``forward`` and ``setup_context`` exactly as ``apply`` does, when nothing needs the binding:
every argument is passed positionally, and no :mod:`torch.func` transform is active (whose
wrappers ``apply`` unwraps). While :func:`torch.compile` traces, the public ``apply`` is kept,
because dynamo recognises it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import Function

from .checks import transforming

__all__ = ["apply", "derivative_times", "hold", "release", "save_with_derivative"]


def apply(fn: type[Function], *args: Any) -> Any:
    """``fn.apply(*args)``, every argument of ``fn.forward`` given positionally.

    Example:
        >>> class Square(torch.autograd.Function):
        ...     @staticmethod
        ...     def forward(x):
        ...         return x * x
        ...     @staticmethod
        ...     def setup_context(ctx, inputs, output):
        ...         ctx.save_for_backward(inputs[0])
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = torch.tensor(3.0, requires_grad=True)
        >>> apply(Square, x).backward()
        >>> x.grad
        tensor(6.)
    """
    if torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active():
        return fn.apply(*args)
    return super(Function, fn).apply(*args)  # type: ignore[misc]


def hold(ctx: Any, tensor: Any) -> bool:
    """Keep ``tensor`` (a buffer private to the function: never an input, a view of one, or an
    output the caller keeps; or a tuple of such) on ``ctx`` for :func:`release`, in eager
    mode.

    Returns whether it was kept; if not (while :func:`torch.compile` traces, or under a
    :mod:`torch.func` transform, whose backward must be functional) the caller saves it with
    ``save_for_backward`` as usual. A kept tensor is not version-checked by autograd, which is
    the point: the backward pass may overwrite it, e.g. turn a derivative formed in the forward
    pass into the gradient without a fresh input-sized allocation.
    """
    if torch.compiler.is_compiling() or transforming():
        ctx.held = None
        return False
    ctx.held = tensor
    return True


def release(ctx: Any) -> Any:
    """The tensor kept by :func:`hold`, to the first backward pass only; ``None`` after that
    (a second pass with ``retain_graph=True`` must recompute it) or if nothing was kept."""
    tensor = getattr(ctx, "held", None)
    ctx.held = None
    return tensor


def save_with_derivative(ctx: Any, derivative: Tensor, *tensors: Tensor) -> None:
    """Save ``tensors`` for backward, and a derivative formed in the forward pass beside them:
    held (:func:`hold`) in eager mode, saved after ``tensors`` otherwise, and neither when it
    is empty (none was formed: no gradient was to be asked for). :func:`derivative_times`
    reads it back."""
    if derivative.numel() == 0 or hold(ctx, derivative):
        ctx.save_for_backward(*tensors)
    else:
        ctx.save_for_backward(*tensors, derivative)


def derivative_times(
    ctx: Any, kept: Sequence[Tensor], grad: Tensor, recompute: Callable[[], Tensor]
) -> Tensor:
    """``grad`` times the derivative of :func:`save_with_derivative`: the saved one (``kept``,
    the saved tensors after those passed to it) out of place, the held one in place (the first
    pass only), or ``recompute()`` (a second pass over a retained graph, or none was formed)."""
    if kept:
        return torch.mul(kept[0], grad)
    derivative = release(ctx)
    if derivative is None:
        derivative = recompute()
    if _is_one(grad):
        # a reduced loss's own backward() (or a mean formed in the kernel): no pass
        return derivative
    return derivative.mul_(grad)


def _is_one(grad: Tensor) -> bool:
    """Whether ``grad`` is a CPU scalar exactly 1 (one cheap host read)."""
    return grad.dim() == 0 and grad.device.type == "cpu" and grad.item() == 1.0
