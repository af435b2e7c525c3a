"""rng=s and rng=SeedSequence(s) give the same result for the audit's public functions
that draw (run_audit and the information functions are checked in their own files)."""

import json

import numpy as np
import pytest

from synthgain.audit import classifier_two_sample_test, markov_generate, run_audit, vendi_score

X = np.random.default_rng(0).normal(size=(80, 5))
Y = np.random.default_rng(1).normal(size=(80, 5)) + 0.5
CALLS = {
    "classifier_two_sample_test": lambda rng: classifier_two_sample_test(X, Y, rng=rng)[
        "js"].to_dict(),
    "vendi_score": lambda rng: vendi_score(X, rng=rng).to_dict(),
    "markov_generate": lambda rng: markov_generate(["a b c d e", "a b x y z", "a b c q"],
                                                   ["a b"] * 6, rng=rng),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_int_seed_equals_seed_sequence(name):
    call = CALLS[name]
    assert call(5) == call(np.random.SeedSequence(5))


@pytest.mark.parametrize("rng", [None, "generator", 7])
def test_the_recorded_root_seed_reruns_every_number(rng):
    # whatever rng is (fresh entropy included), the result records the root seed it used,
    # and a rerun from that record gives the same metrics
    g = np.random.default_rng(3)
    a, s = g.normal(size=(60, 4)), g.normal(0.3, 1.0, size=(60, 4))
    arg = np.random.default_rng(11) if rng == "generator" else rng
    first = run_audit(a, s, rng=arg, repeats=2, compare_rows=30, workers=1)
    seed = first.config["seed"]
    assert set(seed) == {"entropy", "spawn_key"}
    again = run_audit(a, s, rng=np.random.SeedSequence(**seed), repeats=2, compare_rows=30,
                      workers=1)
    assert again.to_dict()["metrics"] == first.to_dict()["metrics"]
    assert json.loads(json.dumps(first.to_dict()))["config"]["seed"] == seed
    if rng is None:  # fresh entropy: a second unseeded run differs, and says how
        other = run_audit(a, s, repeats=2, compare_rows=30, workers=1)
        assert other.config["seed"] != seed
