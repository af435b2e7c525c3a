"""Where each of the audit's estimators is valid: the calibration table.

``calibration.json`` (beside this module) is written by ``benchmarks/calibration.py``,
which runs every estimator of :mod:`._estimators`, through :func:`._null.compare` exactly
as the audit does, on cases whose truth is known (Gaussian pairs with and without a
mean shift, mixture pairs, near-duplicates and, for the information estimators, random
families of anchors with synthetic rows made from them: ``benchmarks/_families.py``) at
n from 10 to 10,000 rows per dataset and d in {8, 64, 384}. For each estimator output and dimension it records the smallest
matched size from which the estimate is valid at every tabulated larger size (criteria
in the file and in docs/estimators.md). The audit reports an output only at a size
where it is valid, else it withholds the value and says why.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from ._reasons import Reason

__all__ = ["calibration_table", "min_valid_rows", "why_invalid"]


@lru_cache(maxsize=1)
def calibration_table() -> dict[str, Any]:
    """The parsed calibration.json (``min_rows``, ``criteria``, ``cells``, ...)."""
    text = resources.files("synthgain.audit").joinpath("calibration.json").read_text("utf-8")
    return json.loads(text)


def _tabulated_dim(dims: list[int], d: int) -> int:
    """The smallest tabulated dimension >= d (the largest when d is beyond all)."""
    above = [t for t in dims if t >= d]
    return min(above) if above else max(dims)


def min_valid_rows(estimator: str, output: str, d: int) -> int | None:
    """Smallest matched size at which ``estimator``'s ``output`` is valid in dimension d.

    None when the table shows it valid at no tabulated size (or does not list it). A
    dimension between tabulated ones is read at the next larger one (conservative).
    """
    table = calibration_table()["min_rows"].get(estimator, {}).get(output)
    if not table:
        return None
    dims = sorted(int(t) for t in table)
    v = table[str(_tabulated_dim(dims, d))]
    return None if v is None else int(v)


def _binding(estimator: str, output: str, d: int) -> str:
    """``" (<the failing cell that decides it, in words>)"``, or "" when the table has
    none for it."""
    why = calibration_table().get("binding", {}).get(estimator, {}).get(output, {}).get(str(d))
    return f" ({why})" if why else ""


def why_invalid(estimator: str, output: str, rows: int, d: int) -> Reason | None:
    """None if valid at ``rows`` per dataset in dimension ``d``; else the reason (a
    :class:`~._reasons.Reason`, code ``not_valid_at_any_size``, with the failing cell
    that decides it where the table records one, or ``below_calibrated_size``)."""
    need = min_valid_rows(estimator, output, d)
    dims = sorted(int(t) for t in calibration_table()["min_rows"].get(estimator, {})
                  .get(output, {"0": None}))
    at = _tabulated_dim(dims, d) if dims and dims != [0] else d
    if need is None:
        return Reason("not_valid_at_any_size",
                      f"the calibration table (docs/estimators.md) shows {estimator} "
                      f"({output}) valid at no tabulated size in d = {at}"
                      + _binding(estimator, output, at))
    if rows < need:
        return Reason("below_calibrated_size",
                      f"{estimator} ({output}) is valid from {need:,} rows per dataset in "
                      f"d = {at} (calibration table, docs/estimators.md); only {rows:,} "
                      "here")
    return None
