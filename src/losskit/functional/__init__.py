"""Functional losses: ``fn(input, target, *, options..., weight=None, reduction="mean")``."""

from . import (
    box_ops,
    boxes,
    center,
    cross_entropy,
    ctc,
    ctc_decode,
    dice,
    divergence,
    focal,
    hinge,
    levenshtein,
    margin,
    regression,
)
from .box_ops import *  # noqa: F403
from .boxes import *  # noqa: F403
from .center import *  # noqa: F403
from .cross_entropy import *  # noqa: F403
from .ctc import *  # noqa: F403
from .ctc_decode import *  # noqa: F403
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
    *box_ops.__all__,
    *ctc.__all__,
    *ctc_decode.__all__,
    *levenshtein.__all__,
    *margin.__all__,
    *center.__all__,
    "linear_cross_entropy",  # noqa: F405  (the function's name hides its module's)
]
