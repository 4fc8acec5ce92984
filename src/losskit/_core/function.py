"""Calling a :class:`torch.autograd.Function` without the per-call signature binding.

``Function.apply`` binds the arguments to ``forward``'s signature on every call when the
function defines ``setup_context`` (``inspect.signature``: about 60 µs, more than the whole
forward pass of a small loss). :func:`apply` goes straight to the C++ entry point, which runs
``forward`` and ``setup_context`` exactly as ``apply`` does, when nothing needs the binding:
every argument is passed positionally, and no :mod:`torch.func` transform is active (whose
wrappers ``apply`` unwraps). While :func:`torch.compile` traces, the public ``apply`` is kept,
because dynamo recognises it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.function import Function

__all__ = ["apply"]


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
