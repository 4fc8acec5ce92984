"""``ParametricLoss``: the base of the losses that own state (margin softmax weights, centres).

A parametric loss owns a parameter (the class-weight matrix of the margin softmax family) or a
buffer (the centres of the centre loss) and is configured by hyperparameters (sizes, margin,
scale, α, the annealing schedule, the reduction). Those hyperparameters travel with the
``state_dict`` as its ``_extra_state`` entry (a plain ``dict`` of Python numbers and strings, so
``torch.load(weights_only=True)`` reads it), and loading a ``state_dict`` into a module built
with other hyperparameters is an error rather than weights silently reinterpreted.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .checks import fail
from .reduction import REDUCTIONS, check_reduction

__all__ = ["ParametricLoss"]


class ParametricLoss(nn.Module):
    """Base of the modules that own a parameter or buffer and save their hyperparameters.

    Subclasses call ``super().__init__(reduction=..., **sizes)`` with their positive integer
    sizes (checked and stored here), register what they own with :meth:`own`, and extend
    :meth:`hyperparameters`.

    Example:
        >>> import torch, losskit
        >>> loss = losskit.nn.CenterLoss(3, 2, alpha=0.5)
        >>> loss.state_dict()["_extra_state"]
        {'num_classes': 3, 'feat_dim': 2, 'reduction': 'mean', 'alpha': 0.5}
        >>> other = losskit.nn.CenterLoss(3, 2, alpha=0.1)
        >>> other.load_state_dict(loss.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: CenterLoss: state_dict hyperparameter alpha is 0.5 in the checkpoint but 0.1 in this module
    """  # noqa: E501

    def __init__(self, *, reduction: str, **sizes: int) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fail(name, f"{arg} must be a positive integer, got {value!r}")
            setattr(self, arg, value)
        self._size_names = tuple(sizes)
        check_reduction(reduction, REDUCTIONS, fn=name)
        self.reduction = reduction

    def own(self, name: str, tensor: Tensor, *, parameter: bool) -> None:
        """Register the state this loss owns: an ``nn.Parameter`` or a buffer."""
        if parameter:
            self.register_parameter(name, nn.Parameter(tensor))
        else:
            self.register_buffer(name, tensor)

    def hyperparameters(self) -> dict[str, Any]:
        """What configures this module (sizes, reduction; subclasses add their options)."""
        found: dict[str, Any] = {n: getattr(self, n) for n in self._size_names}
        found["reduction"] = self.reduction
        return found

    def get_extra_state(self) -> dict[str, Any]:
        """The hyperparameters, saved with the ``state_dict``."""
        return dict(self.hyperparameters())

    def set_extra_state(self, state: Any) -> None:
        """Check that a loaded ``state_dict`` was saved by a module with these hyperparameters.

        Raises:
            ValueError: naming the first hyperparameter that differs, or a malformed state.
        """
        name = type(self).__name__
        if not isinstance(state, dict):
            raise fail(name, f"state_dict _extra_state must be a dict, got {type(state).__name__}")
        mine = self.hyperparameters()
        for key in sorted(set(mine) | set(state)):
            if key not in state:
                raise fail(name, f"state_dict hyperparameter {key} is missing from the checkpoint")
            if key not in mine:
                raise fail(name, f"state_dict hyperparameter {key} is unknown to this module")
            if state[key] != mine[key]:
                raise fail(
                    name,
                    f"state_dict hyperparameter {key} is {state[key]!r} in the checkpoint but "
                    f"{mine[key]!r} in this module",
                )

    def extra_repr(self) -> str:
        found = self.hyperparameters()
        reduction = found.pop("reduction")
        return ", ".join(f"{k}={v!r}" for k, v in [*found.items(), ("reduction", reduction)])
