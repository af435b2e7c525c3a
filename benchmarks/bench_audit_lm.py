"""The audit's cost with the language model (``lm="smollm2"``) against the same audit
without it, in one run, on the LLM study's data: TREC anchor candidates as anchors,
the study's recorded SmolLM2 generations (docs/data/llm_synthetic.jsonl.gz, kept rows)
as synthetic rows, TREC test questions as the target; texts with labels, embedded by
MiniLM where installed (else LSA).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_audit_lm.py [--rows 1000]

Needs `make study-setup` (the model and the TREC data). ``--rows`` caps each dataset;
the audit's ``compare_rows`` stays at its default (1,000), so the model scores at most
1,000 synthetic rows and 2,000 of the anchors and of the target, whatever the sizes.
The cache is off, so the model's time is its cost on new data.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from synthgain.audit import Dataset, available_models, read_rows, run_audit
from synthgain.study import load_trec_split

DATA = Path(__file__).resolve().parents[1] / "docs" / "data" / "llm_synthetic.jsonl.gz"


def _dataset(name: str, texts: list[str], labels: list[str]) -> Dataset:
    return Dataset(name, "<bench>", [str(i) for i in range(len(texts))], texts, None,
                   np.asarray(labels))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    args = ap.parse_args()
    g = np.random.default_rng(0)
    trec = load_trec_split(rng=0)
    classes = sorted(set(trec.labels["anchor"]))
    sets = {}
    for name, part in (("anchor", "anchor"), ("target", "test")):
        texts, labels = trec.take(part, classes)
        keep = np.sort(g.permutation(len(texts))[: args.rows])
        sets[name] = _dataset(name, [texts[i] for i in keep], [str(labels[i]) for i in keep])
    recs = [r for r in read_rows(DATA) if r.get("question") and r["kept"]]
    recs = [recs[i] for i in np.sort(g.permutation(len(recs))[: args.rows])]
    sets["synthetic"] = _dataset("synthetic", [r["question"] for r in recs],
                                 [r["label"] for r in recs])
    model = available_models()[0]
    print(f"anchor {len(sets['anchor'])}, synthetic {len(sets['synthetic'])}, target "
          f"{len(sets['target'])} rows; embedder {model}")
    times = {}
    for lm in ("none", "smollm2"):
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_audit(sets["anchor"], sets["synthetic"], sets["target"], model=model,
                        rng=0, lm=lm)
        times[lm] = (time.perf_counter() - t0, time.process_time() - c0)
        print(f"lm={lm}: {times[lm][0]:.1f} s wall, {times[lm][1]:.1f} s CPU; stages "
              + ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items() if v >= 0.5))
    print(f"ratio with/without the model: {times['smollm2'][0] / times['none'][0]:.2f} "
          f"wall, {times['smollm2'][1] / times['none'][1]:.2f} CPU")
    for r in res.records:
        if r.group in ("model", "labels"):
            e = r.estimate
            print(f"  {r.group}.{r.key}: " + ("withheld: " + str(r.reason) if e is None else
                                              f"{e.value:.4g} (95% CI {e.ci()[0]:.3g} to "
                                              f"{e.ci()[1]:.3g})"))


if __name__ == "__main__":
    main()
