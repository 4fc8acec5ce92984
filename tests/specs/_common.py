"""Helpers shared by the registry family modules: random inputs and common error cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from ._spec import ErrorCase, Sample, SampleFn

__all__ = ["input_and_target", "pair_sampler", "pointwise_errors", "randn", "uniform"]


def randn(
    gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> Tensor:
    """Standard normal values drawn on the CPU in float64 (reproducible on every device)."""
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)


def uniform(
    gen: torch.Generator,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
    low: float = 0.0,
    high: float = 1.0,
) -> Tensor:
    """Uniform values in ``[low, high)`` drawn on the CPU in float64."""
    u = torch.rand(shape, generator=gen, dtype=torch.float64)
    return (low + (high - low) * u).to(device=device, dtype=dtype)


def pair_sampler(
    tail: tuple[int, ...] = (7,),
    *,
    input_fn: Callable[[Tensor], Tensor] | None = None,
    target_fn: Callable[[Tensor], Tensor] | None = None,
    options: Mapping[str, Any] | None = None,
) -> SampleFn:
    """A sampler of ``(input, target)`` pairs of shape ``(batch, *tail)`` with normal entries,
    optionally mapped (for losses with a restricted domain)."""

    def sample(
        batch: int, dtype: torch.dtype, device: torch.device, gen: torch.Generator
    ) -> Sample:
        shape = (batch, *tail)
        x = randn(gen, shape, torch.float64, torch.device("cpu"))
        y = randn(gen, shape, torch.float64, torch.device("cpu"))
        if input_fn is not None:
            x = input_fn(x)
        if target_fn is not None:
            y = target_fn(y)
        return Sample(
            (x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)),
            dict(options or {}),
        )

    return sample


def pointwise_errors(fn: str, *, options: Mapping[str, Any] | None = None) -> list[ErrorCase]:
    """The error table every ``(input, target)``-of-equal-shape loss shares."""
    opts = dict(options or {})
    return [
        ErrorCase(
            "shape mismatch",
            lambda: Sample((torch.zeros(3, 4), torch.zeros(3)), opts),
            ValueError,
            rf"^{fn}: input and target must have the same shape, got input \(3, 4\) "
            r"and target \(3,\)",
        ),
        ErrorCase(
            "broadcastable but different shapes",
            lambda: Sample((torch.zeros(3, 4), torch.zeros(1, 4)), opts),
            ValueError,
            rf"^{fn}: input and target must have the same shape",
        ),
        ErrorCase(
            "integer input",
            lambda: Sample((torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 4)), opts),
            TypeError,
            rf"^{fn}: input must be a floating point tensor, got dtype torch.int64",
        ),
        ErrorCase(
            "not a tensor",
            lambda: Sample(([0.0, 1.0], torch.zeros(2)), opts),
            TypeError,
            rf"^{fn}: input must be a torch.Tensor, got list",
        ),
        ErrorCase(
            "weight does not broadcast",
            lambda: Sample(
                (torch.zeros(3, 4), torch.zeros(3, 4)), {**opts, "weight": torch.ones(5)}
            ),
            ValueError,
            rf"^{fn}: weight of shape \(5,\) does not broadcast to the unreduced loss shape",
        ),
    ]


def input_and_target(sample: Sample) -> tuple[Any, ...]:
    """``module_args`` of a parametric module: it owns the weight (or centres) that its
    functional takes as third argument, so its ``forward`` gets only input and target."""
    return tuple(sample.args[:2])
