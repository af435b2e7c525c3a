"""Estimators against values their authors published, quoting the source and settings.

Each test reruns the published setting and compares with the published number, at a
tolerance derived from the spread measured over seeds (stated per test): a published
value from random data is one draw, not a constant.
"""

import numpy as np
import pytest

from synthgain.audit import classifier_two_sample_test, prdc, vendi_score
from synthgain.measures import mutual_information


def test_vendi_score_of_the_published_similarity_matrix():
    # Friedman & Dieng (2023), the Vendi Score's reference implementation
    # (vertaix/Vendi-Score, README "Usage"): vendi.score_K(K) for
    # K = [[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]] is 2.1573. Unit rows whose Gram matrix is K:
    x = np.array([[1.0, 0.0, 0.0], [0.9, np.sqrt(1 - 0.81), 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(x @ x.T, [[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]], atol=1e-12)
    assert round(vendi_score(x, rng=0).value, 4) == 2.1573


def test_prdc_in_the_published_setting():
    # Naeem et al. (2020), the paper's code (clovaai/generative-evaluation-prdc, README
    # "Example"): 10,000 real and 10,000 fake rows of N(0, I) in 1,000 dimensions, k = 5:
    # precision 0.4772, recall 0.4705, density 1.0555, coverage 0.9735 ("may fluctuate due
    # to randomness"). Over seeds 0, 1, 2 of this test the values spread by sd 0.02
    # (precision), 0.006 (recall), 0.08 (density), 0.009 (coverage); the tolerance is
    # three of those.
    g = np.random.default_rng(0)
    real, fake = g.normal(size=(10_000, 1_000)), g.normal(size=(10_000, 1_000))
    got = {k: v.value for k, v in prdc(real, fake, k=5).items()}
    published = {"precision": 0.4772, "recall": 0.4705, "density": 1.0555, "coverage": 0.9735}
    tol = {"precision": 0.06, "recall": 0.02, "density": 0.25, "coverage": 0.03}
    for key, value in published.items():
        assert abs(got[key] - value) <= tol[key], (key, got[key], value)


def test_c2st_accuracy_under_the_null_follows_the_published_law():
    # Lopez-Paz & Oquab (2017), Sec. 2: under H0 (one distribution), the test accuracy of
    # a classifier on n_te held-out points is approximately N(1/2, 1/(4 n_te)). Here every
    # point is held out once (5-fold cross-fitting), n_te = 400; over 40 seeds the mean
    # accuracy was 0.496 (standard error 0.003) and its sd 0.78 times 1/sqrt(4 n_te)
    # (cross-fitted folds share training rows): the mean is tested within 3 standard
    # errors of 1/2, the sd within [0.6, 1.3] of the published one.
    acc = []
    for r in range(40):
        g = np.random.default_rng(r)
        out = classifier_two_sample_test(g.normal(size=(200, 5)), g.normal(size=(200, 5)),
                                         rng=r)
        acc.append(out["accuracy"].value)
    acc = np.asarray(acc)
    sd0 = np.sqrt(1 / (4 * 400))
    assert abs(acc.mean() - 0.5) <= 3 * acc.std(ddof=1) / np.sqrt(acc.size)
    assert 0.6 <= acc.std(ddof=1) / sd0 <= 1.3


@pytest.mark.parametrize("marginal", ["normal", "uniform", "exponential"])
@pytest.mark.parametrize("dx,dy", [(1, 1), (2, 3)])
def test_ksg_vanishes_for_independent_variables(marginal, dx, dy):
    # Kraskov, Stoegbauer & Grassberger (2004), abstract and Sec. IV: "both families become
    # exact for independent distributions, i.e. the estimator vanishes (up to statistical
    # fluctuations) if mu(x, y) = mu(x) mu(y). This holds for all tested marginal
    # distributions and for all dimensions of x and y." KSG1 (k = 3) on 500 independent
    # pairs, 20 seeds: the mean is within 3 standard errors of 0 (measured: |mean| <= 1.4
    # standard errors over these six cases).
    draw = {"normal": lambda g, s: g.normal(size=s), "uniform": lambda g, s: g.uniform(size=s),
            "exponential": lambda g, s: g.exponential(size=s)}[marginal]
    v = np.array([mutual_information(draw(np.random.default_rng(r), (500, dx)),
                                     draw(np.random.default_rng(1000 + r), (500, dy)),
                                     method="ksg1", rng=r).value for r in range(20)])
    assert abs(v.mean()) <= 3 * v.std(ddof=1) / np.sqrt(v.size)
