"""Information measures between Gaussian mixtures: Monte Carlo, variational, bounds.

Kernels do no argument checking. Notation: ``f = sum_a pi_a f_a`` and
``g = sum_b w_b g_b`` are mixtures of Gaussians; ``KL_ab = KL(f_a || g_b)`` and
``z_ab = int f_a g_b = N(mu_a; mu_b, S_a + S_b)`` are the closed-form pairwise terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special

from ..exceptions import ValidationError
from ..mixture import LOG_2PI, GaussianMixture

__all__: list[str] = []

_LOG2 = math.log(2.0)
MC_MEASURES = ("kl", "kl_reverse", "js", "tv")

# A Monte Carlo "part": per-sample terms whose mean, times the weight, adds to the value.
Parts = list[tuple[float, np.ndarray]]


# --- pairwise closed forms -------------------------------------------------------------
def _logdet(chol: np.ndarray) -> np.ndarray:
    return 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def pairwise_kl(f: GaussianMixture, g: GaussianMixture) -> np.ndarray:
    """``KL(f_a || g_b)`` for every pair of components, shape (ka, kb)."""
    lf, lg = f.cholesky, g.cholesky
    d = f.dim
    # a[a, b] = L_g[b]^-1 L_f[a]; tr(S_g^-1 S_f) = ||a||_F^2
    a = np.linalg.solve(lg[None, :, :, :], np.broadcast_to(lf[:, None], (f.n_components, *lg.shape)))
    dm = g.means[None, :, :] - f.means[:, None, :]  # (ka, kb, d)
    b = np.linalg.solve(lg[None, :, :, :], dm[..., None])[..., 0]
    tr = np.einsum("abij,abij->ab", a, a)
    maha = np.einsum("abi,abi->ab", b, b)
    return 0.5 * (tr + maha - d + _logdet(lg)[None, :] - _logdet(lf)[:, None])


def pairwise_log_overlap(f: GaussianMixture, g: GaussianMixture) -> np.ndarray:
    """``log z_ab = log int f_a g_b = log N(mu_a; mu_b, S_a + S_b)``, shape (ka, kb)."""
    s = f.covariances[:, None] + g.covariances[None, :]  # (ka, kb, d, d)
    chol = np.linalg.cholesky(s)
    dm = f.means[:, None, :] - g.means[None, :, :]
    z = np.linalg.solve(chol, dm[..., None])[..., 0]
    return -0.5 * (f.dim * LOG_2PI + _logdet(chol) + np.einsum("abi,abi->ab", z, z))


def component_entropies(f: GaussianMixture) -> np.ndarray:
    """``H(f_a)`` for each component, shape (k,)."""
    return 0.5 * (f.dim * (LOG_2PI + 1.0) + _logdet(f.cholesky))


def _cross_bounds(f: GaussianMixture, g: GaussianMixture) -> tuple[float, float]:
    """Lower and upper bounds on ``L_f(g) = int f log g`` (Durrieu, Thiran & Kelly 2012).

    Lower (variational): ``sum_a pi_a [log sum_b w_b exp(-KL_ab) - H(f_a)]``.
    Upper (Jensen): ``sum_a pi_a log sum_b w_b z_ab``.
    """
    with np.errstate(divide="ignore"):
        log_w = np.log(g.weights)
    low = special.logsumexp(log_w[None, :] - pairwise_kl(f, g), axis=1) - component_entropies(f)
    high = special.logsumexp(log_w[None, :] + pairwise_log_overlap(f, g), axis=1)
    return float(f.weights @ low), float(f.weights @ high)


# --- KL approximations and bounds ------------------------------------------------------
def _hershey_olsen_variational(f: GaussianMixture, g: GaussianMixture) -> float:
    """``D_var = sum_a pi_a log(sum_a' pi_a' e^-KL(f_a||f_a') / sum_b w_b e^-KL(f_a||g_b))``.

    Hershey & Olsen (2007), ICASSP, eq. 18.
    """
    lf, _ = _cross_bounds(f, f)
    lg, _ = _cross_bounds(f, g)
    return lf - lg  # the -H(f_a) terms cancel


def _hershey_olsen_product(f: GaussianMixture, g: GaussianMixture) -> float:
    """``D_prod = sum_a pi_a log(sum_a' pi_a' z_aa' / sum_b w_b z_ab)``, Hershey & Olsen eq. 14."""
    _, uf = _cross_bounds(f, f)
    _, ug = _cross_bounds(f, g)
    return uf - ug


def _durrieu_bounds(f: GaussianMixture, g: GaussianMixture) -> tuple[float, float]:
    """``L^-_f(f) - L^+_f(g) <= KL(f||g) <= L^+_f(f) - L^-_f(g)``, clipped at 0.

    Durrieu, Thiran & Kelly (2012), ICASSP, "Lower and upper bounds for approximation of
    the Kullback-Leibler divergence between Gaussian mixture models".
    """
    lf, uf = _cross_bounds(f, f)
    lg, ug = _cross_bounds(f, g)
    return max(lf - ug, 0.0), max(uf - lg, 0.0)


def _entropy_bounds(f: GaussianMixture) -> tuple[float, float]:
    """Bounds on a mixture's entropy (Huber, Bailey, Durrant-Whyte & Hanebeck 2008).

    ``max(-L^+_f(f), sum_a pi_a H(f_a)) <= H(f) <= -L^-_f(f)
    <= sum_a pi_a (H(f_a) - log pi_a)``.
    """
    lf, uf = _cross_bounds(f, f)
    lower = max(-uf, float(f.weights @ component_entropies(f)))
    return lower, max(-lf, lower)


# --- Monte Carlo -----------------------------------------------------------------------
def mc_entropy_parts(f: GaussianMixture, n: int, gen: np.random.Generator) -> Parts:
    """``H = E_f[-log f(X)]``."""
    x, _ = f.sample(n, rng=gen)
    return [(1.0, -f.logpdf(x))]


def mc_divergence_parts(measure: str, lp_p: np.ndarray, lq_p: np.ndarray,
                        lp_q: np.ndarray | None = None,
                        lq_q: np.ndarray | None = None) -> Parts:
    """Monte Carlo parts of ``D(p, q)`` from log-densities, batched over leading axes.

    ``lp_p = log p(x)`` and ``lq_p = log q(x)`` at ``x ~ p``; ``lp_q``, ``lq_q`` the same
    at ``y ~ q`` (shapes (..., n); only the measures that need them read them). The
    estimate is ``sum_j w_j mean(t_j, axis=-1)`` over the returned parts ``(w_j, t_j)``
    (:func:`parts_mean`, :func:`parts_mean_stderr`); this is the one Monte Carlo
    divergence kernel of synthgain, used by the measures and by the KL-gap protocol.

    * "kl": ``KL(p||q) = E_p[log p - log q]``.
    * "kl_reverse": ``KL(q||p) = E_q[log q - log p]``.
    * "js": ``E_p[log p - log m] / 2 + E_q[log q - log m] / 2``, ``m = (p + q) / 2``.
    * "tv": ``E_p[(1 - q/p)_+]``, one-sided when ``lp_q`` is None; else
      ``(E_p[(1 - q/p)_+] + E_q[(1 - p/q)_+]) / 2`` (both expectations equal TV; their
      mean has the smaller variance).
    """
    if measure == "kl":
        return [(1.0, lp_p - lq_p)]
    if lp_q is None or lq_q is None:
        if measure == "tv":
            return [(1.0, _tv_terms(lp_p, lq_p))]
        raise ValidationError(f"measure {measure!r} needs the log-densities at points of q.")
    if measure == "kl_reverse":
        return [(1.0, lq_q - lp_q)]
    if measure == "js":
        return [(0.5, lp_p - (np.logaddexp(lp_p, lq_p) - _LOG2)),
                (0.5, lq_q - (np.logaddexp(lp_q, lq_q) - _LOG2))]
    if measure == "tv":
        return [(0.5, _tv_terms(lp_p, lq_p)), (0.5, _tv_terms(lq_q, lp_q))]
    raise ValidationError(f"`measure` must be one of {list(MC_MEASURES)}. Got {measure!r}.")


def _tv_terms(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """``(1 - q/p)_+`` at points of p from ``log p`` and ``log q``."""
    return np.maximum(0.0, -np.expm1(np.minimum(lq - lp, 0.0)))


def parts_mean(parts: Parts) -> np.ndarray:
    """``sum_j w_j mean(t_j, axis=-1)``: the estimate of each leading index, (...)."""
    return sum(w * np.mean(t, axis=-1) for w, t in parts)  # type: ignore[return-value]


def mc_divergence_rows(measure: str, lp_p: np.ndarray, lq_p: np.ndarray,
                       lp_q: np.ndarray | None = None,
                       lq_q: np.ndarray | None = None) -> np.ndarray:
    """Monte Carlo estimates of ``D(p, q)`` from log-densities at draws, one per row.

    The batched kernel of the Monte Carlo divergences (no argument checking): inputs of
    shape (..., n) as in :func:`mc_divergence_parts` ("kl", "kl_reverse", "js", "tv"),
    output (...), ``sum_j w_j mean(t_j, axis=-1)``. The KL-gap protocol calls it with
    one row per (setting, round).

    Examples
    --------
    Draws of ``p`` where ``log p - log q = 1`` everywhere: ``KL(p || q) = 1``:

    >>> import numpy as np
    >>> from synthgain.measures import mc_divergence_rows
    >>> mc_divergence_rows("kl", np.zeros((1, 4)), np.full((1, 4), -1.0)).tolist()
    [1.0]
    """
    return parts_mean(mc_divergence_parts(measure, lp_p, lq_p, lp_q, lq_q))


def mc_kl_parts(f: GaussianMixture, g: GaussianMixture, n: int, gen: np.random.Generator) -> Parts:
    """``KL(f||g) = E_f[log f(X) - log g(X)]``."""
    x, _ = f.sample(n, rng=gen)
    return mc_divergence_parts("kl", f.logpdf(x), g.logpdf(x))


def mc_js_parts(f: GaussianMixture, g: GaussianMixture, n: int, gen: np.random.Generator) -> Parts:
    """``JS = E_f[log f - log m]/2 + E_g[log g - log m]/2`` with ``m = (f + g)/2``."""
    x, _ = f.sample(n, rng=gen)
    y, _ = g.sample(n, rng=gen)
    return mc_divergence_parts("js", f.logpdf(x), g.logpdf(x), f.logpdf(y), g.logpdf(y))


def mc_tv_parts(f: GaussianMixture, g: GaussianMixture, n: int, gen: np.random.Generator) -> Parts:
    """``TV = E_f[max(0, 1 - g(X)/f(X))]``."""
    x, _ = f.sample(n, rng=gen)
    return mc_divergence_parts("tv", f.logpdf(x), g.logpdf(x))


def mc_block_mi_parts(
    f: GaussianMixture, iy: np.ndarray, n: int, gen: np.random.Generator
) -> Parts:
    """``I(X; Y) = E[log f(x, y) - log f_X(x) - log f_Y(y)]`` for blocks of a mixture."""
    ix = np.setdiff1d(np.arange(f.dim), iy)
    z, _ = f.sample(n, rng=gen)
    fx, fy = marginal(f, ix), marginal(f, iy)
    return [(1.0, f.logpdf(z) - fx.logpdf(z[:, ix]) - fy.logpdf(z[:, iy]))]


def mc_label_mi_parts(
    f: GaussianMixture, groups: list[np.ndarray], n: int, gen: np.random.Generator
) -> Parts:
    """``I(Z; X) = H(Z) - E_X[H(Z | X)]`` for the (grouped) component label Z.

    The posterior entropy is averaged over points drawn from the mixture; ``H(Z)`` is
    exact. Averaging the posterior entropy (rather than ``log P(z|x) - log P(z)`` at the
    drawn label) is the Rao-Blackwellised form, with a smaller variance.
    """
    x, _ = f.sample(n, rng=gen)
    resp = f.predict_proba(x)
    post = np.stack([resp[:, g].sum(axis=1) for g in groups], axis=1)
    prior = np.array([f.weights[g].sum() for g in groups])
    h_z = float(special.entr(prior).sum())
    return [(1.0, h_z - special.entr(post).sum(axis=1))]


def marginal(f: GaussianMixture, idx: np.ndarray) -> GaussianMixture:
    """The marginal mixture of the coordinates ``idx``."""
    return f.marginal(idx)


def check_groups(groups: Sequence[Sequence[int]] | None, k: int) -> list[np.ndarray]:
    """Validate a partition of ``range(k)`` into groups (None: one group per component)."""
    if groups is None:
        return [np.array([j]) for j in range(k)]
    try:
        out = [np.asarray(g, dtype=int).reshape(-1) for g in groups]
    except (TypeError, ValueError):
        raise ValidationError(
            f"`groups` must be a list of lists of component indices. Got {groups!r} instead."
        ) from None
    flat = np.concatenate(out) if out else np.array([], dtype=int)
    if any(g.size == 0 for g in out) or sorted(flat.tolist()) != list(range(k)):
        raise ValidationError(
            f"`groups` must partition the component indices 0..{k - 1}: each index in exactly "
            f"one non-empty group. Got {groups!r} instead."
        )
    return out


def run_monte_carlo(
    draw: Callable[[int, np.random.Generator], Parts],
    n_samples: int,
    target_stderr: float | None,
    max_samples: int,
    gen: np.random.Generator,
) -> tuple[float, float, int]:
    """Mean and standard error of a Monte Carlo estimate made of weighted parts.

    With ``target_stderr``, ``n_samples`` is a pilot; the count is then raised to
    ``ceil(n_pilot * (se_pilot / target)^2)`` (at most ``max_samples``) and the extra
    draws are pooled with the pilot.
    """
    parts = draw(n_samples, gen)
    n = n_samples
    if target_stderr is not None:
        _, se = parts_mean_stderr(parts)
        need = min(max_samples, math.ceil(n_samples * (se / target_stderr) ** 2))
        if need > n_samples:
            more = draw(need - n_samples, gen)
            parts = [(w, np.concatenate([t, t2])) for (w, t), (_, t2) in zip(parts, more, strict=True)]
            n = need
    value, se = parts_mean_stderr(parts)
    return value, se, n


def parts_mean_stderr(parts: Parts) -> tuple[float, float]:
    """``value = sum_j w_j mean(t_j)``, ``se = sqrt(sum_j w_j^2 var(t_j) / n_j)``."""
    value = sum(w * float(np.mean(t)) for w, t in parts)
    var = sum(w * w * float(np.var(t, ddof=1)) / t.size for w, t in parts if t.size > 1)
    return value, math.sqrt(var)
