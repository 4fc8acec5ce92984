"""``tf.compat.v1.distributions.kl_divergence`` on ``torch.distributions`` objects."""

from __future__ import annotations

from torch import Tensor
from torch.distributions import Distribution

from ... import functional as F
from ..._core.checks import speaks_as

__all__ = ["kl_divergence"]


@speaks_as("compat.tf.distributions.kl_divergence", input="distribution_a", target="distribution_b")
def kl_divergence(
    distribution_a: Distribution,
    distribution_b: Distribution,
    allow_nan_stats: bool = True,
    name: str | None = None,
) -> Tensor:
    r"""Analytic KL divergence of two distributions
    (``tf.compat.v1.distributions.kl_divergence``).

    .. math:: \mathrm{KL}(a \,\|\, b) = \mathbb E_{a}\big[\log a(X) - \log b(X)\big]

    computed by :func:`losskit.kl_divergence` on two ``torch.distributions.Distribution``
    objects (``torch.distributions.kl_divergence``), unreduced: the result has the
    distributions' batch shape.

    Args:
        distribution_a: the first distribution.
        distribution_b: the second distribution.
        allow_nan_stats: when ``False`` a NaN in the result is a ``ValueError``.
        name: ignored.

    Returns:
        The batch shape of the distributions.

    Raises:
        TypeError: arguments that are not distributions, or a pair without an analytic KL.
        ValueError: a NaN result with ``allow_nan_stats=False``.

    Example:
        >>> from torch.distributions import Normal
        >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0))
        tensor(0.4431)

    References:
        ``tf.compat.v1.distributions.kl_divergence``.
    """
    return F.kl_divergence(
        distribution_a, distribution_b, allow_nan_stats=allow_nan_stats, reduction="none"
    )
