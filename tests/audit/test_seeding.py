"""rng=s and rng=SeedSequence(s) give the same result for the audit's public functions
that draw (run_audit and the information functions are checked in their own files)."""

import numpy as np
import pytest

from synthgain.audit import classifier_two_sample_test, markov_generate, vendi_score

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
