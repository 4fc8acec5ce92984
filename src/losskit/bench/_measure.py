"""Measuring primitives of :mod:`losskit.bench`: timed calls, interleaved rounds, memory.

* :func:`run_once` times one forward + backward (or one plain call) of a thunk, synchronising
  the device on GPU;
* :func:`interleaved` runs every contender once per round, in turn (the order reversed every
  other round), after untimed warm-up rounds, so that a change of machine load hits all of
  them alike and cancels in the per-round ratios;
* :func:`paired_ratios` gives those per-round ratios;
* :func:`saved_bytes` counts the bytes autograd saves for backward beyond the inputs;
* :func:`peak_bytes` measures the peak memory one call adds: the allocator's peak on GPU, the
  resident-set high-water mark on CPU (run it in a fresh process: see
  :mod:`losskit.bench._peak`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["interleaved", "paired_ratios", "peak_bytes", "run_once", "saved_bytes"]

Thunk = Callable[[], object]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_once(
    thunk: Thunk,
    *,
    backward: bool = True,
    clear: Sequence[Tensor] = (),
    device: torch.device | None = None,
) -> float:
    """Wall-clock seconds of ``thunk().backward()`` (``backward=False``: of ``thunk()``).

    The ``.grad`` of every tensor in ``clear`` is reset first, so that each call allocates its
    gradients afresh (as after ``zero_grad(set_to_none=True)``).
    """
    for leaf in clear:
        leaf.grad = None
    dev = device or torch.device("cpu")
    _sync(dev)
    start = time.perf_counter()
    out = thunk()
    if backward:
        assert isinstance(out, Tensor)
        out.backward()
    _sync(dev)
    return time.perf_counter() - start


def interleaved(
    thunks: Mapping[str, Thunk],
    *,
    rounds: int,
    warmup: int,
    backward: bool | Mapping[str, bool] = True,
    clear: Sequence[Tensor] = (),
    device: torch.device | None = None,
) -> dict[str, list[float]]:
    """Seconds of every contender in each of ``rounds`` rounds, after ``warmup`` rounds.

    Each round runs every contender once; the order is reversed on every other round, so that
    neither side of a pair always runs on a cache the other left warm. Sample ``i`` of every
    contender comes from round ``i``. ``backward`` may be given per contender (a floor that is
    a plain copy has none).
    """
    order = list(thunks.items())
    back = {
        name: backward if isinstance(backward, bool) else backward.get(name, True)
        for name, _ in order
    }
    for _ in range(warmup):
        for name, thunk in order:
            run_once(thunk, backward=back[name], clear=clear, device=device)
    samples: dict[str, list[float]] = {name: [] for name, _ in order}
    for r in range(rounds):
        for name, thunk in reversed(order) if r % 2 else order:
            samples[name].append(run_once(thunk, backward=back[name], clear=clear, device=device))
    return samples


def paired_ratios(num: Sequence[float], den: Sequence[float], *, scale: float = 1.0) -> list[float]:
    """Per-round ratios ``scale * num[i] / den[i]`` (rounds where ``den[i]`` is 0 dropped)."""
    return [scale * a / b for a, b in zip(num, den, strict=True) if b > 0]


def saved_bytes(thunk: Thunk, exclude: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct storages autograd holds for backward while ``thunk`` runs.

    Counted with ``torch.autograd.graph.saved_tensors_hooks`` (tensors saved with
    ``save_for_backward`` and by built-in operations), plus the tensors that custom
    :class:`torch.autograd.Function` nodes of the output's graph keep as context attributes:
    each storage once however many tensors view it, the storages of ``exclude`` (the inputs,
    which exist anyway) not counted. This is the memory a loss holds between its forward and its
    backward pass.
    """
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen: dict[int, int] = {}

    def count(t: Tensor) -> None:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()

    def pack(t: Tensor) -> Tensor:
        count(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = thunk()
    for node in _graph_nodes(out):
        for value in getattr(node, "__dict__", {}).values():
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(item, Tensor):
                    count(item)
    return sum(seen.values())


def _graph_nodes(out: object) -> list[object]:
    """Every node of the autograd graph behind ``out`` (a tensor, or a tuple of them)."""
    roots = [
        t.grad_fn
        for t in (out if isinstance(out, (tuple, list)) else (out,))
        if isinstance(t, Tensor) and t.grad_fn is not None
    ]
    nodes: list[object] = []
    seen: set[int] = set()
    while roots:
        node = roots.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        roots.extend(n for n, _ in getattr(node, "next_functions", ()))
    return nodes


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def peak_bytes(
    thunk: Thunk,
    *,
    backward: bool = True,
    clear: Sequence[Tensor] = (),
    device: torch.device | None = None,
) -> int | None:
    """Extra peak memory of one call of ``thunk`` (and its backward) over what existed before.

    On GPU: ``torch.cuda.max_memory_allocated`` after a reset, minus the allocated bytes before.
    On CPU (Linux): the resident-set high-water mark ``VmHWM`` after handing freed heap pages
    back (``malloc_trim``) and resetting the mark (``/proc/self/clear_refs``), minus the resident
    size before; ``None`` where ``/proc`` does not allow it. Meaningful in a process that holds
    little else: :mod:`losskit.bench._peak` runs it in a fresh one.
    """
    dev = device or torch.device("cpu")
    for leaf in clear:
        leaf.grad = None
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        before = torch.cuda.memory_allocated(dev)
        run_once(thunk, backward=backward, device=dev)
        return int(torch.cuda.max_memory_allocated(dev) - before)
    try:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kib("VmRSS")
        run_once(thunk, backward=backward)
        return max(0, (_status_kib("VmHWM") - before) * 1024)
    except OSError:
        return None
