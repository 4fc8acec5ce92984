"""``torch.compile(fullgraph=True)`` equals eager, values and gradients, for every loss.

Cold compilation costs seconds per graph, so the losses of one registry module are compiled
together, as one function returning every loss: one compile per module instead of one per loss.
Data-dependent validation stays on (the default): under ``torch.compile`` losskit skips the checks
that read tensor values by itself, so with ``fullgraph=True`` any graph break, a validation
check included, fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import losskit
from specs import REGISTRY_MODULES, LossSpec, Sample, all_specs

CPU = torch.device("cpu")


def _groups() -> list[Any]:
    specs = [s for s in all_specs() if s.compile]
    groups = []
    for module in REGISTRY_MODULES:
        members = [s for s in specs if s.functional.__module__.endswith(f".{module}")]
        if members:
            groups.append(pytest.param(members, id=module))
    return groups


def _samples(specs: list[LossSpec]) -> list[Sample]:
    out = []
    for spec in specs:
        sample = spec.sample(5, torch.float32, CPU, torch.Generator().manual_seed(7))
        args = list(sample.args)
        for i in spec.grad_args:
            args[i] = args[i].detach().clone().requires_grad_(True)
        out.append(Sample(tuple(args), sample.options))
    return out


def _run_all(specs: list[LossSpec], samples: list[Sample]) -> list[torch.Tensor]:
    outs = []
    for spec, sample in zip(specs, samples, strict=True):
        reductions = [r for r in spec.reductions if r != "none"][:1] or [None]
        for reduction in reductions:
            kwargs = dict(sample.options)
            if reduction is not None:
                kwargs["reduction"] = reduction
            outs.append(spec.functional(*sample.args, **kwargs))
    return outs


def _grads(specs: list[LossSpec], samples: list[Sample], outs: list[torch.Tensor]) -> list[Any]:
    leaves = [s.args[i] for spec, s in zip(specs, samples, strict=True) for i in spec.grad_args]
    total = sum(o.float().sum() for o in outs if o.requires_grad)
    if not leaves or not isinstance(total, torch.Tensor):
        return []
    return list(torch.autograd.grad(total, leaves, allow_unused=True))


@pytest.mark.slow
@pytest.mark.parametrize("specs", _groups())
def test_compile_equals_eager(specs: list[LossSpec]) -> None:
    torch._dynamo.reset()
    compiled = torch.compile(_run_all, fullgraph=True, dynamic=False)
    assert losskit.is_validation_enabled()
    eager_samples = _samples(specs)
    eager = _run_all(specs, eager_samples)
    eager_grads = _grads(specs, eager_samples, eager)
    comp_samples = _samples(specs)
    got = compiled(specs, comp_samples)
    got_grads = _grads(specs, comp_samples, got)
    assert len(got) == len(eager)
    for spec_out, exp in zip(got, eager, strict=True):
        torch.testing.assert_close(spec_out, exp, rtol=1e-4, atol=1e-5)
    for g, e in zip(got_grads, eager_grads, strict=True):
        if e is None:
            assert g is None
        else:
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)
