"""The test specs of every catalogued loss: sample inputs, error table, reference, flags.

The contract tests (``tests/contract``) run every registered loss through the shared checks, and
the benchmarks use the references registered here. The 1-D curves that ``losskit plot`` and the
report draw are product data and live in :mod:`losskit.experiments.curves`.

These specs are test-only data (as torch keeps ``SampleInput``/``ErrorInput`` in
``torch.testing._internal``): they live in the test tree, keyed by the catalogue's names
(:mod:`losskit.catalogue`). Each module of this package (one per functional module) builds its
:class:`LossSpec` entries and calls :func:`register`; :func:`all_specs` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from losskit.catalogue import FAMILIES

__all__ = [
    "FAMILIES",
    "REGISTRY_MODULES",
    "ErrorCase",
    "LossSpec",
    "Sample",
    "all_specs",
    "get_spec",
    "register",
]


REGISTRY_MODULES: tuple[str, ...] = (
    "regression",
    "cross_entropy",
    "focal",
    "hinge",
    "divergence",
    "dice",
    "boxes",
    "ctc",
    "levenshtein",
    "margin",
    "center",
    "linear_cross_entropy",
)
"""Modules of this package (one per functional module) that hold the specs."""


@dataclass(frozen=True)
class Sample:
    """Arguments for one call of a loss: positional tensors and keyword options.

    ``args`` are passed positionally to the functional and to the module's ``forward``;
    ``options`` are keyword-only options, passed to the functional and to the module's
    constructor (``reduction`` is never part of ``options``).
    """

    args: tuple[Any, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def tensors(self) -> list[Tensor]:
        """Every tensor in ``args`` and ``options`` (to check they are left unmodified)."""
        found = [a for a in self.args if isinstance(a, Tensor)]
        found += [v for v in self.options.values() if isinstance(v, Tensor)]
        return found


SampleFn = Callable[[int, torch.dtype, torch.device, torch.Generator], Sample]
"""``sample(batch, dtype, device, generator)``: a valid call with ``batch`` leading samples
(``batch=0`` must be accepted: the empty-input contract)."""


@dataclass(frozen=True)
class ErrorCase:
    """A bad call and the error it must raise (``match`` is a regular expression)."""

    description: str
    make: Callable[[], Sample]
    error: type[Exception]
    match: str


@dataclass(frozen=True)
class LossSpec:
    """Everything the shared checks and the command line need to know about one loss.

    Attributes:
        name: public functional name (``losskit.<name>``).
        family: one of :data:`FAMILIES`.
        functional: the functional.
        module: its ``losskit.nn`` twin, or ``None``.
        sample: builds valid inputs, see :data:`SampleFn`.
        errors: the loss's error table.
        reference: an independent implementation (another library or a textbook formula)
            called like the functional with ``reduction="none"`` options; used by benchmarks
            and the generic parity test. ``None`` when there is none.
        reference_name: a short label for ``reference`` (``"torch.nn.functional.huber_loss"``).
        reductions: the reductions the loss accepts.
        grad_args: indices into ``Sample.args`` of the tensors gradients flow to.
        twice_differentiable: run ``gradgradcheck`` too.
        gradcheck: compare the gradient with finite differences of the value. ``False`` where
            the gradient deliberately is not the derivative of the value (CIoU's α is held
            constant, as its paper prescribes); such a loss tests its gradient against a
            reference of the same prescription instead (``gradgradcheck`` still runs).
        compile: include the loss in the ``torch.compile(fullgraph=True)`` check.
        func: include the loss in the :mod:`torch.func` check (``vmap`` over a stack of samples
            equals the loop over them, ``vmap(grad)`` equals per-sample autograd). ``False``
            only where the computation reads tensor values on the host by design (sequence
            lengths of CTC and edit distance), which ``vmap`` cannot batch.
        low_precision: accept float16/bfloat16 inputs (checked against float32).
        make_module: for parametric losses: ``(sample, reduction) -> (module, functional_sample)``
            building the module and the sample with which the functional must give the same
            result (for example with the module's weight passed explicitly). The default builds
            ``module(**sample.options, reduction=reduction)`` and reuses ``sample``.
        module_args: the positional arguments of the module's ``forward`` for a sample; by
            default ``sample.args`` (a parametric module owns what its functional takes
            explicitly, e.g. ``lambda s: s.args[:2]`` when the weight is the third argument).
        summary: one line for ``losskit list``.
    """

    name: str
    family: str
    functional: Callable[..., Tensor]
    module: type[nn.Module] | None
    sample: SampleFn
    errors: Sequence[ErrorCase] = ()
    reference: Callable[..., Tensor] | None = None
    reference_name: str = ""
    reductions: Sequence[str] = ("none", "mean", "sum")
    grad_args: Sequence[int] = (0,)
    twice_differentiable: bool = True
    gradcheck: bool = True
    compile: bool = True
    func: bool = True
    low_precision: bool = True
    make_module: Callable[[Sample, str], tuple[nn.Module, Sample]] | None = None
    module_args: Callable[[Sample], tuple[Any, ...]] | None = None
    summary: str = ""

    def forward_args(self, sample: Sample) -> tuple[Any, ...]:
        """The positional arguments with which the module twin is called on ``sample``."""
        return self.module_args(sample) if self.module_args is not None else sample.args

    def build_module(self, sample: Sample, reduction: str) -> tuple[nn.Module, Sample]:
        """The module twin configured like ``sample``, and the matching functional sample."""
        if self.make_module is not None:
            return self.make_module(sample, reduction)
        if self.module is None:
            raise LookupError(f"{self.name} has no module twin")
        return self.module(**sample.options, reduction=reduction), sample


_REGISTRY: dict[str, LossSpec] = {}
_LOADED = False


def register(*specs: LossSpec) -> None:
    """Add specs to the registry (a duplicate name is a programming error)."""
    for spec in specs:
        if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
            raise KeyError(f"loss {spec.name!r} is registered twice")
        if spec.family not in FAMILIES:
            raise KeyError(f"unknown family {spec.family!r} for {spec.name!r}")
        _REGISTRY[spec.name] = spec


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    from . import (  # noqa: F401  (each module registers its specs)
        boxes,
        center,
        cross_entropy,
        ctc,
        dice,
        divergence,
        focal,
        hinge,
        levenshtein,
        linear_cross_entropy,
        margin,
        regression,
    )

    _LOADED = True


def all_specs(family: str | None = None) -> list[LossSpec]:
    """Every registered loss (of one family), in family order then registration order."""
    _load()
    specs = list(_REGISTRY.values())
    order = {f: i for i, f in enumerate(FAMILIES)}
    specs.sort(key=lambda s: order[s.family])
    return [s for s in specs if family is None or s.family == family]


def get_spec(name: str) -> LossSpec:
    """Look a loss up by name.

    Raises:
        KeyError: with the list of known names.
    """
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown loss {name!r}; known losses: {known}") from None
