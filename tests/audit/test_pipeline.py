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
                                  "diversity", "novelty", "probe", "labels", "topics",
                                  "forecast"}
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
    assert any(n.code == "no_target" for n in without.notes)
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


def test_summary_has_one_line_of_text_counts_only_when_they_ran():
    g = np.random.default_rng(5)
    vocab = [f"w{i}" for i in range(400)]
    make = lambda n: [" ".join(g.choice(vocab, 20)) for _ in range(n)]  # noqa: E731
    anchors, target, ev, synth = make(40), make(30), make(10), make(40)
    synth[1] = synth[2] = synth[0].upper()  # two exact duplicates of row 0: one cluster
    synth[3] = "I'm sorry, but I can't help with that request."  # a refusal
    synth[4] = "  ...  "  # empty: no word character
    synth[5] = "see " + target[7]  # the whole target row: a shared 13-gram
    data = [Dataset.from_arrays(texts=t, name=n) for t, n in
            ((anchors, "anchor"), (synth, "synthetic"), (target, "target"))]
    r = run_audit(*data, evaluation=Dataset.from_arrays(texts=ev, name="eval"),
                  model="lsa", repeats=2, rng=0, workers=1)
    text = [line for line in r.summary() if line.startswith("text (")]
    assert text == ["text (40 synthetic rows): 2 exact duplicates, 1 duplicate clusters "
                    "(3 rows), 1 contaminated with the target set, 0 contaminated with the "
                    "eval set, 1 refusals, 1 empty, 0 with personal data or secrets, 1 in a "
                    "language the anchors do not use"]  # the English refusal: the anchors'
    # "w17 w203 ..." have no language py3langid tells
    # no truncation count without MiniLM
    assert r.summary()[-1] == text[0]
    emb = run_audit(g.normal(size=(40, 4)), g.normal(size=(40, 4)), repeats=2, rng=0,
                    workers=1)
    assert not any(line.startswith("text") for line in emb.summary())


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
    from synthgain.audit._stages import STAGES

    stages = {s.name for s in STAGES}  # every stage is timed, also one with nothing to do
    assert stages == {"embed", "text", "novelty", "topics", "space", "divergences", "information",
                      "kl_gap", "fidelity", "diversity", "probe", "model", "labels", "map"}
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
    assert [n for n in res.notes if n.code == "vendi_zero_rows"] == [
        "The Vendi score of the synthetic data leaves out 3 all-zero embedding rows (e.g. "
        "texts with no word known to the embedder)."]


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


def test_anchor_synthetic_numbers_do_not_depend_on_the_target():
    # the nulls of anchor/synthetic comparisons are splits of the anchors, the information
    # space is fitted on anchor + synthetic rows, and each comparison has its own stream
    a, s, t = _sets()
    with_t = {(r.group, r.key): r.to_dict() for r in run_audit(a, s, t, rng=4).records}
    without = run_audit(a, s, rng=4).records
    shared = [r for r in without if "target" not in r.datasets]
    assert len(shared) >= 15
    for r in shared:
        assert r.to_dict() == with_t[r.group, r.key], r.key


def test_text_space_does_not_move_with_the_target(tmp_path):
    words = "the cat sat on a mat while dogs ran in the park and birds sang".split()
    g = np.random.default_rng(0)
    make = lambda n: [" ".join(g.choice(words, 8)) for _ in range(n)]  # noqa: E731
    anchors, synth, target = make(40), make(60), make(50)
    sets = [Dataset.from_arrays(texts=x, name=n) for x, n in
            ((anchors, "anchor"), (synth, "synthetic"), (target, "target"))]
    r3 = run_audit(*sets, model="lsa", rng=1)
    r2 = run_audit(*sets[:2], model="lsa", rng=1)
    d3 = {(r.group, r.key): r.to_dict() for r in r3.records}
    for r in r2.records:
        if "target" not in r.datasets:
            assert r.to_dict() == d3[r.group, r.key], r.key
    assert np.array_equal(r2.nearest_distance, r3.nearest_distance)


def test_no_impossible_values_and_raw_kept_in_metrics_json(tmp_path):
    # near-copies, i.i.d. data and unequal sizes: the shapes that produced negative KL,
    # JS and TV "lower bounds" below 0 before
    g = np.random.default_rng(3)
    a = g.normal(size=(40, 16))
    cases = [(a, a[g.integers(0, 40, 200)] + 1e-4 * g.normal(size=(200, 16)),
              g.normal(size=(80, 16))),
             (a, g.normal(size=(300, 16)), g.normal(size=(100, 16)))]
    for x, y, z in cases:
        res = run_audit(x, y, z, rng=0)
        for rec in res.records:
            if rec.estimate is None or rec.kind not in ("kl", "js", "tv",
                                                        "mutual_information"):
                continue
            lo, hi = rec.estimate.ci()
            assert 0.0 <= lo <= rec.estimate.value <= hi, rec.key
            if rec.kind == "tv":
                assert hi <= 1.0
            if rec.kind == "js":
                assert hi <= np.log(2.0) + 1e-12
    doc = json.loads(write_audit(res, tmp_path)["metrics"].read_text())
    js = doc["metrics"]["divergences"]["js_anchor_synthetic"]
    assert js["value"] is not None and js["null"]["method"] == "split of the anchors"
    assert js["params"]["excess"] == pytest.approx(js["raw"] - js["null"]["value"])
    # a value withheld (the calibration table finds kNN KL valid at no size) keeps its
    # raw value, its null and the reason
    kl = doc["metrics"]["divergences"]["kl_anchor_synthetic"]
    assert kl["value"] is None and kl["reason"] and {"raw", "null"} <= set(kl)
    gap = doc["metrics"]["kl_gap"]["mixture"]
    assert gap["null"]["method"] == "permutation"


def test_near_copies_withhold_knn_between_anchor_and_synthetic():
    g = np.random.default_rng(5)
    a = g.normal(size=(60, 8))
    s = a[g.integers(0, 60, 120)] + 1e-5 * g.normal(size=(120, 8))
    res = run_audit(a, s, rng=0)
    rec = {(r.group, r.key): r for r in res.records}
    kl = rec["divergences", "kl_anchor_synthetic"]
    assert kl.estimate is None and kl.code == "near_copies_above_limit"
    js = rec["divergences", "js_anchor_synthetic"]
    assert js.estimate is None and js.code == "near_copies_above_limit"
    mem = rec["novelty", "memorisation"]
    # every row is a copy, against every anchor; the anchors are no near-copies of one
    # another, so the rate over chance is 1, as the per-row table and the gate read it
    assert mem.raw == 1.0 and mem.null.value == 0.0 and mem.estimate.value == 1.0
    # (the jackknife's interval: 0.82 to 1.18 with these 60 anchors)
    assert mem.estimate.ci()[0] > 0.75 and mem.estimate.params["share_all_rows"] == 1.0
    assert mem.null.method == "the anchors against one another (leave-one-out)"


def test_headline_near_copy_rate_reads_the_share_of_copies():
    # verbatim copies of the anchors read at least 0.95 over chance; a same-distribution
    # synthetic set about 0 (its interval contains 0); a half-copied set about 0.5
    g = np.random.default_rng(8)
    a = g.normal(size=(120, 16))
    cases = {"copies": a.copy(), "same": g.normal(size=(300, 16)),
             "half": np.concatenate([a[:60], g.normal(size=(60, 16))])}
    got = {}
    for name, s in cases.items():
        res = run_audit(a, s, rng=0, repeats=4, workers=1)
        got[name] = next(r for r in res.records if r.key == "memorisation").estimate
        flags = res.near_copy
        assert got[name].params["share_all_rows"] == flags.mean()  # the rows file's share
    assert got["copies"].value >= 0.95
    lo, hi = got["same"].ci()
    assert lo <= 0.0 <= hi and abs(got["same"].value) < 0.05
    assert abs(got["half"].value - 0.5) < 0.05


@pytest.fixture
def information_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A calibration table in which the entropy difference and the mixture's mutual
    information are valid from 10 rows (the stored one finds them valid at no size over
    its random families): the paths that report them stay tested."""
    from synthgain.audit import _calibration

    real = _calibration.calibration_table()
    fake = {**real, "min_rows": {**real["min_rows"],
                                 "entropy_diff": {"dh": {"8": 10}},
                                 "mixture_mi": {"mi": {"8": 10}}}}
    monkeypatch.setattr(_calibration, "calibration_table", lambda: fake)


@pytest.mark.usefixtures("information_valid")
def test_near_copies_make_the_mutual_information_a_lower_bound():
    # every synthetic row copies the anchor named in its prompt: I(prompt; synthetic) is
    # that of near-duplicates, beyond what the mixture fit shows (calibration table), so
    # it is reported as a lower bound and dI - H(anchor) as an upper bound, below 0 here
    g = np.random.default_rng(6)
    a = g.normal(size=(300, 8))
    prov = g.integers(0, 300, 300)
    s = a[prov] + 1e-5 * g.normal(size=(300, 8))
    res = run_audit(a, Dataset.from_arrays(s, anchor_ids=[str(i) for i in prov],
                                           name="synthetic"), rng=0)
    rec = {(r.group, r.key): r for r in res.records}
    mi = rec["information", "mi_prompt_synthetic"].estimate
    gain = rec["information", "information_gain"].estimate
    assert mi is not None and gain is not None, res.notes
    assert mi.method.startswith("mixture_mi") and mi.params["bound"] == "lower"
    assert gain.params["bound"] == "upper" and gain.ci()[1] < 0
    assert any(n.code == "bound" for n in res.notes)
    doc = res.to_dict()
    info = next(x for x in doc["verdict"]["adds"] if x["name"] == "information")
    assert info["status"] == "less"
    # bounds read as bounds: in metrics.json, the verdict and the summary
    assert doc["metrics"]["information"]["information_gain"]["bound"] == "upper"
    assert doc["metrics"]["information"]["mi_prompt_synthetic"]["bound"] == "lower"
    assert info["bound"] == "upper" and "dI - H(anchor): information gain from the " \
        "anchors' entropy at most -" in info["text"]
    assert any(line.startswith("dI - H(anchor): at most -") for line in res.summary())
    assert "bound" not in doc["metrics"]["fidelity"]["precision"]


def test_small_inputs_run_what_is_valid_or_name_the_file(tmp_path):
    g = np.random.default_rng(0)
    for n_anchor in (5, 6, 10, 15):
        res = run_audit(g.normal(size=(n_anchor, 32)), g.normal(size=(40, 32)),
                        g.normal(size=(30, 32)), rng=0)
        withheld = [r for r in res.records if r.estimate is None]
        assert withheld and all(r.reason for r in withheld)
        assert any(n.code == "withheld" for n in res.notes)
    path = tmp_path / "few.npy"
    np.save(path, g.normal(size=(4, 32)))
    few = load_dataset(path)
    with pytest.raises(ValidationError, match=r"File '.*few.npy' has 4 rows; the audit needs "
                       r"at least 5 anchor rows"):
        run_audit(few, g.normal(size=(40, 32)))
    with pytest.raises(ValidationError, match="The synthetic data has 1 row; the audit needs "
                       "at least 5"):
        run_audit(g.normal(size=(10, 32)), g.normal(size=(1, 32)))


def test_every_stage_needs_only_what_an_earlier_stage_gives():
    from synthgain.audit._run import State
    from synthgain.audit._stages import STAGES

    given: set[str] = set()
    for stage in STAGES:
        assert set(stage.needs) <= given, (stage.name, set(stage.needs) - given)
        given |= set(stage.gives)
    assert given == set(State.__annotations__)  # every field documented is given once
    names = [s.name for s in STAGES]
    assert len(names) == len(set(names))
    with pytest.raises(AttributeError, match="'emb' is read before a stage set it"):
        getattr(State(), "emb")  # noqa: B009


def test_estimators_never_valid_here_are_one_plain_line():
    # kNN KL is valid at no tabulated size in 64 dimensions: its six divergences and the
    # kNN KL gap are withheld in every such audit, and so are dH and the mixture KL gap
    # with its two halves (valid at no size over the random families): said in one line,
    # not eleven
    g = np.random.default_rng(0)
    res = run_audit(g.normal(size=(200, 64)), g.normal(size=(200, 64)),
                    g.normal(size=(200, 64)), rng=0, repeats=4, workers=1)
    never = [r for r in res.records if r.code == "not_valid_at_any_size"]
    assert len(never) == 11 and any(r.key == "delta_h" for r in never)
    assert {"mixture", "mixture_kl_anchor_target", "mixture_kl_synthetic_target"} <= {
        r.key for r in never if r.group == "kl_gap"}
    lines = [n for n in res.notes if n.code == "withheld" and "KL(anchor || synthetic)" in n]
    assert len(lines) == 1 and all(r.label in lines[0] for r in never)
    assert not any(n.startswith("Withheld: KL(") for n in res.notes)


def test_notebook_view_shows_verdict_problems_and_numbers():
    # AuditResult renders in Jupyter: the verdict, what the data adds, the problems with
    # an example row, the headline numbers; everything escaped, no script
    from html import escape

    res = run_audit(*_sets(), rng=3)
    html = res._repr_html_()
    verdict = res.verdict()
    assert escape(verdict["summary"]) in html
    for p in verdict["problems"]:
        assert escape(p["label"]) in html
        assert f"<code>{escape(str(p['example']['id']))}</code>" in html
    for a in verdict["adds"]:
        assert escape(a["text"]) in html
    labels = [line.split(":")[0] for line in res.summary() if " over chance:" in line]
    assert labels and all(escape(label) in html for label in labels)
    assert "<script" not in html and "http" not in html
    a = Dataset.from_arrays(texts=[f"<b>row {i}</b> & more words here {i % 7}"
                                   for i in range(30)], name="anchor")
    s = Dataset.from_arrays(texts=[f"<b>row {i}</b> & more words here {i % 7}"
                                   for i in range(30)], name="synthetic")
    assert "<b>row" not in run_audit(a, s, model="lsa", rng=0, repeats=2)._repr_html_()
