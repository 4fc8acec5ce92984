"""The contract of every dialect function, loss class and metric of the catalogue.

Every ``compat.`` and ``metrics.`` entry has a spec here, keyed by its catalogue name (a missing
one fails ``test_every_dialect_entry_has_a_spec``), and every public name of the dialect modules
has an entry. Checks, where they apply: empty input (no error, no NaN, a gradient that flows),
float64 gradients (``gradcheck``), float32 agrees with float64, inputs unmodified, and an error
whose message names the dialect function and its argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch.distributions import Normal

import losskit
from losskit import catalogue, metrics
from losskit.compat import keras as lk
from losskit.compat import tf

Tensors = tuple[Any, ...]


@dataclass(frozen=True)
class DialectSpec:
    """``sample(n, dtype, gen) -> (args, kwargs)``; ``grad``: positions of the differentiable
    arguments; ``call(obj, *args, **kwargs)`` adapts the call (a class is instantiated);
    ``error``: ``(args, kwargs, exception, regex after the name)``."""

    sample: Callable[[int, torch.dtype, torch.Generator], tuple[Tensors, dict[str, Any]]]
    grad: tuple[int, ...] = ()
    call: Callable[..., Any] | None = None
    error: tuple[Tensors, dict[str, Any], type[Exception], str] | None = None
    empty_ok: bool = True
    floating: bool = True


def _u(
    n: int, c: int, dtype: torch.dtype, gen: torch.Generator, lo: float = 0.1, hi: float = 0.9
) -> torch.Tensor:
    return (torch.rand(n, c, generator=gen, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def _n(shape: tuple[int, ...], dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


def _onehot(n: int, c: int, dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    return torch.eye(c, dtype=dtype)[torch.randint(0, c, (n,), generator=gen)]


def _labels(n: int, c: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, c, (n,), generator=gen)


def _sparse_rows(n: int, width: int, high: int, gen: torch.Generator, low: int = 0) -> Any:
    values = torch.randint(low, high, (n, width), generator=gen)
    idx = [[i, j] for i in range(n) for j in range(width)]
    return tf.SparseTensor(idx, values.reshape(-1).tolist(), [n, width])


MISMATCH = ((torch.zeros(2, 3), torch.zeros(2, 4)), {})

SPECS: dict[str, DialectSpec] = {}


def _pair_spec(
    labels: Callable[..., torch.Tensor],
    preds: Callable[..., torch.Tensor],
    regex: str,
    **kwargs: Any,
) -> DialectSpec:
    return DialectSpec(
        lambda n, d, g: ((labels(n, d, g), preds(n, d, g)), dict(kwargs)),
        grad=(1,),
        error=(*MISMATCH, ValueError, regex),
    )


# ---- TensorFlow-1 losses --------------------------------------------------------------------
def _soft(n: int, d: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return _u(n, 3, d, g, 0.0, 1.0)


def _real(n: int, d: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return _n((n, 3), d, g)


def _prob(n: int, d: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return _u(n, 3, d, g)


def _bin(n: int, d: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, 3, generator=g) > 0.5).to(d)


def _oh(n: int, d: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return _onehot(n, 3, d, g)


for _name, _lab, _pred in (
    ("absolute_difference", _real, _real),
    ("mean_squared_error", _real, _real),
    ("huber_loss", _real, _real),
    ("log_loss", _bin, _prob),
    ("hinge_loss", _bin, _real),
    ("sigmoid_cross_entropy", _soft, _real),
):
    SPECS[f"compat.tf.losses.{_name}"] = _pair_spec(_lab, _pred, r"\w+ and \w+ must have the same")
SPECS["compat.tf.losses.softmax_cross_entropy"] = _pair_spec(
    _oh, _real, r"logits and onehot_labels must have the same", label_smoothing=0.1
)
SPECS["compat.tf.losses.sparse_softmax_cross_entropy"] = DialectSpec(
    lambda n, d, g: ((_labels(n, 3, g), _n((n, 3), d, g)), {}),
    grad=(1,),
    error=(
        (torch.zeros(2, 1, 1, dtype=torch.long), torch.zeros(2, 3)),
        {},
        ValueError,
        r"labels must have rank 1",
    ),
)
SPECS["compat.tf.losses.compute_weighted_loss"] = DialectSpec(
    lambda n, d, g: ((_n((n, 3), d, g), _u(n, 1, d, g)), {}),
    grad=(0,),
    error=((torch.zeros(2, 3), torch.ones(3)), {}, ValueError, r"weights can not be broadcast"),
)

# ---- tf.nn ----------------------------------------------------------------------------------
for _name, _lab in (
    ("sigmoid_cross_entropy_with_logits", _soft),
    ("softmax_cross_entropy_with_logits", _oh),
):
    SPECS[f"compat.tf.nn.{_name}"] = DialectSpec(
        (lambda lab: lambda n, d, g: ((), {"labels": lab(n, d, g), "logits": _n((n, 3), d, g)}))(
            _lab
        ),
        grad=(),
        call=None,
        error=(
            (),
            {"labels": torch.zeros(2, 3), "logits": torch.zeros(2, 4)},
            ValueError,
            r"logits and labels must have the same shape",
        ),
    )
SPECS["compat.tf.nn.weighted_cross_entropy_with_logits"] = DialectSpec(
    lambda n, d, g: ((), {"labels": _soft(n, d, g), "logits": _n((n, 3), d, g), "pos_weight": 2.5}),
    error=(
        (),
        {"labels": torch.zeros(2, 3), "logits": torch.zeros(2, 3)},
        ValueError,
        r"pos_weight must be given",
    ),
)
SPECS["compat.tf.nn.sparse_softmax_cross_entropy_with_logits"] = DialectSpec(
    lambda n, d, g: ((), {"labels": _labels(n, 3, g), "logits": _n((n, 3), d, g)}),
    error=(
        (),
        {"labels": torch.zeros(2, 1, dtype=torch.long), "logits": torch.zeros(2, 3)},
        ValueError,
        r"labels must have rank 1",
    ),
)
SPECS["compat.tf.nn.l2_loss"] = DialectSpec(
    lambda n, d, g: ((_n((n, 3), d, g),), {}),
    grad=(0,),
    error=((None,), {}, TypeError, r"t must not be None"),
)
_T, _C = 5, 4


def _ctc_v1(n: int, d: torch.dtype, g: torch.Generator) -> tuple[Tensors, dict[str, Any]]:
    return (_sparse_rows(n, 2, _C - 1, g), _n((_T, n, _C), d, g), [_T] * n), {}


def _ctc_v2(n: int, d: torch.dtype, g: torch.Generator) -> tuple[Tensors, dict[str, Any]]:
    labels = torch.randint(1, _C, (n, 2), generator=g)
    return (labels, _n((_T, n, _C), d, g), [2] * n, [_T] * n), {}


SPECS["compat.tf.nn.ctc_loss"] = DialectSpec(
    _ctc_v1,
    grad=(1,),
    error=(
        (torch.zeros(1, 2, dtype=torch.long), torch.zeros(_T, 1, _C), [_T]),
        {},
        TypeError,
        r"labels must be a sparse COO tensor",
    ),
)
SPECS["compat.tf.nn.ctc_loss_v2"] = DialectSpec(
    _ctc_v2,
    grad=(1,),
    error=(
        (torch.ones(1, 2, dtype=torch.long), torch.zeros(_T, 1, _C), [2], [_T]),
        {"blank_index": 7},
        ValueError,
        r"blank_index must lie in",
    ),
)
SPECS["compat.tf.nn.ctc_greedy_decoder"] = DialectSpec(
    lambda n, d, g: ((_n((_T, n, _C), d, g), [_T] * n), {}),
    error=((torch.zeros(_T, 2, _C), [_T]), {}, ValueError, r"sequence_length must have shape"),
)
SPECS["compat.tf.nn.ctc_beam_search_decoder"] = DialectSpec(
    lambda n, d, g: ((_n((_T, n, _C), d, g), [_T] * n), {"beam_width": 3, "top_paths": 2}),
    error=(
        (torch.zeros(_T, 1, _C), [_T]),
        {"beam_width": 2, "top_paths": 3},
        ValueError,
        r"top_paths must lie in",
    ),
)
SPECS["compat.tf.edit_distance"] = DialectSpec(
    lambda n, d, g: ((_sparse_rows(n, 3, 4, g), _sparse_rows(n, 2, 4, g)), {}),
    error=(
        (torch.zeros(2, 3, dtype=torch.long), _sparse_rows(2, 2, 4, torch.Generator())),
        {},
        TypeError,
        r"hypothesis must be a sparse COO tensor",
    ),
    floating=False,
)
SPECS["compat.tf.SparseTensor"] = DialectSpec(
    lambda n, d, g: (([[i, 0] for i in range(n)], list(range(n)), [n, 1]), {}),
    error=(([[0, 0, 0]], [1], [2, 2]), {}, ValueError, r"indices must have shape"),
    floating=False,
)


def _kl_call(obj: Any, a_loc: Any, a_scale: Any, b_loc: Any, b_scale: Any) -> Any:
    return obj(Normal(a_loc, a_scale), Normal(b_loc, b_scale))


SPECS["compat.tf.distributions.kl_divergence"] = DialectSpec(
    lambda n, d, g: (
        (
            _n((n,), d, g),
            _u(n, 1, d, g).reshape(n) + 0.5,
            _n((n,), d, g),
            _u(n, 1, d, g).reshape(n) + 0.5,
        ),
        {},
    ),
    grad=(0, 1, 2, 3),
    call=_kl_call,
)
SPECS["compat.tf.distributions.kl_divergence"] = DialectSpec(
    SPECS["compat.tf.distributions.kl_divergence"].sample,
    grad=(0, 1, 2, 3),
    call=_kl_call,
)

# ---- Keras ----------------------------------------------------------------------------------
_KERAS_SAMPLES: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "binary_crossentropy": (_bin, _prob),
    "binary_focal_crossentropy": (_bin, _prob),
    "categorical_crossentropy": (_oh, _prob),
    "categorical_focal_crossentropy": (_oh, _prob),
    "categorical_hinge": (_oh, _real),
    "cosine_similarity": (_real, _real),
    "dice": (_bin, _prob),
    "hinge": (_bin, _real),
    "huber": (_real, _real),
    "kl_divergence": (_prob, _prob),
    "log_cosh": (_real, _real),
    "mean_absolute_error": (_real, _real),
    "mean_absolute_percentage_error": (_real, _real),
    "mean_squared_error": (_real, _real),
    "mean_squared_logarithmic_error": (_prob, _prob),
    "poisson": (_prob, _prob),
    "squared_hinge": (_bin, _real),
    "tversky": (_bin, _prob),
}
_KERAS_CLASS = {
    e.twin: e.name
    for e in catalogue.entries()
    if e.name.startswith("compat.keras.")
    and e.twin is not None
    and e.name.split(".")[-1][0].islower()
}


def _instantiate(obj: Any, *args: Any, **kwargs: Any) -> Any:
    return obj()(*args, **kwargs)


def _keras_spec(name: str, spec: DialectSpec) -> None:
    SPECS[f"compat.keras.{name}"] = spec
    cls = next(k for k, v in _KERAS_CLASS.items() if v == f"compat.keras.{name}")
    SPECS[cls] = DialectSpec(spec.sample, spec.grad, _instantiate, spec.error, spec.empty_ok)


for _name, (_lab, _pred) in _KERAS_SAMPLES.items():
    _keras_spec(_name, _pair_spec(_lab, _pred, r"y_\w+ and y_\w+ must have the same shape"))
_keras_spec(
    "sparse_categorical_crossentropy",
    DialectSpec(
        lambda n, d, g: ((_labels(n, 3, g), _prob(n, d, g)), {}),
        grad=(1,),
        error=(
            (torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 3)),
            {},
            ValueError,
            r"y_true must have the shape of y_pred without its class axis",
        ),
    ),
)
_keras_spec(
    "categorical_generalized_cross_entropy",
    DialectSpec(
        lambda n, d, g: ((_labels(n, 3, g), _prob(n, d, g)), {"q": 0.5}),
        grad=(1,),
    ),
)
SPECS["compat.keras.CategoricalGeneralizedCrossEntropy"] = DialectSpec(
    lambda n, d, g: ((_labels(n, 3, g), _prob(n, d, g)), {}),
    grad=(1,),
    call=_instantiate,
)
_keras_spec(
    "circle",
    DialectSpec(
        lambda n, d, g: ((torch.arange(n) % 2, _n((n, 4), d, g)), {}),
        grad=(1,),
    ),
)
_keras_spec(
    "ctc",
    DialectSpec(
        lambda n, d, g: ((torch.randint(1, _C, (n, 2), generator=g), _n((n, _T, _C), d, g)), {}),
        grad=(1,),
        error=(
            (torch.ones(2, 2, 1), torch.zeros(2, _T, _C)),
            {},
            ValueError,
            r"y_true must have shape \(batch_size, max_length\)",
        ),
    ),
)
SPECS["compat.keras.ctc_batch_cost"] = DialectSpec(
    lambda n, d, g: (
        (
            torch.randint(0, _C - 1, (n, 2), generator=g),
            torch.softmax(_n((n, _T, _C), d, g), -1),
            [[_T]] * n,
            [[2]] * n,
        ),
        {},
    ),
    grad=(1,),
    error=(
        (torch.ones(2, 2), torch.full((2, _T, _C), 0.2), [[_T]] * 2, [[2]] * 3),
        {},
        ValueError,
        r"y_true must have shape",
    ),
)
for _alias, _function in lk.ALIASES.items():
    SPECS[f"compat.keras.{_alias}"] = SPECS[f"compat.keras.{_function}"]

DIALECT_ENTRIES = [
    e for e in catalogue.entries() if e.name.startswith("compat.") and e.kind != "type"
]
METRIC_ENTRIES = [e for e in catalogue.entries(kind="metric")]


def test_every_public_dialect_name_has_an_entry() -> None:
    names = {e.name for e in catalogue.entries()}
    public = [f"compat.tf.losses.{n}" for n in tf.losses.__all__]
    public += [f"compat.tf.nn.{n}" for n in tf.nn.__all__]
    public += [
        "compat.tf.edit_distance",
        "compat.tf.SparseTensor",
        "compat.tf.distributions.kl_divergence",
    ]
    skip = ("ALIASES", "losses", "classes", "Loss")
    public += [f"compat.keras.{n}" for n in lk.__all__ if n not in skip]
    public += [f"metrics.{n}" for n in metrics.__all__ if n != "Metric"]
    missing = [n for n in public if n not in names]
    assert not missing, f"no catalogue entry for {missing}"
    for n in public:
        obj: Any = losskit
        for part in n.split("."):
            obj = getattr(obj, part)
        assert catalogue.get(n).obj is obj


@pytest.mark.parametrize("entry", DIALECT_ENTRIES, ids=lambda e: e.name)
def test_every_dialect_entry_has_a_spec(entry: catalogue.Entry) -> None:
    assert entry.name in SPECS, f"{entry.name} has no dialect contract spec"


def _run(name: str, args: Tensors, kwargs: dict[str, Any]) -> Any:
    obj = catalogue.get(name).obj
    spec = SPECS[name]
    return spec.call(obj, *args, **kwargs) if spec.call else obj(*args, **kwargs)


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out.to_dense() if out.layout == torch.sparse_coo else out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


NAMES = sorted(SPECS)
GRAD_NAMES = [n for n in NAMES if SPECS[n].grad]


@pytest.mark.parametrize("name", NAMES)
def test_empty_input(name: str) -> None:
    spec = SPECS[name]
    args, kwargs = spec.sample(0, torch.float32, torch.Generator().manual_seed(0))
    args = tuple(a.requires_grad_() if i in spec.grad else a for i, a in enumerate(args))
    out = _run(name, args, kwargs)
    for t in _tensors(out):
        assert not torch.isnan(t.float()).any()
    if spec.grad:
        total = sum(t.sum() for t in _tensors(out) if t.requires_grad)
        if isinstance(total, torch.Tensor):
            total.backward()
        for i in spec.grad:
            assert args[i].grad is None or not torch.isnan(args[i].grad).any()


@pytest.mark.parametrize("name", GRAD_NAMES)
def test_gradcheck_float64(name: str) -> None:
    spec = SPECS[name]
    args, kwargs = spec.sample(2, torch.float64, torch.Generator().manual_seed(1))

    def f(*diff: torch.Tensor) -> Any:
        full = list(args)
        for i, t in zip(spec.grad, diff, strict=True):
            full[i] = t
        out = _run(name, tuple(full), kwargs)
        return out

    inputs = tuple(args[i].detach().clone().requires_grad_() for i in spec.grad)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n].floating])
def test_float32_agrees_with_float64(name: str) -> None:
    spec = SPECS[name]
    a64, k64 = spec.sample(3, torch.float64, torch.Generator().manual_seed(2))
    a32, k32 = spec.sample(3, torch.float32, torch.Generator().manual_seed(2))
    for x, y in zip(_tensors(_run(name, a32, k32)), _tensors(_run(name, a64, k64)), strict=True):
        if x.is_floating_point():
            assert x.dtype in (torch.float32, torch.float64)
            torch.testing.assert_close(x.double(), y.double(), rtol=1e-4, atol=1e-5)
        else:
            assert torch.equal(x, y)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_unmodified(name: str) -> None:
    spec = SPECS[name]
    args, kwargs = spec.sample(3, torch.float32, torch.Generator().manual_seed(3))
    before = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
    before_kw = {k: v.clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    _run(name, args, kwargs)
    for a, b in zip(args, before, strict=True):
        if b is not None:
            assert torch.equal(
                a.to_dense() if a.is_sparse else a, b.to_dense() if b.is_sparse else b
            )
    for k, b in before_kw.items():
        v = kwargs[k]
        assert torch.equal(v.to_dense() if v.is_sparse else v, b.to_dense() if b.is_sparse else b)


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n].error is not None])
def test_error_names_the_dialect_function(name: str) -> None:
    args, kwargs, error, regex = SPECS[name].error  # type: ignore[misc]
    alias = name.split(".")[-1]
    reported = f"compat.keras.{lk.ALIASES[alias]}" if alias in lk.ALIASES else name
    with pytest.raises(error, match=rf"^{re.escape(reported)}: {regex}"):
        _run(name, args, kwargs)


@pytest.mark.parametrize("entry", METRIC_ENTRIES, ids=lambda e: e.name)
def test_metric_contract(entry: catalogue.Entry) -> None:
    metric = entry.obj()
    text = entry.name in ("metrics.WordErrorRate", "metrics.CharErrorRate")
    if text:
        metric.update([], [])
        hyp, ref = ["a b", "c"], ["a c", "c d"]
        metric.update(hyp, ref)
        assert (hyp, ref) == (["a b", "c"], ["a c", "c d"])
        bad: tuple[Any, ...] = (["a"], ["a", "b"])
    elif entry.name == "metrics.EditDistance":
        metric.update(torch.zeros(0, 3, dtype=torch.long), torch.zeros(0, 2, dtype=torch.long))
        assert metric.compute().item() == 0.0
        h, t = torch.tensor([[1, 2, 3]]), torch.tensor([[1, 3]])
        metric.update(h, t)
        assert torch.equal(h, torch.tensor([[1, 2, 3]]))
        bad = (torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long))
    else:
        metric.update(torch.zeros(0, 3), torch.zeros(0, 3))
        assert metric.compute().item() == 0.0
        x, y = torch.randn(4, 3), torch.randn(4, 3)
        xc = x.clone()
        metric.update(x, y)
        assert torch.equal(x, xc)
        bad = (torch.zeros(2, 3), torch.zeros(3, 3))
    value = metric.compute()
    assert value.dtype == torch.float64 and torch.isfinite(value)
    cls = entry.name.split(".")[-1]
    with pytest.raises((ValueError, TypeError), match=rf"^metrics\.{cls}\.update: "):
        metric.update(*bad)


INPUT_FORMS = [
    ("compat.tf.losses.mean_squared_error", [[1.0, 2.0], [3.0, 4.0]], [[0.5, 2.0], [1.0, 4.5]]),
    ("compat.tf.losses.sigmoid_cross_entropy", [[1.0, 0.0], [0.0, 1.0]], [[2.0, -1.0], [0.5, 3.0]]),
    ("compat.tf.losses.sparse_softmax_cross_entropy", [0, 1], [[2.0, -1.0], [0.5, 3.0]]),
    ("compat.keras.binary_crossentropy", [[1.0, 0.0], [0.0, 1.0]], [[0.9, 0.0], [0.3, 1.0]]),
    ("compat.keras.MeanSquaredError", [[1.0, 2.0], [3.0, 4.0]], [[0.5, 2.0], [1.0, 4.5]]),
]


@pytest.mark.parametrize(("name", "first", "second"), INPUT_FORMS, ids=[f[0] for f in INPUT_FORMS])
def test_tensors_arrays_and_lists_give_the_same_value(name: str, first: list, second: list) -> None:
    import numpy as np

    obj = catalogue.get(name).obj
    fn = obj() if isinstance(obj, type) else obj

    def array(x: list) -> np.ndarray:  # float32 as the lists and tensors of floats
        a = np.asarray(x)
        return a.astype(np.float32) if a.dtype.kind == "f" else a

    # the third argument: TF-1's weights, Keras' sample_weight; Keras functions take none
    weights: list | None = [[1.0], [0.0]] if name.startswith("compat.tf") else [1.0, 0.0]
    if name == "compat.keras.binary_crossentropy":
        weights = None
    forms = [
        (first, second, weights),
        (array(first), array(second), None if weights is None else array(weights)),
        (
            torch.tensor(first),
            torch.tensor(second),
            None if weights is None else torch.tensor(weights),
        ),
    ]
    values = [fn(a, b) if w is None else fn(a, b, w) for a, b, w in forms]
    for v in values[1:]:
        torch.testing.assert_close(v, values[0])
