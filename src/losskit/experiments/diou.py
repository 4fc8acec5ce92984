r"""The box-regression simulation of the DIoU paper (Zheng et al. 2020, section 3.1).

Seven unit-area target boxes centred at :math:`(10, 10)` with aspect ratios 1:4, 1:3, 1:2, 1:1,
2:1, 3:1 and 4:1; anchors at points drawn uniformly in the disc of radius 3 around
:math:`(10, 10)`, at each point 7 scales (areas 0.5, 0.67, 0.75, 1, 1.33, 1.5, 2 times the
target's) times 7 aspect ratios (the same seven), regressed towards each of the 7 targets: with
the paper's 5,000 points, :math:`5000 \cdot 7 \cdot 7 \cdot 7 = 1{,}715{,}000` cases. Each
anchor :math:`B = (x, y, w, h)` moves by gradient descent on the loss for 200 iterations,

.. math::

    B^t = B^{t-1} - \eta\,(2 - \mathrm{IoU}^{t-1})
          \,\frac{\partial L(B^{t-1}, B^{gt})}{\partial B^{t-1}},
    \qquad \eta = 0.1 \text{ (t \le 160)},\ 0.01 \text{ (t \le 180)},\ 0.001,

and the regression error at iteration :math:`t` is :math:`E(t) = \sum_{cases} |B^t - B^{gt}|_1`
(the paper's Algorithm 1; the factor :math:`2 - \mathrm{IoU}` speeds up cases far from their
target). Every case is one row of one ``(cases, 4)`` tensor: one call of the loss per
iteration moves them all.

Two gradient rules (``gradient=``):

* ``"exact"``: the autograd gradient of losskit's own :func:`~losskit.iou_loss`,
  :func:`~losskit.generalized_box_iou_loss`, :func:`~losskit.distance_box_iou_loss` and
  :func:`~losskit.complete_box_iou_loss` (CIoU with :math:`\alpha` held constant, as the paper
  prescribes).
* ``"paper"``: the same, except for CIoU's aspect-ratio term, whose gradient the paper (below
  its Eq. 12) changes: in :math:`\partial v/\partial w = -\frac{8}{\pi^2}(\arctan\frac{w^{gt}}
  {h^{gt}} - \arctan\frac{w}{h})\frac{h}{w^2 + h^2}` (and likewise for :math:`h`) the
  denominator :math:`w^2 + h^2` "is simply removed for stable convergence". This is the rule
  the paper states; the authors' released MATLAB code differs further (it maps corner
  gradients to width and height without the factor 1/2 and uses its own piecewise derivative of
  the enclosing box), which is not reproduced here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..functional import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    iou_loss,
)

__all__ = [
    "DIOU_LOSSES",
    "PAPER_CASES",
    "PAPER_CLAIM",
    "Claim",
    "DIoUResult",
    "diou_cases",
    "diou_simulation",
]

DIOU_LOSSES: tuple[str, ...] = ("iou", "giou", "diou", "ciou")
"""The losses of the simulation, in the paper's order."""

PAPER_CASES = 1_715_000
"""The number of regression cases of the paper's simulation (5,000 points)."""

PAPER_CLAIM = (
    "Zheng et al. 2020, Fig. 3: IoU loss only converges for anchors that overlap their target "
    "and leaves a large error; GIoU converges slowly (it first grows the box to overlap, then "
    "behaves like IoU); DIoU and CIoU converge much faster than GIoU, CIoU fastest and with the "
    "lowest final error."
)

_ASPECTS = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
_SCALES = (0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0)
_FOUR_OVER_PI2 = 4.0 / math.pi**2
_NAMES = {"iou": "IoU", "giou": "GIoU", "diou": "DIoU", "ciou": "CIoU"}
_LOSS_FNS: dict[str, Callable[..., Tensor]] = {
    "iou": iou_loss,
    "giou": generalized_box_iou_loss,
    "diou": distance_box_iou_loss,
    "ciou": complete_box_iou_loss,
}


@dataclass
class DIoUResult:
    """Outcome of :func:`diou_simulation`.

    Attributes:
        points: number of anchor points.
        cases: number of regression cases (``points * 343``).
        iterations: iterations per case.
        gradient: ``"exact"`` or ``"paper"``.
        errors: per loss, the total error :math:`E(t)` after each iteration (``iterations``
            floats; ``errors[loss][-1]`` is the final error).
        initial_error: :math:`E(0)`, the same for every loss.
        seconds: per loss, the wall time of its run.
    """

    points: int
    cases: int
    iterations: int
    gradient: str
    errors: dict[str, list[float]] = field(default_factory=dict)
    initial_error: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    def final(self) -> dict[str, float]:
        """The final total error of each loss."""
        return {name: e[-1] for name, e in self.errors.items()}

    def ranking(self) -> list[str]:
        """The losses from the lowest final error to the highest."""
        return sorted(self.errors, key=lambda name: self.errors[name][-1])

    def claims(self) -> list[Claim]:
        """The paper's claims (:data:`PAPER_CLAIM`) checked against this run's curves.

        "Early" is iteration ``iterations // 5`` (40 of 200). Claims about a loss that was not
        run are left out.
        """
        e, out = self.errors, []
        t = max(1, self.iterations // 5)
        if "iou" in e:
            share = e["iou"][-1] / self.initial_error
            out.append(
                Claim(
                    "IoU loss leaves a large error (non-overlapping anchors get no gradient)",
                    share > 0.1,
                    f"final IoU error {e['iou'][-1]:.3g}, {100 * share:.0f}% of the initial "
                    f"{self.initial_error:.3g}",
                )
            )
        if "giou" in e and "diou" in e:
            out.append(
                Claim(
                    "DIoU converges faster than GIoU",
                    e["diou"][t - 1] < e["giou"][t - 1],
                    f"E({t}): DIoU {e['diou'][t - 1]:.4g}, GIoU {e['giou'][t - 1]:.4g}",
                )
            )
            out.append(
                Claim(
                    "DIoU ends below GIoU",
                    e["diou"][-1] < e["giou"][-1],
                    f"final: DIoU {e['diou'][-1]:.4g}, GIoU {e['giou'][-1]:.4g}",
                )
            )
        if "ciou" in e and len(e) > 1:
            out.append(
                Claim(
                    "CIoU ends lowest",
                    self.ranking()[0] == "ciou",
                    "final: " + ", ".join(f"{_NAMES[n]} {v[-1]:.4g}" for n, v in e.items()),
                )
            )
        return out


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, whether this run supports it, and the numbers that say so."""

    claim: str
    holds: bool
    evidence: str


def diou_cases(
    points: int, *, seed: int = 0, dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor]:
    """The simulation's anchors and targets as aligned ``(points * 343, 4)`` ``cxcywh`` boxes.

    Args:
        points: anchor points drawn uniformly in the disc of radius 3 around (10, 10).
        seed: seed of the point draw.
        dtype: floating dtype of the boxes.

    Returns:
        ``(anchors, targets)``; row ``i`` of ``anchors`` regresses towards row ``i`` of
        ``targets``.

    Example:
        >>> anchors, targets = diou_cases(2)
        >>> anchors.shape, targets.shape
        (torch.Size([686, 4]), torch.Size([686, 4]))
        >>> targets[:, 2].mul(targets[:, 3]).allclose(torch.ones(686))  # unit-area targets
        True
    """
    if points < 1:
        raise ValueError(f"diou_cases: points must be >= 1, got {points}")
    gen = torch.Generator().manual_seed(seed)
    r = 3.0 * torch.rand(points, generator=gen, dtype=torch.float64).sqrt()
    theta = 2 * math.pi * torch.rand(points, generator=gen, dtype=torch.float64)
    cx, cy = 10 + r * theta.cos(), 10 + r * theta.sin()
    aspect = torch.tensor(_ASPECTS, dtype=torch.float64)
    scale = torch.tensor(_SCALES, dtype=torch.float64)
    # Index order: point, target aspect, anchor scale, anchor aspect.
    shape = (points, 7, 7, 7)
    t_aspect = aspect.view(1, 7, 1, 1).expand(shape)
    a_scale = scale.view(1, 1, 7, 1).expand(shape)
    a_aspect = aspect.view(1, 1, 1, 7).expand(shape)
    # Unit-area targets: w = sqrt(a), h = 1 / sqrt(a); anchors of area s (the target's is 1).
    t_w, t_h = t_aspect.sqrt(), t_aspect.rsqrt()
    a_w, a_h = (a_scale * a_aspect).sqrt(), (a_scale / a_aspect).sqrt()
    px, py = cx.view(-1, 1, 1, 1).expand(shape), cy.view(-1, 1, 1, 1).expand(shape)
    anchors = torch.stack([px, py, a_w, a_h], -1).reshape(-1, 4)
    tens = torch.full(shape, 10.0, dtype=torch.float64)
    targets = torch.stack([tens, tens, t_w, t_h], -1).reshape(-1, 4)
    return anchors.to(dtype), targets.to(dtype)


def _step_size(t: int, iterations: int) -> float:
    """0.1 for the first 80% of the iterations, 0.01 to 90%, then 0.001 (iteration ``t >= 1``)."""
    if t <= 0.8 * iterations:
        return 0.1
    if t <= 0.9 * iterations:
        return 0.01
    return 0.001


def _paper_ciou_grad(boxes: Tensor, targets: Tensor) -> Tensor:
    """Gradient of CIoU loss with the paper's aspect term: DIoU's autograd gradient plus
    :math:`\\alpha\\,\\partial v` with the denominator :math:`w^2 + h^2` removed."""
    b = boxes.detach().requires_grad_(True)
    loss = distance_box_iou_loss(b, targets, box_format="cxcywh", reduction="sum", validate=False)
    (grad,) = torch.autograd.grad(loss, b)
    with torch.no_grad():
        iou = 1 - iou_loss(b, targets, box_format="cxcywh", reduction="none", validate=False)
        w, h = boxes[:, 2], boxes[:, 3]
        delta = torch.atan(targets[:, 2] / targets[:, 3]) - torch.atan(w / h.clamp_min(1e-12))
        v = _FOUR_OVER_PI2 * delta.square()
        alpha = v / (1 - iou + v + 1e-7)
        # d v/dw = -8/pi^2 delta h / (w^2 + h^2); the paper drops the denominator.
        grad[:, 2] += alpha * (-2 * _FOUR_OVER_PI2) * delta * h
        grad[:, 3] += alpha * (2 * _FOUR_OVER_PI2) * delta * w
    return grad


def diou_simulation(
    points: int = 1000,
    *,
    losses: Sequence[str] = DIOU_LOSSES,
    iterations: int = 200,
    gradient: str = "exact",
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    progress: Callable[[int], object] | None = None,
) -> DIoUResult:
    """Run the DIoU paper's box-regression simulation (see the module docstring).

    Args:
        points: anchor points (the paper: 5,000, i.e. 1,715,000 cases).
        losses: which of :data:`DIOU_LOSSES` to run.
        iterations: gradient steps per case (the paper: 200).
        gradient: ``"exact"`` (autograd of losskit's losses) or ``"paper"`` (CIoU's aspect term
            without its :math:`w^2 + h^2` denominator, as the paper states).
        seed: seed of the anchor points.
        dtype: compute dtype of the boxes.
        progress: called with ``1`` after every iteration of every loss (a progress bar's
            ``update``).

    Returns:
        A :class:`DIoUResult` with the error curve of each loss.

    Example:
        >>> result = diou_simulation(2, losses=("diou",), iterations=20)
        >>> result.cases
        686
        >>> result.final()["diou"] < result.initial_error
        True
    """
    unknown = [name for name in losses if name not in _LOSS_FNS]
    if unknown:
        raise ValueError(
            f"diou_simulation: losses must be among {', '.join(DIOU_LOSSES)}, got {unknown[0]!r}"
        )
    if gradient not in ("exact", "paper"):
        raise ValueError(f"diou_simulation: gradient must be 'exact' or 'paper', got {gradient!r}")
    anchors, targets = diou_cases(points, seed=seed, dtype=dtype)
    result = DIoUResult(points, anchors.shape[0], iterations, gradient)
    result.initial_error = float((anchors - targets).abs().sum(dtype=torch.float64))
    for name in losses:
        fn = _LOSS_FNS[name]
        start = time.perf_counter()
        boxes = anchors.clone()
        curve: list[float] = []
        for t in range(1, iterations + 1):
            if gradient == "paper" and name == "ciou":
                grad = _paper_ciou_grad(boxes, targets)
            else:
                b = boxes.requires_grad_(True)
                loss = fn(b, targets, box_format="cxcywh", reduction="sum", validate=False)
                (grad,) = torch.autograd.grad(loss, b)
            with torch.no_grad():
                iou = 1 - iou_loss(
                    boxes, targets, box_format="cxcywh", reduction="none", validate=False
                )
                boxes = boxes.detach() - _step_size(t, iterations) * (2 - iou).unsqueeze(-1) * grad
                curve.append(float((boxes - targets).abs().sum(dtype=torch.float64)))
            if progress is not None:
                progress(1)
        result.errors[name] = curve
        result.seconds[name] = time.perf_counter() - start
    return result
