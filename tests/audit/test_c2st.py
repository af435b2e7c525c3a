import numpy as np
import pytest
from scipy import integrate, stats

from synthgain.audit import classifier_two_sample_test
from synthgain.exceptions import ValidationError


def _js_shift(mu):
    p, q = stats.norm(0, 1).pdf, stats.norm(mu, 1).pdf
    m = lambda x: (p(x) + q(x)) / 2  # noqa: E731
    f = lambda x: 0.5 * p(x) * np.log(p(x) / m(x)) + 0.5 * q(x) * np.log(q(x) / m(x))  # noqa: E731
    return integrate.quad(f, -15, 15 + mu)[0]


def test_gaussian_shift_matches_closed_form():
    # equal-covariance Gaussians: the log-ratio is linear, so logistic regression is the
    # Bayes classifier and both lower bounds are tight: TV = 2 Phi(mu/2) - 1.
    mu = 1.0
    g = np.random.default_rng(0)
    xp, xq = g.normal(size=(4000, 4)), g.normal(size=(4000, 4))
    xq[:, 0] += mu
    r = classifier_two_sample_test(xp, xq, max_rows=4000, rng=1)
    tv = 2 * stats.norm.cdf(mu / 2) - 1
    assert abs(r["tv"].value - tv) < 4 * r["tv"].stderr
    assert abs(r["js"].value - _js_shift(mu)) < 4 * r["js"].stderr


def test_null_is_not_significant_on_average():
    z = []
    for s in range(8):
        g = np.random.default_rng(10 + s)
        r = classifier_two_sample_test(g.normal(size=(600, 3)), g.normal(size=(600, 3)), rng=s)
        z.append(r["tv"].value / r["tv"].stderr)
        assert r["js"].value < 4 * r["js"].stderr
    assert abs(np.mean(z)) < 4 / np.sqrt(8)


def test_reproducible_and_checked():
    g = np.random.default_rng(5)
    a, b = g.normal(size=(300, 3)), g.normal(size=(200, 3)) + 0.5
    r1, r2 = classifier_two_sample_test(a, b, rng=7), classifier_two_sample_test(a, b, rng=7)
    assert r1["js"].value == r2["js"].value and r1["js"].params["m_per_sample"] == 200
    with pytest.raises(ValidationError, match="`n_folds` must be an int in \\[3, inf\\)"):
        classifier_two_sample_test(a, b, n_folds=2)
    with pytest.raises(ValidationError, match="`xq` must have 3 columns"):
        classifier_two_sample_test(a, b[:, :2])
