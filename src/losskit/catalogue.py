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
    >>> [e.name for e in catalogue.entries(kind="decoder")]  # doctest: +NORMALIZE_WHITESPACE
    ['ctc_greedy_decode', 'ctc_beam_search_decode', 'compat.tf.nn.ctc_greedy_decoder',
     'compat.tf.nn.ctc_beam_search_decoder']
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
    "distributed",
)
"""Families, in the order the command line lists them (``distributed``: the collective helpers
of :mod:`losskit.distributed`)."""


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


# The native entries by [family]: name | kind | module twin in losskit.nn ("-": none) | reference
# (``F`` is torch.nn.functional).
_NATIVE = """
[regression]
mse_loss | loss | MSELoss | torch.nn.functional.mse_loss
mae_loss | loss | MAELoss | torch.nn.functional.l1_loss
l1_loss | loss | L1Loss | the survey's L1 loss (sum of |e| along dim)
l2_loss | loss | L2Loss | the survey's L2 loss (sqrt of sum e^2)
huber_loss | loss | HuberLoss | torch.nn.functional.huber_loss
smooth_l1_loss | loss | SmoothL1Loss | torch.nn.functional.smooth_l1_loss
log_cosh_loss | loss | LogCoshLoss | keras.losses.log_cosh
quantile_loss | loss | QuantileLoss | Koenker & Bassett 1978 (pinball)
msle_loss | loss | MSLELoss | keras.losses.mean_squared_logarithmic_error
mape_loss | loss | MAPELoss | keras.losses.mean_absolute_percentage_error
poisson_loss | loss | PoissonLoss | torch.nn.functional.poisson_nll_loss
cosine_similarity_loss | loss | CosineSimilarityLoss | 1 - torch.nn.functional.cosine_similarity
[classification]
sigmoid_cross_entropy | loss | SigmoidCrossEntropyLoss | tf.losses.sigmoid_cross_entropy (TF1)
binary_cross_entropy | loss | BinaryCrossEntropyLoss | F.binary_cross_entropy
balanced_sigmoid_cross_entropy | loss | BalancedSigmoidCrossEntropyLoss | Xie & Tu 2015 (HED)
softmax_cross_entropy | loss | SoftmaxCrossEntropyLoss | F.cross_entropy (probabilities)
sparse_softmax_cross_entropy | loss | SparseSoftmaxCrossEntropyLoss | F.cross_entropy (indices)
linear_cross_entropy | loss | LinearCrossEntropyLoss | F.cross_entropy(F.linear(...)); CCE
sigmoid_focal_loss | loss | SigmoidFocalLoss | torchvision.ops; Lin et al. 2017
softmax_focal_loss | loss | SoftmaxFocalLoss | Lin et al. 2017 (focal loss)
hinge_loss | loss | HingeLoss | tf.compat.v1.losses.hinge_loss
squared_hinge_loss | loss | SquaredHingeLoss | keras.losses.squared_hinge
multiclass_hinge_loss | loss | MulticlassHingeLoss | Crammer & Singer 2001; Weston 1999
kl_divergence | loss | KLDivergence | torch.nn.functional.kl_div
[segmentation]
dice_loss | loss | DiceLoss | Milletari et al. 2016 (V-Net); MONAI
jaccard_loss | loss | JaccardLoss | Rahman & Wang 2016 (soft IoU)
tversky_loss | loss | TverskyLoss | Salehi et al. 2017
dice_coefficient | op | - | the survey's dice_coefficient
overlap_statistics | statistic | - | soft TP/FP/FN sums (MONAI)
overlap_score | statistic | - | Tversky index of TP/FP/FN sums
[boxes]
iou_loss | loss | IoULoss | torchvision.ops (1 - IoU)
generalized_box_iou_loss | loss | GeneralizedBoxIoULoss | torchvision.ops; Rezatofighi 2019
distance_box_iou_loss | loss | DistanceBoxIoULoss | torchvision.ops; Zheng 2020
complete_box_iou_loss | loss | CompleteBoxIoULoss | torchvision.ops; Zheng 2020
box_iou | op | - | torchvision.ops.box_iou
generalized_box_iou | op | - | torchvision.ops.generalized_box_iou
distance_box_iou | op | - | torchvision.ops.distance_box_iou
complete_box_iou | op | - | torchvision.ops.complete_box_iou
nms | op | - | torchvision.ops.nms; DIoU-NMS of Zheng et al. 2020
batched_nms | op | - | torchvision.ops.batched_nms
box_convert | op | - | torchvision.ops.box_convert
[sequence]
ctc_loss | loss | CTCLoss | torch.nn.functional.ctc_loss; Graves et al. 2006
ctc_greedy_decode | decoder | - | tf.nn.ctc_greedy_decoder
ctc_beam_search_decode | decoder | - | tf.nn.ctc_beam_search_decoder
CTCDecoding | type | - | tf.nn.ctc_greedy_decoder outputs
edit_distance | loss | EditDistance | tf.edit_distance
[embedding]
large_margin_softmax_loss | loss | LargeMarginSoftmaxLoss | Liu et al. 2016 (L-Softmax)
large_margin_psi | op | - | Liu et al. 2016, psi(theta)
sphereface_loss | loss | SphereFaceLoss | Liu et al. 2017, SphereFace
cosface_loss | loss | CosFaceLoss | Wang et al. 2018, CosFace
arcface_loss | loss | ArcFaceLoss | Deng et al. 2019, ArcFace
center_loss | loss | CenterLoss | Wen et al. 2016, centre loss
center_update_statistics | statistic | - | Wen et al. 2016, centre update (statistics)
apply_center_update | statistic | - | Wen et al. 2016, centre update rule
"""


def _catalogue_native() -> None:
    family = ""
    for row in _NATIVE.strip().splitlines():
        if row.startswith("["):
            family = row.strip("[]")
            continue
        name, kind, module, reference = (cell.strip() for cell in row.split("|", 3))
        module = "" if module == "-" else module
        obj = getattr(F, name)
        twin = f"nn.{module}" if module else None
        add(Entry(name, kind, family, obj, reference, twin))
        if module:
            add(Entry(f"nn.{module}", kind, family, getattr(nn, module), reference, name))


_catalogue_native()

from . import distributed  # noqa: E402, F401  (adds its entries)
from .compat import _entries as _dialect_entries  # noqa: E402,F401  (dialects and metrics)
