"""Why the exact KL Gap rises with K: each term split by where its mass lies.

``KL(pi || G) = E_pi[log pi - log G]`` is split into the part from points inside G's
support and the part from points outside it, with G's support made concrete as its
highest-density region of mass ``support`` (0.99 by default): ``{x : log G(x) >= tau}``,
``tau`` the ``1 - support`` quantile of ``log G(X)``, ``X ~ G``. The region is defined
by G alone and does not depend on the units. The points are exactly the KL-gap
protocol's (:func:`synthgain.experiments.klgap.run_settings`: the same fits and the
same evaluation draws), so the two parts of each term add up to the protocol's value.

Three sweeps of K share their settings' seeds with the Figure-4 K sweep
(``child_seed(seed, 0, K, i)``), so a setting's ``G``, anchors and anchor fit are the
same in all three and only the generator's ``L`` part differs:

* ``"L=2"``: the paper's K sweep (J = L = 2);
* ``"L=0"``: no task-irrelevant components;
* ``"share=1/3"``: ``L = (K + J) / 2``, the irrelevant share ``L / (K + J + L)`` held at
  the default's 1/3 (even K only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._rng import child_generator, child_seed
from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ..mixture import MixtureStack
from ..process import Setup
from ._mc import _EVAL, _simulate_and_fit

__all__ = ["MECHANISM_SWEEPS", "decompose_settings", "mechanism_settings", "mechanism_summary",
           "run_mechanism"]

#: The three K sweeps: name -> (values of K, L as a function of K and J).
MECHANISM_SWEEPS: dict[str, tuple[tuple[int, ...], Callable[[int, int], int]]] = {
    "L=2": (tuple(range(2, 16)), lambda k, j: 2),
    "L=0": (tuple(range(2, 16)), lambda k, j: 0),
    "share=1/3": (tuple(range(2, 16, 2)), lambda k, j: (k + j) // 2),
}


def mechanism_settings(sweep: str, *, values: Sequence[int] | None = None, settings: int = 100,
                       seed: int = 0, **setup_fields: Any) -> list[tuple[int, int, Setup, Any]]:
    """``(K, setting, Setup, seed)`` of one sweep, in (K, setting) order.

    Setting ``i`` of ``K`` has seed ``child_seed(seed, 0, K, i)``, the seed of the same
    setting of the Figure-4 K sweep.
    """
    if sweep not in MECHANISM_SWEEPS:
        raise ValidationError(
            f"`sweep` must be one of {list(MECHANISM_SWEEPS)}. Got {sweep!r} instead.")
    default, l_of = MECHANISM_SWEEPS[sweep]
    n = check_int(settings, "settings", low=1)
    root = check_int(seed, "seed", low=0)
    base = Setup(**setup_fields)
    out = []
    for k in default if values is None else values:
        k = check_int(k, "values", low=1)
        setup = base.replace(K=k, L=l_of(k, base.J))
        out += [(k, i, setup, child_seed(root, 0, k, i)) for i in range(n)]
    return out


def _parts(logp: np.ndarray, logg: np.ndarray, inside: np.ndarray,
           rounds: int, n_eval: int) -> tuple[float, float, float, float]:
    """(KL, KL from inside G's support, KL from outside, mass outside), as the protocol
    averages: the mean over rounds of per-round means."""
    ratio = (logp - logg).reshape(rounds, n_eval)
    ins = inside.reshape(rounds, n_eval)
    kl = float(ratio.mean(axis=1).mean())
    on = float(np.where(ins, ratio, 0.0).mean(axis=1).mean())
    return kl, on, kl - on, float(1.0 - ins.mean())


def decompose_settings(setups: Sequence[Setup], seeds: Sequence[np.random.SeedSequence], *,
                       rounds: int = 100, n_eval: int = 1000, support: float = 0.99,
                       n_support: int = 20_000) -> list[dict[str, Any]]:
    """The two KL terms of each setting, split into G's support and outside it.

    Parameters
    ----------
    setups, seeds
        As :func:`synthgain.experiments.klgap.run_settings` (the same fits and draws).
    rounds, n_eval : int
        As the protocol (100 rounds of 1000 points).
    support : float, default 0.99
        Mass of G's highest-density region taken as its support.
    n_support : int, default 20000
        Draws from G that set the region's threshold (from the setting's child stream
        ``"support"``, which the protocol does not use).

    Returns
    -------
    list of dict
        Per setting: ``K``, ``J``, ``L``, ``seed``, ``anchor_kl`` and ``synthetic_kl``
        (``KL(pi_anchor || G)``, ``KL(pi_gen || G)``; equal to the protocol's to
        rounding), ``gap``, ``<term>_on`` and ``<term>_off`` (the parts from points
        inside and outside G's support), ``<term>_off_mass`` (the mass outside), and
        ``log_share`` = ``log((K + J) / K)`` (the anchor term when ``pi_anchor`` is G's
        first K components, well separated, renormalised).
    """
    setups, seeds = list(setups), list(seeds)
    if len(setups) != len(seeds):
        raise ValidationError(f"`seeds` must have one SeedSequence per setup. Got {len(seeds)} "
                              f"for {len(setups)}.")
    r = check_int(rounds, "rounds", low=1)
    n = check_int(n_eval, "n_eval", low=1)
    mass = check_real(support, "support", low=0.0, high=1.0, closed="neither")
    ns = check_int(n_support, "n_support", low=10)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, s in enumerate(setups):
        groups.setdefault((s.d, s.K, s.J, s.L, s.n_anchor, s.n_synthetic, s.k_anchor_fit,
                           s.k_synthetic_fit, s.scale), []).append(i)
    rows: list[dict[str, Any]] = [{} for _ in setups]
    for idx in groups.values():
        for i, row in zip(idx, _group([setups[i] for i in idx], [seeds[i] for i in idx],
                                      r, n, mass, ns), strict=True):
            rows[i] = row
    return rows


def _group(setups: list[Setup], seeds: list[np.random.SeedSequence], rounds: int, n_eval: int,
           mass: float, n_support: int) -> list[dict[str, Any]]:
    sims, fa, fs = _simulate_and_fit(setups, seeds)
    out = []
    npts = rounds * n_eval
    for b, (s, ss) in enumerate(zip(setups, seeds, strict=True)):
        g = MixtureStack.from_mixtures([sims[b].ground_truth])
        xg = g.draw(0, child_generator(ss, "support"), n_support)
        tau = float(np.quantile(g.logpdf(xg[None])[0], 1.0 - mass))
        row: dict[str, Any] = {"K": s.K, "J": s.J, "L": s.L,
                               "seed": f"{ss.entropy}:{'.'.join(map(str, ss.spawn_key))}"}
        for term, fit, child in (("anchor", fa[b], 1), ("synthetic", fs[b], 2)):
            p = MixtureStack.from_mixtures([fit.mixture])
            x = p.draw(0, child_generator(ss, _EVAL, child), npts, group=n_eval)[None]
            logg = g.logpdf(x)[0]
            kl, on, off, off_mass = _parts(p.logpdf(x)[0], logg, logg >= tau, rounds, n_eval)
            row.update({f"{term}_kl": kl, f"{term}_kl_on": on, f"{term}_kl_off": off,
                        f"{term}_off_mass": off_mass})
        row["gap"] = row["anchor_kl"] - row["synthetic_kl"]
        row["log_share"] = math.log((s.K + s.J) / s.K)
        out.append(row)
    return out


def run_mechanism(*, sweeps: Sequence[str] = tuple(MECHANISM_SWEEPS), settings: int = 100,
                  rounds: int = 100, n_eval: int = 1000, seed: int = 0, jobs: int = 1,
                  chunk_size: int = 50, values: dict[str, Sequence[int]] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  **setup_fields: Any) -> pd.DataFrame:
    """The decomposed KL Gap of every setting of the three K sweeps; one row per setting.

    ``values`` overrides a sweep's values of K (a reduced protocol). Chunks of
    ``chunk_size`` settings of one point run on ``jobs`` local processes; a setting's
    row does not depend on either.
    """
    from .figure4 import map_chunks

    size = check_int(chunk_size, "chunk_size", low=1)
    tasks = []
    for sw in sweeps:
        vals = None if values is None else values.get(sw)
        tasks += [(sw, *t) for t in mechanism_settings(sw, values=vals, settings=settings,
                                                       seed=seed, **setup_fields)]
    chunks: list[list[Any]] = []
    for t in tasks:  # consecutive tasks of one (sweep, K) form chunks
        if chunks and len(chunks[-1]) < size and chunks[-1][0][:2] == t[:2]:
            chunks[-1].append(t)
        else:
            chunks.append([t])
    runner = _MechanismChunk(rounds, n_eval)
    parts = map_chunks(runner, chunks, jobs=jobs, progress=progress)
    return pd.DataFrame([r for part in parts for r in part])


class _MechanismChunk:
    """Picklable ``chunk -> rows`` for the workers."""

    def __init__(self, rounds: int, n_eval: int) -> None:
        self.rounds, self.n_eval = rounds, n_eval

    def __call__(self, chunk: Sequence[Any]) -> list[dict[str, Any]]:
        rows = decompose_settings([t[3] for t in chunk], [t[4] for t in chunk],
                                  rounds=self.rounds, n_eval=self.n_eval)
        for t, row in zip(chunk, rows, strict=True):
            row.update(sweep=t[0], setting=t[2])
        return rows


_SUMMARY_COLS = ("gap", "anchor_kl", "log_share", "synthetic_kl", "synthetic_kl_on",
                 "synthetic_kl_off", "synthetic_off_mass", "anchor_kl_off", "anchor_off_mass")


def mechanism_summary(rows: pd.DataFrame, *, n_boot: int = 2000,
                      seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medians first: per (sweep, K) the medians and means of each column, and per sweep
    Spearman's rho of K with the gap (and with each term) with a bootstrap interval.

    Returns
    -------
    points : DataFrame
        ``sweep``, ``K``, ``L``, ``n``, then ``median_<col>`` and ``mean_<col>`` for the
        gap, the two terms, their parts and masses, ``log_share``.
    trends : DataFrame
        Per (sweep, column in gap / anchor_kl / synthetic_kl / synthetic_kl_off /
        synthetic_off_mass): ``rho``, ``ci_low``, ``ci_high`` (settings resampled within
        each K, as :func:`synthgain.experiments.figure4.claims`), ``p_value``,
        ``rho_of_medians``.
    """
    from scipy import stats

    from .figure4 import _spearman_boot

    pts = []
    for (sw, _), grp in rows.groupby(["sweep", "K"], sort=True):
        row: dict[str, Any] = {"sweep": sw, "K": int(grp["K"].iloc[0]),
                               "L": int(grp["L"].iloc[0]), "n": len(grp)}
        for c in _SUMMARY_COLS:
            row[f"median_{c}"] = float(grp[c].median())
        for c in _SUMMARY_COLS:
            row[f"mean_{c}"] = float(grp[c].mean())
        pts.append(row)
    trends = []
    for i, (sw, grp) in enumerate(rows.groupby("sweep", sort=True)):
        x = grp["K"].to_numpy(float)
        for j, col in enumerate(("gap", "anchor_kl", "synthetic_kl", "synthetic_kl_off",
                                 "synthetic_off_mass")):
            y = grp[col].to_numpy(float)
            rho, p = stats.spearmanr(x, y)
            boot = _spearman_boot(x, y, n_boot, child_generator(seed, "mechanism", i, j))
            lo, hi = np.quantile(boot, [0.025, 0.975])
            med = grp.groupby("K")[col].median()
            trends.append({"sweep": sw, "column": col, "rho": float(rho), "ci_low": float(lo),
                           "ci_high": float(hi), "p_value": float(p),
                           "rho_of_medians": float(stats.spearmanr(med.index, med.to_numpy())[0]),
                           "n": len(grp)})
    return pd.DataFrame(pts), pd.DataFrame(trends)
