"""The shared core: reduction helpers (against TensorFlow's compute_weighted_loss), checks,
dtype rule, registry and the ``losskit list`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import losskit
from losskit._core import checks
from losskit._core.dtypes import compute_dtype, to_compute
from losskit._core.reduction import apply_weight, reduce_loss, reduce_weighted, safe_divide
from losskit.cli import main
from specs import all_specs, get_spec

DATA = Path(__file__).parent / "data"


def _tf_cases() -> list[dict]:
    payload = json.loads((DATA / "reduction" / "tf_compute_weighted_loss.json").read_text())
    return [dict(c, losses=payload["losses"]) for c in payload["cases"]]


@pytest.mark.parametrize("case", _tf_cases(), ids=lambda c: f"{c['weights_name']}-{c['reduction']}")
def test_reduce_weighted_matches_tensorflow(case: dict) -> None:
    losses = torch.tensor(case["losses"], dtype=torch.float64)
    weights = torch.tensor(case["weights"], dtype=torch.float64)
    got = reduce_weighted(losses, weights, case["reduction"])
    expected = torch.tensor(case["expected"], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_reduce_weighted_default_is_sum_by_nonzero_weights() -> None:
    losses = torch.tensor([1.0, 2.0, 3.0])
    assert reduce_weighted(losses, torch.tensor([1.0, 0.0, 1.0])).item() == 2.0


def test_reduce_loss_modes_and_divisor() -> None:
    loss = torch.tensor([[1.0, 2.0], [3.0, 6.0]], requires_grad=True)
    assert reduce_loss(loss, "sum").item() == 12.0
    assert reduce_loss(loss, "mean").item() == 3.0
    assert reduce_loss(loss, "mean", divisor=torch.tensor(6.0)).item() == 2.0
    assert reduce_loss(loss, "batchmean", allowed=("batchmean",)).item() == 6.0
    assert reduce_loss(loss, "none") is loss


def test_zero_divisor_gives_zero_with_graph() -> None:
    loss = torch.ones(3, requires_grad=True)
    out = reduce_loss(loss, "mean", divisor=torch.tensor(0.0))
    assert out.item() == 0.0
    (g,) = torch.autograd.grad(out, loss)
    assert torch.equal(g, torch.zeros(3))
    assert safe_divide(torch.tensor(3.0), 0.0).item() == 0.0


def test_empty_mean_is_zero_and_connected() -> None:
    loss = torch.zeros(0, requires_grad=True)
    out = reduce_loss(loss, "mean")
    assert out.item() == 0.0 and out.requires_grad


def test_unknown_reduction_message_lists_allowed() -> None:
    with pytest.raises(ValueError, match=r"^f: reduction must be one of 'none', 'sum'; got 'x'$"):
        reduce_loss(torch.ones(1), "x", allowed=("none", "sum"), fn="f")


def test_weight_must_not_enlarge_the_loss() -> None:
    with pytest.raises(ValueError, match=r"weight of shape \(2, 3\) does not broadcast"):
        apply_weight(torch.ones(3), torch.ones(2, 3), fn="f")
    with pytest.raises(TypeError, match="weight must be a real floating tensor"):
        apply_weight(torch.ones(3), torch.ones(3, dtype=torch.bool), fn="f")


def test_dtype_rule() -> None:
    half = torch.zeros(1, dtype=torch.float16)
    bf16 = torch.zeros(1, dtype=torch.bfloat16)
    assert compute_dtype(half) == torch.float32
    assert compute_dtype(half, bf16) == torch.float32
    assert compute_dtype(torch.zeros(1, dtype=torch.float64), half) == torch.float64
    assert compute_dtype(torch.zeros(1, dtype=torch.long)) == torch.float32
    x, y = to_compute(half, torch.zeros(1, dtype=torch.long))
    assert x.dtype == y.dtype == torch.float32


def test_check_messages_follow_one_style() -> None:
    with pytest.raises(TypeError, match=r"^f: target must be an integer tensor, got dtype "):
        checks.check_integer("f", "target", torch.zeros(2), hint="use g for probabilities")
    with pytest.raises(ValueError, match=r"^f: labels must hold class indices in \[0, 2\]"):
        checks.check_index("f", "labels", torch.tensor([0, 3]), 3)
    checks.check_index("f", "labels", torch.tensor([0, -100]), 3, ignore_index=-100)
    checks.check_index("f", "labels", torch.tensor([7]), 3, validate=False)
    with pytest.raises(ValueError, match=r"^f: x must be finite"):
        checks.check_finite("f", "x", torch.tensor([1.0, float("inf")]))
    with pytest.raises(ValueError, match=r"^f: mode must be one of 'a', 'b', got 'c'"):
        checks.check_option("f", "mode", "c", ("a", "b"))
    assert checks.shape_str(torch.Size([3])) == "(3,)"


def test_registry_lookup() -> None:
    assert get_spec("huber_loss").functional is losskit.huber_loss
    with pytest.raises(KeyError, match="unknown loss 'nope'; known losses: "):
        get_spec("nope")


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for spec in all_specs():
        assert spec.name in out
    assert main(["list", "--json", "--family", "regression"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["family"] for r in rows} == {"regression"}
    assert any(r["name"] == "log_cosh_loss" and r["twin"] == "nn.LogCoshLoss" for r in rows)
    assert any(r["name"] == "nn.LogCoshLoss" and r["kind"] == "loss" for r in rows)
    assert main(["list", "--kind", "decoder"]) == 0
    out = capsys.readouterr().out
    assert "ctc_greedy_decode" in out and "ctc_loss" not in out


def test_cli_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "losskit.cli", "list", "--family", "regression"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "huber_loss" in result.stdout
