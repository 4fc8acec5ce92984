r"""Box ops: pairwise IoU, GIoU, DIoU and CIoU matrices (torchvision's names and semantics), the
aligned IoU, format conversion and (DIoU-)NMS.

They run on the geometry kernel of :mod:`losskit.functional._box_geometry` (whose module
docstring records the formulas, the ``eps`` placements and the gradient rules), the same kernel
as the aligned losses of :mod:`losskit.functional.boxes`, so both agree to the last bit on the
same pair of boxes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .._core.checks import (
    check_floating,
    check_option,
    check_positive,
    check_tensor,
    error_context,
    fail,
    shape_str,
)
from .._core.dtypes import compute_dtype
from ._box_geometry import (
    _CIOU,
    _DIOU,
    _GIOU,
    _IOU,
    BOX_FORMATS,
    NMS_METHODS,
    _box_metric,
    _check_eps,
    _check_last_dim,
    _check_valid,
    _distance_terms,
    _geometry,
    _prepare_aligned,
    _real_boxes,
    _to_xyxy,
)

__all__ = [
    "batched_nms",
    "box_convert",
    "box_iou",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "nms",
]


# --------------------------------------------------------------------------------------------
# Pairwise functions
# --------------------------------------------------------------------------------------------


def _pairwise(
    fn: str,
    boxes1: Tensor,
    boxes2: Tensor,
    kind: int,
    box_format: str,
    eps: float,
    validate: bool | None,
) -> Tensor:
    _real_boxes(fn, "boxes1", boxes1)
    _real_boxes(fn, "boxes2", boxes2)
    _check_last_dim(fn, "boxes1", boxes1, pairwise=True)
    _check_last_dim(fn, "boxes2", boxes2, pairwise=True)
    try:
        torch.broadcast_shapes(boxes1.shape[:-2], boxes2.shape[:-2])
    except RuntimeError:
        raise fail(
            fn,
            f"boxes1 and boxes2 must have broadcastable batch dimensions, got boxes1 "
            f"{shape_str(boxes1.shape)} and boxes2 {shape_str(boxes2.shape)}",
        ) from None
    check_option(fn, "box_format", box_format, BOX_FORMATS)
    _check_eps(fn, eps)
    dtype = compute_dtype(boxes1, boxes2)
    b1 = _to_xyxy(boxes1.to(dtype), box_format)
    b2 = _to_xyxy(boxes2.to(dtype), box_format)
    _check_valid(fn, "boxes1", boxes1, b1, box_format, validate)
    _check_valid(fn, "boxes2", boxes2, b2, box_format, validate)
    return _box_metric(b1.unsqueeze(-2), b2.unsqueeze(-3), kind, eps, False)


def box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    aligned: bool = False,
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise intersection over union (torchvision's ``box_iou``), or of aligned pairs.

    .. math::

        \mathrm{IoU}_{nm} = \frac{|B_n \cap B'_m|}{|B_n \cup B'_m| + \epsilon}

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        aligned: if ``True``, ``boxes1`` and ``boxes2`` are matched pairs of the same shape
            ``(..., 4)`` and the result is their elementwise IoU, ``(...)``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)`` (``(...)`` when ``aligned``), float32 for half, bfloat16 and integer
        boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast (aligned:
            the shapes differ), an unknown ``box_format``, ``eps < 0``, or (validation on) an
            invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
        >>> box_iou(a, b)
        tensor([[0.1429, 1.0000, 0.0000]])

    With ``aligned=True`` the boxes are matched pairs, ``(..., 4)`` and ``(..., 4)`` of the same
    shape, and the result is ``(...)`` (mmdetection's ``bbox_overlaps(..., is_aligned=True)``;
    the diagonal of the pairwise matrix, without computing the rest):

        >>> box_iou(b[:2], torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]]), aligned=True)
        tensor([0.1429, 1.0000])

    References:
        ``torchvision.ops.box_iou`` (pairwise); mmdetection's
        ``bbox_overlaps(..., is_aligned=True)`` (aligned).
    """
    if aligned:
        with error_context("box_iou", {"input": "boxes1", "target": "boxes2"}):
            p, t = _prepare_aligned("box_iou", boxes1, boxes2, box_format, eps, validate)
        return _box_metric(p, t, _IOU, eps, False)
    return _pairwise("box_iou", boxes1, boxes2, _IOU, box_format, eps, validate)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    r"""Convert ``(..., 4)`` boxes between the ``"xyxy"``, ``"xywh"`` and ``"cxcywh"`` formats.

    .. math::

        \text{xyxy} = (x_1, y_1, x_2, y_2), \quad
        \text{xywh} = (x_1, y_1, x_2 - x_1, y_2 - y_1), \quad
        \text{cxcywh} = (\tfrac{x_1 + x_2}{2}, \tfrac{y_1 + y_2}{2}, x_2 - x_1, y_2 - y_1)

    Args:
        boxes: ``(..., 4)`` real boxes in ``in_fmt``; any leading dimensions, empty allowed.
        in_fmt: the format of ``boxes``.
        out_fmt: the format of the result.

    Returns:
        ``(..., 4)`` in ``out_fmt``, the dtype of ``boxes``; differentiable. The same format in
        and out returns ``boxes`` itself.

    Raises:
        ValueError: an unknown format, or a last dimension other than 4.
        TypeError: ``boxes`` is not a real floating tensor.

    Example:
        >>> box_convert(torch.tensor([[1.0, 2.0, 5.0, 4.0]]), "xyxy", "cxcywh")
        tensor([[3., 3., 4., 2.]])
        >>> box_convert(torch.tensor([[3.0, 3.0, 4.0, 2.0]]), "cxcywh", "xywh")
        tensor([[1., 2., 4., 2.]])

    References:
        ``torchvision.ops.box_convert`` (same formats and semantics).
    """
    fn = "box_convert"
    check_floating(fn, "boxes", boxes)
    check_option(fn, "in_fmt", in_fmt, BOX_FORMATS)
    check_option(fn, "out_fmt", out_fmt, BOX_FORMATS)
    _check_last_dim(fn, "boxes", boxes)
    if in_fmt == out_fmt:
        return boxes
    xyxy = _to_xyxy(boxes, in_fmt)
    if out_fmt == "xyxy":
        return xyxy
    lo, hi = xyxy[..., :2], xyxy[..., 2:]
    if out_fmt == "xywh":
        return torch.cat([lo, hi - lo], dim=-1)
    return torch.cat([0.5 * (lo + hi), hi - lo], dim=-1)


def generalized_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise generalized IoU (Rezatofighi et al. 2019), in ``(-1, 1]``.

    .. math::

        \mathrm{GIoU}_{nm} = \mathrm{IoU}_{nm} - \frac{|C_{nm}| - U_{nm}}{|C_{nm}| + \epsilon}

    with :math:`C_{nm}` the smallest box enclosing both.

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> generalized_box_iou(a, torch.tensor([[1.0, 1.0, 2.0, 2.0]]))  # diagonal neighbours
        tensor([[-0.5000]])

    References:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and a Loss for
        Bounding Box Regression", CVPR 2019.

    """
    return _pairwise("generalized_box_iou", boxes1, boxes2, _GIOU, box_format, eps, validate)


def distance_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise distance IoU (Zheng et al. 2020), in ``(-1, 1]``.

    .. math::

        \mathrm{DIoU}_{nm} = \mathrm{IoU}_{nm} - \frac{\rho^2_{nm}}{c^2_{nm} + \epsilon}

    with :math:`\rho` the distance between the centres and :math:`c` the diagonal of the
    smallest enclosing box.

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> distance_box_iou(a, torch.tensor([[1.0, 0.0, 2.0, 1.0]]))  # touching side by side
        tensor([[-0.2000]])

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _pairwise("distance_box_iou", boxes1, boxes2, _DIOU, box_format, eps, validate)


def complete_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    validate: bool | None = None,
) -> Tensor:
    r"""Pairwise complete IoU (Zheng et al. 2020): DIoU minus the aspect-ratio term.

    .. math::

        \mathrm{CIoU}_{nm} = \mathrm{DIoU}_{nm} - \alpha_{nm} v_{nm}, \quad
        v = \tfrac{4}{\pi^2}\big(\arctan\tfrac{w'_m}{h'_m} - \arctan\tfrac{w_n}{h_n}\big)^2,\quad
        \alpha = \frac{v}{1 - \mathrm{IoU} + v + \epsilon}

    (:math:`\alpha` is not differentiated).

    Args:
        boxes1: ``(..., N, 4)`` boxes (any real dtype; integers are computed in float32).
        boxes2: ``(..., M, 4)`` boxes; leading dimensions broadcast with ``boxes1``'s.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(..., N, M)``, float32 for half, bfloat16 and integer boxes; differentiable.

    Raises:
        ValueError: a shape is not ``(..., N, 4)``, batch dimensions do not broadcast, an unknown
            ``box_format``, ``eps < 0``, or (validation on) an invalid box.
        TypeError: boxes are not real tensors.

    Example:
        >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> complete_box_iou(a, torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 4.0, 2.0]]))
        tensor([[1.0000, 0.4468]])

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _pairwise("complete_box_iou", boxes1, boxes2, _CIOU, box_format, eps, validate)


# --------------------------------------------------------------------------------------------
# Non-maximum suppression
# --------------------------------------------------------------------------------------------

_NMS_BLOCK = 128


def _threshold_below(threshold: float, dtype: torch.dtype) -> float:
    """The largest value of ``dtype`` that is ``<= threshold``.

    For ``x`` of that dtype, ``x > result`` is exactly ``x > threshold`` compared in float64
    (torchvision's CPU kernel compares the float IoU with the double threshold; torch would
    otherwise round the threshold to the tensor's dtype first).
    """
    if dtype == torch.float64:
        return float(threshold)
    t32 = np.float32(threshold)
    if float(t32) > threshold:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    return float(t32)


def _suppression(rows: Tensor, cols: Tensor, threshold: float, method: str, beta: float) -> Tensor:
    """``(R, K)`` boolean: does row box suppress column box (overlap criterion > threshold)."""
    p = rows.t().unsqueeze(-1)  # (4, R, 1)
    t = cols.t().unsqueeze(-2)  # (4, 1, K)
    g = _geometry(p, t, _DIOU if method == "diou" else _IOU)
    score = g.inter / g.union  # torchvision's IoU: no eps
    if method == "diou":
        c2, ssd = _distance_terms(g, 0.0)
        ratio = (0.25 * ssd) / c2.clamp_min(1e-30)  # c == 0 only for one point: rho == 0
        score = score - (ratio if beta == 1.0 else ratio.pow(beta))
    return score > _threshold_below(threshold, score.dtype)


def _greedy_keep(
    boxes: Tensor,
    idxs: Tensor | None,
    threshold: float,
    method: str,
    beta: float,
) -> Tensor:
    """Greedy suppression over boxes already sorted by decreasing score; a boolean keep mask.

    Blocks of ``_NMS_BLOCK`` boxes: the rows of the suppression matrix of the block's
    surviving boxes are computed once against every surviving later box; inside the block the
    greedy keep is the fixed point of ``keep_i = ~any_{j<i}(keep_j & S_ji)`` (reached in at
    most block-size iterations, usually two or three); the kept boxes then suppress the later
    boxes in one reduction.
    """
    n = boxes.shape[0]
    removed = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    keep = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    for start in range(0, n, _NMS_BLOCK):
        end = min(start + _NMS_BLOCK, n)
        # survivors from `start` on; those of this block come first
        cols = torch.nonzero(~removed[start:]).flatten() + start
        r = int((cols < end).sum())
        if r == 0:
            continue
        over = _suppression(boxes[cols[:r]], boxes[cols], threshold, method, beta)
        if idxs is not None:
            over &= idxs[cols[:r], None] == idxs[None, cols]
        block = over[:, :r].triu(1)
        k = torch.ones(r, dtype=torch.bool, device=boxes.device)
        for _ in range(r + 1):
            nk = ~(block & k[:, None]).any(0)
            if torch.equal(nk, k):
                break
            k = nk
        keep[cols[:r]] = k
        if cols.numel() > r:
            removed[cols[r:]] = (over[:, r:] & k[:, None]).any(0)
    return keep


def _nms_impl(
    fn: str,
    boxes: Tensor,
    scores: Tensor,
    idxs: Tensor | None,
    iou_threshold: float,
    method: str,
    beta: float,
    box_format: str,
    validate: bool | None,
) -> Tensor:
    _real_boxes(fn, "boxes", boxes)
    check_floating(fn, "scores", scores)
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise fail(fn, f"boxes must have shape (N, 4), got {shape_str(boxes.shape)}")
    if scores.shape != boxes.shape[:1]:
        raise fail(
            fn,
            f"scores must have shape (N,) = {shape_str(boxes.shape[:1])}, got "
            f"{shape_str(scores.shape)}",
        )
    if idxs is not None:
        check_tensor(fn, "idxs", idxs)
        if idxs.is_floating_point() or idxs.is_complex():
            raise fail(fn, f"idxs must be an integer tensor, got dtype {idxs.dtype}", TypeError)
        if idxs.shape != boxes.shape[:1]:
            raise fail(
                fn,
                f"idxs must have shape (N,) = {shape_str(boxes.shape[:1])}, got "
                f"{shape_str(idxs.shape)}",
            )
    check_option(fn, "method", method, NMS_METHODS)
    check_option(fn, "box_format", box_format, BOX_FORMATS)
    check_positive(fn, "beta", beta)
    threshold = float(iou_threshold)
    if threshold != threshold:
        raise fail(fn, "iou_threshold must be a number, got nan")
    with torch.no_grad():
        b = _to_xyxy(boxes.detach().to(compute_dtype(boxes)), box_format)
        _check_valid(fn, "boxes", boxes, b, box_format, validate)
        if b.shape[0] == 0:
            return torch.empty(0, dtype=torch.int64, device=boxes.device)
        order = torch.sort(scores.detach(), descending=True, stable=True).indices
        sorted_idxs = idxs[order] if idxs is not None else None
        keep = _greedy_keep(b[order], sorted_idxs, threshold, method, float(beta))
        return order[keep]


def nms(
    boxes: Tensor,
    scores: Tensor,
    iou_threshold: float,
    *,
    method: str = "iou",
    beta: float = 1.0,
    box_format: str = "xyxy",
    validate: bool | None = None,
) -> Tensor:
    r"""Non-maximum suppression, plain (torchvision's ``nms``) or DIoU-NMS.

    Boxes are visited by decreasing score (equal scores in index order, as torchvision's stable
    sort); a visited box that has not been suppressed is kept and suppresses every later box
    ``j`` with

    .. math::

        \mathrm{IoU}(b_i, b_j) > \tau \quad (\texttt{method="iou"}), \qquad
        \mathrm{IoU}(b_i, b_j) - \Big(\frac{\rho^2(b_i, b_j)}{c^2}\Big)^{\beta} > \tau
        \quad (\texttt{method="diou"}).

    With ``method="iou"`` the IoU is computed exactly as torchvision's CPU kernel does
    (no ``eps``, the box dtype, the threshold compared in float64), so the kept indices are the
    same, ties included. The suppression matrix is computed in row blocks of 128 boxes (the
    block's surviving boxes against every surviving later box), and the greedy pass over a
    block is a tensor fixed-point iteration (no loop over box pairs; one Python iteration per
    block and fixed-point step, usually two or three per block).

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores, floating.
        iou_threshold: suppress when the criterion exceeds it.
        method: ``"iou"`` or ``"diou"``.
        beta: the DIoU-NMS exponent on the distance term, ``> 0`` (ignored by ``"iou"``).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``.

    Returns:
        int64 ``(K,)`` indices of the kept boxes, by decreasing score.

    Raises:
        ValueError: bad shapes, an unknown ``method``/``box_format``, ``beta <= 0``, or
            (validation on) an invalid box.
        TypeError: non-floating scores or non-real boxes.

    Example:
        >>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
        >>> nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
        tensor([0, 2])

    References:
        ``torchvision.ops.nms``; Zheng et al., "Distance-IoU Loss: Faster and Better Learning
        for Bounding Box Regression", AAAI 2020 (DIoU-NMS).
    """
    return _nms_impl("nms", boxes, scores, None, iou_threshold, method, beta, box_format, validate)


def batched_nms(
    boxes: Tensor,
    scores: Tensor,
    idxs: Tensor,
    iou_threshold: float,
    *,
    method: str = "iou",
    beta: float = 1.0,
    box_format: str = "xyxy",
    validate: bool | None = None,
) -> Tensor:
    r"""Non-maximum suppression within each category (torchvision's ``batched_nms``).

    Boxes of different ``idxs`` never suppress each other; otherwise as :func:`nms`. The
    result equals running :func:`nms` per category and merging by decreasing score (ties in
    index order). torchvision's coordinate-offset shortcut can differ from this by rounding
    when an IoU lies within a few ulps of the threshold.

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        idxs: ``(N,)`` integer category of each box.
        iou_threshold: suppress when the criterion exceeds it.
        method: ``"iou"`` or ``"diou"``.
        beta: DIoU-NMS exponent, ``> 0``.
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``.

    Returns:
        int64 ``(K,)`` indices of the kept boxes, by decreasing score.

    Raises:
        ValueError: bad shapes or options, or (validation on) an invalid box.
        TypeError: non-integer ``idxs``, non-floating scores or non-real boxes.

    Example:
        >>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]])
        >>> batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]), 0.5)
        tensor([0, 2])

    References:
        ``torchvision.ops.batched_nms``; Zheng et al., "Distance-IoU Loss", AAAI 2020 (DIoU-NMS).
    """
    return _nms_impl(
        "batched_nms", boxes, scores, idxs, iou_threshold, method, beta, box_format, validate
    )
