import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.study import STUDY_MEASURES, study_measures


def _samples(n_anchor=30, n_ref=60, seed=0):
    g = np.random.default_rng(seed)
    a, s, r = g.normal(size=(n_anchor, 4)), g.normal(size=(80, 4)), g.normal(size=(n_ref, 4))
    prompt = np.where(np.arange(80) < 40, np.arange(80) % n_anchor, -1)
    return a, s, r, prompt


def test_seed_int_equals_seed_sequence():
    args = _samples()
    by_int = study_measures(*args, rng=3)
    assert by_int == study_measures(*args, rng=np.random.SeedSequence(3))
    assert set(by_int) == {*STUDY_MEASURES, "missing_reason"} and by_int["missing_reason"] == ""


def test_too_few_points_is_nan_with_a_reason():
    # 4 reference rows cannot give k = 5 neighbours: the kNN measures on it are missing
    out = study_measures(*_samples(n_ref=4), k=5, rng=0)
    assert np.isnan(out["kl_gap_knn"]) and np.isnan(out["precision_target"])
    assert "kl_gap_knn: reference: 4 rows, needs at least 6" in out["missing_reason"]
    assert np.isfinite(out["novelty"]) and "novelty" not in out["missing_reason"]


def test_other_errors_are_not_hidden():
    a, s, r, prompt = _samples()
    r[0, 0] = np.nan  # bad input is an error, not a missing value
    with pytest.raises(ValidationError):
        study_measures(a, s, r, prompt, rng=0)
