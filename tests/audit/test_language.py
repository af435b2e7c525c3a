"""Language of each row and language drift (audit/text/language.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthgain.audit import Dataset, audit_texts, text_row_flags
from synthgain.audit._metrics import share_excess
from synthgain.audit.text.language import (
    LANGUAGE_RARE,
    UNDETERMINED,
    language_drift,
    languages,
)
from synthgain.cli import app

#: planted positives: one sentence per language, each a plain sentence of 8 to 12 words
PLANTED = {
    "de": "Der kleine Hund spielt jeden Morgen im Garten hinter dem Haus.",
    "fr": "Le petit chien joue tous les matins dans le jardin derrière la maison.",
    "es": "El perro pequeño juega cada mañana en el jardín detrás de la casa.",
    "it": "Il piccolo cane gioca ogni mattina nel giardino dietro la casa.",
    "nl": "De kleine hond speelt elke ochtend in de tuin achter het huis.",
    "pt": "O cachorro pequeno brinca todas as manhãs no jardim atrás da casa.",
    "ru": "Маленькая собака каждое утро играет в саду за домом.",
    "ja": "小さな犬は毎朝家の裏の庭で遊んでいます。",
    "pl": "Mały pies bawi się każdego ranka w ogrodzie za domem.",
    "en": "The small dog plays every morning in the garden behind the house.",
}
_SUBJECTS = ("The old farmer", "My younger sister", "A tired student", "The new teacher",
             "Our neighbour", "The quiet engineer", "Every visitor", "The careful driver")
_VERBS = ("reads a long book", "walks to the station", "writes a short letter",
          "cooks dinner for the family", "repairs the broken window",
          "waits for the morning train", "plants tomatoes in the garden",
          "answers every question politely")
_TIMES = ("before breakfast", "on Sunday afternoon", "after work", "during the holidays",
          "every evening", "when it rains")


def english(n: int, seed: int = 0) -> list[str]:
    """``n`` plain English sentences (8 to 12 words) from a small grammar."""
    g = np.random.default_rng(seed)
    return [f"{g.choice(_SUBJECTS)} {g.choice(_VERBS)} {g.choice(_TIMES)}." for _ in range(n)]


def test_planted_languages_are_told():
    codes, prob = languages(list(PLANTED.values()))
    assert codes.tolist() == list(PLANTED)
    assert np.all(prob >= 0.8)
    codes, _ = languages(english(50))
    assert set(codes.tolist()) == {"en"}


@pytest.mark.parametrize("text", ["", "   \n\t ", "🙂🙂🙂", "😀 🚀 ✨", "12345 67.8", "?!...",
                                  "ok"])
def test_texts_without_a_language_are_undetermined(text):
    # no letter (whitespace, emoji, digits, punctuation), or too short to tell: "und",
    # never an error, never drift
    codes, _prob = languages([text])
    assert codes.tolist() == [UNDETERMINED]
    drift, _ = language_drift(codes, np.array(["en"] * 200))
    assert not drift.any()


def test_drift_flags_the_rows_in_languages_the_anchors_do_not_use():
    anchors = english(200, seed=1)
    planted = list(PLANTED.values())[:-1]  # nine non-English sentences
    synthetic = english(91, seed=2)
    for i, t in enumerate(planted):
        synthetic.insert(10 * i + 5, t)
    rows = text_row_flags(synthetic, anchor=anchors)
    expected = np.zeros(len(synthetic), bool)
    expected[[10 * i + 5 for i in range(len(planted))]] = True
    np.testing.assert_array_equal(rows["language_drift"], expected)
    res = audit_texts(Dataset.from_arrays(texts=anchors, name="anchor"),
                      Dataset.from_arrays(texts=synthetic, name="synthetic"), rng=0)
    rec = {r.key: r for r in res.records}
    count, excess = rec["language_drift_rows"], rec["language_drift"]
    assert count.estimate.value == 9
    assert {e["language"] for e in count.estimate.params["examples"]} <= set(PLANTED)
    assert count.estimate.params["languages_anchor"] == {"en": 200}
    assert excess.estimate.params["baseline_share"] == 0.0
    assert excess.estimate.ci()[0] > 0  # 9 of 100 rows against none of 200 anchors


def test_languages_in_a_worker_process_equal_the_serial_ones(monkeypatch):
    """Large inputs identify languages in a worker process while the other checks run
    (text/rows.py, BACKGROUND_LANGUAGE_ROWS); forced on small inputs, the rows are the
    same, and a worker did run."""
    import synthgain.audit.text.rows as rows_mod
    import synthgain.experiments.backends as backends

    anchors = english(60, seed=1)
    synthetic = english(40, seed=2) + list(PLANTED.values())
    serial = text_row_flags(synthetic, anchor=anchors)
    submitted = []
    real = rows_mod._Languages.__enter__

    def entering(self):
        out = real(self)
        submitted.append(self._future is not None)
        return out

    monkeypatch.setattr(rows_mod, "BACKGROUND_LANGUAGE_ROWS", 10)
    monkeypatch.setattr(backends, "usable_cores", lambda: 2)
    monkeypatch.setattr(rows_mod._Languages, "__enter__", entering)
    worker = text_row_flags(synthetic, anchor=anchors)
    assert submitted == [True]
    assert list(worker) == list(serial)
    for key in serial:
        np.testing.assert_array_equal(worker[key], serial[key], err_msg=key)
    assert worker["language_drift"][40:].sum() == len(PLANTED) - 1  # all but English


def test_a_same_language_set_does_not_drift():
    res = audit_texts(Dataset.from_arrays(texts=english(150, 3), name="anchor"),
                      Dataset.from_arrays(texts=english(150, 4), name="synthetic"), rng=0)
    rec = {r.key: r for r in res.records}
    assert rec["language_drift_rows"].estimate.value == 0
    lo, hi = rec["language_drift"].estimate.ci()
    assert lo <= 0 <= hi


def test_drift_null_is_calibrated_on_multilingual_anchors():
    # anchors and synthetic rows drawn from one Zipf-like mix of 40 languages (several
    # under 1 %): the synthetic drift share over the anchors' leave-one-out share covers
    # 0 in >= 90 % of 300 draws (binomial sd of the coverage 0.013 around 0.95), so a
    # multilingual corpus does not read as drift; the flagged share itself is near the
    # stated 1 % rule's expectation, not 0
    g = np.random.default_rng(5)
    p = 1 / np.arange(1, 41) ** 1.6
    p /= p.sum()
    langs = np.array([f"l{i}" for i in range(40)])
    cover, shares = 0, []
    for _ in range(300):
        a, s = langs[g.choice(40, 300, p=p)], langs[g.choice(40, 400, p=p)]
        drift, a_drift = language_drift(s, a)
        lo, hi = share_excess(drift, a_drift).ci()
        cover += lo <= 0 <= hi
        shares.append(drift.mean())
    assert cover >= 0.90 * 300, cover
    expected = p[p < LANGUAGE_RARE].sum()  # the rows of languages under 1 %, about
    assert 0.5 * expected < np.mean(shares) < 1.5 * expected


def test_drop_and_gate_language_drift(tmp_path):
    anchors = english(100, seed=6)
    foreign = [t for k, t in PLANTED.items() if k != "en"][:8]
    synthetic = english(92, seed=7) + foreign
    for name, texts in (("a.jsonl", anchors), ("s.jsonl", synthetic)):
        (tmp_path / name).write_text("".join(json.dumps({"id": f"{name[0]}{i}", "text": t})
                                             + "\n" for i, t in enumerate(texts)))
    out = tmp_path / "o"
    res = CliRunner().invoke(app, [
        "audit", str(tmp_path / "a.jsonl"), str(tmp_path / "s.jsonl"), "--model", "lsa",
        "--lm", "none", "--out", str(out), "--quiet", "--repeats", "4",
        "--write-filtered", str(tmp_path / "f.jsonl"), "--drop", "language-drift",
        "--fail-on", "language_drift_rate>0"])
    assert res.exit_code == 3, res.output  # the gate failed
    kept = [json.loads(x)["id"] for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert kept == [f"s{i}" for i in range(92)]
    import pandas as pd

    rows = pd.read_parquet(out / "rows.parquet")
    assert rows["language"].tolist()[-8:] == [k for k in PLANTED if k != "en"][:8]
    assert rows["language_drift"].tolist() == [False] * 92 + [True] * 8
    verdict = json.loads((out / "metrics.json").read_text())["verdict"]
    check = next(c for c in verdict["checks"] if c["name"] == "language-drift")
    # 8 of 100 rows against none of 100 anchors: above the 1 % threshold and above the
    # anchors' own share beyond chance
    assert check["status"] == "problem" and check["count"] == 8
    assert check["baseline"][0]["ci_low"] > 0
