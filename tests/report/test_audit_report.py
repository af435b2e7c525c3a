"""The audit report renders in headless Chromium from a file URL, with no console errors."""

import re
import shutil
import subprocess

import numpy as np
import pytest

from synthgain.audit import Dataset, run_audit
from synthgain.report import write_audit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")


def _render(page, tmp_path, name, size="1100,1800"):
    """Screenshot ``page`` headless; return (png path, console messages logged)."""
    png = tmp_path / f"{name}.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / ('profile-' + name)}",
           "--enable-logging=stderr", "--v=0", f"--window-size={size}",
           f"--screenshot={png}", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return png, console


def _report(tmp_path):
    g = np.random.default_rng(0)
    a, t = g.normal(size=(150, 5)), g.normal(size=(150, 5))
    s = np.concatenate([a[:5], a[5:] + 0.3 * g.normal(size=(145, 5))])
    lab = lambda x: (x[:, 0] > 0).astype(int)  # noqa: E731
    sets = [Dataset.from_arrays(x, labels=lab(x), texts=[f"row {i}" for i in range(len(x))],
                                name=n) for x, n in ((a, "anchor"), (s, "synthetic"), (t, "target"))]
    return write_audit(run_audit(*sets, rng=0), tmp_path / "out")["report"]


@needs_chromium
def test_console_errors_are_detected(tmp_path):
    # the check below must be able to fail: a page that logs an error is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom')</script>x</body></html>")
    _, console = _render(bad, tmp_path, "bad")
    assert any("boom" in line for line in console)


@needs_chromium
def test_report_renders_without_console_errors(tmp_path):
    report = _report(tmp_path)
    html = report.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    png, console = _render(report, tmp_path, "report")
    assert console == []
    assert png.is_file() and png.stat().st_size > 20_000
    from matplotlib.image import imread

    img = imread(png)
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    assert img[..., :3].std() > 0.05  # not a blank page


def test_every_measure_in_exactly_one_chart_and_kl_apart_from_js_tv(tmp_path):
    from synthgain.report._audit import _SECTIONS, _chart_records

    report = _report(tmp_path)
    result = run_audit(*_sets_for_charts(), rng=0)
    for group, _title, _intro, charts in _SECTIONS:
        # counts (a topic count, the text counts) are read in tables, not charted
        records = [r for r in result.records if r.group == group and r.estimate is not None
                   and r.kind not in ("topic_count", "text_count", "text_length")]
        placed = [_chart_records(c, records) for c in charts]
        flat = [r.key for p in placed for r in p]
        assert len(flat) == len(set(flat)), group  # no measure charted twice
        assert set(flat) == {r.key for r in records}, group
        if group == "divergences":
            kl, js_tv = placed
            assert all(r.kind == "kl" for r in kl)
            assert js_tv and all(r.kind in ("js", "tv") for r in js_tv)
    html = report.read_text()
    # KL is withheld where the calibration table finds it invalid: no chart, a table row
    # that says so and why
    kl_shown = any(r.kind == "kl" and r.estimate is not None for r in result.records)
    assert html.count('alt="KL divergence over chance, both directions') == int(kl_shown)
    assert html.count('alt="JS and TV lower bounds over chance') == 1
    assert "KL(anchor || synthetic)" in html and "JS(anchor, synthetic)" in html
    assert kl_shown or "Withheld: " in html
    labels = {(r.group, r.key): r.label for r in result.records}
    assert labels["divergences", "tv_synthetic_target"] == "TV(synthetic, target)"
    assert labels["information", "delta_h"].startswith("dH")


def _sets_for_charts():
    g = np.random.default_rng(1)
    a, t = g.normal(size=(120, 4)), g.normal(size=(120, 4))
    s = a + 0.3 * g.normal(size=(120, 4))
    lab = lambda x: (x[:, 0] > 0).astype(int)  # noqa: E731
    prov = [str(i) for i in range(120)]
    return (Dataset.from_arrays(a, labels=lab(a), name="anchor"),
            Dataset.from_arrays(s, labels=lab(s), anchor_ids=prov, name="synthetic"),
            Dataset.from_arrays(t, labels=lab(t), name="target"))


@needs_chromium
def test_verdict_is_on_the_first_screen(tmp_path):
    report = _report(tmp_path)
    html = report.read_text()
    assert html.index('id="verdict"') < html.index("<h2>Inputs</h2>")
    # measure the laid-out page: a copy with a script that logs where the verdict ends
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", "<script>const b = document.getElementById("
                                  "'verdict').getBoundingClientRect(); console.log("
                                  "'verdict ' + b.top + ' ' + b.bottom + ' ' + "
                                  "window.innerHeight);</script></body>"))
    _, console = _render(probe, tmp_path, "probe", size="1280,800")
    found = [m for line in console if (m := re.search(r"verdict ([\d.]+) ([\d.]+) (\d+)",
                                                      line))]
    assert found, console
    top, bottom, height = (float(x) for x in found[0].groups())
    # (headless Chromium's viewport in a 1280 x 800 window may be shorter than 800)
    assert height <= 800 and 0 < top < bottom <= height, (top, bottom, height)
    # and the report itself, on a 1280 x 800 screen, shows the verdict's box
    png, console = _render(report, tmp_path, "first", size="1280,800")
    assert console == []
    from matplotlib.image import imread

    img = imread(png)[..., :3]
    assert img.shape[:2] == (800, 1280)
    box = {(255, 246, 236), (238, 247, 238)}  # the verdict's backgrounds (problems, ok)
    rgb = (img * 255).round().astype(int).reshape(-1, 3)
    shown = sum(int(np.all(rgb == c, axis=1).sum()) for c in box)
    assert shown > 50_000  # pixels of the verdict's background on the first screen
    assert "Verdict" in html and "problem" in html


@needs_chromium
def test_chat_example_report_shows_the_planted_problems(tmp_path):
    # the worked example's chat file (planted personal data, a second language, paraphrase
    # clusters, contamination): the report renders with no console error, and its verdict
    # and example rows name each planted problem with the planted rows' ids
    import json

    from synthgain.audit import load_dataset, write_chat_example

    paths = write_chat_example(tmp_path / "chat", rng=0)
    planted = json.loads(paths["planted"].read_text())
    sets = [load_dataset(paths[k], name=k) for k in ("anchor", "synthetic", "target")]
    result = run_audit(*sets, evaluation=load_dataset(paths["eval"], name="eval"),
                       model="lsa", lm="none", cache_dir=tmp_path / "cache", rng=0)
    report = write_audit(result, tmp_path / "out")["report"]
    html = report.read_text()
    for label in ("personal data or secrets", "rows in a language the anchors do not use",
                  "contamination (overlap with the target)"):
        assert label in html, label
    for kind in ("pii", "other_language", "eval_ngram"):
        assert all(i in html for i in planted[kind]), kind
    assert "paraphrase" in html
    # the topic chart and table, each topic named by words of its quotes
    assert 'alt="topic shares of the anchors and the synthetic rows"' in html
    assert all(t in html for t in result.topics.names)
    png, console = _render(report, tmp_path, "chat")
    assert console == []
    assert png.is_file() and png.stat().st_size > 20_000
