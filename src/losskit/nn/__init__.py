"""Module twins of the functional losses (CamelCase names, same options)."""

from . import (
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
from .boxes import *  # noqa: F403
from .center import *  # noqa: F403
from .cross_entropy import *  # noqa: F403
from .ctc import *  # noqa: F403
from .dice import *  # noqa: F403
from .divergence import *  # noqa: F403
from .focal import *  # noqa: F403
from .hinge import *  # noqa: F403
from .levenshtein import *  # noqa: F403
from .linear_cross_entropy import *  # noqa: F403
from .margin import *  # noqa: F403
from .regression import *  # noqa: F403

__all__ = [
    *regression.__all__,
    *cross_entropy.__all__,
    *focal.__all__,
    *hinge.__all__,
    *divergence.__all__,
    *dice.__all__,
    *boxes.__all__,
    *ctc.__all__,
    *levenshtein.__all__,
    *margin.__all__,
    *center.__all__,
    *linear_cross_entropy.__all__,
]
