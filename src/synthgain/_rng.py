"""Randomness: one ``rng`` argument, normalised once.

Public functions accept ``rng`` as ``None``, an int, a :class:`numpy.random.SeedSequence`
or a :class:`numpy.random.Generator`. Parallel work derives one child
:class:`~numpy.random.SeedSequence` per task from a single root, so a result does not
depend on how many workers computed it. Nothing here touches NumPy's global state.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from .exceptions import ValidationError

__all__ = ["RNGLike", "check_rng", "seed_sequence", "spawn_generators", "spawn_seeds"]

RNGLike: TypeAlias = int | np.integer | np.random.SeedSequence | np.random.Generator | None


def seed_sequence(rng: RNGLike, *, name: str = "rng") -> np.random.SeedSequence:
    """Return a :class:`~numpy.random.SeedSequence` for ``rng``.

    A SeedSequence is copied, so spawning children from the result never advances the
    caller's object: the same SeedSequence passed twice gives the same results. A
    Generator is turned into a SeedSequence by drawing 128 bits from it, so the
    generator advances and repeated calls give independent streams.
    """
    if isinstance(rng, np.random.SeedSequence):
        return np.random.SeedSequence(
            rng.entropy,
            spawn_key=rng.spawn_key,
            pool_size=rng.pool_size,
            n_children_spawned=rng.n_children_spawned,
        )
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**63 - 1, size=2, dtype=np.int64).tolist())
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise ValidationError(
            f"`{name}` must be None, a non-negative int, a numpy SeedSequence or a numpy "
            f"Generator. Got {rng!r} of type {type(rng).__name__} instead."
        )
    if rng < 0:
        raise ValidationError(f"`{name}` must be a non-negative int seed. Got {rng} instead.")
    return np.random.SeedSequence(int(rng))


def check_rng(rng: RNGLike, *, name: str = "rng") -> np.random.Generator:
    """Return a :class:`~numpy.random.Generator` for ``rng`` (a Generator is returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed_sequence(rng, name=name))


def spawn_seeds(rng: RNGLike, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seed sequences of ``rng`` (task ``i`` always gets child ``i``)."""
    return seed_sequence(rng).spawn(int(n))


def spawn_generators(rng: RNGLike, n: int) -> list[np.random.Generator]:
    """``n`` independent generators, one per child of ``rng``."""
    return [np.random.default_rng(s) for s in spawn_seeds(rng, n)]
