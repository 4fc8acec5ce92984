"""The Keras 3 dialect: every loss function and class of ``keras.losses`` (Keras 3.15.1, torch
backend), the usual aliases and the legacy ``ctc_batch_cost``, on the native core.

``losskit.compat.keras.mean_squared_error(y_true, y_pred)`` gives the per-sample losses
``keras.losses.mean_squared_error`` gives; ``losskit.compat.keras.MeanSquaredError()(y_true,
y_pred, sample_weight)`` the reduced loss of ``keras.losses.MeanSquaredError``. Inputs may be
torch tensors, NumPy arrays or nested lists. The differences from Keras are listed in
``docs/dialects.md``.

Example:
    >>> from losskit.compat import keras
    >>> keras.mse([[0.0, 1.0]], [[1.0, 1.0]])
    tensor([0.5000])
    >>> keras.BinaryCrossentropy()([[0.0, 1.0]], [[0.0, 1.0]])  # Keras clips p to [1e-7, 1-1e-7]
    tensor(1.0960e-07)
"""

from __future__ import annotations

from . import classes, losses
from .classes import *  # noqa: F403
from .losses import *  # noqa: F403
from .losses import (
    binary_crossentropy,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

ALIASES: dict[str, str] = {
    "bce": "binary_crossentropy",
    "BCE": "binary_crossentropy",
    "kld": "kl_divergence",
    "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
}
"""Keras' short names (``keras.losses.get`` and the legacy aliases) -> the function's name."""

bce = BCE = binary_crossentropy
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
mse = MSE = mean_squared_error
msle = MSLE = mean_squared_logarithmic_error

__all__ = [*losses.__all__, *classes.__all__, *ALIASES, "ALIASES", "classes", "losses"]
