"""Grids, tasks and seeds: expansion order, coverage of replicates, the seed tree."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.grid import (
    expand_grid,
    make_tasks,
    replicate_seed,
    seed_label,
)


def test_product_order_last_key_fastest_and_base_overridden():
    pts = expand_grid([{"a": [1, 2], "b": ["x", "y", "z"]}], base={"a": 0, "c": 5})
    assert [p.params for p in pts] == [
        {"a": a, "c": 5, "b": b} for a in (1, 2) for b in ("x", "y", "z")
    ]
    assert [p.index for p in pts] == list(range(6))
    assert {p.block for p in pts} == {0}


def test_blocks_concatenate_like_figure4():
    base = {"K": 2, "J": 2, "L": 2}
    pts = expand_grid([{"K": [2, 3]}, {"J": [2, 3]}, {"L": [2, 3]}], base=base)
    assert len(pts) == 6
    assert [p.block for p in pts] == [0, 0, 1, 1, 2, 2]
    assert pts[3].params == {"K": 2, "J": 3, "L": 2}
    assert pts[5].params == {"K": 2, "J": 2, "L": 3}


def test_explicit_points_times_lists_and_scalars():
    pts = expand_grid([{"points": [{"K": 2, "J": 5}, {"K": 3, "J": 7}], "L": [0, 1], "d": 4}])
    assert [p.params for p in pts] == [
        {"K": 2, "J": 5, "L": 0, "d": 4},
        {"K": 2, "J": 5, "L": 1, "d": 4},
        {"K": 3, "J": 7, "L": 0, "d": 4},
        {"K": 3, "J": 7, "L": 1, "d": 4},
    ]


def test_no_blocks_is_the_base_point():
    (pt,) = expand_grid([], base={"a": 1})
    assert pt.params == {"a": 1} and pt.index == 0


@pytest.mark.parametrize(("reps", "batch"), [(1, 1), (7, 3), (6, 3), (5, 25), (100, 25)])
def test_tasks_cover_each_replicate_once(reps, batch):
    tasks = make_tasks(4, reps, batch)
    seen = [(t.point, r) for t in tasks for r in t.replicates]
    assert seen == [(p, r) for p in range(4) for r in range(reps)]
    assert [t.index for t in tasks] == list(range(len(tasks)))
    assert all(1 <= t.stop - t.start <= batch for t in tasks)
    assert len(tasks) == 4 * -(-reps // batch)


def test_make_tasks_rejects_bad_sizes():
    with pytest.raises(ValidationError, match=r"`batch_size` must be an int in \[1, inf\). Got 0"):
        make_tasks(3, 10, 0)
    with pytest.raises(ValidationError, match="`replicates`"):
        make_tasks(3, 0, 1)


def test_replicate_seed_is_grandchild_of_root():
    root = np.random.SeedSequence(2025)
    expected = root.spawn(4)[3].spawn(6)[5]
    got = replicate_seed(np.random.SeedSequence(2025), 3, 5)
    assert got.spawn_key == expected.spawn_key == (3, 5)
    np.testing.assert_array_equal(got.generate_state(8), expected.generate_state(8))
    assert seed_label(got) == ("2025", "3,5")


def test_replicate_seeds_distinct_streams():
    root = np.random.SeedSequence(1)
    states = {tuple(replicate_seed(root, p, r).generate_state(4)) for p in range(5) for r in range(20)}
    assert len(states) == 100


def test_replicate_seed_rejects_negative_positions():
    with pytest.raises(ValidationError, match="must be non-negative"):
        replicate_seed(np.random.SeedSequence(0), -1, 0)
