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

from .._rng import RNGLike, seed_sequence
from .._validation import check_int
from ..process import Setup
from ..theory import sweep_settings, sweep_terms
from .klgap import run_settings

__all__ = ["sweep_terms_klgap"]

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
