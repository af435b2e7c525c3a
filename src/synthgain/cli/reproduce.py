"""``synthgain reproduce figure2|figure4|figure5|klgap-mechanism``: the paper's
Gaussian-mixture figures, and the decomposition of the KL Gap's terms along K."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ..exceptions import ValidationError
from ..experiments.provenance import claim_directory
from ._util import check_out_dir, console, err_console, show_progress, user_errors

_FIGURES = ("figure2", "figure4", "figure5", "klgap-mechanism")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("settings (chunks)", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_claims(claims: Any) -> None:
    """One line per (estimator, claim) of the paper's KL measure."""
    for r in claims[claims["measure"] == "kl"].itertuples():
        console.print(f"  {r.estimator} | {r.claim[7:]} | rho {r.rho:+.2f} "
                      f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}] | {r.verdict}", soft_wrap=True)


def reproduce(
    figure: str = typer.Argument(..., help="figure2, figure4, figure5 or klgap-mechanism."),
    out: Path = typer.Option(Path("reproduction"), "--out", "-o", help="Output directory."),
    settings: int = typer.Option(100, help="Random settings per point (Figure 4)."),
    rounds: int = typer.Option(100, help="Rounds of re-sampling per setting (Figure 4)."),
    n_eval: int = typer.Option(1000, "--n-eval", help="Points per mixture per round (Figure 4)."),
    estimator: list[str] = typer.Option(
        ["monte_carlo", "histogram_per_sample"], "--estimator", "-e",
        help="KL estimator (repeatable): monte_carlo, histogram, histogram_per_sample, knn.",
    ),
    covariance: str = typer.Option(
        "random_spd", help="Covariance model: random_spd, seed_effective or isotropic."
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes (Figure 4)."),
    seed: int = typer.Option(0, help="Root random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    resume: bool = typer.Option(
        False, "--resume",
        help="Figure 4: continue a killed run in --out from its checkpoint.sqlite, computing "
             "only the missing settings (same options required).",
    ),
) -> None:
    """Reproduce one of the paper's Gaussian-mixture figures with its tables."""
    from ..plots import reproduce_figure2, reproduce_figure4, reproduce_figure5

    with user_errors({"rng": "--seed", "jobs": "--jobs", "settings": "--settings",
                      "rounds": "--rounds", "n_eval": "--n-eval",
                      "covariance": "--covariance", "estimator": "--estimator"}):
        check_out_dir(out, "--out")
        if figure not in _FIGURES:
            raise ValidationError(
                f"`FIGURE` must be one of {', '.join(_FIGURES)}. Got {figure!r} instead."
            )
        if resume and figure != "figure4":
            raise ValidationError(f"`--resume` applies to figure4 only. Got it with {figure}.")
        claim_directory(out)  # before any work: a killed run resumes here
        if figure == "figure2":
            paths = reproduce_figure2(out, seed=seed, covariance=covariance)
        elif figure == "figure5":
            paths = reproduce_figure5(out, seed=seed, covariance=covariance)
        elif figure == "klgap-mechanism":
            from ..plots import reproduce_klgap_mechanism

            with _progress(show_progress(quiet)) as progress:
                _, trends, paths = reproduce_klgap_mechanism(
                    out, settings=settings, rounds=rounds, n_eval=n_eval, jobs=jobs, seed=seed,
                    progress=progress, covariance=covariance)
            for r in trends[trends["column"] == "gap"].itertuples():
                console.print(f"  K sweep at {r.sweep}: rho(K, KL Gap) {r.rho:+.2f} "
                              f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]", soft_wrap=True)
        else:
            with _progress(show_progress(quiet)) as progress:
                res, paths = reproduce_figure4(
                    out, settings=settings, rounds=rounds, n_eval=n_eval,
                    estimators=estimator, jobs=jobs, seed=seed, progress=progress,
                    covariance=covariance, resume=resume,
                )
            console.print(f"Figure 4 protocol: {len(res.rows)} rows in "
                          f"{res.config['wall_seconds']:.1f} s.")
            print_claims(res.claims)
        console.print(f"Wrote {len(paths)} files to {out}/")
