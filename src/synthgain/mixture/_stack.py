"""A stack of Gaussian mixtures of one shape: batched log-densities, log-ratios and draws.

:class:`MixtureStack` is the one batched mixture log-density of synthgain. The Monte
Carlo estimators of the KL-gap protocol, the theory's risks and EM's E-step reach the
same kernels through it or through :mod:`._kernels`: the compiled loops of
:mod:`._fast` when numba is installed (and ``SYNTHGAIN_DISABLE_NUMBA`` is not set), the
NumPy quadratic-feature kernel of :func:`._kernels.quadratic_coefficients` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_array, check_int
from ..exceptions import ValidationError
from . import _fast, _kernels
from ._gaussian_mixture import GaussianMixture

__all__ = ["MixtureStack"]

KERNELS = ("auto", "compiled", "numpy", "exact")
# floats per block of the NumPy kernel's (B, k + F, m) arrays: bounds its memory
_POINT_BUDGET = 4_000_000


class MixtureStack:
    r"""B Gaussian mixtures with the same number of components ``k`` in ``d`` dimensions.

    .. math:: p_b(x) = \sum_{j=1}^k w_{bj} \, \mathcal N(x \mid \mu_{bj}, \Sigma_{bj})

    Parameters
    ----------
    weights : array_like, shape (B, k)
        Non-negative weights of each mixture, summing to 1 (rescaled if not).
    means : array_like, shape (B, k, d)
    covariances : array_like, shape (B, k, d, d)
        Symmetric positive definite matrices.

    Notes
    -----
    Build one with :meth:`from_mixtures` (a list of :class:`GaussianMixture`) or
    :meth:`from_fit` (a :class:`~synthgain.mixture.BatchFit`). The arrays are checked
    for shape and positive definiteness (a Cholesky factorisation), not for symmetry.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.mixture import GaussianMixture, MixtureStack
    >>> gm = GaussianMixture([0.5, 0.5], [[0.0], [3.0]], [[[1.0]], [[1.0]]])
    >>> stack = MixtureStack.from_mixtures([gm, gm])
    >>> x = stack.sample(5, rng=0)
    >>> x.shape, stack.logpdf(x).shape
    ((2, 5, 1), (2, 5))
    """

    def __init__(self, weights: Any, means: Any, covariances: Any) -> None:
        m = check_array(means, "means", ndim=3, min_rows=1)
        b, k, d = m.shape
        w = check_array(weights, "weights", ndim=2)
        c = check_array(covariances, "covariances", ndim=4)
        if w.shape != (b, k) or c.shape != (b, k, d, d):
            raise ValidationError(
                f"`weights` and `covariances` must have shapes (B, k) = ({b}, {k}) and "
                f"(B, k, d, d) = ({b}, {k}, {d}, {d}) from `means`. Got {w.shape} and "
                f"{c.shape} instead."
            )
        if np.any(w < 0) or np.any(w.sum(axis=1) <= 0):
            raise ValidationError("`weights` must be non-negative with a positive sum per mixture.")
        try:
            self._set(w / w.sum(axis=1, keepdims=True), m, c)
        except np.linalg.LinAlgError:
            raise ValidationError(
                "`covariances` must be positive definite; add a ridge (C + eps * I)."
            ) from None

    def _set(self, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> None:
        self._weights = np.ascontiguousarray(weights, dtype=np.float64)
        self._means = np.ascontiguousarray(means, dtype=np.float64)
        self._covariances = np.ascontiguousarray(covariances, dtype=np.float64)
        self._chol, self._prec, self._logdet = _kernels.cholesky_factors(self._covariances)
        with np.errstate(divide="ignore"):
            self._log_w = np.log(self._weights)

    @classmethod
    def _trusted(cls, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray,
                 factors: tuple[np.ndarray, ...] | None = None) -> MixtureStack:
        """Build without checks (parameters of synthgain's own mixtures and fits)."""
        obj = cls.__new__(cls)
        if factors is None:
            obj._set(weights, means, covariances)
        else:
            obj._weights, obj._means, obj._covariances = weights, means, covariances
            obj._log_w, obj._chol, obj._prec, obj._logdet = factors
        return obj

    @classmethod
    def from_mixtures(cls, mixtures: Sequence[GaussianMixture]) -> MixtureStack:
        """The stack of ``mixtures`` (all with the same ``n_components`` and ``dim``)."""
        mixtures = list(mixtures)
        if not mixtures or not all(isinstance(m, GaussianMixture) for m in mixtures):
            raise ValidationError("`mixtures` must be a non-empty list of GaussianMixture.")
        shapes = {(m.n_components, m.dim) for m in mixtures}
        if len(shapes) != 1:
            raise ValidationError(
                "`mixtures` must share one number of components and one dimension. "
                f"Got (n_components, dim) = {sorted(shapes)}."
            )
        return cls._trusted(np.stack([m.weights for m in mixtures]),
                            np.stack([m.means for m in mixtures]),
                            np.stack([m.covariances for m in mixtures]))

    @classmethod
    def from_fit(cls, fit: Any) -> MixtureStack:
        """The stack of the mixtures of a :class:`~synthgain.mixture.BatchFit`."""
        return cls._trusted(np.asarray(fit.weights), np.asarray(fit.means),
                            np.asarray(fit.covariances))

    # -- parameters --------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Weights, shape (B, k)."""
        return self._weights

    @property
    def means(self) -> np.ndarray:
        """Means, shape (B, k, d)."""
        return self._means

    @property
    def covariances(self) -> np.ndarray:
        """Covariances, shape (B, k, d, d)."""
        return self._covariances

    @property
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of the covariances, shape (B, k, d, d)."""
        return self._chol

    @property
    def precisions_cholesky(self) -> np.ndarray:
        """Upper Cholesky factors of the precisions, shape (B, k, d, d)."""
        return self._prec

    @property
    def n_components(self) -> int:
        return int(self._means.shape[1])

    @property
    def dim(self) -> int:
        return int(self._means.shape[2])

    def __len__(self) -> int:
        return int(self._means.shape[0])

    def __repr__(self) -> str:
        return f"MixtureStack(n_mixtures={len(self)}, n_components={self.n_components}, dim={self.dim})"

    def __getitem__(self, b: int) -> GaussianMixture:
        """Mixture ``b`` as a :class:`GaussianMixture`."""
        return GaussianMixture._from_trusted(self._weights[b], self._means[b],
                                             self._covariances[b])

    def take(self, sl: slice) -> MixtureStack:
        """The mixtures ``sl`` of the stack (views; no refactorisation)."""
        return MixtureStack._trusted(
            self._weights[sl], self._means[sl], self._covariances[sl],
            (self._log_w[sl], self._chol[sl], self._prec[sl], self._logdet[sl]))

    # -- densities -----------------------------------------------------------------------
    def _points(self, x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 2:
            arr = np.broadcast_to(arr, (len(self), *arr.shape))
        if arr.ndim != 3 or arr.shape[0] != len(self) or arr.shape[2] != self.dim:
            raise ValidationError(
                f"`x` must have shape (B, n, d) = ({len(self)}, n, {self.dim}) or (n, {self.dim}). "
                f"Got shape {arr.shape} instead."
            )
        return arr

    def _params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self._log_w, self._means, self._prec, self._logdet

    def logpdf(self, x: Any, *, kernel: str = "auto") -> np.ndarray:
        """``log p_b(x_{bi})``: log-density of the points ``x[b]`` under mixture ``b``.

        Parameters
        ----------
        x : array_like, shape (B, n, d) or (n, d)
            Points; an (n, d) array is evaluated under every mixture.
        kernel : {"auto", "compiled", "numpy", "exact"}, default "auto"
            "auto" is the compiled kernel when numba is available, else "numpy".
            "exact" is the NumPy difference form (:func:`._kernels.mixture_logpdf`,
            the kernel of :meth:`GaussianMixture.logpdf`): the most accurate and the
            slowest, with (B, n, k) intermediates.

        Returns
        -------
        ndarray, shape (B, n)

        Notes
        -----
        The compiled kernel (:func:`synthgain.mixture._fast.mixture_logpdf`) works in
        the difference form ``|(x - mu) P|^2``; the NumPy kernel expands the quadratic
        form over the features ``(1, x, x x^T)`` of points centred on the mixture's
        mean component location (:func:`._kernels.quadratic_coefficients`), one matrix
        product per block. They agree to about 1e-12 relative for well-conditioned
        covariances; the difference form is the more accurate one when a covariance is
        nearly singular.
        """
        arr = self._points(x)
        if self._use_compiled(kernel):
            return _fast.mixture_logpdf(arr, *self._params())
        if kernel == "exact":
            return _kernels.mixture_logpdf(arr, *self._params())[0]
        return self._logpdf_numpy(arr)

    def log_ratio(self, x: Any, other: MixtureStack, *, kernel: str = "auto") -> np.ndarray:
        """``log p_b(x_{bi}) - log q_b(x_{bi})`` with p this stack and q ``other``, (B, n).

        One fused pass (:func:`synthgain.mixture._fast.mixture_log_ratio`, one logarithm
        per point) with the compiled kernel, else the difference of two :meth:`logpdf`
        calls with ``kernel``; they agree up to rounding.
        """
        if not isinstance(other, MixtureStack) or len(other) != len(self) or other.dim != self.dim:
            raise ValidationError(
                f"`other` must be a MixtureStack of {len(self)} mixtures in d = {self.dim}."
            )
        arr = self._points(x)
        if self._use_compiled(kernel):
            return _fast.mixture_log_ratio(arr, self._params(), other._params())
        return self.logpdf(arr, kernel=kernel) - other.logpdf(arr, kernel=kernel)

    @staticmethod
    def _use_compiled(kernel: str) -> bool:
        if kernel not in KERNELS:
            raise ValidationError(f"`kernel` must be one of {list(KERNELS)}. Got {kernel!r}.")
        if kernel == "compiled" and not _fast.ENABLED:
            raise ValidationError(
                "kernel='compiled' needs numba (pip install synthgain[fast]) and "
                "SYNTHGAIN_DISABLE_NUMBA unset; use kernel='numpy' or 'auto'."
            )
        return kernel == "compiled" or (kernel == "auto" and _fast.ENABLED)

    def _logpdf_numpy(self, x: np.ndarray) -> np.ndarray:
        """NumPy kernel of :meth:`logpdf`, in blocks of points (no argument checking)."""
        b, n, _ = x.shape
        shift = self._means.mean(axis=1, keepdims=True)  # (B, 1, d)
        coef = _kernels.quadratic_coefficients(self._log_w, self._means - shift, self._prec,
                                               self._logdet, triangle=True)  # (B, k, F)
        step = max(1, _POINT_BUDGET // max(1, b * (coef.shape[1] + coef.shape[2])))
        out = np.empty((b, n))
        for lo in range(0, n, step):
            feats = _kernels.quadratic_features(x[:, lo : lo + step] - shift, triangle=True,
                                                transpose=True)  # (B, F, m)
            w = coef @ feats  # (B, k, m): the reduction over k runs along a non-last axis
            out[:, lo : lo + step] = _kernels.logsumexp(w, axis=1)
        return out

    # -- sampling ------------------------------------------------------------------------
    def draw(self, b: int, gen: np.random.Generator, n: int, *, group: int | None = None,
             out: np.ndarray | None = None) -> np.ndarray:
        """``n`` points (n, d) of mixture ``b`` from ``gen``, in rounds of ``group`` points.

        Each round (all ``n`` points by default; the last may be shorter) draws its
        component counts ``gen.multinomial(c, weights)`` and then
        ``gen.standard_normal((c, d))``; its points come in component order (the points
        of a round are exchangeable, so the order carries no information; it keeps the
        blocks of the compiled log-density kernel local). The compiled draw
        (:func:`synthgain.mixture._fast.draw_mixture`) gives the same points (bit for
        bit in d <= 2, to 1e-14 in d = 3). ``out``, if given, receives the points.
        """
        n = check_int(n, "n", low=0)
        k, d = self.n_components, self.dim
        if out is None:
            out = np.empty((n, d))
        w = np.asarray(self._weights[b], dtype=np.float64)
        w = w / w.sum()
        means, chol = self._means[b], self._chol[b]
        group = n if group is None else max(1, int(group))
        if _fast.ENABLED:
            return _fast.draw_mixture(gen, w, means, chol, out, group)
        for lo in range(0, n, group):
            c = min(group, n - lo)
            labels = np.repeat(np.arange(k), gen.multinomial(c, w))
            out[lo : lo + c] = _kernels.sample_gaussians(gen, means, chol, labels)
        return out

    def sample(self, n: int, *, rng: RNGLike = None, group: int | None = None) -> np.ndarray:
        """``n`` points of every mixture, shape (B, n, d); mixture ``b`` is drawn by
        :meth:`draw` from ``child_generator(rng, b)``, so its points do not depend on
        the other mixtures of the stack."""
        n = check_int(n, "n", low=0)
        root = seed_sequence(rng)
        out = np.empty((len(self), n, self.dim))
        for b in range(len(self)):
            self.draw(b, child_generator(root, b), n, group=group, out=out[b])
        return out
