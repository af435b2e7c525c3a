"""The ``synthgain`` command line: one module per command, each thin over the library.

Commands parse their options and call a plain importable function; only this layer
prints or sets the exit code.
"""

from __future__ import annotations

import typer

from . import audit as _audit
from . import demo as _demo
from . import reproduce as _reproduce
from . import runs as _runs
from . import study as _study
from . import sweep as _sweep
from . import theory as _theory

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


app.command("audit")(_audit.audit)
app.command("demo")(_demo.demo)
app.command("reproduce")(_reproduce.reproduce)
app.command("study")(_study.study)
app.command("sweep")(_sweep.sweep)
app.command("theory")(_theory.theory)
app.add_typer(_runs.runs_app, name="runs")


def main() -> None:
    """Entry point of the ``synthgain`` script."""
    app()
