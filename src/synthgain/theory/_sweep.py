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

from .._rng import RNGLike, spawn_seeds
from .._validation import check_choice, check_int
from ..exceptions import ValidationError
from ._chain import Chain
from ._terms import check_inequalities, compute_terms

__all__ = ["chain_from_setup", "sweep_terms"]

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
