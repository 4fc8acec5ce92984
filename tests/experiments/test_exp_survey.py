"""The survey's tables and outlier case against numpy."""

from __future__ import annotations

import numpy as np

from losskit.experiments.survey import error_table, outlier_data, outlier_fit, survey_tables


def test_tables_equal_numpy_and_the_survey_second_rmse_is_truncated() -> None:
    first, second = survey_tables()
    for table in (first, second):
        e = np.array(table.errors)
        assert np.isclose(table.mae, np.abs(e).mean(), rtol=0, atol=1e-12)
        assert np.isclose(table.rmse, np.sqrt((e**2).mean()), rtol=0, atol=1e-12)
    assert (f"{first.mae:.2f}", f"{first.rmse:.2f}") == ("1.00", "1.22")
    assert (f"{second.mae:.2f}", f"{second.rmse:.2f}") == ("3.80", "6.80")
    assert first.agrees and not second.agrees
    assert second.printed_rmse == np.floor(second.rmse * 100) / 100  # 6.79 is truncation
    assert error_table([3, -4]).mae == 3.5


def test_outlier_data_is_the_survey_case() -> None:
    x, y = outlier_data(200)
    y = y.numpy()
    assert (y == 150).sum() == 180 and ((y >= 0) & (y <= 30)).sum() == 20
    assert np.median(y) == 150
    assert x.min() >= -1 and x.max() <= 1


def test_mae_fits_the_median_mse_the_mean() -> None:
    result = outlier_fit()
    _, y = outlier_data()
    y = y.numpy()
    assert result.median == np.median(y) and np.isclose(result.mean, y.mean())
    for model in ("constant", "linear"):
        assert abs(result.fit("MAE", model).prediction - np.median(y)) < 0.01
        assert abs(result.fit("MSE", model).prediction - y.mean()) < 1e-6
        for robust in ("Huber (delta=1)", "log-cosh"):
            p = result.fit(robust, model).prediction
            assert y.mean() + 10 < p < np.median(y)
    # Huber with delta=1 balances 0.9 (c - 150) against 0.1 pull: c = 150 - 1/9.
    assert abs(result.fit("Huber (delta=1)").prediction - (150 - 1 / 9)) < 1e-3
    assert abs(result.fit("MAE", "linear").slope) < 0.05
