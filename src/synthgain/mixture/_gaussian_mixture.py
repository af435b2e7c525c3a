"""A Gaussian mixture with known parameters: density, sampling, scikit-learn interop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_int
from ..exceptions import ValidationError
from . import _kernels

if TYPE_CHECKING:  # pragma: no cover
    from ._stack import MixtureStack

__all__ = ["GaussianMixture"]

_WEIGHT_TOL = 1e-8
_SYMMETRY_TOL = 1e-10


def _check_weights(weights: Any, k: int | None, normalize: bool) -> np.ndarray:
    w = check_array(weights, "weights", ndim=1, min_rows=1)
    if k is not None and w.shape[0] != k:
        raise ValidationError(
            f"`weights` must have one entry per component ({k}, from `means`). "
            f"Got {w.shape[0]} instead."
        )
    if np.any(w < 0):
        j = int(np.argmin(w))
        raise ValidationError(
            f"`weights` must be non-negative. Got weights[{j}] = {w[j]:g} instead."
        )
    total = float(w.sum())
    if normalize:
        if total <= 0:
            raise ValidationError("`weights` must have a positive sum to be normalised. Got 0.")
        return w / total
    if abs(total - 1.0) > _WEIGHT_TOL:
        raise ValidationError(
            f"`weights` must sum to 1 (within {_WEIGHT_TOL:g}). Got a sum of {total!r} instead; "
            "pass normalize=True to rescale them."
        )
    return w


def _check_covariances(covariances: Any, k: int, d: int) -> np.ndarray:
    c = check_array(covariances, "covariances", ndim=3)
    if c.shape != (k, d, d):
        raise ValidationError(
            f"`covariances` must have shape (n_components, dim, dim) = ({k}, {d}, {d}). "
            f"Got {c.shape} instead."
        )
    scale = np.maximum(np.max(np.abs(c), axis=(1, 2)), 1.0)
    asym = np.max(np.abs(c - np.swapaxes(c, 1, 2)), axis=(1, 2)) / scale
    if np.any(asym > _SYMMETRY_TOL):
        j = int(np.argmax(asym))
        raise ValidationError(
            f"`covariances[{j}]` must be symmetric. Its largest |C - C^T| relative to its "
            f"largest entry is {asym[j]:.3g}; symmetrise it with (C + C.T) / 2."
        )
    eig_min = np.linalg.eigvalsh(c)[:, 0]
    if np.any(eig_min <= 0):
        j = int(np.argmin(eig_min))
        raise ValidationError(
            f"`covariances[{j}]` must be positive definite. Its smallest eigenvalue is "
            f"{eig_min[j]:.6g}; add a ridge (C + eps * I) or rebuild it as A @ A.T."
        )
    return c


class GaussianMixture:
    r"""A finite mixture of multivariate Gaussians with known parameters.

    .. math:: p(x) = \sum_{j=1}^k w_j \, \mathcal N(x \mid \mu_j, \Sigma_j)

    Parameters
    ----------
    weights : array_like, shape (k,)
        Non-negative mixing weights summing to 1 (within 1e-8).
    means : array_like, shape (k, d)
    covariances : array_like, shape (k, d, d)
        Symmetric positive definite matrices.
    normalize : bool, default False
        Rescale ``weights`` to sum to 1 instead of rejecting them.

    Attributes
    ----------
    cholesky : ndarray, shape (k, d, d)
        Lower Cholesky factors of the covariances (computed once).
    precisions_cholesky : ndarray, shape (k, d, d)
        Upper Cholesky factors of the precisions, scikit-learn's convention.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.mixture import GaussianMixture
    >>> gm = GaussianMixture([0.5, 0.5], [[0.0], [3.0]], [[[1.0]], [[1.0]]])
    >>> x, labels = gm.sample(4, rng=0)
    >>> gm.logpdf(x).shape
    (4,)
    """

    def __init__(
        self,
        weights: Any,
        means: Any,
        covariances: Any,
        *,
        normalize: bool = False,
    ) -> None:
        m = check_array(means, "means", ndim=2, min_rows=1)
        k, d = m.shape
        if d < 1:
            raise ValidationError("`means` must have at least one column (dimension >= 1).")
        self._weights = _check_weights(weights, k, normalize)
        self._means = m
        self._covariances = _check_covariances(covariances, k, d)
        self._set_factors()

    @classmethod
    def _from_trusted(
        cls, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
    ) -> GaussianMixture:
        """Build without validation (parameters produced by synthgain's own fits)."""
        obj = cls.__new__(cls)
        obj._weights = np.ascontiguousarray(weights, dtype=np.float64)
        obj._means = np.ascontiguousarray(means, dtype=np.float64)
        obj._covariances = np.ascontiguousarray(covariances, dtype=np.float64)
        obj._set_factors()
        return obj

    def _set_factors(self) -> None:
        try:
            chol, prec, logdet = _kernels.cholesky_factors(self._covariances)
        except np.linalg.LinAlgError:  # pragma: no cover - guarded by validation
            raise ValidationError(
                "`covariances` are not numerically positive definite; add a ridge."
            ) from None
        for arr in (self._weights, self._means, self._covariances, chol, prec, logdet):
            arr.setflags(write=False)
        self._chol, self._prec_chol, self._log_det_prec_chol = chol, prec, logdet
        with np.errstate(divide="ignore"):
            self._log_weights = np.log(self._weights)

    # -- parameters ---------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Mixing weights, shape (k,)."""
        return self._weights

    @property
    def means(self) -> np.ndarray:
        """Component means, shape (k, d)."""
        return self._means

    @property
    def covariances(self) -> np.ndarray:
        """Component covariances, shape (k, d, d)."""
        return self._covariances

    @property
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of the covariances, shape (k, d, d)."""
        return self._chol

    @property
    def precisions_cholesky(self) -> np.ndarray:
        """Upper Cholesky factors of the precision matrices, shape (k, d, d)."""
        return self._prec_chol

    @property
    def n_components(self) -> int:
        """Number of components ``k``."""
        return int(self._means.shape[0])

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the space."""
        return int(self._means.shape[1])

    def __repr__(self) -> str:
        return f"GaussianMixture(n_components={self.n_components}, dim={self.dim})"

    # -- densities ------------------------------------------------------------------
    def _check_points(self, x: Any) -> np.ndarray:
        arr = check_array(x, "x", ndim=(1, 2))
        if arr.ndim == 1:
            if self.dim == 1:
                arr = arr[:, None]
            elif arr.shape[0] == self.dim:
                arr = arr[None, :]
            else:
                raise ValidationError(
                    f"`x` must have shape (n, {self.dim}). Got shape {arr.shape} instead."
                )
        if arr.shape[1] != self.dim:
            raise ValidationError(
                f"`x` must have {self.dim} columns, the mixture's dimension. "
                f"Got shape {arr.shape} instead."
            )
        return arr

    def component_logpdf(self, x: Any) -> np.ndarray:
        """``log N(x_i | mu_j, Sigma_j)`` for every point and component, shape (n, k)."""
        arr = self._check_points(x)
        return _kernels.component_logpdf(
            arr, self._means, self._prec_chol, self._log_det_prec_chol
        )

    def logpdf(self, x: Any) -> np.ndarray:
        """Log-density at each row of ``x`` (shape (n, d)), computed with log-sum-exp.

        The "exact" kernel of :meth:`MixtureStack.logpdf` (the NumPy difference form)
        on the stack of this one mixture; for many points or many mixtures at once use
        a :class:`MixtureStack`, whose default kernel is the compiled one.
        """
        arr = self._check_points(x)
        return self.as_stack().logpdf(arr[None], kernel="exact")[0]

    def as_stack(self) -> MixtureStack:
        """This mixture as a :class:`MixtureStack` of one (sharing its factors)."""
        from ._stack import MixtureStack

        cached: MixtureStack | None = getattr(self, "_stack", None)
        if cached is not None:
            return cached
        self._stack = MixtureStack._trusted(
            self._weights[None], self._means[None], self._covariances[None],
            (self._log_weights[None], self._chol[None], self._prec_chol[None],
             self._log_det_prec_chol[None]))
        return self._stack

    def pdf(self, x: Any) -> np.ndarray:
        """Density at each row of ``x``."""
        return np.exp(self.logpdf(x))

    def predict_proba(self, x: Any) -> np.ndarray:
        """Posterior probability of each component given each point, shape (n, k)."""
        arr = self._check_points(x)
        logp, weighted = _kernels.mixture_logpdf(
            arr, self._log_weights, self._means, self._prec_chol, self._log_det_prec_chol
        )
        return np.exp(weighted - logp[:, None])

    # -- sampling -----------------------------------------------------------------------
    def sample(self, n: int, *, rng: RNGLike = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points.

        Returns
        -------
        x : ndarray, shape (n, d)
        labels : ndarray of int, shape (n,)
            The component each point was drawn from.
        """
        n = check_int(n, "n", low=0)
        gen = check_rng(rng)
        labels = gen.choice(self.n_components, size=n, p=self._weights)
        return _kernels.sample_gaussians(gen, self._means, self._chol, labels), labels

    def sample_components(self, labels: Any, *, rng: RNGLike = None) -> np.ndarray:
        """One point of component ``labels[i]`` for each ``i``, shape (n, d).

        The draw of :meth:`sample` with the component labels given (for example a fixed
        number of points per component): ``mu_j + L_j z`` with ``z`` standard normal.
        """
        idx = np.asarray(labels)
        if idx.ndim != 1 or (idx.size and (not np.issubdtype(idx.dtype, np.integer)
                                           or idx.min() < 0 or idx.max() >= self.n_components)):
            raise ValidationError(
                f"`labels` must be a 1-d array of component indices in [0, {self.n_components})."
            )
        return _kernels.sample_gaussians(check_rng(rng), self._means, self._chol, idx)

    # -- derived mixtures and moments ---------------------------------------------
    def subset(self, components: Sequence[int] | np.ndarray) -> GaussianMixture:
        """The mixture of the given components, their weights renormalised to sum to 1."""
        idx = np.asarray(components)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValidationError(
                f"`components` must be a non-empty list of component indices. Got {components!r}."
            )
        if idx.min() < -self.n_components or idx.max() >= self.n_components:
            raise ValidationError(
                f"`components` must be indices in [0, {self.n_components}). Got {idx.tolist()}."
            )
        w = self._weights[idx]
        if w.sum() <= 0:
            raise ValidationError("`components` selects only components of weight 0.")
        return GaussianMixture._from_trusted(w / w.sum(), self._means[idx], self._covariances[idx])

    def marginal(self, coordinates: Sequence[int] | np.ndarray) -> GaussianMixture:
        """The marginal mixture of the given coordinates (same weights; each component's
        mean and covariance restricted to them).

        Examples
        --------
        >>> import numpy as np
        >>> from synthgain.mixture import GaussianMixture
        >>> f = GaussianMixture([1.0], [[0.0, 5.0]], [[[1.0, 0.5], [0.5, 4.0]]])
        >>> m = f.marginal([1])
        >>> m.means.tolist(), m.covariances.tolist()
        ([[5.0]], [[[4.0]]])
        """
        idx = np.asarray(coordinates)
        if (idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer)
                or idx.min() < 0 or idx.max() >= self.dim):
            raise ValidationError(
                f"`coordinates` must be a non-empty list of indices in [0, {self.dim}). "
                f"Got {coordinates!r}."
            )
        return GaussianMixture._from_trusted(
            self._weights.copy(), self._means[:, idx].copy(),
            self._covariances[:, idx][:, :, idx].copy())

    def mean(self) -> np.ndarray:
        """Mean of the mixture, shape (d,)."""
        return self._weights @ self._means

    def covariance(self) -> np.ndarray:
        """Covariance of the mixture, shape (d, d) (law of total covariance)."""
        mu = self.mean()
        second = np.einsum("k,kij->ij", self._weights, self._covariances) + np.einsum(
            "k,ki,kj->ij", self._weights, self._means, self._means
        )
        return second - np.outer(mu, mu)

    # -- scikit-learn interop -----------------------------------------------------
    def to_sklearn(self) -> Any:
        """A fitted :class:`sklearn.mixture.GaussianMixture` with these parameters.

        The returned estimator has ``weights_``, ``means_``, ``covariances_``,
        ``precisions_`` and ``precisions_cholesky_`` set, so it can ``score_samples``,
        ``predict`` and ``sample``.
        """
        from sklearn.mixture import GaussianMixture as SkGM

        est = SkGM(n_components=self.n_components, covariance_type="full")
        est.weights_ = np.array(self._weights)
        est.means_ = np.array(self._means)
        est.covariances_ = np.array(self._covariances)
        est.precisions_cholesky_ = np.array(self._prec_chol)
        est.precisions_ = self._prec_chol @ np.swapaxes(self._prec_chol, 1, 2)
        est.converged_ = True
        est.n_iter_ = 0
        est.lower_bound_ = -np.inf
        est.n_features_in_ = self.dim
        return est

    @classmethod
    def from_sklearn(cls, estimator: Any) -> GaussianMixture:
        """Build from a fitted :class:`sklearn.mixture.GaussianMixture` (any covariance type)."""
        for attr in ("weights_", "means_", "covariances_"):
            if not hasattr(estimator, attr):
                raise ValidationError(
                    f"`estimator` must be a fitted sklearn GaussianMixture; it has no `{attr}`. "
                    "Call its fit() first."
                )
        means = np.asarray(estimator.means_, dtype=np.float64)
        k, d = means.shape
        cov = np.asarray(estimator.covariances_, dtype=np.float64)
        kind = getattr(estimator, "covariance_type", "full")
        if kind == "full":
            full = cov
        elif kind == "tied":
            full = np.broadcast_to(cov, (k, d, d)).copy()
        elif kind == "diag":
            full = np.einsum("kd,de->kde", cov, np.eye(d))
        elif kind == "spherical":
            full = cov[:, None, None] * np.eye(d)
        else:
            raise ValidationError(f"Unknown sklearn covariance_type {kind!r}.")
        return cls(estimator.weights_, means, full, normalize=True)
