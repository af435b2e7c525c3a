import json
import time

import numpy as np
import pytest

from synthgain.audit import SCHEMA, Dataset, load_dataset, markov_generate, run_audit
from synthgain.exceptions import ValidationError
from synthgain.report import write_audit


def _sets(seed=0):
    g = np.random.default_rng(seed)
    a = g.normal(size=(120, 6))
    s = np.concatenate([a[:10] + 1e-5, a[np.arange(110) % 120] + 0.4 * g.normal(size=(110, 6))])
    t = g.normal(size=(150, 6))
    lab = lambda x: (x[:, 0] > 0).astype(int)  # noqa: E731
    prov = [str(i % 120) if i >= 10 else str(i) for i in range(120)]
    return (Dataset.from_arrays(a, labels=lab(a), name="anchor"),
            Dataset.from_arrays(s, labels=lab(s), anchor_ids=prov, name="synthetic"),
            Dataset.from_arrays(t, labels=lab(t), name="target"))


def test_audit_measures_and_reproducibility(tmp_path):
    r1 = run_audit(*_sets(), rng=3)
    r2 = run_audit(*_sets(), rng=3)
    d1, d2 = r1.to_dict(), r2.to_dict()
    assert d1["metrics"] == d2["metrics"]
    assert d1["schema"] == SCHEMA
    assert set(d1["metrics"]) == {"divergences", "information", "kl_gap", "fidelity",
                                  "diversity", "novelty", "probe"}
    assert d1["metrics"]["information"]["information_gain"] is not None
    assert r1.near_copy is not None and r1.near_copy.sum() >= 10
    assert {c["synthetic_id"] for c in d1["near_copies"]} >= {str(i) for i in range(10)}
    paths = write_audit(r1, tmp_path)
    doc = json.loads(paths["metrics"].read_text())
    est = doc["metrics"]["fidelity"]["precision"]
    assert set(est) >= {"value", "stderr", "ci_low", "ci_high", "method", "n", "params"}
    html = paths["report"].read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert r1.summary() and any("near-copy rate" in line for line in r1.summary())


def test_unknown_anchor_id_and_mixed_inputs(tmp_path):
    a, s, _ = _sets()
    bad = Dataset.from_arrays(s.embeddings, anchor_ids=["999"] * len(s), name="synthetic")
    with pytest.raises(ValidationError, match="row 0, column 'anchor_id': anchor id '999' is "
                       "not an id of the anchor data"):
        run_audit(a, bad)
    texts = Dataset.from_arrays(texts=["a b"] * 20, name="synthetic")
    with pytest.raises(ValidationError, match="Mix of precomputed embeddings and raw text"):
        run_audit(a, texts)
    without = run_audit(a, Dataset.from_arrays(s.embeddings, name="synthetic"))
    assert any("No target set" in n for n in without.notes)
    assert without.metrics["information"]["information_gain"] is None


def test_text_audit_with_lsa(tmp_path):
    words = "the cat sat on a mat while dogs ran in the park and birds sang".split()
    g = np.random.default_rng(0)
    make = lambda n: [" ".join(g.choice(words, 8)) for _ in range(n)]  # noqa: E731
    anchors = make(40)
    synth = markov_generate(anchors, anchors, rng=1)
    for name, rows in (("a", anchors), ("s", synth), ("t", make(40))):
        (tmp_path / f"{name}.jsonl").write_text(
            "".join(json.dumps({"text": x}) + "\n" for x in rows))
    sets = [load_dataset(tmp_path / f"{n}.jsonl") for n in "ast"]
    calls = []
    r = run_audit(*sets, model="lsa", cache_dir=tmp_path / "c",
                  progress=lambda d, n: calls.append((d, n)))
    assert r.config["model"] == "lsa" and calls[-1] == (120, 120)
    assert len(list((tmp_path / "c").glob("lsa-*.npy"))) == 1


def test_markov_generate_is_seeded_and_continues_prompts():
    corpus = ["a b c d", "a b e f", "x y z"]
    out1 = markov_generate(corpus, ["a b", "x y"], rng=4)
    assert out1 == markov_generate(corpus, ["a b", "x y"], rng=4)
    assert out1[0] in ("a b c d", "a b e f") and out1[1] == "x y z"


def test_stage_timings_and_workers():
    sets = _sets()
    t0 = time.perf_counter()
    r1 = run_audit(*sets, rng=5, workers=1)
    total = time.perf_counter() - t0
    r2 = run_audit(*sets, rng=5, workers=2)
    assert r1.to_dict()["metrics"] == r2.to_dict()["metrics"]
    stages = {"embed", "divergences", "information", "kl_gap", "fidelity", "diversity",
              "novelty", "probe", "map"}
    assert set(r1.timings) == stages and set(r1.cpu_timings) == stages
    # every stage did work, and the stages' clocks do not add up to more than the run
    assert min(r1.timings.values()) > 0 and sum(r1.timings.values()) <= total
    assert r1.timings["divergences"] > r1.timings["embed"]  # embeddings were given
    doc = r1.to_dict()
    assert set(doc["cpu_seconds"]) == stages and set(doc["timings_seconds"]) == stages
    with pytest.raises(ValidationError, match=r"`workers` must be -1 \(all cores\) or at least 1"):
        run_audit(*sets, workers=0)


def test_all_zero_rows_are_left_out_of_vendi_with_a_note():
    a, s, t = _sets()
    emb = s.embeddings.copy()
    emb[:3] = 0.0  # e.g. texts with no word known to the embedder
    zeroed = Dataset.from_arrays(emb, labels=(emb[:, 0] > 0).astype(int), name="synthetic")
    res = run_audit(a, zeroed, t, rng=1)
    assert np.isfinite(res.metrics["diversity"]["vendi_synthetic"].value)
    assert any("leaves out 3 all-zero embedding rows" in n for n in res.notes)


def test_seed_int_equals_seed_sequence_and_streams_are_named():
    sets = _sets()
    by_int = run_audit(*sets, rng=7).to_dict()["metrics"]
    by_seq = run_audit(*sets, rng=np.random.SeedSequence(7)).to_dict()["metrics"]
    assert by_int == by_seq
    assert run_audit(*sets, rng=8).to_dict()["metrics"] != by_int


def test_records_carry_label_kind_unit_and_datasets():
    r = run_audit(*_sets(), rng=2)
    rec = {(m.group, m.key): m for m in r.records}
    kl = rec["divergences", "kl_synthetic_anchor"]
    assert (kl.kind, kl.datasets, kl.label, kl.unit) == (
        "kl", ("synthetic", "anchor"), "KL(synthetic || anchor)", "nats")
    tv = rec["divergences", "tv_anchor_target"]
    assert (tv.kind, tv.datasets, tv.unit) == ("tv", ("anchor", "target"), "share")
    assert rec["diversity", "vendi_target"].datasets == ("target", "anchor")
    assert rec["kl_gap", "mixture"].kind == "kl_gap"
    # the grouped view is the same estimates
    assert r.metrics["fidelity"]["precision"] is rec["fidelity", "precision"].estimate
