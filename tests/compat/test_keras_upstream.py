"""Keras' own ``losses_test.py`` (Keras 3.15.1, in the test environment), pointed at
``losskit.compat.keras``.

Every test method of ``keras.src.losses.losses_test`` runs with the module's ``losses`` name bound
to the dialect, so each ``losses.MeanSquaredError()`` / ``losses.mean_squared_error`` in Keras'
test is losskit's. The methods that test Keras' own machinery rather than numbers (the
serialisation round trips) are listed in ``NOT_NUMERIC`` with the reason.
"""

from __future__ import annotations

import inspect
import types
import unittest

import pytest

kt = pytest.importorskip("keras.src.losses.losses_test")
from losskit.compat import keras as lk  # noqa: E402

NOT_NUMERIC = {
    "test_config": "Keras' serialisation registry (keras.saving): losskit's classes are not "
    "registered Keras objects, and losskit does not import Keras",
}

CASES = [
    (cls, name)
    for _, cls in inspect.getmembers(kt, inspect.isclass)
    if issubclass(cls, unittest.TestCase) and cls.__module__ == kt.__name__
    for name, _ in inspect.getmembers(cls, inspect.isfunction)
    if name.startswith("test")
]


@pytest.fixture
def dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    shim = types.SimpleNamespace(**{n: getattr(lk, n) for n in lk.__all__})
    monkeypatch.setattr(kt, "losses", shim)


@pytest.mark.parametrize(("cls", "name"), CASES, ids=[f"{c.__name__}.{n}" for c, n in CASES])
def test_keras_losses_test_passes_on_the_dialect(dialect: None, cls: type, name: str) -> None:
    if name in NOT_NUMERIC:
        pytest.skip(NOT_NUMERIC[name])
    case = cls(name)
    case.setUp()
    try:
        getattr(case, name)()
    finally:
        case.tearDown()
