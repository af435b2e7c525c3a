"""Connect the theory to :class:`synthgain.process.Setup` and sweep it over K, J or L."""

from __future__ import annotations

import dataclasses
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


def chain_from_setup(setup: Any, *, rng: RNGLike = None) -> Chain:
    """The fixed parts (G, the J and L components of M) of one draw of ``setup``.

    Uses :func:`synthgain.process.simulate`; the anchors and synthetic data of that draw
    are discarded, since :func:`compute_terms` redraws them. Fits use ``K`` components on
    the anchors and ``K + J + L`` on the synthetic data whatever ``setup`` asks.
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
        float(setup.noise),
    )


def sweep_terms(
    param: str,
    values: Sequence[int],
    *,
    settings: int = 5,
    setup: Any = None,
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
    rng : int, SeedSequence, Generator or None
        Setting ``s`` of value ``v`` uses child ``s`` of child ``v`` of ``rng``, so a
        setting's numbers do not depend on which other values are swept.
    **compute_kwargs
        Passed to :func:`compute_terms`.

    Returns
    -------
    pandas.DataFrame
        One row per (value, setting): ``param_<param>``, ``setting``, one column per term
        and ``verdict_<inequality>`` / ``margin_<inequality>`` per inequality.
    """
    import pandas as pd

    from ..process import Setup

    param = check_choice(param, "param", SWEEP_PARAMS)
    settings = check_int(settings, "settings", low=1)
    base = Setup() if setup is None else setup
    if not isinstance(base, Setup):
        raise ValidationError(f"`setup` must be a synthgain.process.Setup. Got {type(base).__name__}.")
    vals = [check_int(v, "values", low=0 if param != "K" else 1) for v in values]
    rows = []
    for v, seed in zip(vals, spawn_seeds(rng, len(vals)), strict=True):
        s_v = dataclasses.replace(base, **{param: v})  # type: ignore[arg-type]
        for s, child in enumerate(seed.spawn(settings)):
            g_chain, g_terms = child.spawn(2)
            terms = compute_terms(chain_from_setup(s_v, rng=g_chain), rng=g_terms, **compute_kwargs)
            row: dict[str, Any] = {f"param_{param}": v, "setting": s}
            row.update({k: e.value for k, e in terms.terms.items()})
            row.update({f"stderr_{k}": e.stderr for k, e in terms.terms.items()})
            for verdict in check_inequalities(terms):
                row[f"verdict_{verdict.name}"] = verdict.verdict
                row[f"margin_{verdict.name}"] = verdict.margin
            rows.append(row)
    return pd.DataFrame(rows)
