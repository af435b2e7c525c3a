"""The result object every estimator returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy import special

from ..exceptions import ValidationError

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """An estimated quantity with its uncertainty and how it was obtained.

    Usable as a float (``float(est)``, arithmetic through ``est.value``).

    Attributes
    ----------
    value : float
        The point estimate (in nats for information quantities).
    stderr : float or None
        Standard error of ``value`` where the estimator provides one (Monte Carlo,
        bootstrap); None for closed forms and bounds.
    method : str
        The estimator's name, e.g. ``"monte_carlo"``, ``"kozachenko_leonenko"``.
    n : tuple of int
        Sample sizes used (one per argument that was sampled; empty for closed forms).
    params : dict
        Options the estimator ran with (k, n_samples, seeds, ...).
    interval : tuple of float or None
        A precomputed confidence interval (e.g. bootstrap percentiles) at
        ``interval_level``; :meth:`ci` returns it when the level matches.
    lower, upper : float or None
        Deterministic bounds on the true value, where the method gives them.
    """

    value: float
    stderr: float | None = None
    method: str = ""
    n: tuple[int, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    interval: tuple[float, float] | None = None
    interval_level: float = 0.95
    lower: float | None = None
    upper: float | None = None

    def __float__(self) -> float:
        return float(self.value)

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval for the estimated quantity.

        Returns the stored interval when one was computed at this level (bootstrap),
        else the normal interval ``value +- z * stderr``; for a closed form (no standard
        error) the interval is the point itself, or ``(lower, upper)`` for bounds.
        """
        if not 0 < level < 1:
            raise ValidationError(f"`level` must be in (0, 1). Got {level!r} instead.")
        if self.interval is not None and math.isclose(level, self.interval_level):
            return self.interval
        if self.stderr is None:
            if self.lower is not None or self.upper is not None:
                lo = -math.inf if self.lower is None else self.lower
                hi = math.inf if self.upper is None else self.upper
                return (lo, hi)
            return (self.value, self.value)
        z = float(special.ndtri(0.5 + level / 2))  # the standard normal quantile
        return (self.value - z * self.stderr, self.value + z * self.stderr)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for results tables and metrics.json)."""
        lo, hi = self.ci()
        return {
            "value": self.value,
            "stderr": self.stderr,
            "ci_low": lo,
            "ci_high": hi,
            "method": self.method,
            "n": list(self.n),
            "params": dict(self.params),
        }

    def __repr__(self) -> str:
        err = "" if self.stderr is None else f" ± {self.stderr:.3g}"
        return f"Estimate({self.value:.6g}{err}, method={self.method!r})"
