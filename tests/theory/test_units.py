"""Setup.scale: the same setting in other units. Every verdict is unit-free; the terms
that are not move as unit_dependence says."""

import math

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.process import Setup, simulate
from synthgain.theory import (
    chain_from_setup,
    check_inequalities,
    compute_terms,
    differential_margin,
    unit_dependence,
)

SMALL = {"n_prompts": 8, "n_streams": 8, "n_samples": 1000, "n_reference": 16}
SCALES = (1.0, 3.0, 10.0)


def test_scale_multiplies_every_coordinate():
    base, big = (simulate(Setup(K=2, J=1, L=2, noise=0.2, scale=c), rng=4) for c in (1.0, 3.0))
    np.testing.assert_allclose(big.anchors, 3 * base.anchors, rtol=1e-14)
    np.testing.assert_allclose(big.synthetic, 3 * base.synthetic, rtol=1e-14)  # noise too
    for a, b in ((big.ground_truth, base.ground_truth), (big.generator, base.generator)):
        np.testing.assert_allclose(a.means, 3 * b.means, rtol=1e-14)
        np.testing.assert_allclose(a.covariances, 9 * b.covariances, rtol=1e-14)
    np.testing.assert_array_equal(big.synthetic_labels, base.synthetic_labels)
    assert Setup(scale=3.0).noise_sd == 0.0 and Setup(noise=0.5, scale=3.0).noise_sd == 1.5
    with pytest.raises(ValidationError, match="`scale` must be a finite real number in"):
        Setup(scale=0.0)


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["clean", "curation-noise"])
def by_scale(request):
    out = {}
    for c in SCALES:
        chain = chain_from_setup(Setup(K=2, J=1, L=1, n_anchor_per_component=30,
                                       n_synthetic=80, noise=request.param, scale=c), rng=0)
        out[c] = compute_terms(chain, rng=1, **SMALL)
    return out


def test_every_verdict_is_the_same_at_every_scale(by_scale):
    verdicts = {c: [(v.name, v.verdict, v.basis) for v in check_inequalities(t)]
                for c, t in by_scale.items()}
    assert verdicts[1.0] == verdicts[3.0] == verdicts[10.0]
    names = [n for n, _, _ in verdicts[1.0]]
    assert names == ["lemma_3_1", "lemma_4_5", "lemma_4_5_step_21", "lemma_4_5_differential",
                     "theorem_4_7", "theorem_4_10"]
    differential = dict((n, v) for n, v, _ in verdicts[1.0])["lemma_4_5_differential"]
    assert differential in ("holds", "depends on units")


def test_terms_move_as_declared(by_scale):
    # unit-free terms agree to the rounding of the rescaled draws (EM paths and Monte
    # Carlo draws are the same; measured differences are below 1e-9 relative), and a
    # differential entropy of m coordinates gains m log c
    shifts = unit_dependence(Setup(K=2, J=1, L=1, n_anchor_per_component=30, n_synthetic=80))
    base = by_scale[1.0].terms
    checked = 0
    for c in SCALES[1:]:
        for name, est in by_scale[c].terms.items():
            coef = shifts.get(name, 0.0)
            if coef is None:
                continue
            want = base[name].value + coef * math.log(c)
            assert est.value == pytest.approx(want, rel=1e-7, abs=1e-7), (name, c)
            checked += 1
    assert checked > 60
    assert shifts["H_ep"] == 2 * 2 * 4 and shifts["dH"] == (60 - 80) * 2


def test_differential_margin_is_the_margin_at_other_scales(by_scale):
    t1 = by_scale[1.0]
    margins = differential_margin(t1, [3.0, 10.0])
    for c, m in zip((3.0, 10.0), margins, strict=True):
        v = {x.name: x for x in check_inequalities(by_scale[c])}["lemma_4_5_differential"]
        assert m == pytest.approx(v.margin, rel=1e-7, abs=1e-7)
    with pytest.raises(ValidationError, match="`scale` must be positive"):
        differential_margin(t1, [0.0])


def test_the_kl_gap_is_unit_free():
    from synthgain.experiments.klgap import run_settings

    ss = [np.random.SeedSequence(3)]
    rows = {c: run_settings([Setup(scale=c)], ss, rounds=3, n_eval=100) for c in SCALES}
    for c in SCALES[1:]:
        for a, b in zip(rows[1.0], rows[c], strict=True):
            assert b["gap"] == pytest.approx(a["gap"], rel=1e-8, abs=1e-10), (c, a["measure"])
