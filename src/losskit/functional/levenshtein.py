r"""Levenshtein edit distance over batches of sequences.

:func:`edit_distance` counts the substitutions, insertions and deletions (each of cost 1) that turn
a hypothesis into the truth, for a whole batch at once. Inputs may be padded integer tensors with
lengths, Python token sequences or strings; everything goes through one batched kernel.

The kernel is the bit-parallel algorithm of Myers (1999) in the block form of Hyyrö (2003): the
dynamic-programming column of each pair is held as vertical-delta bit vectors (``int64`` words of
64 rows), and one column of the whole batch is advanced by sixteen elementwise integer
operations per word; there is no loop over pairs. Sequences longer than 64 tokens use several
words, linked by the horizontal delta carried from one word to the next. The side with fewer
words is held in bit vectors (the distance is symmetric).

Two executions of the same recurrence:

* **eager** (the default): rows are ordered by decreasing text length, so that each column only
  updates the rows whose text reaches it, in place in preallocated buffers; the match masks come
  from a dense ``(row, token)`` table when the token range is small (one ``scatter_add`` and one
  ``gather``), else from sorted rows and ``searchsorted``. Padding columns beyond the longest
  sequence are dropped. This reads a few numbers from the device (lengths, token range).
* **traced** (under ``torch.compile``): no host reads; rows that have finished keep their state
  through ``torch.where``, and the words of a column advance along an anti-diagonal wavefront
  (``n + W - 1`` steps for ``n`` columns of ``W`` words). The column loop is unrolled by the
  compiler, so compile time grows with the padded length: compile for short sequences, keep long
  ones eager.

Choices where the specification is silent: ``reduction`` defaults to ``"none"`` (one distance per
pair, as ``tf.edit_distance``), and ``"mean"`` / ``"sum"`` go through the shared reduction; the
result is float32 whatever the integer dtype of the tokens (float64 only with a float64
``weight``, following the dtype rule); it has no gradient.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as tF
from torch import Tensor

from .._core.checks import (
    check_in_range,
    check_integer,
    check_option,
    check_tensor,
    fail,
    shape_str,
)
from .._core.dtypes import compute_dtype
from .._core.reduction import reduce_loss

__all__ = ["edit_distance"]

_FN = "edit_distance"
_WORD = 64
# Batch elements x steps x words above which the batch is processed in chunks (bounded memory).
_CHUNK_ELEMENTS = 1 << 22
# Token-range tables up to this many entries replace sorting when building match masks.
_DENSE_TABLE = 1 << 22
# CPU work split into blocks of at most this many elements runs on the calling thread.
_SERIAL_ELEMENTS = 16384

SequenceBatch = str | Sequence[Any]


def edit_distance(
    hypothesis: Tensor | SequenceBatch,
    truth: Tensor | SequenceBatch,
    *,
    normalize: bool = True,
    hypothesis_lengths: Tensor | Sequence[int] | None = None,
    truth_lengths: Tensor | Sequence[int] | None = None,
    weight: Tensor | None = None,
    reduction: str = "none",
    validate: bool | None = None,
) -> Tensor:
    r"""Levenshtein distance between hypothesis and truth sequences, batched.

    .. math::

        d(h, t) = D_{|t|, |h|}, \qquad
        D_{i,j} = \min\bigl(D_{i-1,j} + 1,\; D_{i,j-1} + 1,\;
        D_{i-1,j-1} + [t_i \ne h_j]\bigr),\quad D_{i,0} = i,\; D_{0,j} = j

    and, with ``normalize=True`` (TensorFlow's ``tf.edit_distance``), :math:`l = d(h, t) / |t|`:
    an empty truth gives :math:`+\infty`, or :math:`0` when the hypothesis is empty too.

    The batch can be given as

    * **padded integer tensors** ``hypothesis (*, L_h)`` and ``truth (*, L_t)`` with equal batch
      shapes ``*``, and optional ``hypothesis_lengths`` / ``truth_lengths`` of shape ``*`` (the
      default is the full padded length). Tokens past a length are ignored. The computation runs
      on the tensors' device, vectorised over the batch with no per-pair Python loop.
    * **strings**: one pair of strings (a 0-dim result) or two equally long lists of strings;
      characters (Unicode code points) are the tokens.
    * **token sequences**: two equally long lists whose items are sequences (lists, tuples, 1-D
      tensors, strings) of hashable tokens, for example words; tokens are equal when they are
      equal as dictionary keys. They are mapped to integers and take the tensor path (on the CPU).

    Args:
        hypothesis: the predicted sequences, in one of the forms above.
        truth: the reference sequences, in the same form.
        normalize: divide each distance by the truth length.
        hypothesis_lengths: lengths of the hypotheses, integer tensor (or list) of shape ``*``;
            tensor inputs only.
        truth_lengths: lengths of the truths, shape ``*``; tensor inputs only.
        weight: optional weights broadcastable to ``*``.
        reduction: ``"none"`` (the default, as ``tf.edit_distance``) ``| "mean" | "sum"``.
        validate: check that the lengths lie in ``[0, L]`` (``None`` follows
            :func:`losskit.set_validation`); without validation, lengths are clamped to that range.

    Returns:
        The distances, shape ``*`` for ``"none"`` (0-dim for a pair of strings), else a scalar;
        float32 (float64 when ``weight`` is float64), on the inputs' device. Not differentiable.

    Raises:
        TypeError: non-integer tensors, a tensor paired with a list, unhashable tokens, or an
            input that is neither a string, a list of sequences nor a tensor.
        ValueError: batch shapes or list lengths differ, lengths of the wrong shape or outside
            ``[0, L]``, lengths given with list inputs, or an unknown reduction.

    Example:
        >>> edit_distance("kitten", "sitting", normalize=False)
        tensor(3.)
        >>> edit_distance(["abc", "", ""], ["abd", "xy", ""])
        tensor([0.3333, 1.0000, 0.0000])
        >>> hyp = torch.tensor([[1, 2, 3, 0], [4, 4, 0, 0]])
        >>> ref = torch.tensor([[1, 3, 0], [4, 5, 6]])
        >>> edit_distance(hyp, ref, hypothesis_lengths=torch.tensor([3, 2]),
        ...               truth_lengths=torch.tensor([2, 3]), normalize=False)
        tensor([1., 2.])
        >>> edit_distance([["the", "cat", "sat"]], [["the", "cat", "sat", "down"]])
        tensor([0.2500])

    References:
        V. I. Levenshtein, "Binary codes capable of correcting deletions, insertions, and
        reversals", Soviet Physics Doklady 10(8), 1966.
        G. Myers, "A fast bit-vector algorithm for approximate string matching based on dynamic
        programming", Journal of the ACM 46(3), 1999.
        H. Hyyrö, "A bit-vector algorithm for computing Levenshtein and Damerau edit distances",
        Nordic Journal of Computing 10(1), 2003.
    """
    check_option(_FN, "normalize", normalize, (True, False))
    if isinstance(hypothesis, np.ndarray):
        hypothesis = torch.from_numpy(hypothesis)
    if isinstance(truth, np.ndarray):
        truth = torch.from_numpy(truth)
    if isinstance(hypothesis, Tensor) or isinstance(truth, Tensor):
        hyp, ref, hyp_len, ref_len = _tensor_inputs(
            hypothesis, truth, hypothesis_lengths, truth_lengths, validate
        )
    else:
        for name, lengths in (
            ("hypothesis_lengths", hypothesis_lengths),
            ("truth_lengths", truth_lengths),
        ):
            if lengths is not None:
                raise fail(
                    _FN,
                    f"{name} must be None for string or list inputs, got {type(lengths).__name__}",
                )
        hyp, ref, hyp_len, ref_len = _encode_sequences(hypothesis, truth)

    batch_shape = hyp.shape[:-1]
    batch = batch_shape.numel()
    distance = _levenshtein(
        hyp.reshape(batch, hyp.shape[-1]),
        ref.reshape(batch, ref.shape[-1]),
        hyp_len.reshape(-1),
        ref_len.reshape(-1),
    ).reshape(batch_shape)

    dtype = compute_dtype(weight)
    loss = distance.to(dtype)
    if normalize:
        count = ref_len.to(dtype)
        empty = ref_len == 0
        ratio = loss / torch.where(empty, torch.ones_like(count), count)
        loss = torch.where(empty, torch.where(distance == 0, 0.0, torch.inf).to(dtype), ratio)
    return reduce_loss(loss, reduction, weight=weight, fn=_FN)


# ----------------------------------------------------------------------------------------------
# Input handling


def _lengths(
    name: str,
    lengths: Tensor | Sequence[int] | None,
    batch_shape: torch.Size,
    size: int,
    device: torch.device,
    validate: bool | None,
) -> Tensor:
    if lengths is None:
        return torch.full(batch_shape, size, dtype=torch.int64, device=device)
    if not isinstance(lengths, Tensor):
        try:
            lengths = torch.as_tensor(lengths, dtype=torch.int64)
        except (TypeError, ValueError, RuntimeError):
            raise fail(
                _FN,
                f"{name} must be an integer tensor or a list of ints, got {type(lengths).__name__}",
                TypeError,
            ) from None
    check_integer(_FN, name, lengths)
    if lengths.shape != batch_shape:
        raise fail(
            _FN,
            f"{name} must have the batch shape {shape_str(batch_shape)}, got "
            f"{shape_str(lengths.shape)}",
        )
    check_in_range(_FN, name, lengths, 0, size, validate=validate)
    return lengths.to(device=device, dtype=torch.int64).clamp(0, size)


def _tensor_inputs(
    hypothesis: object,
    truth: object,
    hypothesis_lengths: Tensor | Sequence[int] | None,
    truth_lengths: Tensor | Sequence[int] | None,
    validate: bool | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    hyp = check_tensor(_FN, "hypothesis", hypothesis)
    ref = check_tensor(_FN, "truth", truth)
    check_integer(_FN, "hypothesis", hyp)
    check_integer(_FN, "truth", ref)
    for name, t in (("hypothesis", hyp), ("truth", ref)):
        if t.dim() == 0:
            raise fail(_FN, f"{name} must have a sequence dimension (*, L), got shape ()")
    if hyp.shape[:-1] != ref.shape[:-1]:
        raise fail(
            _FN,
            "hypothesis and truth must have the same batch shape (all but the last "
            f"dimension), got hypothesis {shape_str(hyp.shape)} and truth {shape_str(ref.shape)}",
        )
    if hyp.device != ref.device:
        raise fail(
            _FN, f"truth must be on the device of hypothesis ({hyp.device}), got {ref.device}"
        )
    batch_shape = hyp.shape[:-1]
    hyp_len = _lengths(
        "hypothesis_lengths", hypothesis_lengths, batch_shape, hyp.shape[-1], hyp.device, validate
    )
    ref_len = _lengths(
        "truth_lengths", truth_lengths, batch_shape, ref.shape[-1], hyp.device, validate
    )
    return hyp.to(torch.int64), ref.to(torch.int64), hyp_len, ref_len


def _describe(value: object) -> str:
    return type(value).__name__


def _as_batch(name: str, value: object) -> list[Any]:
    """A list input as a list of sequences (each a str, or a list of hashable tokens)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise fail(
            _FN,
            f"{name} must be an integer tensor, a string, or a list of strings or token "
            f"sequences, got {_describe(value)}",
            TypeError,
        )
    items: list[Any] = []
    for item in value:
        if isinstance(item, str):
            items.append(item)
        elif isinstance(item, Tensor):
            if item.dim() != 1:
                raise fail(
                    _FN,
                    f"{name} must hold 1-D tensors as sequences, got a tensor of shape "
                    f"{shape_str(item.shape)}",
                )
            items.append(item.tolist())
        elif isinstance(item, np.ndarray) and item.ndim == 1:
            items.append(item.tolist())
        elif isinstance(item, Sequence):
            items.append(item)
        else:
            raise fail(
                _FN,
                f"{name} must be a list of strings or token sequences, got a list of "
                f"{_describe(item)} (wrap a single sequence in a list)",
                TypeError,
            )
    return items


def _encode_sequences(hypothesis: object, truth: object) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Strings or token sequences as padded int64 tensors (batch shape ``()`` for two strings)."""
    if isinstance(hypothesis, str) or isinstance(truth, str):
        for name, value in (("hypothesis", hypothesis), ("truth", truth)):
            if not isinstance(value, str):
                raise fail(
                    _FN,
                    f"{name} must be a string like the other argument, got {_describe(value)}",
                    TypeError,
                )
        hyp, ref, hyp_len, ref_len = _encode_strings([cast(str, hypothesis)], [cast(str, truth)])
        return hyp[0], ref[0], hyp_len[0], ref_len[0]
    if (
        isinstance(hypothesis, (list, tuple))
        and isinstance(truth, (list, tuple))
        and set(map(type, hypothesis)) | set(map(type, truth)) <= {str}
        and len(hypothesis) == len(truth)
    ):
        return _encode_strings(list(hypothesis), list(truth))  # lists of strings, fast path
    hyps = _as_batch("hypothesis", hypothesis)
    refs = _as_batch("truth", truth)
    if len(hyps) != len(refs):
        raise fail(
            _FN,
            "hypothesis and truth must hold the same number of sequences, got "
            f"{len(hyps)} and {len(refs)}",
        )
    if all(isinstance(s, str) for s in hyps) and all(isinstance(s, str) for s in refs):
        return _encode_strings(hyps, refs)
    return _encode_tokens(hyps, refs)


def _pad(flat: np.ndarray, lengths: np.ndarray) -> Tensor:
    """Concatenated sequences as a padded ``(N, max length)`` int64 tensor.

    The padding repeats the smallest token, so that it does not widen the token range.
    """
    width = int(lengths.max()) if lengths.size else 0
    if lengths.size and int(lengths.min()) == width:
        return torch.from_numpy(flat.reshape(lengths.size, width))
    out = np.full((lengths.size, width), flat.min() if flat.size else 0, dtype=np.int64)
    out[np.arange(width) < lengths[:, None]] = flat
    return torch.from_numpy(out)


def _encode_strings(hyps: list[str], refs: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Strings as code points: one encode per side, no per-character Python work."""
    out: list[Tensor] = []
    for strings in (hyps, refs):
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        flat = np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32)
        out += [_pad(flat.astype(np.int64), lengths), torch.from_numpy(lengths)]
    return out[0], out[2], out[1], out[3]


def _token_ids(hyps: list[Any], refs: list[Any]) -> np.ndarray:
    """Integer ids of all hypothesis then truth tokens, equal exactly for tokens that are equal
    as dictionary keys (Python ints directly, strings through a sort, others through a dict)."""
    flat = list(
        itertools.chain(itertools.chain.from_iterable(hyps), itertools.chain.from_iterable(refs))
    )
    kinds = set(map(type, flat))
    if kinds <= {int}:
        ints = np.asarray(flat)
        if ints.dtype.kind == "i":  # beyond int64 numpy falls back to objects
            return ints.astype(np.int64, copy=False)
    if kinds == {str}:
        return np.unique(np.asarray(flat), return_inverse=True)[1].astype(np.int64)
    vocab: dict[Hashable, int] = {}
    try:
        return np.asarray(list(map(vocab.setdefault, flat, itertools.count())), dtype=np.int64)
    except TypeError:
        for name, seqs in (("hypothesis", hyps), ("truth", refs)):
            for tok in itertools.chain.from_iterable(seqs):
                try:
                    hash(tok)
                except TypeError:
                    raise fail(
                        _FN, f"{name} tokens must be hashable, got {_describe(tok)}", TypeError
                    ) from None
        raise


def _encode_tokens(hyps: list[Any], refs: list[Any]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Hashable tokens as padded integer tensors, one vocabulary shared by both sides."""
    ids = _token_ids(hyps, refs)
    out: list[Tensor] = []
    start = 0
    for seqs in (hyps, refs):
        lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
        stop = start + int(lengths.sum())
        out += [_pad(ids[start:stop], lengths), torch.from_numpy(lengths)]
        start = stop
    return out[0], out[2], out[1], out[3]


# ----------------------------------------------------------------------------------------------
# The batched bit-parallel kernel

_M1 = 0x5555555555555555
_M2 = 0x3333333333333333
_M4 = 0x0F0F0F0F0F0F0F0F
_H01 = 0x0101010101010101


def _popcount(x: Tensor) -> Tensor:
    """Number of set bits of each int64 (SWAR; the arithmetic shifts are masked)."""
    x = x - ((x >> 1) & _M1)
    x = (x & _M2) + ((x >> 2) & _M2)
    x = (x + (x >> 4)) & _M4
    return ((x * _H01) >> 56) & 0x7F


def _dense_range(pattern: Tensor, text: Tensor, words: int) -> tuple[int, int] | None:
    """``(low, size)`` of the token range when a dense table over it is small enough.

    Reads two numbers from the device, so it is skipped while compiling (the sorted path needs no
    host synchronisation).
    """
    if torch.compiler.is_compiling():
        return None
    if pattern.device.type == "cpu":  # numpy reductions stay on the calling thread
        p, t = pattern.numpy(), text.numpy()
        low, high = int(min(p.min(), t.min())), int(max(p.max(), t.max()))
    else:
        lo_p, hi_p = torch.aminmax(pattern)
        lo_t, hi_t = torch.aminmax(text)
        low, high = torch.stack([torch.minimum(lo_p, lo_t), torch.maximum(hi_p, hi_t)]).tolist()
    if 0 <= low <= high - low:
        low = 0  # non-negative tokens index the table directly (at most twice as wide)
    size = high - low + 1
    budget = max(_DENSE_TABLE, 4 * (pattern.numel() + text.numel()))
    if words * pattern.shape[0] * size > budget:
        return None
    return low, size


def _sorted_masks(pattern: Tensor, text: Tensor, words: int) -> Tensor:
    """``Peq`` of every text column without host synchronisation: ``(n, W, B)``.

    Entry ``[j, w, b]`` has bit ``r`` set where ``pattern[b, 64 w + r] == text[b, j]``. Each
    pattern row is sorted; the run of tokens equal to a text token is found by ``searchsorted``
    and its position bits are summed with prefix sums (distinct bits add without carries).
    """
    batch, n = text.shape
    ordered, origin = torch.sort(pattern, dim=1)
    text = text.contiguous()
    first = torch.searchsorted(ordered, text, side="left")
    last = torch.searchsorted(ordered, text, side="right")
    word = torch.arange(words, device=pattern.device).view(words, 1, 1)
    bit = torch.bitwise_left_shift(torch.ones_like(origin), origin % _WORD)
    bits = torch.where((origin // _WORD).unsqueeze(0) == word, bit.unsqueeze(0), 0)
    total = tF.pad(bits.cumsum(dim=2), (1, 0))  # exclusive prefix sums, (W, B, m + 1)
    shape = (words, batch, n)
    run = total.gather(2, last.expand(shape)) - total.gather(2, first.expand(shape))
    return run.permute(2, 0, 1).contiguous()


def _wavefront_masks(pattern: Tensor, text: Tensor, words: int) -> Tensor:
    """The match masks of the traced kernel, one slice per step: ``(n + W - 1, W, B)``.

    Step ``t`` gives word ``w`` the masks of text column ``t - w`` (zero outside the text, where
    that word is frozen anyway).
    """
    peq = _sorted_masks(pattern, text, words)  # (n, W, B)
    if words == 1:
        return peq
    n, _, batch = peq.shape
    skew = peq.new_zeros((n + words - 1, words, batch))
    for w in range(words):
        skew[w : w + n, w] = peq[:, w]
    return skew


def _eager_kernel(text: Tensor, pattern: Tensor, text_len: Tensor, pat_len: Tensor) -> Tensor:
    """The kernel of eager execution: same recurrence as :func:`_levenshtein_chunk`, tuned for
    the interpreter.

    Rows are ordered by decreasing text length, so column ``j`` updates only the prefix of rows
    whose text is that long, in place, in preallocated buffers (no freezing, no allocation per
    column); the words of a column are advanced one after the other. With a small token range
    the match masks come from a dense ``(row, word, token)`` table read by one gather per word.
    """
    batch, n = text.shape
    m = pattern.shape[1]
    words = -(-m // _WORD)
    device = text.device
    # rows[j]: how many rows have a text longer than j (rows ordered by decreasing length).
    counts = torch.bincount(text_len, minlength=n + 1)
    rows = (batch - counts.cumsum(0)).tolist()[:n]
    uniform = rows[-1] == batch  # every text has the full length n
    order = None if uniform else torch.argsort(text_len, descending=True, stable=True)

    def by_row(x: Tensor, dim: int = 0) -> Tensor:
        return x if order is None else x.index_select(dim, order)

    # Match masks, column-major (n, W, B), rows in decreasing text length. With a small token
    # range they come from a dense (row, word, token) table, one gather per word. On the CPU the
    # table is built in row blocks small enough to stay on the calling thread: the column loop
    # is sequential anyway, and fork/join of the thread pool for mid-sized operations costs more
    # than it saves when the cores are shared.
    peq = torch.empty((n, words, batch), dtype=torch.int64, device=device)
    dense = _dense_range(pattern, text, words)
    if dense is not None:
        low, size = dense
        position = torch.arange(m, device=device)
        bit = torch.bitwise_left_shift(torch.ones_like(position), position % _WORD)
        word_base = (position // _WORD) * size - low
        if device.type == "cpu":
            block = max(1, _SERIAL_ELEMENTS // max(n, m, words * size))
        else:
            block = batch
        for start in range(0, batch, block):
            stop = min(start + block, batch)
            if order is None:
                pat, txt = pattern[start:stop], text[start:stop]
            else:
                pat = pattern.index_select(0, order[start:stop])
                txt = text.index_select(0, order[start:stop])
            slot = pat + word_base if words > 1 or low else pat
            table = pat.new_zeros((stop - start, words * size))
            table.scatter_add_(1, slot, bit.expand(stop - start, m))
            for w in range(words):
                shift = w * size - low
                torch.gather(table, 1, txt + shift if shift else txt, out=peq[:, w, start:stop].t())
    else:
        peq.copy_(by_row(_sorted_masks(pattern, text, words), 2))

    pv_all = torch.full((words, batch), -1, dtype=torch.int64, device=device)
    mv_all = torch.zeros_like(pv_all)
    buffers = torch.empty((9, batch), dtype=torch.int64, device=device)
    k = -1
    last = words - 1
    # Integer bit operations: skip the autograd dispatch (about 10% of the loop's time).
    with torch.inference_mode():
        for j in range(n):
            if rows[j] != k:
                k = rows[j]
                if k == 0:
                    break
                pvs, mvs = pv_all[:, :k], mv_all[:, :k]
                xv, xh, ph, mh, eq_in, hp, hn, hp_next, hn_next = buffers[:, :k]
            for w in range(words):
                eq, pv, mv = peq[j, w, :k], pvs[w], mvs[w]
                torch.bitwise_or(eq, mv, out=xv)
                if w:  # a -1 carried in from the word below acts as a match on its first row
                    eq = torch.bitwise_or(eq, hn, out=eq_in)
                torch.bitwise_and(eq, pv, out=ph)
                torch.add(ph, pv, out=xh)
                xh.bitwise_xor_(pv).bitwise_or_(eq)
                torch.bitwise_or(xh, pv, out=ph)
                ph.bitwise_not_().bitwise_or_(mv)
                torch.bitwise_and(pv, xh, out=mh)
                if w < last:  # horizontal deltas leaving this word (its top bit)
                    torch.bitwise_right_shift(ph, _WORD - 1, out=hp_next).bitwise_and_(1)
                    torch.bitwise_right_shift(mh, _WORD - 1, out=hn_next).bitwise_and_(1)
                ph.bitwise_left_shift_(1)
                mh.bitwise_left_shift_(1)
                if w:
                    ph.bitwise_or_(hp)
                    mh.bitwise_or_(hn)
                else:
                    ph.bitwise_or_(1)  # top row: D[0, j] - D[0, j - 1] = +1
                torch.bitwise_or(xv, ph, out=pv)
                pv.bitwise_not_().bitwise_or_(mh)
                torch.bitwise_and(ph, xv, out=mv)
                hp, hp_next, hn, hn_next = hp_next, hp, hn_next, hn

    length = by_row(pat_len)
    rows_in = (length - _WORD * torch.arange(words, device=device).view(words, 1)).clamp(0, _WORD)
    low_rows = torch.where(
        rows_in >= _WORD, -1, torch.bitwise_left_shift(torch.ones_like(rows_in), rows_in) - 1
    )
    delta = _popcount(pv_all & low_rows) - _popcount(mv_all & low_rows)
    distance = by_row(text_len) + delta.sum(0)
    if order is None:
        return distance
    return torch.empty_like(distance).index_copy_(0, order, distance)


def _levenshtein(hyp: Tensor, ref: Tensor, hyp_len: Tensor, ref_len: Tensor) -> Tensor:
    """Edit distances of a flat batch ``(B, L_h)``, ``(B, L_t)`` as int64 ``(B,)``."""
    if hyp.shape[0] == 0:
        return hyp_len.clone()
    if not torch.compiler.is_compiling():
        # Drop padding columns that no row uses (one host read; skipped while compiling).
        longest = torch.stack([hyp_len.max(), ref_len.max()]).tolist()
        hyp, ref = hyp[:, : longest[0]], ref[:, : longest[1]]
    # Distance is symmetric: the side needing fewer words is the pattern held in bit vectors.
    words_ref = -(-ref.shape[1] // _WORD)
    words_hyp = -(-hyp.shape[1] // _WORD)
    if words_hyp * ref.shape[1] < words_ref * hyp.shape[1]:
        hyp, ref, hyp_len, ref_len = ref, hyp, ref_len, hyp_len
    batch = hyp.shape[0]
    cost = (hyp.shape[1] + words_ref) * max(words_ref, 1)
    chunk = max(1, _CHUNK_ELEMENTS // max(cost, 1))
    if batch <= chunk:
        return _levenshtein_chunk(hyp, ref, hyp_len, ref_len)
    return torch.cat(
        [
            _levenshtein_chunk(
                hyp[i : i + chunk],
                ref[i : i + chunk],
                hyp_len[i : i + chunk],
                ref_len[i : i + chunk],
            )
            for i in range(0, batch, chunk)
        ]
    )


def _levenshtein_chunk(text: Tensor, pattern: Tensor, text_len: Tensor, pat_len: Tensor) -> Tensor:
    """Myers/Hyyrö bit-vector edit distance, vectorised over the batch and over the words.

    Eager execution goes to :func:`_eager_kernel`; what follows is the traced kernel (no host
    reads, no in-place updates). The pattern (``m`` rows) lives in ``W`` words per column,
    initially all vertical deltas +1 (``D[i, 0] = i``); the text gives the ``n`` columns, each
    entering with a horizontal delta of +1 on the top row (``D[0, j] = j``). Word ``w`` of
    column ``j`` needs word ``w`` of column ``j - 1`` and the horizontal delta carried out of
    word ``w - 1`` of column ``j``, so all words with ``w + j = t`` advance together at step
    ``t`` (``n + W - 1`` steps). A word keeps its state outside the columns
    ``0 <= j < len(text)`` of its row, so each row ends holding its
    last column, and ``D[m, n] = len(text) + #(+1 deltas) - #(-1 deltas)`` over rows ``1..m``.
    """
    batch, n = text.shape
    m = pattern.shape[1]
    words = -(-m // _WORD)
    if n == 0:
        return pat_len.clone()
    if words == 0:
        return text_len.clone()

    if not torch.compiler.is_compiling():
        return _eager_kernel(text, pattern, text_len, pat_len)
    device = text.device
    masks = _wavefront_masks(pattern, text, words)
    if words == 1:
        pv = torch.full((batch,), -1, dtype=torch.int64, device=device)
        mv = torch.zeros_like(pv)
        for j, eq in enumerate(masks[:, 0].unbind(0)):
            xv = eq | mv
            xh = (((eq & pv) + pv) ^ pv) | eq
            ph = mv | ~(xh | pv)
            mh = pv & xh
            ph = (ph << 1) | 1
            mh = mh << 1
            active = text_len > j
            pv = torch.where(active, mh | ~(xv | ph), pv)
            mv = torch.where(active, ph & xv, mv)
    else:
        pv = torch.full((words, batch), -1, dtype=torch.int64, device=device)
        mv = torch.zeros_like(pv)
        # Column of word w at step t; words not started yet get a column no row reaches.
        word = torch.arange(words, device=device)
        steps = torch.arange(n + words - 1, device=device).unsqueeze(1) - word
        steps = torch.where(steps >= 0, steps, n).unsqueeze(-1)  # (S, W, 1)
        top = torch.ones((1, batch), dtype=torch.int64, device=device)
        zero = torch.zeros_like(top)
        hp_in = torch.cat([top, zero.expand(words - 1, batch)])
        hn_in = torch.zeros_like(pv)
        for column, eq in zip(steps.unbind(0), masks.unbind(0), strict=True):
            xv = eq | mv
            eq = eq | hn_in
            xh = (((eq & pv) + pv) ^ pv) | eq
            ph = mv | ~(xh | pv)
            mh = pv & xh
            hp_out = (ph >> (_WORD - 1)) & 1
            hn_out = (mh >> (_WORD - 1)) & 1
            ph = (ph << 1) | hp_in
            mh = (mh << 1) | hn_in
            active = text_len > column
            pv = torch.where(active, mh | ~(xv | ph), pv)
            mv = torch.where(active, ph & xv, mv)
            # Word w - 1's carry enters word w at the next step; word 0 takes the next column's.
            hp_in = torch.cat([top, hp_out[:-1]])
            hn_in = torch.cat([zero, hn_out[:-1]])

    # Rows 1..m of each pattern that count, per word.
    rows = (pat_len - _WORD * torch.arange(words, device=device).view(words, 1)).clamp(0, _WORD)
    low = torch.where(rows >= _WORD, -1, torch.bitwise_left_shift(torch.ones_like(rows), rows) - 1)
    delta = _popcount(pv.view(words, batch) & low) - _popcount(mv.view(words, batch) & low)
    return text_len + delta.sum(0)
