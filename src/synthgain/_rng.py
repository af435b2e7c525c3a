"""Randomness: one ``rng`` argument, normalised once.

Public functions accept ``rng`` as ``None``, an int, a :class:`numpy.random.SeedSequence`
or a :class:`numpy.random.Generator`. Parallel work derives one child
:class:`~numpy.random.SeedSequence` per task from a single root, so a result does not
depend on how many workers computed it. Nothing here touches NumPy's global state.

The seeding rule
----------------
* Every library function that draws takes ``rng: RNGLike = None``; ``None`` is fresh
  entropy from the operating system, as in NumPy and SciPy. Commands and run
  configurations take ``--seed`` / ``seed`` (default 0) and record it, so every written
  result is reproducible.
* ``rng=s`` (an int) and ``rng=SeedSequence(s)`` give the same result everywhere.
* A computation that needs several independent streams takes them by name with
  :func:`child_seed` / :func:`child_generator` (``child_seed(root, "bootstrap")``) or by
  task index (``child_seed(root, i)``); never by position in a list of generators, so
  adding a stream never moves the others.
"""

from __future__ import annotations

import hashlib
from typing import TypeAlias

import numpy as np

from .exceptions import ValidationError

__all__ = [
    "RNGLike",
    "check_rng",
    "child_generator",
    "child_seed",
    "seed_sequence",
    "spawn_generators",
    "spawn_seeds",
    "stream_key",
]

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


_NAMED = 1 << 31  # named keys live in [2**31, 2**32); task indices stay below


def stream_key(key: int | str) -> int:
    """The spawn-key word of a child stream: a task index as is, a name hashed.

    A name maps to ``2**31 + (blake2b(name) mod 2**31)``, stable across runs, platforms and
    Python versions, and never equal to a task index below ``2**31``.
    """
    if isinstance(key, str):
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest()
        return _NAMED + int.from_bytes(digest, "little") % _NAMED
    if isinstance(key, bool) or not isinstance(key, int | np.integer) or not 0 <= key < _NAMED:
        raise ValidationError(
            f"a child stream key must be a name or an int in [0, {_NAMED}). Got {key!r} instead."
        )
    return int(key)


def child_seed(rng: RNGLike, *keys: int | str) -> np.random.SeedSequence:
    """The child stream of ``rng`` reached by ``keys`` (names or task indices).

    ``child_seed(root, i)`` is child ``i`` of ``root`` as ``root.spawn`` numbers them,
    whatever was spawned from ``root`` before; ``child_seed(root, "fit", 2)`` is child 2 of
    the child named ``"fit"``. The result depends only on ``rng`` and ``keys``.
    """
    ss = seed_sequence(rng)
    return np.random.SeedSequence(
        ss.entropy, spawn_key=(*ss.spawn_key, *(stream_key(k) for k in keys)),
        pool_size=ss.pool_size,
    )


def child_generator(rng: RNGLike, *keys: int | str) -> np.random.Generator:
    """A generator on :func:`child_seed` ``(rng, *keys)``."""
    return np.random.default_rng(child_seed(rng, *keys))
