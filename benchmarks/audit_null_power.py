"""Null coverage, power and real-data orders of the audit's comparative measures.

Run::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/audit_null_power.py --docs
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/audit_null_power.py --quick

Every case is one :func:`synthgain.audit.run_audit` of arrays (scenarios and seeds in
``benchmarks/_audit_scenarios.py``, shared with ``tests/audit/test_null_audit.py``):

* **null** - anchor, synthetic and target rows i.i.d. from one distribution, at
  (anchor, synthetic, target) = (50, 300, 100), (20, 600, 150), (300, 300, 300) rows, in
  d = 8 and 64, ``--reps`` repetitions each; a multivariate Student t (5 degrees of
  freedom) and tight clusters at the first size. For every comparative measure (every record but the
  probe's): the share of repetitions whose 95 % interval contains 0, its null.
* **power** - the same sizes with a known shift of the synthetic data, ``--power-reps``
  repetitions each: the share whose interval excludes 0.
* **digits** - scikit-learn's bundled digits (64-d): anchors of classes {0, 1, 2}, a
  target of {0, ..., 4}, and three synthetic sets ("copy", "knows", "irrelevant"); the
  values and whether the expected orders hold, at ``--digits-seeds`` seeds.

``--docs`` rewrites docs/audit.md between ``<!-- null-power:start -->`` and
``<!-- null-power:end -->``; ``--json PATH`` saves every case's records.
``--jobs`` runs the audits on that many processes, each with BLAS on one thread.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _audit_scenarios as sc
import synthgain

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "audit.md"
START, END = "<!-- null-power:start -->", "<!-- null-power:end -->"
QUICK_SIZES, QUICK_DIMS = sc.SIZES[:1], sc.DIMS[:1]
QUICK_REPS, QUICK_POWER_REPS, QUICK_DIGITS_SEEDS = 2, 1, 1


def _cases(args: argparse.Namespace) -> dict[str, list[sc.Case]]:
    if args.quick:
        keep = lambda c: c.sizes in QUICK_SIZES and c.d in QUICK_DIMS  # noqa: E731
        return {"null": [c for c in sc.null_cases(QUICK_REPS) if keep(c)],
                "power": [c for c in sc.power_cases(QUICK_POWER_REPS) if keep(c)],
                "digits": sc.digits_cases(QUICK_DIGITS_SEEDS)}
    return {"null": sc.null_cases(args.reps), "power": sc.power_cases(args.power_reps),
            "digits": sc.digits_cases(args.digits_seeds)}


# --- formatting ------------------------------------------------------------------------

def _name(m: tuple[str, str]) -> str:
    return f"{m[0]}/{m[1]}"


def _cell_name(cell: sc.Cell) -> str:
    fam, sizes, d = cell
    pre = {"student_t": "t5 ", "clustered": "clustered "}.get(fam, "")
    return f"{pre}{'/'.join(map(str, sizes))}, d={d}"


def _rate_text(t: dict[str, Any]) -> str:
    r = sc.rate(t)
    if r is None:
        return "w"
    notes = [f"{t[k]}{k[0]}" for k in ("below", "withheld") if t.get(k)]
    return f"{r:.2f}" + (f" ({', '.join(notes)})" if notes else "")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _reasons(tallies: dict[Any, dict[Any, dict[str, Any]]]) -> list[str]:
    """One line per (measure, reason): how often, in which cells."""
    lines = []
    for m, cells in tallies.items():
        by_reason: dict[str, dict[str, int]] = {}
        for cell, t in cells.items():
            for why, n in t["reasons"].items():
                where = by_reason.setdefault(_generic(why), {})
                where[_cell_name(cell)] = where.get(_cell_name(cell), 0) + n
        for why, where in by_reason.items():
            full = len(where) == len(cells) and all(
                n == t["reps"] for n, t in zip(where.values(), cells.values(), strict=True))
            cells_text = ("every repetition of every cell" if full else
                          "; ".join(f"{c}: {n}" for c, n in where.items()))
            lines.append(f"- `{_name(m)}` ({cells_text}): {why}")
    return lines


def _generic(reason: str) -> str:
    """A reason with its case-specific percentage taken out (so equal reasons group)."""
    reason = re.sub(r"^\d+(\.\d+)?% of the synthetic rows are near-copies of anchors "
                    r"\(limit ", "more of the synthetic rows are near-copies of anchors than "
                    "the limit (", reason)
    return re.sub(r"; only [\d,]+ here$", "", reason)


def null_section(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    tallies = sc.tally(results, null=True)
    cells = list(dict.fromkeys((r["case"].scenario, r["case"].sizes, r["case"].d)
                               for r in results))
    rows, worst = [], (2.0, "", "")
    for m in sc.measures(results):
        per = tallies[m]
        rates = [(sc.rate(per[c]), c) for c in cells if c in per]
        known = [(r, c) for r, c in rates if r is not None]
        low = min(known, key=lambda rc: rc[0]) if known else None
        if low is not None and low[0] < worst[0]:
            worst = (low[0], _name(m), _cell_name(low[1]))
        all_t = sc.pooled(per.values())
        rows.append([f"`{_name(m)}`"] + [_rate_text(per[c]) if c in per else "-"
                                         for c in cells]
                    + ["-" if low is None else f"{low[0]:.2f}", _rate_text(all_t),
                       f"{all_t['below']}/{all_t['reps']}",
                       f"{all_t['withheld']}/{all_t['reps']}"])
    reps = max(t["reps"] for per in tallies.values() for t in per.values())
    lines = _table(["measure", *map(_cell_name, cells), "min", "all", "below chance",
                    "withheld"], rows)
    below = [f"`{_name(m)}` at {_cell_name(c)} ({t['hits']}/{t['reported']})"
             for m, per in tallies.items() for c, t in per.items()
             if (r := sc.rate(t)) is not None and r < 0.90]
    lines += ["", f"Minimum over every measure and cell: **{worst[0]:.2f}** "
              f"(`{worst[1]}`, {worst[2]}); {reps} repetitions per cell. Below 0.90: "
              + ("; ".join(below) if below else "none") + "."]
    reasons = _reasons(tallies)
    if reasons:
        lines += ["", "Withheld values (not failures; the count is of repetitions):", "",
                  *reasons]
    summary = {"min_rate": worst[0], "min_measure": worst[1], "min_cell": worst[2]}
    return lines, summary


def power_section(results: list[dict[str, Any]]) -> list[str]:
    tallies = sc.tally(results, null=False)
    shifts = list(dict.fromkeys(r["case"].scenario for r in results))
    cells = list(dict.fromkeys((r["case"].sizes, r["case"].d) for r in results))
    ms = sc.measures(results)
    rows = [[f"`{_name(m)}`"] + [_rate_text(sc.pooled(t for (s, *_), t in tallies[m].items()
                                                      if s == shift))
                                 for shift in shifts] for m in ms]
    n = sum(1 for r in results if r["case"].scenario == shifts[0])
    lines = _table(["measure", *shifts], rows)
    lines += ["", f"Each entry pools {n} repetitions ({len(cells)} size x d cells). "
              "By cell:", ""]
    for shift in shifts:
        rows = [[f"`{_name(m)}`"] + [_rate_text(tallies[m][shift, sz, d])
                                     if (shift, sz, d) in tallies[m] else "-"
                                     for sz, d in cells] for m in ms]
        lines += [f"<details><summary>{shift}</summary>", "",
                  *_table(["measure", *(_cell_name(("", sz, d)) for sz, d in cells)], rows),
                  "", "</details>", ""]
    return lines


def _value_text(row: dict[str, Any]) -> str:
    if row["value"] is None:
        return "withheld"
    return f"{row['value']:.3g} [{row['lo']:.3g}, {row['hi']:.3g}]"


def digits_section(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    by = {(r["case"].rep, r["case"].scenario): r["records"] for r in results}
    seeds = sorted({s for s, _ in by})
    ms = list(dict.fromkeys((g, k) for _, g, k, _, _ in sc.DIGITS_ORDERS))
    rows = [[str(seed), f"`{_name(m)}`"] + [_value_text(by[seed, s][m])
                                           for s in sc.DIGITS_SCENARIOS]
            for seed in seeds for m in ms]
    lines = _table(["seed", "measure", *sc.DIGITS_SCENARIOS], rows)
    withheld: dict[tuple[str, str], list[str]] = {}
    for (seed, s), rec in sorted(by.items()):
        for m in ms:
            if rec[m]["value"] is None:
                withheld.setdefault((_name(m), _generic(rec[m]["reason"])), []).append(
                    f"{s} {seed}")
    if withheld:
        lines += ["", "Withheld (scenario and seed):", ""]
        lines += [f"- `{m}` ({'all' if len(where) == len(by) else ', '.join(where)}): {why}"
                  for (m, why), where in withheld.items()]
    orders = sc.digits_orders(results)
    mark = {True: "yes", False: "**no**", None: "withheld"}
    o_rows = []
    summary: dict[str, Any] = {}
    for label, *_ in sc.DIGITS_ORDERS:
        mine = [o for o in orders if o["order"] == label]
        held = sum(o["holds"] is True for o in mine)
        sep = sum(o["separated"] is True for o in mine)
        known = sum(o["holds"] is not None for o in mine)
        summary[label] = {"holds": held, "separated": sep, "evaluable": known,
                          "seeds": len(mine)}
        o_rows.append([label, *(mark[o["holds"]] for o in mine),
                       *((f"{held}/{known}", f"{sep}/{known}") if known
                         else ("withheld", "withheld"))])
    lines += ["", *_table(["order", *(f"seed {s}" for s in seeds), "holds",
                           "intervals disjoint"], o_rows),
              "", "`holds` and `intervals disjoint` count the seeds where both values are "
              "reported."]
    return lines, summary


def _seconds(results: list[dict[str, Any]]) -> str:
    wall = sum(r["seconds"] for r in results)
    cpu = sum(r["cpu_seconds"] for r in results)
    return (f"{len(results)} audits, {cpu:.0f} CPU s ({cpu / len(results):.1f} s per audit; "
            f"wall {wall:.0f} s)")


def document(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace,
             seconds: float) -> tuple[str, dict[str, Any]]:
    cmd = ("OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/audit_null_power.py"
           + (" --quick" if args.quick else "")
           + (f" --reps {args.reps}" if args.reps != sc.NULL_REPS else "")
           + (f" --power-reps {args.power_reps}" if args.power_reps != sc.POWER_REPS else "")
           + (f" --digits-seeds {args.digits_seeds}"
              if args.digits_seeds != sc.DIGITS_SEEDS else "") + " --docs")
    null_lines, null_sum = null_section(results["null"])
    digit_lines, digit_sum = digits_section(results["digits"])
    text = [
        f"Written by `{cmd}` (synthgain {synthgain.__version__} at {args.commit}, "
        f"calibration table {args.calibration}, "
        f"{platform.machine()}, {seconds / 60:.0f} min on {args.jobs} process"
        f"{'es' if args.jobs > 1 else ''}). Scenarios and seeds: "
        "`benchmarks/_audit_scenarios.py`; the suite's `tests/audit/test_null_audit.py` "
        "runs the same null cases. Every audit is `run_audit(anchor, synthetic, target)` "
        "with its defaults, on arrays; every synthetic row has provenance (a random anchor, "
        "or the one it copies), so dI is attempted too (and withheld: valid at no size over "
        "the calibration's random families). The distribution is a Gaussian "
        "with variances 0.2 + 4 x 0.7^k in a random basis; `t5`: a multivariate Student t "
        "with 5 degrees of freedom and the same scale; `clustered`: "
        f"{sc.CLUSTERS} clusters of {sc.CLUSTER_SD:g} x that scale around centres drawn "
        "from the Gaussian once (real rows are then near-copies of one another by chance, "
        "so the near-copy rate's null is not 0). Sizes are anchor/synthetic/target rows.",
        "",
        "### Null coverage",
        "",
        "Anchor, synthetic and target rows i.i.d. from one distribution: every value is an "
        "excess over chance whose truth is 0. Entry: the share of repetitions whose 95 % "
        "interval contains 0; `all`: every cell pooled. A divergence whose interval lies "
        "wholly below chance is withheld by the audit; here it counts as a repetition "
        "whose interval excludes 0 (`(nb)`, column `below chance`). `(nw)`: n repetitions "
        "withheld for another reason (listed below), left out of the share. With exact 95 % intervals a cell of 20 repetitions shows "
        "17/20 or fewer with probability 0.075 and 16/20 or fewer with 0.016 (binomial), "
        "so among many cells a few at 0.85 are expected; a measure low in several cells, "
        "or in `all`, has intervals too narrow. " + _seconds(results["null"]) + ".",
        "",
        *null_lines,
        "",
        "### Power",
        "",
        "Anchors and target from the task's distribution; the synthetic data shifted: "
        f"`mean_shift` ({sc.MEAN_SHIFT} sd along each of the {sc.SHIFT_DIRECTIONS} leading "
        f"directions), `missing_class` (anchors and target a two-component mixture at "
        f"+-{sc.MODE:g} sd along the leading direction, synthetic rows from one component), "
        f"`near_copies` (anchors resampled, plus noise of {sc.COPY_NOISE:g} x the smallest "
        f"sd), `irrelevant_class` ({sc.IRRELEVANT_SHARE:.0%} of the synthetic rows from a "
        f"component {sc.FAR:g} sd away along the leading direction). Entry: the share of "
        "repetitions whose interval excludes 0 (a detection). A measure that does not "
        "involve the shifted data (anchor/target pairs) should stay near 0.05 or below. "
        + _seconds(results["power"]) + ".",
        "",
        *power_section(results["power"]),
        "### Digits",
        "",
        "scikit-learn's bundled 8 x 8 digits (64 pixels, no download). Anchors: "
        f"{sc.DIGITS_ANCHORS_PER_CLASS} images each of classes {{0, 1, 2}}; target: "
        f"{sc.DIGITS_TARGET_PER_CLASS} held-out images each of {{0, ..., 4}}; synthetic "
        f"({sc.DIGITS_SYNTHETIC_PER_CLASS * len(sc.TASK_CLASSES)} rows): `copy` = anchors "
        f"resampled plus noise of sd {sc.DIGITS_NOISE:g} pixel units (provenance: the "
        "copied anchor), `knows` = other real images of {0, ..., 4} (provenance: a random "
        "anchor of the same class where the class has anchors, else a random anchor), "
        "`irrelevant` = real images of {5, ..., 9} (provenance: a random anchor). Anchors, "
        "target and the audit's seed are shared by the three sets of a seed. Entry: the "
        "value over chance [95 % interval]. The orders: 'holds' compares the values, "
        "'intervals disjoint' asks the larger's lower bound to exceed the smaller's upper "
        "bound. " + _seconds(results["digits"]) + ".",
        "",
        *digit_lines,
    ]
    return "\n".join(text) + "\n", {"null": null_sum, "digits": digit_sum}


def _calibration_id() -> str:
    """The audit's calibration table (which values it withholds) as ``sha256[:12]``,
    marked ``untracked`` or ``modified`` when it is not the committed file."""
    path = ROOT / "src" / "synthgain" / "audit" / "calibration.json"
    if not path.exists():
        return "missing"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    try:
        st = subprocess.run(["git", "status", "--porcelain", "--", str(path)], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        st = ""
    return digest + (" untracked" if st.startswith("??") else " modified" if st else "")


def _commit() -> str:
    """The commit run, marked ``+local`` when the library's audit code has uncommitted
    changes."""
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "src/synthgain/audit", "src/synthgain/measures",
                "src/synthgain/mixture")
    return head + (" +local changes" if dirty else "")


def write_docs(section: str, path: Path = DOC) -> None:
    doc = path.read_text(encoding="utf-8")
    i, j = doc.find(START), doc.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"{path}: markers {START} ... {END} not found")
    path.write_text(doc[: i + len(START)] + "\n" + section + doc[j:], encoding="utf-8")


def _jsonable(results: dict[str, list[dict[str, Any]]], run: dict[str, Any]
              ) -> dict[str, Any]:
    return {"run": run, "results": {kind: [{"case": vars(r["case"]), "seconds": r["seconds"],
                    "cpu_seconds": r["cpu_seconds"],
                    "records": {_name(m): row for m, row in r["records"].items()}}
                   for r in rs] for kind, rs in results.items()}}


def _load(path: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Results saved by ``--json``, and the run's settings."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    results = {kind: [{"case": sc.Case(**{**r["case"], "sizes": tuple(r["case"]["sizes"])}),
                       "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"],
                       "records": {tuple(k.split("/", 1)): row
                                   for k, row in r["records"].items()}}
                      for r in rs] for kind, rs in doc["results"].items()}
    return results, doc["run"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=sc.NULL_REPS,
                    help="repetitions of each null cell")
    ap.add_argument("--power-reps", type=int, default=sc.POWER_REPS,
                    help="repetitions of each power cell")
    ap.add_argument("--digits-seeds", type=int, default=sc.DIGITS_SEEDS)
    ap.add_argument("--quick", action="store_true",
                    help="first size, d = 8, 2 null and 1 power repetition, 1 digits seed")
    ap.add_argument("--docs", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    ap.add_argument("--json", type=Path, help="save every case's records here")
    ap.add_argument("--load", type=Path,
                    help="write the tables from a --json file of an earlier run (no audits)")
    ap.add_argument("--jobs", type=int, default=1, help="processes (BLAS on one thread)")
    args = ap.parse_args(argv)
    for flag in ("reps", "power_reps", "digits_seeds", "jobs"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag.replace('_', '-')} must be at least 1; got "
                     f"{getattr(args, flag)}")
    if args.load:
        results, run = _load(args.load)
        vars(args).update({"calibration": "not recorded", **run})
    else:
        # at the start: the code the audits run, and the calibration table they read
        args.commit, args.calibration = _commit(), _calibration_id()
        t0 = time.perf_counter()
        results = {}
        for kind, cases in _cases(args).items():
            print(f"{kind}: {len(cases)} audits", file=sys.stderr, flush=True)
            results[kind] = sc.run_cases(cases, jobs=args.jobs,
                                         progress=lambda s: print("  " + s, file=sys.stderr,
                                                                  flush=True))
        args.seconds = time.perf_counter() - t0
        if _calibration_id() != args.calibration:
            args.calibration += " (the file changed during the run)"
    run = {k: vars(args)[k] for k in ("quick", "reps", "power_reps", "digits_seeds", "jobs",
                                      "commit", "calibration", "seconds")}
    section, summary = document(results, args, args.seconds)
    print(section)
    print(json.dumps(summary, indent=1), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(_jsonable(results, run), indent=1), encoding="utf-8")
    if args.docs:
        write_docs(section)
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
