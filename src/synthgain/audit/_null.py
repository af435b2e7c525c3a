"""Comparisons at matched sample sizes, read against what chance gives at those sizes.

Every comparative measure of the audit goes through :func:`compare`. For two datasets
``P`` and ``Q`` and a measure ``f``:

1. **Matched sizes.** ``f`` is evaluated on ``R`` pairs of random subsets of ``m`` rows
   of each (the same ``m`` for both; a dataset of exactly ``m`` rows is used whole):
   ``f_r = f(P[I_r], Q[J_r])`` and ``raw = mean_r f_r``. Sample sizes alone then cannot
   produce an effect, since every estimator's size-dependent bias is the same on both
   sides.
2. **The null.** The same measure on data known to share one distribution, at the same
   sizes: ``g_r = f(Ref[A_r], Ref[B_r])`` with ``A_r``, ``B_r`` disjoint random subsets
   of ``m`` rows of a real reference sample (``null="split"``: the target, or the
   anchors when there is no target), or on random relabellings of the pooled ``P`` and
   ``Q`` subsets (``null="permutation"``: exact under exchangeability, used where the
   measure involves a third, fixed sample, as the KL gap does), or with the pairing of
   ``P``'s and ``Q``'s rows shuffled (``null="pairing"``: for a mutual information).
   ``null = mean_r g_r`` is what chance alone gives.
3. **The reported value** is ``raw - null``: the excess over chance. For a divergence
   (whose null truth is 0) it is the estimate with the estimator's small-sample bias at
   these sizes removed; it is clipped to the quantity's range (a divergence below 0 is
   "no detectable difference", reported as 0, with the unclipped value kept). An
   interval wholly outside the range (a divergence significantly *below* chance) says
   the estimator is not valid for these data; :attr:`Comparison.outside` flags it.
4. **The interval** includes the sampling error of the rows, not only of the
   estimator's own randomness. The spread ``s_0`` of ``g_r`` over splits is, by the
   permutation principle, the sampling standard deviation of one evaluation of ``f`` on
   two samples of ``m`` rows of one distribution. The mean over ``R`` evaluations that
   share rows has variance ``s^2 (1/R + (1 - 1/R) phi)``, with ``phi`` the largest share
   of a dataset's rows that one evaluation uses (1 when a dataset is used whole: then
   averaging removes nothing). So::

       se^2 = max(s_f, s_0)^2 (1/R + (1 - 1/R) phi) + s_0^2 (1/R + (1 - 1/R) phi_0)

   with ``s_f`` the spread of ``f_r`` (larger than ``s_0`` where the datasets differ)
   and ``phi_0 = min(1, 2m / n_ref)``; the 95 % interval is ``raw - null +- t se`` with
   ``t`` the 97.5 % quantile of Student's t with ``R - 1`` degrees of freedom (the
   spreads are estimated from ``R`` evaluations).
   The rule is conservative where it approximates (it assumes all of the variance comes
   from the most-used dataset); its coverage under the null is measured by the suite's
   null test and written in docs/audit.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from .._rng import RNGLike, child_generator, seed_sequence
from ..exceptions import ValidationError
from ..measures import Estimate

__all__ = ["Comparison", "Null", "compare", "matched_rows"]

#: a measure of two samples: (x, y, generator) -> {output name: value}
Measure = Callable[[np.ndarray, np.ndarray, np.random.Generator], Mapping[str, float]]


@dataclass(frozen=True)
class Null:
    """What the measure gives by chance at the same sizes.

    Attributes
    ----------
    value : float
        Mean of the measure over the null's ``repeats`` evaluations.
    sd : float
        Their standard deviation: the sampling spread of one evaluation at ``rows`` rows
        per dataset when both share one distribution.
    method : str
        ``"split of the target"``, ``"split of the anchors"``, ``"permutation"`` (rows
        relabelled between the two datasets) or ``"pairing shuffled"``.
    repeats : int
    rows : int
        Rows per dataset in every evaluation (the matched size ``m``).
    """

    value: float
    sd: float
    method: str
    repeats: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "sd": self.sd, "method": self.method,
                "repeats": self.repeats, "rows": self.rows}


@dataclass(frozen=True)
class Comparison:
    """One output of :func:`compare`.

    Attributes
    ----------
    estimate : Estimate
        The excess over chance, ``raw - null``, clipped to the quantity's range where it
        has one, with the interval of the module docstring. ``params`` holds ``raw``,
        ``null`` and the unclipped ``excess``.
    raw : float
        The measure at matched sizes (mean over the repeats), before the null is taken
        off.
    null : Null
    outside : bool
        The unclipped interval lies wholly outside the quantity's range (a divergence
        significantly below what chance gives): the estimator is not valid for these data,
        and the caller should withhold the value rather than report the clipped bound.
    """

    estimate: Estimate
    raw: float
    null: Null
    outside: bool = False


def matched_rows(*sizes: int, cap: int) -> int:
    """The matched size: the smallest of ``sizes`` and ``cap``."""
    return int(min(min(sizes), cap))


def _subset(n: int, m: int, gen: np.random.Generator) -> np.ndarray:
    if m >= n:
        return np.arange(n)
    return np.sort(gen.choice(n, m, replace=False))


def _phi(m: int, n: int, repeats: int) -> float:
    share = min(1.0, m / n)
    return 1.0 / repeats + (1.0 - 1.0 / repeats) * share


def compare(
    measure: Measure,
    p: np.ndarray,
    q: np.ndarray,
    reference: np.ndarray | None = None,
    *,
    rows: int,
    repeats: int = 10,
    null: Literal["split", "permutation", "pairing"] = "split",
    reference_name: str = "reference",
    bounds: Mapping[str, tuple[float, float]] | None = None,
    method: str = "",
    rng: RNGLike = None,
) -> dict[str, Comparison]:
    """Evaluate ``measure`` on ``p`` and ``q`` at matched sizes, against its null.

    Parameters
    ----------
    measure : callable
        ``measure(x, y, gen) -> {name: float}``; several outputs may share one
        computation (the classifier test's JS and TV).
    p, q : ndarray of shape (n_p, d), (n_q, d)
        The two datasets (``null="pairing"``: paired rows, ``n_p == n_q``).
    reference : ndarray of shape (n_ref, d), optional
        Real data of one distribution, split for ``null="split"``; needs at least
        ``2 * rows`` rows.
    rows : int
        The matched size ``m``; at most ``min(n_p, n_q)`` (see :func:`matched_rows`).
    repeats : int
        Evaluations of the measure and of its null (``R``, at least 2).
    null : {"split", "permutation", "pairing"}
        How chance is measured (module docstring).
    reference_name : str
        Named in the null's method (``"split of the target"``).
    bounds : mapping of name to (low, high), optional
        The range of each bounded output; its excess is clipped to it.
    method : str
        The measure's name, recorded in each :class:`Estimate`.
    rng : None, int, SeedSequence or Generator
        Subsets, splits and the measure's own randomness, each from a named stream.

    Returns
    -------
    dict of str to Comparison
    """
    n_p, n_q = p.shape[0], q.shape[0]
    m = int(rows)
    if repeats < 2:
        raise ValidationError(f"`repeats` must be at least 2. Got {repeats!r} instead.")
    if m < 1 or m > min(n_p, n_q):
        raise ValidationError(f"`rows` must be in [1, {min(n_p, n_q)}]. Got {m} instead.")
    if null == "split":
        if reference is None or reference.shape[0] < 2 * m:
            have = 0 if reference is None else reference.shape[0]
            raise ValidationError(f"A split null at {m} rows needs a reference of at least "
                                  f"{2 * m} rows; got {have}.")
    elif null == "pairing" and n_p != n_q:
        raise ValidationError("A pairing null needs paired rows (`p` and `q` of one length).")
    root = seed_sequence(rng)
    values: list[Mapping[str, float]] = []
    nulls: list[Mapping[str, float]] = []
    for r in range(repeats):
        g = child_generator(root, "subsets", r)
        if null == "pairing":
            ip = _subset(n_p, m, g)
            iq = ip
        else:
            ip, iq = _subset(n_p, m, g), _subset(n_q, m, g)
        x, y = p[ip], q[iq]
        values.append(measure(x, y, child_generator(root, "measure", r)))
        gn = child_generator(root, "null", r)
        if null == "split":
            assert reference is not None
            idx = gn.permutation(reference.shape[0])[: 2 * m]
            a, b = reference[np.sort(idx[:m])], reference[np.sort(idx[m:])]
        elif null == "permutation":
            pool = np.concatenate([x, y])
            perm = gn.permutation(2 * m)
            a, b = pool[np.sort(perm[:m])], pool[np.sort(perm[m:])]
        else:
            a, b = x, y[gn.permutation(m)]
        nulls.append(measure(a, b, child_generator(root, "null_measure", r)))
    if null == "split":
        assert reference is not None
        null_method = f"split of the {reference_name}"
        phi0 = _phi(2 * m, reference.shape[0], repeats)
    else:
        null_method = "permutation" if null == "permutation" else "pairing shuffled"
        phi0 = _phi(m, min(n_p, n_q), repeats)
    phi = max(_phi(m, n_p, repeats), _phi(m, n_q, repeats))
    t = float(stats.t.ppf(0.975, repeats - 1))
    out: dict[str, Comparison] = {}
    for key in values[0]:
        f = np.array([v[key] for v in values], dtype=float)
        g0 = np.array([v[key] for v in nulls], dtype=float)
        raw, nv = float(f.mean()), float(g0.mean())
        s_f, s_0 = float(f.std(ddof=1)), float(g0.std(ddof=1))
        se = math.sqrt(max(s_f, s_0) ** 2 * phi + s_0 ** 2 * phi0)
        excess = raw - nv
        lo, hi = excess - t * se, excess + t * se
        value, outside = excess, False
        if bounds is not None and key in bounds:
            b_lo, b_hi = bounds[key]
            outside = hi < b_lo or lo > b_hi
            value, lo, hi = (min(max(v, b_lo), b_hi) for v in (excess, lo, hi))
        nul = Null(nv, s_0, null_method, repeats, m)
        est = Estimate(value, se, f"{method}_{key}_minus_null" if method else key, (m, m),
                       {"raw": raw, "null": nv, "excess": excess, "repeats": repeats,
                        "null_method": null_method}, interval=(lo, hi))
        out[key] = Comparison(est, raw, nul, outside)
    return out
