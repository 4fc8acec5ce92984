r"""Kullback–Leibler divergence between discrete distributions, and between
``torch.distributions`` objects.

Direction
---------
On tensors, :func:`kl_divergence` follows the loss convention (prediction first, target second)
and computes :math:`\mathrm{KL}(P_{\text{target}} \,\|\, Q_{\text{input}})`, the divergence of the
model's distribution from the target's, as ``torch.nn.functional.kl_div`` and Keras'
``kl_divergence`` do. On two ``torch.distributions.Distribution`` objects it follows TensorFlow's
``kl_divergence(distribution_a, distribution_b)`` and ``torch.distributions.kl_divergence(p, q)``:
the result is :math:`\mathrm{KL}(a \,\|\, b)` with the *first* argument first.

Reductions
----------
The unreduced loss (``"none"``) is the divergence of each distribution, summed along ``dim``:
``input``'s shape without ``dim``. ``"sum"`` adds them, ``"batchmean"`` (the default) divides that
sum by the size of the leading dimension of the unreduced loss, and ``"mean"`` divides it by the
number of distributions. Relations with ``torch.nn.functional.kl_div`` (whose ``"none"`` is
elementwise) for ``dim != 0``:

* ``"sum"`` and ``"batchmean"`` are equal to ``kl_div``'s;
* ``"none"`` is ``kl_div(..., reduction="none").sum(dim)``;
* ``"mean"`` is ``kl_div(..., reduction="mean")`` times the number of classes :math:`C`
  (``kl_div`` averages over elements, losskit over distributions).

With ``dim=0`` the leading dimension holds the classes, so ``"batchmean"`` divides by the number of
distributions (1 for a single 1-D distribution), whereas ``kl_div`` divides by :math:`C`.

Zeros and infinities
--------------------
Terms with a target probability of exactly 0 contribute 0 (:math:`0 \log 0 = 0`) with zero
gradient, whatever the input says there (``kl_div(..., log_target=True)`` returns NaN for a target
log-probability of :math:`-\infty`; losskit returns 0). A target probability :math:`> 0` where the
input probability is exactly 0 (``input_kind="probs"`` with a 0, or ``"log_probs"`` with
:math:`-\infty`) gives :math:`+\infty`, the true value of the divergence. Logits never give an
infinite divergence: they are normalised with ``log_softmax``, never ``log(softmax(x))``. Inputs
are not renormalised and are not checked to sum to one.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as tF
from torch import Tensor
from torch.distributions import Distribution

from .._core.checks import (
    check_class_dim,
    check_distribution,
    check_floating,
    check_option,
    check_same_shape,
    fail,
    transforming,
)
from .._core.dtypes import to_compute
from .._core.function import apply, derivative_times, save_with_derivative
from .._core.reduction import reduce_loss

__all__ = ["kl_divergence"]

KL_REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum", "batchmean")
"""The reductions :func:`kl_divergence` accepts."""

_KINDS = ("probs", "log_probs", "logits")


def _log_probs(kind: str, value: Tensor, dim: int, support: Tensor | None = None) -> Tensor:
    """Log-probabilities from probabilities, log-probabilities or logits (stable).

    For probabilities, entries outside ``support`` (where the other distribution has no mass) are
    replaced by 1 before the log, so that log's backward never divides by a masked-out zero.
    """
    if kind == "logits":
        return tF.log_softmax(value, dim=dim)
    if kind == "log_probs":
        return value
    return torch.log(value if support is None else torch.where(support, value, 1.0))


def _check_kind(
    fn: str, name: str, kind: str, value: Tensor, dim: int, validate: bool | None
) -> None:
    """Data-dependent: ``"probs"`` and ``"log_probs"`` must be distributions along ``dim``
    (entries in [0, 1], or <= 0, summing, or their exponentials summing, to 1; NaN fails)."""
    if kind in ("probs", "log_probs"):
        hint = f"{kind} along dim {dim}; pass input_kind/target_kind='logits' for scores"
        check_distribution(
            fn, name, value, dim, log=kind == "log_probs", validate=validate, hint=hint
        )


_KL_BLOCK = 1 << 20
"""Elements per block of rows of :class:`_LogitsKL` (4 MiB in float32: the block's scratch
stays in the last-level cache)."""


class _LogitsKL(torch.autograd.Function):
    r"""The summed KL divergence of probabilities ``p`` from the softmax of logits ``x``
    ``(R, C)``, its derivative formed in the forward pass.

    Per row, with :math:`m = \max_c x_c`, :math:`e = e^{x - m}`, :math:`s = \sum_c e`,
    :math:`\mathrm{lse} = m + \log s` and :math:`P = \sum_c p_c`:

    .. math::

        \mathrm{KL} = \sum_c p_c \log p_c - \sum_c p_c x_c + P\,\mathrm{lse}, \qquad
        \frac{\partial\,\mathrm{KL}}{\partial x_c} = \frac{P}{s}\,e_c - p_c,

    so one exponential pass gives both the log-sum-exp and the softmax, and one logarithm pass
    the entropy term (:math:`p \log \max(p, \mathrm{tiny})`: 0 log 0 = 0, and the subnormal
    :math:`p` it moves contribute below :math:`10^{-36}`; ``torch.xlogy`` itself is 4x slower
    on CPU), the sums as dot products, a block of rows at a time with cache-sized scratch
    buffers and no log-softmax tensor. The derivative is written into one input-sized buffer
    that the first backward pass scales in place (:func:`~losskit._core.function.hold`); a
    second pass over a retained graph, or a differentiated one, recomputes it.
    """

    @staticmethod
    def forward(x: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        rows, classes = x.shape
        step = max(1, _KL_BLOCK // max(classes, 1))
        slope = torch.empty_like(x)
        scratch = x.new_empty(min(step, rows), classes)
        tiny = torch.finfo(x.dtype).tiny
        parts = []
        for start in range(0, rows, step):
            stop = min(start + step, rows)
            xb, pb, eb = x[start:stop], p[start:stop], slope[start:stop]
            sb = scratch[: stop - start]
            m = xb.amax(-1, keepdim=True)
            torch.sub(xb, m, out=eb).exp_()
            s = eb.sum(-1, keepdim=True)
            mass = pb.sum(-1, keepdim=True)
            lse = m.add_(s.log())
            pf = pb.reshape(-1)
            cross = torch.dot(pf, xb.reshape(-1))
            # sum p log p with 0 log 0 = 0: p log max(p, tiny) (xlogy itself is 4x slower); a
            # block with a negative p (validation off) takes xlogy, whose NaN says so
            entropy = torch.dot(pf, torch.clamp_min(pb, tiny, out=sb).log_().view(-1))
            if bool(pb.amin() < 0):
                entropy = torch.xlogy(pb, pb).sum()
            parts.append(entropy - cross + torch.dot(lse.view(-1), mass.view(-1)))
            eb.mul_(mass.div_(s)).sub_(pb)
        total = torch.stack(parts).sum() if parts else x.new_zeros(())
        return total, slope

    @staticmethod
    def setup_context(
        ctx: Any, inputs: tuple[Tensor, Tensor], output: tuple[Tensor, Tensor]
    ) -> None:
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        save_with_derivative(ctx, output[1], *inputs)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, _unused: Tensor | None) -> tuple[Any, None]:
        if grad is None or not ctx.needs_input_grad[0]:
            return None, None
        x, p, *kept = ctx.saved_tensors
        if torch.is_grad_enabled():  # differentiated backward: differentiable operations
            return grad * (p.sum(-1, keepdim=True) * torch.softmax(x, -1) - p), None
        return derivative_times(ctx, kept, grad, lambda: _LogitsKL.forward(x, p)[1]), None


def _check_nan(fn: str, loss: Tensor, allow_nan_stats: bool) -> None:
    if not allow_nan_stats and bool(torch.isnan(loss).any()):
        count = int(torch.isnan(loss).sum())
        raise fail(
            fn, f"result must not be NaN when allow_nan_stats=False, got {count} NaN value(s)"
        )


def _distribution_kl(
    fn: str,
    a: Distribution,
    b: Distribution,
    dim: int,
    input_kind: str,
    target_kind: str,
) -> Tensor:
    if not (isinstance(a, Distribution) and isinstance(b, Distribution)):
        raise fail(
            fn,
            "input and target must both be tensors or both torch.distributions."
            f"Distribution objects, got {type(a).__name__} and {type(b).__name__}",
            TypeError,
        )
    if dim != 1 or input_kind != "logits" or target_kind != "probs":
        raise fail(
            fn,
            "dim, input_kind and target_kind must keep their defaults for Distribution "
            f"arguments, got dim={dim!r}, input_kind={input_kind!r}, target_kind={target_kind!r}",
        )
    try:
        return torch.distributions.kl_divergence(a, b)
    except NotImplementedError:
        raise fail(
            fn,
            "input and target must be a pair of distributions with a registered analytic "
            f"KL divergence, got {type(a).__name__} and {type(b).__name__}",
            TypeError,
        ) from None


def kl_divergence(
    input: Tensor | Distribution,
    target: Tensor | Distribution,
    *,
    dim: int = 1,
    input_kind: str = "logits",
    target_kind: str = "probs",
    allow_nan_stats: bool = True,
    weight: Tensor | None = None,
    reduction: str = "batchmean",
    validate: bool | None = None,
) -> Tensor:
    r"""Kullback–Leibler divergence of the input distribution from the target distribution.

    .. math::

        \ell(x, y) = \{l_1, \dots, l_N\}, \qquad
        l_n = \mathrm{KL}(P_n \,\|\, Q_n) = \sum_c p_{n,c} \,(\log p_{n,c} - \log q_{n,c}),

    with :math:`P_n` the target and :math:`Q_n` the input distribution along ``dim``,
    :math:`0 \log 0 = 0`, and a term :math:`+\infty` where :math:`p > 0 = q`. Given two
    ``torch.distributions.Distribution`` objects ``(a, b)`` it returns the analytic
    :math:`\mathrm{KL}(a \,\|\, b)` of ``torch.distributions.kl_divergence(a, b)`` (note the
    order: the first argument first, as TensorFlow's ``kl_divergence(distribution_a,
    distribution_b)``), reduced over its batch shape. Directions, reductions and the relation
    with ``torch.nn.functional.kl_div`` are described in :mod:`losskit.functional.divergence`.

    Args:
        input: the model's distribution ``[N, C, *]`` (classes along ``dim``) as ``input_kind``;
            or a ``Distribution``.
        target: the target distribution, same shape, as ``target_kind``; or a ``Distribution``.
        dim: the class dimension (tensors only).
        input_kind: ``"logits"`` (default), ``"log_probs"`` or ``"probs"``.
        target_kind: ``"probs"`` (default), ``"log_probs"`` or ``"logits"``.
        allow_nan_stats: when ``False``, a NaN in the unreduced result raises ``ValueError``
            (TensorFlow's switch of the same name). The check reads the result on the host.
        weight: optional weights broadcastable to the unreduced shape (``input`` without ``dim``,
            or the distributions' batch shape).
        reduction: ``"none" | "mean" | "sum" | "batchmean"``; ``"none"`` gives ``[N, *]``.
        validate: check that ``"probs"`` and ``"log_probs"`` are distributions along ``dim``
            (probabilities in :math:`[0, 1]`, log-probabilities :math:`\le 0`, summing to 1 up to
            rounding); ``None`` follows :func:`losskit.set_validation`.

    Returns:
        ``[N, *]`` for ``"none"``, else a scalar; float32 for half/bfloat16 inputs.

    Raises:
        ValueError: shapes differ, values outside the kind's range (validation on), a NaN with
            ``allow_nan_stats=False``, bad ``dim``, kind or reduction.
        TypeError: a tensor is not floating; one tensor and one distribution; a pair of
            distributions without an analytic KL.

    Example:
        >>> logits = torch.tensor([[0.0, 0.0], [2.0, -1.0]])
        >>> probs = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
        >>> kl_divergence(logits, probs, reduction="none")
        tensor([0.0000, 0.0486])
        >>> from torch.distributions import Normal
        >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0), reduction="none")
        tensor(0.5000)

    References:
        Kullback and Leibler, "On Information and Sufficiency", Ann. Math. Statist. 22(1), 1951.
    """
    fn = "kl_divergence"
    if isinstance(input, Distribution) or isinstance(target, Distribution):
        loss = _distribution_kl(
            fn, cast(Distribution, input), cast(Distribution, target), dim, input_kind, target_kind
        )
        _check_nan(fn, loss, allow_nan_stats)
        return reduce_loss(loss, reduction, weight=weight, allowed=KL_REDUCTIONS, fn=fn)

    check_option(fn, "input_kind", input_kind, _KINDS)
    check_option(fn, "target_kind", target_kind, _KINDS)
    check_floating(fn, "input", input)
    check_floating(fn, "target", target)
    check_same_shape(fn, input, target)
    d = check_class_dim(fn, input, dim)
    _check_kind(fn, "input", input_kind, input, d, validate)
    _check_kind(fn, "target", target_kind, target, d, validate)

    x, y = to_compute(input, target)
    if (
        target_kind == "probs"
        and input_kind == "logits"
        and not y.requires_grad
        and weight is None
        and allow_nan_stats
        and reduction in ("mean", "sum", "batchmean")
        and x.numel()
    ):
        # One sum for the whole batch; the divisor of "mean" (the loss's elements) and
        # "batchmean" (its first dimension) follows.
        if d == x.dim() - 1 and not torch.compiler.is_compiling() and not transforming():
            total, _ = apply(_LogitsKL, x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1]))
        else:  # torch's kernel sums p (log p - log q) in the passes of F.kl_div
            total = tF.kl_div(tF.log_softmax(x, dim=d), y, reduction="sum")
        shape = x.shape[:d] + x.shape[d + 1 :]
        divisor = {"sum": 1.0, "mean": float(math.prod(shape))}.get(
            reduction, float(shape[0]) if shape else 1.0
        )
        return reduce_loss(total, "mean", divisor=divisor, fn=fn)
    if target_kind == "probs" and input_kind == "logits" and not y.requires_grad:
        # The default: xlogy gives 0 log 0 = 0 in one pass (as kl_div); log_softmax is finite,
        # so p = 0 times it is 0, and the input gradient there, -p, is 0.
        loss = (torch.xlogy(y, y) - y * tF.log_softmax(x, dim=d)).sum(dim=d)
    else:
        # Terms with p = 0 are 0 (0 log 0 = 0), with zero gradient: the difference of the logs
        # is masked there, and probabilities are masked *before* their log so that log's
        # backward never divides by a masked-out zero. Two log_softmax results are finite and
        # need no mask. NaN stays NaN (NaN != 0 keeps it in the support).
        if target_kind == "probs":
            p = y
            support = p != 0
            log_p = _log_probs("probs", p, d, support)
        else:
            log_p = _log_probs(target_kind, y, d)
            p = log_p.exp()
            support = p != 0
        diff = log_p - _log_probs(input_kind, x, d, support)
        if not (target_kind == "logits" and input_kind == "logits"):
            diff = torch.where(support, diff, 0.0)
        loss = (p * diff).sum(dim=d)
    _check_nan(fn, loss, allow_nan_stats)
    return reduce_loss(loss, reduction, weight=weight, allowed=KL_REDUCTIONS, fn=fn)
