"""Shared machinery: reduction, checks, dtype rule, module base, registry."""

from .checks import is_validation_enabled, set_validation, validation
from .dtypes import compute_dtype
from .module import Loss
from .reduction import REDUCTIONS, Reduction, reduce_loss, reduce_weighted
from .registry import ErrorCase, LossSpec, Sample, all_specs, get_spec, register

__all__ = [
    "REDUCTIONS",
    "ErrorCase",
    "Loss",
    "LossSpec",
    "Reduction",
    "Sample",
    "all_specs",
    "compute_dtype",
    "get_spec",
    "is_validation_enabled",
    "reduce_loss",
    "reduce_weighted",
    "register",
    "set_validation",
    "validation",
]
