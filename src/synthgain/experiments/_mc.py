"""Monte Carlo machinery of the KL Gap: seeds, batched fits, batched mixtures and draws.

Private to :mod:`synthgain.experiments.klgap`, which documents the estimators. The
batched log-density uses the compiled kernel of :mod:`synthgain.mixture._fast` when numba
is installed and the NumPy kernel of :meth:`_Stack.logpdf_numpy` otherwise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._rng import RNGLike, check_rng
from ..mixture import GaussianMixture, MixtureFit, _fast, _kernels, fit_gmm_batched
from ..process import Simulation

_POINT_BUDGET = 4_000_000  # floats per batched log-density block (NumPy kernel)
_LOG2 = math.log(2.0)

# children of a setting's SeedSequence; the evaluation draws of G, pi_anchor and pi_gen
# use children 0, 1, 2 of _EVAL
_SIM, _FIT_ANCHOR, _FIT_SYN, _EVAL = range(4)


# --- seeds ------------------------------------------------------------------------------


def _child(ss: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """Child ``i`` of ``ss``, the same whatever ``ss.spawn`` was called before."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)


def setting_seed(ss: np.random.SeedSequence) -> str:
    """A setting's seed as text, ``"<entropy>:<spawn key>"`` (recorded in every row)."""
    return f"{ss.entropy}:{'.'.join(str(k) for k in ss.spawn_key)}"


# --- fits -------------------------------------------------------------------------------


def _fit_stack(x: np.ndarray, k: int, seeds: Sequence[np.random.SeedSequence]) -> list[MixtureFit]:
    """Fit B datasets (B, n, d) at once, dataset b seeded by ``seeds[b]`` alone.

    scikit-learn's defaults, as the authors used them: full covariances, one k-means
    initialisation, ``tol = 1e-3``, ``reg_covar = 1e-6``, ``max_iter = 100``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported per setting as *_converged
        fit = fit_gmm_batched(x, k, rng=list(seeds), n_init=1, max_iter=100, tol=1e-3,
                              reg_covar=1e-6, init="kmeans")
    return [fit[b] for b in range(len(fit))]


def fit_simulation(sim: Simulation, *, rng: RNGLike = None) -> tuple[MixtureFit, MixtureFit]:
    """Fit ``pi_anchor`` to the anchors and ``pi_gen`` to the synthetic data.

    With ``rng`` a setting's SeedSequence, the fits equal those :func:`run_settings`
    makes for that setting.

    Returns
    -------
    anchor_fit, synthetic_fit : MixtureFit
    """
    ss = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(
        check_rng(rng).integers(0, 2**63 - 1, size=2, dtype=np.int64).tolist()
    )
    s = sim.setup
    a = _fit_stack(sim.anchors[None], s.k_anchor_fit, [_child(ss, _FIT_ANCHOR)])[0]
    g = _fit_stack(sim.synthetic[None], s.k_synthetic_fit, [_child(ss, _FIT_SYN)])[0]
    return a, g


# --- batched mixtures and sampling -------------------------------------------------------


@dataclass(frozen=True)
class _Stack:
    """B mixtures with the same number of components, as stacked arrays."""

    log_w: np.ndarray  # (B, k)
    means: np.ndarray  # (B, k, d)
    chol: np.ndarray  # (B, k, d, d)
    prec: np.ndarray  # (B, k, d, d)
    logdet: np.ndarray  # (B, k)

    @classmethod
    def of(cls, mixtures: Sequence[GaussianMixture]) -> _Stack:
        with np.errstate(divide="ignore"):
            log_w = np.log(np.stack([m.weights for m in mixtures]))
        means = np.stack([m.means for m in mixtures])
        chol, prec, logdet = _kernels.cholesky_factors(np.stack([m.covariances for m in mixtures]))
        return cls(log_w, means, chol, prec, logdet)

    def take(self, sl: slice) -> _Stack:
        """The mixtures ``sl`` of the stack."""
        return _Stack(self.log_w[sl], self.means[sl], self.chol[sl], self.prec[sl],
                      self.logdet[sl])

    def log_ratio(self, other: _Stack, x: np.ndarray) -> np.ndarray:
        """``log p_b(x) - log q_b(x)`` (B, N) with p this stack and q ``other``.

        One fused pass (:func:`synthgain.mixture._fast.mixture_log_ratio`) when numba is
        available, else the difference of two :meth:`logpdf_numpy` calls.
        """
        if _fast.ENABLED:
            return _fast.mixture_log_ratio(
                x, (self.log_w, self.means, self.prec, self.logdet),
                (other.log_w, other.means, other.prec, other.logdet))
        return self.logpdf_numpy(x) - other.logpdf_numpy(x)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of x (B, N, d) under mixture b; returns (B, N).

        The compiled kernel (:func:`synthgain.mixture._fast.mixture_logpdf`) when numba
        is available, else :meth:`logpdf_numpy`; the two agree to about 1e-12 relative
        for well-conditioned covariances (the compiled difference form is the more
        accurate one when a covariance is nearly singular).
        """
        if _fast.ENABLED:
            return _fast.mixture_logpdf(x, self.log_w, self.means, self.prec, self.logdet)
        return self.logpdf_numpy(x)

    def logpdf_numpy(self, x: np.ndarray) -> np.ndarray:
        """NumPy kernel of :meth:`logpdf`, in point blocks; returns (B, N).

        One matrix product per block: with quadratic features ``f(x) = (1, x_i, x_i x_j)``
        (``i <= j``), ``log w_k + log N(x | mu_k, Sigma_k) = f(x) . c_k`` (see
        :meth:`_coefficients`), then a log-sum-exp over components. Points are centred
        on the mixture's mean component location first, which keeps the expansion of
        ``(x - mu)^T Lambda (x - mu)`` accurate.
        """
        b, n, d = x.shape
        shift = self.means.mean(axis=1, keepdims=True)  # (B, 1, d)
        coef = np.ascontiguousarray(np.swapaxes(self._coefficients(shift), 1, 2))  # (B, k, F)
        iu, ju = np.triu_indices(d)
        step = max(1, _POINT_BUDGET // max(1, b * (coef.shape[1] + coef.shape[2])))
        out = np.empty((b, n))
        for lo in range(0, n, step):
            xc = x[:, lo : lo + step] - shift  # (B, m, d)
            feats = np.empty((b, coef.shape[2], xc.shape[1]))  # (B, F, m)
            feats[:, 0] = 1.0
            cols = [np.ascontiguousarray(xc[..., i]) for i in range(d)]
            for a in range(d):
                feats[:, 1 + a] = cols[a]
            for f, (a, c) in enumerate(zip(iu.tolist(), ju.tolist(), strict=True)):
                np.multiply(cols[a], cols[c], out=feats[:, 1 + d + f])
            w = coef @ feats  # (B, k, m): reductions over k run along a non-last axis
            out[:, lo : lo + step] = _kernels.logsumexp(w, axis=1)
        return out

    def _coefficients(self, shift: np.ndarray) -> np.ndarray:
        """Coefficients (B, 1 + d + d(d+1)/2, k) of the quadratic features.

        ``log N(x | mu, Sigma) = -d/2 log 2pi + log det P - (x - mu)^T Lam (x - mu) / 2``
        with ``Lam = P P^T``; expanded: constant ``-mu^T Lam mu / 2``, linear ``Lam mu``,
        quadratic ``-Lam_ii / 2`` and ``-Lam_ij`` for ``i < j``.
        """
        d = self.means.shape[2]
        lam = self.prec @ np.swapaxes(self.prec, 2, 3)  # (B, k, d, d)
        mu = self.means - shift  # (B, k, d)
        lam_mu = np.einsum("bkij,bkj->bki", lam, mu)
        const = (self.log_w + self.logdet - 0.5 * d * _kernels.LOG_2PI
                 - 0.5 * np.einsum("bki,bki->bk", mu, lam_mu))
        iu, ju = np.triu_indices(d)
        quad = -lam[..., iu, ju] * np.where(iu == ju, 0.5, 1.0)  # (B, k, d(d+1)/2)
        return np.swapaxes(np.concatenate([const[..., None], lam_mu, quad], axis=2), 1, 2)


def _draw(gen: np.random.Generator, m: GaussianMixture, n: int, *, group: int | None = None,
          out: np.ndarray | None = None) -> np.ndarray:
    """``n`` points (n, d) of ``m`` from ``gen``, in rounds of ``group`` points (all by
    default; the last round may be shorter).

    Each round draws its component counts ``gen.multinomial(c, weights)`` and then
    ``gen.standard_normal((c, d))``; its points come in component order (the points of a
    round are exchangeable, so the order carries no information; it keeps the blocks of
    the compiled log-density kernel local). The compiled kernel
    (:func:`synthgain.mixture._fast.draw_mixture`) gives the same points (bit for bit in
    d <= 2).
    ``out``, if given, receives the points.
    """
    k, d = m.n_components, m.dim
    if out is None:
        out = np.empty((n, d))
    w = np.asarray(m.weights, dtype=np.float64)
    w = w / w.sum()
    group = n if group is None else max(1, int(group))
    if _fast.ENABLED:
        return _fast.draw_mixture(gen, w, m.means, m.cholesky, out, group)
    for lo in range(0, n, group):
        c = min(group, n - lo)
        labels = np.repeat(np.arange(k), gen.multinomial(c, w))
        out[lo : lo + c] = _kernels.sample_gaussians(gen, m.means, m.cholesky, labels)
    return out


# --- measure kernels (no argument checking) ----------------------------------------------


def _mc_round_values(lp_p: np.ndarray, lq_p: np.ndarray, lp_q: np.ndarray, lq_q: np.ndarray,
                     measure: str) -> np.ndarray:
    """Per-round Monte Carlo estimate of D(p, q); inputs (..., R, n) log-densities.

    ``lp_p = log p(x)``, ``lq_p = log q(x)`` at ``x ~ p``; ``lp_q``, ``lq_q`` at ``x ~ q``.
    KL(p||q) = E_p[log p - log q]; JS = (E_p[log 2p/(p+q)] + E_q[log 2q/(p+q)]) / 2;
    TV = (E_p[(1 - q/p)_+] + E_q[(1 - p/q)_+]) / 2 (both expectations equal TV).
    """
    if measure == "kl":
        return np.mean(lp_p - lq_p, axis=-1)
    if measure == "kl_reverse":
        return np.mean(lq_q - lp_q, axis=-1)
    if measure == "js":
        m_p = np.logaddexp(lp_p, lq_p) - _LOG2
        m_q = np.logaddexp(lp_q, lq_q) - _LOG2
        return 0.5 * (np.mean(lp_p - m_p, axis=-1) + np.mean(lq_q - m_q, axis=-1))
    tv_p = np.maximum(0.0, -np.expm1(np.minimum(lq_p - lp_p, 0.0)))
    tv_q = np.maximum(0.0, -np.expm1(np.minimum(lp_q - lq_q, 0.0)))
    return 0.5 * (np.mean(tv_p, axis=-1) + np.mean(tv_q, axis=-1))
