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
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ValidationError

__all__ = ["MARKER_NAME", "RunRecord", "check_output", "claim_directory", "git_state",
           "read_json", "utc_now", "write_bytes_atomic", "write_json_atomic"]

CONFIG_NAME = "config.json"
RUN_NAME = "run.json"
#: The file that marks a directory as one synthgain writes into: its files of fixed names
#: may be replaced by a later run; in a directory without it, they never are.
MARKER_NAME = ".synthgain"


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
    try:  # the mode a plain open() would give: the file's own, else 0666 less the umask
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp creates 0600 whatever the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (read without changing it where /proc tells it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _inside(path: Path, other: Path) -> bool:
    """Whether resolved ``path`` is ``other`` or lies under the directory ``other``."""
    return path == other or (other.is_dir() and other in path.parents)


def check_output(path: str | Path, name: str, *, directory: bool,
                 inputs: Sequence[str | Path] = (), files: Sequence[str] | None = None) -> Path:
    """Check, before any work, that ``path`` can be written and touches no input nor any
    file synthgain did not write.

    Parameters
    ----------
    path : str or Path
        The output: a directory (``directory=True``; created later if missing) or a file.
    name : str
        How the caller names it in messages (``--out``, ``` `path` ```).
    directory : bool
        Whether ``path`` is a directory the caller writes files into.
    inputs : sequence of path
        The files and directories read by the same call: the output may not be one of
        them, resolve to one of them (symlinks, relative paths) or lie inside an input
        directory (a file written there would join the dataset on the next read).
    files : sequence of str, optional
        For a directory: the names of the files written into it, each checked against
        the inputs and against existing directories of that name. In a directory that
        synthgain has not claimed (no ``.synthgain`` marker in it), an existing file of
        one of these names is the user's, and the call is refused rather than replace
        it. ``None`` (the default) says the names are not fixed in advance: then the
        directory must be new, empty or claimed. ``()`` says every file written has a
        name nobody else uses (cache entries named by their digest).

    Returns
    -------
    Path
        ``path`` as given. Nothing is created: the writer claims its directory with
        :func:`claim_directory` when it writes.

    Raises
    ------
    ValidationError
        Naming ``name``, the path, what is wrong and the remedy.
    """
    p = Path(path)
    real = p.resolve()
    targets = [real] + [real / f for f in files or ()]
    for given in inputs:
        src = Path(given).resolve()
        for t in targets:
            if _inside(t, src):
                what = (f"would write {t.name} over the input" if t != real else
                        "is the input" if t == src else "lies inside the input directory")
                raise ValidationError(
                    f"{name} '{path}' {what} '{given}': synthgain never writes over or into "
                    "its inputs. Choose another path.")
    if directory:
        if p.exists() and not p.is_dir():
            raise ValidationError(
                f"{name} '{path}' is a file, but a directory is needed (it is created if "
                "missing). Give a directory path, or move the file.")
        for f in files or ():
            if (p / f).is_dir():
                raise ValidationError(
                    f"{name} '{path}' holds a directory '{f}' where the file {f} is written. "
                    "Move it, or choose another directory.")
        _check_not_users(p, path, name, files)
    elif p.is_dir():
        raise ValidationError(
            f"{name} '{path}' is a directory, but a file name is needed. Give the path of "
            "the file to write.")
    base = real if directory else real.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ValidationError(
            f"{name} '{path}' cannot be created: '{base}' is a file, not a directory. "
            "Choose a path under a directory.")
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as exc:
        raise ValidationError(
            f"{name} '{path}' cannot be written: '{base}' does not accept new files "
            f"({exc.strerror or exc}). Choose a writable location.") from None
    return p


def _check_not_users(p: Path, path: str | Path, name: str, files: Sequence[str] | None) -> None:
    """Refuse a directory output that would replace a file synthgain did not write."""
    if not p.is_dir() or (p / MARKER_NAME).is_file():
        return
    if files is None:
        clash = sorted(e.name for e in p.iterdir())
        what = (f"already holds files synthgain did not write ({', '.join(clash[:3])}"
                f"{', ...' if len(clash) > 3 else ''}), and the names of what it writes "
                "are not fixed in advance")
    else:
        clash = [f for f in files if (p / f).exists()]
        what = (f"holds {', '.join(repr(f) for f in clash)}, which synthgain did not write "
                "and would replace")
    if clash:
        raise ValidationError(
            f"{name} '{path}' {what}. synthgain writes only into a new or empty directory "
            f"or one it wrote before (marked by a {MARKER_NAME} file). Choose another "
            f"directory, or move those files; if an older synthgain wrote them, create an "
            f"empty file '{Path(path) / MARKER_NAME}'.")


def claim_directory(path: str | Path, *, check: Sequence[str] | None = None,
                    name: str = "`out_dir`") -> Path:
    """Create the output directory ``path`` if missing and mark it as synthgain's (the
    ``.synthgain`` file), so that a later run may replace the files written into it
    (:func:`check_output`). Every writer of outputs of fixed names creates its directory
    with this function; caches, whose entries are named by their digest, need not.
    ``check``: the names the caller writes there, checked first with
    :func:`check_output` (errors name ``name``), for a writer that a library user may
    call on a directory of their own.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from synthgain.experiments.provenance import MARKER_NAME, claim_directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = claim_directory(Path(tmp) / "out")
    ...     (out / MARKER_NAME).is_file()
    True
    """
    if check is not None:
        check_output(path, name, directory=True, files=check)
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    marker = p / MARKER_NAME
    if not marker.is_file():
        write_bytes_atomic(marker, b"This directory holds files written by synthgain; a "
                                   b"later run may replace them.\n")
    return p


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
