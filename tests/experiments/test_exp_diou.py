"""The DIoU simulation: its cases and its update rule against an independent float64 loop."""

from __future__ import annotations

import math

import pytest
import torch

from losskit.experiments.diou import PAPER_CASES, diou_cases, diou_simulation

ASPECTS = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
SCALES = (0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0)


def test_cases_follow_the_paper() -> None:
    anchors, targets = diou_cases(30, dtype=torch.float64)
    assert anchors.shape == targets.shape == (30 * 343, 4)
    assert torch.allclose(targets[:, :2], torch.full_like(targets[:, :2], 10.0))
    t_area, a_area = targets[:, 2] * targets[:, 3], anchors[:, 2] * anchors[:, 3]
    torch.testing.assert_close(t_area, torch.ones_like(t_area))
    assert sorted({round(v, 6) for v in (targets[:, 2] / targets[:, 3]).tolist()}) == [
        round(a, 6) for a in ASPECTS
    ]
    assert sorted({round(v, 6) for v in a_area.tolist()}) == [round(s, 6) for s in SCALES]
    assert sorted({round(v, 6) for v in (anchors[:, 2] / anchors[:, 3]).tolist()}) == [
        round(a, 6) for a in ASPECTS
    ]
    r = (anchors[:, :2] - 10).norm(dim=1)
    assert r.max() <= 3
    assert len({tuple(p) for p in anchors[:, :2].tolist()}) == 30


def test_full_set_is_the_paper_count() -> None:
    anchors, _ = diou_cases(5000)
    assert anchors.shape[0] == PAPER_CASES == 1_715_000


def _textbook(p: torch.Tensor, t: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss per case and IoU, from (cx, cy, w, h), written out per coordinate."""
    px1, px2 = p[:, 0] - p[:, 2] / 2, p[:, 0] + p[:, 2] / 2
    py1, py2 = p[:, 1] - p[:, 3] / 2, p[:, 1] + p[:, 3] / 2
    tx1, tx2 = t[:, 0] - t[:, 2] / 2, t[:, 0] + t[:, 2] / 2
    ty1, ty2 = t[:, 1] - t[:, 3] / 2, t[:, 1] + t[:, 3] / 2
    iw = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(min=0)
    ih = (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(min=0)
    inter = iw * ih
    union = p[:, 2] * p[:, 3] + t[:, 2] * t[:, 3] - inter
    iou = inter / (union + 1e-7)
    cw = torch.max(px2, tx2) - torch.min(px1, tx1)
    ch = torch.max(py2, ty2) - torch.min(py1, ty1)
    if kind == "iou":
        return 1 - iou, iou
    if kind == "giou":
        area = cw * ch
        return 1 - iou + (area - union) / (area + 1e-7), iou
    rho2 = (p[:, 0] - t[:, 0]) ** 2 + (p[:, 1] - t[:, 1]) ** 2
    c2 = cw**2 + ch**2 + 1e-7
    loss = 1 - iou + rho2 / c2
    if kind == "ciou":
        v = 4 / math.pi**2 * (torch.atan(t[:, 2] / t[:, 3]) - torch.atan(p[:, 2] / p[:, 3])) ** 2
        with torch.no_grad():
            alpha = v / (1 - iou + v + 1e-7)
        loss = loss + alpha * v
    return loss, iou


@pytest.mark.parametrize("kind", ["iou", "giou", "diou", "ciou"])
def test_errors_follow_the_update_rule(kind: str) -> None:
    iterations = 10
    result = diou_simulation(1, losses=(kind,), iterations=iterations, dtype=torch.float64)
    anchors, targets = diou_cases(1, dtype=torch.float64)
    boxes, errors = anchors.clone(), []
    for t in range(1, iterations + 1):
        b = boxes.clone().requires_grad_(True)
        loss, iou = _textbook(b, targets, kind)
        (grad,) = torch.autograd.grad(loss.sum(), b)
        eta = 0.1 if t <= 0.8 * iterations else 0.01 if t <= 0.9 * iterations else 0.001
        boxes = boxes - eta * (2 - iou.detach()).unsqueeze(-1) * grad
        errors.append(float((boxes - targets).abs().sum()))
    assert result.initial_error == pytest.approx(float((anchors - targets).abs().sum()))
    assert result.errors[kind] == pytest.approx(errors, rel=1e-6)


def test_paper_rule_drops_the_aspect_denominator() -> None:
    """The first step (η = 0.1) of CIoU with the paper's rule: α ∂v scaled by (w² + h²)."""
    exact = diou_simulation(1, losses=("ciou",), iterations=10, dtype=torch.float64)
    paper = diou_simulation(
        1, losses=("ciou",), iterations=10, gradient="paper", dtype=torch.float64
    )
    anchors, targets = diou_cases(1, dtype=torch.float64)
    b = anchors.clone().requires_grad_(True)
    loss, iou = _textbook(b, targets, "diou")
    (g_diou,) = torch.autograd.grad(loss.sum(), b)
    w, h = anchors[:, 2], anchors[:, 3]
    delta = torch.atan(targets[:, 2] / targets[:, 3]) - torch.atan(w / h)
    v = 4 / math.pi**2 * delta**2
    alpha = v / (1 - iou.detach() + v + 1e-7)
    g = g_diou.clone()
    g[:, 2] += alpha * (-8 / math.pi**2) * delta * h  # (w² + h²) ∂v/∂w
    g[:, 3] += alpha * (8 / math.pi**2) * delta * w
    boxes = anchors - 0.1 * (2 - iou.detach()).unsqueeze(-1) * g
    assert paper.errors["ciou"][0] == pytest.approx(float((boxes - targets).abs().sum()), rel=1e-9)
    assert paper.errors["ciou"][0] != pytest.approx(exact.errors["ciou"][0], rel=1e-6)


def test_claims_are_checked_from_the_curves() -> None:
    result = diou_simulation(3, iterations=30)
    claims = {c.claim: c for c in result.claims()}
    assert len(claims) == 4
    e = result.errors
    assert claims["DIoU ends below GIoU"].holds == (e["diou"][-1] < e["giou"][-1])
    assert claims["CIoU ends lowest"].holds == (result.ranking()[0] == "ciou")
    assert result.ranking() == sorted(e, key=lambda k: e[k][-1])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="losses must be among iou, giou, diou, ciou"):
        diou_simulation(1, losses=("l1",))
    with pytest.raises(ValueError, match="gradient must be 'exact' or 'paper'"):
        diou_simulation(1, gradient="matlab")
    with pytest.raises(ValueError, match="points must be >= 1"):
        diou_cases(0)
