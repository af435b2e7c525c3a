"""``synthgain demo``: a reduced Figure 4 and Figure 2 of the paper, in about a minute."""

from __future__ import annotations

from pathlib import Path

import typer

from ._util import console, user_errors
from .reproduce import print_claims


def demo(
    out: Path = typer.Option(Path("demo-output"), help="Directory for the demo's outputs."),
    seed: int = typer.Option(0, help="Root random seed."),
    jobs: int = typer.Option(2, "--jobs", "-j", help="Worker processes."),
) -> None:
    """Reduced Figure 4 (20 settings x 20 rounds) and Figure 2; print where the outputs are."""
    from ..plots import run_demo

    with user_errors():
        res = run_demo(out, seed=seed, jobs=jobs)
        console.print(
            f"Reduced Figure 4 (3 sweeps x 14 values x 20 settings x 20 rounds) in "
            f"{res['wall_seconds']:.1f} s:"
        )
        print_claims(res["claims"])
        console.print(f"Outputs in {out}/:")
        for p in res["paths"].values():
            console.print(f"  {p}")
