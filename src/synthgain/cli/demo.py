"""``synthgain demo``: a reduced Figure 4 and Figure 2 of the paper, and a text audit."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ..experiments.provenance import claim_directory
from ._util import check_out_dir, console, user_errors
from .reproduce import print_claims


def demo(
    out: Path = typer.Option(Path("demo-output"), help="Directory for the demo's outputs."),
    seed: int = typer.Option(0, help="Root random seed."),
    jobs: int = typer.Option(2, "--jobs", "-j", help="Worker processes."),
    text_model: str = typer.Option(
        "lsa",
        help="Embedding of the text audit: 'lsa' (torch-free, always available) or "
        "'minilm' (all-MiniLM-L6-v2; needs the 'text' extra).",
    ),
    text: bool = typer.Option(True, help="Also audit the small real text example."),
) -> None:
    """Reduced Figure 4 (20 settings x 20 rounds), Figure 2 and a text audit; print where
    the outputs are."""
    from ..plots import run_demo

    with user_errors({"rng": "--seed", "jobs": "--jobs"}):
        check_out_dir(out, "--out")
        claim_directory(out)  # before any work: a rerun after a crash may write here again
        res = run_demo(out, seed=seed, jobs=jobs)
        console.print(
            f"Reduced Figure 4 (3 sweeps x 14 values x 20 settings x 20 rounds) in "
            f"{res['wall_seconds']:.1f} s:"
        )
        print_claims(res["claims"])
        console.print(f"Outputs in {out}/:")
        for p in res["paths"].values():
            console.print(f"  {p}")
        if text:
            from ..audit import run_text_demo
            from ..report import write_audit

            t0 = time.perf_counter()
            result = run_text_demo(out / "text-audit", model=text_model, rng=seed)
            report = write_audit(result, out / "text-audit")["report"]
            console.print(
                f"Audited real quotes (anchors), Markov-chain text made from them (synthetic) "
                f"and held-out quotes (target) in {time.perf_counter() - t0:.1f} s "
                f"({text_model} embeddings):"
            )
            console.print(f"  {report}  (open it in a browser)")
            console.print(f"  {report.parent / 'metrics.json'}")
