"""Generate the torchvision golden values of the box tests (tests/data/boxes/golden.npz).

torchvision is not a test dependency (it needs the CUDA build of torch here); run this once in a
separate environment and commit the output:

    python3 -m venv ../tvenv
    ../tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
    ../tvenv/bin/python scripts/golden/boxes.py

Everything is computed on the CPU, losses and pairwise functions in float64 (values and
gradients of ``sum(w * f)`` for fixed random weights ``w``), NMS in float32 and float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision import ops

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "boxes" / "golden.npz"


def random_boxes(
    gen: torch.Generator, n: int, scale: float = 10.0, size: float = 5.0
) -> torch.Tensor:
    lo = scale * torch.rand(n, 2, generator=gen, dtype=torch.float64)
    wh = 0.05 + size * torch.rand(n, 2, generator=gen, dtype=torch.float64)
    return torch.cat([lo, lo + wh], dim=-1)


def special_pairs() -> tuple[torch.Tensor, torch.Tensor]:
    """Hand-picked geometry: identical, nested, touching, disjoint, crossing, thin boxes."""
    p = [
        [0.0, 0.0, 2.0, 2.0],  # identical
        [0.0, 0.0, 4.0, 4.0],  # contains the target
        [1.0, 1.0, 2.0, 2.0],  # inside the target
        [0.0, 0.0, 1.0, 1.0],  # touching side
        [0.0, 0.0, 1.0, 1.0],  # touching corner
        [0.0, 0.0, 1.0, 1.0],  # far apart
        [0.0, 1.0, 4.0, 2.0],  # cross
        [0.5, 0.5, 3.5, 1.5],  # wide vs tall, same centre
    ]
    t = [
        [0.0, 0.0, 2.0, 2.0],
        [1.0, 1.0, 2.0, 3.0],
        [0.0, 0.0, 4.0, 4.0],
        [1.0, 0.0, 2.0, 1.0],
        [1.0, 1.0, 2.0, 2.0],
        [10.0, 20.0, 13.0, 22.0],
        [1.0, 0.0, 2.0, 4.0],
        [1.5, -0.5, 2.5, 2.5],
    ]
    return torch.tensor(p, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)


def iou_loss_tv(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """torchvision has no aligned IoU loss: 1 - the diagonal of its pairwise box_iou."""
    return 1 - ops.box_iou(p, t).diagonal()


def value_and_grads(fn, p: torch.Tensor, t: torch.Tensor, w: torch.Tensor):  # type: ignore[no-untyped-def]
    p = p.clone().requires_grad_()
    t = t.clone().requires_grad_()
    out = fn(p, t)
    (out * w).sum().backward()
    return out.detach().numpy(), p.grad.numpy(), t.grad.numpy()


def main() -> None:
    gen = torch.Generator().manual_seed(20240607)
    data: dict[str, np.ndarray] = {}

    # ---- aligned losses (float64): random pairs and special pairs
    sp, st = special_pairs()
    rp, rt = random_boxes(gen, 56), random_boxes(gen, 56)
    p, t = torch.cat([sp, rp]), torch.cat([st, rt])
    w = torch.rand(p.shape[0], generator=gen, dtype=torch.float64)
    data["aligned_p"], data["aligned_t"], data["aligned_w"] = p.numpy(), t.numpy(), w.numpy()
    losses = {
        "iou_loss": iou_loss_tv,
        "generalized_box_iou_loss": lambda a, b: ops.generalized_box_iou_loss(
            a, b, reduction="none"
        ),
        "distance_box_iou_loss": lambda a, b: ops.distance_box_iou_loss(a, b, reduction="none"),
        "complete_box_iou_loss": lambda a, b: ops.complete_box_iou_loss(a, b, reduction="none"),
    }
    for name, fn in losses.items():
        v, gp, gt = value_and_grads(fn, p, t, w)
        data[f"{name}/value"], data[f"{name}/grad_input"], data[f"{name}/grad_target"] = v, gp, gt
        data[f"{name}/mean"] = np.asarray(fn(p, t).mean().item())
    # formats, converted by torchvision
    data["aligned_p_cxcywh"] = ops.box_convert(p, "xyxy", "cxcywh").numpy()
    data["aligned_t_cxcywh"] = ops.box_convert(t, "xyxy", "cxcywh").numpy()
    data["aligned_p_xywh"] = ops.box_convert(p, "xyxy", "xywh").numpy()
    data["aligned_t_xywh"] = ops.box_convert(t, "xyxy", "xywh").numpy()

    # ---- pairwise (float64), N != M
    b1, b2 = random_boxes(gen, 9), random_boxes(gen, 6)
    b2 = torch.cat([b2, b1[:2]])  # some identical pairs
    wp = torch.rand(9, 8, generator=gen, dtype=torch.float64)
    data["pair_b1"], data["pair_b2"], data["pair_w"] = b1.numpy(), b2.numpy(), wp.numpy()
    pairwise = {
        "box_iou": ops.box_iou,
        "generalized_box_iou": ops.generalized_box_iou,
        "distance_box_iou": ops.distance_box_iou,
        "complete_box_iou": ops.complete_box_iou,
    }
    for name, fn in pairwise.items():
        v, g1, g2 = value_and_grads(fn, b1, b2, wp)
        data[f"{name}/value"], data[f"{name}/grad_boxes1"], data[f"{name}/grad_boxes2"] = v, g1, g2
    data["pair_b1_cxcywh"] = ops.box_convert(b1, "xyxy", "cxcywh").numpy()
    data["pair_b2_cxcywh"] = ops.box_convert(b2, "xyxy", "cxcywh").numpy()
    data["box_iou/cxcywh"] = ops.box_iou(
        ops.box_convert(b1, "xyxy", "cxcywh"), ops.box_convert(b2, "xyxy", "cxcywh"), fmt="cxcywh"
    ).numpy()

    # ---- nms: random boxes with tied scores, integer-grid boxes, degenerate boxes
    cases = []
    for dtype in (torch.float32, torch.float64):
        for n, scale, size in ((200, 50.0, 20.0), (60, 10.0, 8.0)):
            boxes = random_boxes(gen, n, scale, size).to(dtype)
            scores = torch.rand(n, generator=gen, dtype=torch.float64).mul(8).floor().div(8)
            scores = scores.to(dtype)  # eight distinct values: many ties
            cases.append((boxes, scores))
    grid_lo = torch.randint(0, 6, (120, 2), generator=gen)
    grid_wh = torch.randint(1, 5, (120, 2), generator=gen)
    grid = torch.cat([grid_lo, grid_lo + grid_wh], -1).to(torch.float32)
    grid_scores = torch.randint(0, 4, (120,), generator=gen).to(torch.float32) / 4
    cases.append((grid, grid_scores))
    degenerate = torch.tensor(
        [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 3], [1, 1, 1, 3], [0, 0, 2, 2], [0, 0, 2, 2]],
        dtype=torch.float32,
    )
    cases.append((degenerate, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.5])))
    thresholds = (0.0, 0.3, 0.5, 0.7)
    for i, (boxes, scores) in enumerate(cases):
        data[f"nms/{i}/boxes"], data[f"nms/{i}/scores"] = boxes.numpy(), scores.numpy()
        idxs = torch.randint(0, 3, (boxes.shape[0],), generator=gen)
        data[f"nms/{i}/idxs"] = idxs.numpy()
        for thr in thresholds:
            data[f"nms/{i}/keep/{thr}"] = ops.nms(boxes, scores, thr).numpy()
            data[f"nms/{i}/batched_keep/{thr}"] = ops.batched_nms(boxes, scores, idxs, thr).numpy()
    data["nms/count"] = np.asarray(len(cases))
    data["nms/thresholds"] = np.asarray(thresholds)
    versions = f"torch {torch.__version__}, torchvision {torchvision.__version__}"
    data["versions"] = np.asarray(versions)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(data)} arrays)")


if __name__ == "__main__":
    main()
