"""losskit: loss functions for PyTorch.

Every loss exists as a function (``losskit.huber_loss``, also in :mod:`losskit.functional`) and
as a module (``losskit.nn.HuberLoss``); :mod:`losskit.compat` speaks TensorFlow-1 and Keras 3
(``losskit.compat.tf.losses.mean_squared_error(labels, predictions, weights)``), and
:mod:`losskit.metrics` holds the streaming metrics. Conventions, shared by all losses:

* ``fn(input, target, *, options..., weight=None, reduction="mean")``, options keyword-only;
* reductions ``"none" | "mean" | "sum"``; an empty ``"mean"`` is 0, connected to the graph;
* half and bfloat16 inputs are computed and returned in float32, float64 stays float64;
* shapes and dtypes are checked with clear errors; data-dependent checks (label ranges, value
  domains) can be switched off with :func:`set_validation` or ``validate=False``.

Example:
    >>> import torch, losskit
    >>> losskit.huber_loss(torch.tensor([0.5, 3.0]), torch.zeros(2))
    tensor(1.3125)
"""

from . import catalogue, compat, functional, metrics, nn
from ._core.checks import is_validation_enabled, set_validation, validation
from ._core.reduction import REDUCTIONS, Reduction
from .functional import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    "REDUCTIONS",
    "Reduction",
    "__version__",
    "catalogue",
    "compat",
    "functional",
    "is_validation_enabled",
    "metrics",
    "nn",
    "set_validation",
    "validation",
    *functional.__all__,
]
