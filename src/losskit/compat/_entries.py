"""Catalogue entries of the dialects (``compat.tf...``, ``compat.keras...``) and, through
:mod:`losskit.metrics._entries`, of the metrics. :mod:`losskit.catalogue` imports this module.

One row per public name: ``name | kind | family [| reference]`` (the reference defaults to
``tf.compat.v1.<name>``); the summary is the first line of the object's docstring.
"""

from __future__ import annotations

from typing import Any

from .. import catalogue
from . import keras, tf

_TF = """
losses.Reduction | type | regression
losses.compute_weighted_loss | op | regression
losses.absolute_difference | loss | regression
losses.mean_squared_error | loss | regression
losses.huber_loss | loss | regression
losses.log_loss | loss | classification
losses.hinge_loss | loss | classification
losses.sigmoid_cross_entropy | loss | classification
losses.softmax_cross_entropy | loss | classification
losses.sparse_softmax_cross_entropy | loss | classification
nn.sigmoid_cross_entropy_with_logits | loss | classification
nn.weighted_cross_entropy_with_logits | loss | classification
nn.softmax_cross_entropy_with_logits | loss | classification
nn.sparse_softmax_cross_entropy_with_logits | loss | classification
nn.l2_loss | loss | regression | tf.nn.l2_loss
nn.ctc_loss | loss | sequence
nn.ctc_loss_v2 | loss | sequence | tf.nn.ctc_loss (TensorFlow 2)
nn.ctc_greedy_decoder | decoder | sequence | tf.nn.ctc_greedy_decoder
nn.ctc_beam_search_decoder | decoder | sequence
edit_distance | op | sequence | tf.edit_distance
SparseTensor | op | sequence | tf.SparseTensor (as a torch sparse COO tensor)
distributions.kl_divergence | loss | classification
"""

# Keras: function | class | family
_KERAS = """
binary_crossentropy | BinaryCrossentropy | classification
binary_focal_crossentropy | BinaryFocalCrossentropy | classification
categorical_crossentropy | CategoricalCrossentropy | classification
categorical_focal_crossentropy | CategoricalFocalCrossentropy | classification
categorical_generalized_cross_entropy | CategoricalGeneralizedCrossEntropy | classification
categorical_hinge | CategoricalHinge | classification
circle | Circle | embedding
cosine_similarity | CosineSimilarity | regression
ctc | CTC | sequence
dice | Dice | segmentation
hinge | Hinge | classification
huber | Huber | regression
kl_divergence | KLDivergence | classification
log_cosh | LogCosh | regression
mean_absolute_error | MeanAbsoluteError | regression
mean_absolute_percentage_error | MeanAbsolutePercentageError | regression
mean_squared_error | MeanSquaredError | regression
mean_squared_logarithmic_error | MeanSquaredLogarithmicError | regression
poisson | Poisson | regression
sparse_categorical_crossentropy | SparseCategoricalCrossentropy | classification
squared_hinge | SquaredHinge | classification
tversky | Tversky | segmentation
"""


def _resolve(root: Any, dotted: str) -> Any:
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _add_tf() -> None:
    for row in _TF.strip().splitlines():
        name, kind, family, *rest = (c.strip() for c in row.split("|"))
        reference = rest[0] if rest else f"tf.compat.v1.{name}"
        catalogue.add(
            catalogue.Entry(f"compat.tf.{name}", kind, family, _resolve(tf, name), reference)
        )


def _add_keras() -> None:
    families = {}
    for row in _KERAS.strip().splitlines():
        function, cls, family = (c.strip() for c in row.split("|"))
        families[function] = family
        fname, cname = f"compat.keras.{function}", f"compat.keras.{cls}"
        ref = f"keras.losses.{function} (Keras 3.15.1)"
        catalogue.add(
            catalogue.Entry(fname, "loss", family, getattr(keras, function), ref, cname),
            catalogue.Entry(
                cname, "loss", family, getattr(keras, cls), f"keras.losses.{cls}", fname
            ),
        )
    for alias, function in keras.ALIASES.items():
        catalogue.add(
            catalogue.Entry(
                f"compat.keras.{alias}",
                "loss",
                families[function],
                getattr(keras, alias),
                f"alias of keras.losses.{function}",
            )
        )
    catalogue.add(
        catalogue.Entry(
            "compat.keras.ctc_batch_cost",
            "loss",
            "sequence",
            keras.ctc_batch_cost,
            "keras.backend.ctc_batch_cost (legacy, TensorFlow backend)",
        )
    )


_add_tf()
_add_keras()

from ..metrics import _entries  # noqa: E402,F401  (the metrics' entries)
