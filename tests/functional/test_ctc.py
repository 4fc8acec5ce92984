"""CTC loss and decoders against independent references.

References: Graves' forward recursion written here in probability space (float64), brute-force
enumeration of every frame-level path, ``torch.nn.functional.ctc_loss``, and TensorFlow golden
values (``tests/data/ctc/tf_ctc.npz``, written by ``scripts/golden/ctc.py``; TensorFlow is not
imported here).
"""

from __future__ import annotations

import itertools
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given, settings
from hypothesis import strategies as st

import losskit
from losskit.functional.ctc import _alignment_nll

GOLDEN = np.load(Path(__file__).resolve().parents[1] / "data" / "ctc" / "tf_ctc.npz")


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def collapse_path(path: tuple[int, ...], blank: int, merge: bool) -> tuple[int, ...]:
    """The map B from a frame-level path to its labelling."""
    out: list[int] = []
    previous = None
    for c in path:
        if c != blank and not (merge and c == previous):
            out.append(c)
        previous = c
    return tuple(out)


def graves_probability(
    probs: np.ndarray, label: list[int], blank: int, merge: bool = True
) -> float:
    """Graves et al. (2006), eq. 5-8: the forward variables in probability space, float64.

    ``merge=False`` is TensorFlow's ctc_merge_repeated=False: a non-blank state has no self-loop
    and may always be reached from two states back (equal labels need no blank in between).
    """
    frames = probs.shape[0]
    ext = [blank]
    for c in label:
        ext += [c, blank]
    size = len(ext)
    if frames == 0:
        return 1.0 if not label else 0.0
    alpha = np.zeros((frames, size))
    alpha[0, 0] = probs[0, blank]
    if size > 1:
        alpha[0, 1] = probs[0, ext[1]]
    for t in range(1, frames):
        for s in range(size):
            a = alpha[t - 1, s] if (merge or ext[s] == blank) else 0.0
            if s >= 1:
                a += alpha[t - 1, s - 1]
            if s >= 2 and ext[s] != blank and (not merge or ext[s] != ext[s - 2]):
                a += alpha[t - 1, s - 2]
            alpha[t, s] = a * probs[t, ext[s]]
    total = alpha[frames - 1, size - 1]
    if size > 1:
        total += alpha[frames - 1, size - 2]
    return float(total)


@cache
def _paths(frames: int, classes: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.product(range(classes), repeat=frames))


def brute_force_nll(
    log_probs: torch.Tensor, label: list[int], blank: int, merge: bool
) -> torch.Tensor:
    """-log of the summed probability of every path that B maps to ``label`` (differentiable)."""
    frames, classes = log_probs.shape
    chosen = [p for p in _paths(frames, classes) if collapse_path(p, blank, merge) == tuple(label)]
    if not chosen:
        return log_probs.sum() * 0 + math.inf
    index = torch.tensor(chosen, dtype=torch.long).reshape(len(chosen), frames)
    scores = log_probs.gather(1, index.T).sum(0) if frames else log_probs.new_zeros(1)
    return -torch.logsumexp(scores, 0)


def random_case(
    gen: torch.Generator, frames: int, batch: int, classes: int, width: int, blank: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    logits = torch.randn(frames, batch, classes, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, classes - 1, (batch, width), generator=gen)
    labels = labels + (labels >= blank).long()  # never the blank
    il = torch.randint(max(frames - 2, 0), frames + 1, (batch,), generator=gen)
    tl = torch.minimum(torch.randint(0, width + 1, (batch,), generator=gen), il // 2)
    return logits, labels, il, tl


# ---------------------------------------------------------------------------------------------
# Loss values against the textbook recursion and brute force
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("blank", [0, 2])
def test_against_graves_recursion(merge: bool, blank: int) -> None:
    gen = torch.Generator().manual_seed(1)
    logits, labels, il, tl = random_case(gen, 7, 5, 4, 3, blank=blank)
    labels[0, :3] = torch.tensor([1, 1, 3]) if blank != 1 else labels[0, :3]
    tl[0] = 3
    il[0] = 7
    lp = logits.log_softmax(-1)
    loss = losskit.ctc_loss(lp, labels, il, tl, blank=blank, merge_repeated=merge, reduction="none")
    probs = lp.exp().numpy()
    for n in range(5):
        p = graves_probability(probs[: il[n], n], labels[n, : tl[n]].tolist(), blank, merge=merge)
        assert loss[n].item() == pytest.approx(-math.log(p), rel=1e-10)


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize(
    ("frames", "classes", "label"),
    [
        (6, 3, [1, 1]),
        (5, 4, [2, 1, 2]),
        (6, 3, [2, 2, 2]),
        (4, 3, []),
        (3, 3, [1, 2, 1]),
        (5, 4, [3, 3, 1]),
        (1, 3, [2]),
    ],
)
def test_against_brute_force(merge: bool, frames: int, classes: int, label: list[int]) -> None:
    """Values and gradients (w.r.t. log_probs) against the sum over every alignment."""
    gen = torch.Generator().manual_seed(frames * 10 + len(label))
    lp = torch.randn(frames, classes, generator=gen, dtype=torch.float64).log_softmax(-1)
    lp.requires_grad_(True)
    expected = brute_force_nll(lp, label, 0, merge)
    feasible = bool(torch.isfinite(expected))
    target = torch.tensor([label or [1]])
    got = losskit.ctc_loss(
        lp[:, None], target, [frames], [len(label)], merge_repeated=merge, reduction="sum"
    )
    if not feasible:
        assert torch.isinf(got)
        return
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    (g_ref,) = torch.autograd.grad(expected, lp)
    (g,) = torch.autograd.grad(got, lp)
    torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-12)


def test_topologies_differ_as_documented() -> None:
    """Three frames of uniform {blank, a}: "a a" is one path without merging (a a -), but
    needs a blank in between with merging (a - a)."""
    lp = torch.full((3, 1, 2), 0.5).log()
    merged = losskit.ctc_loss(lp, torch.tensor([[1, 1]]), [3], [2], reduction="sum")
    plain = losskit.ctc_loss(
        lp, torch.tensor([[1, 1]]), [3], [2], reduction="sum", merge_repeated=False
    )
    # merged: only "a - a"; not merged: "a a -", "a - a", "- a a".
    assert merged.item() == pytest.approx(math.log(8))
    assert plain.item() == pytest.approx(math.log(8 / 3))


# ---------------------------------------------------------------------------------------------
# Against torch.nn.functional.ctc_loss
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch(reduction: str, concatenated: bool, dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(3)
    logits, labels, il, tl = random_case(gen, 12, 6, 5, 4)
    tl[2] = 0
    logits = logits.to(dtype).requires_grad_(True)
    targets = torch.cat([labels[n, : tl[n]] for n in range(6)]) if concatenated else labels
    ours = losskit.ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction=reduction)
    ref = tF.ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    (g,) = torch.autograd.grad(ours.sum(), logits)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g, g_ref)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_zero_infinity_matches_torch(zero_infinity: bool) -> None:
    gen = torch.Generator().manual_seed(4)
    logits, _, il, _ = random_case(gen, 5, 3, 4, 3)
    il = torch.tensor([5, 5, 4])
    labels = torch.tensor([[1, 1, 1], [1, 2, 3], [2, 2, 1]])  # sample 0 needs 5 frames: ok;
    tl = torch.tensor([3, 3, 3])  # sample 2 "2 2 1" needs 4 frames: ok; make 0 infeasible:
    labels[0] = torch.tensor([3, 3, 3])
    il[0] = 4
    logits.requires_grad_(True)
    ours = losskit.ctc_loss(
        logits.log_softmax(-1), labels, il, tl, reduction="none", zero_infinity=zero_infinity
    )
    ref = tF.ctc_loss(
        logits.log_softmax(-1), labels, il, tl, reduction="none", zero_infinity=zero_infinity
    )
    torch.testing.assert_close(ours, ref)
    assert (ours[0] == 0) if zero_infinity else torch.isinf(ours[0])
    # Gradients of the finite samples (an infinite one poisons its own gradient with NaN in
    # both).
    (g,) = torch.autograd.grad(ours[1:].sum(), logits)
    (g_ref,) = torch.autograd.grad(ref[1:].sum(), logits)
    torch.testing.assert_close(g[:, 1:], g_ref[:, 1:])
    if zero_infinity:
        (g0,) = torch.autograd.grad(
            losskit.ctc_loss(
                logits.log_softmax(-1), labels, il, tl, zero_infinity=True, reduction="sum"
            ),
            logits,
        )
        assert torch.isfinite(g0).all()
        assert (g0[:, 0] == 0).all()


def test_gradient_wrt_log_probs_is_the_true_derivative() -> None:
    """torch's kernel returns p - gamma; losskit returns -gamma (p cancels under log_softmax)."""
    gen = torch.Generator().manual_seed(5)
    logits, labels, il, tl = random_case(gen, 8, 4, 5, 3)
    lp = logits.log_softmax(-1).requires_grad_(True)
    (g,) = torch.autograd.grad(losskit.ctc_loss(lp, labels, il, tl, reduction="sum"), lp)
    (g_ref,) = torch.autograd.grad(tF.ctc_loss(lp, labels, il, tl, reduction="sum"), lp)
    inside = (torch.arange(8)[:, None] < il)[:, :, None]
    torch.testing.assert_close(g, g_ref - lp.detach().exp() * inside)
    # Occupancies: each frame inside the input sums to -1, frames beyond have no gradient.
    torch.testing.assert_close(g.sum(-1), -inside[..., 0].double())


@pytest.mark.parametrize("block", [None, 40])
@pytest.mark.parametrize("lengths", ["full", "uneven", "infinite"])
def test_true_derivative_across_correction_blocks(
    monkeypatch: pytest.MonkeyPatch, block: int | None, lengths: str
) -> None:
    """The correction p_t(k) is subtracted a block of frames at a time: several blocks and a
    ragged last one (the default block on a long input, or a tiny block), every frame inside
    each input length and none beyond, and a per-sample incoming gradient."""
    import losskit.functional.ctc as ctc_module

    if block is not None:
        monkeypatch.setattr(ctc_module, "_EXP_BLOCK", block)
    gen = torch.Generator().manual_seed(11)
    frames, batch, classes = (37, 3, 6) if block is not None else (251, 12, 30)
    logits, labels, il, tl = random_case(gen, frames, batch, classes, 4)
    if lengths == "uneven":
        il = torch.randint(frames // 2, frames + 1, (batch,), generator=gen)
        il[0] = frames - 3
    elif lengths == "full":
        il = torch.full((batch,), frames)
    else:
        tl[1] = 4
        il[1] = 3  # too short for its labels: an infinite loss, zeroed
    lp = logits.log_softmax(-1).requires_grad_(True)
    zero_inf = lengths == "infinite"
    w = torch.rand(batch, generator=gen, dtype=torch.float64)
    ours = losskit.ctc_loss(lp, labels, il, tl, reduction="none", zero_infinity=zero_inf)
    ref = tF.ctc_loss(lp, labels, il, tl, reduction="none", zero_infinity=zero_inf)
    torch.testing.assert_close(ours, ref)
    (g,) = torch.autograd.grad(ours, lp, w)
    (g_ref,) = torch.autograd.grad(ref, lp, w)
    inside = torch.arange(frames)[:, None] < il
    scale = torch.where(inside, w, 0.0)
    if zero_inf:
        scale = torch.where(
            torch.isinf(tF.ctc_loss(lp, labels, il, tl, reduction="none")), 0.0, scale
        )
    torch.testing.assert_close(g, g_ref - lp.detach().exp() * scale[:, :, None])


@settings(max_examples=25, deadline=None)
@given(
    frames=st.integers(1, 9),
    batch=st.integers(1, 4),
    classes=st.integers(2, 5),
    width=st.integers(0, 4),
    blank=st.integers(0, 4),
    seed=st.integers(0, 2**16),
)
def test_log_space_kernel_equals_torch(
    frames: int, batch: int, classes: int, width: int, blank: int, seed: int
) -> None:
    """The forward-backward used by merge_repeated=False and under torch.compile, run on the
    standard topology, equals torch's kernel (values and gradients w.r.t. logits)."""
    blank = blank % classes
    gen = torch.Generator().manual_seed(seed)
    if classes == 1:
        width = 0
    logits, labels, il, tl = random_case(gen, frames, batch, classes, width, blank)
    logits.requires_grad_(True)
    ours = _alignment_nll(
        logits.log_softmax(-1),
        labels,
        il,
        tl,
        blank=blank,
        merge_repeated=True,
        zero_infinity=True,
    )
    ref = tF.ctc_loss(
        logits.log_softmax(-1),
        labels,
        il,
        tl,
        blank=blank,
        reduction="none",
        zero_infinity=True,
    )
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)
    (g,) = torch.autograd.grad(ours.sum(), logits)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g, g_ref, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# Against TensorFlow (golden values)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(int(GOLDEN["loss_cases"])))
def test_against_tensorflow_ctc_loss(case: int) -> None:
    """tf.compat.v1.nn.ctc_loss(labels, logits, ...) with blank = C - 1: loss and gradient
    w.r.t. the logits, every preprocess_collapse_repeated x ctc_merge_repeated combination and
    ignore_longer_outputs_than_inputs."""
    key = f"loss{case}_"
    collapse, merge, ignore = (bool(v) for v in GOLDEN[key + "options"])
    logits = torch.tensor(GOLDEN[key + "logits"], requires_grad=True)
    classes = logits.shape[2]
    targets = torch.tensor(GOLDEN[key + "targets"]).clamp_min(0)
    loss = losskit.ctc_loss(
        logits.log_softmax(-1),
        targets,
        torch.tensor(GOLDEN[key + "input_lengths"]),
        torch.tensor(GOLDEN[key + "target_lengths"]),
        blank=classes - 1,
        reduction="none",
        collapse_repeated_labels=collapse,
        merge_repeated=merge,
        ignore_longer_outputs_than_inputs=ignore,
    )
    np.testing.assert_allclose(loss.detach().numpy(), GOLDEN[key + "loss"], rtol=1e-6)
    (grad,) = torch.autograd.grad(loss.sum(), logits)
    np.testing.assert_allclose(grad.numpy(), GOLDEN[key + "grad"], atol=1e-6)
    if ignore:
        assert (loss[[1, 3]] == 0).all()


# ---------------------------------------------------------------------------------------------
# Options, shapes and gradients
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("collapse", [False, True])
def test_gradcheck(merge: bool, collapse: bool) -> None:
    gen = torch.Generator().manual_seed(6)
    logits, labels, il, tl = random_case(gen, 6, 3, 4, 3)
    labels[0] = torch.tensor([2, 2, 3])
    tl[0] = 3
    il[0] = 6
    lp = logits.log_softmax(-1).requires_grad_(True)

    def fn(x: torch.Tensor) -> torch.Tensor:
        return losskit.ctc_loss(
            x,
            labels,
            il,
            tl,
            merge_repeated=merge,
            collapse_repeated_labels=collapse,
            reduction="none",
        )

    assert torch.autograd.gradcheck(fn, (lp,))


def test_gradcheck_ignore_and_zero_infinity() -> None:
    lp = torch.randn(4, 3, 4, dtype=torch.float64).log_softmax(-1).requires_grad_(True)
    labels = torch.tensor([[1, 2, 3, 1, 2], [1, 1, 0, 0, 0], [3, 1, 2, 0, 0]])
    il, tl = torch.tensor([4, 3, 4]), torch.tensor([5, 2, 3])

    def fn(x: torch.Tensor) -> torch.Tensor:
        return losskit.ctc_loss(
            x,
            labels,
            il,
            tl,
            ignore_longer_outputs_than_inputs=True,
            zero_infinity=True,
            reduction="none",
        )

    out = fn(lp)
    assert out[0] == 0 and torch.isfinite(out).all()
    assert torch.autograd.gradcheck(fn, (lp,))


def test_collapse_repeated_labels_equals_collapsed_targets() -> None:
    gen = torch.Generator().manual_seed(7)
    logits, _, _, _ = random_case(gen, 9, 3, 5, 1)
    lp = logits.log_softmax(-1)
    raw = torch.tensor([[1, 1, 2, 2, 1], [3, 3, 3, 0, 0], [4, 2, 4, 0, 0]])
    collapsed = torch.tensor([[1, 2, 1], [3, 0, 0], [4, 2, 4]])
    for merge in (True, False):
        a = losskit.ctc_loss(
            lp,
            raw,
            [9, 9, 8],
            [5, 3, 3],
            collapse_repeated_labels=True,
            merge_repeated=merge,
            reduction="none",
        )
        b = losskit.ctc_loss(
            lp, collapsed, [9, 9, 8], [3, 1, 3], merge_repeated=merge, reduction="none"
        )
        torch.testing.assert_close(a, b)
    # "mean" divides by the given target lengths (5, 3, 3), not the collapsed ones.
    mean = losskit.ctc_loss(
        lp, raw, [9, 9, 8], [5, 3, 3], collapse_repeated_labels=True, merge_repeated=False
    )
    torch.testing.assert_close(mean, (a / torch.tensor([5.0, 3.0, 3.0], dtype=a.dtype)).mean())


def test_ignore_longer_outputs_than_inputs() -> None:
    gen = torch.Generator().manual_seed(8)
    logits, labels, _, _ = random_case(gen, 5, 3, 4, 6)
    logits.requires_grad_(True)
    il, tl = torch.tensor([5, 3, 5]), torch.tensor([2, 4, 6])
    for merge in (True, False):
        loss = losskit.ctc_loss(
            logits.log_softmax(-1),
            labels,
            il,
            tl,
            merge_repeated=merge,
            ignore_longer_outputs_than_inputs=True,
            reduction="none",
        )
        assert loss[1] == 0 and loss[2] == 0 and loss[0] > 0
        (g,) = torch.autograd.grad(loss.sum(), logits)
        assert (g[:, 1:] == 0).all() and (g[:, 0] != 0).any()


def test_batch_first_and_concatenated_targets() -> None:
    gen = torch.Generator().manual_seed(9)
    logits, labels, il, tl = random_case(gen, 7, 4, 5, 3)
    lp = logits.log_softmax(-1)
    flat = torch.cat([labels[n, : tl[n]] for n in range(4)])
    for merge in (True, False):
        ref = losskit.ctc_loss(lp, labels, il, tl, merge_repeated=merge, reduction="none")
        bf = losskit.ctc_loss(
            lp.transpose(0, 1),
            labels,
            il,
            tl,
            batch_first=True,
            merge_repeated=merge,
            reduction="none",
        )
        cat = losskit.ctc_loss(lp, flat, il, tl, merge_repeated=merge, reduction="none")
        lists = losskit.ctc_loss(
            lp, labels, il.tolist(), tl.tolist(), merge_repeated=merge, reduction="none"
        )
        torch.testing.assert_close(bf, ref)
        torch.testing.assert_close(cat, ref)
        torch.testing.assert_close(lists, ref)


@pytest.mark.parametrize("merge", [True, False])
def test_batch_permutation_equivariance(merge: bool) -> None:
    gen = torch.Generator().manual_seed(10)
    logits, labels, il, tl = random_case(gen, 8, 5, 4, 3)
    lp = logits.log_softmax(-1)
    perm = torch.randperm(5, generator=gen)
    a = losskit.ctc_loss(lp, labels, il, tl, merge_repeated=merge, reduction="none")
    b = losskit.ctc_loss(
        lp[:, perm], labels[perm], il[perm], tl[perm], merge_repeated=merge, reduction="none"
    )
    torch.testing.assert_close(a[perm], b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_computes_in_float32(dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(11)
    logits, labels, il, tl = random_case(gen, 6, 3, 4, 2)
    lp = logits.log_softmax(-1).to(dtype)
    for merge in (True, False):
        out = losskit.ctc_loss(lp, labels, il, tl, merge_repeated=merge)
        assert out.dtype == torch.float32
        ref = losskit.ctc_loss(lp.float(), labels, il, tl, merge_repeated=merge)
        torch.testing.assert_close(out, ref)


@pytest.mark.parametrize("merge", [True, False])
def test_empty_batch_and_empty_time(merge: bool) -> None:
    lp = torch.zeros(5, 0, 4).requires_grad_(True)
    empty = torch.zeros(0, dtype=torch.long)
    for reduction in ("mean", "sum"):
        out = losskit.ctc_loss(
            lp,
            torch.zeros(0, 3, dtype=torch.long),
            empty,
            empty,
            reduction=reduction,
            merge_repeated=merge,
        )
        assert out.item() == 0
        out.backward()
        assert lp.grad is not None and lp.grad.shape == lp.shape
    # No frames at all: an empty target has probability 1, a non-empty one 0.
    lp0 = torch.zeros(0, 2, 3)
    out = losskit.ctc_loss(
        lp0,
        torch.tensor([[1], [1]]),
        [0, 0],
        [0, 1],
        reduction="none",
        zero_infinity=True,
        merge_repeated=merge,
    )
    assert out.tolist() == [0.0, 0.0]


def test_zero_length_input_and_target() -> None:
    lp = torch.randn(4, 2, 3).log_softmax(-1)
    out = losskit.ctc_loss(lp, torch.tensor([[1], [2]]), [0, 4], [0, 0], reduction="none")
    assert out[0].item() == 0
    assert out[1].item() == pytest.approx(-lp[:, 1, 0].sum().item(), rel=1e-6)


def test_inputs_not_modified() -> None:
    lp = torch.randn(6, 3, 4).log_softmax(-1)
    labels = torch.tensor([[1, 1, 2], [2, 3, 3], [3, 1, 1]])
    il, tl = torch.tensor([6, 6, 5]), torch.tensor([3, 3, 2])
    copies = [t.clone() for t in (lp, labels, il, tl)]
    for merge in (True, False):
        losskit.ctc_loss(
            lp,
            labels,
            il,
            tl,
            merge_repeated=merge,
            collapse_repeated_labels=True,
            ignore_longer_outputs_than_inputs=True,
        )
    for t, c in zip((lp, labels, il, tl), copies, strict=True):
        assert torch.equal(t, c)


def test_module_twin() -> None:
    lp = torch.randn(6, 2, 4).log_softmax(-1)
    labels = torch.tensor([[1, 1, 2], [3, 3, 0]])
    args = (lp, labels, [6, 5], [3, 2])
    module = losskit.nn.CTCLoss(blank=0, merge_repeated=False, reduction="sum")
    assert "merge_repeated=False" in repr(module)
    torch.testing.assert_close(
        module(*args), losskit.ctc_loss(*args, merge_repeated=False, reduction="sum")
    )


# ---------------------------------------------------------------------------------------------
# Errors and validation
# ---------------------------------------------------------------------------------------------


def _ok() -> tuple[torch.Tensor, torch.Tensor, list[int], list[int]]:
    return torch.randn(5, 2, 4).log_softmax(-1), torch.tensor([[1, 2], [3, 1]]), [5, 4], [2, 2]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"input_lengths": [5, -1]}, ValueError, r"input_lengths must lie in \[0, 5\]"),
        ({"input_lengths": [5, 6]}, ValueError, r"input_lengths must lie in \[0, 5\]"),
        ({"target_lengths": [2, -1]}, ValueError, r"target_lengths must lie in \[0, 2\]"),
        ({"target_lengths": [2, 3]}, ValueError, r"target_lengths must lie in \[0, 2\]"),
        ({"input_lengths": [5, 1]}, ValueError, r"target length 2 > input length 1 for sample 1"),
        ({"targets": torch.tensor([[1, 4], [3, 1]])}, ValueError, r"class indices in \[0, 3\]"),
        ({"targets": torch.tensor([[1, 0], [3, 1]])}, ValueError, r"must not contain the blank"),
        ({"input_lengths": [5, 5, 5]}, ValueError, r"input_lengths must have one entry per"),
        ({"target_lengths": torch.tensor([[2, 2]])}, ValueError, r"target_lengths must have one"),
        ({"targets": torch.tensor([[1, 2]])}, ValueError, r"targets must have the batch size"),
        ({"targets": torch.ones(2, 2, 2, dtype=torch.long)}, ValueError, r"targets must be padded"),
        ({"targets": torch.ones(2, 2)}, TypeError, r"targets must be an integer tensor"),
        ({"input_lengths": [5.0, 4.0]}, TypeError, r"input_lengths must be an integer tensor or"),
        ({"log_probs": torch.zeros(5, 2, 4, dtype=torch.long)}, TypeError, r"floating point"),
        ({"log_probs": torch.zeros(5, 8)}, ValueError, r"log_probs must be 3-D \(T, N, C\)"),
    ],
)
def test_errors(change: dict[str, object], error: type[Exception], match: str) -> None:
    lp, targets, il, tl = _ok()
    args: dict[str, object] = {
        "log_probs": lp,
        "targets": targets,
        "input_lengths": il,
        "target_lengths": tl,
    }
    args.update(change)
    with pytest.raises(error, match=r"^ctc_loss: .*" + match):
        losskit.ctc_loss(**args)  # type: ignore[arg-type]


def test_option_errors() -> None:
    lp, targets, il, tl = _ok()
    with pytest.raises(ValueError, match=r"^ctc_loss: reduction must be one of"):
        losskit.ctc_loss(lp, targets, il, tl, reduction="avg")
    with pytest.raises(ValueError, match=r"^ctc_loss: blank must lie in \[0, 3\]"):
        losskit.ctc_loss(lp, targets, il, tl, blank=-1)
    with pytest.raises(TypeError, match=r"^ctc_loss: merge_repeated must be a bool"):
        losskit.ctc_loss(lp, targets, il, tl, merge_repeated=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^ctc_loss: concatenated targets must have"):
        losskit.ctc_loss(lp, torch.tensor([1, 2, 3]), il, tl)


def test_validation_can_be_skipped() -> None:
    lp, targets, _, _ = _ok()
    # A target longer than its input: an error by default, inf without validation (as torch).
    with pytest.raises(ValueError):
        losskit.ctc_loss(lp, targets, [5, 1], [2, 2], reduction="none")
    out = losskit.ctc_loss(lp, targets, [5, 1], [2, 2], reduction="none", validate=False)
    assert torch.isinf(out[1]) and torch.isfinite(out[0])
    with losskit.validation(False):
        out = losskit.ctc_loss(lp, targets, [5, 1], [2, 2], reduction="none")
    assert torch.isinf(out[1])
    # zero_infinity and the ignore flag accept such targets (loss 0).
    for flag in ("zero_infinity", "ignore_longer_outputs_than_inputs"):
        out = losskit.ctc_loss(lp, targets, [5, 1], [2, 2], reduction="none", **{flag: True})
        assert out[1] == 0


@pytest.mark.slow
@pytest.mark.parametrize("merge", [True, False])
def test_compiles_without_graph_breaks(merge: bool) -> None:
    gen = torch.Generator().manual_seed(12)
    logits, labels, il, tl = random_case(gen, 5, 3, 4, 2)
    lp = logits.float().log_softmax(-1)

    def fn(x: torch.Tensor) -> torch.Tensor:
        return losskit.ctc_loss(x, labels, il, tl, merge_repeated=merge, validate=False)

    compiled = torch.compile(fn, fullgraph=True, dynamic=False)
    x1 = lp.clone().requires_grad_(True)
    x2 = lp.clone().requires_grad_(True)
    out1, out2 = compiled(x1), fn(x2)
    out1.backward()
    out2.backward()
    torch.testing.assert_close(out1, out2)
    torch.testing.assert_close(x1.grad, x2.grad)


# ---------------------------------------------------------------------------------------------
# Decoders
# ---------------------------------------------------------------------------------------------


def _unpad(rows: np.ndarray) -> list[list[int]]:
    return [[int(v) for v in r if v >= 0] for r in rows]


@pytest.mark.parametrize("case", range(int(GOLDEN["greedy_cases"])))
def test_greedy_against_tensorflow(case: int) -> None:
    key = f"greedy{case}_"
    logits = torch.tensor(GOLDEN[key + "logits"])
    out = losskit.ctc_greedy_decode(
        logits,
        torch.tensor(GOLDEN[key + "input_lengths"]),
        blank=logits.shape[2] - 1,
        merge_repeated=bool(GOLDEN[key + "merge"]),
    )
    seqs = [row[: int(n)].tolist() for row, n in zip(out.sequences, out.lengths, strict=True)]
    assert seqs == _unpad(GOLDEN[key + "decoded"])
    np.testing.assert_allclose(-out.log_probs.numpy(), GOLDEN[key + "neg_sum_logits"], rtol=1e-6)
    # batch_first gives the same.
    out_bf = losskit.ctc_greedy_decode(
        logits.transpose(0, 1),
        torch.tensor(GOLDEN[key + "input_lengths"]),
        blank=logits.shape[2] - 1,
        merge_repeated=bool(GOLDEN[key + "merge"]),
        batch_first=True,
    )
    assert torch.equal(out_bf.sequences, out.sequences)


def collapse_rows(rows: list[list[int]]) -> list[list[int]]:
    return [[c for i, c in enumerate(r) if i == 0 or c != r[i - 1]] for r in rows]


@pytest.mark.parametrize("case", range(int(GOLDEN["beam_cases"])))
def test_beam_search_against_tensorflow(case: int) -> None:
    """tf.compat.v1.nn.ctc_beam_search_decoder(merge_repeated=False) == TF2's decoder ==
    losskit's merge_repeated=True; TF1's merge_repeated=True output is its collapse."""
    key = f"beam{case}_"
    logits = torch.tensor(GOLDEN[key + "logits"])
    beam, top = (int(v) for v in GOLDEN[key + "config"])
    out = losskit.ctc_beam_search_decode(
        logits,
        torch.tensor(GOLDEN[key + "input_lengths"]),
        blank=logits.shape[2] - 1,
        beam_width=beam,
        top_paths=top,
    )
    assert out.sequences.shape[:2] == (logits.shape[1], top)
    np.testing.assert_allclose(out.log_probs.numpy(), GOLDEN[key + "log_probs"], atol=1e-5)
    for k in range(top):
        got = [
            row[: int(n)].tolist()
            for row, n in zip(out.sequences[:, k], out.lengths[:, k], strict=True)
        ]
        assert got == _unpad(GOLDEN[key + "decoded"][:, k])
        assert collapse_rows(got) == _unpad(GOLDEN[key + "merged_decoded"][:, k])
    np.testing.assert_allclose(GOLDEN[key + "merged_log_probs"], GOLDEN[key + "log_probs"])


def brute_force_labellings(
    log_probs: torch.Tensor, blank: int, merge: bool
) -> dict[tuple[int, ...], float]:
    frames, classes = log_probs.shape
    totals: dict[tuple[int, ...], list[float]] = {}
    for path in _paths(frames, classes):
        score = float(sum(log_probs[t, c] for t, c in enumerate(path)))
        totals.setdefault(collapse_path(path, blank, merge), []).append(score)
    return {
        k: float(torch.logsumexp(torch.tensor(v, dtype=torch.float64), 0))
        for k, v in totals.items()
    }


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("blank", [0, 2])
def test_wide_beam_is_exact(merge: bool, blank: int) -> None:
    """With a beam wider than the number of prefixes, the beam search returns the exact most
    probable labellings (brute force over every path), for both topologies."""
    gen = torch.Generator().manual_seed(13 + blank)
    lp = torch.randn(5, 2, 3, generator=gen, dtype=torch.float64).log_softmax(-1)
    lengths = [5, 4]
    out = losskit.ctc_beam_search_decode(
        lp, lengths, blank=blank, beam_width=200, top_paths=5, merge_repeated=merge
    )
    for n in range(2):
        exact = brute_force_labellings(lp[: lengths[n], n], blank, merge)
        best = sorted(exact.items(), key=lambda kv: -kv[1])[:5]
        got = [tuple(out.sequences[n, k, : out.lengths[n, k]].tolist()) for k in range(5)]
        assert got == [b[0] for b in best]
        np.testing.assert_allclose(out.log_probs[n].numpy(), [b[1] for b in best], rtol=1e-10)
        # Each score is also the CTC likelihood of that labelling.
        for k in range(5):
            label = out.sequences[n, k, : out.lengths[n, k]]
            nll = losskit.ctc_loss(
                lp[:, n : n + 1],
                label[None] if len(label) else torch.ones(1, 1, dtype=torch.long),
                [lengths[n]],
                [len(label)],
                blank=blank,
                merge_repeated=merge,
                reduction="sum",
            )
            assert -nll.item() == pytest.approx(out.log_probs[n, k].item(), rel=1e-10)


def test_greedy_hand_example() -> None:
    # Frames: a a - a b b (blank = 0, a = 1, b = 2).
    path = torch.tensor([1, 1, 0, 1, 2, 2])
    lp = tF.one_hot(path, 3).double().mul(5).log_softmax(-1)[:, None]
    merged = losskit.ctc_greedy_decode(lp, [6])
    plain = losskit.ctc_greedy_decode(lp, [6], merge_repeated=False)
    assert merged.sequences[0, : merged.lengths[0]].tolist() == [1, 1, 2]
    assert plain.sequences[0, : plain.lengths[0]].tolist() == [1, 1, 1, 2, 2]
    torch.testing.assert_close(merged.log_probs, lp.max(-1).values.sum(0))
    short = losskit.ctc_greedy_decode(lp, [2])
    assert short.sequences.tolist() == [[1]] and short.lengths.tolist() == [1]


def test_greedy_equals_beam_of_width_one_on_peaked_inputs() -> None:
    """When one class dominates every frame, the best path's labelling is the best labelling."""
    gen = torch.Generator().manual_seed(14)
    path = torch.randint(0, 4, (10, 3), generator=gen)
    lp = (tF.one_hot(path, 4).double() * 20).log_softmax(-1)
    greedy = losskit.ctc_greedy_decode(lp, [10, 9, 7])
    beam = losskit.ctc_beam_search_decode(lp, [10, 9, 7], beam_width=4)
    assert torch.equal(greedy.lengths, beam.lengths[:, 0])
    for n in range(3):
        k = int(greedy.lengths[n])
        assert torch.equal(greedy.sequences[n, :k], beam.sequences[n, 0, :k])


def test_decoder_outputs_and_errors() -> None:
    lp = torch.randn(4, 2, 3).log_softmax(-1)
    out = losskit.ctc_beam_search_decode(lp, [0, 1], beam_width=3, top_paths=3)
    # No frames: only the empty labelling (probability 1); the missing paths are -inf.
    assert out.lengths[0].tolist() == [0, 0, 0]
    assert out.log_probs[0, 0] == 0 and torch.isinf(out.log_probs[0, 1:]).all()
    assert (out.sequences[out.sequences >= 0] > 0).all()  # padding is -1, never the blank
    with pytest.raises(ValueError, match=r"^ctc_beam_search_decode: top_paths must lie in"):
        losskit.ctc_beam_search_decode(lp, [4, 4], beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match=r"^ctc_beam_search_decode: beam_width must be >= 1"):
        losskit.ctc_beam_search_decode(lp, [4, 4], beam_width=0)
    with pytest.raises(ValueError, match=r"^ctc_greedy_decode: input_lengths must lie in"):
        losskit.ctc_greedy_decode(lp, [4, 5])
    with pytest.raises(ValueError, match=r"^ctc_greedy_decode: blank must lie in"):
        losskit.ctc_greedy_decode(lp, [4, 4], blank=3)
    with pytest.raises(TypeError, match=r"^ctc_greedy_decode: log_probs must be a floating"):
        losskit.ctc_greedy_decode(lp.long(), [4, 4])
    empty = losskit.ctc_greedy_decode(torch.zeros(3, 0, 4), torch.zeros(0, dtype=torch.long))
    assert empty.sequences.shape == (0, 0) and empty.log_probs.shape == (0,)


@pytest.mark.parametrize("merge", [True, False])
def test_large_logits_stay_finite(merge: bool) -> None:
    """Logits of magnitude 1e4 in float32: finite loss and gradients, equal to float64."""
    gen = torch.Generator().manual_seed(15)
    logits, labels, il, tl = random_case(gen, 8, 4, 5, 3)
    logits = (logits * 1e4).float().requires_grad_(True)
    loss = losskit.ctc_loss(logits.log_softmax(-1), labels, il, tl, merge_repeated=merge)
    (g,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(loss) and torch.isfinite(g).all()
    x64 = logits.detach().double().requires_grad_(True)
    loss64 = losskit.ctc_loss(x64.log_softmax(-1), labels, il, tl, merge_repeated=merge)
    (g64,) = torch.autograd.grad(loss64, x64)
    torch.testing.assert_close(loss.double(), loss64, rtol=1e-5, atol=1e-3)
    # float32 log-likelihoods of ~1e4 carry ~1e-3 absolute rounding into the occupancies.
    torch.testing.assert_close(g.double(), g64, rtol=0, atol=1e-2)
    if merge:
        ref = tF.ctc_loss(x64.detach().log_softmax(-1), labels, il, tl)
        torch.testing.assert_close(loss64, ref)


def test_log_space_kernel_far_below_float32_range() -> None:
    """Path log-probabilities of -1e4 (exp underflows to 0): the log-space recursion keeps them."""
    lp = torch.full((6, 1, 3), -2000.0)
    lp[:, 0, 0] = 0.0  # blank certain, labels at -2000 each
    labels = torch.tensor([[1, 2, 1]])
    expected = 3 * 2000.0  # the three label frames; every blank frame has probability 1
    for merge in (True, False):
        out = losskit.ctc_loss(lp, labels, [6], [3], merge_repeated=merge, reduction="sum")
        # Several placements of the labels: loss = 6000 - log(number of alignments).
        assert 6000 - 5 < out.item() <= expected
    torch.testing.assert_close(
        losskit.ctc_loss(lp, labels, [6], [3], merge_repeated=False, reduction="sum"),
        torch.tensor(6000.0 - math.log(math.comb(6, 3))),
    )


@settings(max_examples=20, deadline=None)
@given(
    frames=st.integers(1, 5),
    classes=st.integers(2, 3),
    label=st.lists(st.integers(1, 2), max_size=3),
    merge=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_brute_force_property(
    frames: int, classes: int, label: list[int], merge: bool, seed: int
) -> None:
    """Random tiny cases of both topologies: value and gradient equal the sum over every path."""
    label = [min(c, classes - 1) for c in label]
    gen = torch.Generator().manual_seed(seed)
    lp = torch.randn(frames, classes, generator=gen, dtype=torch.float64).log_softmax(-1)
    lp.requires_grad_(True)
    expected = brute_force_nll(lp, label, 0, merge)
    got = losskit.ctc_loss(
        lp[:, None],
        torch.tensor([label or [1]]),
        [frames],
        [len(label)],
        merge_repeated=merge,
        reduction="sum",
        zero_infinity=True,
    )
    if not torch.isfinite(expected):
        assert got.item() == 0  # infeasible, zeroed
        return
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    (g,) = torch.autograd.grad(got, lp)
    (g_ref,) = torch.autograd.grad(expected, lp)
    torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    frames=st.integers(0, 5),
    merge=st.booleans(),
    blank=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_wide_beam_property(frames: int, merge: bool, blank: int, seed: int) -> None:
    """A beam wider than every prefix set finds the exact best labelling, whose probability is at
    least the greedy path's."""
    gen = torch.Generator().manual_seed(seed)
    lp = torch.randn(frames, 1, 3, generator=gen, dtype=torch.float64).mul(2).log_softmax(-1)
    beam = losskit.ctc_beam_search_decode(
        lp, [frames], blank=blank, beam_width=500, merge_repeated=merge
    )
    exact = brute_force_labellings(lp[:, 0], blank, merge)
    best = max(exact.values())
    assert beam.log_probs[0, 0].item() == pytest.approx(best, rel=1e-10, abs=1e-12)
    assert exact[tuple(beam.sequences[0, 0, : beam.lengths[0, 0]].tolist())] == pytest.approx(
        best, rel=1e-10, abs=1e-12
    )
    greedy = losskit.ctc_greedy_decode(lp, [frames], blank=blank, merge_repeated=merge)
    assert greedy.log_probs[0].item() <= best + 1e-12


def test_blank_zero_against_tensorflow_v2() -> None:
    """tf.nn.ctc_loss(..., blank_index=0) and tf.nn.ctc_greedy_decoder(..., blank_index=0)."""
    logits = torch.tensor(GOLDEN["v2_logits"], requires_grad=True)
    il = torch.tensor(GOLDEN["v2_input_lengths"])
    loss = losskit.ctc_loss(
        logits.log_softmax(-1),
        torch.tensor(GOLDEN["v2_targets"]),
        il,
        torch.tensor(GOLDEN["v2_target_lengths"]),
        reduction="none",
    )
    np.testing.assert_allclose(loss.detach().numpy(), GOLDEN["v2_loss"], rtol=1e-5)
    (grad,) = torch.autograd.grad(loss.sum(), logits)
    np.testing.assert_allclose(grad.numpy(), GOLDEN["v2_grad"], atol=1e-5)
    for merge, tag in ((True, "merged"), (False, "plain")):
        out = losskit.ctc_greedy_decode(logits.detach(), il, merge_repeated=merge)
        seqs = [r[: int(n)].tolist() for r, n in zip(out.sequences, out.lengths, strict=True)]
        assert seqs == _unpad(GOLDEN[f"v2_greedy_{tag}_decoded"])
        np.testing.assert_allclose(
            -out.log_probs.numpy(), GOLDEN[f"v2_greedy_{tag}_neg_sum_logits"], rtol=1e-6
        )
