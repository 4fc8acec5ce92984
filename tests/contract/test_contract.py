"""The shared contract: every registered loss goes through these checks.

A loss joins the suite by being registered (``losskit._core.registry``); nothing here names a
particular loss. Checks: registry completeness and docs, each reduction, an unknown reduction,
empty input, float64 gradcheck (and gradgradcheck), half and bfloat16 inputs, dtype
preservation, Module equals functional, inputs unmodified, the spec's error table, agreement with
the spec's independent reference. ``test_compile.py`` holds the grouped ``torch.compile`` check.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import torch

import losskit
from specs import LossSpec, Sample, all_specs

SPECS = all_specs()
CPU = torch.device("cpu")
DEVICES = [CPU] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def by_name(specs: list[LossSpec]) -> Any:
    return pytest.mark.parametrize("spec", specs, ids=[s.name for s in specs])


def make_sample(
    spec: LossSpec, batch: int = 4, dtype: torch.dtype = torch.float64, device: torch.device = CPU
) -> Sample:
    return spec.sample(batch, dtype, device, torch.Generator().manual_seed(1234))


def call(spec: LossSpec, sample: Sample, reduction: str | None = None, fn: Any = None) -> Any:
    fn = spec.functional if fn is None else fn
    kwargs = dict(sample.options)
    if reduction is not None and spec.reductions:
        kwargs["reduction"] = reduction
    return fn(*sample.args, **kwargs)


def default_reduction(spec: LossSpec) -> str | None:
    if not spec.reductions:
        return None
    params = inspect.signature(spec.functional).parameters
    default = params["reduction"].default if "reduction" in params else None
    return default if default in spec.reductions else spec.reductions[0]


def with_grad(sample: Sample, spec: LossSpec) -> Sample:
    args = list(sample.args)
    for i in spec.grad_args:
        args[i] = args[i].detach().clone().requires_grad_(True)
    return Sample(tuple(args), sample.options)


def cast_floating(sample: Sample, dtype: torch.dtype) -> Sample:
    def cast(v: Any) -> Any:
        return v.to(dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v

    return Sample(
        tuple(cast(a) for a in sample.args), {k: cast(v) for k, v in sample.options.items()}
    )


def test_registry_is_populated() -> None:
    assert len(SPECS) >= 12
    assert len({s.name for s in SPECS}) == len(SPECS)


@by_name(SPECS)
def test_registry_entry_is_public_and_documented(spec: LossSpec) -> None:
    assert getattr(losskit, spec.name) is spec.functional
    assert getattr(losskit.functional, spec.name) is spec.functional
    if spec.module is not None:
        assert getattr(losskit.nn, spec.module.__name__) is spec.module
        assert (spec.module.__doc__ and spec.functional.__name__ in spec.module.__doc__) or (
            spec.module.__doc__ and ":func:" in spec.module.__doc__
        )
    doc = spec.functional.__doc__ or ""
    assert ".. math::" in doc, "docstring must carry the math"
    assert ">>>" in doc, "docstring must carry a runnable example"
    assert spec.summary
    kinds = {case.error for case in spec.errors}
    assert ValueError in kinds and TypeError in kinds, "error table must cover shape and dtype"
    params = inspect.signature(spec.functional).parameters
    if spec.reductions:
        assert params["reduction"].kind is inspect.Parameter.KEYWORD_ONLY
    for name in spec.sample(2, torch.float64, CPU, torch.Generator().manual_seed(0)).options:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, f"{name} must be keyword-only"


@by_name(SPECS)
@pytest.mark.parametrize("device", DEVICES, ids=str)
def test_reductions(spec: LossSpec, device: torch.device) -> None:
    if not spec.reductions:
        pytest.skip("no reduction parameter")
    sample = make_sample(spec, device=device)
    results = {r: call(spec, sample, r) for r in spec.reductions}
    for r, value in results.items():
        assert value.device.type == device.type
        assert torch.isfinite(value).all(), f"reduction={r} is not finite"
        if r != "none":
            assert value.dim() == 0, f"reduction={r} must give a scalar"
    if "none" in results and "sum" in results:
        torch.testing.assert_close(results["sum"], results["none"].sum())


@by_name([s for s in SPECS if s.reductions])
def test_unknown_reduction_lists_allowed_values(spec: LossSpec) -> None:
    sample = make_sample(spec)
    allowed = ", ".join(repr(r) for r in spec.reductions)
    with pytest.raises(
        ValueError, match=re.escape(f"reduction must be one of {allowed}; got 'avg'")
    ):
        call(spec, sample, "avg")


@by_name(SPECS)
def test_empty_input(spec: LossSpec) -> None:
    sample = with_grad(make_sample(spec, batch=0, dtype=torch.float32), spec)
    for reduction in spec.reductions or (None,):
        out = call(spec, sample, reduction)
        assert out.numel() == 0 or torch.isfinite(out).all(), f"{reduction}: not finite"
        if reduction in ("mean", "sum", "batchmean"):
            assert out.dim() == 0
            assert out.item() == 0.0
            if spec.grad_args:
                grads = torch.autograd.grad(out, [sample.args[i] for i in spec.grad_args])
                for g, i in zip(grads, spec.grad_args, strict=True):
                    assert g.shape == sample.args[i].shape
                    assert not g.any()


@by_name([s for s in SPECS if s.grad_args and (s.gradcheck or s.twice_differentiable)])
def test_gradcheck_float64(spec: LossSpec) -> None:
    sample = make_sample(spec, batch=3)
    reduction = "sum" if "sum" in spec.reductions else default_reduction(spec)
    base = list(sample.args)

    def f(*diff: torch.Tensor) -> torch.Tensor:
        args = list(base)
        for i, t in zip(spec.grad_args, diff, strict=True):
            args[i] = t
        return call(spec, Sample(tuple(args), sample.options), reduction)

    inputs = tuple(base[i].detach().clone().requires_grad_(True) for i in spec.grad_args)
    if spec.gradcheck:
        assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
    if spec.twice_differentiable:
        # Checks the backward against finite differences of itself: valid for every loss,
        # including those whose backward is prescribed rather than derived (CIoU).
        assert torch.autograd.gradgradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@by_name(SPECS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_dtype_preserved(spec: LossSpec, dtype: torch.dtype) -> None:
    sample = make_sample(spec, dtype=dtype)
    out = call(spec, sample, default_reduction(spec))
    floating_input = isinstance(sample.args[0], torch.Tensor) and sample.args[0].is_floating_point()
    if floating_input:
        assert out.dtype == dtype
    else:
        assert out.is_floating_point()


@by_name([s for s in SPECS if s.low_precision])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_low_precision_computes_in_float32(spec: LossSpec, dtype: torch.dtype) -> None:
    low = with_grad(cast_floating(make_sample(spec, dtype=torch.float32), dtype), spec)
    # The same (rounded) values in float32: the low-precision call must match it closely.
    high = with_grad(cast_floating(Sample(low.args, low.options), torch.float32), spec)
    for reduction in spec.reductions or (None,):
        out_low = call(spec, low, reduction)
        out_high = call(spec, high, reduction)
        assert out_low.dtype == torch.float32
        torch.testing.assert_close(out_low, out_high, rtol=1e-5, atol=1e-5)
    if spec.grad_args:
        r = default_reduction(spec)
        g_low = torch.autograd.grad(call(spec, low, r), [low.args[i] for i in spec.grad_args])
        g_high = torch.autograd.grad(call(spec, high, r), [high.args[i] for i in spec.grad_args])
        for gl, gh, i in zip(g_low, g_high, spec.grad_args, strict=True):
            assert gl.dtype == low.args[i].dtype
            assert torch.isfinite(gl).all()
            torch.testing.assert_close(gl.float(), gh.to(dtype).float(), rtol=2e-2, atol=2e-2)


@by_name([s for s in SPECS if s.module is not None or s.make_module is not None])
def test_module_equals_functional(spec: LossSpec) -> None:
    for reduction in spec.reductions or ("mean",):
        sample = with_grad(make_sample(spec), spec)
        module, fsample = spec.build_module(sample, reduction)
        expected = call(spec, fsample, reduction)
        got = module(*spec.forward_args(sample))
        torch.testing.assert_close(got, expected)
        assert reduction in repr(module) or not spec.reductions


@by_name(SPECS)
def test_inputs_unmodified(spec: LossSpec) -> None:
    sample = with_grad(make_sample(spec), spec)
    tensors = sample.tensors()
    before = [(t.detach().clone(), t._version) for t in tensors]
    for reduction in spec.reductions or (None,):
        out = call(spec, sample, reduction)
        if spec.grad_args:
            out.sum().backward()
    for t, (copy, version) in zip(tensors, before, strict=True):
        assert t._version == version, "an input was modified in place"
        torch.testing.assert_close(t.detach(), copy, rtol=0, atol=0, equal_nan=True)


def _error_cases() -> list[Any]:
    cases = []
    for spec in SPECS:
        for case in spec.errors:
            cases.append(pytest.param(spec, case, id=f"{spec.name}-{case.description}"))
    return cases


@pytest.mark.parametrize(("spec", "case"), _error_cases())
def test_error_table(spec: LossSpec, case: Any) -> None:
    with pytest.raises(case.error, match=case.match):
        call(spec, case.make(), default_reduction(spec))


@by_name([s for s in SPECS if s.reference is not None])
def test_matches_reference(spec: LossSpec) -> None:
    assert spec.reference is not None
    sample = make_sample(spec)
    got = call(spec, sample, "none" if "none" in spec.reductions else None)
    accepted = inspect.signature(spec.reference).parameters
    # Validation is losskit's own; a weight goes to references that take one.
    options = {
        k: v
        for k, v in sample.options.items()
        if k != "validate" and (k != "weight" or "weight" in accepted)
    }
    expected = spec.reference(*sample.args, **options)
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-7, atol=1e-9)


def _stacked_samples(spec: LossSpec, copies: int = 3) -> tuple[list[Sample], tuple[Any, ...]]:
    """``copies`` samples of one shape (different seeds) and their positional tensors stacked."""
    samples = [
        spec.sample(2, torch.float64, CPU, torch.Generator().manual_seed(100 + i))
        for i in range(copies)
    ]
    stacked = tuple(torch.stack([s.args[j] for s in samples]) for j in range(len(samples[0].args)))
    return samples, stacked


@by_name([s for s in SPECS if s.func])
def test_torch_func_vmap_and_grad(spec: LossSpec) -> None:
    samples, stacked = _stacked_samples(spec)
    options = samples[0].options
    reduction = "sum" if "sum" in spec.reductions else default_reduction(spec)

    def f(*args: torch.Tensor) -> torch.Tensor:
        return call(spec, Sample(args, options), reduction)

    got = torch.func.vmap(f)(*stacked)
    expected = torch.stack([f(*s.args) for s in samples])
    torch.testing.assert_close(got, expected)
    if not spec.grad_args:
        return
    argnums = tuple(spec.grad_args)
    got_grads = torch.func.vmap(torch.func.grad(f, argnums=argnums))(*stacked)
    for n, s in enumerate(samples):
        leaves = with_grad(s, spec)
        grads = torch.autograd.grad(
            f(*leaves.args), [leaves.args[i] for i in argnums], allow_unused=True
        )
        for g_vmap, g in zip(got_grads, grads, strict=True):
            torch.testing.assert_close(g_vmap[n], torch.zeros_like(g_vmap[n]) if g is None else g)
