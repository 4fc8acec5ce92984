r"""One-dimensional curves of every loss: value and gradient against the residual, margin, logit,
probability, angle or box offset, for a few parameter values.

:data:`CURVES` maps each catalogued loss that has a 1-D curve to a :class:`Curve`: how a sweep
``x`` becomes a call of the loss, what the axis means and which parameter values to draw.
:data:`NO_CURVE` names the losses that have none, with the reason. ``losskit plot`` and the
report's gallery read both.

Example:
    >>> lines = curve_lines("huber_loss", {"delta": [1.0]}, points=5)
    >>> [line.label for line in lines]
    ['delta=1']
    >>> lines[0].value.tolist()  # at residuals -3, -1.5, 0, 1.5, 3
    [2.5, 1.0, 0.0, 1.0, 2.5]
    >>> lines[0].grad.tolist()
    [-1.0, -1.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .. import functional as F

__all__ = [
    "CURVES",
    "NO_CURVE",
    "Curve",
    "CurveLine",
    "curve_lines",
    "curve_options",
    "get_curve",
]

_NOT_OPTIONS = frozenset({"weight", "reduction", "validate", "dim", "process_group"})


@dataclass(frozen=True)
class Curve:
    """How to draw one loss along one axis.

    Attributes:
        name: the loss's catalogue name (``losskit.<name>``).
        axis: what ``x`` is (the label of the horizontal axis).
        x_range: the default sweep ``(start, end)``.
        make: ``x -> positional arguments`` of the loss (prediction, target, ...), built from
            the 1-D sweep ``x`` so that the gradient with respect to ``x`` is the curve's slope.
        grid: parameters drawn as several lines, with their values.
        fixed: options always passed (``mode="binary"``, a scale, ...).
        describe: one line: what the target is and what is held fixed.
    """

    name: str
    axis: str
    x_range: tuple[float, float]
    make: Callable[[Tensor], tuple[Any, ...]]
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    describe: str = ""


@dataclass(frozen=True)
class CurveLine:
    """One drawn line: its label, the sweep and the loss's value and gradient along it."""

    label: str
    x: Tensor
    value: Tensor
    grad: Tensor


def _zero_target(x: Tensor) -> tuple[Tensor, Tensor]:
    return x, torch.zeros_like(x)


def _rows(x: Tensor) -> tuple[Tensor, Tensor]:
    return x.unsqueeze(-1), torch.zeros_like(x).unsqueeze(-1)


def _positive(x: Tensor) -> tuple[Tensor, Tensor]:
    return x, torch.ones_like(x)


def _two_logits(x: Tensor) -> Tensor:
    return torch.stack([x, torch.zeros_like(x)], 1)


def _angle_feature(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """A feature of norm 4 at angle ``x`` from class 0's weight (1, 0); class 1's is (-1, 0)."""
    feature = 4.0 * torch.stack([torch.cos(x), torch.sin(x)], -1)
    target = torch.zeros(x.shape, dtype=torch.long)
    weight = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=x.dtype)
    return feature, target, weight


def _shifted_box(x: Tensor) -> tuple[Tensor, Tensor]:
    """A unit box slid horizontally by ``x`` against the unit box at the origin."""
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    return torch.stack([x, zeros, x + 1, ones], -1), torch.stack([zeros, zeros, ones, ones], -1)


def _pixel(x: Tensor) -> tuple[Tensor, Tensor]:
    """One-pixel binary samples: probability ``x`` predicted for a positive pixel."""
    p = x.unsqueeze(-1)
    return p, torch.ones_like(p)


_RESIDUAL = "residual e = input - target"
_LOGIT = "logit x (target 1)"
_MARGIN = "logit margin of the true class over the other (2 classes)"

_ALL: tuple[Curve, ...] = (
    # regression
    Curve("mse_loss", _RESIDUAL, (-3, 3), _zero_target),
    Curve("mae_loss", _RESIDUAL, (-3, 3), _zero_target),
    Curve("l1_loss", _RESIDUAL, (-3, 3), _rows, describe="one-element vectors"),
    Curve("l2_loss", _RESIDUAL, (-3, 3), _rows, describe="one-element vectors"),
    Curve("huber_loss", _RESIDUAL, (-3, 3), _zero_target, {"delta": (0.5, 1.0, 2.0)}),
    Curve("smooth_l1_loss", _RESIDUAL, (-3, 3), _zero_target, {"beta": (0.5, 1.0, 2.0)}),
    Curve("log_cosh_loss", _RESIDUAL, (-3, 3), _zero_target),
    Curve("quantile_loss", _RESIDUAL, (-3, 3), _zero_target, {"q": (0.1, 0.5, 0.9)}),
    Curve(
        "msle_loss",
        "prediction (target 1)",
        (-0.9, 5),
        lambda x: (x, torch.ones_like(x)),
    ),
    Curve("mape_loss", "prediction (target 1)", (-1, 3), lambda x: (x, torch.ones_like(x))),
    Curve(
        "poisson_loss",
        "log-rate prediction (count target 2)",
        (-2, 3),
        lambda x: (x, torch.full_like(x, 2.0)),
    ),
    Curve(
        "cosine_similarity_loss",
        "angle between prediction and target (radians)",
        (-math.pi, math.pi),
        lambda t: (
            torch.stack([torch.cos(t), torch.sin(t)], -1),
            torch.stack([torch.ones_like(t), torch.zeros_like(t)], -1),
        ),
    ),
    # classification
    Curve(
        "sigmoid_cross_entropy", _LOGIT, (-6, 6), _positive, {"label_smoothing": (0.0, 0.1, 0.3)}
    ),
    Curve("binary_cross_entropy", "probability p (target 1)", (0.01, 0.99), _positive),
    Curve(
        "balanced_sigmoid_cross_entropy",
        _LOGIT,
        (-6, 6),
        _positive,
        {"beta": (0.1, 0.5, 0.9)},
        describe="beta given (the default beta=None is computed from the batch)",
    ),
    Curve(
        "softmax_cross_entropy",
        _MARGIN,
        (-6, 6),
        lambda x: (_two_logits(x), torch.stack([torch.ones_like(x), torch.zeros_like(x)], 1)),
        {"label_smoothing": (0.0, 0.1, 0.3)},
    ),
    Curve(
        "sparse_softmax_cross_entropy",
        _MARGIN,
        (-6, 6),
        lambda x: (_two_logits(x), torch.zeros(x.shape, dtype=torch.long)),
        {"label_smoothing": (0.0, 0.1, 0.3)},
    ),
    Curve(
        "sigmoid_focal_loss",
        _LOGIT,
        (-6, 6),
        _positive,
        {"gamma": (0.0, 0.5, 1.0, 2.0, 5.0)},
        {"alpha": None},
        describe="alpha=None (no class weighting) so that gamma=0 is cross-entropy",
    ),
    Curve(
        "softmax_focal_loss",
        _MARGIN,
        (-6, 6),
        lambda x: (_two_logits(x), torch.zeros(x.shape, dtype=torch.long)),
        {"gamma": (0.0, 0.5, 1.0, 2.0, 5.0)},
    ),
    Curve("hinge_loss", "score x (label 1)", (-3, 3), _positive, {"margin": (0.5, 1.0, 2.0)}),
    Curve(
        "squared_hinge_loss", "score x (label 1)", (-3, 3), _positive, {"margin": (0.5, 1.0, 2.0)}
    ),
    Curve(
        "multiclass_hinge_loss",
        "score of the true class, others 0 (3 classes)",
        (-3, 3),
        lambda x: (
            torch.stack([x, torch.zeros_like(x), torch.zeros_like(x)], 1),
            torch.zeros(x.shape, dtype=torch.long),
        ),
        {"variant": ("crammer_singer", "weston_watkins")},
    ),
    Curve(
        "kl_divergence",
        "logit of class 0, class 1 at 0 (target 0.5, 0.5)",
        (-6, 6),
        lambda x: (_two_logits(x), torch.full((x.shape[0], 2), 0.5, dtype=x.dtype)),
    ),
    # segmentation
    Curve(
        "dice_loss",
        "probability predicted for a positive pixel",
        (0.0, 1.0),
        _pixel,
        {"smooth": (0.0, 0.5, 1.0)},
        describe="one-pixel binary samples",
    ),
    Curve(
        "jaccard_loss",
        "probability predicted for a positive pixel",
        (0.0, 1.0),
        _pixel,
        {"smooth": (0.0, 0.5, 1.0)},
        describe="one-pixel binary samples",
    ),
    Curve(
        "tversky_loss",
        "probability predicted for a positive pixel",
        (0.0, 1.0),
        _pixel,
        {"beta": (0.3, 0.5, 0.7)},
        {"alpha": 0.5, "smooth": 1.0},
        describe="one-pixel binary samples, alpha=0.5, smooth=1",
    ),
    # boxes
    *(
        Curve(name, "horizontal offset of a unit box from the target", (-3, 3), _shifted_box)
        for name in (
            "iou_loss",
            "generalized_box_iou_loss",
            "distance_box_iou_loss",
            "complete_box_iou_loss",
        )
    ),
    # embedding
    Curve(
        "large_margin_softmax_loss",
        "angle to the true class's weight (radians; feature norm 4, 2 classes)",
        (0, math.pi),
        _angle_feature,
        {"margin": (1, 2, 3, 4)},
    ),
    Curve(
        "sphereface_loss",
        "angle to the true class's weight (radians; feature norm 4, 2 classes)",
        (0, math.pi),
        _angle_feature,
        {"margin": (1, 2, 3, 4)},
    ),
    Curve(
        "cosface_loss",
        "angle to the true class's weight (radians; 2 classes)",
        (0, math.pi),
        _angle_feature,
        {"margin": (0.0, 0.2, 0.35)},
        {"scale": 8.0},
        describe="scale=8",
    ),
    Curve(
        "arcface_loss",
        "angle to the true class's weight (radians; 2 classes)",
        (0, math.pi),
        _angle_feature,
        {"margin": (0.0, 0.3, 0.5)},
        {"scale": 8.0},
        describe="scale=8",
    ),
    Curve(
        "center_loss",
        "distance of the feature from its class centre",
        (-3, 3),
        lambda x: (
            torch.stack([x, torch.zeros_like(x)], -1),
            torch.zeros(x.shape, dtype=torch.long),
            torch.zeros(1, 2, dtype=x.dtype),
        ),
    ),
)

CURVES: dict[str, Curve] = {c.name: c for c in _ALL}
"""Every loss with a 1-D curve, keyed by catalogue name, in catalogue order."""

NO_CURVE: dict[str, str] = {
    "ctc_loss": "a loss over alignments of whole sequences; see the report's toy CTC training",
    "edit_distance": "an integer distance between sequences, with no gradient",
    "linear_cross_entropy": "sparse_softmax_cross_entropy of a linear layer's logits, computed "
    "in chunks; its curve is that loss's",
}
"""Losses without a 1-D curve, with the reason."""


def get_curve(name: str) -> Curve:
    """The curve of ``name``.

    Raises:
        KeyError: one line naming the losses that have a curve (and why ``name`` has none, if
            it is a loss without one).
    """
    try:
        return CURVES[name]
    except KeyError:
        if name in NO_CURVE:
            reason = f"{name} has no 1-D curve ({NO_CURVE[name]})"
        else:
            reason = f"unknown loss {name!r}"
        raise KeyError(f"{reason}; losses with a curve: {', '.join(CURVES)}") from None


def curve_options(name: str) -> list[str]:
    """The keyword options of the loss that a curve may set (``--param``), sorted."""
    fn = getattr(F, get_curve(name).name)
    params = inspect.signature(fn).parameters.values()
    return sorted(p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in _NOT_OPTIONS)


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def curve_lines(
    name: str,
    params: Mapping[str, Sequence[Any]] | None = None,
    *,
    x_range: tuple[float, float] | None = None,
    points: int = 401,
) -> list[CurveLine]:
    """Value and gradient of loss ``name`` along its sweep, one line per parameter combination.

    Args:
        name: a key of :data:`CURVES`.
        params: values per option; replace the curve's grid for that option (one value: held
            fixed; several: several lines). Options not given keep the curve's grid.
        x_range: the sweep; default the curve's.
        points: sweep points.

    Returns:
        One :class:`CurveLine` per combination of the grid's values (float64).

    Raises:
        KeyError: ``name`` has no curve, or an option the loss does not take (one line naming
            the options it takes).
    """
    curve = get_curve(name)
    fn = getattr(F, curve.name)
    params = dict(params or {})
    known = curve_options(name)
    for key in params:
        if key not in known:
            raise KeyError(
                f"{name} has no option {key!r}; its options: {', '.join(known) or 'none'}"
            )
    grid = {
        **{k: list(v) for k, v in curve.grid.items()},
        **{k: list(v) for k, v in params.items()},
    }
    keys = [k for k in grid if k not in curve.fixed or k in params]
    lo, hi = x_range or curve.x_range
    lines = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        options = {**curve.fixed, **dict(zip(keys, combo, strict=True))}
        x = torch.linspace(lo, hi, points, dtype=torch.float64, requires_grad=True)
        value = fn(*curve.make(x), **options, reduction="none")
        value = value.reshape(points, -1).sum(1)
        (grad,) = torch.autograd.grad(value.sum(), x)
        label = ", ".join(f"{k}={_format(v)}" for k, v in zip(keys, combo, strict=True))
        lines.append(CurveLine(label or curve.name, x.detach(), value.detach(), grad))
    return lines
