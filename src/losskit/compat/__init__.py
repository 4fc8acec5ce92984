"""The TensorFlow-1 and Keras 3 dialects: the same calls, argument for argument, the same numbers.

:mod:`losskit.compat.tf` follows ``tf.compat.v1.losses``, ``tf.nn``, ``tf.edit_distance`` and
``tf.compat.v1.distributions``; :mod:`losskit.compat.keras` follows ``keras.losses`` of Keras 3.
Both are thin adapters: the unreduced losses come from :mod:`losskit.functional`, the reduction
from each framework's table in :mod:`losskit._core.reduction`, and errors name the dialect
function and its arguments. ``docs/dialects.md`` maps every name to its native equivalent and
lists every semantic difference.
"""

from . import keras, tf

__all__ = ["keras", "tf"]
