"""Benchmarks of losskit against the libraries a user would otherwise pick (``losskit bench``).

For every loss (:data:`losskit.bench.cases.CASES`) and every peer that has it, in one process on
one device (CPU float32 by default):

* **time**: forward + backward, every contender once per round in turn (the order reversed
  every other round), after warm-up rounds; the ratio ``losskit / other`` is the median of the
  per-round ratios, so that a change of machine load between rounds cancels;
* **extra memory**: the bytes autograd saves for backward beyond the inputs
  (``saved_tensors_hooks``), and the peak extra memory of one call, measured in a fresh
  subprocess (resident-set high-water mark on CPU, the allocator's peak on GPU);
* **floors** for the elementwise losses: torch's fused ``binary_cross_entropy_with_logits``
  forward + backward on as many elements, and the memory-bandwidth floor (a copy of the bytes
  that reading the inputs and writing the gradient once moves).

Peers (torch.nn.functional, the torchvision formulation written op for op, kornia, MONAI,
Keras 3 on the torch backend, torchmetrics, pytorch-metric-learning, rapidfuzz) are imported
when their case runs, never at ``import losskit``; one that is not installed is skipped with a
note.

Example:
    >>> from losskit.bench import format_table, run
    >>> result = run(["ctc"], quick=True, rounds=1, warmup=0, peak=False)  # doctest: +SKIP
    >>> print(format_table(result))  # doctest: +SKIP

From the shell: ``python -m losskit.bench [--quick] [--only FAMILY] [--json FILE]`` (and
``losskit bench``).
"""

from __future__ import annotations

from .cases import CASES, FAMILIES
from .runner import format_table, main, run, select

__all__ = ["CASES", "FAMILIES", "format_table", "main", "run", "select"]
