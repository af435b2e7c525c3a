import numpy as np
import pytest

from synthgain.audit import novelty, prdc, vendi_score
from synthgain.exceptions import ValidationError


def test_prdc_same_distribution():
    # Naeem et al. 2020, Sec. 3.2: E[density] = 1; E[coverage] -> 1 - 2^-k for n = m.
    g = np.random.default_rng(0)
    r = prdc(g.normal(size=(1500, 6)), g.normal(size=(1500, 6)), k=5)
    assert abs(r["density"].value - 1.0) < 4 * r["density"].stderr
    assert abs(r["coverage"].value - (1 - 2**-5)) < 4 * r["coverage"].stderr + 0.005
    assert r["precision"].value > 0.85 and r["recall"].value > 0.85


def test_prdc_disjoint_and_brute_force():
    g = np.random.default_rng(1)
    real, fake = g.normal(size=(60, 3)), g.normal(size=(50, 3))
    far = prdc(real, fake + 100.0, k=3)
    assert far["precision"].value == 0 and far["coverage"].value == 0
    assert far["recall"].value == 0 and far["density"].value == 0
    # independent reference: the definitions with scipy distances
    from scipy.spatial.distance import cdist

    rad = np.sort(cdist(real, real), axis=1)[:, 3]
    d = cdist(fake, real)
    r = prdc(real, fake, k=3)
    assert r["precision"].value == pytest.approx(np.mean((d <= rad).any(axis=1)))
    assert r["density"].value == pytest.approx((d <= rad).sum() / (3 * 50))
    assert r["coverage"].value == pytest.approx(np.mean(d.min(axis=0) <= rad))


def test_vendi_exact_values():
    # m equally used orthogonal directions: VS = m exactly (Friedman & Dieng 2023, Sec. 3)
    x = np.repeat(np.eye(7), 30, axis=0) * 3.0
    assert vendi_score(x).value == pytest.approx(7.0, rel=1e-9)
    assert vendi_score(np.ones((50, 4))).value == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="row 1 is all zeros"):
        vendi_score(np.array([[1.0, 0], [0, 0], [0, 1]]))


@pytest.mark.parametrize("d", [5, 300])  # the scatter path (n >= d) and the Gram path
def test_vendi_matches_kernel_form(d):
    g = np.random.default_rng(2)
    x = g.normal(size=(80, d))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    lam = np.linalg.eigvalsh(u @ u.T / 80)
    lam = lam[lam > 1e-12]
    assert vendi_score(x).value == pytest.approx(np.exp(-np.sum(lam * np.log(lam))), rel=1e-9)


def test_novelty_flags_copies_only():
    g = np.random.default_rng(3)
    a = g.normal(size=(200, 4))
    s = np.concatenate([a[:15] + 1e-4, g.normal(size=(85, 4))])
    r = novelty(a, s)
    assert r.near_copy[:15].all()
    assert r.near_copy[15:].mean() < 0.1
    assert (r.nearest[:15] == np.arange(15)).all()
    lo, hi = r.memorisation.ci()
    assert lo <= r.memorisation.value <= hi and r.memorisation.params["count"] >= 15
    with pytest.raises(ValidationError, match="`copy_ratio` must be a finite real number in"):
        novelty(a, s, copy_ratio=2.0)
    with pytest.raises(ValidationError, match="`synthetic` must have 4 columns"):
        novelty(a, s[:, :3])


def test_vendi_jackknife_matches_deleting_each_group():
    # the one-pass group scatters give the same jackknife as recomputing without each group
    from synthgain._rng import check_rng

    g = np.random.default_rng(4)
    x = g.normal(size=(40_000, 6)) @ g.normal(size=(6, 6))  # more rows than one block
    est = vendi_score(x, n_groups=5, rng=9)
    groups = check_rng(9).permutation(x.shape[0]) % 5
    loo = np.array([vendi_score(x[groups != j], n_groups=2).value for j in range(5)])
    se = np.sqrt(4 / 5 * np.sum((loo - loo.mean()) ** 2))
    assert est.stderr == pytest.approx(se, rel=1e-8)
    assert est.value == pytest.approx(vendi_score(x[::-1], n_groups=2).value, rel=1e-10)


def test_prdc_shares_have_wilson_intervals_inside_unit_interval():
    g = np.random.default_rng(5)
    real = g.normal(size=(300, 4))
    r = prdc(real, real + 1e-3 * g.normal(size=(300, 4)), k=3)
    for key in ("precision", "recall", "coverage"):
        lo, hi = r[key].ci()
        assert 0.0 <= lo <= r[key].value <= hi <= 1.0
    assert r["recall"].value == 1.0 and r["recall"].ci()[0] < 1.0  # not a zero-width interval


def test_novelty_and_prdc_do_not_depend_on_workers():
    g = np.random.default_rng(6)
    a, s = g.normal(size=(400, 24)), g.normal(size=(900, 24))
    n1, n2 = novelty(a, s, workers=1), novelty(a, s, workers=2)
    assert np.array_equal(n1.nearest, n2.nearest) and np.array_equal(n1.distance, n2.distance)
    assert prdc(a, s[:400], workers=1) == prdc(a, s[:400], workers=2)



def test_vendi_difference_of_samples_with_fewer_than_two_nonzero_rows():
    # the LSA embedding maps a text of unknown words to zeros; such rows are left out,
    # one remaining row is one direction (Vendi 1), none leaves nothing to score
    from synthgain.audit._estimators import vendi_diff

    measure = vendi_diff()
    one = np.zeros((4, 3))
    one[0, 0] = 1.0
    many = np.random.default_rng(0).normal(size=(20, 3))
    gen = np.random.default_rng(0)
    expected = 1.0 - vendi_score(many, rng=0).value
    assert measure(one, many, gen)["vendi"] == pytest.approx(expected)
    assert np.isnan(measure(np.zeros((4, 3)), many, gen)["vendi"])


def test_vendi_gram_path_jackknife_matches_deleting_each_group():
    """Fewer rows than dimensions (gradient sketches): the Gram form's jackknife equals
    recomputing without each group."""
    from synthgain._rng import check_rng

    g = np.random.default_rng(5)
    x = g.normal(size=(60, 500))
    est = vendi_score(x, n_groups=4, rng=3)
    groups = check_rng(3).permutation(60) % 4
    loo = np.array([vendi_score(x[groups != j], n_groups=2).value for j in range(4)])
    assert est.stderr == pytest.approx(np.sqrt(3 / 4 * np.sum((loo - loo.mean()) ** 2)),
                                       rel=1e-8)
