r"""Imbalanced classification on scikit-learn's bundled digits: BCE, balanced BCE and focal loss.

One digit against the other nine (about 1:9 positives to negatives), a linear model on the 64
standardised pixels, trained with Adam on half of the images and scored by average precision on
the other half, for several random splits. Compared: plain sigmoid cross-entropy, the HED class
balanced cross-entropy (:func:`losskit.balanced_sigmoid_cross_entropy`, β = |Y−|/|Y|) and the
sigmoid focal loss over a grid of α × γ (:func:`losskit.sigmoid_focal_loss`; α weights the
positives, ``None`` disables it; γ = 0 with α = ``None`` is plain cross-entropy).

The focal-loss paper's α = 0.25, γ = 2 was tuned for dense detection (about 1:1000 anchors);
whether it is best on a 1:9 task is what :attr:`ImbalanceResult.best` answers, beside the spread
over splits that says whether the differences matter.

Every setting is trained at once: the weights of all settings are one ``(settings, 64)`` matrix,
the losses are summed (the settings share no parameter, so each gets its own gradient) and Adam
updates each element independently, which equals separate runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..functional import balanced_sigmoid_cross_entropy, sigmoid_cross_entropy, sigmoid_focal_loss
from ._data import digits, split

__all__ = ["ImbalanceResult", "Setting", "imbalance_grid"]


@dataclass(frozen=True)
class Setting:
    """One loss setting and its average precision over the splits.

    Attributes:
        loss: ``"bce"``, ``"balanced_bce"`` or ``"focal"``.
        alpha: focal α (``None``: no α weighting; ignored by the others).
        gamma: focal γ (``None`` for the others).
        ap: average precision on each split's test half.
    """

    loss: str
    alpha: float | None
    gamma: float | None
    ap: tuple[float, ...]

    @property
    def label(self) -> str:
        """A short name: ``BCE``, ``balanced BCE`` or ``focal α=0.25 γ=2``."""
        if self.loss == "bce":
            return "BCE"
        if self.loss == "balanced_bce":
            return "balanced BCE"
        alpha = "none" if self.alpha is None else f"{self.alpha:g}"
        return f"focal α={alpha} γ={self.gamma:g}"

    @property
    def mean(self) -> float:
        """Mean average precision over the splits."""
        return sum(self.ap) / len(self.ap)

    @property
    def std(self) -> float:
        """Standard deviation of the average precision over the splits."""
        m = self.mean
        return math.sqrt(sum((a - m) ** 2 for a in self.ap) / max(len(self.ap) - 1, 1))


@dataclass(frozen=True)
class ImbalanceResult:
    """Every setting's average precision, with the task's description."""

    positive_class: int
    positives: int
    total: int
    alphas: tuple[float | None, ...]
    gammas: tuple[float, ...]
    settings: tuple[Setting, ...]

    @property
    def best(self) -> Setting:
        """The setting with the highest mean average precision."""
        return max(self.settings, key=lambda s: s.mean)

    def focal(self, alpha: float | None, gamma: float) -> Setting:
        """The focal setting with this α and γ."""
        for s in self.settings:
            if s.loss == "focal" and s.alpha == alpha and s.gamma == gamma:
                return s
        raise KeyError(f"no focal setting alpha={alpha}, gamma={gamma}")

    def get(self, loss: str) -> Setting:
        """The BCE or balanced BCE setting."""
        return next(s for s in self.settings if s.loss == loss)


def _average_precision(scores: Tensor, labels: Tensor) -> float:
    """Average precision (scikit-learn's definition, step-wise, ties broken by score order)."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels.numpy(), scores.numpy()))


def imbalance_grid(
    *,
    positive_class: int = 8,
    alphas: Sequence[float | None] = (None, 0.25, 0.5, 0.75, 0.9),
    gammas: Sequence[float] = (0.0, 0.5, 1.0, 2.0, 5.0),
    splits: int = 5,
    steps: int = 200,
    lr: float = 0.05,
    progress: Callable[[int], object] | None = None,
) -> ImbalanceResult:
    """Train every setting on ``splits`` random half/half splits of digits (see module docstring).

    Args:
        positive_class: the digit that is the positive class.
        alphas, gammas: the focal grid.
        splits: random splits (each setting's average precision is reported per split).
        steps: full-batch Adam steps.
        lr: Adam's learning rate.
        progress: called with ``1`` after each split.

    Example:
        >>> r = imbalance_grid(alphas=(0.25,), gammas=(2.0,), splits=1, steps=20)
        >>> [s.label for s in r.settings]
        ['BCE', 'balanced BCE', 'focal α=0.25 γ=2']
        >>> 0 < r.best.mean <= 1
        True
    """
    x, labels = digits()
    target = (labels == positive_class).float()
    grid: list[tuple[str, float | None, float | None]] = [("bce", None, None)]
    grid.append(("balanced_bce", None, None))
    grid += [("focal", a, g) for a in alphas for g in gammas]
    k = len(grid)
    aps: list[list[float]] = [[] for _ in grid]
    for seed in range(splits):
        train, test = split(len(target), test_fraction=0.5, seed=seed)
        xt, yt = x[train], target[train]
        torch.manual_seed(seed)
        w = torch.zeros(k, x.shape[1], requires_grad=True)
        b = torch.zeros(k, requires_grad=True)
        opt = torch.optim.Adam([w, b], lr=lr)
        for _ in range(steps):
            z = xt @ w.t() + b  # (N, settings)
            total = z.new_zeros(())
            for j, (loss, alpha, gamma) in enumerate(grid):
                if loss == "bce":
                    total = total + sigmoid_cross_entropy(z[:, j], yt)
                elif loss == "balanced_bce":
                    # One row: β = |Y-|/|Y| over the whole training set.
                    row = z[:, j].unsqueeze(0)
                    total = total + balanced_sigmoid_cross_entropy(row, yt.unsqueeze(0))
                else:
                    assert gamma is not None
                    total = total + sigmoid_focal_loss(z[:, j], yt, alpha=alpha, gamma=gamma)
            opt.zero_grad()
            total.backward()
            opt.step()
        with torch.no_grad():
            scores = x[test] @ w.t() + b
        for j in range(k):
            aps[j].append(_average_precision(scores[:, j], target[test]))
        if progress is not None:
            progress(1)
    settings = tuple(Setting(n, a, g, tuple(ap)) for (n, a, g), ap in zip(grid, aps, strict=True))
    return ImbalanceResult(
        positive_class,
        int(target.sum()),
        len(target),
        tuple(alphas),
        tuple(gammas),
        settings,
    )
