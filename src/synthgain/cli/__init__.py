"""The ``synthgain`` command line: one module per command, each thin over the library.

Commands parse their options and call a plain importable function; only this layer
prints or sets the exit code.
"""

from __future__ import annotations

import typer

from . import demo as _demo

app = typer.Typer(
    name="synthgain",
    help="Measure what synthetic data adds to a model's training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Measure what synthetic data adds to a model's training."""


app.command("demo")(_demo.demo)


def main() -> None:
    """Entry point of the ``synthgain`` script."""
    app()
