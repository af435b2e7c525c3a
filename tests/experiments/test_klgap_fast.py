"""The Monte Carlo KL Gap with the compiled log-density kernel and with the NumPy fallback."""

import numpy as np
import pytest

from synthgain.experiments.klgap import fit_simulation, kl_gap, run_settings
from synthgain.mixture import MixtureStack, _fast
from synthgain.process import Setup, simulate

needs_numba = pytest.mark.skipif(not _fast.ENABLED, reason="numba not installed or disabled")


def _mixtures(covariance, n=3):
    sims = [simulate(Setup(K=15, J=3, L=4, covariance=covariance), rng=s) for s in range(n)]
    return [s.generator for s in sims]


def _points(n=3):
    return np.stack([np.random.default_rng(s).uniform(-20, 30, size=(2000, 2)) for s in range(n)])


@needs_numba
def test_compiled_and_numpy_kernels_agree_on_well_conditioned_mixtures():
    stack = MixtureStack.from_mixtures(_mixtures("isotropic"))
    x = _points()
    compiled, numpy_ = stack.logpdf(x), stack.logpdf(x, kernel="numpy")
    assert np.max(np.abs(compiled - numpy_) / np.maximum(1.0, np.abs(numpy_))) < 1e-12


@pytest.mark.parametrize("covariance", ["random_spd", "seed_effective"])
def test_numpy_fallback_matches_the_mixture_class(covariance):
    mixes = _mixtures(covariance)
    x = _points()
    got = MixtureStack.from_mixtures(mixes).logpdf(x, kernel="numpy")
    for b, m in enumerate(mixes):
        np.testing.assert_allclose(got[b], m.logpdf(x[b]), rtol=1e-9, atol=1e-6)


@needs_numba
@pytest.mark.parametrize("covariance", ["random_spd", "seed_effective"])
def test_compiled_kernel_matches_the_mixture_class_tightly(covariance):
    # thin components (ridge 1e-6): the difference form keeps full relative precision
    mixes = _mixtures(covariance)
    x = _points()
    got = MixtureStack.from_mixtures(mixes).logpdf(x)
    for b, m in enumerate(mixes):
        want = m.logpdf(x[b])
        assert np.max(np.abs(got[b] - want) / np.maximum(1.0, np.abs(want))) < 1e-11


def _rows(monkeypatch, enabled):
    monkeypatch.setattr(_fast, "ENABLED", enabled)
    setups = [Setup(K=3, J=2, L=2), Setup(K=2, J=4, L=3), Setup(K=3, J=2, L=2)]
    seeds = np.random.SeedSequence(7).spawn(3)
    return run_settings(setups, seeds, estimators=["monte_carlo", "histogram"], rounds=3,
                        n_eval=400)


@needs_numba
def test_run_settings_same_rows_with_the_fallback(monkeypatch):
    fast = _rows(monkeypatch, True)
    slow = _rows(monkeypatch, False)
    assert len(fast) == len(slow) == 3 * 8
    for a, b in zip(fast, slow, strict=True):
        assert a.keys() == b.keys()
        for key, v in a.items():
            if isinstance(v, float) and key.startswith(("anchor_", "synthetic_div", "gap")):
                assert v == pytest.approx(b[key], rel=1e-9, abs=1e-12), key
            else:
                assert v == b[key], key


def test_kl_gap_with_the_fallback_is_reproducible(monkeypatch):
    monkeypatch.setattr(_fast, "ENABLED", False)
    sim = simulate(Setup(K=2, J=2, L=2), rng=3)
    fa, fs = (f.mixture for f in fit_simulation(sim, rng=np.random.SeedSequence(3)))
    a = kl_gap(fa, fs, sim.ground_truth, rounds=4, n_eval=300, rng=5)
    b = kl_gap(fa, fs, sim.ground_truth, rounds=4, n_eval=300, rng=5)
    assert a == b
    assert np.isfinite(a.value) and a.stderr > 0
