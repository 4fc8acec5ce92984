r"""2-D feature learning on digits: softmax cross-entropy, + centre loss, L-Softmax, ArcFace.

The experiment of the centre-loss and L-Softmax papers (their 2-D MNIST figures) on
scikit-learn's bundled 8x8 digits: a small network maps each image to a 2-D feature, trained
under

* softmax cross-entropy on a linear head (:func:`losskit.sparse_softmax_cross_entropy`);
* the same plus λ times the centre loss (:class:`losskit.nn.CenterLoss`, the paper's centre
  update with α = 0.5);
* L-Softmax (:class:`losskit.nn.LargeMarginSoftmaxLoss`, margin 2, a short λ schedule);
* ArcFace (:class:`losskit.nn.ArcFaceLoss`).

Measured on held-out images (:class:`FeatureStats`): accuracy, the ratio of the mean distance
of a feature to its class mean over the mean distance between class means (lower: tighter,
better separated classes), and the angular margin: the median over samples of the angle to the
nearest other class's direction minus the angle to the own class's direction (degrees; larger
is better separated by angle, what the margin losses aim at).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..functional import sparse_softmax_cross_entropy
from ..nn import ArcFaceLoss, CenterLoss, LargeMarginSoftmaxLoss
from ._data import digits, split

__all__ = ["EMBEDDING_METHODS", "EmbeddingResult", "FeatureStats", "embedding_features"]

EMBEDDING_METHODS: tuple[str, ...] = ("softmax", "softmax + centre", "L-Softmax", "ArcFace")
"""The trained objectives, in the order the report shows them."""


@dataclass(frozen=True)
class FeatureStats:
    """The 2-D test features of one objective and what was measured on them.

    Attributes:
        method: one of :data:`EMBEDDING_METHODS`.
        features: ``(n_test, 2)`` features of the held-out images.
        labels: ``(n_test,)`` their digits.
        accuracy: held-out accuracy of the trained head.
        distance_ratio: mean distance to the class mean over mean distance between class means.
        angular_margin: median (angle to nearest other class direction - angle to own), degrees.
        settings: the hyperparameters used, as text.
    """

    method: str
    features: Tensor
    labels: Tensor
    accuracy: float
    distance_ratio: float
    angular_margin: float
    settings: str


@dataclass(frozen=True)
class EmbeddingResult:
    """One :class:`FeatureStats` per objective."""

    stats: tuple[FeatureStats, ...]

    def get(self, method: str) -> FeatureStats:
        """The result of one objective."""
        return next(s for s in self.stats if s.method == method)


def feature_statistics(features: Tensor, labels: Tensor) -> tuple[float, float]:
    """``(distance_ratio, angular_margin)`` of 2-D (or any-D) features, see the module docs.

    Example:
        >>> f = torch.tensor([[1.0, 0.0], [1.1, 0.0], [-1.0, 0.0], [-1.1, 0.0]])
        >>> ratio, margin = feature_statistics(f, torch.tensor([0, 0, 1, 1]))
        >>> round(ratio, 3), round(margin, 1)
        (0.024, 180.0)
    """
    classes = labels.unique()
    means = torch.stack([features[labels == c].mean(0) for c in classes])
    index = torch.searchsorted(classes, labels)
    intra = (features - means[index]).norm(dim=1).mean()
    pair = torch.cdist(means, means)
    k = len(classes)
    inter = pair.sum() / max(k * (k - 1), 1)
    u = nn.functional.normalize(features, dim=1)
    directions = nn.functional.normalize(
        torch.stack([u[labels == c].mean(0) for c in classes]), dim=1
    )
    angles = torch.rad2deg(torch.acos((u @ directions.t()).clamp(-1, 1)))  # (n, classes)
    own = angles.gather(1, index.unsqueeze(1)).squeeze(1)
    others = angles.scatter(1, index.unsqueeze(1), math.inf).min(1).values
    return float(intra / inter), float((others - own).median())


def _network(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, 64), nn.PReLU(), nn.Linear(64, 32), nn.PReLU(), nn.Linear(32, 2)
    )


def embedding_features(
    *,
    steps: int = 400,
    lr: float = 0.01,
    center_weight: float = 0.1,
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> EmbeddingResult:
    """Train the four objectives (see the module docstring) and measure their test features.

    Args:
        steps: full-batch Adam steps per objective.
        lr: Adam's learning rate.
        center_weight: λ of the centre loss beside cross-entropy.
        seed: seed of the split and the initialisation (the same for every objective).
        progress: called with ``1`` after each objective.

    Example:
        >>> r = embedding_features(steps=5)
        >>> [s.method for s in r.stats]
        ['softmax', 'softmax + centre', 'L-Softmax', 'ArcFace']
        >>> r.get("ArcFace").features.shape[1]
        2
    """
    x, y = digits()
    train, test = split(len(y), test_fraction=0.25, seed=seed)
    results = []
    for method in EMBEDDING_METHODS:
        net = _network(seed)
        head: nn.Linear | LargeMarginSoftmaxLoss | ArcFaceLoss
        center: CenterLoss | None = None
        if method in ("softmax", "softmax + centre"):
            head = nn.Linear(2, 10)
            settings = "linear head, cross-entropy"
            if method == "softmax + centre":
                center = CenterLoss(10, 2, alpha=0.5)
                settings += f" + {center_weight:g} x centre loss (alpha=0.5)"
        elif method == "L-Softmax":
            head = LargeMarginSoftmaxLoss(
                2, 10, margin=2, base=100.0, gamma=0.05, power=1.0, lambda_min=1.0
            )
            settings = "margin=2, lambda = max(1, 100 (1 + 0.05 t)^-1)"
        else:
            head = ArcFaceLoss(2, 10, scale=16.0, margin=0.3)
            settings = "scale=16, margin=0.3"
        params = [*net.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, lr=lr)
        net.train()
        head.train()
        for _ in range(steps):
            f = net(x[train])
            if isinstance(head, nn.Linear):
                loss = sparse_softmax_cross_entropy(head(f), y[train])
                if center is not None:
                    loss = loss + center_weight * center(f, y[train])
            else:
                loss = head(f, y[train])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        head.eval()
        with torch.no_grad():
            f = net(x[test])
            logits = head(f) if isinstance(head, nn.Linear) else head.logits(f)
            accuracy = float((logits.argmax(1) == y[test]).float().mean())
        ratio, margin = feature_statistics(f, y[test])
        results.append(FeatureStats(method, f, y[test], accuracy, ratio, margin, settings))
        if progress is not None:
            progress(1)
    return EmbeddingResult(tuple(results))
