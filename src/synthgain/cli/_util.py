"""Helpers shared by the CLI commands: console output and error reporting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from ..exceptions import SynthgainError

console = Console(stderr=False)
err_console = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn synthgain's errors into a one-line message and exit status 2."""
    try:
        yield
    except SynthgainError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only on an interactive terminal, and never with ``--quiet``."""
    return (not quiet) and sys.stderr.isatty()
