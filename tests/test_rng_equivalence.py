"""The seeding rule (docs/design.md, "Randomness"): for every public function that takes
``rng``, ``rng=s`` and ``rng=SeedSequence(s)`` give the same result.

The cheap functions are called here. The others are checked beside their own tests,
named in COVERED_ELSEWHERE; a test below fails when a public function taking ``rng``
is in neither list, or when a named test is missing.
"""

import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from synthgain.experiments.klgap import fit_simulation, kl_gap, monte_carlo_divergence
from synthgain.measures import (
    Gaussian,
    entropy,
    js_divergence,
    kl_divergence,
    label_mutual_information,
    mutual_information,
    rank_correlation,
    total_variation,
)
from synthgain.mixture import (
    GaussianMixture,
    MixtureStack,
    fit_gmm,
    fit_gmm_batched,
    gmm_bic_path,
    select_gmm,
)
from synthgain.process import Setup, simulate
from synthgain.study import (
    DigitsGenerator,
    StudyConfig,
    TextSplit,
    add_word_noise,
    generate_synthetic,
    generate_text,
    load_quotes_split,
    load_trec_split,
)
from synthgain.theory import check_information_estimators

PACKAGES = ["synthgain.mixture", "synthgain.measures", "synthgain.process", "synthgain.theory",
            "synthgain.experiments.klgap", "synthgain.experiments.theory_sweep",
            "synthgain.audit", "synthgain.study"]  # fmt: skip
TESTS = Path(__file__).parent

MIX = GaussianMixture([0.3, 0.7], [[0.0, 0.0], [2.0, 1.0]], [np.eye(2), 0.5 * np.eye(2)])
MIX2 = GaussianMixture([0.5, 0.5], [[1.0, 0.0], [2.0, 2.0]], [np.eye(2), np.eye(2)])
X = np.random.default_rng(0).normal(size=(60, 2))
Y = np.random.default_rng(1).normal(size=(60, 2)) + 0.3
# tied values, so that the kNN estimators' jitter (which draws from rng) is exercised
XT = np.round(X, 1)
SIM = simulate(Setup(K=2, J=1, L=1), rng=0)


def _plain(result):
    """A comparable form of a result: Estimates, arrays, fits, tuples."""
    if isinstance(result, tuple | list):
        return [_plain(r) for r in result]
    if hasattr(result, "to_dict") and callable(result.to_dict):
        return result.to_dict()
    if hasattr(result, "mixture"):  # a MixtureFit
        m = result.mixture
        return [m.weights.tolist(), m.means.tolist(), m.covariances.tolist()]
    if hasattr(result, "means") and hasattr(result, "covariances"):
        return [np.asarray(result.means).tolist(), np.asarray(result.covariances).tolist()]
    if isinstance(result, np.ndarray):
        return result.tolist()
    return result


def _audit_measures(rng):
    from synthgain.study import audit_measures

    g = np.random.default_rng(3)
    words = ["where", "is", "the", "city", "who", "wrote", "book", "how", "many", "stars"]
    texts = {name: [" ".join(g.choice(words, 5)) + " ?" for _ in range(n)]
             for name, n in (("anchor", 12), ("synthetic", 30), ("reference", 30))}
    out = audit_measures(g.normal(size=(12, 4)), g.normal(size=(30, 4)) + 0.2,
                         g.normal(size=(30, 4)), texts, np.arange(30) % 12, rng=rng)
    return {k: None if np.isnan(v) else v for k, v in out.items()}  # NaN != NaN


def _mixtures(rng):
    from pathlib import Path

    from synthgain.study import MixDesign, draw_mixtures, load_pool

    pool = load_pool(Path(__file__).resolve().parents[1] / "docs" / "data" /
                     "llm_synthetic.jsonl.gz")
    mixes = draw_mixtures(pool, ["What is x ?"] * 4, np.array(["LOC", "HUM"] * 2),
                          np.arange(4), MixDesign(n_datasets=2),
                          ["DESC", "ENTY", "HUM", "LOC", "NUM"], rng)
    return [[m.texts, [str(v) for v in m.labels], m.anchors.tolist()] for m in mixes]


def _analyse_mix(rng):
    import pandas as pd

    from synthgain.study import analyse_mix

    g = np.random.default_rng(0)
    table = pd.DataFrame({"size": g.integers(50, 400, 30).astype(float),
                          "noise_share": g.uniform(0, 0.4, 30), "gain_both": g.normal(size=30),
                          "tstr_accuracy": g.normal(size=30)})
    out = analyse_mix(table, {"tstr_accuracy": ("", 1)}, n_boot=20, rng=rng)
    return out.drop(columns=["description"]).round(12).to_dict("records")


def stratified_pick_case(rng):
    from synthgain.study import stratified_pick

    return stratified_pick(np.random.default_rng(0).normal(size=50), 7, rng=rng).tolist()


def _by_condition(rng):
    import pandas as pd

    from synthgain.study import analyse_by_condition

    g = np.random.default_rng(0)
    table = pd.DataFrame({"main_condition": g.choice(["a", "b"], 40),
                          "gain_both": g.normal(size=40), "tstr_accuracy": g.normal(size=40)})
    out = analyse_by_condition(table, {"tstr_accuracy": 1}, n_boot=20, rng=rng)
    return out.round(12).astype(object).fillna("nan").to_dict("records")  # NaN != NaN


def _label_issues(rng):
    from synthgain.audit import label_issues

    g = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    x = g.normal(size=(80, 2)) + 2 * y[:, None]
    return label_issues(x, np.where(g.random(80) < 0.2, 1 - y, y), rng=rng)


CASES = {
    "synthgain.mixture.GaussianMixture.sample": lambda rng: MIX.sample(20, rng=rng),
    "synthgain.mixture.GaussianMixture.sample_components":
        lambda rng: MIX.sample_components(np.array([0, 1, 1, 0]), rng=rng),
    "synthgain.mixture.MixtureStack.sample":
        lambda rng: MixtureStack.from_mixtures([MIX, MIX2]).sample(10, rng=rng),
    "synthgain.mixture.fit_gmm": lambda rng: fit_gmm(X, 2, rng=rng),
    "synthgain.mixture.select_gmm":
        lambda rng: select_gmm(X, 3, rng=rng, covariance_types=("tied", "full")),
    "synthgain.mixture.gmm_bic_path":
        lambda rng: [c.fit for c in gmm_bic_path(X, 3, rng=rng, covariance_types=("tied",
                                                                                  "full"))],
    "synthgain.mixture.fit_gmm_batched":
        lambda rng: [fit_gmm_batched(np.stack([X, Y]), 2, rng=rng)[b] for b in range(2)],
    "synthgain.measures.Gaussian.sample":
        lambda rng: Gaussian(np.zeros(2), np.eye(2)).sample(5, rng=rng),
    "synthgain.measures.entropy": lambda rng: [
        entropy(MIX, n_samples=500, rng=rng), entropy(XT, rng=rng)],
    "synthgain.measures.kl_divergence": lambda rng: [
        kl_divergence(MIX, MIX2, n_samples=500, rng=rng), kl_divergence(XT, Y, rng=rng),
        kl_divergence(X, Y, bias_correction="permutation", n_permutations=3, rng=rng)],
    "synthgain.measures.js_divergence": lambda rng: [
        js_divergence(MIX, MIX2, n_samples=500, rng=rng), js_divergence(XT, Y, rng=rng)],
    "synthgain.measures.total_variation": lambda rng: [
        total_variation(MIX, MIX2, n_samples=500, rng=rng), total_variation(XT, Y, rng=rng)],
    "synthgain.measures.mutual_information": lambda rng: [
        mutual_information(XT[:, :1], XT[:, 1:], rng=rng),
        mutual_information(MIX, [1], n_samples=500, rng=rng)],
    "synthgain.measures.label_mutual_information":
        lambda rng: label_mutual_information(MIX, n_samples=500, rng=rng),
    "synthgain.measures.rank_correlation":
        lambda rng: rank_correlation(X[:, 0], Y[:, 0], n_bootstrap=50, rng=rng),
    "synthgain.experiments.klgap.fit_simulation": lambda rng: fit_simulation(SIM, rng=rng),
    "synthgain.experiments.klgap.kl_gap":
        lambda rng: kl_gap(MIX, MIX2, MIX, rounds=3, n_eval=100, rng=rng),
    "synthgain.experiments.klgap.monte_carlo_divergence":
        lambda rng: monte_carlo_divergence(MIX, MIX2, n_samples=200, rounds=3, rng=rng),
    "synthgain.theory.check_information_estimators": lambda rng: _plain(
        check_information_estimators(np.random.default_rng(0).normal(size=(4, 4, 3)),
                                     np.random.default_rng(1).normal(size=(4, 3)), 1.0,
                                     n_designs=3, rng=rng).to_dict()),
    "synthgain.study.add_word_noise":
        lambda rng: add_word_noise(["a b c d", "e f g h i"], 0.5, ["x", "y", "z"], rng=rng),
    "synthgain.study.load_quotes_split": lambda rng: _split_lists(load_quotes_split(3, rng=rng)),
    "synthgain.study.audit_measures": lambda rng: _audit_measures(rng),
    "synthgain.study.load_trec_split": lambda rng: _split_lists(load_trec_split(
        lines=[f"{c}:x Question {i} about {c} ?" for c in ("LOC", "HUM") for i in range(10)],
        rng=rng)),
    "synthgain.study.DigitsGenerator.fit": lambda rng: [_plain(m) for m in DigitsGenerator(
        n_pca=4, n_components=2).fit(*_digits(), [0, 1], rng=rng).mixtures_.values()],
    "synthgain.study.generate_synthetic": lambda rng: _synthetic(rng),
    "synthgain.study.generate_text": lambda rng: _text(rng),
    "synthgain.audit.run_text_demo": lambda rng: _demo_metrics(rng),
    "synthgain.audit.label_issues": lambda rng: _label_issues(rng),
    "synthgain.study.draw_mixtures": lambda rng: _mixtures(rng),
    "synthgain.study.analyse_mix": lambda rng: _analyse_mix(rng),
    "synthgain.study.analyse_by_condition": lambda rng: _by_condition(rng),
    "synthgain.study.stratified_pick": lambda rng: stratified_pick_case(rng),
    "synthgain.audit.write_chat_example": lambda rng: _chat_example(rng),
}  # fmt: skip


def _demo_metrics(rng):
    import tempfile

    from synthgain.audit import run_text_demo

    with tempfile.TemporaryDirectory() as out:
        res = run_text_demo(out, model="lsa", n_series=2, n_anchor=10, n_target=12, rng=rng)
    return [(m.key, m.estimate.value if m.estimate is not None else None) for m in res.records]


def _chat_example(rng):
    import tempfile

    from synthgain.audit import write_chat_example

    with tempfile.TemporaryDirectory() as out:
        paths = write_chat_example(out, n_series=2, n_anchor=10, n_target=12, rng=rng)
        return [paths[k].read_text() for k in ("synthetic", "planted")]


def _split_lists(split):
    return [split.texts, {k: v.tolist() for k, v in split.labels.items()}]


def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    keep = np.flatnonzero(y < 2)[:80]
    return x[keep], y[keep]


def _synthetic(rng):
    cfg = StudyConfig(K=1, J=1, L=0, anchors_per_class=2, per_class=6, noise=0.5)
    x, y = _digits()
    gen = DigitsGenerator(n_pca=4, n_components=2).fit(x, y, [0, 1], rng=0)
    classes = {"anchored": [0], "unanchored": [1], "task": [0, 1], "irrelevant": []}
    syn = generate_synthetic(gen, classes, x[y == 0][:2], y[y == 0][:2], cfg, rng=rng)
    return [syn.x.tolist(), syn.labels.tolist(), syn.source.tolist()]


def _text(rng):
    texts = {p: [f"{c}{i} w{i % 3} end" for c in "ab" for i in range(6)]
             for p in ("pool", "anchor", "reference", "test")}
    labels = {p: np.repeat(np.array(["a", "b"]), 6) for p in texts}
    split = TextSplit(texts, labels, ["a", "b"])
    cfg = StudyConfig(K=1, J=1, L=0, per_class=4, generator="markov1")
    classes = {"anchored": ["a"], "unanchored": ["b"], "task": ["a", "b"], "irrelevant": []}
    syn = generate_text(split, classes, texts["anchor"][:2], labels["anchor"][:2], cfg, rng=rng)
    return [syn.texts, syn.labels.tolist()]


#: function -> the test (file::name) that checks rng=s == rng=SeedSequence(s) for it
COVERED_ELSEWHERE = {
    "synthgain.measures.richness_forecast":
        "measures/test_richness.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.process.simulate": "process/test_process.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.process.random_covariances":
        "process/test_process.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.theory.chain_from_setup": "theory/test_sweep.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.theory.simulate_chain": "theory/test_sweep.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.theory.sweep_settings": "theory/test_sweep.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.theory.sweep_terms": "theory/test_sweep.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.experiments.theory_sweep.sweep_terms_klgap":
        "theory/test_sweep.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.experiments.theory_sweep.ggmi_robustness":
        "theory/test_sweep.py::test_ggmi_robustness",
    "synthgain.theory.compute_terms":
        "theory/test_terms.py::test_reproducible_and_int_rng_equals_its_seed_sequence",
    "synthgain.theory.crossed_mutual_information":
        "theory/test_information.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.theory.noisy_mutual_information":
        "theory/test_information.py::test_rng_int_equals_its_seed_sequence",
    "synthgain.audit.classifier_two_sample_test": "audit/test_seeding.py::test_int_seed_equals_seed_sequence",
    "synthgain.audit.vendi_score": "audit/test_seeding.py::test_int_seed_equals_seed_sequence",
    "synthgain.audit.markov_generate": "audit/test_seeding.py::test_int_seed_equals_seed_sequence",
    "synthgain.audit.information_terms": "audit/test_information.py::test_seed_int_equals_seed_sequence",
    "synthgain.audit.kl_gap_mixture": "audit/test_information.py::test_seed_int_equals_seed_sequence",
    "synthgain.audit.audit_texts": "audit/test_text.py::test_audit_texts_seed_int_equals_seed_sequence",
    "synthgain.audit.run_audit":
        "audit/test_pipeline.py::test_seed_int_equals_seed_sequence_and_streams_are_named",
    "synthgain.study.study_measures": "study/test_measures.py::test_seed_int_equals_seed_sequence",
    "synthgain.study.run_study": "study/test_run.py::test_seed_int_equals_seed_sequence",
    "synthgain.study.summarize": "study/test_run.py::test_seed_int_equals_seed_sequence",
    "synthgain.study.load_digits_split":
        "study/test_digits.py::test_seed_int_equals_seed_sequence_for_the_split_and_a_replicate",
    "synthgain.study.digits_replicate":
        "study/test_digits.py::test_seed_int_equals_seed_sequence_for_the_split_and_a_replicate",
}  # fmt: skip


def _public_rng_functions():
    found = set()
    for name in PACKAGES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            members = [(attr, obj)]
            if inspect.isclass(obj):
                members = [(f"{attr}.{m}", getattr(obj, m)) for m in vars(obj)
                           if not m.startswith("_") and callable(getattr(obj, m))]
            for qual, fn in members:
                try:
                    params = inspect.signature(fn).parameters
                except (TypeError, ValueError):
                    continue
                if "rng" in params:
                    found.add((f"{name}.{qual}", params["rng"].annotation))
    return found


def test_every_public_function_taking_rng_is_checked():
    missing = []
    for qual, annotation in sorted(_public_rng_functions()):
        if "Generator" in str(annotation) and "RNGLike" not in str(annotation):
            continue  # takes a caller's Generator stream, not a seed
        if qual not in CASES and qual not in COVERED_ELSEWHERE:
            missing.append(qual)
    assert not missing, f"no rng=s == rng=SeedSequence(s) test for: {missing}"


@pytest.mark.parametrize("qual", sorted(COVERED_ELSEWHERE))
def test_the_named_test_exists_and_calls_the_function(qual):
    path, test = COVERED_ELSEWHERE[qual].split("::")
    source = (TESTS / path).read_text()
    assert f"def {test}(" in source, COVERED_ELSEWHERE[qual]
    start = source.index(f"def {test}(")
    end = source.find("\ndef ", start + 1)
    body = source[start : end if end > 0 else None]
    short = qual.rsplit(".", 1)[-1]
    assert short in body or short in source[:start], f"{test} does not call {short}"


@pytest.mark.parametrize("qual", sorted(CASES))
def test_int_seed_equals_its_seed_sequence(qual):
    call = CASES[qual]
    assert _plain(call(7)) == _plain(call(np.random.SeedSequence(7)))
