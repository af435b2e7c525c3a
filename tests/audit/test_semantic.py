"""Paraphrase clusters inside the synthetic set (synthgain.audit._semantic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthgain.audit import Dataset, parse_conditions, row_flags, row_table, run_audit
from synthgain.audit._semantic import semantic_duplicates, similarity_threshold
from synthgain.exceptions import ValidationError


def test_same_distribution_is_flagged_at_about_the_stated_share() -> None:
    # the threshold is the similarity 1 % of the anchors reach to their nearest other
    # anchor (at the synthetic set's size): synthetic rows of the same distribution are
    # in a cluster about as often. Over 6 seeds at 2,000 rows in 32-d the share in
    # clusters was 0.003 to 0.0155, mean 0.0097
    shares = []
    for seed in range(6):
        g = np.random.default_rng(seed)
        a, s = g.normal(size=(2000, 32)) + 0.5, g.normal(size=(2000, 32)) + 0.5
        out = semantic_duplicates(s, a, rng=0)
        assert out.anchor_share == pytest.approx(0.01, abs=0.001) and out.rows == 2000
        shares.append(out.in_clusters)
    assert 0.005 <= float(np.mean(shares)) <= 0.015 and max(shares) < 0.03


def test_planted_paraphrases_are_clustered_and_one_per_cluster_kept() -> None:
    g = np.random.default_rng(1)
    a = g.normal(size=(500, 32))
    s = g.normal(size=(300, 32))
    # 20 groups of 3 paraphrases: one direction, other lengths, a little noise
    for k in range(20):
        base = s[10 * k]
        for j in (1, 2):
            s[10 * k + j] = (1 + j) * base + 0.05 * g.normal(size=32)
    out = semantic_duplicates(s, a, rng=0)
    for k in range(20):
        rows = [10 * k, 10 * k + 1, 10 * k + 2]
        assert len(set(out.cluster[rows].tolist())) == 1 and out.cluster[rows[0]] >= 0
        assert out.flag[rows].tolist() == [False, True, True]
        assert (out.size[rows] >= 3).all()
    assert out.flag.sum() >= 40 and out.flag.sum() <= 45  # chance links: a few at most
    # invariant to each row's scale (cosine similarity)
    again = semantic_duplicates(s * g.uniform(0.1, 10, size=(300, 1)), a, rng=0)
    assert np.array_equal(again.cluster, out.cluster)


def test_threshold_and_bad_input() -> None:
    a = np.random.default_rng(2).normal(size=(100, 8))
    t, share, m = similarity_threshold(a, 1000, 0.05, rng=0)
    assert m == 100 and share == pytest.approx(0.05, abs=0.011) and -1 < t < 1
    with pytest.raises(ValidationError, match="anchor"):
        semantic_duplicates(a, a[:2])
    with pytest.raises(ValidationError, match="anchor"):
        semantic_duplicates(a, np.ones((5, 3)))
    one = semantic_duplicates(a[:1], a, rng=0)
    assert one.cluster.tolist() == [-1] and not one.flag.any()


def test_audit_rows_drop_and_gate(tmp_path: Path) -> None:
    g = np.random.default_rng(3)
    a = g.normal(size=(200, 16))
    s = g.normal(size=(120, 16))
    s[60:90] = 2.0 * s[30:60] + 0.02 * g.normal(size=(30, 16))  # 30 paraphrases
    res = run_audit(a, s, rng=0, repeats=2, workers=1)
    table = row_table(res)
    assert table["semantic_duplicate"][60:90].all()
    assert (table["semantic_duplicate_cluster"][30:60] >= 0).all()
    assert int(table["semantic_duplicate"].sum()) <= 33
    assert np.array_equal(row_flags(res)["semantic-duplicate"], table["semantic_duplicate"])
    assert any(n.code == "semantic_duplicates" for n in res.notes)
    from synthgain.audit import evaluate_gate

    gate = evaluate_gate(parse_conditions("semantic_duplicate_rate>0.2"), res)
    assert not gate.passed
    from synthgain.report import write_audit

    paths = write_audit(res, tmp_path)
    doc = json.loads(paths["metrics"].read_text("utf-8"))
    assert any(n["code"] == "semantic_duplicates" for n in doc["notes"])
    # the audit's smallest input (5 anchors) still calibrates a threshold
    few = run_audit(a[:5], Dataset.from_arrays(s[:10], name="synthetic"), rng=0, repeats=2)
    assert "semantic_duplicate" in row_table(few)
