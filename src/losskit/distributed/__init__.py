"""Losses whose computation spans the processes of a ``torch.distributed`` group.

* :func:`vocab_parallel_cross_entropy` and :func:`vocab_parallel_linear_cross_entropy`: the
  cross-entropy over a vocabulary sharded by class across the ranks of a tensor-parallel group
  (:mod:`losskit.distributed.vocab_parallel`).
"""

from .vocab_parallel import vocab_parallel_cross_entropy, vocab_parallel_linear_cross_entropy

__all__ = ["vocab_parallel_cross_entropy", "vocab_parallel_linear_cross_entropy"]
