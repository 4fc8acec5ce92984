"""Module twins of the margin softmax losses; see :mod:`losskit.functional.margin`.

These modules own their class-weight matrix (an ``nn.Parameter`` of shape
``(num_classes, in_features)``, the ``nn.Linear`` layout, no bias) and are trained together with
the network that produces the features. :class:`LargeMarginSoftmaxLoss` and
:class:`SphereFaceLoss` also run the λ annealing schedule of their papers:

.. math::

    \\lambda_t = \\max\\big(\\lambda_{\\min},\\
    \\text{base}\\,(1 + \\gamma\\, t)^{-\\text{power}}\\big)

where :math:`t` is the ``iteration`` buffer: the number of forward calls made in training mode so
far. Each forward in training mode uses :math:`\\lambda_t` of the current :math:`t` and then
advances :math:`t` by one (so call the loss once per optimisation step; with gradient
accumulation, every micro-batch counts). Forward calls in eval mode use :math:`\\lambda_t` and never
advance it. ``iteration`` is part of ``state_dict``, so a resumed run continues the schedule; it is
replaced by a new tensor at each step, not incremented in place (so that the backward of a call,
also under ``torch.compile``, uses the λ of that call). (The
authors' Caffe layer increments its counter before computing λ, so its k-th step uses
:math:`t = k`; here the k-th training step uses :math:`t = k - 1`, the first step ``base``.)

For prediction use :meth:`logits` (the plain logits, without margin).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as tF
from torch import Tensor, nn

from .. import functional as F
from .._core.checks import check_positive, fail
from .._core.parametric import ParametricLoss
from ..functional.margin import _check_integer_margin

__all__ = ["ArcFaceLoss", "CosFaceLoss", "LargeMarginSoftmaxLoss", "SphereFaceLoss"]


class _MarginSoftmax(ParametricLoss):
    """Common part: the class-weight parameter, ``reduction``, options and ``repr``."""

    function: ClassVar[Any]

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        reduction: str,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        **options: Any,
    ) -> None:
        super().__init__(reduction=reduction, in_features=in_features, num_classes=num_classes)
        self.in_features: int
        self.num_classes: int
        self._option_names = tuple(options)
        for key, value in options.items():
            setattr(self, key, value)
        self.weight: nn.Parameter
        self.own(
            "weight",
            torch.empty(num_classes, in_features, device=device, dtype=dtype),
            parameter=True,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform class weights (the filler of the papers' released models)."""
        nn.init.xavier_uniform_(self.weight)

    def options(self) -> dict[str, Any]:
        """The loss options as keyword arguments of the functional (without ``lambda_``)."""
        return {name: getattr(self, name) for name in self._option_names}

    def logits(self, input: Tensor) -> Tensor:
        """Plain class logits for prediction: ``F.linear(input, weight)``."""
        return tF.linear(input, self.weight)

    def hyperparameters(self) -> dict[str, Any]:
        """Sizes, reduction and the loss options (saved with the ``state_dict``)."""
        return {**super().hyperparameters(), **self.options()}


class _Annealed(_MarginSoftmax):
    """Adds the λ schedule and its ``iteration`` buffer."""

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        margin: int,
        base: float,
        gamma: float,
        power: float,
        lambda_min: float,
        reduction: str,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        name = type(self).__name__
        margin = _check_integer_margin(name, margin)
        for arg, value in (
            ("base", base),
            ("gamma", gamma),
            ("power", power),
            ("lambda_min", lambda_min),
        ):
            check_positive(name, arg, float(value), allow_zero=True)
            if not math.isfinite(float(value)):
                raise fail(name, f"{arg} must be finite, got {value!r}")
        super().__init__(
            in_features,
            num_classes,
            reduction=reduction,
            device=device,
            dtype=dtype,
            margin=margin,
        )
        self.base = float(base)
        self.gamma = float(gamma)
        self.power = float(power)
        self.lambda_min = float(lambda_min)
        self.iteration: Tensor
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long, device=device))

    def hyperparameters(self) -> dict[str, Any]:
        """Also the annealing schedule (``iteration`` itself is a buffer of the state)."""
        schedule = {"base": self.base, "gamma": self.gamma, "power": self.power}
        return {**super().hyperparameters(), **schedule, "lambda_min": self.lambda_min}

    def current_lambda(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """λ for the current ``iteration`` (a 0-dim tensor on the module's device)."""
        t = self.iteration.to(dtype)
        lam = self.base * torch.pow(1 + self.gamma * t, -self.power)
        return lam.clamp_min(self.lambda_min)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss with λ of the current iteration; in training mode the iteration advances."""
        dtype = torch.float64 if input.dtype == torch.float64 else torch.float32
        lam = self.current_lambda(dtype)
        loss = type(self).function(
            input, target, self.weight, lambda_=lam, reduction=self.reduction, **self.options()
        )
        if self.training:
            # Out of place: the buffer is replaced, never written into, so the λ this call's
            # backward uses (torch.compile may recompute it from the counter) stays that of
            # the current iteration.
            self.iteration = self.iteration + 1
        return loss

    def extra_repr(self) -> str:
        schedule = (
            f"base={self.base!r}, gamma={self.gamma!r}, power={self.power!r}, "
            f"lambda_min={self.lambda_min!r}"
        )
        return f"{super().extra_repr()}, {schedule}"


class LargeMarginSoftmaxLoss(_Annealed):
    """L-Softmax with its own class weights and the paper's λ annealing; see
    :func:`losskit.large_margin_softmax_loss`.

    The schedule (module docstring of :mod:`losskit.nn.margin`) defaults to the L-Softmax
    paper's released settings ``base=1000, gamma=2.5e-5, power=35, lambda_min=0``: λ starts
    at 1000 (nearly plain softmax) and decays towards the full margin.

    Args:
        in_features: feature size ``D``.
        num_classes: number of classes ``C``.
        margin: integer margin ``m >= 1``.
        base, gamma, power, lambda_min: the λ schedule.
        reduction: ``"none" | "mean" | "sum"``.

    Shape:
        ``input (N, D)``, ``target (N,)`` integer; output scalar, or ``(N,)`` for ``"none"``.
        ``weight`` is ``(C, D)``; ``iteration`` a 0-dim int64 buffer.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> loss = LargeMarginSoftmaxLoss(8, 3, margin=2)
        >>> x, y = torch.randn(5, 8), torch.tensor([0, 1, 2, 0, 1])
        >>> loss(x, y).backward()
        >>> int(loss.iteration), round(float(loss.current_lambda()), 3)
        (1, 999.125)
    """

    function = staticmethod(F.large_margin_softmax_loss)

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        margin: int = 4,
        base: float = 1000.0,
        gamma: float = 2.5e-5,
        power: float = 35.0,
        lambda_min: float = 0.0,
        reduction: str = "mean",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            in_features,
            num_classes,
            margin=margin,
            base=base,
            gamma=gamma,
            power=power,
            lambda_min=lambda_min,
            reduction=reduction,
            device=device,
            dtype=dtype,
        )


class SphereFaceLoss(_Annealed):
    """SphereFace (A-Softmax) with its own class weights and λ annealing; see
    :func:`losskit.sphereface_loss`.

    The schedule defaults to the authors' released SphereFace training configuration
    (``base=1000, gamma=0.12, power=1, lambda_min=5``); ``lambda_min=0`` gives the pure
    A-Softmax objective at the end of the schedule. The weight rows are normalised inside the
    loss, so their length is irrelevant (:meth:`logits` returns ``‖x‖ cos θ``).

    Shape:
        ``input (N, D)``, ``target (N,)``; output scalar, or ``(N,)`` for ``"none"``.

    Example:
        >>> loss = SphereFaceLoss(8, 3)
        >>> loss(torch.randn(4, 8), torch.tensor([0, 1, 2, 0])).shape
        torch.Size([])
    """

    function = staticmethod(F.sphereface_loss)

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        margin: int = 4,
        base: float = 1000.0,
        gamma: float = 0.12,
        power: float = 1.0,
        lambda_min: float = 5.0,
        reduction: str = "mean",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            in_features,
            num_classes,
            margin=margin,
            base=base,
            gamma=gamma,
            power=power,
            lambda_min=lambda_min,
            reduction=reduction,
            device=device,
            dtype=dtype,
        )

    def logits(self, input: Tensor) -> Tensor:
        """``‖x‖ cos θ_j``: logits with normalised class weights."""
        return tF.linear(input, tF.normalize(self.weight, dim=1))


class _Scaled(_MarginSoftmax):
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss with the module's class weights."""
        return type(self).function(
            input, target, self.weight, reduction=self.reduction, **self.options()
        )

    def logits(self, input: Tensor) -> Tensor:
        """``s cos θ_j``: scaled cosine logits (no margin)."""
        scale = float(self.options()["scale"])
        return scale * tF.linear(tF.normalize(input, dim=1), tF.normalize(self.weight, dim=1))


class CosFaceLoss(_Scaled):
    """CosFace / AM-Softmax with its own class weights; see :func:`losskit.cosface_loss`.

    Shape:
        ``input (N, D)``, ``target (N,)``; output scalar, or ``(N,)`` for ``"none"``.

    Example:
        >>> loss = CosFaceLoss(8, 3, scale=30.0, margin=0.35)
        >>> loss
        CosFaceLoss(in_features=8, num_classes=3, scale=30.0, margin=0.35, reduction='mean')
    """

    function = staticmethod(F.cosface_loss)

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        scale: float = 64.0,
        margin: float = 0.35,
        reduction: str = "mean",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_positive(type(self).__name__, "scale", float(scale))
        check_positive(type(self).__name__, "margin", float(margin), allow_zero=True)
        super().__init__(
            in_features,
            num_classes,
            reduction=reduction,
            device=device,
            dtype=dtype,
            scale=float(scale),
            margin=float(margin),
        )


class ArcFaceLoss(_Scaled):
    """ArcFace with its own class weights; see :func:`losskit.arcface_loss`.

    Shape:
        ``input (N, D)``, ``target (N,)``; output scalar, or ``(N,)`` for ``"none"``.

    Example:
        >>> loss = ArcFaceLoss(8, 3)
        >>> loss(torch.randn(4, 8), torch.tensor([0, 1, 2, 0])).shape
        torch.Size([])
    """

    function = staticmethod(F.arcface_loss)

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        scale: float = 64.0,
        margin: float = 0.5,
        easy_margin: bool = False,
        reduction: str = "mean",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_positive(type(self).__name__, "scale", float(scale))
        if not 0.0 <= float(margin) < math.pi:
            raise fail(type(self).__name__, f"margin must lie in [0, pi) (radians), got {margin!r}")
        super().__init__(
            in_features,
            num_classes,
            reduction=reduction,
            device=device,
            dtype=dtype,
            scale=float(scale),
            margin=float(margin),
            easy_margin=bool(easy_margin),
        )
