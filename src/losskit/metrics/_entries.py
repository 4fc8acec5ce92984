"""Catalogue entries of :mod:`losskit.metrics` (imported by :mod:`losskit.compat._entries`)."""

from __future__ import annotations

from .. import catalogue, metrics

_ROWS = """
MeanSquaredError | regression | tf.compat.v1.metrics.mean_squared_error / root_mean_squared_error
MeanAbsoluteError | regression | tf.compat.v1.metrics.mean_absolute_error
EditDistance | sequence | mean of tf.edit_distance
WordErrorRate | sequence | torchmetrics.text.WordErrorRate
CharErrorRate | sequence | torchmetrics.text.CharErrorRate
"""

for _row in _ROWS.strip().splitlines():
    _name, _family, _reference = (c.strip() for c in _row.split("|"))
    catalogue.add(
        catalogue.Entry(f"metrics.{_name}", "metric", _family, getattr(metrics, _name), _reference)
    )
