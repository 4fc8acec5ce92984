"""``tf.nn`` (``tf.compat.v1.nn``) cross-entropies, ``l2_loss``, CTC loss and decoders on the
native core.

The cross-entropies return the unreduced losses (TensorFlow reduces nothing in ``tf.nn``), with
the signatures of ``tf.compat.v1.nn`` in TensorFlow 2.21 (``labels``, ``logits`` first; the old
``_sentinel`` argument is gone there too). CTC follows both TensorFlow signatures: :func:`ctc_loss`
is TensorFlow-1's (sparse labels, blank = the last class, unnormalised logits in),
:func:`ctc_loss_v2` is TensorFlow-2's (dense or sparse labels, ``blank_index``). A
``SparseTensor`` is a torch sparse COO tensor (:func:`losskit.compat.tf.SparseTensor` builds one);
the decoders return sparse COO tensors as TensorFlow returns ``SparseTensor`` s.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ... import functional as F
from ..._core.checks import fail, shape_str, speaks_as
from .._convert import as_float, as_int, device_of, float_dtype, sparse_rows

__all__ = [
    "ctc_beam_search_decoder",
    "ctc_greedy_decoder",
    "ctc_loss",
    "ctc_loss_v2",
    "l2_loss",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
]

_P = "compat.tf.nn."


def _same_shape_pair(fn: str, labels: Any, logits: Any) -> tuple[Tensor, Tensor]:
    x = as_float(logits, "logits", fn)
    y = as_float(labels, "labels", fn)
    dtype = float_dtype(x, y)
    device = device_of(logits, labels)
    x, y = x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)
    if x.shape != y.shape:
        raise fail(
            fn,
            f"logits and labels must have the same shape, got logits {shape_str(x.shape)} and "
            f"labels {shape_str(y.shape)}",
        )
    return y, x


@speaks_as(_P + "sigmoid_cross_entropy_with_logits", input="logits", target="labels")
def sigmoid_cross_entropy_with_logits(
    labels: Any = None, logits: Any = None, name: str | None = None
) -> Tensor:
    r"""Elementwise sigmoid cross-entropy (``tf.nn.sigmoid_cross_entropy_with_logits``).

    .. math:: \ell = \max(x, 0) - x z + \log(1 + e^{-|x|})

    computed by :func:`losskit.sigmoid_cross_entropy` (``reduction="none"``).

    Args:
        labels: targets in ``[0, 1]``, the logits' shape.
        logits: logits, any shape.
        name: ignored.

    Returns:
        The logits' shape.

    Raises:
        ValueError: shapes differ.

    Example:
        >>> sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[2.0, -1.0])
        tensor([0.1269, 0.3133])

    References:
        ``tf.nn.sigmoid_cross_entropy_with_logits``.
    """
    fn = _P + "sigmoid_cross_entropy_with_logits"
    y, x = _same_shape_pair(fn, labels, logits)
    return F.sigmoid_cross_entropy(x, y, reduction="none", validate=False)


@speaks_as(_P + "weighted_cross_entropy_with_logits", input="logits", target="labels")
def weighted_cross_entropy_with_logits(
    labels: Any = None,
    logits: Any = None,
    pos_weight: Any = None,
    name: str | None = None,
    targets: Any = None,
) -> Tensor:
    r"""Sigmoid cross-entropy with a weight on the positive term
    (``tf.nn.weighted_cross_entropy_with_logits``).

    .. math:: \ell = -q z \log \sigma(x) - (1 - z) \log(1 - \sigma(x))

    computed by :func:`losskit.sigmoid_cross_entropy` with ``pos_weight`` :math:`q`.

    Args:
        labels: targets, the logits' shape (``targets`` is TensorFlow-1's deprecated name).
        logits: logits, any shape.
        pos_weight: :math:`q`, a number or a tensor broadcastable to the logits.
        name: ignored.
        targets: deprecated alias of ``labels``.

    Returns:
        The logits' shape.

    Raises:
        ValueError: shapes differ, both ``labels`` and ``targets`` given, ``pos_weight``
            missing or not broadcastable.

    Example:
        >>> weighted_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[2.0, -1.0],
        ...                                    pos_weight=2.0)
        tensor([0.2539, 0.3133])

    References:
        ``tf.nn.weighted_cross_entropy_with_logits``.
    """
    fn = _P + "weighted_cross_entropy_with_logits"
    if targets is not None:
        if labels is not None:
            raise fail(fn, "labels and targets are the same argument; pass only labels")
        labels = targets
    if pos_weight is None:
        raise fail(fn, "pos_weight must be given (a number or a tensor), got None")
    y, x = _same_shape_pair(fn, labels, logits)
    q = as_float(pos_weight, "pos_weight", fn, x.dtype, x.device)
    return F.sigmoid_cross_entropy(x, y, pos_weight=q, reduction="none", validate=False)


@speaks_as(_P + "softmax_cross_entropy_with_logits", input="logits", target="labels")
def softmax_cross_entropy_with_logits(
    labels: Any = None,
    logits: Any = None,
    dim: int = -1,
    name: str | None = None,
    axis: int | None = None,
) -> Tensor:
    r"""Softmax cross-entropy against label distributions
    (``tf.compat.v1.nn.softmax_cross_entropy_with_logits``).

    .. math:: \ell = -\sum_c y_c \log \operatorname{softmax}(x)_c \quad \text{along } \dim

    computed by :func:`losskit.softmax_cross_entropy`. As TensorFlow-1's (not ``_v2``), no
    gradient flows into ``labels``.

    Args:
        labels: distributions, the logits' shape.
        logits: logits, the classes along ``dim``.
        dim: the class dimension.
        name: ignored.
        axis: TensorFlow's newer name of ``dim``; as in TensorFlow, passing it requires
            ``dim=None`` (both given is a ``ValueError``, and ``dim`` defaults to -1).

    Returns:
        The logits' shape without ``dim``.

    Raises:
        ValueError: shapes differ, ``dim`` out of range, both ``dim`` and ``axis``.

    Example:
        >>> softmax_cross_entropy_with_logits(labels=[[1.0, 0.0, 0.0]], logits=[[2.0, 0.0, -1.0]])
        tensor([0.1698])

    References:
        ``tf.compat.v1.nn.softmax_cross_entropy_with_logits``.
    """
    fn = _P + "softmax_cross_entropy_with_logits"
    if axis is not None and dim is not None:
        raise fail(
            fn,
            "dim and axis are the same argument; pass dim=None with axis (as "
            f"TensorFlow, dim keeps its default -1), got dim={dim!r}, axis={axis!r}",
        )
    y, x = _same_shape_pair(fn, labels, logits)
    d = dim if axis is None else axis
    if x.dim() == 0:
        raise fail(fn, "logits must have a class dimension, got a 0-dim tensor")
    return F.softmax_cross_entropy(x, y.detach(), dim=d, reduction="none", validate=False)


@speaks_as(_P + "sparse_softmax_cross_entropy_with_logits", input="logits", target="labels")
def sparse_softmax_cross_entropy_with_logits(
    labels: Any = None, logits: Any = None, name: str | None = None
) -> Tensor:
    r"""Softmax cross-entropy against integer labels
    (``tf.nn.sparse_softmax_cross_entropy_with_logits``).

    .. math:: \ell = -\log \operatorname{softmax}(x)_{y}

    computed by :func:`losskit.sparse_softmax_cross_entropy` over the last axis.

    Args:
        labels: integer labels in ``[0, C)``, ``[d_0, ..., d_{r-1}]``.
        logits: ``[d_0, ..., d_{r-1}, C]``.
        name: ignored.

    Returns:
        The labels' shape.

    Raises:
        ValueError: labels whose rank is not the logits' minus 1 or whose
            shape differs, scalar logits, labels out of range (validation on).
        TypeError: floating labels.

    Example:
        >>> sparse_softmax_cross_entropy_with_logits(labels=[0, 2],
        ...                                          logits=[[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        tensor([0.1698, 1.0986])

    References:
        ``tf.nn.sparse_softmax_cross_entropy_with_logits``.
    """
    from .losses import NO_IGNORE

    fn = _P + "sparse_softmax_cross_entropy_with_logits"
    x = as_float(logits, "logits", fn)
    y = as_int(labels, "labels", fn).to(x.device)
    if x.dim() == 0:
        raise fail(fn, "logits must not be a scalar, got shape ()")
    if y.dim() != x.dim() - 1:
        raise fail(
            fn,
            f"labels must have rank {x.dim() - 1} (the rank of logits minus 1), got labels "
            f"{shape_str(y.shape)} and logits {shape_str(x.shape)}",
        )
    if y.shape != x.shape[:-1]:
        raise fail(
            fn,
            f"labels must have the shape of logits without its last dimension, "
            f"{shape_str(x.shape[:-1])}, got {shape_str(y.shape)}",
        )
    return F.sparse_softmax_cross_entropy(x, y, dim=-1, ignore_index=NO_IGNORE, reduction="none")


@speaks_as(_P + "l2_loss", input="t")
def l2_loss(t: Any, name: str | None = None) -> Tensor:
    r"""Half the squared L2 norm (``tf.nn.l2_loss``).

    .. math:: \ell = \tfrac12 \sum_i t_i^2

    computed as half of :func:`losskit.mse_loss` against zero with ``reduction="sum"``. Not the
    native :func:`losskit.l2_loss` (the Euclidean norm of an error).

    Args:
        t: any shape.
        name: ignored.

    Returns:
        A scalar of ``t``'s floating dtype.

    Example:
        >>> l2_loss([1.0, 2.0, 3.0])
        tensor(7.)

    References:
        ``tf.nn.l2_loss``.
    """
    x = as_float(t, "t", _P + "l2_loss")
    return 0.5 * F.mse_loss(x, torch.zeros_like(x), reduction="sum")


# ----------------------------------------------------------------------------------------------
# CTC


def _time_major(fn: str, name: str, logits: Any, time_major: bool) -> Tensor:
    x = as_float(logits, name, fn)
    if x.dim() != 3:
        raise fail(
            fn,
            f"{name} must have rank 3, [max_time, batch_size, num_classes] (batch first when not "
            f"time major), got {shape_str(x.shape)}",
        )
    return x if time_major else x.transpose(0, 1)


def _seq_lengths(fn: str, name: str, lengths: Any, batch: int) -> Tensor:
    il = as_int(lengths, name, fn).reshape(-1) if lengths is not None else None
    if il is None:
        raise fail(fn, f"{name} must be given, got None", TypeError)
    if il.shape != (batch,):
        raise fail(fn, f"{name} must have shape ({batch},), got {shape_str(il.shape)}")
    return il


def _sparse_labels(fn: str, labels: Any, batch: int) -> tuple[Tensor, Tensor]:
    padded, lengths, shape = sparse_rows(labels, "labels", fn)
    if len(shape) != 1:
        raise fail(fn, f"labels must be a sparse tensor of rank 2, got rank {len(shape) + 1}")
    if shape[0] != batch:
        raise fail(
            fn,
            f"labels must have batch size {batch} (dense_shape[0]), got dense_shape "
            f"{shape_str(labels.shape)}",
        )
    if batch and bool((lengths == 0).any()):
        empty = int((lengths == 0).nonzero()[0, 0])
        raise fail(
            fn,
            f"labels must hold at least one label per sample (a sparse label row cannot be "
            f"empty), got no label in batch {empty}",
        )
    return padded.clamp_min(0), lengths


def _native_ctc(
    fn: str,
    logits: Tensor,
    targets: Tensor,
    target_lengths: Tensor,
    input_lengths: Tensor,
    blank: int,
    *,
    collapse: bool = False,
    merge: bool = True,
    ignore_longer: bool = False,
) -> Tensor:
    # Frames past a sample's length are ignored, whatever they hold (TensorFlow's test feeds
    # NaN there): zero them before the softmax so that no NaN reaches the values or gradients.
    frames = torch.arange(logits.shape[0], device=logits.device)[:, None]
    inside = (frames < input_lengths.to(logits.device)[None, :])[..., None]
    log_probs = torch.log_softmax(torch.where(inside, logits, 0.0), dim=-1)
    return F.ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank=blank,
        reduction="none",
        merge_repeated=merge,
        collapse_repeated_labels=collapse,
        ignore_longer_outputs_than_inputs=ignore_longer,
        zero_infinity=False,
    )


@speaks_as(
    _P + "ctc_loss",
    log_probs="inputs",
    targets="labels",
    input_lengths="sequence_length",
    target_lengths="labels",
    merge_repeated="ctc_merge_repeated",
    collapse_repeated_labels="preprocess_collapse_repeated",
)
def ctc_loss(
    labels: Tensor,
    inputs: Any = None,
    sequence_length: Any = None,
    preprocess_collapse_repeated: bool = False,
    ctc_merge_repeated: bool = True,
    ignore_longer_outputs_than_inputs: bool = False,
    time_major: bool = True,
    logits: Any = None,
) -> Tensor:
    r"""TensorFlow-1 CTC loss (``tf.compat.v1.nn.ctc_loss``): sparse labels, blank = last class.

    .. math::

        \ell_n = -\log \sum_{\pi \in \mathcal B^{-1}(y_n)} \prod_t
        \operatorname{softmax}(x_{t,n})_{\pi_t}

    computed by :func:`losskit.ctc_loss` on ``log_softmax(inputs)`` with ``blank = C - 1``
    (TensorFlow's inputs are unnormalised logits), ``preprocess_collapse_repeated`` as
    ``collapse_repeated_labels`` and ``ctc_merge_repeated`` as ``merge_repeated``.

    Args:
        labels: sparse COO tensor ``[batch, max_label_length]`` of integer labels in
            ``[0, C - 1)``; row ``b`` holds the labels of sample ``b`` in column order, at
            least one per sample (TensorFlow refuses an empty row).
        inputs: logits ``[max_time, batch, C]`` (``[batch, max_time, C]`` unless
            ``time_major``).
        sequence_length: ``[batch]`` frames per sample.
        preprocess_collapse_repeated: merge repeated labels before the loss.
        ctc_merge_repeated: the CTC topology merges repeated outputs (``False``: every
            non-blank frame emits a label).
        ignore_longer_outputs_than_inputs: samples with more labels than frames get loss 0.
        time_major: ``inputs`` is time major.
        logits: alias of ``inputs``.

    Returns:
        ``[batch]`` negative log-probabilities.

    Raises:
        ValueError: ``labels`` not rank 2 or of another batch size, ``inputs`` not rank 3,
            ``sequence_length`` of another shape, labels equal to the blank (the last class) or
            out of range, a label sequence longer than its input.
        TypeError: ``labels`` not a sparse tensor.

    Example:
        >>> from losskit.compat.tf import SparseTensor
        >>> labels = SparseTensor([[0, 0]], [0], [1, 1])
        >>> ctc_loss(labels, torch.zeros(3, 1, 2), [3])  # two classes: "a" and the blank
        tensor([0.2877])

    References:
        ``tf.compat.v1.nn.ctc_loss``; Graves et al., ICML 2006.
    """
    fn = _P + "ctc_loss"
    if inputs is None:
        inputs = logits
    elif logits is not None:
        raise fail(fn, "inputs and logits are the same argument; pass only one")
    x = _time_major(fn, "inputs", inputs, time_major)
    batch, num_classes = x.shape[1], x.shape[2]
    targets, lengths = _sparse_labels(fn, labels, batch)
    il = _seq_lengths(fn, "sequence_length", sequence_length, batch)
    return _native_ctc(
        fn,
        x,
        targets,
        lengths,
        il,
        num_classes - 1,
        collapse=preprocess_collapse_repeated,
        merge=ctc_merge_repeated,
        ignore_longer=ignore_longer_outputs_than_inputs,
    )


@speaks_as(
    _P + "ctc_loss_v2",
    log_probs="logits",
    targets="labels",
    input_lengths="logit_length",
    target_lengths="label_length",
    blank="blank_index",
)
def ctc_loss_v2(
    labels: Any,
    logits: Any,
    label_length: Any,
    logit_length: Any,
    logits_time_major: bool = True,
    unique: Any = None,
    blank_index: int | None = None,
    name: str | None = None,
) -> Tensor:
    r"""TensorFlow-2 CTC loss (``tf.nn.ctc_loss``): dense or sparse labels, ``blank_index``.

    .. math::

        \ell_n = -\log \sum_{\pi \in \mathcal B^{-1}(y_n)} \prod_t
        \operatorname{softmax}(x_{t,n})_{\pi_t}

    computed by :func:`losskit.ctc_loss` on ``log_softmax(logits)``.

    Args:
        labels: dense ``[batch, max_label_length]`` integer labels (the first
            ``label_length[b]`` of row ``b`` count), or a sparse COO tensor.
        logits: ``[frames, batch, C]`` (``[batch, frames, C]`` unless ``logits_time_major``).
        label_length: ``[batch]`` label counts (dense labels; ignored for sparse labels, as in
            TensorFlow, and may be ``None`` then).
        logit_length: ``[batch]`` frames per sample.
        logits_time_major: ``logits`` is time major.
        unique: ignored (TensorFlow's optional precomputed ``unique`` of the labels; it changes
            only the speed).
        blank_index: the blank class; negative values count from ``C`` (``-1`` is the last
            class). Default 0 for dense labels; required for sparse labels.
        name: ignored.

    Returns:
        ``[batch]`` negative log-probabilities.

    Raises:
        ValueError: shapes or lengths, labels equal to the blank or out of range,
            ``blank_index`` outside ``[-C, C)`` or missing for sparse labels.

    Example:
        >>> ctc_loss_v2([[1]], torch.zeros(3, 1, 2), [1], [3])  # blank 0 and "a" = 1
        tensor([0.2877])

    References:
        ``tf.nn.ctc_loss`` (TensorFlow 2); Graves et al., ICML 2006.
    """
    fn = _P + "ctc_loss_v2"
    x = _time_major(fn, "logits", logits, logits_time_major)
    batch, num_classes = x.shape[1], x.shape[2]
    sparse = isinstance(labels, Tensor) and labels.layout == torch.sparse_coo
    if blank_index is None:
        if sparse:
            raise fail(fn, "blank_index must be given when labels is a sparse tensor, got None")
        blank_index = 0
    if isinstance(blank_index, bool) or not isinstance(blank_index, int):
        raise fail(fn, f"blank_index must be an int, got {blank_index!r}", TypeError)
    if not -num_classes <= blank_index < num_classes:
        raise fail(
            fn, f"blank_index must lie in [{-num_classes}, {num_classes - 1}], got {blank_index}"
        )
    blank = blank_index % num_classes
    il = _seq_lengths(fn, "logit_length", logit_length, batch)
    if sparse:
        targets, lengths = _sparse_labels(fn, labels, batch)
    else:
        targets = as_int(labels, "labels", fn)
        if targets.dim() != 2 or targets.shape[0] != batch:
            raise fail(
                fn,
                f"labels must have shape [batch={batch}, max_label_length], got "
                f"{shape_str(targets.shape)}",
            )
        lengths = _seq_lengths(fn, "label_length", label_length, batch)
    return _native_ctc(fn, x, targets, lengths, il, blank)


def _sparse_paths(sequences: Tensor, lengths: Tensor) -> Tensor:
    """Padded ``(N, L)`` sequences as a sparse ``[N, max length]`` COO tensor."""
    batch = sequences.shape[0]
    width = int(lengths.max()) if batch else 0
    keep = torch.arange(sequences.shape[1], device=sequences.device) < lengths[:, None]
    rows, cols = keep.nonzero(as_tuple=True)
    return torch.sparse_coo_tensor(
        torch.stack([rows, cols]), sequences[rows, cols], (batch, width), check_invariants=False
    ).coalesce()


def _merge_runs(sequences: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Drop every label equal to the one before it (TensorFlow's merge of the returned beams)."""
    valid = torch.arange(sequences.shape[-1], device=sequences.device) < lengths[..., None]
    previous = torch.cat([torch.full_like(sequences[..., :1], -1), sequences[..., :-1]], -1)
    keep = valid & (sequences != previous)
    new_lengths = keep.sum(-1)
    order = torch.argsort((~keep).to(torch.int8), dim=-1, stable=True)
    merged = torch.gather(sequences, -1, order)
    width = int(new_lengths.max()) if new_lengths.numel() else 0
    merged = merged[..., :width]
    pad = torch.arange(width, device=sequences.device) >= new_lengths[..., None]
    return merged.masked_fill(pad, -1), new_lengths


@speaks_as(
    _P + "ctc_greedy_decoder",
    log_probs="inputs",
    input_lengths="sequence_length",
    blank="blank_index",
)
def ctc_greedy_decoder(
    inputs: Any,
    sequence_length: Any,
    merge_repeated: bool = True,
    blank_index: int | None = None,
) -> tuple[list[Tensor], Tensor]:
    r"""Greedy (best path) CTC decoding (``tf.nn.ctc_greedy_decoder``).

    .. math::

        \hat\pi_t = \arg\max_c x_{t,c}, \qquad \hat y = \mathcal B(\hat\pi), \qquad
        \text{neg\_sum\_logits} = -\sum_{t < T_n} \max_c x_{t,c}

    computed by :func:`losskit.ctc_greedy_decode` on the inputs as given.

    Args:
        inputs: ``[max_time, batch, C]`` logits (or log-probabilities).
        sequence_length: ``[batch]`` frames per sample.
        merge_repeated: merge runs of the same class.
        blank_index: the blank class, default ``C - 1``; negative values count from ``C``.

    Returns:
        ``([decoded], neg_sum_logits)``: ``decoded`` a sparse COO tensor
        ``[batch, max_decoded_length]`` (int64), ``neg_sum_logits`` ``[batch, 1]``.

    Raises:
        ValueError: shapes, lengths, ``blank_index`` out of range.

    Example:
        >>> x = torch.tensor([[[0.0, 1.0]], [[0.0, 1.0]], [[1.0, 0.0]]])  # "a a -", blank 1
        >>> decoded, neg_sum = ctc_greedy_decoder(x, [3])
        >>> decoded[0].to_dense(), neg_sum
        (tensor([[0]]), tensor([[-3.]]))

    References:
        ``tf.nn.ctc_greedy_decoder``.
    """
    fn = _P + "ctc_greedy_decoder"
    x = _time_major(fn, "inputs", inputs, True)
    batch, num_classes = x.shape[1], x.shape[2]
    blank = _blank(fn, blank_index, num_classes)
    il = _seq_lengths(fn, "sequence_length", sequence_length, batch)
    out = F.ctc_greedy_decode(x, il, blank=blank, merge_repeated=merge_repeated)
    return [_sparse_paths(out.sequences, out.lengths)], -out.log_probs[:, None]


def _blank(fn: str, blank_index: int | None, num_classes: int) -> int:
    if blank_index is None:
        return num_classes - 1
    if isinstance(blank_index, bool) or not isinstance(blank_index, int):
        raise fail(fn, f"blank_index must be an int, got {blank_index!r}", TypeError)
    if not -num_classes <= blank_index < num_classes:
        raise fail(
            fn, f"blank_index must lie in [{-num_classes}, {num_classes - 1}], got {blank_index}"
        )
    return blank_index % num_classes


@speaks_as(_P + "ctc_beam_search_decoder", log_probs="inputs", input_lengths="sequence_length")
def ctc_beam_search_decoder(
    inputs: Any,
    sequence_length: Any,
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
) -> tuple[list[Tensor], Tensor]:
    r"""Beam search CTC decoding (``tf.compat.v1.nn.ctc_beam_search_decoder``), blank = last class.

    The prefix beam search of :func:`losskit.ctc_beam_search_decode` on the logits
    (normalised with ``log_softmax`` per frame). With ``merge_repeated=True`` (TensorFlow-1's
    default) equal consecutive labels of each *returned* path are merged afterwards, as
    TensorFlow does; ``merge_repeated=False`` is ``tf.nn.ctc_beam_search_decoder`` of
    TensorFlow 2.

    Args:
        inputs: ``[max_time, batch, C]`` logits.
        sequence_length: ``[batch]`` frames per sample.
        beam_width: prefixes kept per frame.
        top_paths: paths returned, in ``[1, beam_width]``.
        merge_repeated: merge repeated labels of the returned paths.

    Returns:
        ``(decoded, log_probability)``: ``top_paths`` sparse COO tensors
        ``[batch, max_decoded_length]`` (best first) and ``[batch, top_paths]``
        log-probabilities.

    Raises:
        ValueError: shapes, lengths, ``beam_width`` or ``top_paths``.

    Example:
        >>> probs = torch.tensor([[[0.6, 0.4]], [[0.6, 0.4]]])  # class 0 = "a", blank 1
        >>> decoded, log_p = ctc_beam_search_decoder(probs.log(), [2], top_paths=2)
        >>> decoded[0].to_dense(), log_p.exp()
        (tensor([[0]]), tensor([[0.8400, 0.1600]]))

    References:
        ``tf.compat.v1.nn.ctc_beam_search_decoder``.
    """
    fn = _P + "ctc_beam_search_decoder"
    x = _time_major(fn, "inputs", inputs, True)
    batch, num_classes = x.shape[1], x.shape[2]
    il = _seq_lengths(fn, "sequence_length", sequence_length, batch)
    out = F.ctc_beam_search_decode(
        x, il, blank=num_classes - 1, beam_width=beam_width, top_paths=top_paths
    )
    sequences, lengths = out.sequences, out.lengths
    if merge_repeated:
        sequences, lengths = _merge_runs(sequences, lengths)
    decoded = [_sparse_paths(sequences[:, k], lengths[:, k]) for k in range(top_paths)]
    return decoded, out.log_probs
