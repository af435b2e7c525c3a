"""Grids of parameter points, replicates, batched tasks and their seeds.

A sweep is a list of *blocks*; each block is the cartesian product of its lists of
values (over any protocol parameter: a Setup field or an estimator option), optionally
times an explicit list of points. The blocks are concatenated in order, so Figure 4
(vary ``K``, then ``J``, then ``L``, the others fixed) is three one-key blocks. Every
point is run ``replicates`` times; replicates are grouped into tasks of at most
``batch_size`` settings, the unit of work sent to a worker.

Seeds: replicate ``r`` of point ``p`` is seeded by the
:class:`~numpy.random.SeedSequence` with the root's entropy and spawn key
``root.spawn_key + (p, r)``, i.e. child ``r`` of child ``p`` of the root
(``root.spawn(p + 1)[p].spawn(r + 1)[r]``). It depends only on the grid position, not
on the batch size, the number of workers or the order in which tasks finish, so a
resumed or redistributed sweep draws the same numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import ValidationError

__all__ = ["Point", "Task", "expand_grid", "make_tasks", "replicate_seed"]


@dataclass(frozen=True)
class Point:
    """One grid point: its index, the block it came from and its resolved parameters."""

    index: int
    block: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A unit of work: replicates ``start .. stop - 1`` of one point."""

    index: int
    point: int
    start: int
    stop: int

    @property
    def replicates(self) -> range:
        """The replicate indices of this task."""
        return range(self.start, self.stop)


def _block_points(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Points of one block: explicit ``points`` times the product of the other lists."""
    explicit = block.get("points")
    explicit_points = [dict(p) for p in explicit] if explicit is not None else [{}]
    keys = [k for k in block if k != "points"]
    values = [v if isinstance(v, list | tuple) else [v] for v in (block[k] for k in keys)]
    points = []
    for base in explicit_points:
        for combo in itertools.product(*values):
            points.append({**base, **dict(zip(keys, combo, strict=True))})
    return points


def expand_grid(
    blocks: Sequence[Mapping[str, Any]],
    *,
    base: Mapping[str, Any] | None = None,
) -> list[Point]:
    """Expand grid blocks into points.

    Parameters
    ----------
    blocks : sequence of mapping
        Each maps a parameter name to a list of values (a scalar is a one-value list)
        and optionally ``"points"`` to a list of dicts (explicit points). A block's
        points are the explicit points (or one empty point) times the cartesian product
        of its lists, in the order the keys are given, the last key varying fastest.
    base : mapping, optional
        Values shared by every point; a block's values override them.

    Returns
    -------
    list of Point
        In block order; an empty ``blocks`` gives the single point ``base``.

    Examples
    --------
    >>> [p.params for p in expand_grid([{"K": [2, 3]}, {"J": [4]}], base={"K": 2, "J": 2})]
    [{'K': 2, 'J': 2}, {'K': 3, 'J': 2}, {'K': 2, 'J': 4}]
    """
    base = dict(base or {})
    if not blocks:
        return [Point(0, 0, base)]
    points: list[Point] = []
    for b, block in enumerate(blocks):
        for params in _block_points(block):
            points.append(Point(len(points), b, {**base, **params}))
    return points


def make_tasks(n_points: int, replicates: int, batch_size: int) -> list[Task]:
    """Split ``replicates`` of each of ``n_points`` points into tasks of ``batch_size``.

    Tasks are numbered point-major: all tasks of point 0, then point 1, ...
    """
    n_points = check_int(n_points, "n_points", low=0)
    replicates = check_int(replicates, "replicates", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    tasks: list[Task] = []
    for p in range(n_points):
        for start in range(0, replicates, batch_size):
            tasks.append(Task(len(tasks), p, start, min(start + batch_size, replicates)))
    return tasks


def replicate_seed(root: np.random.SeedSequence, point: int, replicate: int) -> np.random.SeedSequence:
    """The seed of replicate ``replicate`` of point ``point`` (see the module notes)."""
    if point < 0 or replicate < 0:
        raise ValidationError(
            f"`point` and `replicate` must be non-negative. Got {point} and {replicate} instead."
        )
    return np.random.SeedSequence(
        root.entropy,
        spawn_key=(*root.spawn_key, int(point), int(replicate)),
        pool_size=root.pool_size,
    )


def seed_label(seed: np.random.SeedSequence) -> tuple[str, str]:
    """``(entropy, spawn_key)`` of ``seed`` as text, e.g. ``("2025", "3,17")``."""
    return str(seed.entropy), ",".join(str(k) for k in seed.spawn_key)
