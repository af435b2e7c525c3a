from typer.testing import CliRunner

import synthgain.study as study_pkg
from synthgain.cli import app
from synthgain.study import StudyConfig

runner = CliRunner()


def test_study_command_writes_tables_and_figures(tmp_path, monkeypatch):
    real = study_pkg.run_study

    def tiny(name, **kw):
        kw.update(configs=[StudyConfig(K=2, J=0, L=0, per_class=10),
                           StudyConfig(K=2, J=1, L=0, per_class=10, knob="J"),
                           StudyConfig(K=2, J=2, L=0, per_class=10, knob="J")],
                  n_replicates=2, n_boot=50)
        return real(name, **kw)

    monkeypatch.setattr(study_pkg, "run_study", tiny)
    res = runner.invoke(app, ["study", "digits", "--out", str(tmp_path), "--seed", "1",
                              "--quiet"])
    assert res.exit_code == 0, res.output
    assert "3 configurations x 2 replicates" in res.output
    assert "kl_gap_mixture" in res.output
    for name in ("digits_summary.csv", "digits_correlations.csv", "study_digits_knobs.png"):
        assert (tmp_path / name).is_file()


def test_study_command_rejects_an_unknown_study(tmp_path):
    res = runner.invoke(app, ["study", "cifar", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "`name` must be one of 'digits', 'text', 'llm'. Got 'cifar'" in res.output


def test_study_llm_on_the_stub_generator_writes_the_synthetic_jsonl(tmp_path, monkeypatch):
    # StubGenerator is a test double (not a language model); the questions are fabricated
    real = study_pkg.run_study
    seen = {}
    lines = [f"{lab} {q} {w} ?" for lab, q in (("LOC:city", "Where is"), ("HUM:ind", "Who made"),
                                               ("NUM:count", "How many"))
             for w in ("glass", "salt", "tea", "gold", "silk", "ice", "maps", "wine", "books",
                       "steel", "paper", "bread", "coffee", "stars", "clocks", "music",
                       "rivers", "trains", "bridges", "engines")]

    def tiny(name, **kw):
        seen.update(kw)
        kw.update(configs=[StudyConfig(K=1, J=1, L=0, anchors_per_class=3, per_class=6, demos=2),
                           StudyConfig(K=2, J=1, L=0, anchors_per_class=3, per_class=6, demos=2,
                                       knob="K"),
                           StudyConfig(K=1, J=1, L=0, anchors_per_class=3, per_class=6, demos=2,
                                       curation="filter", knob="curation")],
                  n_replicates=1, n_boot=20, generator=study_pkg.StubGenerator(),
                  questions=lines, model="lsa")
        return real(name, **kw)

    monkeypatch.setattr(study_pkg, "run_study", tiny)
    res = runner.invoke(app, ["study", "llm", "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 0, res.output
    assert seen["cache_dir"] == tmp_path / "cache" and seen["backend"] == "local"
    assert "3 configurations x 1 replicates" in res.output
    recs = (tmp_path / "llm_synthetic.jsonl").read_text().splitlines()
    assert len(recs) == 12 + 18 + 12
    assert (tmp_path / "study_llm_knobs.png").is_file()
    assert list((tmp_path / "cache" / "generations").rglob("*.json"))


def test_study_rejects_an_unknown_backend(tmp_path):
    res = runner.invoke(app, ["study", "digits", "--backend", "spark", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "`--backend` must be 'local' or 'dask'. Got 'spark'" in res.output


def test_study_replay_applies_to_the_llm_study_only(tmp_path):
    res = runner.invoke(app, ["study", "digits", "--replay", str(tmp_path / "x.jsonl"),
                              "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "`--replay` applies to the llm study only" in res.output


def test_study_rejects_an_unknown_runtime(tmp_path):
    res = runner.invoke(app, ["study", "llm", "--runtime", "vllm", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "`--runtime` must be 'transformers' or 'llama-cpp'. Got 'vllm'" in res.output
