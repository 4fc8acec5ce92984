"""``Loss``: the base of every ``losskit.nn`` module.

A module twin stores the options of its functional; its explicit ``forward(self, input, target,
...)`` delegates to :meth:`Loss._call`. Tensor options
(class weights, ``pos_weight``, ...) are registered as buffers so that they follow ``.to()``,
``.cuda()`` and ``state_dict``; every other option is kept as a plain attribute and shown by
``repr``. Per-call tensors that ``forward`` names (a per-batch ``weight``, sequence lengths) are
passed through when given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from torch import Tensor, nn

from .reduction import REDUCTIONS, check_reduction

__all__ = ["Loss"]


class Loss(nn.Module):
    """Base class of the module twins.

    Subclasses set :attr:`function` to their functional and call
    ``super().__init__(reduction=..., **options)`` from an ``__init__`` that spells out the
    options (so that signatures and docs stay explicit).

    Example:
        >>> import torch
        >>> import losskit
        >>> loss = losskit.nn.HuberLoss(delta=2.0)
        >>> loss
        HuberLoss(delta=2.0, reduction='mean')
        >>> loss(torch.tensor([0.0, 3.0]), torch.tensor([1.0, 0.0]))
        tensor(2.2500)
    """

    function: ClassVar[Callable[..., Tensor]]
    allowed_reductions: ClassVar[Sequence[str]] = REDUCTIONS

    def __init__(self, *, reduction: str = "mean", **options: Any) -> None:
        super().__init__()
        check_reduction(reduction, self.allowed_reductions, fn=type(self).__name__)
        self.reduction = reduction
        self._option_names: tuple[str, ...] = tuple(options)
        for name, value in options.items():
            if isinstance(value, Tensor):
                self.register_buffer(name, value.detach().clone())
            else:
                setattr(self, name, value)

    def options(self) -> dict[str, Any]:
        """The stored options (buffers included) plus ``reduction``, as keyword arguments."""
        opts = {name: getattr(self, name) for name in self._option_names}
        opts["reduction"] = self.reduction
        return opts

    def _call(self, *args: Any, **overrides: Any) -> Tensor:
        """Call the functional with the stored options; keyword arguments that are not ``None``
        override them for this call. Subclasses spell out ``forward`` and delegate here."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return type(self).function(*args, **{**self.options(), **given})

    def extra_repr(self) -> str:
        parts = []
        for name, value in self.options().items():
            if isinstance(value, Tensor):
                parts.append(f"{name}=<tensor of shape {tuple(value.shape)}>")
            else:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)
