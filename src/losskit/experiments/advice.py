"""The report's "which loss when" table, distilled from what the experiments measured.

Each row is a task, the loss the run points to and the evidence, with the numbers of this run
filled in (nothing is hard-coded beyond the question each experiment asks).
"""

from __future__ import annotations

from dataclasses import dataclass

from .ctc_toy import CTCToyResult
from .diou import DIoUResult
from .embedding import EmbeddingResult
from .imbalance import ImbalanceResult
from .survey import OutlierResult

__all__ = ["Advice", "which_loss_when"]


@dataclass(frozen=True)
class Advice:
    """One row: the situation, the suggested loss and the measured evidence."""

    situation: str
    choice: str
    evidence: str


def which_loss_when(
    outliers: OutlierResult,
    imbalance: ImbalanceResult,
    diou: DIoUResult,
    embedding: EmbeddingResult,
    ctc: CTCToyResult,
) -> list[Advice]:
    """The table's rows from the experiments' results."""
    rows = []
    mse, mae = outliers.fit("MSE"), outliers.fit("MAE")
    huber = outliers.fit("Huber (delta=1)")
    rows.append(
        Advice(
            "regression, the typical value matters and targets have outliers",
            "MAE (or Huber / log-cosh with a small delta)",
            f"MAE landed on {mae.prediction:.2f} (median {outliers.median:.0f}), Huber on "
            f"{huber.prediction:.2f}; MSE on {mse.prediction:.2f} (mean {outliers.mean:.2f})",
        )
    )
    rows.append(
        Advice(
            "regression, the mean matters (errors are Gaussian, outliers are real signal)",
            "MSE",
            f"MSE fits the mean exactly ({mse.prediction:.2f} vs {outliers.mean:.2f})",
        )
    )
    best = imbalance.best
    ratio = round((imbalance.total - imbalance.positives) / imbalance.positives)
    bce = imbalance.get("bce")
    spread = max(s.std for s in imbalance.settings)
    paper = [
        s for s in imbalance.settings if s.loss == "focal" and s.alpha == 0.25 and s.gamma == 2
    ]
    paper_text = f"α=0.25, γ=2: {paper[0].mean:.3f}; " if paper else ""
    verdict = (
        "differences are within the split-to-split spread"
        if best.mean - bce.mean < spread
        else "the best setting beats BCE by more than the spread"
    )
    rows.append(
        Advice(
            f"binary classification at about 1:{ratio} imbalance",
            "cross-entropy first; focal loss only if it measurably helps"
            if best.mean - bce.mean < spread
            else f"{best.label}",
            f"AP: BCE {bce.mean:.3f}, best {best.label} {best.mean:.3f}, {paper_text}"
            f"spread ±{spread:.3f}: {verdict}",
        )
    )
    final = diou.final()
    names = {"iou": "IoU", "giou": "GIoU", "diou": "DIoU", "ciou": "CIoU"}
    order = " < ".join(names[name] for name in diou.ranking())
    rows.append(
        Advice(
            "box regression",
            f"{names[diou.ranking()[0]]} (lowest final error here); not plain IoU loss, which "
            "cannot move boxes that do not overlap their target",
            f"final total error ({diou.cases:,} cases, {diou.gradient} gradients): {order}; "
            f"IoU {final.get('iou', float('nan')):.3g}",
        )
    )
    soft, ctr = embedding.get("softmax"), embedding.get("softmax + centre")
    arc = embedding.get("ArcFace")
    tight = min(embedding.stats, key=lambda s: s.distance_ratio)
    wide = max(embedding.stats, key=lambda s: s.angular_margin)
    rows.append(
        Advice(
            "embeddings for retrieval or verification (compact, separated classes)",
            f"{tight.method} for compact classes, {wide.method} for angular separation",
            f"intra/inter distance ratio: softmax {soft.distance_ratio:.3f}, + centre "
            f"{ctr.distance_ratio:.3f}; angular margin: softmax {soft.angular_margin:.1f}°, "
            f"ArcFace {arc.angular_margin:.1f}°",
        )
    )
    rows.append(
        Advice(
            "sequence transcription without frame alignment",
            "CTC",
            f"character error rate {ctc.cer[0]:.2f} -> {ctc.cer[-1]:.3f} in "
            f"{ctc.eval_steps[-1]} steps",
        )
    )
    return rows
