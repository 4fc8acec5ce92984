"""``Loss``: the base of every ``losskit.nn`` module.

A module twin stores the options of its functional and delegates ``forward`` to it. Tensor options
(class weights, ``pos_weight``, ...) are registered as buffers so that they follow ``.to()``,
``.cuda()`` and ``state_dict``; every other option is kept as a plain attribute and shown by
``repr``. Keyword arguments given to ``forward`` override the stored options for that call (for
example a per-batch ``weight``).
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

    def forward(self, *args: Any, **overrides: Any) -> Tensor:
        """Call the functional with the stored options; keyword arguments override them."""
        return type(self).function(*args, **{**self.options(), **overrides})

    def extra_repr(self) -> str:
        parts = []
        for name, value in self.options().items():
            if isinstance(value, Tensor):
                parts.append(f"{name}=<tensor of shape {tuple(value.shape)}>")
            else:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)
