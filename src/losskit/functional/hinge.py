r"""Hinge losses: binary hinge, squared hinge and the multiclass hinge (Crammer–Singer,
Weston–Watkins).

Binary labels
-------------
:func:`hinge_loss` and :func:`squared_hinge_loss` take a raw score :math:`x` (a logit, not a
probability) and a label that is either in :math:`\{0, 1\}` (TensorFlow's
``tf.compat.v1.losses.hinge_loss`` convention, mapped to :math:`\pm1` by :math:`t = 2y - 1`) or
already in :math:`\{-1, 1\}`. The ``labels`` option says which:

* ``"01"``: :math:`t = 2y - 1` (exactly TensorFlow's ``hinge_loss``; soft labels in
  :math:`[0, 1]` follow the same affine map when validation is off);
* ``"pm1"``: :math:`t = y` (the textbook convention);
* ``"auto"`` (default): the convention is read off the whole ``target`` tensor: if any label
  equals :math:`-1` the tensor is taken as :math:`\{-1, 1\}`, otherwise as :math:`\{0, 1\}`.
  A tensor holding only ``1`` reads the same either way. This is Keras 3's ``hinge`` rule on valid
  labels (Keras converts when every label is 0 or 1). The detection is computed with tensor
  operations (the 0-dim ``(target == -1).any()`` selects the map arithmetically), so it needs no
  host synchronisation and compiles without a graph break.

With validation on (the default, see :func:`losskit.set_validation`), labels must lie in
:math:`\{-1, 0, 1\}` and must not mix :math:`-1` and :math:`0` (``"auto"``), in :math:`\{0, 1\}`
(``"01"``) or in :math:`\{-1, 1\}` (``"pm1"``); anything else is a ``ValueError``. With
validation off, the map above is applied to whatever values arrive.

Multiclass
----------
:func:`multiclass_hinge_loss` takes class scores and integer labels :math:`y`:

* Crammer–Singer: :math:`l = \max(0,\ m + \max_{j \ne y} x_j - x_y)`;
* Weston–Watkins: :math:`l = \sum_{j \ne y} \max(0,\ m + x_j - x_y)`.

``torch.nn.functional.multi_margin_loss`` is Weston–Watkins divided by the number of classes
:math:`C`, with ``weight[y]`` multiplying each term after the power ``p``. Keras'
``categorical_hinge`` (one-hot ``y_true``) is
:math:`\max(0,\ 1 + \max(0, \max_{j \ne y} x_j) - x_y)`: Crammer–Singer with margin 1
whenever some non-target score is :math:`\ge 0` (always for probabilities), and larger otherwise,
because Keras zeroes the target score instead of excluding it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as tF
from torch import Tensor

from .._core.checks import (
    check_class_dim,
    check_class_tensor,
    check_floating,
    check_index,
    check_integer,
    check_option,
    check_positive,
    extremes,
    fail,
    prepare_pair,
    shape_str,
    validation_enabled,
    zero_one_residual,
)
from .._core.dtypes import compute_dtype
from .._core.function import apply, derivative_times, save_with_derivative
from .._core.reduction import reduce_loss

__all__ = ["hinge_loss", "multiclass_hinge_loss", "squared_hinge_loss"]

_LABELS = ("auto", "01", "pm1")
_VARIANTS = ("crammer_singer", "weston_watkins")


def _check_labels(fn: str, y: Tensor, labels: str, validate: bool | None) -> bool | None:
    r"""Data-dependent: the label values match the chosen convention (see the module docs).

    Returns whether the labels are :math:`\pm1` (``None`` for ``"auto"`` when the check is
    skipped: the convention is then read off the tensor without a host synchronisation).

    One minimum tells the conventions apart (a -1 means :math:`\{-1, 1\}`), then a
    residual that is exactly 0 on the allowed values, and nonzero (or NaN) elsewhere, has
    extremes ``(0, 0)`` iff every label is allowed: :math:`y - y^2` for {0, 1},
    :math:`|y| - 1` for {-1, 1}. Three passes and two small host transfers in all.
    """
    fixed = {"pm1": True, "01": False}.get(labels)
    if not validation_enabled(validate) or y.numel() == 0:
        return fixed
    signed = y.amin().item() == -1.0 if labels == "auto" else bool(fixed)
    if (extremes(y.abs().sub_(1.0)) if signed else zero_one_residual(y)) == (0.0, 0.0):
        return signed
    allowed = {"auto": (-1.0, 0.0, 1.0), "01": (0.0, 1.0), "pm1": (-1.0, 1.0)}[labels]
    ok = torch.zeros_like(y, dtype=torch.bool)
    for value in allowed:
        ok |= y == value
    if labels == "auto" and bool(ok.all()):
        raise fail(
            fn,
            "target must use one label convention, {0, 1} or {-1, 1}, got both 0 and -1 "
            "(pass labels='01' or labels='pm1' to say which)",
        )
    sets = {
        "auto": "{0, 1} or {-1, 1}",
        "01": "{0, 1} (labels='01')",
        "pm1": "{-1, 1} (labels='pm1')",
    }[labels]
    bad = y[~ok].flatten()[0].item()
    raise fail(fn, f"target must hold labels in {sets}, got {bad:g}")


def _signed_target(
    fn: str, y: Tensor, labels: str, validate: bool | None, scale: float = 1.0
) -> Tensor:
    """``scale * t``: the labels mapped to :math:`t = a y - b` with :math:`(a, b) = (1, 0)` for
    {-1, 1} and :math:`(2, 1)` for {0, 1}, in one pass. For ``"auto"`` without validation ``a``
    and ``b`` are 0-dim tensors computed from ``(y == -1).any()``, so there is no Python branch
    on tensor values (and no graph break under :func:`torch.compile`)."""
    signed = _check_labels(fn, y, labels, validate)
    if signed is True:
        return y if scale == 1.0 else y * scale
    if signed is False:
        return torch.addcmul(y.new_full((), -scale), y, y.new_full((), 2.0 * scale))
    flag = (y == -1).any().to(y.dtype)  # 1: labels are already +-1
    return torch.addcmul((flag - 1) * scale, y, (2 - flag) * scale)


def _scores_and_signs(
    fn: str,
    input: Tensor,
    target: Tensor,
    margin: float,
    labels: str,
    validate: bool | None,
    scale: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """The shared checks, then the scores and ``scale * t`` in the compute dtype."""
    check_option(fn, "labels", labels, _LABELS)
    check_positive(fn, "margin", margin, allow_zero=True)
    x, y = prepare_pair(fn, input, target)
    return x, _signed_target(fn, y, labels, validate, scale)


def _binary_margin(
    fn: str,
    input: Tensor,
    target: Tensor,
    margin: float,
    labels: str,
    validate: bool | None,
) -> Tensor:
    """``margin - t * x`` in the compute dtype, after the shared checks (two fused passes)."""
    x, t = _scores_and_signs(fn, input, target, margin, labels, validate)
    return torch.addcmul(x.new_full((), float(margin)), t, x, value=-1)


class _SquaredHinge(torch.autograd.Function):
    r""":math:`\max(0, m - t x)^2` from ``x`` and ``u = -2t``, with the derivative
    :math:`u \max(0, m - t x)` formed in the forward pass (in place on the margin buffer) and
    returned as a non-differentiable output, so that the backward pass is one product. A
    differentiated backward (``create_graph=True``) recomputes it from ``x``.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, u: Tensor, margin: float) -> tuple[Tensor, Tensor]:
        r = torch.addcmul(x.new_full((), margin), u, x, value=0.5).relu_()
        loss = r * r
        return loss, r.mul_(u)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
        x, u, margin = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        ctx.margin = margin
        # The derivative is private (the caller drops that output): the first backward pass
        # turns it into the gradient in place.
        save_with_derivative(ctx, output[1], x, u)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, _unused: Tensor | None) -> tuple[Any, ...]:
        if grad is None:
            return None, None, None
        x, u, *kept = ctx.saved_tensors
        if torch.is_grad_enabled():
            r = tF.relu(torch.addcmul(x.new_full((), ctx.margin), u, x, value=0.5))
            return grad * r * u, None, None
        recompute = lambda: _SquaredHinge.forward(x, u, ctx.margin)[1]  # noqa: E731
        return derivative_times(ctx, kept, grad, recompute), None, None


def hinge_loss(
    input: Tensor,
    target: Tensor,
    *,
    margin: float = 1.0,
    labels: str = "auto",
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Binary hinge loss on raw scores.

    .. math::

        \ell(x, y) = \{l_1, \dots, l_N\}, \qquad l_n = \max(0,\ m - t_n x_n),

    where :math:`t_n \in \{-1, 1\}` is the label in the :math:`\pm1` convention: :math:`2y_n - 1`
    for :math:`\{0, 1\}` labels (as TensorFlow's ``hinge_loss``), :math:`y_n` for
    :math:`\{-1, 1\}` labels. How the convention is chosen is described in
    :mod:`losskit.functional.hinge`.

    Args:
        input: raw scores (logits) ``[*]``, floating.
        target: labels, same shape; floating, integer or boolean.
        margin: :math:`m \ge 0`.
        labels: ``"auto"`` (detect per tensor: any ``-1`` means :math:`\{-1, 1\}`),
            ``"01"`` or ``"pm1"``.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the label values; ``None`` follows :func:`losskit.set_validation`.

    Returns:
        ``[*]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, labels outside the convention (validation on), ``margin < 0``,
            unknown ``labels`` or reduction.
        TypeError: ``input`` is not floating.

    Example:
        >>> x = torch.tensor([2.0, 0.5, -0.3])
        >>> hinge_loss(x, torch.tensor([1, 1, 0]), reduction="none")
        tensor([0.0000, 0.5000, 0.7000])
        >>> hinge_loss(x, torch.tensor([1, 1, -1]), reduction="none")  # same labels, in +-1
        tensor([0.0000, 0.5000, 0.7000])

    References:
        Cortes and Vapnik, "Support-Vector Networks", Machine Learning 20, 1995.
    """
    z = _binary_margin("hinge_loss", input, target, margin, labels, validate)
    loss = tF.relu(z)
    return reduce_loss(loss, reduction, weight=weight, fn="hinge_loss")


def squared_hinge_loss(
    input: Tensor,
    target: Tensor,
    *,
    margin: float = 1.0,
    labels: str = "auto",
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Squared binary hinge loss (the L2-SVM loss; Keras' ``squared_hinge``).

    .. math::

        l_n = \max(0,\ m - t_n x_n)^2

    with :math:`t_n` as in :func:`hinge_loss`. Keras' ``squared_hinge(y_true, y_pred)`` is
    ``squared_hinge_loss(y_pred, y_true, reduction="none").mean(-1)``.

    Args:
        input: raw scores ``[*]``, floating.
        target: labels, same shape, :math:`\{0, 1\}` or :math:`\{-1, 1\}`.
        margin: :math:`m \ge 0`.
        labels: ``"auto" | "01" | "pm1"``, see :func:`hinge_loss`.
        weight: optional weights broadcastable to ``[*]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check the label values; ``None`` follows :func:`losskit.set_validation`.

    Returns:
        ``[*]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: as :func:`hinge_loss`.
        TypeError: ``input`` is not floating.

    Example:
        >>> squared_hinge_loss(torch.tensor([2.0, 0.5, -0.3]), torch.tensor([1, 1, 0]),
        ...                    reduction="none")
        tensor([0.0000, 0.2500, 0.4900])

    References:
        Lee and Mangasarian, "SSVM: A Smooth Support Vector Machine for Classification",
        Computational Optimization and Applications 20, 2001.
    """
    fn = "squared_hinge_loss"
    if target.requires_grad:  # soft labels that need a gradient: plain autograd
        r = tF.relu(_binary_margin(fn, input, target, margin, labels, validate))
        return reduce_loss(r * r, reduction, weight=weight, fn=fn)
    x, u = _scores_and_signs(fn, input, target, margin, labels, validate, scale=-2.0)
    loss, _ = apply(_SquaredHinge, x, u, float(margin))
    return reduce_loss(loss, reduction, weight=weight, fn=fn)


def multiclass_hinge_loss(
    input: Tensor,
    target: Tensor,
    *,
    dim: int = 1,
    margin: float = 1.0,
    variant: str = "crammer_singer",
    p: int = 1,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
) -> Tensor:
    r"""Multiclass hinge loss on class scores with integer labels.

    .. math::

        l_n = \begin{cases}
            w_{y_n} \max\!\big(0,\ m + \max_{j \ne y_n} x_{n,j} - x_{n,y_n}\big)^p
                & \text{Crammer–Singer} \\
            w_{y_n} \sum_{j \ne y_n} \max\!\big(0,\ m + x_{n,j} - x_{n,y_n}\big)^p
                & \text{Weston–Watkins}
        \end{cases}

    ``weight`` is a per-class weight :math:`w` indexed by the label, with the semantics of
    :func:`torch.nn.functional.multi_margin_loss` (it multiplies the loss after the power, and
    ``"mean"`` divides by the number of samples, not by the summed weights). The exact relation::

        multi_margin_loss(x, y, p=p, margin=m, weight=w, reduction=r)
            == multiclass_hinge_loss(x, y, variant="weston_watkins", p=p, margin=m, weight=w,
                                     reduction=r) / C

    for every reduction ``r``, with :math:`C` the number of classes. Crammer–Singer is never
    larger than Weston–Watkins (a maximum of non-negative terms against their sum). With a single
    class the loss is 0. Keras' ``categorical_hinge`` relation is in
    :mod:`losskit.functional.hinge`.

    Args:
        input: class scores ``[N, C, *]`` (classes along ``dim``), or ``[C]``; floating.
        target: class indices, ``input``'s shape without ``dim``; integer.
        dim: the class dimension.
        margin: :math:`m \ge 0`.
        variant: ``"crammer_singer"`` (default) or ``"weston_watkins"``.
        p: 1 (hinge) or 2 (squared hinge).
        weight: optional per-class weights ``[C]``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that labels lie in ``[0, C)``; ``None`` follows
            :func:`losskit.set_validation`.

    Returns:
        ``input``'s shape without ``dim`` for ``"none"``, else a scalar; float32 for
        half/bfloat16 inputs.

    Raises:
        ValueError: target shape does not match, labels out of range (validation on), ``weight``
            is not ``[C]``, bad ``margin``, ``p``, ``variant`` or reduction.
        TypeError: ``input`` or ``weight`` not floating, ``target`` not integer.

    Example:
        >>> x = torch.tensor([[2.0, 1.5, -1.0], [0.0, 0.3, 0.2]])
        >>> y = torch.tensor([0, 2])
        >>> multiclass_hinge_loss(x, y, reduction="none")
        tensor([0.5000, 1.1000])
        >>> multiclass_hinge_loss(x, y, variant="weston_watkins", reduction="none")
        tensor([0.5000, 1.9000])

    References:
        Crammer and Singer, "On the Algorithmic Implementation of Multiclass Kernel-based Vector
        Machines", JMLR 2, 2001. Weston and Watkins, "Support Vector Machines for Multi-Class
        Pattern Recognition", ESANN 1999.
    """
    fn = "multiclass_hinge_loss"
    check_option(fn, "variant", variant, _VARIANTS)
    check_option(fn, "p", p, (1, 2))
    check_positive(fn, "margin", margin, allow_zero=True)
    check_floating(fn, "input", input)
    check_integer(fn, "target", target, hint="multiclass_hinge_loss takes class indices")
    d = check_class_dim(fn, input, dim)
    expected = input.shape[:d] + input.shape[d + 1 :]
    if target.shape != expected:
        raise fail(
            fn,
            f"target must have shape {shape_str(expected)} (input {shape_str(input.shape)} "
            f"without dim={dim}), got {shape_str(target.shape)}",
        )
    num_classes = input.shape[d]
    if weight is not None:
        check_class_tensor(fn, "weight", weight, num_classes)
    check_index(fn, "target", target, num_classes, validate=validate)

    dtype = compute_dtype(input, weight)
    x = input.to(dtype)
    index = target.long().unsqueeze(d)
    if variant == "crammer_singer" and num_classes == 1:
        loss = x.sum(dim=d) * 0.0  # no rival class: 0, connected to the graph
    elif variant == "crammer_singer":
        # The best rival is the top score unless that is the target's, then the second: two
        # indices from topk (no gradient needed), then one gather of (target, rival) scores, so
        # the backward is a single scatter.
        top = x.detach().topk(2, dim=d).indices
        first, second = top.narrow(d, 0, 1), top.narrow(d, 1, 1)
        rival_index = torch.where(first == index, second, first)
        scores = x.gather(d, torch.cat([index, rival_index], dim=d))
        x_true, rival = scores.narrow(d, 0, 1), scores.narrow(d, 1, 1)
        loss = tF.relu(float(margin) + rival - x_true).squeeze(d)
        if p == 2:
            loss = loss * loss
    else:
        x_true = x.gather(d, index)
        shape = (-1,) + (1,) * (x.dim() - d - 1)
        is_true = torch.arange(num_classes, device=x.device).view(shape) == index
        terms = tF.relu(x - (x_true - float(margin)))
        if p == 2:
            terms = terms * terms
        loss = terms.masked_fill(is_true, 0.0).sum(dim=d)
    if weight is not None:
        loss = loss * weight.to(dtype)[target.long()]
    return reduce_loss(loss, reduction, fn=fn)
