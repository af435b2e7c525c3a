"""Provenance of a run: ``config.json`` (the resolved configuration) and ``run.json``.

``run.json`` records what produced the results: the package version, the git commit
of the source tree and whether it had uncommitted changes, the Python and NumPy
versions, the host, the command line, the start and stop times (UTC, ISO 8601) and
the status (``"running"``, ``"completed"``, ``"completed_with_failures"``,
``"interrupted"`` or ``"failed"``). Every write goes to a temporary file in the same
directory, is flushed to disk and renamed over the target, so a reader never sees a
half-written file. A resumed run keeps the earlier invocations under ``"history"``.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RunRecord", "git_state", "read_json", "utc_now", "write_bytes_atomic",
           "write_json_atomic"]

CONFIG_NAME = "config.json"
RUN_NAME = "run.json"


def utc_now() -> str:
    """The current time, UTC, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file, fsync, rename)."""
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory,
    flushed to disk, renamed over ``path`` (a reader sees the old file or the new one,
    never half of one)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def git_state(where: str | Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git work tree holding ``where`` (the package by default).

    Returns ``{"commit": None, "dirty": None}`` when the code does not run from a git
    work tree or git is not installed.
    """
    where = Path(where) if where is not None else Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(
                ["git", "-C", str(where), *args],
                capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def environment(argv: list[str] | None = None) -> dict[str, Any]:
    """Everything about the running process that ``run.json`` records."""
    from .. import __version__

    return {
        "synthgain_version": __version__,
        "git": git_state(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "argv": list(sys.argv if argv is None else argv),
    }


class RunRecord:
    """Writes and updates ``config.json`` and ``run.json`` in a run directory."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / RUN_NAME
        self.data: dict[str, Any] = {}

    def start(
        self, config: dict[str, Any], *, backend: str, jobs: int | None,
        argv: list[str] | None = None, resume: bool = False,
    ) -> None:  # fmt: skip
        """Record the start of an invocation (keeping earlier ones on resume)."""
        write_json_atomic(self.run_dir / CONFIG_NAME, config)
        history: list[dict[str, Any]] = []
        if resume and self.path.exists():
            previous = read_json(self.path)
            history = [*previous.pop("history", []), previous]
        self.data = {
            "name": config["sweep"]["name"],
            "status": "running",
            "started": utc_now(),
            "stopped": None,
            "backend": backend,
            "jobs": jobs,
            "resumed": resume,
            **environment(argv),
            "tasks": {},
            "history": history,
        }
        write_json_atomic(self.path, self.data)

    def finish(self, status: str, **fields: Any) -> None:
        """Record the end of the invocation with its status and counts."""
        self.data.update(status=status, stopped=utc_now(), **fields)
        write_json_atomic(self.path, self.data)
