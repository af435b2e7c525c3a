"""Sweep the theory's terms over K, J or L of a :class:`synthgain.process.Setup`.

Seeds. Value ``i`` of a sweep, setting ``s``, is identified by one
:class:`numpy.random.SeedSequence` ``ss = child_seed(rng, i, s)`` (child ``s`` of child
``i`` of ``rng``, so a setting's numbers do not depend on the number of settings or on
the values after it). Child ``PROCESS_STREAM`` (0) of ``ss`` draws the process
(:func:`synthgain.process.simulate`: ``G`` and the generator's own components) and child
``TERMS_STREAM`` (4) seeds :func:`compute_terms`. Children 1..3 are not used here, so a
protocol run on the same ``ss`` that also draws its process from child 0 (the KL-gap
protocol, :mod:`synthgain.experiments.theory_sweep`) refers to the same ``G`` and ``M``
with independent fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, child_seed, seed_sequence
from .._validation import check_choice, check_int
from ..exceptions import ValidationError
from ..process import Setup
from ._chain import chain_from_setup
from ._terms import check_inequalities, compute_terms

__all__ = ["PROCESS_STREAM", "SWEEP_PARAMS", "TERMS_STREAM", "SweepSetting", "sweep_settings",
           "sweep_terms"]

SWEEP_PARAMS = ("K", "J", "L")
#: Child of a setting's SeedSequence that draws the process (G and M).
PROCESS_STREAM = 0
#: Child of a setting's SeedSequence that seeds compute_terms (1..3 are left free).
TERMS_STREAM = 4


@dataclass(frozen=True)
class SweepSetting:
    """One random setting of a sweep: the swept value, its index, the setup and its seed."""

    value: int
    setting: int
    setup: Setup
    seed: np.random.SeedSequence


def sweep_settings(
    param: str, values: Sequence[int], *, settings: int = 5, setup: Setup | None = None,
    rng: RNGLike = None,
) -> list[SweepSetting]:
    """The settings of a sweep of K, J or L, in order (value-major), with their seeds.

    Setting ``s`` of the ``i``-th value has seed ``child_seed(rng, i, s)``; see the
    module docstring for the streams drawn from it.
    """
    param = check_choice(param, "param", SWEEP_PARAMS)
    settings = check_int(settings, "settings", low=1)
    base = Setup() if setup is None else setup
    if not isinstance(base, Setup):
        raise ValidationError(
            f"`setup` must be a synthgain.process.Setup. Got {type(base).__name__} instead."
        )
    vals = [check_int(v, "values", low=0 if param != "K" else 1) for v in values]
    root = seed_sequence(rng)
    return [
        SweepSetting(v, s, base.replace(**{param: v}), child_seed(root, i, s))
        for i, v in enumerate(vals)
        for s in range(settings)
    ]


def _terms_row(param: str, st: SweepSetting, compute_kwargs: dict[str, Any]) -> dict[str, Any]:
    chain = chain_from_setup(st.setup, rng=child_seed(st.seed, PROCESS_STREAM))
    terms = compute_terms(chain, rng=child_seed(st.seed, TERMS_STREAM), **compute_kwargs)
    row: dict[str, Any] = {f"param_{param}": st.value, "setting": st.setting}
    row.update({k: e.value for k, e in terms.terms.items()})
    row.update({f"stderr_{k}": e.stderr for k, e in terms.terms.items()})
    for verdict in check_inequalities(terms):
        row[f"verdict_{verdict.name}"] = verdict.verdict
        row[f"margin_{verdict.name}"] = verdict.margin
    return row


def sweep_terms(
    param: str,
    values: Sequence[int],
    *,
    settings: int = 5,
    setup: Setup | None = None,
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
        Setting ``s`` of the ``i``-th value has seed ``ss = child_seed(rng, i, s)``;
        ``G`` and ``M`` come from child ``PROCESS_STREAM`` (0) of ``ss``, the terms from
        child ``TERMS_STREAM`` (4).
    **compute_kwargs
        Passed to :func:`compute_terms`.

    Returns
    -------
    pandas.DataFrame
        One row per (value, setting): ``param_<param>``, ``setting``, one column per term
        (and ``stderr_<term>``), ``verdict_<inequality>`` / ``margin_<inequality>`` per
        inequality. :func:`synthgain.experiments.theory_sweep.sweep_terms_klgap` adds each
        setting's KL Gap.
    """
    import pandas as pd

    plan = sweep_settings(param, values, settings=settings, setup=setup, rng=rng)
    return pd.DataFrame([_terms_row(param, st, compute_kwargs) for st in plan])
