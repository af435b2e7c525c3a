"""The parameters of one run of the paper's generation process."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError
from ._covariance import COVARIANCE_MODELS

__all__ = ["FIT_COMPONENTS", "Setup"]

#: Allowed component counts of a fitted mixture, as expressions in K, J and L.
FIT_COMPONENTS = ("K", "K+J", "K+J+L")


@dataclass(frozen=True)
class Setup:
    """One setting of the Gaussian-mixture simulation (Gan & Liu 2025, Appendix B).

    Every field is a plain scalar or string, so a configuration file can set any of
    them by name; ``Setup(**fields)`` validates every field and raises
    :class:`~synthgain.exceptions.ValidationError` naming the first bad one.

    Parameters
    ----------
    K : int, default 2
        Anchor-sampled components of the ground truth ``G`` (>= 1).
    J : int, default 2
        Unsampled components of ``G``: in the target task, never seen in the anchors,
        copied into the generator ``M`` (>= 0).
    L : int, default 2
        Task-irrelevant components of ``M`` (>= 0).
    d : int, default 2
        Dimension (>= 1).
    n_anchor_per_component : int, default 50
        Anchor points drawn from each of the ``K`` anchor components (``N_k``; >= 2 so
        that each component's covariance can be re-estimated).
    n_synthetic : int, default 200
        Synthetic points drawn from ``M`` (the authors' code; the paper does not state it).
    anchor_fit_components : {"K", "K+J", "K+J+L"}, default "K"
        Components of the mixture fitted to the anchors. "K" is what the authors' code
        does; "K+J+L" is what the paper's text (Section 4.4) says.
    synthetic_fit_components : {"K", "K+J", "K+J+L"}, default "K+J+L"
        Components of the mixture fitted to the synthetic data.
    mean_low, mean_high : float, default 0 and 10
        Component means are uniform in ``[mean_low, mean_high]^d``.
    gap : float, default 0
        Offset ``gap * i`` added to the mean of ground-truth component ``i`` (the
        authors' option; 0 in their runs).
    covariance : {"random_spd", "seed_effective", "isotropic"}, default "random_spd"
        How component covariances are drawn; see :func:`random_covariances`.
    covariance_scale : float, default 1
        Variance of the "isotropic" model (ignored by the others).
    covariance_ridge : float, default 1e-6
        Ridge added to "random_spd" and "seed_effective" covariances.
    noise : float, default 0
        Standard deviation of the isotropic curation noise ``eps``:
        ``S_gen = M(p) + eps``, in the units of the setting at ``scale = 1``; 0 means no
        noise.
    scale : float, default 1
        Multiplies every coordinate of the simulation: the means (and ``mean_low``,
        ``mean_high``, ``gap``) by ``scale``, the covariances (and their ridge) by
        ``scale**2``, the curation noise's standard deviation by ``scale``. A setting at
        ``scale = c`` is the setting at ``scale = 1`` in other units (:func:`simulate`
        returns ``c`` times its points, to rounding), so a unit-free quantity does not
        change with it and a differential entropy of ``m`` coordinates moves by
        ``m log c``.
    seed : int or None, default None
        Seed used by :func:`simulate` when it is given no ``rng``.
    """

    K: int = 2
    J: int = 2
    L: int = 2
    d: int = 2
    n_anchor_per_component: int = 50
    n_synthetic: int = 200
    anchor_fit_components: str = "K"
    synthetic_fit_components: str = "K+J+L"
    mean_low: float = 0.0
    mean_high: float = 10.0
    gap: float = 0.0
    covariance: str = "random_spd"
    covariance_scale: float = 1.0
    covariance_ridge: float = 1e-6
    noise: float = 0.0
    scale: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "K", check_int(self.K, "K", low=1))
        set_(self, "J", check_int(self.J, "J", low=0))
        set_(self, "L", check_int(self.L, "L", low=0))
        set_(self, "d", check_int(self.d, "d", low=1))
        set_(self, "n_anchor_per_component",
             check_int(self.n_anchor_per_component, "n_anchor_per_component", low=2))
        set_(self, "n_synthetic", check_int(self.n_synthetic, "n_synthetic", low=1))
        for name in ("anchor_fit_components", "synthetic_fit_components"):
            check_choice(getattr(self, name), name, FIT_COMPONENTS)
        for name in ("mean_low", "mean_high", "gap"):
            set_(self, name, check_real(getattr(self, name), name))
        if not self.mean_low < self.mean_high:
            raise ValidationError(
                f"`mean_low` must be below `mean_high`. Got mean_low={self.mean_low:g}, "
                f"mean_high={self.mean_high:g} instead; swap them."
            )
        check_choice(self.covariance, "covariance", COVARIANCE_MODELS)
        set_(self, "covariance_scale",
             check_real(self.covariance_scale, "covariance_scale", low=0.0, closed="right"))
        set_(self, "covariance_ridge",
             check_real(self.covariance_ridge, "covariance_ridge", low=0.0))
        set_(self, "noise", check_real(self.noise, "noise", low=0.0))
        set_(self, "scale", check_real(self.scale, "scale", low=0.0, closed="right"))
        if self.seed is not None:
            set_(self, "seed", check_int(self.seed, "seed", low=0))
        self._check_fit_sizes()

    def _check_fit_sizes(self) -> None:
        n_anchor = self.K * self.n_anchor_per_component
        if self.k_anchor_fit > n_anchor:
            raise ValidationError(
                f"`anchor_fit_components`={self.anchor_fit_components!r} asks for "
                f"{self.k_anchor_fit} components but there are only {n_anchor} anchor points "
                "(K * n_anchor_per_component); raise n_anchor_per_component."
            )
        if self.n_synthetic < self.k_synthetic_fit:
            raise ValidationError(
                f"`n_synthetic` must be at least the synthetic fit's component count "
                f"({self.synthetic_fit_components} = {self.k_synthetic_fit}). "
                f"Got {self.n_synthetic} instead; raise n_synthetic."
            )

    def _count(self, expr: str) -> int:
        return {"K": self.K, "K+J": self.K + self.J, "K+J+L": self.K + self.J + self.L}[expr]

    @property
    def k_anchor_fit(self) -> int:
        """Number of components fitted to the anchors."""
        return self._count(self.anchor_fit_components)

    @property
    def k_synthetic_fit(self) -> int:
        """Number of components fitted to the synthetic data."""
        return self._count(self.synthetic_fit_components)

    @property
    def noise_sd(self) -> float:
        """Standard deviation of the curation noise in the simulation's coordinates,
        ``noise * scale``."""
        return self.noise * self.scale

    @property
    def n_anchor(self) -> int:
        """Total number of anchor points, ``K * n_anchor_per_component``."""
        return self.K * self.n_anchor_per_component

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (``Setup(**s.to_dict()) == s``)."""
        return asdict(self)

    def replace(self, **changes: Any) -> Setup:
        """A copy with some fields changed (validated again)."""
        return Setup(**{**self.to_dict(), **changes})

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of all fields, in declaration order."""
        return tuple(f.name for f in fields(cls))
