"""Connect the theory to :class:`synthgain.process.Setup`, sweep it, and correlate with the KL Gap.

A setting is identified by one :class:`numpy.random.SeedSequence` ``ss``. Its child 0
draws ``G`` and the generator's own components exactly as
:func:`synthgain.experiments.klgap.run_settings` does for the same ``ss`` (children
0..3 are the process, the two fits and the evaluation there), so the KL Gap of a setting
and its theory terms refer to the same ``G`` and ``M``. Child 4 seeds :func:`compute_terms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, spawn_seeds
from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate
from ._chain import Chain
from ._terms import check_inequalities, compute_terms

__all__ = ["chain_from_setup", "rank_correlation", "sweep_terms"]

SWEEP_PARAMS = ("K", "J", "L")
_SIM, _TERMS = 0, 4  # children of a setting's SeedSequence (0..3 are run_settings')


def _child(ss: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """Child ``i`` of ``ss`` whatever ``ss.spawn`` was called before (as run_settings)."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)


def chain_from_setup(setup: Any, *, rng: RNGLike = None) -> Chain:
    """The fixed parts (G, the J and L components of M) of one draw of ``setup``.

    Uses :func:`synthgain.process.simulate`; the anchors and synthetic data of that draw
    are discarded, since :func:`compute_terms` redraws them. The fits use
    ``setup.k_anchor_fit`` components on the anchors and ``setup.k_synthetic_fit`` on
    the synthetic data (``anchor_fit_components`` / ``synthetic_fit_components``).
    """
    from ..process import Setup, simulate

    if not isinstance(setup, Setup):
        raise ValidationError(f"`setup` must be a synthgain.process.Setup. Got {type(setup).__name__}.")
    sim = simulate(setup, rng=rng)
    m = sim.generator
    own = slice(setup.K + setup.J, setup.K + setup.J + setup.L)
    return Chain(
        sim.ground_truth, setup.K, setup.J, setup.L, np.array(m.means[own]),
        np.array(m.covariances[own]), setup.n_anchor_per_component, setup.n_synthetic,
        float(setup.noise), anchor_fit_components=setup.k_anchor_fit,
        synthetic_fit_components=setup.k_synthetic_fit,
    )


def _klgap_rows(setups: list[Any], seeds: list[np.random.SeedSequence], rounds: int,
                n_eval: int) -> list[dict[str, Any]]:
    from ..experiments.klgap import run_settings

    rows = run_settings(setups, seeds, rounds=rounds, n_eval=n_eval, measures=("kl",))
    return [{"kl_gap": r["gap"], "stderr_kl_gap": r["gap_stderr"]} for r in rows]


def sweep_terms(
    param: str,
    values: Sequence[int],
    *,
    settings: int = 5,
    setup: Any = None,
    klgap: bool = False,
    klgap_rounds: int = 100,
    klgap_n_eval: int = 1000,
    rng: RNGLike = None,
    **compute_kwargs: Any,
) -> Any:
    """Every term and verdict for ``settings`` random settings at each value of K, J or L.

    Parameters
    ----------
    param : {"K", "J", "L"}
    values : sequence of int
    settings : int, default 5
        Random settings (new G and generator) per value.
    setup : Setup, optional
        The other parameters (defaults of :class:`synthgain.process.Setup`).
    klgap : bool, default False
        Also compute each setting's KL Gap (Monte Carlo, ``KL(pi || G)``) with
        :func:`synthgain.experiments.klgap.run_settings` on the same ``G`` and ``M``
        (columns ``kl_gap`` and ``stderr_kl_gap``).
    klgap_rounds, klgap_n_eval : int
        Rounds and points per round of the KL Gap (the paper: 100 and 1000).
    rng : int, SeedSequence, Generator or None
        Setting ``s`` of the ``i``-th value has SeedSequence ``ss`` = child ``s`` of
        child ``i`` of ``rng`` (its numbers do not depend on the number of settings or
        on the values after it); ``G`` and ``M`` come from child 0 of ``ss``, the terms
        from child 4, and the KL Gap from ``run_settings`` given ``ss``.
    **compute_kwargs
        Passed to :func:`compute_terms`.

    Returns
    -------
    pandas.DataFrame
        One row per (value, setting): ``param_<param>``, ``setting``, one column per term
        (and ``stderr_<term>``), ``verdict_<inequality>`` / ``margin_<inequality>`` per
        inequality, and the KL Gap columns when asked.
    """
    import pandas as pd

    from ..process import Setup

    param = check_choice(param, "param", SWEEP_PARAMS)
    settings = check_int(settings, "settings", low=1)
    base = Setup() if setup is None else setup
    if not isinstance(base, Setup):
        raise ValidationError(f"`setup` must be a synthgain.process.Setup. Got {type(base).__name__}.")
    vals = [check_int(v, "values", low=0 if param != "K" else 1) for v in values]
    rows, setups, seeds = [], [], []
    for v, seed in zip(vals, spawn_seeds(rng, len(vals)), strict=True):
        s_v = base.replace(**{param: v})
        for s, ss in enumerate(seed.spawn(settings)):
            chain = chain_from_setup(s_v, rng=_child(ss, _SIM))
            terms = compute_terms(chain, rng=_child(ss, _TERMS), **compute_kwargs)
            row: dict[str, Any] = {f"param_{param}": v, "setting": s}
            row.update({k: e.value for k, e in terms.terms.items()})
            row.update({f"stderr_{k}": e.stderr for k, e in terms.terms.items()})
            for verdict in check_inequalities(terms):
                row[f"verdict_{verdict.name}"] = verdict.verdict
                row[f"margin_{verdict.name}"] = verdict.margin
            rows.append(row)
            setups.append(s_v)
            seeds.append(ss)
    if klgap:
        r = check_int(klgap_rounds, "klgap_rounds", low=2)
        n = check_int(klgap_n_eval, "klgap_n_eval", low=1)
        for row, extra in zip(rows, _klgap_rows(setups, seeds, r, n), strict=True):
            row.update(extra)
    return pd.DataFrame(rows)


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair of ``x``, ``y`` (B, n): Pearson on average ranks."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=-1)
    ry = rankdata(y, axis=-1)
    rx -= rx.mean(-1, keepdims=True)
    ry -= ry.mean(-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(-1) * (ry * ry).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((rx * ry).sum(-1) / den)  # nan for a constant resample


def rank_correlation(
    x: Any, y: Any, *, n_bootstrap: int = 2000, level: float = 0.95, rng: RNGLike = None
) -> Estimate:
    r"""Spearman rank correlation of paired values, with a bootstrap interval.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Paired values, one pair per setting (e.g. the KL Gap and the estimated GGMI).
    n_bootstrap : int, default 2000
        Resamples of the pairs (with replacement).
    level : float, default 0.95
        Level of the percentile interval.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    Estimate
        ``method="spearman_bootstrap"``: ``value`` is Spearman's rho, ``stderr`` the
        bootstrap standard deviation, ``interval`` the percentile interval, and
        ``params["p_value"]`` the two-sided test of rho = 0 (:func:`scipy.stats.spearmanr`).

    Notes
    -----
    .. math:: \rho = \mathrm{corr}\bigl(\mathrm{rank}(x), \mathrm{rank}(y)\bigr)

    Resamples where one variable is constant have no correlation and are dropped
    (``params["n_dropped"]``). The percentile bootstrap for a correlation is slightly
    liberal for small ``n`` (Efron & Tibshirani 1993, ch. 14).
    """
    from scipy.stats import spearmanr

    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValidationError(
            f"`x` and `y` must be 1-D arrays of the same length. Got shapes {a.shape} and {b.shape}."
        )
    if a.size < 3 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValidationError(
            f"`x` and `y` must hold at least 3 finite pairs. Got {a.size} pairs "
            f"({int((~np.isfinite(a) | ~np.isfinite(b)).sum())} not finite); drop them first."
        )
    nb = check_int(n_bootstrap, "n_bootstrap", low=10)
    lev = check_real(level, "level", low=0.0, high=1.0, closed="neither")
    idx = check_rng(rng).integers(0, a.size, size=(nb, a.size))
    boots = _spearman_rows(a[idx], b[idx])
    ok = boots[np.isfinite(boots)]
    rho, p = spearmanr(a, b)
    lo, hi = np.percentile(ok, [50 * (1 - lev), 50 * (1 + lev)]) if ok.size else (np.nan, np.nan)
    return Estimate(
        float(rho), float(ok.std(ddof=1)) if ok.size > 1 else None, method="spearman_bootstrap",
        n=(a.size,), params={"p_value": float(p), "n_bootstrap": nb, "n_dropped": int(nb - ok.size)},
        interval=(float(lo), float(hi)), interval_level=lev,
    )
