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
   estimator's own randomness. Two spreads of one evaluation at ``m`` rows are measured:

   - ``s_0``, the spread of ``g_r`` over splits: by the permutation principle, the
     sampling standard deviation of one evaluation on two samples of ``m`` rows of one
     distribution;
   - ``s_h``, the sampling spread where the datasets differ, by half-sampling: ``f`` on
     two disjoint halves of every dataset the measure sees (``P``, ``Q`` and, for a
     measure of a third, fixed sample such as the KL gap's target, that sample too),
     ``H`` times; ``(f_a - f_b)^2 / 2`` estimates the variance at the half size, which is
     scaled to ``m`` rows by the size ratio (an estimator's variance falls as ``1/m``;
     where it falls faster, as for a divergence under its null, this over-states it).
     Without it a dataset used whole contributes no spread at all: ``f_r`` then varies
     only by the estimator's own randomness, and a fixed target's sampling error is in
     neither ``s_f`` nor ``s_0``. Where there is no fixed sample and each subset holds
     at most half of its dataset (share ``m / n <= 1/2``), the subsets' own spread is
     the sampling spread with the finite-population factor ``1 - m / n`` (the share of
     the largest), so ``s_h = s_f / sqrt(1 - m / n)`` and no half-samples are drawn.

   The mean over ``R`` evaluations that share rows has variance
   ``s^2 (1/R + (1 - 1/R) phi)``, with ``phi`` the largest share of a dataset's rows
   that one evaluation uses (1 when a dataset is used whole: then averaging removes
   nothing). So::

       se^2 = max(s_f, s_0, s_h)^2 (1/R + (1 - 1/R) phi) + s_0^2 (1/R + (1 - 1/R) phi_0)

   with ``s_f`` the spread of ``f_r`` and ``phi_0 = min(1, 2m / n_ref)``; the 95 %
   interval is ``raw - null +- t se`` with ``t`` the 97.5 % quantile of Student's t with
   ``R - 1`` degrees of freedom (the spreads are estimated from ``R`` evaluations).
   The rule is conservative where it approximates (it assumes all of the variance comes
   from the most-used dataset); its coverage under the null and under known differences
   is measured by the calibration table (docs/estimators.md) and the suite's null test
   (docs/audit.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from scipy import stats

from .._rng import RNGLike, child_generator, seed_sequence
from ..exceptions import ValidationError
from ..measures import Estimate

__all__ = ["Comparison", "Null", "compare", "matched_rows"]

#: a measure of two samples: (x, y, generator) -> {output name: value}; a measure that
#: also uses a third, fixed sample (``compare(..., fixed=t)``) is called (x, y, generator, t)
Measure = Callable[..., Mapping[str, float]]


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
    half_sd : float
        The sampling spread of one evaluation of the measure on the datasets compared,
        at ``rows`` rows, from half-samples (module docstring); NaN when not measured.
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
    half_sd: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "sd": self.sd, "method": self.method,
                "repeats": self.repeats, "rows": self.rows,
                "half_sample_sd": None if math.isnan(self.half_sd) else self.half_sd}


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


#: largest share of a dataset that the subsets may use for their spread to stand in for the
#: sampling spread (finite-population corrected) instead of half-samples
_FPC_MAX_SHARE = 0.5


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


def _half_sample_variance(
    evaluate: Callable[[np.ndarray, np.ndarray, np.random.Generator, np.ndarray | None],
                       Mapping[str, float]],
    p: np.ndarray, q: np.ndarray, fixed: np.ndarray | None, *, m: int, pairs: int,
    paired: bool, root: np.random.SeedSequence,
) -> tuple[dict[str, float], float]:
    """Variance of one evaluation from ``pairs`` pairs of disjoint half-samples of every
    dataset, and the factor that scales it to the sizes of the real evaluations.

    Each pair draws disjoint subsets of ``h = min(m, n_p // 2, n_q // 2)`` rows of ``p``
    and of ``q`` (the same rows of both when ``paired``) and splits ``fixed`` in two; the
    variance at those sizes is ``mean (f_a - f_b)^2 / 2``, scaled by the largest ratio of
    a half's rows to the rows the evaluations use (variance falling as 1 / rows; the
    largest, so that no dataset's share is under-stated).
    Returns ``({}, nan)`` when the data are too small for halves of 2 rows or
    ``pairs == 0``.
    """
    n_p, n_q = p.shape[0], q.shape[0]
    h = min(m, n_p // 2, n_q // 2)
    n_t = 0 if fixed is None else fixed.shape[0]
    if pairs <= 0 or h < 2 or (fixed is not None and n_t // 2 < 2):
        return {}, float("nan")
    scale = h / m
    if fixed is not None:
        scale = max(scale, (n_t // 2) / n_t)
    diffs: dict[str, list[float]] = {}
    for r in range(pairs):
        g = child_generator(root, "halves", r)
        ip = g.permutation(n_p)[: 2 * h]
        iq = ip if paired else g.permutation(n_q)[: 2 * h]
        it = None if fixed is None else g.permutation(n_t)
        out = []
        for half in (0, 1):
            sl = slice(half * h, (half + 1) * h)
            t = None
            if fixed is not None and it is not None:
                t = fixed[np.sort(it[half * (n_t // 2):(half + 1) * (n_t // 2)])]
            out.append(evaluate(p[np.sort(ip[sl])], q[np.sort(iq[sl])],
                                child_generator(root, "half_measure", r, half), t))
        for key in out[0]:
            diffs.setdefault(key, []).append(float(out[0][key]) - float(out[1][key]))
    var = {key: float(np.mean(np.square(v)) / 2.0) for key, v in diffs.items()}
    return var, scale


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
    fixed: np.ndarray | None = None,
    halves: int | None = None,
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
    fixed : ndarray of shape (n_t, d), optional
        A third sample the measure uses whole in every evaluation (the KL gaps' target);
        ``measure`` is then called ``measure(x, y, gen, fixed)``. It is held fixed by the
        null and halved with ``p`` and ``q`` for the half-sample spread, so its sampling
        error is in the interval.
    halves : int, optional
        Pairs of half-samples for the sampling spread ``s_h`` (default ``repeats``; 0
        turns it off). Needs at least 2 rows per half of every dataset.
    rng : None, int, SeedSequence or Generator
        Subsets, splits and the measure's own randomness, each from a named stream.

    Returns
    -------
    dict of str to Comparison
    """
    iv = _compare_iv(p, q, reference, rows, repeats, null)
    kind, m, root = _NULLS[iv.null], iv.rows, seed_sequence(rng)

    def evaluate(x: np.ndarray, y: np.ndarray, gen: np.random.Generator,
                 t: np.ndarray | None) -> Mapping[str, float]:
        return measure(x, y, gen) if t is None else measure(x, y, gen, t)

    values: list[Mapping[str, float]] = []
    nulls: list[Mapping[str, float]] = []
    for r in range(repeats):
        ip, iq = kind.subsets(iv.n_p, iv.n_q, m, child_generator(root, "subsets", r))
        x, y = p[ip], q[iq]
        values.append(evaluate(x, y, child_generator(root, "measure", r), fixed))
        a, b = kind.draw(x, y, reference, m, child_generator(root, "null", r))
        nulls.append(evaluate(a, b, child_generator(root, "null_measure", r), fixed))
    share = max(min(1.0, m / iv.n_p), min(1.0, m / iv.n_q))
    pairs = repeats if halves is None else halves
    if fixed is None and share <= _FPC_MAX_SHARE and halves is None:
        pairs = 0  # the subsets' own spread, corrected, is the sampling spread (docstring)
    half_var, half_scale = _half_sample_variance(
        evaluate, p, q, fixed, m=m, pairs=pairs, paired=kind.paired, root=root)
    spread = _Spread(
        repeats=repeats, share=share, half_var=half_var, half_scale=half_scale,
        phi=max(_phi(m, iv.n_p, repeats), _phi(m, iv.n_q, repeats)),
        phi0=kind.phi0(m, iv.n_p, iv.n_q, reference, repeats),
        t=float(stats.t.ppf(0.975, repeats - 1)))
    null_method = kind.describe(reference_name)
    out: dict[str, Comparison] = {}
    for key in values[0]:
        out[key] = spread.comparison(
            key, np.array([v[key] for v in values], dtype=float),
            np.array([v[key] for v in nulls], dtype=float), m=m, null_method=null_method,
            bounds=None if bounds is None else bounds.get(key),
            method=f"{method}_{key}_minus_null" if method else key)
    return out


# --- the input check, then the table of nulls (SciPy's permutation_test pattern) -------


@dataclass(frozen=True)
class _Inputs:
    n_p: int
    n_q: int
    rows: int
    null: str


def _compare_iv(p: np.ndarray, q: np.ndarray, reference: np.ndarray | None, rows: int,
                repeats: int, null: str) -> _Inputs:
    """Every argument check of :func:`compare`, once, before any evaluation."""
    n_p, n_q = p.shape[0], q.shape[0]
    m = int(rows)
    if null not in _NULLS:
        raise ValidationError(f"`null` must be one of {', '.join(map(repr, _NULLS))}. Got "
                              f"{null!r} instead.")
    if repeats < 2:
        raise ValidationError(f"`repeats` must be at least 2. Got {repeats!r} instead.")
    if m < 1 or m > min(n_p, n_q):
        raise ValidationError(f"`rows` must be in [1, {min(n_p, n_q)}]. Got {m} instead.")
    _NULLS[null].check(n_p, n_q, m, reference)
    return _Inputs(n_p, n_q, m, null)


class _SplitNull:
    """Two disjoint subsets of a real reference sample of one distribution."""

    paired = False

    @staticmethod
    def check(n_p: int, n_q: int, m: int, reference: np.ndarray | None) -> None:
        if reference is None or reference.shape[0] < 2 * m:
            have = 0 if reference is None else reference.shape[0]
            raise ValidationError(f"A split null at {m} rows needs a reference of at least "
                                  f"{2 * m} rows; got {have}.")

    @staticmethod
    def subsets(n_p: int, n_q: int, m: int, g: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
        return _subset(n_p, m, g), _subset(n_q, m, g)

    @staticmethod
    def draw(x: np.ndarray, y: np.ndarray, reference: np.ndarray | None, m: int,
             g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        ref = cast(np.ndarray, reference)  # checked by _compare_iv
        idx = g.permutation(ref.shape[0])[: 2 * m]
        return ref[np.sort(idx[:m])], ref[np.sort(idx[m:])]

    @staticmethod
    def describe(reference_name: str) -> str:
        return f"split of the {reference_name}"

    @staticmethod
    def phi0(m: int, n_p: int, n_q: int, reference: np.ndarray | None, repeats: int
             ) -> float:
        return _phi(2 * m, cast(np.ndarray, reference).shape[0], repeats)


class _PermutationNull(_SplitNull):
    """The two subsets' rows pooled and relabelled at random (exact under
    exchangeability)."""

    @staticmethod
    def check(n_p: int, n_q: int, m: int, reference: np.ndarray | None) -> None:
        pass

    @staticmethod
    def draw(x: np.ndarray, y: np.ndarray, reference: np.ndarray | None, m: int,
             g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pool = np.concatenate([x, y])
        perm = g.permutation(2 * m)
        return pool[np.sort(perm[:m])], pool[np.sort(perm[m:])]

    @staticmethod
    def describe(reference_name: str) -> str:
        return "permutation"

    @staticmethod
    def phi0(m: int, n_p: int, n_q: int, reference: np.ndarray | None, repeats: int
             ) -> float:
        return _phi(m, min(n_p, n_q), repeats)


class _PairingNull(_PermutationNull):
    """The pairing of ``p``'s and ``q``'s rows shuffled (a mutual information's null)."""

    paired = True

    @staticmethod
    def check(n_p: int, n_q: int, m: int, reference: np.ndarray | None) -> None:
        if n_p != n_q:
            raise ValidationError("A pairing null needs paired rows (`p` and `q` of one "
                                  "length).")

    @staticmethod
    def subsets(n_p: int, n_q: int, m: int, g: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
        ip = _subset(n_p, m, g)
        return ip, ip

    @staticmethod
    def draw(x: np.ndarray, y: np.ndarray, reference: np.ndarray | None, m: int,
             g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return x, y[g.permutation(m)]

    @staticmethod
    def describe(reference_name: str) -> str:
        return "pairing shuffled"


#: The nulls :func:`compare` can read a measure against, by name.
_NULLS: dict[str, type[_SplitNull]] = {"split": _SplitNull,
                                       "permutation": _PermutationNull,
                                       "pairing": _PairingNull}


@dataclass(frozen=True)
class _Spread:
    """What the interval of every output of one comparison shares (module docstring)."""

    repeats: int
    share: float
    half_var: dict[str, float]
    half_scale: float
    phi: float
    phi0: float
    t: float

    def comparison(self, key: str, f: np.ndarray, g0: np.ndarray, *, m: int,
                   null_method: str, bounds: tuple[float, float] | None,
                   method: str) -> Comparison:
        """One output: the excess of the evaluations ``f`` over the null's ``g0``."""
        raw, nv = float(f.mean()), float(g0.mean())
        s_f, s_0 = float(f.std(ddof=1)), float(g0.std(ddof=1))
        s_h = (math.sqrt(self.half_var[key] * self.half_scale) if key in self.half_var
               else float("nan"))
        if math.isnan(s_h):  # subsets of at most half of each dataset: corrected spread
            s_alt = max(s_f / math.sqrt(1.0 - min(self.share, _FPC_MAX_SHARE)), s_0)
        else:
            s_alt = max(s_f, s_0, s_h)
        se = math.sqrt(s_alt ** 2 * self.phi + s_0 ** 2 * self.phi0)
        excess = raw - nv
        lo, hi = excess - self.t * se, excess + self.t * se
        value, outside = excess, False
        if bounds is not None:
            b_lo, b_hi = bounds
            outside = hi < b_lo or lo > b_hi
            value, lo, hi = (min(max(v, b_lo), b_hi) for v in (excess, lo, hi))
        nul = Null(nv, s_0, null_method, self.repeats, m, s_h)
        est = Estimate(value, se, method, (m, m),
                       {"raw": raw, "null": nv, "excess": excess, "repeats": self.repeats,
                        "null_method": null_method}, interval=(lo, hi))
        return Comparison(est, raw, nul, outside)
