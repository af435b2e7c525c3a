"""A theory sweep with each setting's KL Gap: the theory's terms beside the KL-gap protocol.

:func:`synthgain.theory.sweep_terms` computes the terms of every setting of a sweep of
K, J or L; :func:`sweep_terms_klgap` adds the setting's KL Gap from
:func:`synthgain.experiments.klgap.run_settings`, given the same setting seed ``ss``
(:func:`synthgain.theory.sweep_settings`). Both draw the process from child 0 of ``ss``
(``synthgain.theory.PROCESS_STREAM`` and ``run_settings``' process child), so the KL Gap
and the terms of a setting refer to the same ``G`` and ``M``; ``run_settings`` fits and
evaluates with children 1..3 of ``ss`` (its own layout), the terms use child
``synthgain.theory.TERMS_STREAM`` (4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike, child_seed, seed_sequence
from .._validation import check_int
from ..process import Setup
from ..theory import sweep_settings, sweep_terms
from .klgap import run_settings

__all__ = ["GGMI_ESTIMATES", "ROBUSTNESS_VARIANTS", "ggmi_robustness", "sweep_terms_klgap"]

def sweep_terms_klgap(
    param: str,
    values: Sequence[int],
    *,
    settings: int = 5,
    setup: Setup | None = None,
    klgap_rounds: int = 100,
    klgap_n_eval: int = 1000,
    rng: RNGLike = None,
    **compute_kwargs: Any,
) -> Any:
    """:func:`synthgain.theory.sweep_terms` with each setting's KL Gap.

    Parameters
    ----------
    param, values, settings, setup, rng, **compute_kwargs
        As :func:`synthgain.theory.sweep_terms` (the same rows, the same seeds).
    klgap_rounds, klgap_n_eval : int
        Rounds and points per round of the KL Gap (the paper: 100 and 1000).

    Returns
    -------
    pandas.DataFrame
        The rows of ``sweep_terms`` plus ``kl_gap`` and ``stderr_kl_gap``: the Monte Carlo
        ``KL(pi_anchor || G) - KL(pi_gen || G)`` of the setting and its standard error.
    """
    rounds = check_int(klgap_rounds, "klgap_rounds", low=2)
    n_eval = check_int(klgap_n_eval, "klgap_n_eval", low=1)
    root = seed_sequence(rng)  # once: a Generator gives the same seeds to both calls
    plan = sweep_settings(param, values, settings=settings, setup=setup, rng=root)
    df = sweep_terms(param, values, settings=settings, setup=setup, rng=root, **compute_kwargs)
    rows = run_settings([st.setup for st in plan], [st.seed for st in plan], rounds=rounds,
                        n_eval=n_eval, measures=("kl",))
    df["kl_gap"] = [r["gap"] for r in rows]
    df["stderr_kl_gap"] = [r["gap_stderr"] for r in rows]
    return df


#: The GGMI's robustness variants: name -> options of :func:`synthgain.theory.compute_terms`
#: (W's noise scale sigma, the number of reference points R, the reference distribution).
ROBUSTNESS_VARIANTS: dict[str, dict[str, Any]] = {
    "sigma=0.3": {"noise_scale": 0.3},
    "sigma=1": {"noise_scale": 1.0},
    "sigma=3": {"noise_scale": 3.0},
    "R=128": {"n_reference": 128},
    "q=G": {"reference": "ground_truth"},
}

#: The GGMI estimates compared: the crossed design's and the matched design's.
GGMI_ESTIMATES = ("GGMI", "GGMI_matched")


def ggmi_robustness(
    params: Sequence[str] = ("K", "J", "L"),
    values: Sequence[int] = (2, 5, 10, 15),
    *,
    settings: int = 3,
    setup: Setup | None = None,
    variants: dict[str, dict[str, Any]] | None = None,
    klgap_rounds: int = 100,
    klgap_n_eval: int = 1000,
    n_boot: int = 2000,
    rng: RNGLike = None,
    **compute_kwargs: Any,
) -> tuple[Any, Any]:
    """The theory sweeps and the KL-Gap / GGMI correlations under each variant of W.

    Parameters
    ----------
    params : sequence of {"K", "J", "L"}
        The sweeps.
    values, settings, setup, rng
        As :func:`sweep_terms_klgap` (each sweep with ``rng``, so its rows under
        ``sigma=1`` are those of ``sweep_terms_klgap(param, values, rng=rng)``); every
        variant sees the same settings (the same ``G``, ``M``, fits and KL Gap), only
        W's construction changes.
    variants : dict, optional
        Name -> options of :func:`synthgain.theory.compute_terms`; default
        :data:`ROBUSTNESS_VARIANTS`.
    klgap_rounds, klgap_n_eval : int
        The KL Gap's rounds and points per round.
    n_boot : int
        Bootstrap resamples of the rank correlations.
    **compute_kwargs
        Options shared by every variant (``n_prompts``, ``n_streams``, ...).

    Returns
    -------
    rows : pandas.DataFrame
        The rows of :func:`sweep_terms_klgap` per variant, with ``variant`` and ``sweep``.
    summary : pandas.DataFrame
        Per (variant, sweep or "all", estimate in :data:`GGMI_ESTIMATES`):
        ``median_first`` / ``median_last`` (the estimate's median at the first and last
        value), ``rho_value`` (Spearman's rho of the swept value with the estimate) and
        ``rho_klgap`` (of the KL Gap with the estimate), each with a 95 % bootstrap
        interval over settings (:func:`synthgain.measures.rank_correlation`), and the
        share of settings where Lemma 4.5's step (21) is violated.
    """
    import pandas as pd

    from ..measures import rank_correlation

    var = ROBUSTNESS_VARIANTS if variants is None else variants
    rounds = check_int(klgap_rounds, "klgap_rounds", low=2)
    n_eval = check_int(klgap_n_eval, "klgap_n_eval", low=1)
    root = seed_sequence(rng)
    frames = []
    for param in params:
        prng = root  # as `synthgain theory --sweep P --seed s`: the same settings per sweep
        plan = sweep_settings(param, values, settings=settings, setup=setup, rng=prng)
        gap = run_settings([st.setup for st in plan], [st.seed for st in plan], rounds=rounds,
                           n_eval=n_eval, measures=("kl",))
        for name, opts in var.items():
            df = sweep_terms(param, values, settings=settings, setup=setup, rng=prng,
                             **{**compute_kwargs, **opts})
            df.insert(0, "sweep", param)
            df.insert(0, "variant", name)
            df["value"] = df[f"param_{param}"]
            df["kl_gap"] = [r["gap"] for r in gap]
            frames.append(df)
    rows = pd.concat(frames, ignore_index=True)
    out = []
    for j, (name, grp_v) in enumerate(rows.groupby("variant", sort=False)):
        groups = [*grp_v.groupby("sweep", sort=False), ("all", grp_v)]
        for k, (sw, grp) in enumerate(groups):
            first, last = grp["value"].min(), grp["value"].max()
            for e, est in enumerate(GGMI_ESTIMATES):
                rv = rank_correlation(grp["value"], grp[est], n_bootstrap=n_boot,
                                      rng=child_seed(root, "robustness", j, k, e, 0))
                rk = rank_correlation(grp["kl_gap"], grp[est], n_bootstrap=n_boot,
                                      rng=child_seed(root, "robustness", j, k, e, 1))
                out.append({
                    "variant": name, "sweep": sw, "estimate": est, "n": len(grp),
                    "median_first": float(grp.loc[grp["value"] == first, est].median()),
                    "median_last": float(grp.loc[grp["value"] == last, est].median()),
                    "rho_value": rv.value, "rho_value_low": (rv.interval or (np.nan,) * 2)[0],
                    "rho_value_high": (rv.interval or (np.nan,) * 2)[1],
                    "rho_klgap": rk.value, "rho_klgap_low": (rk.interval or (np.nan,) * 2)[0],
                    "rho_klgap_high": (rk.interval or (np.nan,) * 2)[1],
                    "step_21_violated": float((grp["verdict_lemma_4_5_step_21"]
                                               == "violated").mean()),
                })
    return rows, pd.DataFrame(out)
