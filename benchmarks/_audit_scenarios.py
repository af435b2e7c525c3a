"""Scenarios for the audit's null coverage and power, and their tallies.

Shared by ``benchmarks/audit_null_power.py`` (the tables of docs/audit.md) and
``tests/audit/test_null_audit.py`` (the suite's null check), so both run exactly the same
data through :func:`synthgain.audit.run_audit`.

* **Null**: anchor, synthetic and target rows drawn i.i.d. from one distribution (a
  Gaussian with a decaying spectrum in a random basis; a multivariate Student t with
  the same scale; tight clusters, where real rows are near-copies of one another by
  chance). Every comparative measure of the audit is reported as an excess over
  chance, whose truth is then 0: its 95 % interval should contain 0.
* **Power**: the same distribution with one known difference between the synthetic data
  and the anchors (a mean shift, a missing class, near-copies, an irrelevant class).
* **Digits**: scikit-learn's bundled 8 x 8 digits (64-d pixels); anchors miss two of
  the task's five classes and three synthetic sets differ in what they add.

Every synthetic row carries provenance (``anchor_ids``), so the information measures
(I(prompt; synthetic), dI) are exercised too. Every case is seeded from
``(SEED, kind, scenario, sizes, d, rep)`` alone, so a case's result does not depend on
which process runs it or in what order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from synthgain.audit import Dataset, run_audit

SEED = 20_250_601
#: the groups of records that compare datasets (all but the probe's accuracies)
COMPARATIVE = ("novelty", "divergences", "kl_gap", "information", "fidelity", "diversity")
#: (anchor, synthetic, target) rows
SIZES: tuple[tuple[int, int, int], ...] = ((50, 300, 100), (20, 600, 150), (300, 300, 300))
DIMS = (8, 64)
NULL_REPS = 20
POWER_REPS = 10
DIGITS_SEEDS = 5
#: the null families: "gaussian" at every size and d; at the first size only, "student_t"
#: (5 degrees of freedom, heavy tails) and "clustered" (CLUSTERS tight clusters of sd
#: CLUSTER_SD times the Gaussian's, at centres drawn from it once: real rows then fall
#: within the near-copy margin of one another by chance, so the near-copy rate's null is
#: not 0)
NULL_FAMILIES = ("gaussian", "student_t", "clustered")
T_DOF = 5
CLUSTERS, CLUSTER_SD = 30, 0.05
SHIFTS = ("mean_shift", "missing_class", "near_copies", "irrelevant_class")
#: mean shift: MEAN_SHIFT standard deviations along each of the SHIFT_DIRECTIONS leading
#: principal directions; missing class: components at +-MODE standard deviations along
#: the leading direction; irrelevant class: IRRELEVANT_SHARE of the synthetic rows from a
#: component FAR standard deviations away along it; near-copies: Gaussian noise of
#: COPY_NOISE times the smallest standard deviation added to resampled anchors
MEAN_SHIFT, SHIFT_DIRECTIONS = 0.5, 3
MODE = 2.0
FAR, IRRELEVANT_SHARE = 6.0, 0.3
COPY_NOISE = 1e-3
#: digits: the task's classes, the classes the anchors have, rows per class of each set;
#: 40 anchors per class, so that the anchor/synthetic comparisons run at m = 120 rows, above
#: the mixture KL gap's calibrated minimum (100 in d = 64; at 20 per class, m = 60 and the
#: audit withholds the gap)
TASK_CLASSES = (0, 1, 2, 3, 4)
ANCHOR_CLASSES = (0, 1, 2)
IRRELEVANT_CLASSES = (5, 6, 7, 8, 9)
DIGITS_ANCHORS_PER_CLASS, DIGITS_TARGET_PER_CLASS, DIGITS_SYNTHETIC_PER_CLASS = 40, 30, 60
DIGITS_SCENARIOS = ("copy", "knows", "irrelevant")
#: pixel units (0 to 16): the "copy" noise
DIGITS_NOISE = 1e-2
#: (description, measure with the larger value, measure with the smaller value)
DIGITS_ORDERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("near-copy rate: copy > knows", "novelty", "memorisation", "copy", "knows"),
    ("JS(synthetic, target): irrelevant > knows", "divergences", "js_synthetic_target",
     "irrelevant", "knows"),
)
# (dI: knows > copy, and the mixture KL gap: knows > copy and knows > irrelevant, were
# orders here; both are valid at no size over the calibration's random families and are
# withheld in every audit, so they can no longer be read)

#: the audit's reason for withholding a value whose interval lies wholly below chance
BELOW_CHANCE = "below what chance gives"

_KIND_CODE = {"null": 1, "power": 2, "digits": 3}
_SCENARIO_CODE = {name: i for i, name in enumerate(NULL_FAMILIES + SHIFTS + DIGITS_SCENARIOS)}


@dataclass(frozen=True)
class Case:
    """One audit: ``kind`` (null, power, digits), its scenario, sizes, dimension, rep."""

    kind: str
    scenario: str
    sizes: tuple[int, int, int]
    d: int
    rep: int

    def seeds(self) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
        """The data's and the audit's seeds, from the case alone."""
        key = [SEED, _KIND_CODE[self.kind], _SCENARIO_CODE[self.scenario], *self.sizes,
               self.d, self.rep]
        data, audit = np.random.SeedSequence(key).spawn(2)
        return data, audit


# --- the distributions ---------------------------------------------------------------

@dataclass(frozen=True)
class Population:
    """N(0, B diag(var) B^T): variances 0.2 + 4 * 0.7^k in a random orthonormal basis B
    (and the variants of NULL_FAMILIES)."""

    basis: np.ndarray  # (d, d), columns are the principal directions
    sd: np.ndarray  # (d,), decreasing
    centres: np.ndarray  # (CLUSTERS, d), the "clustered" family's

    def draw(self, n: int, gen: np.random.Generator, family: str = "gaussian") -> np.ndarray:
        z = gen.normal(size=(n, self.sd.size)) * self.sd
        if family == "student_t":
            z /= np.sqrt(gen.chisquare(T_DOF, size=(n, 1)) / T_DOF)
        elif family == "clustered":
            return self.centres[gen.integers(0, CLUSTERS, n)] + CLUSTER_SD * z @ self.basis.T
        elif family != "gaussian":
            raise ValueError(f"unknown family {family!r}")
        return z @ self.basis.T

    def direction(self, k: int) -> np.ndarray:
        """The k-th principal direction scaled to one standard deviation."""
        return self.sd[k] * self.basis[:, k]


@cache
def population(d: int) -> Population:
    """The scenarios' distribution in dimension ``d`` (the same for every case)."""
    gen = np.random.default_rng([SEED, d])
    q, r = np.linalg.qr(gen.normal(size=(d, d)))
    basis = q * np.sign(np.diag(r))
    sd = np.sqrt(0.2 + 4.0 * 0.7 ** np.arange(d))
    centres = (gen.normal(size=(CLUSTERS, d)) * sd) @ basis.T
    return Population(basis, sd, centres)


def _datasets(anchor: np.ndarray, synthetic: np.ndarray, target: np.ndarray,
              provenance: Sequence[int] | np.ndarray) -> tuple[Dataset, Dataset, Dataset]:
    return (Dataset.from_arrays(anchor, name="anchor"),
            Dataset.from_arrays(synthetic, anchor_ids=[str(int(i)) for i in provenance],
                                name="synthetic"),
            Dataset.from_arrays(target, name="target"))


def null_data(family: str, sizes: tuple[int, int, int], d: int, gen: np.random.Generator
              ) -> tuple[Dataset, Dataset, Dataset]:
    """Anchor, synthetic and target rows i.i.d. from one distribution; each synthetic row's
    provenance a random anchor (independent of the row, so I(prompt; synthetic) = 0)."""
    pop = population(d)
    na, ns, _ = sizes
    a, s, t = (pop.draw(n, gen, family) for n in sizes)
    return _datasets(a, s, t, gen.integers(0, na, ns))


def shift_data(shift: str, sizes: tuple[int, int, int], d: int, gen: np.random.Generator
               ) -> tuple[Dataset, Dataset, Dataset]:
    """Anchors and target from the task's distribution; synthetic data with one known
    difference (module constants give the sizes of the shifts)."""
    pop = population(d)
    na, ns, nt = sizes
    prov = gen.integers(0, na, ns)
    if shift == "missing_class":
        mode = MODE * pop.direction(0)

        def mixture(n: int) -> np.ndarray:
            return pop.draw(n, gen) + np.where(gen.random((n, 1)) < 0.5, mode, -mode)
        a, t = mixture(na), mixture(nt)
        s = pop.draw(ns, gen) + mode
        return _datasets(a, s, t, prov)
    a, t = pop.draw(na, gen), pop.draw(nt, gen)
    if shift == "mean_shift":
        s = pop.draw(ns, gen) + MEAN_SHIFT * sum(pop.direction(k)
                                                 for k in range(SHIFT_DIRECTIONS))
    elif shift == "near_copies":
        s = a[prov] + COPY_NOISE * pop.sd.min() * gen.normal(size=(ns, d))
    elif shift == "irrelevant_class":
        s = pop.draw(ns, gen)
        far = gen.random(ns) < IRRELEVANT_SHARE
        s[far] += FAR * pop.direction(0)
    else:
        raise ValueError(f"unknown shift {shift!r}")
    return _datasets(a, s, t, prov)


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def digits_data(scenario: str, seed: int) -> tuple[Dataset, Dataset, Dataset]:
    """Anchors of classes ANCHOR_CLASSES, a target of TASK_CLASSES, and the synthetic set
    of ``scenario`` (anchors and target depend on ``seed`` only, not on the scenario)."""
    x, y = _digits()
    gen = np.random.default_rng([SEED, _KIND_CODE["digits"], seed])
    order = {c: gen.permutation(np.flatnonzero(y == c)) for c in range(10)}
    na, nt, ns = (DIGITS_ANCHORS_PER_CLASS, DIGITS_TARGET_PER_CLASS,
                  DIGITS_SYNTHETIC_PER_CLASS)
    anchors = np.concatenate([order[c][:na] for c in ANCHOR_CLASSES])
    a_class = y[anchors]
    target = np.concatenate([order[c][na:na + nt] for c in TASK_CLASSES])
    rest = {c: order[c][na + nt:] for c in TASK_CLASSES}
    g = np.random.default_rng([SEED, _KIND_CODE["digits"], seed, _SCENARIO_CODE[scenario]])
    n_syn = ns * len(TASK_CLASSES)
    if scenario == "copy":
        prov = g.integers(0, anchors.size, n_syn)
        s = x[anchors[prov]] + DIGITS_NOISE * g.normal(size=(n_syn, x.shape[1]))
    elif scenario == "knows":
        rows = np.concatenate([rest[c][:ns] for c in TASK_CLASSES])
        s = x[rows]
        prov = np.array([g.choice(np.flatnonzero(a_class == c)) if c in ANCHOR_CLASSES
                         else g.integers(0, anchors.size) for c in y[rows]])
    elif scenario == "irrelevant":
        rows = np.concatenate([order[c][:ns] for c in IRRELEVANT_CLASSES])
        s = x[rows]
        prov = g.integers(0, anchors.size, rows.size)
    else:
        raise ValueError(f"unknown digits scenario {scenario!r}")
    return _datasets(x[anchors], s, x[target], prov)


# --- running cases ---------------------------------------------------------------------

def case_data(case: Case) -> tuple[Dataset, Dataset, Dataset]:
    """The three datasets of ``case``."""
    if case.kind == "digits":
        return digits_data(case.scenario, case.rep)
    gen = np.random.default_rng(case.seeds()[0])
    if case.kind == "null":
        return null_data(case.scenario, case.sizes, case.d, gen)
    return shift_data(case.scenario, case.sizes, case.d, gen)


def run_case(case: Case) -> dict[str, Any]:
    """Audit ``case``; every comparative record as plain data, and the wall time.

    Returns ``{"case", "seconds", "cpu_seconds", "records": {(group, key): row}}`` with
    ``row = {"value", "lo", "hi", "reason", "raw", "null"}`` (value, lo and hi None when
    withheld; raw and null the measure and its null where the audit computed them, also
    when it withholds the value).
    """
    anchor, synthetic, target = case_data(case)
    # digits: the same audit seed for every scenario of a seed (common random numbers)
    rng = (np.random.SeedSequence([SEED, _KIND_CODE["digits"], case.rep])
           if case.kind == "digits" else case.seeds()[1])
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_audit(anchor, synthetic, target, rng=rng, workers=1)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in res.records:
        if rec.group not in COMPARATIVE:
            continue
        row: dict[str, Any] = {"value": None, "lo": None, "hi": None, "reason": None,
                               "raw": rec.raw, "null": None if rec.null is None
                               else rec.null.value}
        if rec.estimate is None:
            row["reason"] = rec.reason or "withheld"
        else:
            lo, hi = rec.estimate.ci()
            row.update(value=float(rec.estimate.value), lo=float(lo), hi=float(hi))
        rows[rec.group, rec.key] = row
    return {"case": case, "seconds": seconds, "cpu_seconds": cpu, "records": rows}


def run_cases(cases: Sequence[Case], jobs: int = 1,
              progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """:func:`run_case` of every case, in order; ``jobs`` > 1: joblib (loky) processes,
    each with BLAS limited to one thread."""
    t0 = time.perf_counter()

    def report(i: int) -> None:
        if progress and ((i + 1) % max(1, len(cases) // 20) == 0 or i + 1 == len(cases)):
            progress(f"{i + 1}/{len(cases)} audits, {time.perf_counter() - t0:.0f} s")

    if jobs == 1:
        from threadpoolctl import threadpool_limits

        out = []
        with threadpool_limits(limits=1):
            for i, c in enumerate(cases):
                out.append(run_case(c))
                report(i)
        return out
    from joblib import Parallel, delayed, parallel_config

    # longest first (the (300, 300, 300) cases), for an even finish; results in order
    order = sorted(range(len(cases)), key=lambda i: -min(cases[i].sizes[:2]))
    res: dict[int, dict[str, Any]] = {}
    with parallel_config(backend="loky", inner_max_num_threads=1):
        par = Parallel(n_jobs=jobs, return_as="generator", batch_size=1)
        for n_done, (i, r) in enumerate(zip(order, par(delayed(run_case)(cases[i])
                                                       for i in order), strict=True)):
            res[i] = r
            report(n_done)
    return [res[i] for i in range(len(cases))]


def null_cases(reps: int = NULL_REPS, families: Iterable[str] = NULL_FAMILIES
               ) -> list[Case]:
    """Gaussian at every size and d; the other families at the first size, every d."""
    out = []
    for fam in families:
        for sizes in (SIZES if fam == "gaussian" else SIZES[:1]):
            out += [Case("null", fam, sizes, d, r) for d in DIMS for r in range(reps)]
    return out


def power_cases(reps: int = POWER_REPS) -> list[Case]:
    return [Case("power", s, sizes, d, r) for s in SHIFTS for sizes in SIZES for d in DIMS
            for r in range(reps)]


def digits_cases(seeds: int = DIGITS_SEEDS) -> list[Case]:
    return [Case("digits", s, (DIGITS_ANCHORS_PER_CLASS * len(ANCHOR_CLASSES),
                               DIGITS_SYNTHETIC_PER_CLASS * len(TASK_CLASSES),
                               DIGITS_TARGET_PER_CLASS * len(TASK_CLASSES)), 64, seed)
            for seed in range(seeds) for s in DIGITS_SCENARIOS]


# --- tallies ------------------------------------------------------------------------

Cell = tuple[str, tuple[int, int, int], int]  # (scenario, sizes, d)


def measures(results: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (group, key) seen, in the audit's order."""
    seen: dict[tuple[str, str], None] = {}
    for r in results:
        seen.update(dict.fromkeys(r["records"]))
    return list(seen)


def below_chance(reason: str | None) -> bool:
    """Whether a value was withheld because its interval lies wholly below chance (a
    divergence below its null by more than the interval allows)."""
    return reason is not None and BELOW_CHANCE in reason


def tally(results: Iterable[dict[str, Any]], *, null: bool) -> dict[
        tuple[str, str], dict[Cell, dict[str, Any]]]:
    """Per measure and cell: reps, reported, hits, withheld, below and the reasons.

    ``null=True``: a hit is an interval that contains 0 (coverage), and a value withheld
    because its interval lies wholly below chance (:func:`below_chance`) counts as a
    repetition whose interval excludes 0 (``below``; it is not in ``withheld``). ``False``:
    a hit is an interval that excludes 0 (a detection), and every withheld value is left
    out.
    """
    out: dict[tuple[str, str], dict[Cell, dict[str, Any]]] = {}
    for r in results:
        c = r["case"]
        cell = (c.scenario, c.sizes, c.d)
        for m, row in r["records"].items():
            t = out.setdefault(m, {}).setdefault(cell, {"reps": 0, "reported": 0, "hits": 0,
                                                        "withheld": 0, "below": 0,
                                                        "reasons": {}})
            t["reps"] += 1
            if row["value"] is None:
                if null and below_chance(row["reason"]):
                    t["below"] += 1
                    t["reported"] += 1
                    continue
                t["withheld"] += 1
                t["reasons"][row["reason"]] = t["reasons"].get(row["reason"], 0) + 1
                continue
            t["reported"] += 1
            contains = row["lo"] <= 0.0 <= row["hi"]
            t["hits"] += int(contains if null else not contains)
    return out


def rate(t: dict[str, Any]) -> float | None:
    """Hits over reported repetitions (None: all withheld)."""
    return t["hits"] / t["reported"] if t["reported"] else None


def pooled(cells: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One tally of several cells."""
    out: dict[str, Any] = {"reps": 0, "reported": 0, "hits": 0, "withheld": 0, "below": 0,
                           "reasons": {}}
    for t in cells:
        for k in ("reps", "reported", "hits", "withheld", "below"):
            out[k] += t[k]
        for why, n in t["reasons"].items():
            out["reasons"][why] = out["reasons"].get(why, 0) + n
    return out


def digits_orders(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each order of DIGITS_ORDERS at each seed: both values, and whether it holds on the
    point estimates (None: a value is withheld) and with disjoint intervals."""
    by = {(r["case"].rep, r["case"].scenario): r["records"] for r in results}
    out = []
    for seed in sorted({s for s, _ in by}):
        for label, group, key, big, small in DIGITS_ORDERS:
            hi_row, lo_row = by[seed, big][group, key], by[seed, small][group, key]
            ok = sep = None
            if hi_row["value"] is not None and lo_row["value"] is not None:
                ok = hi_row["value"] > lo_row["value"]
                sep = hi_row["lo"] > lo_row["hi"]
            out.append({"seed": seed, "order": label, "measure": (group, key),
                        "larger": (big, hi_row), "smaller": (small, lo_row), "holds": ok,
                        "separated": sep})
    return out
