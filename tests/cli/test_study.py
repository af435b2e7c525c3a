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
    assert "`name` must be one of 'digits', 'text'. Got 'cifar'" in res.output
