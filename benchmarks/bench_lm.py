"""Per-row gradient sketches of the language model (synthgain.lm.score_texts): the batched
path (one forward and one backward per batch, the factored projection applied to
activations and output gradients) against the plain per-row loop (one forward and
backward per row through autograd to the full restricted weight gradient, then the same
projection), in one run, as texts per second and their ratio; and the losses alone.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lm.py [--rows 64] [--threads 2] [--no-prompts]

Needs `make lm-setup`. The texts are questions of the LLM study's recorded generations
(docs/data/llm_synthetic.jsonl.gz), each with its prompt (109 tokens on average) or,
with ``--no-prompts``, alone (16 tokens); the clock excludes the load.
The two paths' sketches are compared (largest absolute difference) so the speed is of
the same numbers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from synthgain.audit import read_rows
from synthgain.lm import (
    SketchSpec,
    device,
    load_model,
    project_gradient,
    restricted_gradient,
    score_texts,
)

DATA = Path(__file__).resolve().parents[1] / "docs" / "data" / "llm_synthetic.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--loop-rows", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--no-prompts", action="store_true",
                    help="score the questions alone (the text layout), not given their prompts")
    args = ap.parse_args()
    recs = [r for r in read_rows(DATA) if r.get("question")][: args.rows]
    texts = [str(r["question"]) for r in recs]
    prompts = [None if args.no_prompts else str(r["prompt"]) for r in recs]
    t0 = time.perf_counter()
    load_model(threads=args.threads)
    print(f"device {device()}, torch threads {args.threads}, load "
          f"{time.perf_counter() - t0:.1f} s, {len(texts)} rows "
          f"(loop: first {args.loop_rows})")
    spec = SketchSpec()
    t0 = time.perf_counter()
    fast = score_texts(texts, prompts, sketch=spec, threads=args.threads,
                       batch_size=args.batch_size)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_texts(texts, prompts, sketch=None, threads=args.threads,
                batch_size=args.batch_size)
    t_loss = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = [project_gradient(restricted_gradient(texts[i], prompts[i], spec=spec,
                                                 threads=args.threads), spec=spec)
            for i in range(args.loop_rows)]
    t_loop = (time.perf_counter() - t0) / args.loop_rows * len(texts)
    diff = float(np.max(np.abs(np.asarray(slow) - fast.sketch[: args.loop_rows])))
    print("| path | texts/s | ratio to the loop |\n|---|---|---|")
    for name, t in (("per-row loop (autograd, full gradient, projected)", t_loop),
                    (f"batched sketch (batch {args.batch_size}; loss, IFD and sketch)",
                     t_fast),
                    ("losses and IFD only (no gradient)", t_loss)):
        print(f"| {name} | {len(texts) / t:.1f} | {t_loop / t:.1f}x |")
    print(f"largest |difference| between the two paths' unit sketches: {diff:.1e}")


if __name__ == "__main__":
    main()
