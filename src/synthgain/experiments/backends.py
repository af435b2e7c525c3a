"""Where tasks run: local processes, a Dask cluster or Ray.

Every backend maps a picklable function over work items and yields the results as they
finish (in any order); the engine sorts what it stores, so the order never matters.
Each task runs with BLAS/OpenMP pools limited to one thread (through threadpoolctl in
the worker, and the environment of the worker processes where the backend allows), so
``n`` workers use ``n`` cores and results do not depend on thread counts.

``"local"``
    joblib's loky process pool (``jobs`` processes, default: the usable cores); with
    ``jobs=1`` tasks run in the calling process, one after another.
``"dask"``
    dask.distributed: the scheduler at ``scheduler`` when given (``tcp://host:8786``),
    else a LocalCluster of ``jobs`` single-threaded workers bound to 127.0.0.1. Needs
    the ``distributed`` extra (``pip install 'synthgain[distributed]'``).
``"ray"``
    Ray tasks (one CPU each) on the cluster at ``scheduler``, else a local Ray
    instance. Needs the ``ray`` extra (``pip install 'synthgain[ray]'``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from ..exceptions import SynthgainError, ValidationError

__all__ = [
    "BACKENDS",
    "Backend",
    "DaskBackend",
    "LocalBackend",
    "RayBackend",
    "get_backend",
    "map_ordered",
]

BACKENDS = ("local", "dask", "ray")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


_CONTROLLER: list[Any] = [None, -1]  # [ThreadpoolController, len(sys.modules) at its scan]


def _controller() -> Any:
    """A cached ThreadpoolController, rescanned when new modules (libraries) were loaded.

    Scanning the process's libraries costs milliseconds; once a worker has imported
    what its tasks need, the scan is reused.
    """
    from threadpoolctl import ThreadpoolController

    if _CONTROLLER[0] is None or _CONTROLLER[1] != len(sys.modules):
        _CONTROLLER[0] = ThreadpoolController()
        _CONTROLLER[1] = len(sys.modules)
    return _CONTROLLER[0]


def _pinned(fn: Callable[[Any], Any], item: Any) -> Any:
    """Call ``fn(item)`` with BLAS and OpenMP thread pools limited to one thread."""
    with _controller().limit(limits=1):
        return fn(item)


class Backend:
    """Base class: ``map_unordered(fn, items)`` yields ``fn(item)`` as each finishes."""

    name = "base"

    def __init__(self, *, jobs: int | None = None) -> None:
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise ValidationError(f"`jobs` must be an int >= 1 (or None for all cores). Got {jobs!r} instead.")
        self.jobs = jobs

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(item)`` for every item, in completion order."""
        raise NotImplementedError

    def broadcast(self, value: Any) -> Any:
        """``value`` in a form that task items may carry to every task.

        Here ``value`` itself: an in-process run uses it as is, a process pool pickles
        it with each item. A cluster's backend sends it to the workers once.
        """
        return value

    def scatter(self, values: Sequence[Any]) -> list[Any]:
        """``values`` in a form that task items may carry, each to the task that uses it.

        Here the values themselves; a cluster's backend sends each to one worker ahead
        of the tasks, so that large items do not travel inside the task graph.
        """
        return list(values)

    def close(self) -> None:
        """Release workers and connections."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """Short description for logs and ``run.json``."""
        return f"{self.name}(jobs={self.jobs})"


class LocalBackend(Backend):
    """Local processes through joblib/loky; in-process when ``jobs == 1``."""

    name = "local"

    def __init__(self, *, jobs: int | None = None) -> None:
        super().__init__(jobs=jobs)
        self.jobs = jobs or usable_cores()

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        if self.jobs == 1:
            for item in items:
                yield _pinned(fn, item)
            return
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            parallel = Parallel(n_jobs=self.jobs, return_as="generator_unordered", batch_size=1)
            yield from parallel(delayed(_pinned)(fn, item) for item in items)


class DaskBackend(Backend):
    """dask.distributed: a given scheduler, or a LocalCluster on 127.0.0.1."""

    name = "dask"

    def __init__(
        self, *, jobs: int | None = None, scheduler: str | None = None, processes: bool = True,
        connect_timeout: float = 10.0,
    ) -> None:  # fmt: skip
        super().__init__(jobs=jobs)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SynthgainError(
                "the 'dask' backend needs dask.distributed; install it with "
                "pip install 'synthgain[distributed]'"
            ) from None
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout=connect_timeout)
            except OSError as exc:
                raise SynthgainError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
        else:
            self.jobs = jobs or usable_cores()
            # loopback TCP also for thread workers (processes=False), never a public interface
            self._cluster = LocalCluster(
                n_workers=self.jobs, threads_per_worker=1, processes=processes,
                host="127.0.0.1", protocol="tcp://", dashboard_address=None,
            )  # fmt: skip
            self._client = Client(self._cluster)

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        futures = [self._client.submit(_pinned, fn, item, pure=False) for item in items]
        for future in as_completed(futures):
            result = future.result()
            future.release()
            yield result

    def broadcast(self, value: Any) -> Any:
        """A future of ``value`` scattered to every worker once; dask resolves it inside
        task items (tuples, lists, dicts) on the worker."""
        return self._client.scatter(value, broadcast=True, hash=False)

    def scatter(self, values: Sequence[Any]) -> list[Any]:
        """Futures of ``values``, spread over the workers (one copy each)."""
        return list(self._client.scatter(list(values), hash=False))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        return f"dask(scheduler={self.scheduler!r})" if self.scheduler else f"dask(LocalCluster, jobs={self.jobs})"


class RayBackend(Backend):
    """Ray tasks, one CPU each: on the cluster at ``scheduler`` (``ray://host:10001``,
    ``auto``), else a local Ray instance of ``jobs`` CPUs, shut down by :meth:`close`
    (a Ray session this process had already started is left running). Usage statistics
    are off unless ``RAY_USAGE_STATS_ENABLED`` says otherwise."""

    name = "ray"

    def __init__(self, *, jobs: int | None = None, scheduler: str | None = None) -> None:
        super().__init__(jobs=jobs)
        try:
            import ray
        except ImportError:
            raise SynthgainError(
                "the 'ray' backend needs Ray, which is not installed; install the extra with "
                "pip install 'synthgain[ray]'"
            ) from None
        self._ray = ray
        self.scheduler = scheduler
        self._owned = not ray.is_initialized()
        if self._owned:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            env = {"env_vars": {v: "1" for v in _THREAD_VARS}}
            kwargs: dict[str, Any] = {"runtime_env": env, "include_dashboard": False,
                                      "logging_level": "WARNING"}
            if scheduler:
                kwargs["address"] = scheduler
            elif jobs:
                kwargs["num_cpus"] = jobs
            ray.init(**kwargs)

    def close(self) -> None:
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()

    def describe(self) -> str:
        return (f"ray(address={self.scheduler!r})" if self.scheduler
                else f"ray(local, jobs={self.jobs})")

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        remote = self._ray.remote(num_cpus=1)(_pinned)
        pending = [remote.remote(fn, item) for item in items]
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            yield self._ray.get(done[0])


def _indexed(fn: Callable[[Any], Any], pair: tuple[int, Any]) -> tuple[int, Any]:
    return pair[0], fn(pair[1])


def map_ordered(
    backend: Backend, fn: Callable[[Any], Any], items: Sequence[Any], *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:  # fmt: skip
    """``[fn(item) for item in items]`` computed on ``backend``, in the order of ``items``.

    ``progress(done, total)`` is called after each item finishes.
    """
    out: list[Any] = [None] * len(items)
    done = 0
    for i, result in backend.map_unordered(partial(_indexed, fn), list(enumerate(items))):
        out[i] = result
        done += 1
        if progress is not None:
            progress(done, len(items))
    return out


def get_backend(
    name: str, *, jobs: int | None = None, scheduler: str | None = None, **options: Any
) -> Backend:
    """Create the backend called ``name`` (one of :data:`BACKENDS`)."""
    if name not in BACKENDS:
        raise ValidationError(
            f"`backend` must be one of {', '.join(repr(b) for b in BACKENDS)}. Got {name!r} instead."
        )
    if name == "local":
        if scheduler:
            raise ValidationError(
                "`scheduler` is only used by the 'dask' and 'ray' backends; "
                f"got scheduler={scheduler!r} with backend 'local'."
            )
        return LocalBackend(jobs=jobs)
    if name == "dask":
        return DaskBackend(jobs=jobs, scheduler=scheduler, **options)
    return RayBackend(jobs=jobs, scheduler=scheduler)
