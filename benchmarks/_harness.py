"""Measuring helpers shared by the ``bench_*.py`` scripts.

Every benchmark measures in one process and prints ratios; this module holds the pieces they
have in common:

* :func:`fwd_bwd` times one forward + backward of a loss thunk, :func:`call` one plain call;
* :func:`interleaved_medians` runs every contender once per round, in turn, so that a change of
  machine load hits all of them alike, and returns the samples as :class:`Timings` (medians and
  medians of the per-round ratios);
* :func:`saved_bytes` counts the bytes of the tensors autograd saves for backward, with
  ``torch.autograd.graph.saved_tensors_hooks`` (each storage once, given storages excluded): the
  memory a loss holds between forward and backward;
* :func:`keras_losses` imports Keras 3 on the torch backend;
* :func:`numel_rounds_args` parses the ``--numel`` / ``--rounds`` options of the elementwise
  benchmarks;
* :func:`print_table` and :func:`ratio` print the results.

The scripts import it as ``from _harness import ...``: run as ``python benchmarks/bench_X.py``,
Python puts the script's own folder first on ``sys.path``, whatever the working directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import torch
from torch import Tensor

__all__ = [
    "MIB",
    "Measure",
    "Sample",
    "Timings",
    "call",
    "fwd_bwd",
    "interleaved_medians",
    "keras_losses",
    "numel_rounds_args",
    "print_table",
    "ratio",
    "saved_bytes",
]

K = TypeVar("K", bound=Hashable)

MIB = 1 << 20
"""Bytes in a mebibyte (the scripts print memory in MiB)."""


class Sample(NamedTuple):
    """One timed call: wall-clock seconds and CPU seconds of the calling thread.

    ``cpu`` comes from :func:`time.thread_time`: with one intra-op thread all the work runs on
    the calling thread, and time spent descheduled on a loaded machine is not counted.
    """

    wall: float
    cpu: float


Measure = Callable[[Callable[[], Any]], Sample]
"""Times one run of a thunk (:func:`fwd_bwd` or :func:`call`)."""


def call(thunk: Callable[[], object]) -> Sample:
    """Time one call of ``thunk`` (forward only, e.g. a function without gradient)."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    thunk()
    cpu = time.thread_time() - start_cpu
    return Sample(time.perf_counter() - start, cpu)


def fwd_bwd(thunk: Callable[[], Tensor], *, clear: Collection[Tensor] = ()) -> Sample:
    """Time one forward + backward: ``thunk().backward()``.

    Args:
        thunk: computes the scalar loss from tensors it closes over.
        clear: leaves whose ``.grad`` is set to ``None`` before the clock starts, so that every
            call allocates fresh gradients (as after ``zero_grad()``) instead of accumulating.

    Returns:
        The wall-clock and thread CPU seconds of the forward and backward together.
    """
    for leaf in clear:
        leaf.grad = None
    start, start_cpu = time.perf_counter(), time.thread_time()
    thunk().backward()
    cpu = time.thread_time() - start_cpu
    return Sample(time.perf_counter() - start, cpu)


@dataclass(frozen=True)
class Timings(Generic[K]):
    """Per-round samples of each contender, in seconds, the rounds aligned across contenders."""

    wall: dict[K, list[float]]
    cpu: dict[K, list[float]]

    def samples(self, key: K, *, cpu: bool = False) -> list[float]:
        """The per-round seconds of ``key`` (thread CPU time if ``cpu``, else wall time)."""
        return (self.cpu if cpu else self.wall)[key]

    def median(self, key: K, *, cpu: bool = False) -> float:
        """Median seconds of ``key``."""
        return statistics.median(self.samples(key, cpu=cpu))

    def medians(self, *, cpu: bool = False) -> dict[K, float]:
        """Median seconds of every contender."""
        return {key: self.median(key, cpu=cpu) for key in self.wall}

    def paired(self, key: K, base: K, *, cpu: bool = False) -> float:
        """Median over rounds of ``key``'s time / ``base``'s time in the same round.

        Each round runs the contenders back to back, so this ratio is robust to load changes
        between rounds.
        """
        pairs = zip(self.samples(key, cpu=cpu), self.samples(base, cpu=cpu), strict=True)
        return statistics.median(a / b for a, b in pairs)


def interleaved_medians(
    contenders: Mapping[K, Callable[[], Any]],
    *,
    rounds: int,
    warmup: int = 1,
    measure: Measure = fwd_bwd,
    alternate: bool = False,
) -> Timings[K]:
    """Measure every contender once per round, in turn, for ``rounds`` rounds.

    Args:
        contenders: name -> thunk; what one run is depends on ``measure``.
        rounds: timed rounds; each round runs every contender once.
        warmup: untimed rounds before them.
        measure: times one run of a thunk: :func:`fwd_bwd` (the default; use
            ``functools.partial(fwd_bwd, clear=leaves)`` to reset gradients) or :func:`call`.
        alternate: run the contenders in reverse order on every even round (the first included),
            so that neither side of a pair always runs on a cache the other left warm.

    Returns:
        The samples; ``.median(name)`` and ``.paired(name, base)`` give the figures.
    """
    order = list(contenders.items())
    for _ in range(warmup):
        for _, thunk in order:
            measure(thunk)
    wall: dict[K, list[float]] = {key: [] for key, _ in order}
    cpu: dict[K, list[float]] = {key: [] for key, _ in order}
    for r in range(rounds):
        for key, thunk in reversed(order) if alternate and r % 2 == 0 else order:
            sample = measure(thunk)
            wall[key].append(sample.wall)
            cpu[key].append(sample.cpu)
    return Timings(wall, cpu)


def saved_bytes(thunk: Callable[[], object], exclude: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``thunk`` runs.

    Counted with ``torch.autograd.graph.saved_tensors_hooks``: each storage once however many
    saved tensors view it, and none of the storages of ``exclude`` (the caller's inputs, which
    exist anyway), so the figure is the memory the call adds between forward and backward.
    The thunk's result is dropped without a backward pass.
    """
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        thunk()
    return sum(seen.values())


def keras_losses() -> Any | None:
    """``keras.losses`` on the torch backend, or ``None`` if Keras is missing or on another one.

    Sets ``KERAS_BACKEND=torch`` unless the environment already chose a backend; Keras reads it
    on its first import.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    return keras.losses if keras.backend.backend() == "torch" else None


def numel_rounds_args(
    description: str, *, numel: int = 1 << 22, rounds: int = 15
) -> argparse.Namespace:
    """Parse ``--numel`` (elements per input tensor) and ``--rounds`` (timed rounds)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--numel", type=int, default=numel)
    parser.add_argument("--rounds", type=int, default=rounds)
    return parser.parse_args()


def ratio(num: float, den: float, fmt: str = "{:.2f}x") -> str:
    """``num / den`` formatted with ``fmt``, or ``"n/a"`` when ``den`` is zero."""
    return fmt.format(num / den) if den else "n/a"


def print_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    align: str | None = None,
    rule: bool = False,
) -> None:
    """Print string cells as aligned columns, two spaces apart.

    Args:
        header: column titles.
        rows: rows of already formatted cells, as many as ``header``.
        align: one ``"l"`` or ``"r"`` per column; default: the first column left, the rest
            right.
        rule: print a dashed line under the header.
    """
    body = [list(row) for row in rows]
    align = align or "l" + "r" * (len(header) - 1)
    if any(len(row) != len(header) for row in body) or len(align) != len(header):
        raise ValueError("print_table: every row and align need one entry per column")
    widths = [max(len(cell) for cell in col) for col in zip(header, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        )
        return "  ".join(padded).rstrip()

    print(line(header))
    if rule:
        print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in body:
        print(line(row))
