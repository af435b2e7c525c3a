"""No command writes over a file synthgain did not write.

An output directory is claimed with a ``.synthgain`` marker the first time synthgain
writes into it; a later run may replace what an earlier one wrote there. In a directory
without the marker, a file of a name synthgain would write is the user's: the command is
refused before any work, naming the flag, the file and the remedy, and every file in the
directory keeps its bytes. Commands whose output names are not fixed in advance need a
new, empty or claimed directory. ``runs export`` never writes over the run's own store or
records.
"""

import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthgain.cli import app
from synthgain.exceptions import ValidationError
from synthgain.experiments.provenance import MARKER_NAME, check_output, claim_directory

SWEEP = """
[sweep]
name = "small"
protocol = "klgap"
seed = 0
replicates = 2
batch_size = 2
[params]
d = 2
K = 2
J = 2
L = 2
rounds = 2
n_eval = 50
estimators = ["monte_carlo"]
measures = ["kl"]
[[grid]]
K = [2, 3]
"""


def _state(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def _run(args, cwd: Path):
    """``synthgain *args`` run from the directory ``cwd``, as a user types it."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, args)
    finally:
        os.chdir(old)


@pytest.fixture
def users_dir(tmp_path):
    """A user's working directory: a sweep configuration and files of their own that
    happen to carry names synthgain writes."""
    (tmp_path / "small.toml").write_text(SWEEP)
    (tmp_path / "config.json").write_text('{"mine": 1}\n')
    (tmp_path / "run.json").write_text('{"mine": 2}\n')
    (tmp_path / "metrics.json").write_text('{"mine": 3}\n')
    (tmp_path / "notes.txt").write_text("my notes\n")
    return tmp_path


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_sweep_refuses_a_directory_with_the_users_run_files(users_dir):
    before = _state(users_dir)
    res = _run(["sweep", "small.toml", "--out", ".", "--quiet"], users_dir)
    assert res.exit_code == 2, res.output
    msg = _flat(res.output)
    assert "--out '.' holds 'config.json', 'run.json', which synthgain did not write" in msg
    assert f"create an empty file '{MARKER_NAME}'" in msg
    assert _state(users_dir) == before
    assert not (users_dir / MARKER_NAME).exists()


def test_sweep_claims_its_directory_and_resumes_there(users_dir):
    res = _run(["sweep", "small.toml", "--out", "run", "--quiet"], users_dir)
    assert res.exit_code == 0, res.output
    assert (users_dir / "run" / MARKER_NAME).is_file()
    res = _run(["sweep", "small.toml", "--out", "run", "--resume", "--quiet"], users_dir)
    assert res.exit_code == 0, res.output
    # a directory an older synthgain wrote: the documented remedy is the marker
    (users_dir / "run" / MARKER_NAME).unlink()
    res = _run(["sweep", "small.toml", "--out", "run", "--resume", "--quiet"], users_dir)
    assert res.exit_code == 2 and "did not write" in _flat(res.output)
    (users_dir / "run" / MARKER_NAME).touch()
    res = _run(["sweep", "small.toml", "--out", "run", "--resume", "--quiet"], users_dir)
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("target", ["results.sqlite", "run.json", "config.json"])
def test_export_never_writes_over_the_runs_own_files(users_dir, target):
    assert _run(["sweep", "small.toml", "--out", "run", "--quiet"], users_dir).exit_code == 0
    before = _state(users_dir)
    res = _run(["runs", "export", "run", "--out", f"run/{target}", "--format", "csv"],
               users_dir)
    assert res.exit_code == 2, res.output
    assert f"'run/{target}' is the input 'run/{target}'" in _flat(res.output)
    after = _state(users_dir)  # opening the store may add SQLite's -wal/-shm files
    assert {k: after.get(k) for k in before} == before
    res = _run(["runs", "export", "run", "--out", "table.csv"], users_dir)
    assert res.exit_code == 0 and (users_dir / "table.csv").stat().st_size > 0


@pytest.mark.parametrize("command", [["theory", "--out", "."],
                                     ["reproduce", "figure2", "--out", "."],
                                     ["demo", "--out", "."]])
def test_unfixed_outputs_need_a_new_empty_or_claimed_directory(users_dir, command):
    before = _state(users_dir)
    res = _run(command, users_dir)
    assert res.exit_code == 2, res.output
    assert "already holds files synthgain did not write (config.json, metrics.json, " \
           "notes.txt, ...)" in _flat(res.output)
    assert _state(users_dir) == before


@pytest.mark.parametrize("command", [["theory"], ["reproduce", "figure2"]])
def test_a_rerun_writes_again_into_its_own_directory(users_dir, command):
    # the directory is claimed before the work starts, so a rerun (or a resume after a
    # crash) is never refused by the rule above
    assert _run([*command, "--out", "o"], users_dir).exit_code == 0
    first = _state(users_dir / "o")
    assert MARKER_NAME in first
    res = _run([*command, "--out", "o"], users_dir)
    assert res.exit_code == 0, res.output
    assert set(_state(users_dir / "o")) == set(first)


def test_audit_refuses_the_users_metrics_json(users_dir):
    rows = "".join(f'{{"text": "row {i} about cats and dogs {i % 7}"}}\n' for i in range(30))
    (users_dir / "a.jsonl").write_text(rows)
    (users_dir / "s.jsonl").write_text(rows.replace("cats", "birds"))
    before = _state(users_dir)
    res = _run(["audit", "a.jsonl", "s.jsonl", "--out", ".", "--model", "lsa", "--quiet"],
               users_dir)
    assert res.exit_code == 2, res.output
    assert "--out '.' holds 'metrics.json', which synthgain did not write" in \
        _flat(res.output)
    assert _state(users_dir) == before


def test_check_output_rules(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("x\n1\n")
    # a file of a fixed name that exists and is the user's
    with pytest.raises(ValidationError, match=r"holds 'data\.csv', which synthgain did not"):
        check_output(mine, "`out`", directory=True, files=["data.csv", "other.csv"])
    # names not fixed: a non-empty unclaimed directory is refused
    with pytest.raises(ValidationError, match=r"already holds files .* \(data\.csv\)"):
        check_output(mine, "`out`", directory=True)
    # names nobody else uses (a cache): any directory; checking creates nothing
    check_output(mine, "`out`", directory=True, files=())
    new = tmp_path / "a" / "b"
    assert check_output(new, "`out`", directory=True) == new and not new.exists()
    # claimed by a writer: the same names may now be replaced
    assert claim_directory(mine) == mine and (mine / MARKER_NAME).is_file()
    check_output(mine, "`out`", directory=True, files=["data.csv"])
    check_output(mine, "`out`", directory=True)
    assert (mine / "data.csv").read_text() == "x\n1\n"
    # the marker is the only thing claiming writes; a second claim changes nothing
    stamp = (mine / MARKER_NAME).stat().st_mtime_ns
    claim_directory(mine)
    assert (mine / MARKER_NAME).stat().st_mtime_ns == stamp
    assert sorted(p.name for p in mine.iterdir()) == [MARKER_NAME, "data.csv"]


def test_library_writers_check_before_they_claim(tmp_path):
    # the writers a library user may call on a directory of their own check the names
    # they write before claiming it (here Figure 2's; the CLI checks first as well)
    from synthgain.plots import reproduce_figure2

    (tmp_path / "figure2.png").write_bytes(b"my own figure")
    with pytest.raises(ValidationError, match=r"holds 'figure2\.png', which synthgain did"):
        reproduce_figure2(tmp_path)
    assert (tmp_path / "figure2.png").read_bytes() == b"my own figure"
    assert not (tmp_path / MARKER_NAME).exists()
    paths = reproduce_figure2(tmp_path / "new")
    assert paths["figure2_png"].stat().st_size > 0 and (tmp_path / "new" / MARKER_NAME).is_file()
