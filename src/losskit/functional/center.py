r"""Centre loss (Wen et al. 2016) and the paper's centre update rule.

The centre loss pulls each deep feature :math:`x_i` towards the centre :math:`c_{y_i}` of its
class. It is used *beside* softmax cross-entropy, never alone:

.. math::

    L = L_{\text{softmax}} + \lambda L_C, \qquad
    L_C = \frac{1}{N}\sum_{i=1}^{N} \tfrac12 \|x_i - c_{y_i}\|_2^2

(the paper sums over the mini-batch; losskit's default ``"mean"`` divides by :math:`N`, so the
same λ weighs the same per-sample pull whatever the batch size).

The centres are not learned by the optimiser. After each training step they move by the paper's
rule (its Eq. 4 and Algorithm 1):

.. math::

    \Delta c_j = \frac{\sum_{i:\,y_i = j} (c_j - x_i)}{1 + n_j}, \qquad
    c_j \leftarrow c_j - \alpha\,\Delta c_j,

where :math:`n_j` is the number of samples of class :math:`j` in the batch; a class absent from
the batch has :math:`\Delta c_j = 0`. The rule is split in two so that a distributed run can
all-reduce the sums and counts between them: :func:`center_update_statistics` gives
:math:`\sum_{i:\,y_i=j}(c_j - x_i)` and :math:`n_j`, :func:`apply_center_update` applies the
step. :class:`losskit.nn.CenterLoss` keeps the centres as a buffer and runs both in training mode.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._core.checks import (
    check_floating,
    check_index,
    check_integer,
    fail,
    shape_str,
)
from .._core.distributed import ProcessGroup, all_reduce_sums, reduce_global
from .._core.dtypes import compute_dtype, to_compute

__all__ = ["apply_center_update", "center_loss", "center_update_statistics"]


def _check(fn: str, input: Tensor, target: Tensor, centers: Tensor, validate: bool | None) -> None:
    check_floating(fn, "input", input)
    check_integer(fn, "target", target)
    check_floating(fn, "centers", centers)
    if input.dim() != 2:
        raise fail(fn, f"input must have shape (N, feat_dim), got {shape_str(input.shape)}")
    n, d = input.shape
    if centers.dim() != 2 or centers.shape[1] != d or centers.shape[0] < 1:
        raise fail(
            fn,
            f"centers must have shape (num_classes, {d}) with num_classes >= 1 to match "
            f"input {shape_str(input.shape)}, got {shape_str(centers.shape)}",
        )
    if target.shape != (n,):
        raise fail(
            fn,
            f"target must have shape ({n},) to match input "
            f"{shape_str(input.shape)}, got {shape_str(target.shape)}",
        )
    check_index(fn, "target", target, centers.shape[0], validate=validate)


def center_loss(
    input: Tensor,
    target: Tensor,
    centers: Tensor,
    *,
    weight: Tensor | None = None,
    reduction: str = "mean",
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> Tensor:
    r"""Centre loss: half the squared distance of each feature to its class centre.

    .. math::

        l_i = \tfrac12 \|x_i - c_{y_i}\|_2^2

    The gradient with respect to :math:`x_i` is :math:`x_i - c_{y_i}` (divided by :math:`N` for
    ``"mean"``), as in the paper. The function is plain math: if ``centers`` requires gradient,
    it receives one; :class:`losskit.nn.CenterLoss` keeps its centres in a buffer, so there only
    the features receive gradient and the centres follow the paper's update rule
    (:func:`center_update_statistics`, :func:`apply_center_update`).

    Args:
        input: deep features :math:`x`, ``(N, D)``, floating.
        target: class indices ``(N,)`` in ``[0, C)``, integer.
        centers: class centres :math:`c`, ``(C, D)``, floating.
        weight: optional per-sample weights broadcastable to ``(N,)``.
        reduction: ``"none" | "mean" | "sum"``.
        validate: check that labels lie in ``[0, C)`` (``None``: the global switch).
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            ``"mean"`` divides by the number of samples of every rank; ``None``: this
            process's batch only.

    Returns:
        ``(N,)`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: wrong shapes, labels out of range, unknown reduction.
        TypeError: floating ``target`` or integer ``input``/``centers``.

    Example:
        >>> x = torch.tensor([[1.0, 1.0], [3.0, 0.0]])
        >>> c = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> center_loss(x, torch.tensor([0, 1]), c, reduction="none")
        tensor([1., 2.])

    References:
        Wen, Zhang, Li, Qiao, "A Discriminative Feature Learning Approach for Deep Face
        Recognition", ECCV 2016.
    """
    fn = "center_loss"
    _check(fn, input, target, centers, validate)
    x, c = to_compute(input, centers)
    diff = x - c.index_select(0, target.long())
    loss = 0.5 * diff.pow(2).sum(dim=1)
    return reduce_global(loss, reduction, process_group, weight=weight, fn=fn)


def center_update_statistics(
    input: Tensor,
    target: Tensor,
    centers: Tensor,
    *,
    validate: bool | None = None,
    process_group: ProcessGroup | None = None,
) -> tuple[Tensor, Tensor]:
    r"""The per-class sums and counts of the centre update, before they are applied.

    .. math::

        S_j = \sum_{i:\,y_i = j} (c_j - x_i), \qquad n_j = \#\{i : y_i = j\}

    Both are additive over disjoint parts of a batch, so a data-parallel run all-reduces them
    (sum) across processes before :func:`apply_center_update`, and obtains the update of the
    whole batch. No gradient is recorded.

    Args:
        input: features ``(N, D)``, floating.
        target: class indices ``(N,)``, integer.
        centers: current centres ``(C, D)``, floating.
        validate: check the label range (``None``: the global switch).
        process_group: ``torch.distributed`` group holding the other shards of the batch:
            the sums and counts are summed over its ranks (one all-reduce of
            :math:`C (D + 1)` numbers), so every rank gets the statistics of the whole batch;
            ``None``: this process's batch only.

    Returns:
        ``(sums, counts)``: ``(C, D)`` and ``(C,)``, both in the compute dtype of ``input`` and
        ``centers`` (float32 at least).

    Example:
        >>> x = torch.tensor([[1.0], [3.0], [5.0]])
        >>> sums, counts = center_update_statistics(x, torch.tensor([0, 0, 2]), torch.zeros(3, 1))
        >>> sums.flatten(), counts
        (tensor([-4.,  0., -5.]), tensor([2., 0., 1.]))

    References:
        Wen et al., "A Discriminative Feature Learning Approach for Deep Face
        Recognition", ECCV 2016, Algorithm 1 (the update of the centres).
    """
    fn = "center_update_statistics"
    _check(fn, input, target, centers, validate)
    with torch.no_grad():
        x, c = to_compute(input.detach(), centers.detach())
        index = target.long()
        sums = torch.zeros_like(c).index_add(0, index, c.index_select(0, index) - x)
        counts = torch.zeros(c.shape[0], dtype=c.dtype, device=c.device).index_add(
            0, index, torch.ones_like(index, dtype=c.dtype)
        )
        sums, counts = all_reduce_sums([sums, counts], process_group)
    return sums, counts


def apply_center_update(centers: Tensor, sums: Tensor, counts: Tensor, *, alpha: float) -> Tensor:
    r"""The paper's centre step from the statistics of :func:`center_update_statistics`.

    .. math::

        c_j \leftarrow c_j - \alpha\,\frac{S_j}{1 + n_j}

    Classes with :math:`n_j = 0` (so :math:`S_j = 0`) keep their centre. Returns new centres in
    ``centers``' dtype (``centers`` is not modified); no gradient is recorded.

    Args:
        centers: current centres ``(C, D)``.
        sums: :math:`S`, ``(C, D)``.
        counts: :math:`n`, ``(C,)``.
        alpha: the centre learning rate :math:`\alpha \in [0, 1]`.

    Returns:
        The updated centres, ``(C, D)``.

    Example:
        >>> c = torch.zeros(3, 1)
        >>> sums, counts = torch.tensor([[-4.0], [0.0], [-5.0]]), torch.tensor([2.0, 0.0, 1.0])
        >>> apply_center_update(c, sums, counts, alpha=0.5).flatten()
        tensor([0.6667, 0.0000, 1.2500])

    References:
        Wen et al., "A Discriminative Feature Learning Approach for Deep Face
        Recognition", ECCV 2016, Algorithm 1: c_j ← c_j − α Δc_j.
    """
    fn = "apply_center_update"
    check_floating(fn, "centers", centers)
    check_floating(fn, "sums", sums)
    check_floating(fn, "counts", counts)
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise fail(fn, f"alpha must lie in [0, 1], got {alpha!r}")
    if sums.shape != centers.shape or counts.shape != centers.shape[:1]:
        raise fail(
            fn,
            f"sums and counts must have shapes {shape_str(centers.shape)} and "
            f"{shape_str(centers.shape[:1])}, got {shape_str(sums.shape)} and "
            f"{shape_str(counts.shape)}",
        )
    with torch.no_grad():
        dtype = compute_dtype(centers, sums, counts)
        c = centers.detach().to(dtype)
        delta = sums.to(dtype) / (1 + counts.to(dtype)).unsqueeze(1)
        return (c - alpha * delta).to(centers.dtype)
