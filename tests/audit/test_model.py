"""The audit's model and label measures against known truths, and their null.

Without the language model only the label measures and G-Vendi's identities run; the
rest needs `make lm-setup` (CI installs it)."""

import json
from pathlib import Path

import numpy as np
import pytest

from synthgain.audit import Dataset, label_issues, read_rows, run_audit, vendi_score
from synthgain.audit._estimators import alignment, mean_diff, vendi_diff
from synthgain.audit._null import compare
from synthgain.lm import model_available

needs_lm = pytest.mark.skipif(not model_available(),
                              reason="the language model is not installed: make lm-setup")
DATA = Path(__file__).resolve().parents[2] / "docs" / "data" / "llm_synthetic.jsonl.gz"


def test_g_vendi_identities():
    """G-Vendi is the Vendi score of unit sketches: n identical sketches are one
    direction, n orthogonal ones are n."""
    same = np.tile(np.eye(64)[3], (10, 1))
    assert vendi_score(same, rng=0).value == pytest.approx(1.0)
    assert vendi_score(np.eye(64)[:10], rng=0).value == pytest.approx(10.0)
    assert vendi_diff()(np.eye(64)[:10], same, np.random.default_rng(0))["vendi"] == \
        pytest.approx(9.0)


def _blobs(n, g, sep=4.0, d=8):
    y = g.integers(0, 3, n)
    return g.normal(size=(n, d)) + np.eye(d)[:3][y] * sep, y


def test_label_issues_find_planted_flips():
    """10 % of labels flipped among three classes 4 sd apart in 8-d: over 10 seeds,
    recall 0.95 and precision 0.95 on average (each seed at least 0.83 and 0.87); the
    test asks 0.9 on average and 0.75 for every seed."""
    recall, precision = [], []
    for seed in range(10):
        g = np.random.default_rng(seed)
        x, y = _blobs(400, g)
        flip = g.random(400) < 0.1
        noisy = y.copy()
        noisy[flip] = (y[flip] + 1 + g.integers(0, 2, flip.sum())) % 3
        found = label_issues(x, noisy, rng=seed)
        recall.append((found & flip).sum() / flip.sum())
        precision.append((found & flip).sum() / max(found.sum(), 1))
    assert np.mean(recall) >= 0.9 and np.mean(precision) >= 0.9
    assert min(recall) >= 0.75 and min(precision) >= 0.75


def _labelled(xa, ya, xs, ys, **kw):
    return run_audit(Dataset.from_arrays(xa, labels=ya, name="anchor"),
                     Dataset.from_arrays(xs, labels=ys, name="synthetic"), rng=0, repeats=6,
                     workers=1, **kw)


def test_tstr_and_label_issues_on_separable_shuffled_and_flipped_labels():
    g = np.random.default_rng(0)
    xa, ya = _blobs(200, g)
    xs, ys = _blobs(200, g)
    ok = _labelled(xa, ya, xs, ys).metrics["labels"]
    lo, hi = ok["tstr_accuracy"].ci()
    assert lo <= 0.0 <= hi and hi - lo < 0.1  # as good as the anchors' own data
    shuffled = _labelled(xa, ya, xs, g.permutation(ys)).metrics["labels"]
    assert shuffled["tstr_accuracy"].ci()[1] < -0.3  # worse than the anchors' own
    assert shuffled["label_issue_rate"].ci()[0] > 0.3
    flip = g.random(200) < 0.2
    yf = ys.copy()
    yf[flip] = (ys[flip] + 1) % 3
    res = _labelled(xa, ya, xs, yf)
    assert res.metrics["labels"]["label_issue_rate"].ci()[0] > 0.1
    found = res.label_suspect
    assert (found & flip).sum() >= 0.8 * flip.sum() and (found & ~flip).sum() <= 5
    # the label agreement: as the anchors' own on clean labels, far below on shuffled
    # ones, about minus the flipped share on flipped ones (46 of 200 here)
    lo, hi = ok["label_agreement"].ci()
    assert lo <= 0.0 <= hi and hi - lo < 0.1
    assert shuffled["label_agreement"].ci()[1] < -0.5
    agree = res.metrics["labels"]["label_agreement"]
    assert agree.ci()[0] <= -flip.mean() <= agree.ci()[1]


def test_no_labels_no_label_measures():
    g = np.random.default_rng(1)
    res = run_audit(g.normal(size=(50, 4)), g.normal(size=(50, 4)), rng=0, repeats=4,
                    workers=1)
    assert "labels" not in res.metrics and res.label_suspect is None


# --- with the language model ----------------------------------------------------------


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """180 of the LLM study's generated questions with their prompts, and 40 unrelated
    texts (arithmetic statements), scored once."""
    from synthgain.lm import score_texts

    recs = [r for r in read_rows(DATA) if r.get("question") and r["kept"]]
    g = np.random.default_rng(7)
    recs = [recs[i] for i in g.permutation(len(recs))[:180]]
    cache = tmp_path_factory.mktemp("lm")
    q = score_texts([r["question"] for r in recs], [r["prompt"] for r in recs],
                    cache_dir=cache, threads=2)
    other = [f"{a} plus {b} equals {a + b}." for a, b in g.integers(10, 99, size=(40, 2))]
    u = score_texts(other, cache_dir=cache, threads=2)
    return q, u


@needs_lm
def test_alignment_of_a_split_is_high_and_of_another_task_lower(pool):
    """The mean gradients of two halves of one task point the same way; a step on
    another task's rows does not lower this one's loss (cosine near or below 0)."""
    q, u = pool
    a = alignment()
    same = a(q.sketch[:90], q.sketch[90:], np.random.default_rng(0))["alignment"]
    other = a(q.sketch[:90], u.sketch, np.random.default_rng(0))["alignment"]
    # measured: 0.87 for two halves of 90 questions, -0.24 against arithmetic statements
    assert same > 0.75 and other < 0.2


@needs_lm
def test_model_measures_cover_chance_on_splits_of_one_distribution(pool):
    """Anchors and synthetic rows drawn from one pool (no difference): each interval
    covers 0 in at least 18 of 20 random partitions (measured: 40 of 40 at 60 rows)."""
    q, _ = pool
    cols = {"vendi": (vendi_diff(), q.sketch), "alignment": (alignment(), q.sketch),
            "loss": (mean_diff(), q.loss[:, None]), "ifd": (mean_diff(), q.ifd[:, None])}
    cover = dict.fromkeys(cols, 0)
    for rep in range(20):
        perm = np.random.default_rng(100 + rep).permutation(180)
        a, s = perm[:90], perm[90:]
        for key, (measure, x) in cols.items():
            (c,) = compare(measure, x[s], x[a], x[a], rows=45, repeats=6, rng=rep).values()
            lo, hi = c.estimate.ci()
            cover[key] += lo <= 0.0 <= hi
    assert min(cover.values()) >= 18, cover


def _chat(path, rows):
    with open(path, "w") as f:
        for user, answer, label in rows:
            f.write(json.dumps({"messages": [{"role": "user", "content": user},
                                             {"role": "assistant", "content": answer}],
                                "label": label}) + "\n")


@needs_lm
def test_cli_audit_with_the_model(tmp_path):
    """`synthgain audit --lm smollm2` on chat files with labels: the model and label
    groups in metrics.json, lm_loss/ifd/label_suspect in rows.parquet, and
    `--drop label-suspect` leaves the flagged rows out."""
    import pandas as pd
    from typer.testing import CliRunner

    from synthgain.cli import app

    recs = [r for r in read_rows(DATA) if r.get("question") and r["kept"]][:80]
    rows = [(f"Ask a question of category {r['label']}.", r["question"], r["label"])
            for r in recs]
    _chat(tmp_path / "a.jsonl", rows[:40])
    _chat(tmp_path / "s.jsonl", rows[40:])
    out = tmp_path / "out"
    res = CliRunner().invoke(app, [
        "audit", str(tmp_path / "a.jsonl"), str(tmp_path / "s.jsonl"), "--out", str(out),
        "--model", "lsa", "--lm", "smollm2", "--label-column", "label", "--repeats", "4",
        "--compare-rows", "20", "--quiet", "--write-filtered", str(tmp_path / "f.jsonl"),
        "--drop", "label-suspect"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "metrics.json").read_text())
    assert set(doc["metrics"]["model"]) == {"g_vendi", "gradient_alignment", "loss", "ifd"}
    from synthgain.audit._gate import LM_KEYS

    assert LM_KEYS <= {f"{g}.{k}" for g, keys in doc["metrics"].items() for k in keys}
    assert {"tstr_accuracy", "label_issue_rate", "g_vendi_labels",
            "gradient_alignment_labels"} <= set(doc["metrics"]["labels"])
    assert doc["config"]["lm"] == "smollm2"
    html = (out / "report.html").read_text()
    assert "What a small model learns" in html and "What the labels teach" in html
    table = pd.read_parquet(out / "rows.parquet")
    assert np.isfinite(table["lm_loss"]).sum() == 20 and np.isfinite(table["ifd"]).sum() == 20
    kept = read_rows(tmp_path / "f.jsonl")
    assert len(kept) == 40 - int(table["label_suspect"].sum())


def test_cli_lm_when_the_model_is_absent(tmp_path, monkeypatch):
    """--lm smollm2 without the model: an error naming the set-up; --lm auto: one line
    saying what is skipped, and the audit runs."""
    from typer.testing import CliRunner

    import synthgain.lm as lm
    from synthgain.cli import app

    monkeypatch.setattr(lm, "model_available", lambda: False)
    g = np.random.default_rng(0)
    for name in ("a", "s"):
        _chat(tmp_path / f"{name}.jsonl", [(f"q {i}", " ".join(
            g.choice(["red", "blue", "green", "cat", "dog"], 5)), "x") for i in range(20)])
    args = ["audit", str(tmp_path / "a.jsonl"), str(tmp_path / "s.jsonl"), "--model", "lsa",
            "--repeats", "2", "--quiet"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o1"), "--lm", "smollm2"])
    assert res.exit_code == 2 and "make lm-setup" in res.output
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o2"), "--lm", "auto"])
    assert res.exit_code == 0, res.output
    assert "language-model measures" in res.output and "make lm-setup" in res.output


def test_label_issues_fitted_on_a_subset_find_the_same_flips():
    """Above max_fit_rows the probabilities of the other rows come from a model of the
    fitted ones: 2,000 rows fitted on 500 find the planted flips as the full fit does."""
    g = np.random.default_rng(3)
    x, y = _blobs(2000, g)
    flip = g.random(2000) < 0.1
    noisy = y.copy()
    noisy[flip] = (y[flip] + 1) % 3
    for limit in (500, 5000):
        found = label_issues(x, noisy, max_fit_rows=limit, rng=0)
        assert (found & flip).sum() >= 0.9 * flip.sum()
        assert (found & ~flip).sum() <= 0.02 * (~flip).sum()


@pytest.mark.parametrize(("n_anchor", "n_synthetic", "sep"), [(40, 100, 1.5), (100, 150, 1.5),
                                                             (40, 100, 0.5)])
def test_label_measures_cover_chance_on_one_distribution(n_anchor, n_synthetic, sep):
    # anchors and synthetic rows of one labelled distribution (three overlapping classes):
    # the intervals of label_agreement and label_issue_rate cover 0 in >= 90 % of 100
    # draws (measured 0.93 to 0.98 here; binomial sd of the coverage 0.022 around 0.95).
    # Without the jackknife over models of the anchors the issue rate covered 0.86 to
    # 0.93: the share rests on one fitted model. At 20 anchors (about 7 per class) the
    # coverage falls to 0.88 (docs/audit.md)
    from synthgain.audit._model import anchor_share_excess
    from synthgain.audit._probe import anchor_label_checks

    g = np.random.default_rng(n_anchor + n_synthetic)
    covered = {"agree": 0, "issue": 0}
    for rep in range(100):
        xa, ya = _blobs(n_anchor, g, sep)
        xs, ys = _blobs(n_synthetic, g, sep)
        checks = anchor_label_checks(xa, ya, xs, ys, rng=rep)
        for key in covered:
            lo, hi = anchor_share_excess(checks, key, np.ones(n_synthetic, bool)).ci()
            covered[key] += lo <= 0.0 <= hi
    assert min(covered.values()) >= 90, covered
