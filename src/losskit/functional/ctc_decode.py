"""CTC decoders: best path (greedy) and prefix beam search over ``(T, N, C)`` log-probabilities.

The decoders share the input conventions of :func:`losskit.ctc_loss` (time-major by default,
``blank=0``, lengths as a tensor or a sequence) and return a :class:`CTCDecoding` of padded label
sequences that can be fed back as CTC targets. They are inference code: no gradient flows through
them, and the beam search walks each sequence's prefix tree on the CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .._core.checks import (
    check_in_range,
    fail,
)
from .ctc import (
    _NEG_INF,
    _check_blank,
    _check_flag,
    _check_log_probs,
    _lengths,
)

__all__ = ["CTCDecoding", "ctc_beam_search_decode", "ctc_greedy_decode"]


class CTCDecoding(NamedTuple):
    """The result of a CTC decoder: padded label sequences, their lengths and scores.

    ``sequences`` are int64, padded with ``-1`` after ``lengths`` labels (so that
    ``(sequences, lengths)`` can be passed on as padded targets); ``log_probs`` are in the
    compute dtype of the input (float32 for half/bfloat16).

    References:
        The ``(decoded, log_probabilities)`` outputs of ``tf.nn.ctc_greedy_decoder`` and
        ``tf.nn.ctc_beam_search_decoder``, as padded tensors instead of a SparseTensor.
    """

    sequences: Tensor
    lengths: Tensor
    log_probs: Tensor


def _decoder_inputs(
    fn: str,
    log_probs: Tensor,
    input_lengths: Tensor | Sequence[int],
    blank: int,
    merge_repeated: bool,
    batch_first: bool,
) -> tuple[Tensor, Tensor]:
    _check_flag(fn, "merge_repeated", merge_repeated)
    _check_flag(fn, "batch_first", batch_first)
    lp = _check_log_probs(fn, log_probs, batch_first).detach()
    frames, batch, num_classes = lp.shape
    _check_blank(fn, blank, num_classes)
    il = _lengths(fn, "input_lengths", input_lengths, batch, lp.device)
    check_in_range(fn, "input_lengths", il, 0, frames, validate=True)
    return lp, il


def _pack(
    rows: Sequence[Sequence[int]], batch_shape: tuple[int, ...], device: torch.device
) -> tuple[Tensor, Tensor]:
    width = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), width), -1, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    return (
        out.reshape(*batch_shape, width).to(device),
        lengths.reshape(batch_shape).to(device),
    )


def ctc_greedy_decode(
    log_probs: Tensor,
    input_lengths: Tensor | Sequence[int],
    *,
    blank: int = 0,
    merge_repeated: bool = True,
    batch_first: bool = False,
) -> CTCDecoding:
    r"""Best-path (greedy) CTC decoding.

    .. math::

        \hat\pi_t = \arg\max_c \log p_t(c), \qquad \hat y = \mathcal B(\hat\pi), \qquad
        \text{score} = \sum_{t < T_n} \max_c \log p_t(c)

    Takes the most likely class of every frame inside ``input_lengths`` (the first one on ties),
    merges runs of equal classes when ``merge_repeated`` and removes blanks. Equals
    ``tf.nn.ctc_greedy_decoder(inputs, sequence_length, merge_repeated, blank_index)``; TensorFlow
    returns ``neg_sum_logits``, the negated score: here ``log_probs`` is the score itself, the
    log-probability of the best path when the input holds log-probabilities.

    Args:
        log_probs: ``(T, N, C)`` (``(N, T, C)`` with ``batch_first``) log-probabilities or
            logits; floating.
        input_lengths: ``(N,)`` frames per sample, in ``[0, T]``.
        blank: the blank class (TensorFlow's default is ``C - 1``).
        merge_repeated: merge runs of the same class (``a a - a -> a a``); ``False`` keeps every
            non-blank frame (``a a - a -> a a a``).
        batch_first: ``log_probs`` is ``(N, T, C)``.

    Returns:
        :class:`CTCDecoding` with ``sequences`` ``(N, L)`` int64 padded with -1, ``lengths``
        ``(N,)`` and ``log_probs`` ``(N,)``.

    Raises:
        ValueError: wrong shapes or lengths, ``blank`` outside ``[0, C)``.
        TypeError: ``log_probs`` not floating.

    Example:
        >>> probs = torch.tensor([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
        >>> out = ctc_greedy_decode(probs.log()[:, None], [4])
        >>> out.sequences, out.lengths
        (tensor([[1, 1]]), tensor([2]))
        >>> out.log_probs.exp()  # 0.9 * 0.8 * 0.7 * 0.6
        tensor([0.3024])

    References:
        ``tf.nn.ctc_greedy_decoder``; Graves et al., "Connectionist Temporal Classification",
        ICML 2006 (best-path decoding).
    """
    fn = "ctc_greedy_decode"
    lp, il = _decoder_inputs(fn, log_probs, input_lengths, blank, merge_repeated, batch_first)
    frames, batch, _ = lp.shape
    best, cls = lp.max(dim=-1) if frames else (lp.new_zeros(0, batch), il.new_zeros(0, batch))
    running = torch.arange(frames, device=lp.device)[:, None] < il
    score = torch.where(running, best, 0.0).sum(0)
    keep = running & (cls != blank)
    if merge_repeated and frames:
        previous = torch.cat([torch.full_like(cls[:1], -1), cls[:-1]])
        keep = keep & (cls != previous)
    lengths = keep.sum(0)
    width = int(lengths.max()) if batch else 0
    dest = torch.where(keep, torch.cumsum(keep, 0) - 1, width)
    sequences = torch.full((batch, width + 1), -1, dtype=torch.long, device=lp.device)
    sequences = sequences.scatter(1, dest.T, cls.T)[:, :width]
    return CTCDecoding(sequences, lengths, score)


class _Beam:
    """A node of the prefix trie: one labelling prefix and its blank/label/total
    log-probabilities at the previous (``old_*``) and current (``new_*``) frame."""

    __slots__ = (
        "children",
        "label",
        "new_blank",
        "new_label",
        "new_total",
        "old_blank",
        "old_label",
        "old_total",
        "parent",
    )

    def __init__(self, parent: _Beam | None, label: int) -> None:
        self.parent = parent
        self.label = label
        self.children: dict[int, _Beam] = {}
        self.old_blank = self.old_label = self.old_total = _NEG_INF
        self.new_blank = self.new_label = self.new_total = _NEG_INF

    def active(self) -> bool:
        return self.new_total != _NEG_INF

    def reset_new(self) -> None:
        self.new_blank = self.new_label = self.new_total = _NEG_INF

    def labels(self) -> tuple[int, ...]:
        out = []
        node: _Beam | None = self
        while node is not None and node.parent is not None:
            out.append(node.label)
            node = node.parent
        return tuple(reversed(out))


def _logaddexp(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


class _Leaves:
    """The beam: at most ``width`` prefixes, with the lowest one found through a lazy heap."""

    def __init__(self, width: int) -> None:
        import heapq

        self._heapq = heapq
        self.width = width
        self.members: dict[int, _Beam] = {}
        self._heap: list[tuple[float, int, int]] = []
        self._count = 0

    def push(self, node: _Beam) -> None:
        self.members[id(node)] = node
        self._count += 1
        self._heapq.heappush(self._heap, (node.new_total, self._count, id(node)))

    def full(self) -> bool:
        return len(self.members) >= self.width

    def bottom(self) -> _Beam:
        while True:
            total, _, key = self._heap[0]
            node = self.members.get(key)
            if node is not None and node.new_total == total:
                return node
            self._heapq.heappop(self._heap)

    def remove(self, node: _Beam) -> None:
        del self.members[id(node)]

    def is_candidate(self, total: float) -> bool:
        return total > _NEG_INF and (not self.full() or total > self.bottom().new_total)


def _beam_search_one(
    x: Any, *, blank: int, beam_width: int, merge_repeated: bool
) -> list[tuple[tuple[int, ...], float]]:
    """Prefix beam search over one sample's ``(T, C)`` log-probabilities (a numpy array).

    The steps follow TensorFlow's ``CTCBeamSearchDecoder`` (ctc_beam_search.h) one for one,
    including its order of evaluation: the beam's prefixes first (sorted by probability), then
    their extensions label by label, a new prefix entering only if it beats the lowest one, which
    then leaves the beam. Returns the final beams ``(labels, log-probability)``, best first.
    """
    import numpy as np

    num_classes = x.shape[1]
    labels = np.array([c for c in range(num_classes) if c != blank], dtype=np.int64)
    column = {int(c): j for j, c in enumerate(labels)}
    root = _Beam(None, -1)
    root.new_total = root.new_blank = 0.0
    leaves = _Leaves(beam_width)
    leaves.push(root)
    offset = 0.0
    for row in x:
        top = float(row.max())
        offset += top
        y = (row - top).tolist()
        y_labels = np.asarray(row[labels] - top)
        branches = sorted(leaves.members.values(), key=lambda b: -b.new_total)
        leaves = _Leaves(beam_width)
        for b in branches:
            b.old_blank, b.old_label, b.old_total = b.new_blank, b.new_label, b.new_total
        for b in branches:  # the prefixes already in the beam
            parent = b.parent
            if parent is not None:
                if merge_repeated:
                    if parent.active():
                        arrival = parent.old_blank if b.label == parent.label else parent.old_total
                        b.new_label = _logaddexp(b.new_label, arrival)
                else:
                    b.new_label = parent.old_total if parent.active() else _NEG_INF
                b.new_label += y[b.label]
            b.new_blank = b.old_total + y[blank]
            b.new_total = _logaddexp(b.new_blank, b.new_label)
            leaves.push(b)
        for b in branches:  # their extensions by one label
            if not leaves.is_candidate(b.old_total):
                continue
            scores = y_labels + b.old_total
            if merge_repeated and b.label >= 0:
                same = labels == b.label
                scores[same] = y_labels[same] + b.old_blank
            threshold = leaves.bottom().new_total if leaves.full() else _NEG_INF
            pending = {int(j) for j in np.flatnonzero(scores > threshold)}
            pending.update(column[c] for c, child in b.children.items() if not child.active())
            done: set[int] = set()
            while pending:
                j = min(pending)
                pending.discard(j)
                done.add(j)
                label = int(labels[j])
                child = b.children.get(label)
                if child is None:
                    child = b.children[label] = _Beam(b, label)
                elif child.active():
                    continue
                child.new_blank = _NEG_INF
                child.new_label = child.new_total = float(scores[j])
                if leaves.is_candidate(child.new_total):
                    if leaves.full():
                        out = leaves.bottom()
                        out.reset_new()
                        leaves.remove(out)
                        if out.parent is b:
                            k = column[out.label]
                            if k > j and k not in done:
                                pending.add(k)
                    leaves.push(child)
                else:
                    child.old_blank = child.old_label = child.old_total = _NEG_INF
                    child.reset_new()
    final = sorted(leaves.members.values(), key=lambda b: -b.new_total)
    return [(b.labels(), b.new_total + offset) for b in final]


def ctc_beam_search_decode(
    log_probs: Tensor,
    input_lengths: Tensor | Sequence[int],
    *,
    blank: int = 0,
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    batch_first: bool = False,
) -> CTCDecoding:
    r"""Prefix beam search CTC decoding.

    Keeps the ``beam_width`` most probable label prefixes, each with the probability of the
    frames so far ending in a blank and in its last label,

    .. math::

        P(\ell, t) = P_{\text{blank}}(\ell, t) + P_{\text{label}}(\ell, t),

    and returns the ``top_paths`` most probable labellings with their log-probabilities (the sum
    over every path of the prefix's beam history). Frames are normalised with ``log_softmax``
    first, so logits are accepted too.

    With ``merge_repeated=True`` (standard CTC topology) the result equals
    ``tf.nn.ctc_beam_search_decoder(inputs, sequence_length, beam_width, top_paths)`` with
    ``blank = C - 1`` — which is ``tf.compat.v1.nn.ctc_beam_search_decoder(...,
    merge_repeated=False)``. The TF1 default ``merge_repeated=True`` additionally merges equal
    consecutive labels of the *returned* sequences (``b - b -> b``, a post-processing that
    changes neither the search nor the scores); it is not reproduced here. With
    ``merge_repeated=False`` the search follows the topology of
    ``ctc_loss(merge_repeated=False)``: every non-blank frame emits its label.

    Decoding runs per sample on the CPU (numpy), vectorised over beams and classes.

    Args:
        log_probs: ``(T, N, C)`` (``(N, T, C)`` with ``batch_first``); floating.
        input_lengths: ``(N,)`` frames per sample, in ``[0, T]``.
        blank: the blank class.
        beam_width: number of prefixes kept, ``>= 1``.
        top_paths: number of results per sample, in ``[1, beam_width]``.
        merge_repeated: the topology (see above).
        batch_first: ``log_probs`` is ``(N, T, C)``.

    Returns:
        :class:`CTCDecoding` with ``sequences`` ``(N, top_paths, L)`` int64 padded with -1,
        ``lengths`` ``(N, top_paths)`` and ``log_probs`` ``(N, top_paths)``, best first. When
        fewer than ``top_paths`` prefixes exist (very short inputs), the rest are empty with
        log-probability ``-inf``.

    Raises:
        ValueError: wrong shapes or lengths, bad ``blank``, ``beam_width`` or ``top_paths``.
        TypeError: ``log_probs`` not floating.

    Example:
        >>> probs = torch.tensor([[0.4, 0.6], [0.4, 0.6]])  # two frames, {blank, a}
        >>> out = ctc_beam_search_decode(probs.log()[:, None], [2], top_paths=2)
        >>> out.sequences[0], out.log_probs.exp()  # "a": aa, -a, a- ; "": --
        (tensor([[ 1],
                [-1]]), tensor([[0.8400, 0.1600]]))

    References:
        ``tf.nn.ctc_beam_search_decoder`` (TensorFlow's ``CTCBeamSearchDecoder``, whose steps
        this follows). The prefix beam search of Hannun, Maas, Jurafsky, Ng, "First-Pass Large
        Vocabulary Continuous Speech Recognition using Bi-Directional Recurrent DNNs",
        arXiv:1408.2873, 2014.
    """
    fn = "ctc_beam_search_decode"
    lp, il = _decoder_inputs(fn, log_probs, input_lengths, blank, merge_repeated, batch_first)
    for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(fn, f"{name} must be an int, got {value!r}", TypeError)
    if beam_width < 1:
        raise fail(fn, f"beam_width must be >= 1, got {beam_width}")
    if not 1 <= top_paths <= beam_width:
        raise fail(fn, f"top_paths must lie in [1, beam_width={beam_width}], got {top_paths}")
    _, batch, num_classes = lp.shape
    normalised = torch.log_softmax(lp.to(torch.float64), dim=-1).cpu().numpy()
    rows: list[tuple[int, ...]] = []
    scores: list[float] = []
    for n in range(batch):
        beams: list[tuple[tuple[int, ...], float]]
        if num_classes == 1:
            beams = [((), 0.0)]
        else:
            beams = _beam_search_one(
                normalised[: int(il[n]), n],
                blank=blank,
                beam_width=beam_width,
                merge_repeated=merge_repeated,
            )
        beams = beams[:top_paths] + [((), -math.inf)] * (top_paths - len(beams))
        rows.extend(b[0] for b in beams)
        scores.extend(b[1] for b in beams)
    sequences, lengths = _pack(rows, (batch, top_paths), lp.device)
    log_p = torch.tensor(scores, dtype=lp.dtype).reshape(batch, top_paths).to(lp.device)
    return CTCDecoding(sequences, lengths, log_p)
