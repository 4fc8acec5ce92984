r"""The survey's regression claims recomputed: its two MAE/RMSE tables and its outlier case.

The survey (section on MSE and MAE) prints two tables of five prediction errors with their mean
absolute error and root mean squared error:

* errors :math:`0, 1, -2, -0.5, 1.5`: MAE 1.00, RMSE 1.22;
* errors :math:`0, 1, 1, -2, 15` (one outlier): MAE 3.80, RMSE printed as 6.79. The exact value
  is :math:`\sqrt{231/5} = 6.797\ldots`, which rounds to **6.80**; 6.79 is the truncated value.

Its outlier case: 90% of the targets equal 150 and 10% lie in :math:`[0, 30]`. A model fitted
under MAE predicts the median (150), one fitted under MSE the mean; Huber and log-cosh land
near the median. :func:`outlier_fit` fits a constant and a linear model by gradient descent
under each loss and reports where they land.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..functional import huber_loss, log_cosh_loss, mae_loss, mse_loss

__all__ = [
    "SURVEY_TABLES",
    "ErrorTable",
    "OutlierFit",
    "OutlierResult",
    "error_table",
    "outlier_data",
    "outlier_fit",
    "survey_tables",
]

SURVEY_TABLES: tuple[tuple[tuple[float, ...], float, float], ...] = (
    ((0.0, 1.0, -2.0, -0.5, 1.5), 1.00, 1.22),
    ((0.0, 1.0, 1.0, -2.0, 15.0), 3.80, 6.79),
)
"""The survey's two tables: (errors, printed MAE, printed RMSE)."""


@dataclass(frozen=True)
class ErrorTable:
    """MAE and RMSE of one error list, beside the values the survey prints."""

    errors: tuple[float, ...]
    mae: float
    rmse: float
    printed_mae: float
    printed_rmse: float

    @property
    def agrees(self) -> bool:
        """Whether both printed values equal the recomputed ones rounded to two decimals."""
        return round(self.mae, 2) == self.printed_mae and round(self.rmse, 2) == self.printed_rmse


def error_table(
    errors: Sequence[float], printed_mae: float = float("nan"), printed_rmse: float = float("nan")
) -> ErrorTable:
    """MAE (:func:`losskit.mae_loss`) and RMSE (square root of :func:`losskit.mse_loss`) of
    ``errors``, computed in float64.

    Example:
        >>> t = error_table([0, 1, 1, -2, 15], 3.80, 6.79)
        >>> round(t.mae, 2), round(t.rmse, 2), t.agrees
        (3.8, 6.8, False)
    """
    e = torch.tensor([float(v) for v in errors], dtype=torch.float64)
    zero = torch.zeros_like(e)
    mae = float(mae_loss(e, zero))
    rmse = float(mse_loss(e, zero).sqrt())
    return ErrorTable(tuple(float(v) for v in errors), mae, rmse, printed_mae, printed_rmse)


def survey_tables() -> list[ErrorTable]:
    """Both survey tables recomputed (:data:`SURVEY_TABLES`).

    Example:
        >>> [(round(t.mae, 2), round(t.rmse, 2)) for t in survey_tables()]
        [(1.0, 1.22), (3.8, 6.8)]
    """
    return [error_table(e, mae, rmse) for e, mae, rmse in SURVEY_TABLES]


def outlier_data(n: int = 200, *, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Inputs ``x`` in [-1, 1] and targets: 90% equal to 150, 10% uniform in [0, 30] (float64).

    The inputs carry no information about the targets (they are drawn independently), so the
    best linear model under each loss is flat at that loss's location statistic.

    Example:
        >>> x, y = outlier_data(100)
        >>> int((y == 150).sum()), bool(y[y != 150].max() <= 30)
        (90, True)
    """
    gen = torch.Generator().manual_seed(seed)
    n_low = round(0.1 * n)
    low = 30 * torch.rand(n_low, generator=gen, dtype=torch.float64)
    y = torch.cat([torch.full((n - n_low,), 150.0, dtype=torch.float64), low])
    y = y[torch.randperm(n, generator=gen)]
    # Centred inputs keep the intercept (the mean prediction) and the slope decoupled, so
    # gradient descent converges at the same speed for the constant and the linear model.
    x = 2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1
    return x, y


@dataclass(frozen=True)
class OutlierFit:
    """Where one model fitted under one loss lands.

    Attributes:
        loss: the loss's name.
        model: ``"constant"`` or ``"linear"``.
        prediction: the constant, or the linear model's mean prediction over the inputs.
        slope: the linear model's slope (0 for the constant).
        curve: the mean prediction after each logged step (for the convergence plot).
    """

    loss: str
    model: str
    prediction: float
    slope: float
    curve: tuple[float, ...]


@dataclass(frozen=True)
class OutlierResult:
    """All fits, with the data's mean and median."""

    mean: float
    median: float
    fits: tuple[OutlierFit, ...]

    def fit(self, loss: str, model: str = "constant") -> OutlierFit:
        """The fit of ``model`` under ``loss``."""
        for f in self.fits:
            if f.loss == loss and f.model == model:
                return f
        raise KeyError(f"no fit of {model!r} under {loss!r}")


OUTLIER_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "MSE": mse_loss,
    "MAE": mae_loss,
    "Huber (delta=1)": lambda p, y: huber_loss(p, y, delta=1.0),
    "log-cosh": log_cosh_loss,
}


def outlier_fit(
    n: int = 200,
    *,
    steps: int = 1000,
    seed: int = 0,
    log_every: int = 5,
    progress: Callable[[int], object] | None = None,
) -> OutlierResult:
    r"""Fit a constant and a linear model to :func:`outlier_data` under MSE, MAE, Huber and
    log-cosh by full-batch gradient descent from zero.

    The step size decays geometrically from :math:`\eta_0` to :math:`10^{-3}` over ``steps``:
    :math:`\eta_0 = 0.4` for MSE (its gradient grows with the error) and :math:`\eta_0 = 5`
    for the losses with bounded gradients (MAE, Huber, log-cosh), which otherwise would not
    cover the distance of 150 from the start. ``progress`` is called with ``1`` after each of
    the eight fits.

    Example:
        >>> r = outlier_fit()
        >>> round(r.fit("MAE").prediction, 2), round(r.fit("MSE").prediction - r.mean, 6)
        (150.0, 0.0)
    """
    x, y = outlier_data(n, seed=seed)
    fits = []
    for name, loss_fn in OUTLIER_LOSSES.items():
        lr0 = 0.4 if name == "MSE" else 5.0
        for model in ("constant", "linear"):
            params = torch.zeros(2, dtype=torch.float64, requires_grad=True)
            curve = []
            for t in range(steps):
                lr = lr0 * (1e-3 / lr0) ** (t / max(steps - 1, 1))
                slope = params[0] if model == "linear" else params[0].detach() * 0
                pred = params[1] + slope * x
                loss = loss_fn(pred, y)
                (grad,) = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    params -= lr * grad
                if t % log_every == 0 or t == steps - 1:
                    curve.append(float(pred.detach().mean()))
            with torch.no_grad():
                slope_v = float(params[0]) if model == "linear" else 0.0
                mean_pred = float((params[1] + slope_v * x).mean())
            fits.append(OutlierFit(name, model, mean_pred, slope_v, tuple(curve)))
            if progress is not None:
                progress(1)
    return OutlierResult(float(y.mean()), float(y.median()), tuple(fits))
