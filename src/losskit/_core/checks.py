"""Input checking with one error style, and the switch for data-dependent validation.

Two kinds of checks exist:

* **Static checks** (shapes, dtypes, option values) read only metadata. They are always on: they
  cost nothing at run time and nothing under ``torch.compile`` (they run once, at trace time).
* **Data-dependent checks** (label ranges, finiteness, box validity, sequence lengths) read tensor
  values, which synchronises with the device and breaks a ``torch.compile`` graph. They are on by
  default and can be switched off globally (:func:`set_validation`, the :func:`validation` context
  manager) or per call (the ``validate=`` argument of the losses that have such checks). Under
  ``torch.compile`` they are skipped automatically, so ``torch.compile(loss, fullgraph=True)``
  works with validation on.

Every message has the form ``"<loss>: <argument> <what was expected>, got <what was received>"``.
``ValueError`` is raised for shapes and values, ``TypeError`` for dtypes.

Errors speak the caller's language: a dialect function that delegates to a native loss runs it
inside :func:`error_context` (or is decorated with :func:`speaks_as`), and every error built by
:func:`fail` while the context is active carries the dialect function's name and argument names
(``mean_squared_error: y_pred and y_true must have the same shape, ...``) instead of the native
ones. This is the only place where names are translated; adapters declare the mapping.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import torch
from torch import Tensor

from .dtypes import to_compute

__all__ = [
    "ORDER_HINT",
    "ErrorContext",
    "check_class_dim",
    "check_class_tensor",
    "check_dim",
    "check_distribution",
    "check_finite",
    "check_floating",
    "check_in_range",
    "check_index",
    "check_integer",
    "check_option",
    "check_positive",
    "check_probabilities",
    "check_same_shape",
    "check_tensor",
    "current_error_context",
    "error_context",
    "fail",
    "is_validation_enabled",
    "prepare_pair",
    "set_validation",
    "shape_str",
    "speaks_as",
    "transforming",
    "validation",
    "validation_enabled",
]

_VALIDATION = True


def set_validation(enabled: bool) -> None:
    """Switch data-dependent input validation on or off for the whole process.

    Static checks (shapes, dtypes, options) are never switched off.

    Example:
        >>> import losskit
        >>> losskit.set_validation(False)
        >>> losskit.is_validation_enabled()
        False
        >>> losskit.set_validation(True)
    """
    global _VALIDATION
    _VALIDATION = bool(enabled)


def is_validation_enabled() -> bool:
    """Whether data-dependent validation is globally on (the default)."""
    return _VALIDATION


@contextmanager
def validation(enabled: bool) -> Iterator[None]:
    """Context manager that sets data-dependent validation for the enclosed block.

    Example:
        >>> import losskit
        >>> with losskit.validation(False):
        ...     losskit.is_validation_enabled()
        False
        >>> losskit.is_validation_enabled()
        True
    """
    global _VALIDATION
    previous = _VALIDATION
    _VALIDATION = bool(enabled)
    try:
        yield
    finally:
        _VALIDATION = previous


def transforming() -> bool:
    """Whether a :mod:`torch.func` transform (``vmap``, ``grad``, ``jacrev``...) is active: data
    reads are impossible on its batched tensors, so data-dependent checks are skipped there too."""
    return bool(torch._C._are_functorch_transforms_active())


def validation_enabled(validate: bool | None) -> bool:
    """Resolve a per-call ``validate`` argument: ``None`` defers to the global switch.

    While :func:`torch.compile` traces a function the answer is always ``False``: a check that
    reads tensor values would force a host sync and a graph break (an error under
    ``fullgraph=True``), so compiled code skips the data-dependent checks automatically and keeps
    the static ones (shapes, dtypes, options). The same holds inside :mod:`torch.func`
    transforms (``vmap``, ``grad``). Run the function eagerly once to validate its data.
    """
    if torch.compiler.is_compiling() or transforming():
        return False
    return _VALIDATION if validate is None else bool(validate)


def shape_str(shape: Sequence[int] | torch.Size) -> str:
    """``(2, 3)`` style rendering of a shape (``()`` for a scalar)."""
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


@dataclass(frozen=True)
class ErrorContext:
    """The name and argument names under which errors are reported.

    Attributes:
        name: the public function the caller called (``"mean_squared_error"``).
        arguments: native argument name -> the caller's argument name
            (``{"input": "y_pred", "target": "y_true"}``); names not listed stay as they are.
    """

    name: str
    arguments: Mapping[str, str] = field(default_factory=dict)

    def translate(self, message: str) -> str:
        """``message`` with every native argument name (a whole word) replaced at once."""
        if not self.arguments:
            return message
        words = sorted(self.arguments, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(w) for w in words) + r")\b")
        return pattern.sub(lambda m: self.arguments[m.group(1)], message)


_ERROR_CONTEXT: ContextVar[ErrorContext | None] = ContextVar("losskit_error_context", default=None)

_F = TypeVar("_F", bound=Callable[..., Any])


def current_error_context() -> ErrorContext | None:
    """The innermost active :class:`ErrorContext`, or ``None`` in native calls."""
    return _ERROR_CONTEXT.get()


@contextmanager
def error_context(name: str, arguments: Mapping[str, str] | None = None) -> Iterator[None]:
    """Report errors raised in the block under ``name`` and the caller's argument names.

    The outermost context wins: a dialect function that calls another dialect function reports
    under the name the user called.

    Example:
        >>> import torch, losskit
        >>> with error_context("mean_squared_error", {"input": "y_pred", "target": "y_true"}):
        ...     losskit.mse_loss(torch.zeros(3, 4), torch.zeros(3))
        Traceback (most recent call last):
        ...
        ValueError: mean_squared_error: y_pred and y_true must have the same shape, got y_pred...
    """
    if _ERROR_CONTEXT.get() is not None:
        yield
        return
    token = _ERROR_CONTEXT.set(ErrorContext(name, dict(arguments or {})))
    try:
        yield
    finally:
        _ERROR_CONTEXT.reset(token)


def speaks_as(name: str, **arguments: str) -> Callable[[_F], _F]:
    """Decorator form of :func:`error_context` for a dialect function.

    Example:
        >>> import torch, losskit
        >>> @speaks_as("absolute_difference", input="predictions", target="labels")
        ... def absolute_difference(labels, predictions):
        ...     return losskit.mae_loss(predictions, labels)
        >>> absolute_difference(torch.zeros(2), [0.0, 1.0])
        Traceback (most recent call last):
        ...
        TypeError: absolute_difference: predictions must be a torch.Tensor, got list
    """

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with error_context(name, arguments):
                return func(*args, **kwargs)

        return cast(_F, wrapper)

    return decorate


def fail(fn: str, message: str, error: type[Exception] = ValueError) -> Exception:
    """Build the error of the house style; callers ``raise fail(...)``.

    Inside an :func:`error_context` the error names the context's function and translates the
    argument names. An empty ``fn`` gives a message without prefix (outside a context).
    """
    context = _ERROR_CONTEXT.get()
    if context is not None:
        return error(f"{context.name}: {context.translate(message)}")
    return error(f"{fn}: {message}" if fn else message)


def check_tensor(fn: str, name: str, value: object) -> Tensor:
    """``value`` must be a ``torch.Tensor``."""
    if not isinstance(value, Tensor):
        raise fail(fn, f"{name} must be a torch.Tensor, got {type(value).__name__}", TypeError)
    return value


def check_floating(fn: str, name: str, tensor: Tensor) -> Tensor:
    """``tensor`` must be a real floating tensor (half, bfloat16, float32 or float64)."""
    check_tensor(fn, name, tensor)
    if not tensor.is_floating_point():
        raise fail(
            fn, f"{name} must be a floating point tensor, got dtype {tensor.dtype}", TypeError
        )
    return tensor


def check_integer(fn: str, name: str, tensor: Tensor, *, hint: str = "") -> Tensor:
    """``tensor`` must hold integer class indices (any signed or unsigned integer dtype)."""
    check_tensor(fn, name, tensor)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        extra = f"; {hint}" if hint else ""
        raise fail(
            fn, f"{name} must be an integer tensor, got dtype {tensor.dtype}{extra}", TypeError
        )
    return tensor


def check_same_shape(
    fn: str, input: Tensor, target: Tensor, names: tuple[str, str] = ("input", "target")
) -> None:
    """Two tensors must have exactly the same shape (no silent broadcasting)."""
    if input.shape != target.shape:
        raise fail(
            fn,
            f"{names[0]} and {names[1]} must have the same shape, got {names[0]} "
            f"{shape_str(input.shape)} and {names[1]} {shape_str(target.shape)}",
        )


def check_dim(fn: str, name: str, tensor: Tensor, dim: int | None) -> int | None:
    """``dim`` must index a dimension of ``tensor``; returns it normalised to be non-negative."""
    if dim is None:
        return None
    ndim = max(tensor.dim(), 1)
    if not isinstance(dim, int) or not -ndim <= dim < ndim:
        raise fail(
            fn,
            f"dim must be an int in [{-ndim}, {ndim - 1}] for {name} of shape "
            f"{shape_str(tensor.shape)}, got {dim!r}",
        )
    return dim % ndim


def check_class_dim(fn: str, input: Tensor, dim: int) -> int:
    """``dim`` must name the class dimension of ``input``; returns it non-negative."""
    if input.dim() == 0:
        raise fail(fn, "input must have a class dimension, got a 0-dim tensor")
    return cast(int, check_dim(fn, "input", input, dim))


def check_class_tensor(fn: str, name: str, tensor: Tensor, num_classes: int) -> Tensor:
    """A per-class tensor option (class weights): floating, of shape ``(num_classes,)``."""
    check_floating(fn, name, tensor)
    if tensor.shape != (num_classes,):
        raise fail(
            fn,
            f"{name} must have shape ({num_classes},) (one weight per class), got shape "
            f"{shape_str(tensor.shape)}",
        )
    return tensor


def check_option(fn: str, name: str, value: object, allowed: Sequence[object]) -> None:
    """An option must be one of ``allowed``."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise fail(fn, f"{name} must be one of {choices}, got {value!r}")


def check_positive(fn: str, name: str, value: float, *, allow_zero: bool = False) -> None:
    """A numeric option must be positive (or non-negative)."""
    ok = value >= 0 if allow_zero else value > 0
    if not ok or value != value:
        bound = ">= 0" if allow_zero else "> 0"
        raise fail(fn, f"{name} must be {bound}, got {value!r}")


def check_finite(fn: str, name: str, tensor: Tensor, *, validate: bool | None = None) -> None:
    """Data-dependent: every element of ``tensor`` must be finite."""
    if validation_enabled(validate) and tensor.numel() and not bool(torch.isfinite(tensor).all()):
        raise fail(fn, f"{name} must be finite, got NaN or infinite values")


def extremes(tensor: Tensor) -> tuple[float, float]:
    """``(min, max)`` of a non-empty tensor as Python numbers: one pass, one host transfer
    (NaN shows as NaN, so it fails every comparison)."""
    low, high = torch.stack(torch.aminmax(tensor)).tolist()
    return low, high


def zero_one_residual(tensor: Tensor, out: Tensor | None = None) -> tuple[float, float]:
    r""":func:`extremes` of :math:`t - t^2` (into ``out`` if given), which is :math:`\ge 0`
    exactly on [0, 1] and 0 exactly on {0, 1}: ``low >= 0`` says every value lies in [0, 1],
    ``(0, 0)`` that every value is 0 or 1 (NaN fails both)."""
    return extremes(torch.addcmul(tensor, tensor, tensor, value=-1.0, out=out))


def check_in_range(
    fn: str,
    name: str,
    tensor: Tensor,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    ignore_value: float | None = None,
    hint: str = "",
    validate: bool | None = None,
) -> None:
    """Data-dependent: every element must lie in the given interval (NaN fails).

    ``ignore_value`` (an ``ignore_index``) is accepted wherever it appears; ``hint`` is appended
    to the message (e.g. "pass from_logits=True for logits").
    """
    if not validation_enabled(validate) or tensor.numel() == 0:
        return
    if tensor.dtype != torch.bool:
        # Fast path: one min/max pass and one host sync; NaN fails every comparison and falls
        # through to the slow path, which builds the message.
        lo_val, hi_val = extremes(tensor)
        fast = lo_val == lo_val and hi_val == hi_val
        if low is not None:
            fast = fast and (lo_val >= low if low_inclusive else lo_val > low)
        if high is not None:
            fast = fast and (hi_val <= high if high_inclusive else hi_val < high)
        if fast:
            return
    ok = torch.ones_like(tensor, dtype=torch.bool)
    if low is not None:
        ok &= tensor >= low if low_inclusive else tensor > low
    if high is not None:
        ok &= tensor <= high if high_inclusive else tensor < high
    if ignore_value is not None:
        ok |= tensor == ignore_value
    if not bool(ok.all()):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = (
            ("[" if low_inclusive else "(") + f"{lo}, {hi}" + ("]" if high_inclusive else ")")
        )
        bad = tensor[~ok]
        extra = f" or equal ignore_index={ignore_value:g}" if ignore_value is not None else ""
        extra += f" ({hint})" if hint else ""
        raise fail(
            fn,
            f"{name} must lie in {interval}{extra}, got {bad.numel()} value(s) outside, e.g. "
            f"{bad.flatten()[0].item():g}",
        )


ORDER_HINT = (
    "losskit takes (input, target): the prediction first, then the target; TensorFlow and "
    "Keras put the labels first"
)
"""Appended to the value checks of targets, which catch arguments passed in the other order."""


def check_probabilities(
    fn: str, name: str, tensor: Tensor, *, validate: bool | None = None, hint: str = ORDER_HINT
) -> None:
    """Data-dependent: targets (or probabilities) must lie in ``[0, 1]`` (NaN fails)."""
    check_in_range(fn, name, tensor, 0.0, 1.0, hint=hint, validate=validate)


def check_distribution(
    fn: str,
    name: str,
    tensor: Tensor,
    dim: int,
    *,
    log: bool = False,
    validate: bool | None = None,
    hint: str = ORDER_HINT,
) -> None:
    """Data-dependent: ``tensor`` holds distributions along ``dim``: entries in ``[0, 1]`` summing
    to 1 (with ``log``: log-probabilities, ``<= 0``, whose exponentials sum to 1).

    The sums may differ from 1 by ``0.01 + 2 C eps`` (``C`` the size of ``dim``, ``eps`` of the
    tensor's dtype): loose enough for targets rounded to half precision, tight enough to catch
    logits or unnormalised scores passed as the target.
    """
    if not validation_enabled(validate) or tensor.numel() == 0:
        return
    size = tensor.shape[dim]
    tol = 0.01 + 2.0 * size * torch.finfo(tensor.dtype).eps
    with torch.no_grad():
        values = tensor.detach()
        # Fast path: one reduction for the sign, one for the sums, one host sync.
        sign_ok = values.amax() <= 0 if log else values.amin() >= 0
        acc = torch.promote_types(values.dtype, torch.float32)
        sums = (values.exp() if log else values).sum(dim=dim, dtype=acc)
        off = (sums - 1.0).abs()
        if bool(sign_ok & (off.amax() <= tol)):
            return
    # Slow path: the message (a value out of range, NaN included, or a sum away from 1).
    if log:
        check_in_range(fn, name, tensor, None, 0.0, hint=hint, validate=True)
    else:
        check_in_range(fn, name, tensor, 0.0, 1.0, hint=hint, validate=True)
    worst = sums.flatten()[int(off.flatten().nan_to_num(float("inf")).argmax())].item()
    what = "exponentials" if log else "entries"
    raise fail(
        fn,
        f"{name} must hold distributions along dim {dim} ({what} summing to 1; {hint}), got a "
        f"sum of {worst:g}",
    )


def check_index(
    fn: str,
    name: str,
    tensor: Tensor,
    num_classes: int,
    *,
    ignore_index: int | None = None,
    validate: bool | None = None,
) -> None:
    """Data-dependent: class indices must lie in ``[0, num_classes)`` or equal ``ignore_index``."""
    if not validation_enabled(validate) or tensor.numel() == 0:
        return
    # Fast path: one min/max pass and one host sync (a second one, without the ignored
    # entries, when the range holds an ignore_index); the slow path only builds the message.
    low, high = extremes(tensor)
    if low >= 0 and high < num_classes:
        return
    if ignore_index is not None:
        valid = torch.where(tensor == ignore_index, 0, tensor)
        low, high = extremes(valid)
        if low >= 0 and high < num_classes:
            return
    bad = (tensor < 0) | (tensor >= num_classes)
    if ignore_index is not None:
        bad &= tensor != ignore_index
    if bool(bad.any()):
        values = tensor[bad]
        extra = f" or equal ignore_index={ignore_index}" if ignore_index is not None else ""
        raise fail(
            fn,
            f"{name} must hold class indices in [0, {num_classes - 1}]{extra}, got "
            f"{int(values.flatten()[0])}",
        )


def prepare_pair(
    fn: str, input: Tensor, target: Tensor, *, same_shape: bool = True
) -> tuple[Tensor, Tensor]:
    """The common front of a pointwise loss: check, then cast to the compute dtype.

    ``input`` must be floating; ``target`` may be floating, integer or boolean (cast to the
    compute dtype) and, when ``same_shape``, must have exactly ``input``'s shape.
    """
    check_floating(fn, "input", input)
    check_tensor(fn, "target", target)
    if target.is_complex():
        raise fail(fn, f"target must be a real tensor, got dtype {target.dtype}", TypeError)
    if same_shape:
        check_same_shape(fn, input, target)
    x, y = to_compute(input, target)
    return x, y
