r"""Aligned box-regression losses: IoU, GIoU, DIoU and CIoU losses, ``1 - metric`` per pair.

The formulas, the ``eps`` placements (torchvision's), the constant CIoU :math:`\alpha` and the
hand-written backward that keeps ``O(1)`` extra tensors alive are documented in
:mod:`losskit.functional._box_geometry`; the pairwise matrices and NMS are in
:mod:`losskit.functional.box_ops`.
"""

from __future__ import annotations

import torch  # noqa: F401  (the examples below use it)
from torch import Tensor

from .._core.reduction import reduce_loss
from ._box_geometry import (
    _CIOU,
    _DIOU,
    _GIOU,
    _IOU,
    _box_metric,
    _prepare_aligned,
)

__all__ = ["complete_box_iou_loss", "distance_box_iou_loss", "generalized_box_iou_loss", "iou_loss"]


# --------------------------------------------------------------------------------------------
# Aligned losses
# --------------------------------------------------------------------------------------------


def _aligned_loss(
    fn: str,
    input: Tensor,
    target: Tensor,
    kind: int,
    box_format: str,
    eps: float,
    weight: Tensor | None,
    reduction: str,
    validate: bool | None,
) -> Tensor:
    p, t = _prepare_aligned(fn, input, target, box_format, eps, validate)
    loss = _box_metric(p, t, kind, eps, True)
    return reduce_loss(loss, reduction, weight=weight, fn=fn)


def iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""IoU loss of aligned box pairs: :math:`1 - \mathrm{IoU}`.

    .. math::

        l_n = 1 - \frac{|B_n \cap B^{gt}_n|}{|B_n \cup B^{gt}_n| + \epsilon}

    Its gradient vanishes for disjoint boxes; :func:`generalized_box_iou_loss` and its successors
    fix that.

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
        >>> t = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]])
        >>> iou_loss(p, t, reduction="none")
        tensor([0.8571, 0.0000])

    References:
        Yu et al., "UnitBox: An Advanced Object Detection Network", ACM MM 2016.

    """
    return _aligned_loss(
        "iou_loss", input, target, _IOU, box_format, eps, weight, reduction, validate
    )


def generalized_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""GIoU loss of aligned box pairs (torchvision's ``generalized_box_iou_loss``), in ``[0, 2)``.

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{|C_n| - U_n}{|C_n| + \epsilon}

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> generalized_box_iou_loss(p, torch.tensor([[1.0, 1.0, 2.0, 2.0]]))
        tensor(1.5000)

    References:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and a Loss for
        Bounding Box Regression", CVPR 2019.

    """
    return _aligned_loss(
        "generalized_box_iou_loss",
        input,
        target,
        _GIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )


def distance_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""DIoU loss of aligned box pairs (torchvision's ``distance_box_iou_loss``), in ``[0, 2)``.

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{\rho^2(b_n, b^{gt}_n)}{c_n^2 + \epsilon}

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
        >>> distance_box_iou_loss(p, torch.tensor([[1.0, 0.0, 2.0, 1.0]]))
        tensor(1.2000)

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020.

    """
    return _aligned_loss(
        "distance_box_iou_loss",
        input,
        target,
        _DIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )


def complete_box_iou_loss(
    input: Tensor,
    target: Tensor,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""CIoU loss of aligned box pairs (torchvision's ``complete_box_iou_loss``).

    .. math::

        l_n = 1 - \mathrm{IoU}_n + \frac{\rho^2}{c^2 + \epsilon} + \alpha_n v_n, \quad
        v_n = \tfrac{4}{\pi^2}\Big(\arctan\tfrac{w^{gt}_n}{h^{gt}_n}
            - \arctan\tfrac{w_n}{h_n}\Big)^2, \quad
        \alpha_n = \frac{v_n}{1 - \mathrm{IoU}_n + v_n + \epsilon}

    :math:`\alpha` is held constant in the backward pass (the paper's and torchvision's choice);
    :math:`v` is differentiated exactly. The gradient is therefore not the derivative of the
    value (a finite-difference check disagrees by the :math:`v\,\partial\alpha` term). The
    arctangent difference stays finite for zero-height and zero-size boxes; ``eps``
    reaches every denominator (torchvision drops it on the DIoU part).

    Args:
        input: predicted boxes ``(..., 4)``, floating.
        target: target boxes, same shape (may be an integer tensor).
        box_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        eps: added to the denominators (see :mod:`losskit.functional.boxes`), ``>= 0``.
        weight: optional weights broadcastable to ``(...)``.
        reduction: ``"none" | "mean" | "sum"`` (torchvision's default is ``"none"``).
        validate: check that every box has ``x2 >= x1`` and ``y2 >= y1``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``(...)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ or are not ``(..., 4)``, unknown ``box_format`` or reduction,
            ``eps < 0``, or (validation on) an invalid box.
        TypeError: ``input`` is not floating.

    Example:
        >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        >>> complete_box_iou_loss(p, torch.tensor([[0.0, 0.0, 4.0, 2.0]]))
        tensor(0.5532)

    References:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
        Regression", AAAI 2020; Zheng et al., "Enhancing Geometric Factors in Model Learning
        and Inference for Object Detection and Instance Segmentation", IEEE TCYB 2021.

    """
    return _aligned_loss(
        "complete_box_iou_loss",
        input,
        target,
        _CIOU,
        box_format,
        eps,
        weight,
        reduction,
        validate,
    )
