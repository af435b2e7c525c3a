"""Topic coverage and the forecast of what more generation would buy (audit/_topics.py)."""

import numpy as np
import pytest

from synthgain.audit import Dataset, row_table, run_audit
from synthgain.audit._topics import ALPHA, assign, cell_count, topic_count, topics

WORDS = {0: "recipe oven bake flour sugar", 1: "goal match striker league referee",
         2: "orbit planet telescope galaxy comet", 3: "invoice payment ledger audit tax"}


def _groups(g, per, which, d=6, sep=12.0):
    centres = sep * np.eye(d)[:4]
    return np.concatenate([centres[j] + g.normal(size=(per, d)) for j in which])


def _texts(g, per, which):
    out = []
    for j in which:
        words = WORDS[j].split()
        out += [" ".join(g.choice(words, size=4)) + f" item {i}" for i in range(per)]
    return out


def test_counts_of_topics_and_cells():
    assert topic_count(10) == 2 and topic_count(200) == 10 and topic_count(10_000) == 20
    assert topic_count(6) == 1  # at least 5 anchors per topic
    assert cell_count(100) == 25 and cell_count(10_000) == 256 and cell_count(20) >= 2


def test_a_topic_the_synthetic_rows_leave_out_is_missing_and_named():
    g = np.random.default_rng(0)
    a = _groups(g, 40, range(4))
    s = _groups(g, 50, range(3))  # no row of group 3
    res = topics(a, s, anchor_texts=_texts(g, 40, range(4)), rng=0)
    assert len(res.names) == topic_count(160)
    missed = [j for j in res.marked if res.status[j] == "missing"]
    assert missed, res.status
    # every missed topic is made of group-3 anchors, and named by group 3's words
    for j in missed:
        assert res.synthetic_counts[j] == 0
        assert any(w in res.names[j] for w in WORDS[3].split()), res.names[j]
        assert res.examples is not None and "item" in res.examples[j]
    assert (res.topic == assign(s, res.centres)).all()
    table = res.table()
    assert [r["status"] for r in table] == res.status
    assert sum(r["synthetic_rows"] for r in table) == s.shape[0]


def test_an_over_filled_topic_is_marked_over_filled():
    g = np.random.default_rng(1)
    a = _groups(g, 50, range(4))
    s = np.concatenate([_groups(g, 10, range(4)), _groups(g, 120, [0])])
    res = topics(a, s, rng=0)
    over = [j for j in res.marked if res.status[j] == "over-filled"]
    assert over and all(res.synthetic_counts[j] > res.expected_high[j] for j in over)
    assert res.names[0] == "topic 1" and res.examples is None  # no texts: numbered


def test_same_distribution_marks_a_topic_about_as_often_as_alpha():
    """Null: synthetic rows of the anchors' own distribution. The per-topic tests are
    Holm-adjusted at ALPHA = 0.05 family-wise; the anchors' shares are estimated, which
    the beta-binomial null accounts for. Measured: 1 audit of 60 marks a topic (fixed
    seeds); a binomial(60, 0.05) exceeds 7 with probability < 1 %, so more than 7 would
    mean the null is too narrow."""
    marked = 0
    for seed in range(60):
        g = np.random.default_rng(100 + seed)
        a = g.normal(size=(200, 5)) * np.array([3.0, 2.0, 1.0, 1.0, 0.5])
        s = g.normal(size=(300, 5)) * np.array([3.0, 2.0, 1.0, 1.0, 0.5])
        res = topics(a, s, rng=seed)
        marked += bool(res.marked)
        assert (res.pvalue >= 0).all() and (res.pvalue <= 1).all()
    assert marked <= 7, marked
    assert ALPHA == 0.05


def test_forecast_is_bounded_by_the_cells_and_grows_with_more_rows():
    g = np.random.default_rng(2)
    a = g.normal(size=(400, 4))
    s = g.normal(size=(60, 4))  # few rows: many cells not reached yet
    res = topics(a, s, rng=0)
    f = res.forecast
    seen = f["cells_unseen"].params["seen"]
    assert seen == np.unique(res.cell).size
    assert 0 <= f["cells_new_1000"].value <= f["cells_new_10000"].value + 1e-9
    assert f["cells_new_10000"].value <= res.cells - seen + 1e-9
    lo, hi = f["cells_new_1000"].ci()
    assert 0 <= lo <= f["cells_new_1000"].value <= hi <= res.cells - seen + 1e-9
    assert f["cells_new_1000"].value > 1  # 60 rows of 400 anchors' cells: more to reach
    assert 0 < f["new_row_share"].value < 1


def test_the_audit_records_topics_rows_verdict_and_report(tmp_path):
    from synthgain.report import write_audit

    g = np.random.default_rng(3)
    a_text, s_text = _texts(g, 40, range(4)), _texts(g, 50, range(3))
    a = Dataset.from_arrays(_groups(g, 40, range(4)), texts=a_text, name="anchor")
    s = Dataset.from_arrays(_groups(g, 50, range(3)), texts=s_text, name="synthetic")
    res = run_audit(a, s, rng=0, repeats=4, workers=1)
    recs = {(r.group, r.key): r for r in res.records}
    assert recs["topics", "marked_topics"].estimate.value >= 1
    shift = recs["topics", "topic_shift"].estimate
    assert shift is not None and shift.value > 0  # a quarter of the anchors left out
    for key in ("cells_unseen", "cells_new_1000", "cells_new_10000", "new_row_share",
                "topics_unseen"):
        assert recs["forecast", key].estimate is not None
    v = res.verdict()
    top = next(c for c in v["checks"] if c["name"] == "topics")
    assert top["status"] == "problem" and top["rate"] == pytest.approx(0.25, abs=0.05)
    assert any(p["name"] == "topics" for p in v["problems"])
    table = row_table(res)
    assert (table["topic"] == res.topics.topic).all() and "topic_name" in table
    doc = res.to_dict()
    assert len(doc["topics"]["table"]) == len(res.topics.names)
    paths = write_audit(res, tmp_path / "out")
    html = paths["report"].read_text()
    assert "Topic coverage" in html and "topic shares of the anchors" in html
    assert "misses" in html


def test_same_distribution_audit_finds_no_topic_problem():
    g = np.random.default_rng(4)
    a, s = g.normal(size=(150, 4)), g.normal(size=(150, 4))
    res = run_audit(a, s, rng=0, repeats=4, workers=1)
    top = next(c for c in res.verdict()["checks"] if c["name"] == "topics")
    assert top["status"] == "ok"
    shift = {(r.group, r.key): r for r in res.records}["topics", "topic_shift"].estimate
    lo, hi = shift.ci()
    assert lo <= 0 <= hi
