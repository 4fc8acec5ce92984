"""Streaming metrics: TensorFlow-1's weighted running means (golden values of
``tf.compat.v1.metrics`` in graph mode), torchmetrics' WER and CER, state round trips and the
distributed synchronisation (2 gloo processes, uneven shards, one rank without data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from losskit import metrics
from ranks import run_ranks

GOLDEN = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "compat" / "tf_dialects.json").read_text()
)
DATA = GOLDEN["metrics"][0]
UPDATES = [
    tuple(np.asarray(GOLDEN["arrays"][a["ref"]]["array"], np.float32) for a in update)
    for update in DATA["updates"]
]  # (labels, predictions, weights)


def _metric(name: str) -> metrics.Metric:
    return {
        "mean_squared_error": metrics.MeanSquaredError(),
        "root_mean_squared_error": metrics.MeanSquaredError(squared=False),
        "mean_absolute_error": metrics.MeanAbsoluteError(),
    }[name]


@pytest.mark.parametrize("case", DATA["metrics"], ids=lambda c: c["metric"])
def test_weighted_updates_give_tensorflow_streaming_value(case: dict) -> None:
    metric = _metric(case["metric"])
    for (labels, preds, weights), want in zip(UPDATES, case["values"], strict=True):
        metric.update(preds, labels, weight=weights)
        torch.testing.assert_close(metric.compute().item(), want, rtol=1e-6, atol=1e-6)


def test_weight_refused_as_tensorflow() -> None:
    m = metrics.MeanSquaredError()
    with pytest.raises(ValueError, match=r"^metrics\.MeanSquaredError\.update: weight"):
        m.update(torch.zeros(3, 2), torch.zeros(3, 2), weight=torch.ones(3))
    with pytest.raises(ValueError, match=r"^metrics\.MeanSquaredError\.update: input"):
        m.update(torch.zeros(3, 2), torch.zeros(2, 2))


def test_nothing_counted_is_zero_and_reset_forgets() -> None:
    m = metrics.MeanSquaredError()
    assert m.compute().item() == 0.0
    m.update(torch.ones(2), torch.zeros(2), weight=0.0)
    assert m.compute().item() == 0.0
    m.update(torch.ones(2), torch.zeros(2))
    assert m.compute().item() == 1.0
    m.reset()
    assert m.compute().item() == 0.0


def test_state_dict_round_trip() -> None:
    a = metrics.MeanAbsoluteError()
    for labels, preds, weights in UPDATES[:2]:
        a.update(preds, labels, weight=weights)
    b = metrics.MeanAbsoluteError()
    b.load_state_dict(a.state_dict())
    assert b.compute().item() == a.compute().item()
    with pytest.raises(ValueError, match="state_dict must have the keys"):
        b.load_state_dict({"total": torch.tensor(1.0)})


def test_inputs_unmodified_and_lists_accepted() -> None:
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    xc, yc = x.clone(), y.clone()
    m = metrics.MeanSquaredError()
    m.update(x, y)
    assert torch.equal(x, xc) and torch.equal(y, yc)
    n = metrics.MeanSquaredError()
    n.update(x.tolist(), y.numpy())
    torch.testing.assert_close(m.compute(), n.compute())


def test_edit_distance_metric_is_the_weighted_mean_of_tf_edit_distances() -> None:
    hyps, refs = ["kitten", "abc", ""], ["sitting", "abd", "xy"]
    m = metrics.EditDistance()
    m.update(hyps, refs, weight=torch.tensor([1.0, 2.0, 0.0]))
    want = (3 / 7 * 1 + 1 / 3 * 2) / 3
    torch.testing.assert_close(m.compute().item(), want)


TEXTS = [
    (
        ["this is the prediction", "there is an other sample"],
        ["this is the reference", "there is another one"],
    ),
    (["hello world", "", "a b c d"], ["hello duck", "nothing here", "a b"]),
    ("the quick brown fox", "the quick brown dog jumps"),
]


@pytest.mark.parametrize(
    ("ours", "theirs"), [("WordErrorRate", "WordErrorRate"), ("CharErrorRate", "CharErrorRate")]
)
def test_error_rates_equal_torchmetrics(ours: str, theirs: str) -> None:
    torchmetrics_text = pytest.importorskip("torchmetrics.text")
    mine = getattr(metrics, ours)()
    ref = getattr(torchmetrics_text, theirs)()
    for hyp, truth in TEXTS:
        mine.update(hyp, truth)
        ref.update(hyp, truth)
        torch.testing.assert_close(
            mine.compute().item(), ref.compute().item(), rtol=1e-6, atol=1e-7
        )


def test_error_rate_refuses_mismatched_batches() -> None:
    with pytest.raises(ValueError, match=r"^metrics\.WordErrorRate\.update: hypothesis and truth"):
        metrics.WordErrorRate().update(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="hypothesis must be a string or a list of strings"):
        metrics.CharErrorRate().update(3, "a")


# ----------------------------------------------------------------------------------------------
# distributed


def _sync_worker(rank: int, world: int, shards: list) -> list[float]:
    values = []
    for name, kwargs in (
        ("MeanSquaredError", {}),
        ("MeanSquaredError", {"squared": False}),
        ("MeanAbsoluteError", {}),
    ):
        m = getattr(metrics, name)(**kwargs)
        for preds, labels, weights in shards[rank]:
            m.update(preds, labels, weight=weights)
        local = m.state_dict()
        values.append(float(m.compute()))
        assert all(torch.equal(local[k], v) for k, v in m.state_dict().items())  # local kept
    wer = metrics.WordErrorRate()
    texts = [(["a b c", "d e"], ["a x c", "d e f"]), (["hello"], ["hello world"]), ([], [])]
    for hyp, truth in texts[rank::world]:
        wer.update(hyp, truth)
    values.append(float(wer.compute()))
    import torch.distributed as dist

    group = dist.new_group([0, 1])  # an explicit process_group
    chosen = metrics.MeanSquaredError(process_group=group)
    for preds, labels, weights in shards[rank]:
        chosen.update(preds, labels, weight=weights)
    values.append(float(chosen.compute()))
    empty_rank = metrics.MeanAbsoluteError()  # rank 1 holds no data
    if rank == 0:
        empty_rank.update(torch.tensor([1.0, -2.0, 4.0]), torch.zeros(3))
    values.append(float(empty_rank.compute()))
    return values


def test_compute_after_sync_equals_one_process_with_every_update() -> None:
    # one spawn of 2 gloo ranks for every check: uneven shards, a rank without data, text metrics
    gen = torch.Generator().manual_seed(3)
    updates = []
    for n in (5, 2, 3):
        preds, labels = torch.randn(n, 2, generator=gen), torch.randn(n, 2, generator=gen)
        weights = torch.rand(n, 1, generator=gen)
        updates.append((preds, labels, weights))
    shards = [updates[:2], updates[2:]]  # uneven shards
    results = run_ranks(_sync_worker, 2, shards)
    single = []
    for name, kwargs in (
        ("MeanSquaredError", {}),
        ("MeanSquaredError", {"squared": False}),
        ("MeanAbsoluteError", {}),
    ):
        m = getattr(metrics, name)(**kwargs)
        for preds, labels, weights in updates:
            m.update(preds, labels, weight=weights)
        single.append(float(m.compute()))
    wer = metrics.WordErrorRate()
    wer.update(["a b c", "d e", "hello"], ["a x c", "d e f", "hello world"])
    single.append(float(wer.compute()))
    single.append(single[0])
    single.append(7 / 3)
    for values in results:
        np.testing.assert_allclose(values, single, rtol=1e-12)


def test_error_rate_before_any_reference_word_is_nan_as_torchmetrics() -> None:
    torchmetrics_text = pytest.importorskip("torchmetrics.text")
    mine, ref = metrics.WordErrorRate(), torchmetrics_text.WordErrorRate()
    mine.update([""], [""])
    ref.update([""], [""])
    assert np.isnan(mine.compute().item()) and np.isnan(ref.compute().item())
