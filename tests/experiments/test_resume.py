"""Resume after SIGKILL: a sweep killed mid-run and resumed ends with the uninterrupted table."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from synthgain.experiments.engine import run_sweep

TOML = """
[sweep]
name = "killme"
protocol = "normal_mean"
seed = 4242
replicates = 8
batch_size = 1

[params]
n = 1_500_000  # about 0.1 s of draws and a median per replicate: slow enough to kill

[[grid]]
mu = [0.0, 1.0, 2.0]
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_resume_gives_the_uninterrupted_table(tmp_path, ok_tasks):
    config = tmp_path / "killme.toml"
    config.write_text(TOML)
    run_dir = tmp_path / "run"
    store = run_dir / "results.sqlite"
    cmd = [sys.executable, "-m", "synthgain", "sweep", str(config), "--out", str(run_dir),
           "--jobs", "1", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while ok_tasks(store) < 6:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep did not start"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_at_kill = ok_tasks(store)
    assert 6 <= done_at_kill < 24, "killed too late to test a resume"
    killed = json.loads((run_dir / "run.json").read_text())
    assert killed["status"] == "running" and killed["stopped"] is None

    res = run_sweep(config, out=run_dir, resume=True, jobs=1)
    assert (res.status, res.n_tasks, res.n_computed) == ("completed", 24, 24 - done_at_kill)
    resumed = res.table()

    fresh = run_sweep(config, out=tmp_path / "fresh", jobs=2).table()
    assert resumed.equals(fresh)
    assert len(resumed) == 3 * 8 * 2
    assert not resumed.duplicated(["point", "replicate", "item"]).any()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "completed" and run["resumed"] is True
    assert [h["status"] for h in run["history"]] == ["running"]  # the killed invocation
