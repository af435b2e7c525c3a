"""The random families of benchmarks/_families.py: exact densities and truths, and the
audit's information measures on members the calibration never saw."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import integrate, special, stats

from synthgain.mixture import GaussianMixture

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _families as F
import calibration as cal


def _one(kind: str, scales: np.ndarray, nu: float = 4.0) -> Any:
    return F.Member(np.array([1.0]), np.zeros((1, F.D)), scales[None, :], (kind,),
                    np.array([nu]))


def test_student_density_matches_scipy_and_direct_integration() -> None:
    g = np.random.default_rng(0)
    s, nu = np.exp(0.5 * g.normal(size=F.D)), 3.3
    x = 3 * g.normal(size=(6, F.D))
    ref = stats.multivariate_t(loc=np.zeros(F.D), shape=np.diag(s ** 2), df=nu).logpdf(x)
    assert np.allclose(F._student(x, s, nu, 0.0), ref, atol=1e-10)
    tau = 0.7  # convolved with N(0, tau^2 I): the Gamma scale mixture integrated directly

    def direct(r: np.ndarray) -> float:
        def f(w: float) -> float:
            var = s ** 2 / w + tau ** 2
            return float(np.exp(stats.gamma(nu / 2, scale=2 / nu).logpdf(w)
                                - 0.5 * np.sum(r ** 2 / var + np.log(2 * np.pi * var))))
        return float(np.log(integrate.quad(f, 0, np.inf, limit=500, epsabs=0,
                                           epsrel=1e-10)[0]))

    got = F._student(x, s, nu, tau)
    assert np.allclose(got, [direct(r) for r in x], atol=1e-6)


def test_box_and_gaussian_densities() -> None:
    h, tau = np.array([1.3]), 0.2
    for v in (0.0, 1.2, 2.0, -3.0):
        ref = integrate.quad(lambda t, v=v: stats.norm.pdf(v - t, scale=tau) / (2 * h[0]),
                             -h[0], h[0], points=[v] if abs(v) < h[0] else None)[0]
        assert F._box(np.array([[v]]), h, tau)[0] == pytest.approx(np.log(ref), abs=1e-8)
    assert np.isfinite(F._box(np.array([[40.0]]), h, tau)[0])  # far tail: no log(0)
    g = np.random.default_rng(1)
    member = F.draw_member(g, "gaussian")
    x = g.normal(size=(50, F.D))
    gm = GaussianMixture(member.weights, member.means,
                         np.stack([np.diag(s ** 2 + 0.3 ** 2) for s in member.scales]))
    assert np.allclose(member.logpdf(x, 0.3), gm.logpdf(x), atol=1e-9)


def test_truths_match_closed_forms() -> None:
    # one Gaussian component: H = sum log(s) + d/2 log(2 pi e); paraphrase noise tau:
    # I = 1/2 sum log(1 + s^2 / tau^2); class-level with one class: I = 0. A box:
    # H = sum log(2 h). A Student t: its closed-form entropy. Monte Carlo to 4 se.
    s = np.exp(0.5 * np.random.default_rng(2).normal(size=F.D))
    h_gauss = float(np.sum(np.log(s)) + F.D / 2 * np.log(2 * np.pi * np.e))
    para = F.Case(_one("gaussian", s), "paraphrase", tau=0.4)
    t = para.truths(40_000, rng=0)
    assert abs(t["h_anchor"] - h_gauss) < 4 * t["h_anchor_se"]
    mi = 0.5 * np.sum(np.log1p(s ** 2 / 0.4 ** 2))
    assert abs(t["mi"] - mi) < 4 * t["mi_se"] + 1e-3
    dh = 0.5 * np.sum(np.log1p(0.4 ** 2 / s ** 2))  # H(A + noise) - H(A), Gaussian
    assert abs(t["dh_synthetic"] - dh) < 4 * t["dh_synthetic_se"] + 1e-3
    assert t["gain"] == pytest.approx(t["dh_synthetic"] - t["mi"], abs=1e-9)
    cls = F.Case(_one("uniform", s), "class").truths(20_000, rng=1)
    assert cls["mi"] == pytest.approx(0.0, abs=1e-12)
    assert cls["h_anchor"] == pytest.approx(np.sum(np.log(2 * np.sqrt(3) * s)), abs=1e-9)
    nu, d = 4.0, F.D
    h_t = (np.sum(np.log(s)) + d / 2 * np.log(nu * np.pi) + special.gammaln(nu / 2)
           - special.gammaln((nu + d) / 2)
           + (nu + d) / 2 * (special.digamma((nu + d) / 2) - special.digamma(nu / 2)))
    tt = F.Case(_one("t", s, nu), "class").truths(40_000, rng=2)
    assert abs(tt["h_anchor"] - h_t) < 4 * tt["h_anchor_se"]


def test_divergence_truths_match_closed_forms() -> None:
    # one isotropic Gaussian with paraphrase noise tau: P = N(0, I), Q = N(0, (1 + tau^2) I),
    # whose JS and TV are one-dimensional integrals (calibration.scale_divergences); with
    # anisotropic scales and the target T = N(0, s^2 + target_tau^2), the KL gap
    # KL(P||T) - KL(Q||T) is a sum over coordinates. Monte Carlo to 4 se.
    tau = 0.8
    iso = F.Case(_one("gaussian", np.ones(F.D)), "paraphrase", tau=tau).divergences(
        40_000, rng=3)
    ref = cal.scale_divergences(F.D, 1 + tau ** 2)
    for key in ("js", "tv"):
        assert abs(iso[key] - ref[key]) < 4 * iso[key + "_se"] + 1e-3, key
    s = np.exp(0.5 * np.random.default_rng(4).normal(size=F.D))
    case = F.Case(_one("gaussian", s), "paraphrase", tau=0.5, target_tau=0.3)
    v = case.divergences(40_000, rng=5)

    def kl(a: np.ndarray, b: np.ndarray) -> float:  # KL(N(0, a) || N(0, b)), diagonal
        return float(0.5 * np.sum(a / b - 1 - np.log(a / b)))
    t = s ** 2 + 0.3 ** 2
    gap = kl(s ** 2, t) - kl(s ** 2 + 0.5 ** 2, t)
    assert abs(v["gap"] - gap) < 4 * v["gap_se"] + 1e-3
    # the halves against M = (P + Q) / 2: kl_x - kl_y = gap and kl_x = gap / 2 + JS(P, Q)
    # hold draw by draw (identities of KL and JS, as in calibration.truths)
    assert v["kl_x"] - v["kl_y"] == pytest.approx(v["gap"], abs=1e-9)
    assert v["kl_x"] == pytest.approx(v["gap"] / 2 + v["js"], abs=1e-9)
    # class-level provenance keeps the anchors' marginal: JS = TV = 0 exactly, gap ~ 0
    cls = F.Case(_one("t", s), "class", target_tau=0.3).divergences(20_000, rng=6)
    assert cls["js"] == 0.0 and cls["tv"] == 0.0
    assert abs(cls["gap"]) < 4 * cls["gap_se"]
    # TV is a share and JS at most log 2, whatever the member
    for seed in range(6):
        w = F.draw_case(seed).divergences(5_000, rng=seed)
        assert 0.0 <= w["tv"] <= 1.0 and 0.0 <= w["js"] <= np.log(2) + 1e-12


def test_cases_are_drawn_from_their_seed_alone() -> None:
    a, b = F.draw_case(5), F.draw_case(np.random.SeedSequence(5))
    assert a.describe() == b.describe() and np.array_equal(a.anchor.means, b.anchor.means)
    x1, s1 = a.sample(30, np.random.default_rng(0))
    x2, s2 = b.sample(30, np.random.default_rng(0))
    assert np.array_equal(x1, x2) and np.array_equal(s1, s2)
    kinds = {F.draw_case(i).provenance for i in range(30)}
    assert kinds == set(F.PROVENANCE)


#: a seed the calibration never used (benchmarks/calibration.py draws from 20250601)
UNSEEN = 20261207
#: the audit's information outputs and the truth each estimates; ``delta_h`` is
#: H(anchor) - H(synthetic), the others as in _families.Case.truths
OUTPUTS = {"delta_h": "-dh_synthetic", "entropy_synthetic": "dh_synthetic",
           "mi_prompt_synthetic": "mi", "information_gain": "gain"}


def _covers(est: Any, truth: float) -> bool:
    lo, hi = est.ci()
    bound = est.params.get("bound")
    return bool((lo <= truth or bound == "upper") and (truth <= hi or bound == "lower"))


def test_audit_information_intervals_cover_on_unseen_family_members() -> None:
    # 24 members of the random families (8 per provenance kind) drawn from a seed the
    # calibration never saw, at 300 and 1,000 rows: every information number the audit
    # reports (a point estimate, or a bound read as one) covers its truth in >= 90 % of
    # the members where it is reported; what it does not report carries the reason
    from synthgain._rng import child_seed
    from synthgain.audit import Dataset, run_audit

    reported = dict.fromkeys(OUTPUTS, 0)
    covered = dict.fromkeys(OUTPUTS, 0)
    for rep in range(24):
        case = F.draw_case(child_seed(UNSEEN, "case", rep), F.PROVENANCE[rep % 3])
        n = (300, 1000)[rep // 3 % 2]
        a, s = case.sample(n, np.random.default_rng(child_seed(UNSEEN, "data", rep)))
        truth = case.truths(20_000, rng=child_seed(UNSEEN, "truth", rep))
        res = run_audit(a, Dataset.from_arrays(s, anchor_ids=[str(i) for i in range(n)],
                                               name="synthetic"), rng=rep)
        rec = {r.key: r for r in res.records if r.group == "information"}
        for key, t in OUTPUTS.items():
            r = rec[key]
            if r.estimate is None:
                assert r.reason is not None and str(r.reason), key
                continue
            reported[key] += 1
            value = -truth["dh_synthetic"] if t.startswith("-") else truth[t]
            covered[key] += _covers(r.estimate, value)
    for key in OUTPUTS:
        if reported[key]:
            assert covered[key] >= 0.9 * reported[key], (key, covered[key], reported[key])
    # the calibration table finds no entropy-difference or mutual-information estimator
    # valid over the random families at any tabulated size (docs/estimators.md), so the
    # audit reports none of them here, and says which failing cell decides it
    assert reported == dict.fromkeys(OUTPUTS, 0)
    assert "on random family members" in str(rec["mi_prompt_synthetic"].reason)
    assert "on random family members" in str(rec["delta_h"].reason)


@pytest.mark.parametrize(("estimator", "case"), [("entropy_diff", "family_paraphrase"),
                                                 ("mixture_mi", "family_class")])
def test_the_calibrations_verdict_replicates_on_unseen_members(estimator: str, case: str
                                                               ) -> None:
    # the cells that make the two estimators the audit used to report invalid, rerun on
    # 20 members of the family drawn from a seed the table never used, at 300 rows: the
    # coverage stays far below 0.90 (table, seed 20250601: 0.78 and 0.32 over 60
    # members), so withholding them is not an accident of the calibration's draw
    (cell,) = cal.run_cell(estimator, case, 300, 8, 20, seed=UNSEEN)
    assert not cal.cell_valid(cell)
    assert cell["coverage"] <= 0.85, cell


def test_audit_divergences_hold_on_unseen_family_members() -> None:
    # 18 members drawn from a seed the calibration never saw (6 per provenance kind), at
    # 300 rows with a target: the JS and TV lower bounds the audit reports between the
    # anchors and the synthetic rows stay at or below their truths (the table: lower
    # coverage 1.00 on every family cell); the mixture KL gap, valid at no size over the
    # families, is withheld with the calibration's reason
    from synthgain._rng import child_seed
    from synthgain.audit import Dataset, run_audit

    reported = covered = 0
    for rep in range(18):
        case = F.draw_case(child_seed(UNSEEN, "divergences", rep), F.PROVENANCE[rep % 3])
        g = np.random.default_rng(child_seed(UNSEEN, "divergence_data", rep))
        a, s = case.sample(300, g)
        t = case.sample_target(300, g)
        truth = case.divergences(20_000, rng=child_seed(UNSEEN, "divergence_truth", rep))
        res = run_audit(a, Dataset.from_arrays(s, name="synthetic"), t, rng=rep, repeats=6)
        rec = {(r.group, r.key): r for r in res.records}
        for key in ("js", "tv"):
            r = rec["divergences", f"{key}_anchor_synthetic"]
            if r.estimate is None:
                continue  # near-copies above the limit (paraphrases of tiny noise)
            reported += 1
            covered += r.estimate.ci()[0] <= truth[key] + 3 * truth[key + "_se"]
        gap = rec["kl_gap", "mixture"]
        assert gap.estimate is None and gap.code == "not_valid_at_any_size"
        assert "on random family members" in str(gap.reason)
    assert reported >= 24, reported
    assert covered == reported, (covered, reported)
