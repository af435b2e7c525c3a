"""The CI gate: conditions parsed with errors that name the option and the condition, and
checked on an audit, a withheld or unmeasured value failing as "could not be checked"."""

import numpy as np
import pytest

from synthgain.audit import Dataset, Thresholds, evaluate_gate, parse_conditions, run_audit
from synthgain.audit._gate import METRIC_KEYS
from synthgain.audit._verdict import parse_thresholds
from synthgain.exceptions import ValidationError


@pytest.fixture(scope="module")
def result():
    g = np.random.default_rng(0)
    a, t = g.normal(size=(80, 4)), g.normal(size=(80, 4))
    s = np.concatenate([a[:20] + 1e-6, g.normal(size=(60, 4))])  # 20 of 80 copy an anchor
    lab = lambda x: (x[:, 0] > 0).astype(int)  # noqa: E731
    return run_audit(Dataset.from_arrays(a, labels=lab(a), name="anchor"),
                     Dataset.from_arrays(s, labels=lab(s), name="synthetic",
                                         anchor_ids=[str(i) for i in range(80)]),
                     Dataset.from_arrays(t, labels=lab(t), name="target"),
                     rng=0, repeats=2, compare_rows=40, workers=1)


def test_parse():
    cs = parse_conditions(" near_copy_rate > 0.2,contamination>0, kl_gap.mixture.ci_low<=-1e-3")
    assert [(c.name, c.op, c.threshold, c.field) for c in cs] == [
        ("near_copy_rate", ">", 0.2, "value"), ("contamination", ">", 0.0, "value"),
        ("kl_gap.mixture", "<=", -1e-3, "ci_low")]
    assert [c.holds(x) for c, x in zip(cs, (0.3, 0.0, -1.0), strict=True)] == [True, False,
                                                                              True]
    for op, x, want in ((">=", 1, True), ("==", 1, True), ("!=", 1, False), ("<", 1, False)):
        assert parse_conditions(f"empty_rate{op}1")[0].holds(x) is want


@pytest.mark.parametrize("text,match", [
    ("near_copy_rate>>0.2", r"`--fail-on`: condition 'near_copy_rate>>0.2': '>0.2' is not a "
                            r"finite number"),
    ("near_copy_rate=0.2", r"`--fail-on`: condition 'near_copy_rate=0.2' is not `name op "
                           r"number`"),
    ("near_copy_rate", r"condition 'near_copy_rate' is not `name op number`"),
    ("near_copy_rate>0.2,", r"condition '' is not"),
    ("near_copy_rate>abc", r"condition 'near_copy_rate>abc': 'abc' is not a finite number"),
    ("copies>1", r"condition 'copies>1': unknown name 'copies'\. Use one of near_copy_rate"),
    ("kl_gap.mixtrue>0", r"unknown name 'kl_gap.mixtrue'"),
    ("near_copy_rate.ci_low>0", r"near_copy_rate is a share of rows; it has no interval"),
    ("", r"no condition"),
])
def test_malformed_conditions_name_the_option_and_the_condition(text, match):
    with pytest.raises(ValidationError, match=match):
        parse_conditions(text, "--fail-on")


def test_metric_keys_are_those_of_a_full_audit(result):
    # with a target, labels and provenance every measure is recorded (withheld or not),
    # but for the language model's (tests/audit/test_model.py)
    from synthgain.audit._gate import LM_KEYS

    assert {f"{r.group}.{r.key}" for r in result.records} >= set(METRIC_KEYS) - LM_KEYS
    extra = {f"{r.group}.{r.key}" for r in result.records} - set(METRIC_KEYS)
    assert all(k.startswith("text.") for k in extra), extra  # the text measures' own keys


def test_evaluate(result):
    share = float(result.near_copy.mean())
    assert share >= 0.25  # the 20 planted copies, and chance ones
    gate = evaluate_gate(parse_conditions(f"near_copy_rate>{share - 0.01},"
                                          f"near_copy_rate>{share + 0.01},"
                                          "fidelity.precision.ci_high>100,"
                                          "novelty.memorisation>=0"), result)
    assert [o.failed for o in gate.outcomes] == [True, False, False, True]
    assert gate.outcomes[0].value == pytest.approx(share)
    assert not gate.passed and len(gate.failed) == 2
    assert gate.outcomes[0].line() == f"near_copy_rate>{share - 0.01}: near_copy_rate = " \
                                      f"{share:.4g}"
    rec = next(r for r in result.records if r.group == "novelty" and r.key == "memorisation")
    assert gate.outcomes[3].value == pytest.approx(rec.estimate.value)


def test_withheld_or_unmeasured_cannot_be_checked_and_fails(result):
    withheld = next(r for r in result.records if r.estimate is None)
    key = f"{withheld.group}.{withheld.key}"
    gate = evaluate_gate(parse_conditions(f"{key}>1e9,duplicate_rate>2"), result)
    assert all(o.failed and o.value is None for o in gate.outcomes)
    assert gate.outcomes[0].line() == (f"{key}>1e9: could not be checked (withheld: "
                                       f"{withheld.reason})")
    assert "could not be checked (not measured: the text measures did not run" in \
        gate.outcomes[1].line()


def test_verdict_thresholds(result):
    v = result.verdict()
    near = next(c for c in v["checks"] if c["name"] == "near-copy")
    assert near["status"] == "problem" and near["count"] == int(result.near_copy.sum())
    assert v["problems"][0]["name"] == "near-copy" and v["problems_found"]
    assert near["example"]["row"] < 20  # a planted copy: the smallest ratio is one of them
    assert v["thresholds"]["near_copy_rate"] == 0.05
    relaxed = result.verdict(Thresholds.of({"near_copy_rate": 0.9}))
    assert "near-copy" not in [p["name"] for p in relaxed["problems"]]
    assert parse_thresholds("near_copy_rate=0.9, outlier_rate=0") == Thresholds(
        near_copy_rate=0.9, outlier_rate=0.0)
    for bad, match in (("near_copy=0.1", r"`--thresholds`: unknown threshold 'near_copy'\. "
                                         "Valid names: near_copy_rate"),
                       ("near_copy_rate", r"'near_copy_rate' is not name=value"),
                       ("near_copy_rate=2", r"near_copy_rate='2' must be a number in \[0, 1\]")):
        with pytest.raises(ValidationError, match=match):
            parse_thresholds(bad)
    every = [a["name"] for a in v["adds"]]
    assert every == ["probe", "labels", "label issues", "gradient alignment",
                     "towards the target", "information", "diversity"]
    kinds = {a["name"]: a["kind"] for a in v["adds"]}
    assert kinds["probe"] == "measured" and kinds["labels"] == "predicts"
    assert kinds["information"] == "describes"
    assert all(("evidence" in a) == (a["kind"] != "measured") for a in v["adds"])
    assert all(a["status"] in ("more", "less", "chance", "not measurable") for a in v["adds"])
    assert all("not measurable" in a["text"] for a in v["adds"]
               if a["status"] == "not measurable")


def test_verdict_summary_names_three_problems_and_counts_the_rest():
    from synthgain.audit._verdict import _summary

    problems = [{"name": f"p{i}", "label": f"problem {i}", "count": i, "rows": 100,
                 "rate": i / 100} for i in range(1, 6)]
    text = _summary([], problems)
    assert "5 problems above threshold: problem 1: 1 of 100 rows (1.0%); " in text
    assert "problem 3: 3 of 100 rows (3.0%); and 2 more." in text
    assert "problem 4" not in text and "...." not in text
    assert _summary([], problems[:1]).endswith("problem 1: 1 of 100 rows (1.0%).")


def test_verdict_reads_an_upper_bound_on_di_only_below_zero():
    # above the near-copy limit dI - H(anchor) is an upper bound (its mutual information
    # part a lower bound): below 0 it still says "less"; above 0 it says nothing
    from types import SimpleNamespace

    from synthgain.audit._records import metric
    from synthgain.audit._verdict import _GAINS, _gain
    from synthgain.measures import Estimate

    spec = next(g for g in _GAINS if g[0] == "information")

    def verdict(value: float, bound: str | None) -> dict:
        est = Estimate(value, 1.0, "information_gain", (300, 300),
                       {} if bound is None else {"bound": bound},
                       interval=(value - 2, value + 2))
        rec = metric("information", "information_gain", est, datasets=("anchor", "synthetic"))
        return _gain(SimpleNamespace(records=[rec]), spec)

    assert verdict(-20.0, "upper")["status"] == "less"
    high = verdict(5.0, "upper")
    assert high["status"] == "not measurable" and "upper bound only" in high["text"]
    assert verdict(5.0, None)["status"] == "more"
    assert verdict(0.5, "upper")["status"] == "not measurable"  # interval straddles 0


def test_verdict_reads_the_predictive_measures_first():
    # Study 4's predictors decide the verdict's second sentence: a synthetic set whose
    # labels are noise reads "warn" through the label agreement (and the label issues); a
    # set labelled like its anchors reads "find nothing against it"; the descriptive
    # measures come last, said to be descriptive
    from synthgain.audit import Dataset, run_audit

    g = np.random.default_rng(4)
    a = g.normal(size=(300, 6))
    s = g.normal(size=(300, 6))
    lab = lambda x: (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)  # noqa: E731
    anchors = Dataset.from_arrays(a, labels=lab(a), name="anchor")
    good = run_audit(anchors, Dataset.from_arrays(s, labels=lab(s), name="synthetic"),
                     rng=0, repeats=6).verdict()
    noisy = run_audit(anchors, Dataset.from_arrays(s, labels=g.integers(0, 2, 300),
                                                   name="synthetic"),
                      rng=0, repeats=6).verdict()
    by = {a["name"]: a for a in noisy["adds"]}
    assert by["labels"]["status"] == "less" and by["label issues"]["status"] == "less"
    assert "labels" in noisy["summary"] and " warn: " in noisy["summary"]
    by = {a["name"]: a for a in good["adds"]}
    assert by["labels"]["status"] == "chance", by["labels"]
    assert "find nothing against it" in good["summary"]
    assert "Descriptively (measures that did not predict the gain in Study 4)" in (
        good["summary"])
    assert by["gradient alignment"]["text"].endswith("not measurable (no language model (--lm))")
