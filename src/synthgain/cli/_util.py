"""Helpers shared by the CLI commands: console output and error reporting."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..exceptions import SynthgainError

console = Console(stderr=False)
err_console = Console(stderr=True)


@contextmanager
def user_errors(flags: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn synthgain's errors into a one-line message and exit status 2, an error of the
    system (``OSError``: a disk full, a file that vanished) into one line and status 1,
    and Python warnings into ``note:`` lines (one per distinct message, no source paths).

    ``flags`` maps the library's argument names to the command's flags (``{"workers":
    "--workers"}``): a message naming `` `workers` `` is shown naming `` `--workers` ``.
    """
    with warnings.catch_warnings(record=True) as caught:  # the filters in force stay
        try:
            yield
        except SynthgainError as exc:
            err_console.print(f"[bold red]error:[/] {_as_flags(str(exc), flags)}",
                              markup=True, highlight=False)
            raise typer.Exit(code=2) from None
        except OSError as exc:  # the system refused a read or a write (disk full, ...)
            where = f" '{exc.filename}'" if exc.filename else ""
            err_console.print(f"[bold red]error:[/] {escape(exc.strerror or str(exc))}"
                              f"{escape(where)}. Nothing of the inputs was changed; free "
                              "space or choose another location, and run the command again.",
                              markup=True, highlight=False)
            raise typer.Exit(code=1) from None
        finally:
            for text in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
                err_console.print(f"note: {text}", markup=False, highlight=False)


def _as_flags(message: str, flags: Mapping[str, str] | None) -> str:
    """``message`` with each `` `name` `` of ``flags`` replaced by its flag; rich markup
    in the message escaped."""
    for name, flag in (flags or {}).items():
        message = message.replace(f"`{name}`", f"`{flag}`")
    return escape(message)


def check_out_dir(path: Path, flag: str, inputs: Sequence[Path | None] = (),
                  files: Sequence[str] | None = None) -> Path:
    """Check an output directory before any work (see
    :func:`synthgain.experiments.provenance.check_output`); errors name ``flag``."""
    from ..experiments.provenance import check_output

    return check_output(path, flag, directory=True,
                        inputs=[p for p in inputs if p is not None], files=files)


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only on an interactive terminal, and never with ``--quiet``."""
    return (not quiet) and sys.stderr.isatty()
