"""The experiments behind ``losskit report``, as library functions.

Each returns plain results (dataclasses of numbers and tensors) and draws nothing; the command
line (:mod:`losskit.cli`) runs them, draws and writes the page, and this package never imports
it. Their sizes are arguments, so benchmarks can time them at any scale.

* :mod:`~losskit.experiments.curves`: the 1-D value and gradient curve of every loss.
* :mod:`~losskit.experiments.survey`: the survey's MAE/RMSE tables and its outlier case.
* :mod:`~losskit.experiments.imbalance`: BCE, balanced BCE and focal loss on imbalanced digits.
* :mod:`~losskit.experiments.diou`: the DIoU paper's box-regression simulation.
* :mod:`~losskit.experiments.embedding`: 2-D features under softmax, centre loss, L-Softmax,
  ArcFace.
* :mod:`~losskit.experiments.ctc_toy`: a toy CTC transcription task.
* :mod:`~losskit.experiments.advice`: the "which loss when" table from their results.

The digits experiments need scikit-learn (the ``[cli]`` extra), imported when they run.

Example:
    >>> from losskit.experiments import diou_simulation, survey_tables
    >>> [f"{t.rmse:.2f}" for t in survey_tables()]
    ['1.22', '6.80']
    >>> diou_simulation(1, losses=("giou",), iterations=5).cases
    343
"""

from .advice import Advice, which_loss_when
from .ctc_toy import CTCToyResult, ctc_toy
from .curves import CURVES, NO_CURVE, Curve, CurveLine, curve_lines, get_curve
from .diou import DIOU_LOSSES, DIoUResult, diou_cases, diou_simulation
from .embedding import EmbeddingResult, embedding_features
from .imbalance import ImbalanceResult, imbalance_grid
from .survey import ErrorTable, OutlierResult, outlier_fit, survey_tables

__all__ = [
    "CURVES",
    "DIOU_LOSSES",
    "NO_CURVE",
    "Advice",
    "CTCToyResult",
    "Curve",
    "CurveLine",
    "DIoUResult",
    "EmbeddingResult",
    "ErrorTable",
    "ImbalanceResult",
    "OutlierResult",
    "ctc_toy",
    "curve_lines",
    "diou_cases",
    "diou_simulation",
    "embedding_features",
    "get_curve",
    "imbalance_grid",
    "outlier_fit",
    "survey_tables",
    "which_loss_when",
]
