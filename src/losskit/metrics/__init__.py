"""Streaming metrics: accumulate statistics over updates, synchronise them across processes.

Each metric keeps a few float64 statistics, the parts of :mod:`losskit._core.reduction`
(a weighted sum and its divisor), adds those of every :meth:`~Metric.update` and finalises them
in :meth:`~Metric.compute`. The weighted means follow TensorFlow-1's streaming metrics
(``tf.compat.v1.metrics.mean_squared_error``): over every update so far,

.. math:: \\text{MSE} = \\frac{\\sum_u \\sum_i w_{u,i} e_{u,i}^2}{\\sum_u \\sum_i w_{u,i}}

with the weights broadcast to the errors as TensorFlow does, and 0 before any weight counted.
When a ``torch.distributed`` process group is initialised, :meth:`~Metric.compute` adds the
statistics of every rank with one ``all_reduce`` (of the statistics, never the data), so every
rank gets the value one process would get from every update; the local state is left as it
was. ``state_dict()`` / ``load_state_dict()`` save and restore the statistics.

Example:
    >>> import torch
    >>> from losskit.metrics import MeanSquaredError, WordErrorRate
    >>> mse = MeanSquaredError()
    >>> mse.update(torch.tensor([1.0, 2.0]), torch.zeros(2), weight=torch.tensor([1.0, 0.0]))
    >>> mse.update(torch.tensor([3.0]), torch.tensor([0.0]))
    >>> mse.compute()  # (1 * 1 + 0 * 4 + 1 * 9) / (1 + 0 + 1)
    tensor(5., dtype=torch.float64)
    >>> wer = WordErrorRate()
    >>> wer.update(["the cat sat"], ["the cat sat down"])
    >>> wer.compute()
    tensor(0.2500, dtype=torch.float64)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from .. import functional as F
from .._core.checks import error_context, fail, shape_str
from .._core.reduction import LossParts, finalize
from ..compat._convert import as_float

__all__ = [
    "CharErrorRate",
    "EditDistance",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "WordErrorRate",
]


class Metric:
    """Base of the streaming metrics: statistics, ``update`` / ``compute`` / ``reset``,
    ``state_dict`` / ``load_state_dict`` and the distributed synchronisation.

    Args:
        process_group: the ``torch.distributed`` group :meth:`compute` synchronises over;
            ``None`` uses the default group when one is initialised (and stays local otherwise).
        sync: ``False`` keeps :meth:`compute` local even inside a process group.
    """

    statistics: tuple[str, ...] = ("total", "count")

    def __init__(self, *, process_group: Any = None, sync: bool = True) -> None:
        self.process_group = process_group
        self.sync = sync
        self._state = self._zeros(torch.device("cpu"))
        self._updates = 0

    def _zeros(self, device: torch.device) -> Tensor:
        return torch.zeros(len(self.statistics), dtype=torch.float64, device=device)

    def _add(self, total: Tensor, count: Tensor | float) -> None:
        """Add one update's statistics; the state follows the device of the first update."""
        device = total.device
        if self._updates == 0:
            self._state = self._state.to(device)
        update = torch.stack(
            [
                total.detach().to(torch.float64).reshape(()),
                torch.as_tensor(count, dtype=torch.float64, device=device).reshape(()),
            ]
        )
        self._state = self._state + update.to(self._state.device)
        self._updates += 1

    def reset(self) -> None:
        """Forget every update."""
        self._state = self._zeros(self._state.device)
        self._updates = 0

    def synced_state(self) -> Tensor:
        """The statistics summed over the process group (one ``all_reduce``), or the local ones
        outside a group."""
        state = self._state.clone()
        distributed = self.sync and dist.is_available() and dist.is_initialized()
        if distributed and dist.get_world_size(self.process_group) > 1:
            dist.all_reduce(state, op=dist.ReduceOp.SUM, group=self.process_group)
        return state

    def compute(self) -> Tensor:
        """The metric over every update (of every rank of the process group), float64."""
        return self._finalize(self.synced_state())

    def _finalize(self, state: Tensor) -> Tensor:
        return finalize(LossParts(state[0], state[1]))

    def state_dict(self) -> dict[str, Tensor]:
        """The statistics by name (local, not synchronised)."""
        return {name: self._state[i].clone() for i, name in enumerate(self.statistics)}

    def load_state_dict(self, state_dict: Mapping[str, Tensor]) -> None:
        """Restore statistics saved by :meth:`state_dict`.

        Raises:
            ValueError: missing or unexpected keys.
        """
        name = f"metrics.{type(self).__name__}.load_state_dict"
        if set(state_dict) != set(self.statistics):
            raise fail(
                name,
                f"state_dict must have the keys {sorted(self.statistics)}, got "
                f"{sorted(state_dict)}",
            )
        self._state = torch.stack(
            [
                torch.as_tensor(state_dict[k], dtype=torch.float64).reshape(())
                for k in self.statistics
            ]
        ).to(self._state.device)
        self._updates = 1

    def __repr__(self) -> str:
        stats = ", ".join(f"{k}={float(v):g}" for k, v in self.state_dict().items())
        return f"{type(self).__name__}({stats})"


def _weighted_parts(fn: str, errors: Tensor, weight: Any) -> tuple[Tensor, Tensor]:
    """``(sum w e, sum w)`` with the weights broadcast to the errors as TensorFlow's metrics."""
    if weight is None:
        return errors.sum(), torch.tensor(float(errors.numel()))
    w = as_float(weight, "weight", fn, errors.dtype, errors.device)
    if w.dim() and (
        w.dim() != errors.dim()
        or any(a != 1 and a != b for a, b in zip(w.shape, errors.shape, strict=True))
    ):
        raise fail(
            fn,
            f"weight must be a scalar or have input's rank ({errors.dim()}) with every dimension "
            f"1 or equal to input's, got weight {shape_str(w.shape)} and input "
            f"{shape_str(errors.shape)}",
        )
    w = w.expand(errors.shape)
    return (errors * w).sum(), w.sum()


class MeanSquaredError(Metric):
    r"""Streaming (root) mean squared error with TensorFlow-1's weighting.

    .. math:: \text{MSE} = \frac{\sum w (x - y)^2}{\sum w}, \qquad
              \text{RMSE} = \sqrt{\text{MSE}} \ (\texttt{squared=False})

    over every update (``tf.compat.v1.metrics.mean_squared_error`` /
    ``root_mean_squared_error``); the errors come from :func:`losskit.mse_loss`.

    Args:
        squared: ``False`` gives the root mean squared error.
        process_group: see :class:`Metric`.
        sync: see :class:`Metric`.

    Example:
        >>> m = MeanSquaredError(squared=False)
        >>> m.update(torch.tensor([3.0, 4.0]), torch.zeros(2))
        >>> m.compute()
        tensor(3.5355, dtype=torch.float64)
    """

    def __init__(
        self, squared: bool = True, *, process_group: Any = None, sync: bool = True
    ) -> None:
        super().__init__(process_group=process_group, sync=sync)
        self.squared = squared

    def update(self, input: Any, target: Any, *, weight: Any = None) -> None:
        """Add a batch of predictions ``input`` and targets ``target`` (same shape), with
        optional weights (a scalar or the input's rank with dimensions 1 or equal)."""
        fn = f"metrics.{type(self).__name__}.update"
        with error_context(fn):
            x = as_float(input, "input", fn)
            y = as_float(target, "target", fn, x.dtype, x.device)
            errors = self._errors(x, y)
            self._add(*_weighted_parts(fn, errors, weight))

    def _errors(self, x: Tensor, y: Tensor) -> Tensor:
        return F.mse_loss(x, y, reduction="none")

    def _finalize(self, state: Tensor) -> Tensor:
        value = super()._finalize(state)
        return value if self.squared else value.sqrt()


class MeanAbsoluteError(MeanSquaredError):
    r"""Streaming mean absolute error with TensorFlow-1's weighting.

    .. math:: \text{MAE} = \frac{\sum w |x - y|}{\sum w}

    (``tf.compat.v1.metrics.mean_absolute_error``); errors from :func:`losskit.mae_loss`.

    Args:
        process_group: see :class:`Metric`.
        sync: see :class:`Metric`.

    Example:
        >>> m = MeanAbsoluteError()
        >>> m.update(torch.tensor([3.0, -1.0]), torch.zeros(2), weight=torch.tensor([1.0, 3.0]))
        >>> m.compute()
        tensor(1.5000, dtype=torch.float64)
    """

    def __init__(self, *, process_group: Any = None, sync: bool = True) -> None:
        super().__init__(squared=True, process_group=process_group, sync=sync)

    def _errors(self, x: Tensor, y: Tensor) -> Tensor:
        return F.mae_loss(x, y, reduction="none")


class EditDistance(Metric):
    r"""Streaming weighted mean of edit distances (``tf.edit_distance`` per pair).

    .. math:: \bar d = \frac{\sum_n w_n\, d(h_n, t_n) \,[/\, |t_n|]}{\sum_n w_n}

    with the distances of :func:`losskit.edit_distance` (padded integer tensors with lengths,
    strings, or token sequences; ``normalize`` divides each by its truth length).

    Args:
        normalize: divide each distance by its truth length.
        process_group: see :class:`Metric`.
        sync: see :class:`Metric`.

    Example:
        >>> m = EditDistance(normalize=False)
        >>> m.update(["kitten", "abc"], ["sitting", "abc"])
        >>> m.compute()
        tensor(1.5000, dtype=torch.float64)
    """

    def __init__(
        self, normalize: bool = True, *, process_group: Any = None, sync: bool = True
    ) -> None:
        super().__init__(process_group=process_group, sync=sync)
        self.normalize = normalize

    def update(self, hypothesis: Any, truth: Any, *, weight: Any = None, **lengths: Any) -> None:
        """Add a batch of pairs (``hypothesis_lengths`` / ``truth_lengths`` for tensors)."""
        fn = f"metrics.{type(self).__name__}.update"
        with error_context(fn):
            d = F.edit_distance(hypothesis, truth, normalize=self.normalize, **lengths)
            self._add(*_weighted_parts(fn, d.double(), weight))


def _texts(fn: str, name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise fail(
        fn, f"{name} must be a string or a list of strings, got {type(value).__name__}", TypeError
    )


class _ErrorRate(Metric):
    """Σ edit operations / Σ reference tokens over every update (as torchmetrics)."""

    statistics = ("errors", "total")

    def _tokens(self, texts: list[str]) -> list[Any]:
        raise NotImplementedError

    def update(self, hypothesis: Any, truth: Any) -> None:
        """Add transcriptions ``hypothesis`` and references ``truth`` (strings or lists of
        strings of the same length)."""
        fn = f"metrics.{type(self).__name__}.update"
        hyps, refs = _texts(fn, "hypothesis", hypothesis), _texts(fn, "truth", truth)
        if len(hyps) != len(refs):
            raise fail(
                fn,
                f"hypothesis and truth must hold as many texts, got {len(hyps)} and {len(refs)}",
            )
        if not hyps:
            return
        h, r = self._tokens(hyps), self._tokens(refs)
        with error_context(fn):
            d = F.edit_distance(h, r, normalize=False)
        self._add(d.double().sum(), float(sum(len(t) for t in r)))

    def _finalize(self, state: Tensor) -> Tensor:
        return state[0] / state[1]


class WordErrorRate(_ErrorRate):
    r"""Streaming word error rate: word-level edit operations over reference words.

    .. math:: \text{WER} = \frac{\sum_n d(\text{words}(h_n), \text{words}(t_n))}
              {\sum_n |\text{words}(t_n)|}

    Words are whitespace-separated (``str.split()``); equal to torchmetrics' ``WordErrorRate``
    on the same texts (``nan`` before any reference word, as there).

    Args:
        process_group: see :class:`Metric`.
        sync: see :class:`Metric`.

    Example:
        >>> m = WordErrorRate()
        >>> m.update("this is the prediction", "this is the reference")
        >>> m.compute()
        tensor(0.2500, dtype=torch.float64)
    """

    def _tokens(self, texts: list[str]) -> list[Any]:
        return [t.split() for t in texts]


class CharErrorRate(_ErrorRate):
    r"""Streaming character error rate: character edit operations over reference characters.

    .. math:: \text{CER} = \frac{\sum_n d(h_n, t_n)}{\sum_n |t_n|}

    on the texts as given (spaces count); equal to torchmetrics' ``CharErrorRate``.

    Args:
        process_group: see :class:`Metric`.
        sync: see :class:`Metric`.

    Example:
        >>> m = CharErrorRate()
        >>> m.update("kitten", "sitting")
        >>> m.compute()
        tensor(0.4286, dtype=torch.float64)
    """

    def _tokens(self, texts: list[str]) -> list[Any]:
        return texts
