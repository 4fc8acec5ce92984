"""edit_distance: rapidfuzz parity, metric axioms, tf.edit_distance golden values, input forms.

References are independent of losskit: rapidfuzz's ``Levenshtein.distance`` (C++), TensorFlow's
``tf.edit_distance`` (values stored by ``scripts/golden/edit_distance.py``) and a textbook
Wagner-Fischer loop.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

import losskit
from losskit import edit_distance

kernel = importlib.import_module("losskit.functional.levenshtein")
DATA = Path(__file__).resolve().parents[1] / "data" / "edit_distance" / "tf_edit_distance.json"


def wagner_fischer(a: list, b: list) -> int:
    """The textbook dynamic programme, one row at a time."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def padded(seqs: list[list[int]], width: int | None = None, fill: int = 0) -> tuple:
    """Sequences as a padded (N, width) tensor (padding ``fill``) and their lengths."""
    width = max([len(s) for s in seqs] + [0]) if width is None else width
    out = torch.full((len(seqs), width), fill, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out, torch.tensor([len(s) for s in seqs], dtype=torch.long)


def random_pairs(gen: np.random.Generator, count: int, max_len: int) -> tuple[list, list]:
    hyp, ref = [], []
    for _ in range(count):
        alphabet = int(gen.integers(2, 51))
        hyp.append(gen.integers(0, alphabet, int(gen.integers(0, max_len + 1))).tolist())
        ref.append(gen.integers(0, alphabet, int(gen.integers(0, max_len + 1))).tolist())
    return hyp, ref


def rapidfuzz_distances(hyp: list, ref: list) -> torch.Tensor:
    return torch.tensor(
        [Levenshtein.distance(h, r) for h, r in zip(hyp, ref, strict=True)], dtype=torch.float32
    )


# ---------------------------------------------------------------------------------------------
# Parity with rapidfuzz


def sequences(alphabet: int, max_len: int = 200) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, alphabet - 1), max_size=max_len)


pair_batches = st.integers(2, 50).flatmap(
    lambda a: st.lists(st.tuples(sequences(a), sequences(a)), min_size=1, max_size=12)
)


@given(pair_batches)
def test_matches_rapidfuzz_property(pairs: list[tuple[list[int], list[int]]]) -> None:
    hyp = [p[0] for p in pairs]
    ref = [p[1] for p in pairs]
    h, hl = padded(hyp, fill=7)
    r, rl = padded(ref, fill=7)
    got = edit_distance(h, r, hypothesis_lengths=hl, truth_lengths=rl, normalize=False)
    torch.testing.assert_close(got, rapidfuzz_distances(hyp, ref), rtol=0, atol=0)


@pytest.mark.parametrize("max_len", [20, 64, 65, 200])
def test_matches_rapidfuzz_big_batch(max_len: int) -> None:
    """Thousands of pairs in one call: lengths 0..max_len, alphabets of 2..50 symbols, random
    tokens in the padding (which must be ignored)."""
    gen = np.random.default_rng(max_len)
    hyp, ref = random_pairs(gen, 1500, max_len)
    h, hl = padded(hyp, width=max_len + 3)
    r, rl = padded(ref, width=max_len + 1)
    h = torch.where(torch.arange(h.shape[1]) < hl[:, None], h, torch.randint(0, 50, h.shape))
    r = torch.where(torch.arange(r.shape[1]) < rl[:, None], r, torch.randint(0, 50, r.shape))
    got = edit_distance(h, r, hypothesis_lengths=hl, truth_lengths=rl, normalize=False)
    expected = rapidfuzz_distances(hyp, ref)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # The list path and the string path agree with it too.
    torch.testing.assert_close(edit_distance(hyp, ref, normalize=False), expected, rtol=0, atol=0)
    as_text = ["".join(chr(0x4E00 + t) for t in s) for s in hyp]
    ref_text = ["".join(chr(0x4E00 + t) for t in s) for s in ref]
    torch.testing.assert_close(
        edit_distance(as_text, ref_text, normalize=False), expected, rtol=0, atol=0
    )


@pytest.mark.parametrize(
    ("len_h", "len_t"), [(200, 10), (10, 200), (130, 130), (64, 64), (63, 1), (1, 300)]
)
def test_unequal_sides_and_word_boundaries(len_h: int, len_t: int) -> None:
    """Either side may be the one held in bit vectors; lengths around multiples of 64."""
    gen = torch.Generator().manual_seed(len_h * 1000 + len_t)
    h = torch.randint(0, 3, (40, len_h), generator=gen)
    t = torch.randint(0, 3, (40, len_t), generator=gen)
    hl = torch.randint(0, len_h + 1, (40,), generator=gen)
    tl = torch.randint(0, len_t + 1, (40,), generator=gen)
    hl[0], tl[0] = len_h, len_t
    got = edit_distance(h, t, hypothesis_lengths=hl, truth_lengths=tl, normalize=False)
    expected = [
        Levenshtein.distance(a[:x].tolist(), b[:y].tolist())
        for a, b, x, y in zip(h, t, hl, tl, strict=True)
    ]
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float32), rtol=0, atol=0)


@pytest.mark.parametrize("low", [-(2**62), -5, 2**40])
def test_large_and_negative_token_values(low: int) -> None:
    """Token values far apart take the sorted path (no dense table), negative ones too.

    The reference is the textbook loop: rapidfuzz reduces integer tokens to a narrower key and
    reports -2**62 and -2**62 + 1 as equal.
    """
    gen = torch.Generator().manual_seed(3)
    values = torch.tensor([low, low + 1, low + 2**20, 2**62 + 7, -1])
    h = values[torch.randint(0, 5, (120, 90), generator=gen)]
    t = values[torch.randint(0, 5, (120, 70), generator=gen)]
    hl = torch.randint(0, 91, (120,), generator=gen)
    tl = torch.randint(0, 71, (120,), generator=gen)
    got = edit_distance(h, t, hypothesis_lengths=hl, truth_lengths=tl, normalize=False)
    expected = [
        wagner_fischer(a[:x].tolist(), b[:y].tolist())
        for a, b, x, y in zip(h, t, hl, tl, strict=True)
    ]
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float32), rtol=0, atol=0)


@pytest.mark.parametrize("max_len", [30, 64, 150])
def test_traced_kernel_matches_textbook(monkeypatch: pytest.MonkeyPatch, max_len: int) -> None:
    """The kernel ``torch.compile`` traces (sorted masks, frozen rows, no host reads), run in
    eager by making the code believe it is being compiled."""
    gen = np.random.default_rng(max_len + 1)
    hyp, ref = random_pairs(gen, 60, max_len)
    h, hl = padded(hyp, width=max_len)
    r, rl = padded(ref, width=max_len)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    got = edit_distance(h, r, hypothesis_lengths=hl, truth_lengths=rl, normalize=False)
    expected = [wagner_fischer(a, b) for a, b in zip(hyp, ref, strict=True)]
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float32), rtol=0, atol=0)


def test_chunked_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch split into chunks (bounded memory) gives the same distances."""
    gen = np.random.default_rng(11)
    hyp, ref = random_pairs(gen, 50, 80)
    monkeypatch.setattr(kernel, "_CHUNK_ELEMENTS", 400)
    got = edit_distance(hyp, ref, normalize=False)
    torch.testing.assert_close(got, rapidfuzz_distances(hyp, ref), rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# Metric axioms


@given(st.lists(sequences(4, 90), min_size=3, max_size=3))
def test_metric_axioms(triple: list[list[int]]) -> None:
    a, b, c = triple
    d = edit_distance([a, b, a, b, a, a, b], [a, b, b, a, c, b, c], normalize=False)
    d_aa, d_bb, d_ab, d_ba, d_ac, _, d_bc = d.tolist()
    assert d_aa == 0 and d_bb == 0
    assert (d_ab == 0) == (a == b)
    assert d_ab == d_ba
    assert d_ac <= d_ab + d_bc
    # Bounds: at least the length difference, at most the longer length.
    assert abs(len(a) - len(b)) <= d_ab <= max(len(a), len(b))


@given(st.text(alphabet="abcé😀", max_size=80), st.text(alphabet="abcé😀", max_size=80))
def test_strings_match_textbook(a: str, b: str) -> None:
    expected = wagner_fischer(list(a), list(b))
    got = edit_distance(a, b, normalize=False)
    assert got.shape == () and got.item() == expected
    norm = edit_distance(a, b)
    if b:
        assert math.isclose(norm.item(), expected / len(b), rel_tol=1e-6)
    else:
        assert norm.item() == (0.0 if not a else math.inf)


# ---------------------------------------------------------------------------------------------
# TensorFlow's tf.edit_distance (stored golden values)


def golden_cases() -> list:
    cases = json.loads(DATA.read_text())["cases"]
    return [pytest.param(c, id=c["name"]) for c in cases]


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("case", golden_cases())
def test_tf_edit_distance_golden(case: dict, normalize: bool) -> None:
    expected = torch.tensor(
        [float(v) for v in case[f"normalize_{normalize}"]], dtype=torch.float32
    ).view(case["batch_shape"])
    hyp, ref = case["hypothesis"], case["truth"]
    got = edit_distance(hyp, ref, normalize=normalize).view(case["batch_shape"])
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)
    if case["name"] == "words":
        return
    # The same batch as padded tensors with lengths, in TF's batch shape.
    h, hl = padded(hyp, fill=3)
    r, rl = padded(ref, fill=3)
    shape = tuple(case["batch_shape"])
    got = edit_distance(
        h.view(*shape, -1),
        r.view(*shape, -1),
        normalize=normalize,
        hypothesis_lengths=hl.view(shape),
        truth_lengths=rl.view(shape),
    )
    assert got.shape == shape
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)


def test_tf_corners_are_covered() -> None:
    """The stored values hold the corners of the normalised distance: empty hypothesis (1),
    empty truth (inf), both empty (0)."""
    corners = next(c for c in json.loads(DATA.read_text())["cases"] if c["name"] == "corners")
    assert corners["normalize_True"][:3] == [1.0, "inf", 0.0]
    got = edit_distance(corners["hypothesis"][:3], corners["truth"][:3])
    assert got.tolist() == [1.0, math.inf, 0.0]


# ---------------------------------------------------------------------------------------------
# Input forms, dtypes, reductions, validation


def test_input_forms_agree() -> None:
    words_h = [["the", "cat", "sat"], ("a", "b"), ["x"]]
    words_t = [["the", "cat", "sat", "down"], ["b", "a"], []]
    got = edit_distance(words_h, words_t, normalize=False)
    assert got.tolist() == [1.0, 2.0, 1.0]
    # Sequences given as 1-D tensors or arrays, strings inside token lists.
    tensors = [torch.tensor([1, 2, 3]), np.array([4, 4]), [5]]
    assert edit_distance(tensors, [[1, 3], [4], "ab"], normalize=False).tolist() == [1.0, 1.0, 2.0]
    assert edit_distance(["ab", ["a", "b"]], [["a", "b"], "ab"], normalize=False).tolist() == [0, 0]
    # A numpy batch, an int32 hypothesis against an int64 truth, uint8 tokens.
    h = np.array([[1, 2, 3], [3, 3, 3]], dtype=np.int32)
    t = torch.tensor([[1, 2, 4], [3, 0, 0]])
    expected = [1.0 / 3.0, 2.0 / 3.0]
    torch.testing.assert_close(edit_distance(h, t).tolist(), expected)
    torch.testing.assert_close(
        edit_distance(torch.from_numpy(h).to(torch.uint8), t).tolist(), expected
    )
    # Lengths as Python lists.
    got = edit_distance(torch.from_numpy(h), t, hypothesis_lengths=[3, 1], truth_lengths=[3, 1])
    torch.testing.assert_close(got.tolist(), [1.0 / 3.0, 0.0])


def test_single_pair_and_empty_batches() -> None:
    assert edit_distance("flaw", "lawn", normalize=False).shape == ()
    assert edit_distance("", "", normalize=True).item() == 0.0
    assert edit_distance("a", "").item() == math.inf
    assert edit_distance([], []).shape == (0,)
    empty = edit_distance(torch.zeros(0, 5, dtype=torch.long), torch.zeros(0, 3, dtype=torch.long))
    assert empty.shape == (0,) and empty.dtype == torch.float32
    zero_width = edit_distance(
        torch.zeros(3, 0, dtype=torch.long), torch.ones(3, 2, dtype=torch.long)
    )
    assert zero_width.tolist() == [1.0, 1.0, 1.0]
    assert edit_distance(
        torch.ones(3, 4, dtype=torch.long), torch.zeros(3, 0, dtype=torch.long), normalize=False
    ).tolist() == [4.0, 4.0, 4.0]
    one_d = edit_distance(torch.tensor([1, 2, 3]), torch.tensor([1, 3]), normalize=False)
    assert one_d.shape == () and one_d.item() == 1.0


def test_reductions_and_weights() -> None:
    hyp, ref = ["abc", "abd", ""], ["abc", "xyz", "ab"]
    none = edit_distance(hyp, ref)
    torch.testing.assert_close(none, torch.tensor([0.0, 1.0, 1.0]))
    torch.testing.assert_close(edit_distance(hyp, ref, reduction="sum"), torch.tensor(2.0))
    torch.testing.assert_close(edit_distance(hyp, ref, reduction="mean"), torch.tensor(2.0 / 3.0))
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    weighted = edit_distance(hyp, ref, weight=w, reduction="sum")
    assert weighted.dtype == torch.float64 and weighted.item() == 2.5
    assert edit_distance(hyp, ref, weight=w.float()).dtype == torch.float32
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean', 'sum'"):
        edit_distance(hyp, ref, reduction="batchmean")
    with pytest.raises(ValueError, match="weight of shape"):
        edit_distance(hyp, ref, weight=torch.ones(4))


def test_length_validation_can_be_switched_off() -> None:
    h = torch.tensor([[1, 2, 3], [4, 5, 6]])
    t = torch.tensor([[1, 2], [4, 4]])
    with pytest.raises(ValueError, match=r"hypothesis_lengths must lie in \[0, 3\]"):
        edit_distance(h, t, hypothesis_lengths=torch.tensor([5, 1]))
    with pytest.raises(ValueError, match=r"truth_lengths must lie in \[0, 2\]"):
        edit_distance(h, t, truth_lengths=torch.tensor([-1, 1]))
    # Without validation, lengths are clamped to [0, L].
    got = edit_distance(
        h, t, hypothesis_lengths=torch.tensor([5, 1]), validate=False, normalize=False
    )
    assert got.tolist() == [1.0, 1.0]
    with losskit.validation(False):
        assert edit_distance(
            h, t, truth_lengths=torch.tensor([-1, 9]), normalize=False
        ).tolist() == [3.0, 2.0]
    with pytest.raises(ValueError, match="must have a sequence dimension"):
        edit_distance(torch.tensor(1), torch.tensor(2))


def test_inputs_are_not_modified() -> None:
    h = torch.randint(0, 5, (30, 70))
    t = torch.randint(0, 5, (30, 80))
    hl = torch.randint(0, 71, (30,))
    copies = [x.clone() for x in (h, t, hl)]
    edit_distance(h, t, hypothesis_lengths=hl)
    for x, c in zip((h, t, hl), copies, strict=True):
        assert torch.equal(x, c)


def test_module_twin() -> None:
    module = losskit.nn.EditDistance(normalize=False, reduction="sum")
    h = torch.tensor([[1, 2, 3], [4, 5, 6]])
    t = torch.tensor([[1, 2], [4, 4]])
    lengths = torch.tensor([2, 1])
    got = module(h, t, truth_lengths=lengths)
    expected = edit_distance(h, t, truth_lengths=lengths, normalize=False, reduction="sum")
    torch.testing.assert_close(got, expected)
    assert got.item() == 1.0 + 2.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    gen = np.random.default_rng(5)
    hyp, ref = random_pairs(gen, 500, 150)
    h, hl = padded(hyp)
    r, rl = padded(ref)
    cpu = edit_distance(h, r, hypothesis_lengths=hl, truth_lengths=rl)
    cuda = edit_distance(h.cuda(), r.cuda(), hypothesis_lengths=hl.cuda(), truth_lengths=rl.cuda())
    assert cuda.device.type == "cuda"
    torch.testing.assert_close(cuda.cpu(), cpu)


def test_non_contiguous_and_batched_inputs() -> None:
    """Views with odd strides and several batch dimensions give the same distances."""
    gen = torch.Generator().manual_seed(9)
    base = torch.randint(0, 6, (70, 24), generator=gen)
    h = base.t()  # (24, 70), non-contiguous
    t = torch.randint(0, 6, (48, 66), generator=gen)[::2]  # (24, 66), strided rows
    got = edit_distance(h, t, normalize=False)
    expected = rapidfuzz_distances(h.tolist(), t.tolist())
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    hl = torch.randint(0, 71, (24,), generator=gen)
    tl = torch.randint(0, 67, (24,), generator=gen)
    flat = edit_distance(h, t, hypothesis_lengths=hl, truth_lengths=tl)
    grid = edit_distance(
        h.reshape(4, 6, 70),
        t.reshape(2, 2, 6, 66).flatten(0, 1),
        hypothesis_lengths=hl.view(4, 6),
        truth_lengths=tl.view(4, 6),
    )
    assert grid.shape == (4, 6)
    torch.testing.assert_close(grid.flatten(), flat, rtol=0, atol=0)


@given(st.lists(st.tuples(sequences(3, 70), sequences(3, 70)), min_size=1, max_size=8))
def test_tensor_and_list_paths_agree(pairs: list[tuple[list[int], list[int]]]) -> None:
    hyp = [p[0] for p in pairs]
    ref = [p[1] for p in pairs]
    h, hl = padded(hyp, fill=1)
    r, rl = padded(ref, fill=2)
    tensor = edit_distance(h, r, hypothesis_lengths=hl, truth_lengths=rl)
    lists = edit_distance(hyp, ref)
    words = edit_distance([[f"w{t}" for t in s] for s in hyp], [[f"w{t}" for t in s] for s in ref])
    torch.testing.assert_close(tensor, lists, rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(tensor, words, rtol=0, atol=0, equal_nan=True)
