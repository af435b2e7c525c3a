import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.study import StudyConfig, assign_classes, one_at_a_time, pick_anchors


def test_one_at_a_time_changes_one_knob_and_skips_the_default():
    base = StudyConfig(K=3, J=2, L=2)
    cfgs = one_at_a_time(base, {"J": [0, 2, 4], "noise": [0.0, 1.0]})
    assert cfgs[0] == base
    assert [(c.knob, c.J, c.noise) for c in cfgs[1:]] == [("J", 0, 0.0), ("J", 4, 0.0),
                                                          ("noise", 2, 1.0)]


def test_one_at_a_time_rejects_unknown_knob():
    with pytest.raises(ValidationError, match=r"`sweeps` key 'Q' is not a knob"):
        one_at_a_time(StudyConfig(), {"Q": [1]})


def test_validate_names_the_overflow():
    with pytest.raises(ValidationError, match=r"`K \+ J \+ L` must be at most the 10 classes.*"
                                              r"5 \+ 4 \+ 3 = 12"):
        StudyConfig(K=5, J=4, L=3).validate(10)
    with pytest.raises(ValidationError, match=r"`K` must be an int in \[1, inf\)"):
        StudyConfig(K=0).validate(10)


def test_assign_classes_is_disjoint_and_sized():
    cfg = StudyConfig(K=3, J=2, L=4)
    out = assign_classes(cfg, list(range(10)), np.random.default_rng(1))
    assert [len(out[k]) for k in ("anchored", "unanchored", "irrelevant")] == [3, 2, 4]
    assert out["task"] == out["anchored"] + out["unanchored"]
    assert len(set(out["task"]) | set(out["irrelevant"])) == 9


def test_pick_anchors_takes_only_anchored_classes():
    labels = np.repeat(np.arange(5), 8)
    idx = pick_anchors(labels, [1, 3], 4, np.random.default_rng(0))
    assert idx.size == 8 and np.unique(idx).size == 8
    assert sorted(np.bincount(labels[idx], minlength=5)) == [0, 0, 0, 4, 4]
    assert set(labels[idx]) == {1, 3}
    with pytest.raises(ValidationError, match=r"`anchors_per_class` must be at most the 8"):
        pick_anchors(labels, [1], 9, np.random.default_rng(0))
