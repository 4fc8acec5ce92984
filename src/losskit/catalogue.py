"""The catalogue: one entry for every public callable of losskit.

Each entry has a qualified name (``hinge_loss``, ``nn.HingeLoss``, later
``compat.tf.losses.hinge_loss`` and ``metrics.MeanSquaredError``), a kind (:data:`KINDS`), a
family (:data:`FAMILIES`), a one-line summary (the first line of the object's docstring, so it is
written once) and the reference it follows. ``losskit list`` reads it; the test tree keys its
specs (samples, error tables, reference implementations) by the same names and fails when a public
name has no entry or an entry has no spec.

The catalogue lives above the layers it describes: this module imports :mod:`losskit.functional`
and :mod:`losskit.nn` explicitly (no import by name), and each later layer (dialects, metrics,
distributed) adds its entries with :func:`add` from a module this one imports.

Example:
    >>> from losskit import catalogue
    >>> entry = catalogue.get("huber_loss")
    >>> entry.kind, entry.family, entry.twin
    ('loss', 'regression', 'nn.HuberLoss')
    >>> [e.name for e in catalogue.entries(kind="decoder")]
    ['ctc_greedy_decode', 'ctc_beam_search_decode']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import functional as F
from . import nn

__all__ = ["FAMILIES", "KINDS", "Entry", "add", "entries", "get"]

KINDS: tuple[str, ...] = ("loss", "op", "decoder", "statistic", "metric", "type")
"""``loss``: a loss function or module; ``op``: a non-loss computation (pairwise box overlaps,
NMS, scores); ``decoder``: turns model outputs into sequences; ``statistic``: the statistics
half of a statistics-then-finalise pair (what metrics accumulate and the distributed layer
all-reduces); ``metric``: a streaming metric; ``type``: a public result type."""

FAMILIES: tuple[str, ...] = (
    "regression",
    "classification",
    "segmentation",
    "boxes",
    "sequence",
    "embedding",
)
"""Families, in the order the command line lists them."""


@dataclass(frozen=True)
class Entry:
    """One public callable.

    Attributes:
        name: qualified name relative to ``losskit`` (``"hinge_loss"``, ``"nn.HingeLoss"``).
        kind: one of :data:`KINDS`.
        family: one of :data:`FAMILIES`.
        obj: the callable itself.
        reference: the framework function or paper it follows.
        twin: the qualified name of its functional or module twin, if any.
    """

    name: str
    kind: str
    family: str
    obj: Callable[..., Any]
    reference: str
    twin: str | None = None

    @property
    def summary(self) -> str:
        """The first line of the object's docstring."""
        doc = inspect.getdoc(self.obj) or ""
        return doc.strip().splitlines()[0].strip() if doc.strip() else ""

    def as_dict(self) -> dict[str, str]:
        """The entry as plain strings (``losskit list --json``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "family": self.family,
            "summary": self.summary,
            "reference": self.reference,
            "twin": self.twin or "",
        }


_ENTRIES: dict[str, Entry] = {}


def add(*new: Entry) -> None:
    """Add entries (a duplicate name, an unknown kind or family is a programming error)."""
    for entry in new:
        if entry.name in _ENTRIES and _ENTRIES[entry.name] != entry:
            raise KeyError(f"catalogue: {entry.name!r} is catalogued twice")
        if entry.kind not in KINDS:
            raise KeyError(f"catalogue: unknown kind {entry.kind!r} for {entry.name!r}")
        if entry.family not in FAMILIES:
            raise KeyError(f"catalogue: unknown family {entry.family!r} for {entry.name!r}")
        _ENTRIES[entry.name] = entry


def entries(kind: str | None = None, family: str | None = None) -> list[Entry]:
    """Every entry (of one kind, of one family), in family order then catalogue order."""
    order = {f: i for i, f in enumerate(FAMILIES)}
    found = [
        e
        for e in _ENTRIES.values()
        if (kind is None or e.kind == kind) and (family is None or e.family == family)
    ]
    return sorted(found, key=lambda e: order[e.family])


def get(name: str) -> Entry:
    """Look an entry up by qualified name.

    Raises:
        KeyError: naming the known entries.
    """
    try:
        return _ENTRIES[name]
    except KeyError:
        known = ", ".join(sorted(_ENTRIES))
        raise KeyError(f"catalogue: unknown name {name!r}; known: {known}") from None


# name, kind, family, module twin (in losskit.nn) or "", reference
_NATIVE: tuple[tuple[str, str, str, str, str], ...] = (
    ("mse_loss", "loss", "regression", "MSELoss", "torch.nn.functional.mse_loss"),
    ("mae_loss", "loss", "regression", "MAELoss", "torch.nn.functional.l1_loss"),
    ("l1_loss", "loss", "regression", "L1Loss", "the survey's L1 loss (sum of |e| along dim)"),
    ("l2_loss", "loss", "regression", "L2Loss", "the survey's L2 loss (sqrt of sum e^2)"),
    ("huber_loss", "loss", "regression", "HuberLoss", "torch.nn.functional.huber_loss"),
    ("smooth_l1_loss", "loss", "regression", "SmoothL1Loss", "torch.nn.functional.smooth_l1_loss"),
    ("log_cosh_loss", "loss", "regression", "LogCoshLoss", "keras.losses.log_cosh"),
    ("quantile_loss", "loss", "regression", "QuantileLoss", "Koenker & Bassett 1978 (pinball)"),
    ("msle_loss", "loss", "regression", "MSLELoss", "keras.losses.mean_squared_logarithmic_error"),
    ("mape_loss", "loss", "regression", "MAPELoss", "keras.losses.mean_absolute_percentage_error"),
    ("poisson_loss", "loss", "regression", "PoissonLoss", "torch.nn.functional.poisson_nll_loss"),
    (
        "cosine_similarity_loss",
        "loss",
        "regression",
        "CosineSimilarityLoss",
        "torch.nn.functional.cosine_similarity",
    ),
    (
        "sigmoid_cross_entropy",
        "loss",
        "classification",
        "SigmoidCrossEntropyLoss",
        "tf.compat.v1.losses.sigmoid_cross_entropy",
    ),
    (
        "binary_cross_entropy",
        "loss",
        "classification",
        "BinaryCrossEntropyLoss",
        "torch.nn.functional.binary_cross_entropy",
    ),
    (
        "balanced_sigmoid_cross_entropy",
        "loss",
        "classification",
        "BalancedSigmoidCrossEntropyLoss",
        "Xie & Tu 2015, Holistically-Nested Edge Detection",
    ),
    (
        "softmax_cross_entropy",
        "loss",
        "classification",
        "SoftmaxCrossEntropyLoss",
        "torch.nn.functional.cross_entropy (probability targets)",
    ),
    (
        "sparse_softmax_cross_entropy",
        "loss",
        "classification",
        "SparseSoftmaxCrossEntropyLoss",
        "torch.nn.functional.cross_entropy (class indices)",
    ),
    (
        "sigmoid_focal_loss",
        "loss",
        "classification",
        "SigmoidFocalLoss",
        "torchvision.ops.sigmoid_focal_loss; Lin et al. 2017",
    ),
    (
        "softmax_focal_loss",
        "loss",
        "classification",
        "SoftmaxFocalLoss",
        "Lin et al. 2017, Focal Loss for Dense Object Detection",
    ),
    ("hinge_loss", "loss", "classification", "HingeLoss", "tf.compat.v1.losses.hinge_loss"),
    (
        "squared_hinge_loss",
        "loss",
        "classification",
        "SquaredHingeLoss",
        "keras.losses.squared_hinge",
    ),
    (
        "multiclass_hinge_loss",
        "loss",
        "classification",
        "MulticlassHingeLoss",
        "Crammer & Singer 2001; Weston & Watkins 1999",
    ),
    ("kl_divergence", "loss", "classification", "KLDivergence", "torch.nn.functional.kl_div"),
    ("dice_loss", "loss", "segmentation", "DiceLoss", "Milletari et al. 2016 (V-Net); MONAI"),
    ("jaccard_loss", "loss", "segmentation", "JaccardLoss", "Rahman & Wang 2016 (soft IoU)"),
    ("tversky_loss", "loss", "segmentation", "TverskyLoss", "Salehi et al. 2017"),
    ("dice_coefficient", "op", "segmentation", "", "the survey's dice_coefficient"),
    ("overlap_statistics", "statistic", "segmentation", "", "soft TP/FP/FN sums (MONAI)"),
    ("overlap_score", "statistic", "segmentation", "", "Tversky index of TP/FP/FN sums"),
    ("iou_loss", "loss", "boxes", "IoULoss", "torchvision.ops (1 - IoU)"),
    (
        "generalized_box_iou_loss",
        "loss",
        "boxes",
        "GeneralizedBoxIoULoss",
        "torchvision.ops.generalized_box_iou_loss; Rezatofighi et al. 2019",
    ),
    (
        "distance_box_iou_loss",
        "loss",
        "boxes",
        "DistanceBoxIoULoss",
        "torchvision.ops.distance_box_iou_loss; Zheng et al. 2020",
    ),
    (
        "complete_box_iou_loss",
        "loss",
        "boxes",
        "CompleteBoxIoULoss",
        "torchvision.ops.complete_box_iou_loss; Zheng et al. 2020",
    ),
    ("box_iou", "op", "boxes", "", "torchvision.ops.box_iou"),
    ("generalized_box_iou", "op", "boxes", "", "torchvision.ops.generalized_box_iou"),
    ("distance_box_iou", "op", "boxes", "", "torchvision.ops.distance_box_iou"),
    ("complete_box_iou", "op", "boxes", "", "torchvision.ops.complete_box_iou"),
    ("nms", "op", "boxes", "", "torchvision.ops.nms; DIoU-NMS of Zheng et al. 2020"),
    ("batched_nms", "op", "boxes", "", "torchvision.ops.batched_nms"),
    ("box_convert", "op", "boxes", "", "torchvision.ops.box_convert"),
    ("ctc_loss", "loss", "sequence", "CTCLoss", "torch.nn.functional.ctc_loss; Graves et al. 2006"),
    ("ctc_greedy_decode", "decoder", "sequence", "", "tf.nn.ctc_greedy_decoder"),
    ("ctc_beam_search_decode", "decoder", "sequence", "", "tf.nn.ctc_beam_search_decoder"),
    ("CTCDecoding", "type", "sequence", "", "tf.nn.ctc_greedy_decoder outputs"),
    ("edit_distance", "loss", "sequence", "EditDistance", "tf.edit_distance"),
    (
        "large_margin_softmax_loss",
        "loss",
        "embedding",
        "LargeMarginSoftmaxLoss",
        "Liu et al. 2016, Large-Margin Softmax Loss",
    ),
    ("large_margin_psi", "op", "embedding", "", "Liu et al. 2016, psi(theta)"),
    ("sphereface_loss", "loss", "embedding", "SphereFaceLoss", "Liu et al. 2017, SphereFace"),
    ("cosface_loss", "loss", "embedding", "CosFaceLoss", "Wang et al. 2018, CosFace"),
    ("arcface_loss", "loss", "embedding", "ArcFaceLoss", "Deng et al. 2019, ArcFace"),
    ("center_loss", "loss", "embedding", "CenterLoss", "Wen et al. 2016, centre loss"),
    (
        "center_update_statistics",
        "statistic",
        "embedding",
        "",
        "Wen et al. 2016, centre update (statistics)",
    ),
    ("apply_center_update", "statistic", "embedding", "", "Wen et al. 2016, centre update rule"),
)


def _catalogue_native() -> None:
    for name, kind, family, module, reference in _NATIVE:
        obj = getattr(F, name, None)
        if obj is None:  # a name of a later release of this table: not public here
            continue
        twin = f"nn.{module}" if module else None
        add(Entry(name, kind, family, obj, reference, twin))
        if module:
            add(Entry(f"nn.{module}", kind, family, getattr(nn, module), reference, name))


_catalogue_native()
