"""``synthgain theory``: one setup, a sweep with the KL Gap, and input errors."""

import pandas as pd
from typer.testing import CliRunner

from synthgain.cli import app

runner = CliRunner()
TINY = ["--prompts", "3", "--streams", "3", "--K", "1", "--J", "1", "--L", "1"]


def test_theory_one_setup_writes_terms(tmp_path):
    res = runner.invoke(app, ["theory", *TINY, "--seed", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for name in ("lemma_3_1", "lemma_4_5", "theorem_4_7", "theorem_4_10", "GGMI", "delta_eps"):
        assert name in res.output
    df = pd.read_csv(tmp_path / "theory_terms.csv")
    assert list(df.columns) == ["term", "value", "stderr", "method", "lower", "upper"]
    assert df.set_index("term").loc["delta_eps", "value"] == 0.0  # no curation noise


def test_theory_verdicts_are_the_same_at_every_scale(tmp_path):
    verdicts = {}
    for scale in ("1", "3", "10"):
        res = runner.invoke(app, ["theory", *TINY, "--scale", scale, "--out",
                                  str(tmp_path / scale)])
        assert res.exit_code == 0, res.output
        df = pd.read_csv(tmp_path / scale / "theory_verdicts.csv")
        verdicts[scale] = df[["name", "verdict", "basis"]].values.tolist()
        assert "reads" in res.output  # the column of what each verdict is evidence of
    assert verdicts["1"] == verdicts["3"] == verdicts["10"]
    assert [v[0] for v in verdicts["1"]][:3] == ["lemma_3_1", "lemma_4_5", "lemma_4_5_step_21"]


def test_theory_counterexamples():
    res = runner.invoke(app, ["theory", "--counterexamples"])
    assert res.exit_code == 0, res.output
    assert "Z_4" in res.output and "-1.38629" in res.output and "-0.346574" in res.output


def test_theory_sweep_with_klgap(tmp_path):
    res = runner.invoke(app, ["theory", *TINY, "--sweep", "J", "--values", "1,2", "--settings",
                              "2", "--klgap", "--klgap-rounds", "3", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "verdicts over the J sweep (4 settings)" in res.output
    assert "Spearman rank correlation of the KL Gap with the estimated GGMI over 4" in res.output
    df = pd.read_csv(tmp_path / "theory_sweep_J.csv")
    assert df["param_J"].tolist() == [1, 1, 2, 2] and df["kl_gap"].notna().all()
    assert (tmp_path / "theory_sweep_J.png").stat().st_size > 0


def test_theory_errors():
    res = runner.invoke(app, ["theory", "--sweep", "d"])
    assert res.exit_code == 2 and "`param` must be one of" in res.output
    res = runner.invoke(app, ["theory", "--sweep", "J", "--values", "2,x"])
    assert res.exit_code == 2 and "`--values` must be comma-separated integers" in res.output
    res = runner.invoke(app, ["theory", "--anchor-fit", "K+M"])
    assert res.exit_code == 2 and "`anchor_fit_components` must be one of" in res.output


def test_theory_command_draws_through_plots():
    # figures are drawn only in synthgain.plots; the command module calls them
    import inspect

    import synthgain.cli.theory as command

    src = inspect.getsource(command)
    assert "matplotlib" not in src and "plot_theory_sweep" in src
