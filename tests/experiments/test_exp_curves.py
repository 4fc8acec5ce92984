"""The loss curves: every loss covered, finite, gradients equal to finite differences."""

from __future__ import annotations

import math

import pytest
import torch

from losskit import catalogue
from losskit.experiments.curves import CURVES, NO_CURVE, curve_lines, curve_options, get_curve


def _native_losses() -> list[str]:
    return [e.name for e in catalogue.entries(kind="loss") if "." not in e.name]


def test_every_catalogued_loss_has_a_curve_or_a_reason() -> None:
    native = _native_losses()
    assert set(CURVES) | set(NO_CURVE) == set(native)
    assert not set(CURVES) & set(NO_CURVE)
    assert list(CURVES) == [n for n in native if n in CURVES]  # catalogue order


@pytest.mark.parametrize("name", list(CURVES))
def test_curve_is_finite_and_its_gradient_is_the_slope(name: str) -> None:
    lines = curve_lines(name, points=81)
    curve = get_curve(name)
    fn = getattr(__import__("losskit"), name)
    grid_size = math.prod(len(v) for k, v in curve.grid.items())
    assert len(lines) == max(grid_size, 1)
    for line in lines:
        assert torch.isfinite(line.value).all() and torch.isfinite(line.grad).all()
        # Central differences of the loss itself, away from the sweep's ends.
        options = {**curve.fixed}
        for part in line.label.split(", "):
            if "=" in part:
                k, v = part.split("=")
                options[k] = (
                    type(curve.grid[k][0])(v) if not isinstance(curve.grid[k][0], str) else v
                )
        h = 1e-6
        x = line.x[1:-1]

        def value(t: torch.Tensor, options: dict = options) -> torch.Tensor:
            out = fn(*curve.make(t), **options, reduction="none")
            return out.reshape(t.shape[0], -1).sum(1)

        fd = (value(x + h) - value(x - h)) / (2 * h)
        smooth = (fd - line.grad[1:-1]).abs() <= 1e-4 * (1 + fd.abs())
        # Kinks (|e| at 0, hinge corners, IoU contact points) may disagree at a point or two.
        assert smooth.float().mean() > 0.95, (name, line.label)


def test_huber_curve_is_the_textbook_formula() -> None:
    (line,) = curve_lines("huber_loss", {"delta": [1.5]}, points=61)
    e = line.x
    expected = torch.where(e.abs() <= 1.5, 0.5 * e**2, 1.5 * (e.abs() - 0.75))
    torch.testing.assert_close(line.value, expected)
    torch.testing.assert_close(line.grad, e.clamp(-1.5, 1.5))


def test_focal_gamma_zero_curve_equals_cross_entropy() -> None:
    focal = curve_lines("sigmoid_focal_loss", {"gamma": [0.0]}, points=51)[0]
    bce = curve_lines("sigmoid_cross_entropy", {"label_smoothing": [0.0]}, points=51)[0]
    torch.testing.assert_close(focal.value, bce.value)
    torch.testing.assert_close(focal.grad, bce.grad)
    # Textbook: -log sigmoid(x) = softplus(-x), slope -sigmoid(-x).
    torch.testing.assert_close(bce.value, torch.nn.functional.softplus(-bce.x))
    torch.testing.assert_close(bce.grad, -torch.sigmoid(-bce.x))


def test_box_curve_is_one_minus_overlap() -> None:
    (line,) = curve_lines("iou_loss", points=13)
    s = line.x.abs().clamp(max=1)
    torch.testing.assert_close(line.value, 1 - (1 - s) / (1 + s), atol=1e-6, rtol=0)


def test_unknown_names_and_options_are_one_line_errors() -> None:
    with pytest.raises(KeyError, match=r"^\"unknown loss 'nope'; losses with a curve: mse_loss"):
        get_curve("nope")
    with pytest.raises(KeyError, match="ctc_loss has no 1-D curve"):
        get_curve("ctc_loss")
    with pytest.raises(KeyError, match="huber_loss has no option 'beta'; its options: delta"):
        curve_lines("huber_loss", {"beta": [1.0]})
    assert curve_options("sigmoid_focal_loss") == ["alpha", "gamma"]


def test_library_never_imports_the_command_line() -> None:
    import ast
    from pathlib import Path

    import losskit.experiments

    root = Path(losskit.experiments.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                assert "cli" not in module.split("."), (path.name, module)
            elif isinstance(node, ast.Import):
                assert all("losskit.cli" not in a.name for a in node.names), path.name
