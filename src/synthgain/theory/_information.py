"""Information quantities the theory needs, with their errors.

* :func:`noisy_mutual_information`: ``I(X; W)`` for ``W = T + noise_scale * Z`` from
  replicate draws of ``T`` (the finite, noisy version of ``I(S; W)``).
* :func:`gaussian_mean_estimation_mi`: its closed form for Gaussian mean estimation.
* :func:`asymptotic_parameter_information`: ``I(theta; X^n)`` for Gaussian parameters
  estimated from ``N`` points and then used to generate ``n`` points.

Entropies and total variation of known mixtures come from :mod:`synthgain.measures`
(one implementation per estimator in the project).

Public functions check their arguments; the ``_kernel`` functions do no argument checking.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate
from ..mixture import logsumexp

__all__ = [
    "asymptotic_parameter_information",
    "check_information_estimators",
    "crossed_mutual_information",
    "design_covariances",
    "gaussian_design_mi",
    "gaussian_mean_estimation_mi",
    "noisy_mutual_information",
]

# --- closed forms ----------------------------------------------------------------------


def gaussian_mean_estimation_mi(
    prior_var: float, data_var: float, n: int, noise_scale: float, *, dim: int = 1
) -> float:
    r"""Closed form of ``I(S; W)`` for noisy Gaussian mean estimation.

    ``theta ~ N(0, prior_var I_dim)``; ``S = (x_1, ..., x_n)`` with
    ``x_i | theta ~ N(theta, data_var I_dim)``; ``W = mean(S) + noise_scale * Z``.

    Notes
    -----
    ``W`` depends on ``S`` only through the sufficient statistic ``xbar``, and
    ``xbar ~ N(0, (prior_var + data_var / n) I)`` marginally, so
    ``I(S; W) = I(xbar; xbar + sigma Z)`` is the capacity formula of a Gaussian channel:

    .. math:: I(S; W) = \frac{d}{2} \log\Bigl(1 + \frac{\tau^2 + s^2 / n}{\sigma^2}\Bigr)
    """
    tau2 = check_real(prior_var, "prior_var", low=0.0)
    s2 = check_real(data_var, "data_var", low=0.0)
    n = check_int(n, "n", low=1)
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    dim = check_int(dim, "dim", low=1)
    return 0.5 * dim * math.log1p((tau2 + s2 / n) / sigma**2)


# --- I(X; W) for W = T + sigma Z --------------------------------------------------------


def _noisy_mi_terms(
    t: np.ndarray, groups: np.ndarray | None, sigma: float, reps: int, gen: np.random.Generator
) -> np.ndarray:
    """Per-replicate (or per-group) means of ``log p(w | x) - log p(w)``, ``w = t_b + sigma z``.

    ``p(w) = mean_b N(w; t_b, sigma^2 I)``; ``p(w | x)`` is the same mixture over the
    replicates of ``x``'s group, or ``N(w; t_b, sigma^2 I)`` when ``groups`` is None.
    Does no argument checking.
    """
    b, p = t.shape
    w = np.repeat(t, reps, axis=0) + sigma * gen.standard_normal((b * reps, p))
    owner = np.repeat(np.arange(b), reps)
    # squared distances |w_i - t_j|^2, shape (b * reps, b)
    sq = (w * w).sum(1)[:, None] - 2.0 * w @ t.T + (t * t).sum(1)[None, :]
    logk = -0.5 * np.maximum(sq, 0.0) / sigma**2  # Gaussian kernel up to a shared constant
    rows = np.arange(b * reps)
    own = logk[rows, owner]
    logk[rows, owner] = -np.inf  # leave the replicate that produced w out
    log_marg = logsumexp(logk, axis=1) - math.log(b - 1)
    if groups is None:
        log_cond = own
    else:
        same = groups[owner][:, None] == groups[None, :]
        size = same.sum(1) - 1
        log_cond = logsumexp(np.where(same, logk, -np.inf), axis=1) - np.log(size)
    terms = (log_cond - log_marg).reshape(b, reps).mean(1)
    if groups is not None:  # replicates of one group are dependent: error over groups
        _, inv = np.unique(groups, return_inverse=True)
        terms = np.bincount(inv, weights=terms) / np.bincount(inv)
    return np.asarray(terms)


def noisy_mutual_information(
    t: Any,
    noise_scale: float,
    *,
    groups: Any = None,
    reps: int = 8,
    rng: RNGLike = None,
) -> Estimate:
    r"""Mutual information ``I(X; W)`` with ``W = T + noise_scale * Z``, from draws of ``T``.

    Parameters
    ----------
    t : array_like, shape (B, p)
        ``B`` independent draws of the statistic ``T`` (e.g. the embedding of a fitted
        model), one per replicate of the whole random experiment.
    noise_scale : float
        Standard deviation ``sigma`` of the isotropic Gaussian noise added to ``T``.
    groups : array_like of int, shape (B,), optional
        The value of ``X`` for each replicate: replicates sharing a label share ``X``
        (a nested or crossed design). None means ``X`` determines ``T`` (``X = S``, a
        deterministic fit), so ``p(w | x) = N(w; t_b, sigma^2 I)``.
    reps : int, default 8
        Noise draws per replicate.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    Estimate
        ``method="sample_propagation"``; ``stderr`` is the standard error over
        replicates; ``params["saturation"] = log(B / group size)``, the largest value the
        version that keeps the own replicate in ``p(w)`` could return. This one leaves it
        out, so it is not capped there: when the replicates are far apart against
        ``sigma`` it is biased upward (e.g. +1.8 nats for 16 replicates in 64 dimensions at
        ``sigma = 0.3``; docs/theory.md, "The information estimators where they are
        used").

    Notes
    -----
    The law of ``T`` is replaced by the empirical law of the draws (the sample-propagation
    estimator of Goldfeld et al., 2019, "Estimating information flow in deep neural
    networks"), so ``p(w) = B^{-1} \sum_b N(w; t_b, \sigma^2 I)`` and

    .. math:: I(X; W) = E\bigl[\log p(w \mid x) - \log p(w)\bigr],

    averaged over ``w = t_b + \sigma z`` for every replicate ``b``. With ``groups``,
    ``p(w | x)`` is the mixture over the replicates of ``x``'s group. The estimator is
    consistent as ``B`` grows. Both densities leave out the replicate that produced
    ``w`` (each is then an unbiased kernel estimate at ``w``); groups need at least two
    draws. The conditional density from ``m`` draws has a downward bias of order
    ``1/m`` in its logarithm (Jensen), so grouped estimates are biased low by O(1/m)
    (about -0.04 nats at m = 30 for independent unit-variance draws with sigma = 1);
    the standard error is computed over groups.
    """
    arr = check_array(t, "t", ndim=2, min_rows=2)
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    reps = check_int(reps, "reps", low=1)
    g = None
    sat = math.log(arr.shape[0])
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != (arr.shape[0],) or not np.issubdtype(g.dtype, np.integer):
            raise ValidationError(
                f"`groups` must be an int array with one label per row of `t` "
                f"({arr.shape[0]}). Got {g.dtype} array of shape {g.shape} instead."
            )
        _, counts = np.unique(g, return_counts=True)
        if counts.min() < 2:
            raise ValidationError(
                "`groups` must give every label at least two rows (the estimator leaves one "
                f"out). Got a group of size {counts.min()}; draw more replicates per group."
            )
        sat = math.log(arr.shape[0] / counts.max())
    terms = _noisy_mi_terms(arr, g, sigma, reps, check_rng(rng))
    return Estimate(
        float(terms.mean()),
        float(terms.std(ddof=1) / math.sqrt(terms.size)),
        method="sample_propagation",
        n=(arr.shape[0],),
        params={"noise_scale": sigma, "reps": reps, "saturation": sat},
    )


def crossed_mutual_information(
    t: Any, noise_scale: float, *, reps: int = 4, rng: RNGLike = None
) -> tuple[Estimate, Estimate, Estimate]:
    r"""``I(A; W)``, ``I(B; W)`` and ``I(T; W)`` from a crossed design of two factors.

    Parameters
    ----------
    t : array_like, shape (B_a, B_b, p)
        ``t[o, i]`` is the statistic computed from level ``o`` of factor ``A`` (e.g. the
        prompt) and level ``i`` of factor ``B`` (e.g. the generator's random stream),
        plus any randomness private to the cell. The factors must be independent.
    noise_scale : float
        ``W = T + noise_scale * Z``.
    reps : int, default 4
        Noise draws per cell.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    rows, cols, cells : Estimate
        ``I(A; W)``, ``I(B; W)`` and ``I(T; W)`` (``method="sample_propagation_crossed"``).

    Notes
    -----
    For ``w = t_{oi} + \sigma z`` the marginal density is the kernel mixture over the cells
    that share neither level with ``(o, i)`` (independent of ``t_{oi}``); ``p(w | a_o)`` is
    the mixture over row ``o`` without column ``i``, ``p(w | b_i)`` over column ``i``
    without row ``o``, and ``p(w | t_{oi}) = N(w; t_{oi}, \sigma^2 I)``. Each MI is the
    mean of ``log p(w | .) - log p(w)`` over cells; its standard error is the two-way
    (crossed random effects) form of :func:`two_way_stderr`.
    """
    arr = check_array(t, "t", ndim=3)
    bo, bi, _ = arr.shape
    if bo < 3 or bi < 3:
        raise ValidationError(
            f"`t` must have at least 3 levels of each factor. Got shape {arr.shape} instead."
        )
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    reps = check_int(reps, "reps", low=1)
    out = _crossed_terms(arr, sigma, reps, check_rng(rng))
    names = ("rows", "cols", "cells")
    ests = []
    for j, name in enumerate(names):
        ests.append(
            Estimate(
                float(out[j].mean()),
                two_way_stderr(out[j]),
                method="sample_propagation_crossed",
                n=(bo, bi),
                params={"noise_scale": sigma, "reps": reps, "factor": name},
            )
        )
    return ests[0], ests[1], ests[2]


def two_way_stderr(cells: np.ndarray) -> float:
    r"""Standard error of the mean of a crossed ``(B_a, B_b)`` array of per-cell values.

    .. math:: \widehat{se}^2 = rac{s^2_{ar r}}{B_a} + rac{s^2_{ar c}}{B_b}

    with :math:`s^2_{ar r}`, :math:`s^2_{ar c}` the sample variances of the row and
    column means: the row and column effects are independent, and each variance also
    carries the cell noise, so the form is conservative by ``s^2_e / (B_a B_b)``.
    """
    var = 0.0
    for means in (cells.mean(1), cells.mean(0)):  # a single row or column adds nothing
        var += float(means.var(ddof=1)) / means.size if means.size > 1 else 0.0
    return math.sqrt(var)


def _crossed_terms(arr: np.ndarray, sigma: float, reps: int, gen: np.random.Generator) -> np.ndarray:
    """Per-cell terms ``(3, B_a, B_b)`` of I(A; W), I(B; W), I(T; W). No argument checking."""
    bo, bi, p = arr.shape
    flat = arr.reshape(bo * bi, p)
    row = np.repeat(np.arange(bo), bi)
    col = np.tile(np.arange(bi), bo)
    out = np.empty((3, bo, bi))
    for o in range(bo):  # one row of owners at a time keeps memory at O(B_i reps B)
        w = arr[o][:, None, :] + sigma * gen.standard_normal((bi, reps, p))
        sq = np.einsum("irp,irp->ir", w, w)[..., None] - 2.0 * w @ flat.T + (flat * flat).sum(1)
        logk = -0.5 * np.maximum(sq, 0.0) / sigma**2  # (B_i, reps, B)
        own_row = row[None, None, :] == o
        own_col = col[None, None, :] == np.arange(bi)[:, None, None]
        log_marg = _masked_mean_log(logk, ~own_row & ~own_col)
        log_a = _masked_mean_log(logk, own_row & ~own_col)
        log_b = _masked_mean_log(logk, ~own_row & own_col)
        log_t = logk[np.arange(bi), :, o * bi + np.arange(bi)]
        out[0, o] = (log_a - log_marg).mean(1)
        out[1, o] = (log_b - log_marg).mean(1)
        out[2, o] = (log_t - log_marg).mean(1)
    return out


def _conditional_mi_terms(
    t: np.ndarray, sigma: float, reps: int, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group lower and upper values of ``I(X; W | G)`` for ``W = T + sigma Z``.

    ``t`` has shape (..., R, p): ``R`` >= 2 draws of ``X`` (hence of ``T``) given each
    group ``G`` (leading axes). For ``w = t_r + sigma z`` the known conditional is
    ``N(w; t_r, sigma^2 I)``; ``p(w | G)`` is estimated by the mean kernel over the group's
    draws *with* the own draw (InfoNCE with the optimal critic, a lower bound in
    expectation, at most ``log R``) or *without* it (the leave-one-out upper bound);
    Poole et al. (2019), "On variational bounds of mutual information", eqs. 12-13.
    Returns two arrays of the leading shape. Does no argument checking.
    """
    *lead, r, p = t.shape
    w = t[..., :, None, :] + sigma * gen.standard_normal((*lead, r, reps, p))
    diff = w[..., :, :, None, :] - t[..., None, None, :, :]  # (..., R, reps, R, p)
    logk = -0.5 * np.einsum("...p,...p->...", diff, diff) / sigma**2  # (..., R, reps, R)
    own = np.diagonal(logk, axis1=-3, axis2=-1)  # (..., reps, R)
    own = np.moveaxis(own, -1, -2)  # (..., R, reps)
    lower = own - (logsumexp(logk, axis=-1) - math.log(r))
    eye = np.eye(r, dtype=bool)[:, None, :]
    loo = logsumexp(np.where(eye, -np.inf, logk), axis=-1) - math.log(r - 1)
    upper = own - loo
    return lower.mean((-2, -1)), upper.mean((-2, -1))


def _masked_mean_log(logk: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``log mean(exp(logk))`` over the last axis where ``mask`` holds."""
    mask = np.broadcast_to(mask, logk.shape)
    return logsumexp(np.where(mask, logk, -np.inf), axis=-1) - np.log(mask.sum(-1))


# --- parameter information (local asymptotic normality) ------------------------------------


def _gaussian_fisher(cov: np.ndarray, data_cov: np.ndarray) -> np.ndarray:
    """Fisher information per point of ``N(mu, data_cov)`` about ``(mu, vech Sigma)``.

    ``data_cov = Sigma + s^2 I`` (curation noise), so the derivative wrt ``Sigma`` is the
    identity; the blocks decouple: ``A`` for ``mu`` and ``1/2 tr(A E_a A E_b)`` for the
    symmetric basis matrices ``E_a`` of ``vech Sigma``, with ``A = inv(data_cov)``.
    """
    d = cov.shape[0]
    a = np.linalg.inv(data_cov)
    basis = []
    for i in range(d):
        for j in range(i + 1):
            e = np.zeros((d, d))
            e[i, j] = e[j, i] = 1.0
            basis.append(e)
    ae = np.array([a @ e for e in basis])
    fs = 0.5 * np.einsum("aij,bji->ab", ae, ae)  # tr(A E_a A E_b) / 2
    p = d + len(basis)
    out = np.zeros((p, p))
    out[:d, :d] = a
    out[d:, d:] = fs
    return out


def asymptotic_parameter_information(
    covariance: Any, n_estimate: int, n_generate: float, *, noise_var: float = 0.0
) -> tuple[float, float]:
    r"""``I(theta_hat; X^n)`` and ``H(theta_hat)`` for a re-estimated Gaussian component.

    ``theta_hat = (mean, covariance)`` is estimated from ``n_estimate`` points of
    ``N(mu, Sigma)``; ``n_generate`` points are then drawn from ``N(theta_hat)`` and
    observed with ``N(0, noise_var I)`` noise.

    Returns
    -------
    info : float
        ``I(theta_hat; X^n)`` in nats.
    entropy : float
        ``H(theta_hat)`` in nats, in the ``(mu, vech Sigma)`` parameterisation.

    Notes
    -----
    Under local asymptotic normality (Clarke & Barron, 1990) ``theta_hat`` is
    ``N(theta, F^{-1} / N)`` with ``F`` the Fisher information per point, and ``n``
    observations with per-point information ``F_s`` give the Gaussian-channel value

    .. math:: I = \tfrac12 \log\det\bigl(I + \tfrac{n}{N} F^{-1} F_s\bigr), \qquad
              H(\hat\theta) = \tfrac12 \log\det\bigl(2\pi e F^{-1} / N\bigr).

    It treats the component of each generated point as known, so it is an approximate
    upper value of the information a mixture's points carry.
    """
    c = check_array(covariance, "covariance", ndim=2)
    n_est = check_int(n_estimate, "n_estimate", low=1)
    n_gen = check_real(n_generate, "n_generate", low=0.0)
    s2 = check_real(noise_var, "noise_var", low=0.0)
    f = _gaussian_fisher(c, c)
    fs = _gaussian_fisher(c, c + s2 * np.eye(c.shape[0]))
    finv = np.linalg.inv(f)
    info = 0.5 * float(np.linalg.slogdet(np.eye(f.shape[0]) + n_gen / n_est * finv @ fs)[1])
    ent = 0.5 * float(np.linalg.slogdet(2 * math.pi * math.e * finv / n_est)[1])
    return info, ent


# --- the estimators checked in the regime they are used in ------------------------------


def gaussian_design_mi(
    cov_rows: Any, cov_cols: Any, cov_cells: Any, noise_var: float
) -> tuple[float, float, float]:
    r"""Closed forms of ``I(A; W)``, ``I(B; W)``, ``I(T; W)`` for a Gaussian crossed design.

    ``T = A + B + E`` with independent ``A ~ N(0, S_A)``, ``B ~ N(0, S_B)``,
    ``E ~ N(0, S_E)`` in ``p`` dimensions, and ``W = T + sqrt(noise_var) Z``.

    Notes
    -----
    With :math:`S_T = S_A + S_B + S_E` and :math:`N = \mathrm{noise\_var}\, I`:

    .. math::

        I(A; W) = \tfrac12 \log\det(S_T + N) - \tfrac12 \log\det(S_B + S_E + N),\quad
        I(T; W) = \tfrac12 \log\det(S_T + N) - \tfrac12 \log\det N

    and ``I(B; W)`` likewise. With ``S_B = S_E = 0``, ``I(T; W)`` is the information of a
    deterministic statistic (the anchor side, ``I(S_anchor; W')``).
    """
    sa, sb, se = (check_array(c, n, ndim=2) for c, n in
                  ((cov_rows, "cov_rows"), (cov_cols, "cov_cols"), (cov_cells, "cov_cells")))
    v = check_real(noise_var, "noise_var", low=0.0, closed="neither")
    n = v * np.eye(sa.shape[0])

    def logdet(m: np.ndarray) -> float:
        return float(np.linalg.slogdet(m)[1])

    top = logdet(sa + sb + se + n)
    return (0.5 * (top - logdet(sb + se + n)), 0.5 * (top - logdet(sa + se + n)),
            0.5 * (top - logdet(n)))


def _psd(c: np.ndarray) -> np.ndarray:
    lam, v = np.linalg.eigh(0.5 * (c + c.T))
    return np.asarray((v * np.maximum(lam, 0.0)) @ v.T)


def design_covariances(t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Method-of-moments covariances ``(S_A, S_B, S_E)`` of a crossed design ``t`` (B_a, B_b, p).

    Two-way random effects: ``S_E`` from the interaction residuals (``(B_a - 1)(B_b - 1)``
    degrees of freedom), ``S_A = cov(row means) - S_E / B_b`` and
    ``S_B = cov(column means) - S_E / B_a``, each projected onto the positive
    semi-definite cone.
    """
    arr = check_array(t, "t", ndim=3)
    ba, bb, _ = arr.shape
    rows, cols, grand = arr.mean(1), arr.mean(0), arr.mean((0, 1))
    res = (arr - rows[:, None] - cols[None, :] + grand).reshape(ba * bb, -1)
    se = res.T @ res / ((ba - 1) * (bb - 1))
    sa = np.cov(rows, rowvar=False) - se / bb
    sb = np.cov(cols, rowvar=False) - se / ba
    return _psd(sa), _psd(sb), _psd(se)


def check_information_estimators(
    t_synthetic: Any,
    t_anchor: Any,
    noise_scale: float,
    *,
    n_designs: int = 50,
    reps: int = 4,
    rng: RNGLike = None,
) -> Any:
    """The information estimators on Gaussian designs shaped like a measured one.

    Parameters
    ----------
    t_synthetic : array_like, shape (B_p, B_s, R)
        Embeddings of the synthetic fits (``TheoryTerms.embeddings["synthetic"]``).
    t_anchor : array_like, shape (B_p, R)
        Embeddings of the anchor fits (``TheoryTerms.embeddings["anchor"]``).
    noise_scale : float
        ``sigma``; W's noise has standard deviation ``sigma / sqrt(R)`` per coordinate.
    n_designs : int, default 50
        Gaussian designs drawn (each of the measured shape).
    reps : int, default 4
        Noise draws per cell, as :func:`compute_terms`.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    pandas.DataFrame
        One row per quantity: ``quantity`` (the term of :func:`compute_terms` it
        mimics), ``design``, ``truth`` (the closed form of :func:`gaussian_design_mi`),
        ``mean`` and ``sd`` of the estimates over designs, ``bias = mean - truth`` and
        ``se_mean = sd / sqrt(n_designs)``.

    Notes
    -----
    The Gaussian designs have the measured means and the method-of-moments covariances
    of :func:`design_covariances` (the anchor side: the sample covariance), in the
    dimension ``R`` of the embedding and with the measured numbers of replicates, so
    the check is made where the estimators are used. The embeddings themselves are not
    Gaussian; no closed form exists for them.
    """
    import pandas as pd

    ts = check_array(t_synthetic, "t_synthetic", ndim=3)
    ta = check_array(t_anchor, "t_anchor", ndim=2, dim=ts.shape[2])
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    nd = check_int(n_designs, "n_designs", low=2)
    reps = check_int(reps, "reps", low=1)
    gen = check_rng(rng)
    bp, bs, r = ts.shape
    s = sigma / math.sqrt(r)
    sa, sb, se = design_covariances(ts)
    s_anchor = _psd(np.cov(ta, rowvar=False))
    zero = np.zeros_like(sa)
    truth = dict(zip(("I_ep_W", "I_eM_W", "I_gen_W"), gaussian_design_mi(sa, sb, se, s**2),
                     strict=True))
    truth["I_gen_W_matched"] = truth["I_gen_W"]
    truth["I_anchor_Wprime"] = gaussian_design_mi(s_anchor, zero, zero, s**2)[2]
    la, lb, le, lq = (np.linalg.cholesky(c + 1e-12 * np.eye(r)) for c in (sa, sb, se, s_anchor))
    m = min(bp, bs)
    est: dict[str, list[float]] = {k: [] for k in truth}
    for _ in range(nd):
        t = (gen.standard_normal((bp, 1, r)) @ la.T + gen.standard_normal((1, bs, r)) @ lb.T
             + gen.standard_normal((bp, bs, r)) @ le.T)
        for name, v in zip(("I_ep_W", "I_eM_W", "I_gen_W"), _crossed_terms(t, s, reps, gen),
                           strict=True):
            est[name].append(float(v.mean()))
        diag = t[np.arange(m), np.arange(m)]
        est["I_gen_W_matched"].append(float(_noisy_mi_terms(diag, None, s, reps, gen).mean()))
        anchors = gen.standard_normal((bp, r)) @ lq.T
        est["I_anchor_Wprime"].append(float(_noisy_mi_terms(anchors, None, s, reps, gen).mean()))
    design = {"I_ep_W": f"crossed {bp} x {bs}", "I_eM_W": f"crossed {bp} x {bs}",
              "I_gen_W": f"crossed {bp} x {bs}", "I_gen_W_matched": f"{m} replicates",
              "I_anchor_Wprime": f"{bp} replicates"}
    rows = []
    for name, vals in est.items():
        a = np.asarray(vals)
        rows.append({"quantity": name, "design": design[name], "dimension": r,
                     "noise_scale": sigma, "truth": truth[name], "mean": float(a.mean()),
                     "sd": float(a.std(ddof=1)), "bias": float(a.mean() - truth[name]),
                     "se_mean": float(a.std(ddof=1) / math.sqrt(nd))})
    return pd.DataFrame(rows)
