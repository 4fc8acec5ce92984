"""The digits and CTC experiments: properties that must hold whatever the numbers."""

from __future__ import annotations

import math

import torch

from losskit.experiments.ctc_toy import ALPHABET, ctc_batch, ctc_toy
from losskit.experiments.embedding import embedding_features, feature_statistics
from losskit.experiments.imbalance import imbalance_grid


def test_focal_without_alpha_and_gamma_zero_is_bce() -> None:
    r = imbalance_grid(alphas=(None, 0.25), gammas=(0.0, 2.0), splits=1, steps=30)
    assert r.focal(None, 0.0).ap == r.get("bce").ap
    assert r.positives == 174 and r.total == 1797
    assert all(0 < a <= 1 for s in r.settings for a in s.ap)
    assert r.best.mean == max(s.mean for s in r.settings)


def test_feature_statistics_on_known_clusters() -> None:
    # Four classes at the corners of a square (side 2), each a pair at distance 0.2.
    centres = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    offsets = torch.tensor([[0.1, 0.0], [-0.1, 0.0]])
    f = (centres[:, None] + offsets[None]).reshape(-1, 2)
    labels = torch.arange(4).repeat_interleave(2)
    ratio, margin = feature_statistics(f, labels)
    inter = (4 * 2 + 2 * math.sqrt(8)) / 6  # mean over the 6 pairs of centres
    assert math.isclose(ratio, 0.1 / inter, rel_tol=1e-5)
    # The features at (1.1, 1) and (0.9, 1) sit a1 and a2 degrees off their class direction
    # (45°) and 90 - a1, 90 - a2 from the nearest other class's; torch's median of the eight
    # margins is the lower middle value.
    a1 = 45 - math.degrees(math.atan2(1.0, 1.1))
    a2 = math.degrees(math.atan2(1.0, 0.9)) - 45
    assert math.isclose(margin, min(90 - 2 * a1, 90 - 2 * a2), rel_tol=1e-5)


def test_embedding_runs_every_objective() -> None:
    r = embedding_features(steps=3)
    assert [s.method for s in r.stats] == ["softmax", "softmax + centre", "L-Softmax", "ArcFace"]
    for s in r.stats:
        assert s.features.shape == (len(s.labels), 2) and 0 <= s.accuracy <= 1


def test_ctc_batches_and_training_lowers_the_error_rate() -> None:
    x, y, il, tl = ctc_batch(16, torch.Generator().manual_seed(3))
    assert x.shape[1:] == (16, 8) and int(il.max()) == x.shape[0]
    assert ((y > 0).sum(1) == tl).all() and int(y.max()) <= len(ALPHABET)
    r = ctc_toy(steps=80, eval_every=20)
    assert r.eval_steps == (0, 20, 40, 60, 80)
    assert r.cer[-1] < 0.5 * r.cer[0]
    assert sum(r.losses[-10:]) < sum(r.losses[:10])
