r"""Losses that stay exact when the batch is split over ``torch.distributed`` ranks.

Every loss whose statistics span the batch takes ``process_group=`` (default ``None``: the
local batch, no communication): dice, Jaccard and Tversky with ``batch=True`` (the per-class
sums), :func:`losskit.balanced_sigmoid_cross_entropy` with ``beta="batch"`` (the counts of β),
:class:`losskit.nn.CenterLoss` (the centre update), and the ``"mean"`` of the cross-entropy
and focal losses (the count of counted elements). With a group, each such loss returns on
every rank the value a single process would compute on the concatenated batch, and the
gradient of each rank's shard is the single-process gradient restricted to that shard. Ranks
may hold shards of different sizes, an empty one included; every rank must make the call.

The collectives are sums of a few statistics (never a gather of the data), differentiable by
:func:`all_reduce_sum`, whose backward passes the local term's gradient through. (That of
``torch.distributed.nn.functional.all_reduce`` sums the gradients of the ranks, which gives
``world_size`` times the local share when every rank back-propagates the same global loss.)

Under ``DistributedDataParallel``, which averages the ranks' gradients, multiply the loss by
the world size before ``backward()`` to obtain the gradient of single-process training on the
whole batch; see ``docs/distributed.md`` for the scaling, gradient accumulation and the
communication cost.

The classes of a vocabulary sharded over a tensor-parallel group:
:func:`vocab_parallel_cross_entropy` (on each rank's block of logits) and
:func:`vocab_parallel_linear_cross_entropy` (on the hidden states and each rank's rows of the
output projection, chunked), see :mod:`losskit.distributed.vocab_parallel`.

Helpers on the reduction parts ``(total, divisor)``: :func:`global_mean` (any loss's parts,
one step), :func:`global_divisor` and :func:`label_count` (gradient accumulation over
micro-batches of unequal sizes).

Example:
    >>> import torch
    >>> from losskit.distributed import LossParts, global_mean
    >>> global_mean([LossParts(torch.tensor(3.0), 1.0), LossParts(torch.tensor(3.0), 3.0)])
    tensor(1.5000)
"""

from __future__ import annotations

from .. import catalogue as _catalogue
from .._core.distributed import all_reduce_sum, global_parts
from .._core.reduction import LossParts
from .parts import global_divisor, global_mean, label_count
from .vocab_parallel import vocab_parallel_cross_entropy, vocab_parallel_linear_cross_entropy

__all__ = [
    "LossParts",
    "all_reduce_sum",
    "global_divisor",
    "global_mean",
    "global_parts",
    "label_count",
    "vocab_parallel_cross_entropy",
    "vocab_parallel_linear_cross_entropy",
]

_catalogue.add(
    _catalogue.Entry(
        "distributed.all_reduce_sum",
        "op",
        "distributed",
        all_reduce_sum,
        "torch.distributed.all_reduce (SUM) with the local term's gradient",
    ),
    _catalogue.Entry(
        "distributed.global_parts",
        "statistic",
        "distributed",
        global_parts,
        "losskit reduction parts summed over a torch.distributed group",
    ),
    _catalogue.Entry(
        "distributed.global_mean",
        "op",
        "distributed",
        global_mean,
        "sum of totals over sum of divisors (torch.nn.functional.cross_entropy 'mean')",
    ),
    _catalogue.Entry(
        "distributed.global_divisor",
        "statistic",
        "distributed",
        global_divisor,
        "the divisor of an accumulation step over micro-batches and ranks",
    ),
    _catalogue.Entry(
        "distributed.label_count",
        "statistic",
        "distributed",
        label_count,
        "torch.nn.functional.cross_entropy's 'mean' divisor (counted labels, class weights)",
    ),
    _catalogue.Entry(
        "distributed.LossParts",
        "type",
        "distributed",
        LossParts,
        "losskit reduction parts (total, divisor)",
    ),
    _catalogue.Entry(
        "distributed.vocab_parallel_cross_entropy",
        "op",
        "distributed",
        vocab_parallel_cross_entropy,
        "torch.nn.functional.cross_entropy over class-sharded logits; Megatron-LM",
    ),
    _catalogue.Entry(
        "distributed.vocab_parallel_linear_cross_entropy",
        "op",
        "distributed",
        vocab_parallel_linear_cross_entropy,
        "F.cross_entropy(F.linear(...)) with the weight sharded by rows; Megatron-LM; CCE",
    ),
)
