"""The kNN estimators of scale-free quantities (mutual information, KL, JS, TV) do not
depend on the units of the features by default (``standardize``: per-feature
standardisation); ``standardize=False`` gives the raw coordinates, which do."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.measures import (
    Gaussian,
    entropy,
    js_divergence,
    kl_divergence,
    mutual_information,
    total_variation,
)

# one coordinate multiplied by 1000, another by 1e-3
SCALE = np.array([1000.0, 1e-3])
# Standardisation removes the scale exactly up to rounding: the estimates below agree to
# <= 2e-15 relative (measured, all cases), so 1e-10 leaves margin for other platforms and
# still fails on any real change (the raw estimators move by 0.1 to 1 relative).
REL = 1e-10

G3 = Gaussian([0, 0, 0], [[1, 0.6, 0.5], [0.6, 1, 0.3], [0.5, 0.3, 1]])
Z = G3.sample(2000, rng=0)
X, Y = Z[:, :2], Z[:, 2:]
P = Gaussian([0, 0], [[1, 0.5], [0.5, 2]])
Q = Gaussian([0.5, 0], np.eye(2))
XP, XQ = P.sample(1500, rng=1), Q.sample(1000, rng=2)

DIVERGENCES = [(kl_divergence, "wang_kulkarni_verdu"), (js_divergence, "knn_ratio"),
               (total_variation, "knn_ratio")]


@pytest.mark.parametrize("method", ["ksg1", "ksg2"])
def test_mutual_information_ignores_the_units_of_each_variable(method):
    base = mutual_information(X, Y, method=method)
    assert base.params["standardize"] is True
    scaled = mutual_information(X * [SCALE[0], 1.0], Y * SCALE[1], method=method)
    assert scaled.value == pytest.approx(base.value, rel=REL)
    # the raw coordinates: the max-norm neighbourhoods follow the x_0 axis
    raw = mutual_information(X * [SCALE[0], 1.0], Y * SCALE[1], method=method,
                             standardize=False)
    assert abs(raw.value - base.value) > 0.05  # measured: 0.18 vs 0.00 (ksg1), 0.14 (ksg2)


def test_mutual_information_of_a_rescaled_variable_is_unchanged():
    # I(X; 1000 Y) = I(X; Y) = 0.511 for rho = 0.8. Raw KSG1 gives 0.500 -> 0.193 at
    # n = 3000 (the max norm then only sees y); the default keeps 0.500.
    g = Gaussian([0, 0], [[1, 0.8], [0.8, 1]])
    z = g.sample(3000, rng=0)
    x, y = z[:, :1], z[:, 1:]
    raw, raw_scaled = (mutual_information(x, c * y, method="ksg1", standardize=False).value
                       for c in (1.0, 1000.0))
    assert raw == pytest.approx(0.500, abs=1e-3) and raw_scaled == pytest.approx(0.193, abs=1e-3)
    default = mutual_information(x, 1000.0 * y).value
    assert default == pytest.approx(mutual_information(x, y).value, rel=REL)
    assert abs(default - float(mutual_information(g, [1]))) < 0.03  # KSG1 sd at n=3000: 0.01


def test_mutual_information_with_ties_and_permutation_correction():
    # jitter steps scale with the feature, so the same seed gives the same dequantised data
    g = np.random.default_rng(3)
    xd = g.integers(0, 5, size=(1000, 1)).astype(float)
    yd = xd + g.normal(size=(1000, 1))
    kw = {"bias_correction": "permutation", "n_permutations": 3}
    base = mutual_information(xd, yd, rng=4, **kw)
    assert mutual_information(1000 * xd, 1e-3 * yd, rng=4, **kw).value == pytest.approx(
        base.value, rel=REL)


@pytest.mark.parametrize("fn, method", DIVERGENCES)
def test_divergences_ignore_the_units_of_each_feature(fn, method):
    base = fn(XP, XQ, method=method)
    assert base.params["standardize"] is True
    # the same per-feature map applied to both samples
    assert fn(XP * SCALE, XQ * SCALE, method=method).value == pytest.approx(base.value, rel=REL)
    kw = {"bias_correction": "permutation", "n_permutations": 3, "rng": 5}
    corrected = fn(XP, XQ, method=method, **kw)
    assert fn(XP * SCALE, XQ * SCALE, method=method, **kw).value == pytest.approx(
        corrected.value, rel=REL)
    raw = fn(XP * SCALE, XQ * SCALE, method=method, standardize=False)
    # measured raw vs default: KL 0.65 vs 0.34, JS -0.041 vs 0.041, TV 0.42 vs 0.20
    assert abs(raw.value - base.value) > 0.05


def test_the_pooled_map_keeps_the_js_estimate_symmetric():
    # one map for both samples, the same whichever comes first (a map from q's scale alone
    # would give JS(p, q) != JS(q, p)); equal up to the order of the pooled sums
    assert js_divergence(XP, XQ).value == pytest.approx(js_divergence(XQ, XP).value, rel=1e-12)


def test_entropy_keeps_the_scale_of_the_data():
    # H(cX) = H(X) + d log c: no invariance to restore, the default stays False
    x = XP
    est = entropy(x)
    assert est.params["standardize"] is False
    assert entropy(3.0 * x).value == pytest.approx(est.value + 2 * np.log(3.0), abs=1e-9)
    # standardize=True changes only the search metric: H(D x) = H(x) + log|det D| exactly
    std = entropy(x, standardize=True)
    assert entropy(x * SCALE, standardize=True).value == pytest.approx(
        std.value + np.log(SCALE).sum(), abs=1e-9)


def test_methods_that_do_not_standardise_accept_the_default():
    # histogram, closed form and Monte Carlo do not read `standardize`: leaving it out is
    # legal, and any value given to them is an error (as for every other option)
    assert mutual_information(X[:, :1], Y, method="histogram").method == "histogram"
    assert kl_divergence(XP, XQ, method="histogram").method == "histogram"
    assert js_divergence(XP, XQ, method="histogram").method == "histogram"
    assert total_variation(XP, XQ, method="histogram").method == "histogram"
    assert kl_divergence(P, Q).method == "closed_form"
    assert mutual_information(G3, [2]).method == "closed_form"
    assert js_divergence(P, Q, n_samples=200, rng=0).method == "monte_carlo"
    for value in (True, False):
        with pytest.raises(ValidationError, match=r"`standardize`=.* does not apply"):
            kl_divergence(XP, XQ, method="histogram", standardize=value)
        with pytest.raises(ValidationError, match=r"`standardize`=.* does not apply"):
            mutual_information(G3, [2], standardize=value)
