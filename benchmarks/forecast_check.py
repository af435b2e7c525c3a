"""Does the audit's forecast of "what more generation would buy" come true?

The audit cuts the reference rows into fine cells (:mod:`synthgain.audit._topics`) and,
from how the synthetic rows occupy them, forecasts the cells the next rows would reach
(Chao1 and its extrapolation, :func:`synthgain.measures.richness_forecast`) and the share
of the next rows that would land in a cell not yet reached (Good-Turing,
:func:`~synthgain.measures.good_turing_unseen`). This script checks the forecast where
the truth is known exactly:

- **pool**: the LLM study's recorded generations (docs/data/llm_synthetic.jsonl.gz: the 4,261
  questions Study 4's pool keeps, ``load_pool``) embedded by the packaged MiniLM; ``--reference`` of them, drawn at
  random, are the reference rows that define the cells, the others the population. A
  synthetic set is ``n`` rows drawn from the population without replacement; the truth
  after ``n + e`` rows is the expected number of cells that many draws without
  replacement reach, ``sum_c 1 - C(N - N_c, n + e) / C(N, n + e)`` (hypergeometric);
- **mixture**: a simulated generator, a Gaussian mixture of 300 modes with Zipf weights
  (p_j proportional to 1/j) in 16 dimensions; the reference rows are 400 draws of it;
  the truth is ``sum_c 1 - (1 - P_c)^(n + e)`` with ``P_c`` each cell's probability (from
  200,000 draws).

For each sample size and repetition the forecast at ``e = n`` (twice the rows: where
Chao et al. 2014 find the extrapolation reliable) and at ``e = 1000`` (the audit's
first forecast) is compared with the truth: mean relative error and the share of 95 %
intervals that cover it. The Good-Turing share is compared with the population's
probability mass in the cells the sample has not reached.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_check.py --reps 40 --docs

``--docs`` writes the table into docs/audit.md between its markers.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import gammaln  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "docs" / "data" / "llm_synthetic.jsonl.gz"
DOCS = ROOT / "docs" / "audit.md"
BEGIN, END = "<!-- forecast-check:begin -->", "<!-- forecast-check:end -->"


def _cells(reference: np.ndarray, population: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """Each population row's fine cell, the partition the audit fits on ``reference``."""
    from synthgain.audit._topics import _kmeans, assign, cell_count

    c = cell_count(reference.shape[0])
    km = _kmeans(reference, c, seed, n_init=1)  # as the audit fits its fine cells
    return assign(population, km.cluster_centers_), c


def _truth_without_replacement(cell_sizes: np.ndarray, draws: int) -> float:
    """Expected cells reached by ``draws`` rows drawn without replacement."""
    n = int(cell_sizes.sum())
    if draws >= n:
        return float(np.count_nonzero(cell_sizes))
    # log C(n - n_c, draws) - log C(n, draws)
    rest = n - cell_sizes
    log_miss = np.where(rest >= draws,
                        gammaln(rest + 1) - gammaln(rest - draws + 1)
                        - gammaln(n + 1) + gammaln(n - draws + 1), -np.inf)
    return float(np.sum(1.0 - np.exp(log_miss)))


def _truth_with_replacement(p: np.ndarray, draws: int) -> float:
    return float(np.sum(1.0 - (1.0 - p) ** draws))


def _one(counts: np.ndarray, c: int, extras: list[int], seed: int
         ) -> dict[str, tuple[float, float, float]]:
    from synthgain.measures import good_turing_unseen, richness_forecast

    out = {}
    for e in extras:
        f = richness_forecast(counts, e, max_cells=c, rng=seed)
        lo, hi = f.ci()
        out[f"e{e}"] = (f.value, lo, hi)
    g = good_turing_unseen(counts)
    out["gt"] = (g.value, *g.ci())
    return out


def run_case(name: str, draw, truth, unseen_mass, c: int, sizes: list[int], reps: int,
             seed: int) -> list[dict[str, object]]:
    rows = []
    for n in sizes:
        extras = [n, 1000]
        res: dict[str, list[tuple[float, float, float, float]]] = {}
        for r in range(reps):
            cells = draw(n, np.random.default_rng([seed, n, r]))
            counts = np.bincount(cells, minlength=c)
            got = _one(counts, c, extras, seed + r)
            for e in extras:
                res.setdefault(f"e{e}", []).append((*got[f"e{e}"], truth(n + e)))
            res.setdefault("gt", []).append((*got["gt"], unseen_mass(counts)))
            res.setdefault("seen", []).append((float(np.count_nonzero(counts)), 0, 0, 0))
        seen = float(np.mean([v[0] for v in res["seen"]]))
        for key, vals in res.items():
            if key == "seen":
                continue
            a = np.asarray(vals)
            what = ("share of the next row in a new cell" if key == "gt"
                    else f"cells after {int(key[1:]):,} more rows")
            rows.append({"case": name, "n": n, "what": what, "cells": c, "seen": seen,
                         "truth": float(a[:, 3].mean()), "forecast": float(a[:, 0].mean()),
                         "rel_error": float(np.mean((a[:, 0] - a[:, 3]) / a[:, 3])),
                         "coverage": float(np.mean((a[:, 1] <= a[:, 3]) & (a[:, 3] <= a[:, 2])))})
    return rows


def pool_case(reference: int, sizes: list[int], reps: int, seed: int) -> list[dict[str, object]]:
    from synthgain.audit import embed_texts
    from synthgain.study._mix import load_pool

    pool = load_pool(POOL)
    emb = embed_texts(pool.questions, model="minilm")
    g = np.random.default_rng(seed)
    order = g.permutation(emb.shape[0])
    ref, popu = emb[order[:reference]], emb[order[reference:]]
    cells, c = _cells(ref, popu, seed)
    sizes_c = np.bincount(cells, minlength=c)
    prob = sizes_c / sizes_c.sum()

    def draw(n: int, gen: np.random.Generator) -> np.ndarray:
        return cells[gen.choice(cells.shape[0], size=n, replace=False)]

    def unseen(counts: np.ndarray) -> float:
        return float(prob[counts == 0].sum())

    return run_case(f"LLM pool ({popu.shape[0]:,} generations)", draw,
                    lambda k: _truth_without_replacement(sizes_c, k), unseen, c, sizes, reps,
                    seed)


def mixture_case(sizes: list[int], reps: int, seed: int) -> list[dict[str, object]]:
    g = np.random.default_rng(seed)
    modes, d = 300, 16
    centres = g.normal(scale=3.0, size=(modes, d))
    w = 1.0 / np.arange(1, modes + 1)
    w /= w.sum()

    def sample(n: int, gen: np.random.Generator) -> np.ndarray:
        comp = gen.choice(modes, size=n, p=w)
        return centres[comp] + gen.normal(size=(n, d))

    ref = sample(400, g)
    big = sample(200_000, g)
    cells, c = _cells(ref, big, seed)
    prob = np.bincount(cells, minlength=c) / cells.shape[0]
    from synthgain.audit._topics import _kmeans, assign, cell_count

    km = _kmeans(ref, cell_count(ref.shape[0]), seed, n_init=1)

    def draw(n: int, gen: np.random.Generator) -> np.ndarray:
        return assign(sample(n, gen), km.cluster_centers_)

    def unseen(counts: np.ndarray) -> float:
        return float(prob[counts == 0].sum())

    return run_case("Zipf mixture (300 modes)", draw,
                    lambda k: _truth_with_replacement(prob, k), unseen, c, sizes, reps, seed)


def table(rows: list[dict[str, object]], reps: int) -> str:
    lines = ["| case | rows n | cells | reached | quantity | truth | forecast (mean) | "
             "mean relative error | 95 % interval covers |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        fmt = ".3f" if "share" in str(r["what"]) else ".1f"
        lines.append(
            f"| {r['case']} | {r['n']} | {r['cells']} | {r['seen']:.1f} | {r['what']} | "
            f"{r['truth']:{fmt}} | {r['forecast']:{fmt}} | {r['rel_error']:+.1%} | "
            f"{r['coverage']:.0%} |")
    lines.append(f"\n{reps} repetitions per row.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 500])
    ap.add_argument("--reference", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = mixture_case(args.sizes, args.reps, args.seed)
    rows += pool_case(args.reference, args.sizes, args.reps, args.seed)
    text = table(rows, args.reps)
    print(text)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.docs:
        doc = DOCS.read_text()
        new = (f"{BEGIN}\n{text}\n\n(`benchmarks/forecast_check.py --reps {args.reps}`)\n"
               f"{END}")
        doc, k = re.subn(re.escape(BEGIN) + ".*?" + re.escape(END), new, doc, flags=re.S)
        if not k:
            raise SystemExit(f"{DOCS}: markers {BEGIN} / {END} not found")
        DOCS.write_text(doc)


if __name__ == "__main__":
    main()
