"""Shared machinery: reduction, checks, dtype rule, module base."""

from .checks import is_validation_enabled, set_validation, validation
from .dtypes import compute_dtype
from .module import Loss
from .reduction import REDUCTIONS, Reduction, reduce_loss, reduce_weighted

__all__ = [
    "REDUCTIONS",
    "Loss",
    "Reduction",
    "compute_dtype",
    "is_validation_enabled",
    "reduce_loss",
    "reduce_weighted",
    "set_validation",
    "validation",
]
