"""Every loss with ``process_group=`` against a single process holding the whole batch.

One spawned run per world size (2 and 3 gloo processes) computes every case on every rank; the
main process computes the references on the concatenated batch with independent float64
formulas (``torch.nn.functional`` where torch has the loss, the papers' formulas otherwise) and
compares, on every rank, the value and the gradient of the rank's own shard with the reference
gradient restricted to that shard. Shards are uneven (one is empty with 3 ranks) and the ranks
hold different numbers of ignored labels.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as TF

from ranks import run_ranks

F64 = torch.float64
IGNORE = -100
# Samples per rank: uneven; with three ranks the middle one is empty.
SIZES = {2: [2, 5], 3: [4, 0, 3]}
CENTER_STEPS = 3


# --------------------------------------------------------------------------------------------
# data: one batch, split along dimension 0


def _data(total: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(10)
    labels = torch.randint(0, 3, (total, 4, 4), generator=gen)
    labels[0, :2] = -1  # dice's ignore_index: only in the first samples
    tokens = torch.randint(0, 5, (total, 6), generator=gen)
    # ignored tokens: many in the first samples, few later, so every rank counts differently
    drop = torch.rand(total, 6, generator=gen) < torch.linspace(0.8, 0.1, total).unsqueeze(1)
    tokens[drop] = IGNORE
    return {
        "seg": torch.randn(total, 3, 4, 4, generator=gen, dtype=F64),
        "labels": labels,
        "prob": torch.rand(total, 1, 5, 5, generator=gen, dtype=F64),
        "mask": (torch.rand(total, 1, 5, 5, generator=gen) < 0.3).to(F64),
        "multi": torch.rand(total, 2, 6, generator=gen, dtype=F64),
        "multi_t": (torch.rand(total, 2, 6, generator=gen) < 0.4).to(F64),
        "edge": torch.randn(total, 1, 6, 6, generator=gen, dtype=F64),
        "edge_t": (torch.rand(total, 1, 6, 6, generator=gen) < 0.2).to(F64),
        "logits": torch.randn(total, 4, 3, generator=gen, dtype=F64),
        "elem_w": torch.rand(total, 4, 3, generator=gen, dtype=F64),
        "soft": torch.softmax(torch.randn(total, 4, 3, generator=gen, dtype=F64), 1),
        "token_logits": torch.randn(total, 5, 6, generator=gen, dtype=F64),
        "tokens": tokens,
        "features": torch.randn(total, 2, generator=gen, dtype=F64),
        "classes": torch.randint(0, 3, (total,), generator=gen),
        "class_w": torch.tensor([0.5, 2.0, 1.0, 1.5, 0.7], dtype=F64),
    }


def _shard(t: torch.Tensor, sizes: list[int], rank: int) -> torch.Tensor:
    return t.split(sizes)[rank]


# --------------------------------------------------------------------------------------------
# the cases: name -> (loss of the given tensors, names of the inputs that are differentiated)


def _cases(group: Any) -> dict[str, tuple[Any, list[str]]]:
    """Each case maps a dict of (sharded or whole) tensors to a loss. ``group=None`` is the
    single-process run of the same call, used only to check that the option changes nothing
    locally; the references below are independent."""
    import losskit
    from losskit import nn

    g = {"process_group": group}
    return {
        "dice_multiclass_batch": (
            lambda d: losskit.dice_loss(
                d["seg"],
                d["labels"],
                mode="multiclass",
                from_logits=True,
                batch=True,
                ignore_index=-1,
                **g,
            ),
            ["seg"],
        ),
        "dice_module_batch": (
            lambda d: nn.DiceLoss(mode="multiclass", from_logits=True, batch=True, smooth=0.5, **g)(
                d["seg"], d["labels"].clamp_min(0)
            ),
            ["seg"],
        ),
        "dice_per_sample_mean": (
            lambda d: losskit.dice_loss(d["prob"], d["mask"], **g),
            ["prob"],
        ),
        "jaccard_binary_batch": (
            lambda d: losskit.jaccard_loss(d["prob"], d["mask"], batch=True, **g),
            ["prob"],
        ),
        "tversky_multilabel_batch": (
            lambda d: losskit.tversky_loss(
                d["multi"], d["multi_t"], alpha=0.3, beta=0.7, mode="multilabel", batch=True, **g
            ),
            ["multi"],
        ),
        "hed_batch_beta": (
            lambda d: losskit.balanced_sigmoid_cross_entropy(
                d["edge"], d["edge_t"], beta="batch", **g
            ),
            ["edge"],
        ),
        "hed_per_sample_beta": (
            lambda d: losskit.balanced_sigmoid_cross_entropy(d["edge"], d["edge_t"], **g),
            ["edge"],
        ),
        "sigmoid_ce_weighted": (
            lambda d: losskit.sigmoid_cross_entropy(
                d["logits"], d["soft"], weight=d["elem_w"], **g
            ),
            ["logits"],
        ),
        "softmax_ce_soft": (
            lambda d: losskit.softmax_cross_entropy(
                d["logits"], d["soft"], weight=d["class_w"][:4], label_smoothing=0.1, **g
            ),
            ["logits"],
        ),
        "sparse_ce_token_mean": (
            lambda d: losskit.sparse_softmax_cross_entropy(d["token_logits"], d["tokens"], **g),
            ["token_logits"],
        ),
        "sparse_ce_weighted_smoothed": (
            lambda d: losskit.sparse_softmax_cross_entropy(
                d["token_logits"], d["tokens"], weight=d["class_w"], label_smoothing=0.1, **g
            ),
            ["token_logits"],
        ),
        "sparse_ce_sum": (
            lambda d: losskit.sparse_softmax_cross_entropy(
                d["token_logits"], d["tokens"], reduction="sum", **g
            ),
            ["token_logits"],
        ),
        "sparse_ce_module": (
            lambda d: nn.SparseSoftmaxCrossEntropyLoss(**g)(d["token_logits"], d["tokens"]),
            ["token_logits"],
        ),
        "sigmoid_focal": (
            lambda d: losskit.sigmoid_focal_loss(d["logits"], (d["soft"] > 0.3).to(F64), **g),
            ["logits"],
        ),
        "softmax_focal_ignore": (
            lambda d: losskit.softmax_focal_loss(
                d["token_logits"], d["tokens"], alpha=0.25, gamma=2.0, **g
            ),
            ["token_logits"],
        ),
        "center_loss_mean": (
            lambda d: losskit.center_loss(
                d["features"], d["classes"], d["class_w"][:3].unsqueeze(1).expand(3, 2), **g
            ),
            ["features"],
        ),
    }


def _evaluate(case: Any, inputs: list[str], data: dict[str, torch.Tensor]) -> dict[str, Any]:
    leaves = {k: v.clone().requires_grad_(k in inputs) for k, v in data.items()}
    value = case(leaves)
    grads = torch.autograd.grad(value, [leaves[k] for k in inputs], allow_unused=True)
    return {
        "value": value.detach(),
        "grads": [
            torch.zeros_like(leaves[k]) if gr is None else gr
            for k, gr in zip(inputs, grads, strict=True)
        ],
    }


# --------------------------------------------------------------------------------------------
# the worker: every case on every rank, the centre loss for several steps, accumulation


def _worker(rank: int, world: int, data: dict[str, torch.Tensor], sizes: list[int]) -> Any:
    import torch.distributed as dist

    import losskit
    from losskit import distributed as D

    group = dist.group.WORLD
    local = {k: (v if k == "class_w" else _shard(v, sizes, rank)) for k, v in data.items()}
    out: dict[str, Any] = {
        name: _evaluate(case, inputs, local) for name, (case, inputs) in _cases(group).items()
    }

    # CenterLoss: several training steps, centres all-reduced; record loss, gradient, centres.
    center = losskit.nn.CenterLoss(3, 2, alpha=0.5, process_group=group).double()
    steps = []
    for step in range(CENTER_STEPS):
        feats = (local["features"] + step).requires_grad_()
        loss = center(feats, local["classes"])
        (grad,) = torch.autograd.grad(loss, feats)
        steps.append({"loss": loss.detach(), "grad": grad, "centers": center.centers.clone()})
    out["center_steps"] = steps

    # Gradient accumulation over ranks and micro-batches: two unequal micro-batches per rank.
    logits = local["token_logits"].clone().requires_grad_()
    tokens = local["tokens"]
    cut = min(1, tokens.shape[0])
    micro = [(logits[:cut], tokens[:cut]), (logits[cut:], tokens[cut:])]
    divisor = D.global_divisor([D.label_count(y) for _, y in micro], group)
    for x, y in micro:
        total = losskit.sparse_softmax_cross_entropy(x, y, reduction="sum")
        (total / divisor).backward()
    grad = logits.grad if logits.grad is not None else torch.zeros_like(logits)
    out["accumulated"] = {"grad": grad, "divisor": divisor}

    # global_mean over any loss's parts (here a Huber loss's sum and element count).
    pred = local["logits"].clone().requires_grad_()
    parts = D.LossParts(losskit.huber_loss(pred, local["soft"], reduction="sum"), pred.numel())
    value = D.global_mean(parts, group)
    (grad,) = torch.autograd.grad(value, pred)
    out["global_mean_huber"] = {"value": value.detach(), "grads": [grad]}
    return out


# --------------------------------------------------------------------------------------------
# independent references on the whole batch


def _dice_scores(
    inter: torch.Tensor, xsum: torch.Tensor, ysum: torch.Tensor, eps: float
) -> torch.Tensor:
    score = 2 * inter / (xsum + ysum + eps)
    return torch.where(xsum + ysum == 0, torch.ones_like(score), score)


def _ref_dice_multiclass(d: dict[str, torch.Tensor], smooth: float = 0.0) -> torch.Tensor:
    p = torch.softmax(d["seg"], 1)
    labels = d["labels"]
    valid = (labels != -1).unsqueeze(1).to(F64)
    onehot = TF.one_hot(labels.clamp_min(0), 3).movedim(-1, 1).to(F64)
    dims = (0, 2, 3)
    inter = (p * onehot * valid).sum(dims)
    xsum, ysum = (p * valid).sum(dims), (onehot * valid).sum(dims)
    if smooth:
        score = (2 * inter + smooth) / (xsum + ysum + smooth + 1e-5)
    else:
        score = _dice_scores(inter, xsum, ysum, 1e-5)
    return 1 - score.mean()


def _references() -> dict[str, Any]:
    def dice_module(d: dict[str, torch.Tensor]) -> torch.Tensor:
        return _ref_dice_multiclass({**d, "labels": d["labels"].clamp_min(0)}, smooth=0.5)

    def dice_per_sample(d: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = d["prob"].flatten(1), d["mask"].flatten(1)
        return (1 - _dice_scores((x * y).sum(1), x.sum(1), y.sum(1), 1e-5)).mean()

    def jaccard(d: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = d["prob"], d["mask"]
        i = (x * y).sum()
        return 1 - i / (x.sum() + y.sum() - i + 1e-5)

    def tversky(d: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = d["multi"], d["multi_t"]
        i, fp, fn = (x * y).sum((0, 2)), (x * (1 - y)).sum((0, 2)), ((1 - x) * y).sum((0, 2))
        return (1 - i / (i + 0.3 * fp + 0.7 * fn + 1e-5)).mean()

    def hed(d: dict[str, torch.Tensor], per_sample: bool) -> torch.Tensor:
        x, y = d["edge"], d["edge_t"]
        beta = (1 - y).flatten(1).mean(1).view(-1, 1, 1, 1) if per_sample else (1 - y).mean()
        loss = -(beta * y * TF.logsigmoid(x) + (1 - beta) * (1 - y) * TF.logsigmoid(-x))
        return loss.mean()

    def sigmoid_focal(d: dict[str, torch.Tensor]) -> torch.Tensor:
        x, t = d["logits"], (d["soft"] > 0.3).to(F64)
        p = torch.sigmoid(x)
        ce = TF.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        a_t = 0.25 * t + 0.75 * (1 - t)
        return (a_t * (1 - p_t) ** 2 * ce).mean()

    def softmax_focal(d: dict[str, torch.Tensor]) -> torch.Tensor:
        logp = torch.log_softmax(d["token_logits"], 1)
        tokens = d["tokens"]
        valid = tokens != IGNORE
        logp_y = logp.gather(1, tokens.clamp_min(0).unsqueeze(1)).squeeze(1)
        loss = -0.25 * (1 - logp_y.exp()) ** 2 * logp_y
        return torch.where(valid, loss, 0).sum() / valid.sum()

    def center(d: dict[str, torch.Tensor]) -> torch.Tensor:
        c = d["class_w"][:3].unsqueeze(1).expand(3, 2)
        return (0.5 * (d["features"] - c[d["classes"]]).pow(2).sum(1)).mean()

    return {
        "dice_multiclass_batch": _ref_dice_multiclass,
        "dice_module_batch": dice_module,
        "dice_per_sample_mean": dice_per_sample,
        "jaccard_binary_batch": jaccard,
        "tversky_multilabel_batch": tversky,
        "hed_batch_beta": lambda d: hed(d, per_sample=False),
        "hed_per_sample_beta": lambda d: hed(d, per_sample=True),
        "sigmoid_ce_weighted": lambda d: TF.binary_cross_entropy_with_logits(
            d["logits"], d["soft"], weight=d["elem_w"]
        ),
        "softmax_ce_soft": lambda d: TF.cross_entropy(
            d["logits"], d["soft"], weight=d["class_w"][:4], label_smoothing=0.1
        ),
        "sparse_ce_token_mean": lambda d: TF.cross_entropy(d["token_logits"], d["tokens"]),
        "sparse_ce_weighted_smoothed": lambda d: TF.cross_entropy(
            d["token_logits"], d["tokens"], weight=d["class_w"], label_smoothing=0.1
        ),
        "sparse_ce_sum": lambda d: TF.cross_entropy(
            d["token_logits"], d["tokens"], reduction="sum"
        ),
        "sparse_ce_module": lambda d: TF.cross_entropy(d["token_logits"], d["tokens"]),
        "sigmoid_focal": sigmoid_focal,
        "softmax_focal_ignore": softmax_focal,
        "center_loss_mean": center,
        "global_mean_huber": lambda d: TF.huber_loss(d["logits"], d["soft"]),
    }


INPUTS = {
    "global_mean_huber": ["logits"],
}


def _reference_centers(features: torch.Tensor, classes: torch.Tensor) -> list[dict[str, Any]]:
    """The paper's update written as a loop over the whole batch (Wen et al., Algorithm 1)."""
    centers = torch.zeros(3, 2, dtype=F64)
    steps = []
    for step in range(CENTER_STEPS):
        feats = (features + step).requires_grad_()
        loss = (0.5 * (feats - centers[classes]).pow(2).sum(1)).mean()
        (grad,) = torch.autograd.grad(loss, feats)
        new = centers.clone()
        for j in range(3):
            members = [i for i in range(len(classes)) if classes[i] == j]
            delta = sum(
                (centers[j] - feats[i].detach() for i in members), torch.zeros(2, dtype=F64)
            )
            new[j] = centers[j] - 0.5 * delta / (1 + len(members))
        centers = new
        steps.append({"loss": loss.detach(), "grad": grad, "centers": centers.clone()})
    return steps


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    torch.testing.assert_close(
        actual, expected, rtol=1e-10, atol=1e-12, msg=lambda m: f"{what}: {m}"
    )


@pytest.mark.parametrize("world", [2, 3])
def test_every_loss_equals_the_single_process_run(world: int) -> None:
    sizes = SIZES[world]
    data = _data(sum(sizes))
    counts = [int((t != IGNORE).sum()) for t in data["tokens"].split(sizes)]
    assert len(set(counts)) == world, counts  # every rank counts a different number of tokens
    results = run_ranks(_worker, world, data, sizes, timeout=120)

    from_cases = {name: inputs for name, (_, inputs) in _cases(None).items()}
    for name, reference in _references().items():
        inputs = from_cases.get(name, INPUTS.get(name))
        assert inputs is not None
        expected = _evaluate(reference, inputs, data)
        for rank, result in enumerate(results):
            got = result[name]
            _close(got["value"], expected["value"], f"{name} value on rank {rank}")
            for key, g, full in zip(inputs, got["grads"], expected["grads"], strict=True):
                _close(g, _shard(full, sizes, rank), f"{name} d/d{key} on rank {rank}")

    # the option changes nothing without a group: the same calls, one process, whole batch
    for name, (case, inputs) in _cases(None).items():
        single = _evaluate(case, inputs, data)
        _close(single["value"], _evaluate(_references()[name], inputs, data)["value"], name)

    for step, expected in enumerate(_reference_centers(data["features"], data["classes"])):
        for rank, result in enumerate(results):
            got = result["center_steps"][step]
            _close(got["loss"], expected["loss"], f"centre loss, step {step}, rank {rank}")
            _close(got["grad"], _shard(expected["grad"], sizes, rank), f"centre grad {step}")
            # identical on every rank (bit for bit) and equal to the single-process centres
            assert torch.equal(got["centers"], results[0]["center_steps"][step]["centers"])
            _close(got["centers"], expected["centers"], f"centres, step {step}, rank {rank}")

    whole = data["token_logits"].clone().requires_grad_()
    TF.cross_entropy(whole, data["tokens"]).backward()
    assert whole.grad is not None
    for rank, result in enumerate(results):
        assert result["accumulated"]["divisor"].item() == sum(counts)
        _close(result["accumulated"]["grad"], _shard(whole.grad, sizes, rank), "accumulated")
