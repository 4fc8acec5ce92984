"""The "which loss when" rows follow the results they are given."""

from __future__ import annotations

import torch

from losskit.experiments.advice import which_loss_when
from losskit.experiments.ctc_toy import CTCToyResult
from losskit.experiments.diou import DIoUResult
from losskit.experiments.embedding import EmbeddingResult, FeatureStats
from losskit.experiments.imbalance import ImbalanceResult, Setting
from losskit.experiments.survey import OutlierFit, OutlierResult


def _inputs(focal_ap: float, final: dict[str, float]):  # type: ignore[no-untyped-def]
    fits = tuple(
        OutlierFit(name, model, p, 0.0, (p,))
        for name, p in (("MSE", 136.5), ("MAE", 150.0), ("Huber (delta=1)", 149.9))
        for model in ("constant", "linear")
    )
    outliers = OutlierResult(136.5, 150.0, fits)
    imbalance = ImbalanceResult(
        8,
        174,
        1797,
        (0.25,),
        (2.0,),
        (
            Setting("bce", None, None, (0.80, 0.82)),
            Setting("balanced_bce", None, None, (0.79, 0.81)),
            Setting("focal", 0.25, 2.0, (focal_ap, focal_ap + 0.01)),
        ),
    )
    diou = DIoUResult(1, 343, 3, "exact", {k: [v, v, v] for k, v in final.items()}, 10.0)
    f, y = torch.zeros(2, 2), torch.tensor([0, 1])
    embedding = EmbeddingResult(
        tuple(
            FeatureStats(m, f, y, 0.9, r, a, "")
            for m, r, a in (
                ("softmax", 0.3, 20.0),
                ("softmax + centre", 0.1, 25.0),
                ("L-Softmax", 0.2, 26.0),
                ("ArcFace", 0.25, 30.0),
            )
        )
    )
    ctc = CTCToyResult((1.0, 0.1), (0, 2), (0.9, 0.05), ())
    return outliers, imbalance, diou, embedding, ctc


def test_rows_follow_the_measurements() -> None:
    rows = which_loss_when(*_inputs(0.81, {"iou": 9.0, "giou": 2.0, "diou": 3.0, "ciou": 1.0}))
    by = {r.situation.split(",")[0].split(" at ")[0]: r for r in rows}
    assert by["binary classification"].choice.startswith("cross-entropy first")
    assert by["box regression"].choice.startswith("CIoU (lowest final error here)")
    assert "CIoU < GIoU < DIoU < IoU" in by["box regression"].evidence
    emb = next(r for r in rows if r.situation.startswith("embeddings"))
    assert emb.choice == "softmax + centre for compact classes, ArcFace for angular separation"

    rows = which_loss_when(*_inputs(0.95, {"iou": 9.0, "giou": 1.0, "diou": 3.0, "ciou": 2.0}))
    by = {r.situation.split(",")[0].split(" at ")[0]: r for r in rows}
    assert by["binary classification"].choice == "focal α=0.25 γ=2"
    assert by["box regression"].choice.startswith("GIoU")
