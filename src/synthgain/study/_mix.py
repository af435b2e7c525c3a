"""Study 4: synthetic datasets mixed from a pool of generations, for one fixed task.

The pool is the LLM study's recorded generations (docs/data/llm_synthetic.jsonl.gz). A
seeded design draws many synthetic datasets from it (condition proportions from a
Dirichlet, a size, a label-noise share, planted duplicates and near-copies of anchors,
curation on or off); each is scored by the real gain of the probe on a fixed TREC test
split and by the candidate measures, and the measures are ranked against the gain by the
analysis fixed in docs/study.md ("Study 4", pre-registered). Per-text quantities
(embeddings, the language model's loss and sketches) are computed once for the pool and
the fixed samples, so a dataset costs only its own measures and its probe.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._rng import RNGLike, child_generator, child_seed, seed_sequence
from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import holm
from ._design import StudyConfig

__all__ = [
    "MIX_MEASURES",
    "PRIMARY",
    "MixDesign",
    "MixSetup",
    "Pool",
    "analyse_by_condition",
    "analyse_mix",
    "draw_mixtures",
    "load_pool",
    "mix_design",
    "regime_anchors",
    "replicate",
    "run_mix_study",
]

#: the pool's configurations that change what is generated (curation and label noise
#: act after generation: the design applies them itself)
GENERATION_KNOBS = ("default", "K", "J", "demos", "temperature", "off_task")
#: anchors per class of each regime
REGIMES = {"few-shot": 8, "calibrated": 100}
#: the pre-registered primary measures (docs/study.md, Study 4) and their directions
PRIMARY: dict[str, int] = {"lm_g_vendi": +1, "lm_alignment": +1, "tstr_accuracy": +1,
                           "label_issue_rate": -1, "information_gain": +1,
                           "kl_gap_mixture": +1, "size": +1, "label_agreement": +1}
#: the measures this study adds to Studies 1-3's: name -> (description, expected sign)
MIX_MEASURES: dict[str, tuple[str, int]] = {
    "size": ("rows in the synthetic dataset (baseline)", +1),
    "label_agreement": ("share of synthetic labels a classifier of the anchors agrees with "
                        "(baseline)", +1),
    "tstr_accuracy": ("accuracy on the anchors of a classifier trained on the synthetic "
                      "rows", +1),
    "label_issue_rate": ("share of synthetic rows cleanlab flags (cross-fitted with the "
                         "anchors)", -1),
    "lm_g_vendi": ("G-Vendi: Vendi score of the rows' unit gradient sketches", +1),
    "lm_alignment": ("cosine of the mean sketches of the synthetic rows and the reference",
                     +1),
    "lm_loss": ("mean LM loss of the synthetic rows (nats per token)", -1),
}


@dataclass(frozen=True)
class Pool:
    """The pool's questions: one entry per generation (parsed, non-empty).

    ``condition`` is the generating configuration (``"temperature=1.2"``), ``label`` the
    class the prompt asked for, ``anchor`` the TREC anchor-candidate index of the prompt's
    first demonstration (-1 for none).
    """

    questions: list[str]
    labels: np.ndarray
    conditions: np.ndarray
    anchors: np.ndarray

    @property
    def names(self) -> list[str]:
        """The conditions, sorted."""
        return sorted(set(self.conditions.tolist()))


def load_pool(path: str | Path) -> Pool:
    """The pool of ``path`` (an ``llm_synthetic.jsonl[.gz]`` of the LLM study): the
    generations of the configurations in :data:`GENERATION_KNOBS`, empty questions left
    out, each (prompt, seed, temperature) once."""
    from ..audit import read_rows

    rows, seen = [], set()
    for r in read_rows(path):
        key = (r["prompt"], str(r["seed"]), str(r["temperature"]))
        if r["knob"] not in GENERATION_KNOBS or not r.get("question") or key in seen:
            continue
        seen.add(key)
        rows.append(r)
    if not rows:
        raise ValidationError(f"{path}: no generation of the configurations "
                              f"{', '.join(GENERATION_KNOBS)} with a parsed question.")
    cond = [r["knob"] if r["knob"] == "default" else f"{r['knob']}={r['knob_value']}"
            for r in rows]
    return Pool([str(r["question"]) for r in rows],
                np.asarray([str(r["source_class"]) for r in rows], dtype=object),
                np.asarray(cond, dtype=object),
                np.asarray([-1 if r.get("anchor_id") in (None, "") else int(r["anchor_id"])
                            for r in rows], dtype=np.int64))


@dataclass(frozen=True)
class MixDesign:
    """How synthetic datasets are drawn from the pool (docs/study.md, Study 4)."""

    n_datasets: int = 200
    min_rows: int = 50
    max_rows: int = 400
    alpha: float = 0.5
    max_noise: float = 0.4
    max_duplicates: float = 0.2
    max_copies: float = 0.2
    p_curate: float = 0.5

    def __post_init__(self) -> None:
        check_int(self.n_datasets, "n_datasets", low=1)
        check_int(self.min_rows, "min_rows", low=10)
        check_int(self.max_rows, "max_rows", low=self.min_rows)
        for name in ("max_noise", "max_duplicates", "max_copies", "p_curate"):
            check_real(getattr(self, name), name, low=0.0, high=1.0)
        check_real(self.alpha, "alpha", low=0.0, closed="right")


@dataclass
class Mixture:
    """One synthetic dataset: its texts, labels, provenance and how it was drawn."""

    texts: list[str]
    labels: np.ndarray
    anchors: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


def draw_mixtures(pool: Pool, anchor_texts: Sequence[str], anchor_labels: np.ndarray,
                  anchor_ids: np.ndarray, design: MixDesign, classes: Sequence[str],
                  rng: RNGLike) -> list[Mixture]:
    """The design's datasets, dataset ``i`` from ``child_seed(rng, "design", i)`` alone
    (so a dataset does not depend on how many are drawn, or on the workers)."""
    root = seed_sequence(rng)
    return [_draw_one(pool, list(anchor_texts), np.asarray(anchor_labels, dtype=object),
                      np.asarray(anchor_ids), design, list(classes),
                      child_generator(root, "design", i)) for i in range(design.n_datasets)]


def _near_copy(text: str) -> str:
    """An anchor with its final punctuation changed (a question mark becomes a full stop,
    anything else gains a question mark)."""
    t = text.rstrip()
    return t[:-1].rstrip() + " ." if t.endswith("?") else t + " ?"


def _draw_one(pool: Pool, anchor_texts: list[str], anchor_labels: np.ndarray,
              anchor_ids: np.ndarray, design: MixDesign, classes: list[str],
              gen: np.random.Generator) -> Mixture:
    names = pool.names
    props = gen.dirichlet(np.full(len(names), design.alpha))
    size = int(gen.integers(design.min_rows, design.max_rows + 1))
    noise = float(gen.uniform(0.0, design.max_noise))
    dup = float(gen.uniform(0.0, design.max_duplicates))
    copy = float(gen.uniform(0.0, design.max_copies))
    curated = bool(gen.random() < design.p_curate)
    n_dup, n_copy = round(dup * size), round(copy * size)
    counts = gen.multinomial(size - n_dup - n_copy, props)
    rows = []
    for name, c in zip(names, counts, strict=True):
        avail = np.flatnonzero(pool.conditions == name)
        rows += gen.choice(avail, min(int(c), avail.size), replace=False).tolist()
    rows = sorted(rows)
    from ._llm import curate

    kept, labels = curate([pool.questions[i] for i in rows], pool.labels[rows], classes,
                          StudyConfig(curation="filter" if curated else "none",
                                      noise=noise), gen)
    keep = [rows[i] for i in np.flatnonzero(kept)]
    texts = [pool.questions[i] for i in keep]
    lab = list(labels[np.flatnonzero(kept)])
    prov = _positions(pool.anchors[keep], anchor_ids)
    if texts and n_dup:
        pick = gen.integers(0, len(texts), n_dup)
        texts += [texts[i] for i in pick]
        lab += [lab[i] for i in pick]
        prov = np.concatenate([prov, prov[pick]])
    if n_copy:
        pick = gen.integers(0, len(anchor_texts), n_copy)
        texts += [_near_copy(anchor_texts[i]) for i in pick]
        lab += [anchor_labels[i] for i in pick]
        prov = np.concatenate([prov, pick])
    share = {n: float(p) for n, p in zip(names, props, strict=True)}
    major = max(share, key=share.__getitem__)
    return Mixture(texts, np.asarray(lab, dtype=object), np.asarray(prov, dtype=np.int64),
                   {"size": len(texts), "drawn_size": size, "planted_copies": n_copy,
                    "planted_duplicates": n_dup if len(texts) > n_copy else 0,
                    "noise_share": noise, "duplicate_share": dup,
                    "copy_share": copy, "curated": curated, "main_condition": major,
                    "main_share": share[major],
                    **{f"share_{n}": p for n, p in share.items()}})


def _positions(pool_anchor: np.ndarray, anchor_ids: np.ndarray) -> np.ndarray:
    """Each pool row's prompt anchor as a position in the regime's anchor set (-1 when
    the set does not hold it)."""
    where = {int(a): i for i, a in enumerate(anchor_ids.tolist())}
    return np.asarray([where.get(int(a), -1) for a in pool_anchor], dtype=np.int64)


def regime_anchors(split_labels: np.ndarray, pool: Pool, regime: str, rng: RNGLike
                   ) -> np.ndarray:
    """Anchor-candidate indices of a regime: ``REGIMES[regime]`` per class, drawn at
    random; in the calibrated regime the anchors the pool's prompts name come first, so
    that their rows' provenance resolves."""
    regime = check_choice(regime, "regime", tuple(REGIMES))
    per = REGIMES[regime]
    gen = child_generator(seed_sequence(rng), "anchors", regime)
    named = set(pool.anchors[pool.anchors >= 0].tolist()) if regime == "calibrated" else set()
    out: list[int] = []
    for c in sorted(set(split_labels.tolist())):
        rows = np.flatnonzero(split_labels == c)
        first = [r for r in rows.tolist() if r in named]
        rest = gen.permutation([r for r in rows.tolist() if r not in named])
        out += (first + rest.tolist())[: max(per, len(first))]
    return np.asarray(sorted(out), dtype=np.int64)


# --- the pre-registered analysis ------------------------------------------------------


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Spearman's correlation of ``x`` and ``y`` given the columns of ``z``: the Pearson
    correlation of the residuals of their ranks on ``z``'s ranks (least squares)."""
    zr = np.column_stack([np.ones(x.shape[0]), *[stats.rankdata(c) for c in np.atleast_2d(z.T)]])

    def resid(v: np.ndarray) -> np.ndarray:
        r = stats.rankdata(v)
        return r - zr @ np.linalg.lstsq(zr, r, rcond=None)[0]

    a, b = resid(x), resid(y)
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else float("nan")


def _bootstrap(fn: Callable[[np.ndarray], float], n: int, n_boot: int,
               gen: np.random.Generator) -> tuple[float, float]:
    vals = np.array([fn(gen.integers(0, n, n)) for _ in range(n_boot)])
    vals = vals[np.isfinite(vals)]
    if vals.size < 10:
        return float("nan"), float("nan")
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def analyse_mix(table: pd.DataFrame, measures: dict[str, tuple[str, int]], *,
                gain: str = "gain_both", n_boot: int = 2000, rng: RNGLike = None
                ) -> pd.DataFrame:
    """Each measure against the gain over the datasets of ``table`` (docs/study.md,
    Study 4): Spearman and Kendall with percentile bootstrap intervals, the partial
    Spearman given size and label-noise share with its interval, Holm-adjusted p over
    the primary measures, and the verdict the pre-registration defines (without the
    held-out replication, which compares two tables)."""
    root = seed_sequence(rng)
    rows = []
    for i, (name, (desc, sign)) in enumerate(measures.items()):
        if name not in table:
            continue
        sub = table[list(dict.fromkeys([name, gain, "size", "noise_share"]))].dropna()
        x, y = sub[name].to_numpy(float), sub[gain].to_numpy(float)
        z = sub[["size", "noise_share"]].to_numpy(float)
        n = x.shape[0]
        if n < 5 or np.ptp(x) == 0:
            rows.append({"measure": name, "n": n, "expected_sign": sign, "description": desc})
            continue
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            rows.append(_correlations(name, desc, sign, x, y, z, n_boot,
                                      child_generator(root, i)))
    return _holm_verdicts(pd.DataFrame(rows))


def _correlations(name: str, desc: str, sign: int, x: np.ndarray, y: np.ndarray,
                  z: np.ndarray, n_boot: int, gen: np.random.Generator) -> dict[str, Any]:
    """One measure's row of the analysis."""
    n = x.shape[0]
    rho, p = stats.spearmanr(x, y)
    tau, _ = stats.kendalltau(x, y)
    rlo, rhi = _bootstrap(lambda s: stats.spearmanr(x[s], y[s])[0], n, n_boot, gen)
    tlo, thi = _bootstrap(lambda s: stats.kendalltau(x[s], y[s])[0], n, n_boot, gen)
    # size is itself a covariate: its partial correlation is not defined
    part, plo, phi = float("nan"), float("nan"), float("nan")
    if name != "size":
        part = partial_spearman(x, y, z)
        plo, phi = _bootstrap(lambda s: partial_spearman(x[s], y[s], z[s]), n, n_boot, gen)
    return {"measure": name, "n": n, "rho": float(rho), "rho_low": rlo, "rho_high": rhi,
            "p_value": float(p), "tau": float(tau), "tau_low": tlo, "tau_high": thi,
            "partial_rho": part, "partial_low": plo, "partial_high": phi,
            "expected_sign": sign, "primary": name in PRIMARY, "description": desc}


def _holm_verdicts(out: pd.DataFrame) -> pd.DataFrame:
    """Holm over the primary measures' one-sided p-values, and each row's verdict."""
    if out.empty:
        return out
    for col in ("rho", "rho_low", "rho_high", "p_value", "partial_rho", "partial_low",
                "partial_high", "primary"):
        if col not in out:
            out[col] = np.nan if col != "primary" else False
    prim = out.get("primary", pd.Series(False, index=out.index)).fillna(False).astype(
        bool).to_numpy()
    # a one-sided test in the stated direction: half the two-sided p where the sign agrees
    p1 = np.where(np.sign(out["rho"]) == out["expected_sign"], out["p_value"] / 2,
                  1 - out["p_value"] / 2)
    adj = np.full(len(out), np.nan)
    adj[prim] = holm(p1[prim])
    out["p_one_sided"] = p1
    out["p_holm"] = adj
    out["verdict"] = [_verdict(r) for r in out.itertuples()]
    return out


def _verdict(r: Any) -> str:
    if not getattr(r, "primary", False) or not np.isfinite(getattr(r, "p_holm", np.nan)):
        lo, hi = getattr(r, "rho_low", np.nan), getattr(r, "rho_high", np.nan)
        if not np.isfinite(lo):
            return "not measured"
        return ("interval excludes 0" if lo > 0 or hi < 0 else "interval holds 0")
    if r.p_holm >= 0.05:
        return "does not predict"
    s = r.expected_sign
    if r.measure == "size":
        return "predicts (baseline)"
    if (s > 0 and r.partial_low > 0) or (s < 0 and r.partial_high < 0):
        return "predicts (pending the held-out design)"
    return "explained by size or label noise"


def _spearman_at(rows: np.ndarray, *, x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.spearmanr(x[rows], y[rows])[0])


def analyse_by_condition(table: pd.DataFrame, measures: dict[str, int] | None = None, *,
                         gain: str = "gain_both", n_boot: int = 2000, min_datasets: int = 8,
                         rng: RNGLike = None) -> pd.DataFrame:
    """The pre-registration's leave-one-condition-out reading: for each measure and each
    generation condition, Spearman's correlation with the gain over the datasets in which
    that condition is the largest share (``main_condition``), with its bootstrap
    interval, and whether it has the direction fixed beforehand.

    No threshold, sign or combination is chosen on any of these subsets (the directions
    are the pre-registered ones), so each condition's datasets are an out-of-sample check
    of the measure. A last row per measure (``condition = "all conditions"``) counts the
    conditions whose correlation has the expected sign and gives the one-sided sign-test
    p-value of that count (each condition a fair coin under no relation). Conditions
    with fewer than ``min_datasets`` datasets are left out. ``measures`` maps a column to
    its expected sign (default: the pre-registered primary measures, :data:`PRIMARY`).
    """
    root = seed_sequence(rng)
    rows = []
    for i, (name, sign) in enumerate((PRIMARY if measures is None else measures).items()):
        if name not in table:
            continue
        agree, total = 0, 0
        for j, (cond, sub) in enumerate(sorted(table.groupby("main_condition"),
                                               key=lambda kv: str(kv[0]))):
            sub = sub[[name, gain]].dropna()
            x, y = sub[name].to_numpy(float), sub[gain].to_numpy(float)
            if x.shape[0] < min_datasets or np.ptp(x) == 0 or np.ptp(y) == 0:
                continue
            rho = float(stats.spearmanr(x, y)[0])
            lo, hi = _bootstrap(partial(_spearman_at, x=x, y=y), x.shape[0], n_boot,
                                child_generator(root, i, j))
            total += 1
            agree += int(np.sign(rho) == sign)
            rows.append({"measure": name, "condition": str(cond), "n": x.shape[0],
                         "rho": rho, "rho_low": lo, "rho_high": hi, "expected_sign": sign,
                         "agrees": bool(np.sign(rho) == sign)})
        if total:
            p = float(stats.binomtest(agree, total, 0.5, alternative="greater").pvalue)
            rows.append({"measure": name, "condition": "all conditions", "n": total,
                         "agrees": agree, "sign_test_p": p, "expected_sign": sign})
    return pd.DataFrame(rows)


# --- the run --------------------------------------------------------------------------


@dataclass
class MixData:
    """What every dataset's evaluation shares: per-text embeddings and model quantities,
    the fixed anchors, reference and test samples."""

    vec: dict[str, np.ndarray]
    anchors: np.ndarray
    anchor_labels: np.ndarray
    reference: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray
    lm: dict[str, tuple[float, np.ndarray]] | None
    lm_reference: np.ndarray | None
    classes: list[str]
    texts: dict[str, list[str]] | None = None


def _lookup(vec: dict[str, np.ndarray], texts: Sequence[str]) -> np.ndarray:
    return np.asarray([vec[t] for t in texts], dtype=np.float64)


def label_measures(xa: np.ndarray, ya: np.ndarray, xs: np.ndarray, ys: np.ndarray, *,
                   rng: RNGLike = None) -> dict[str, float]:
    """The two label measures of Study 4 for one synthetic dataset: ``label_agreement``
    (the share of synthetic labels a classifier of the anchors agrees with) and
    ``label_issue_rate`` (the share of synthetic rows cleanlab flags, cross-fitted on
    anchors and synthetic rows together, seeded by ``rng``)."""
    from ..audit import label_issues, probe

    flags = label_issues(np.concatenate([xa, xs]), np.concatenate([ya, ys]), rng=rng)
    return {"label_agreement": probe(xa, ya, xs, ys, xs, ys)["accuracy_anchor"].value,
            "label_issue_rate": float(flags[xa.shape[0]:].mean())}


def _mix_task(item: tuple[Mixture, np.random.SeedSequence, MixData]) -> dict[str, Any]:
    """One dataset: the probe's gain and every measure."""
    from ..audit import probe, vendi_score
    from ._measures import downstream_gain, study_measures

    mix, seed, data = item
    xs = _lookup(data.vec, mix.texts)
    ys = np.asarray(mix.labels).astype(str)
    xa, ya = data.anchors, data.anchor_labels
    row: dict[str, Any] = {**mix.params}
    row.update(downstream_gain(xa, ya, xs, ys, data.test, data.test_labels))
    row.update(study_measures(xa, xs, data.reference, mix.anchors,
                              rng=child_seed(seed, "measures")))
    row.update(label_measures(xa, ya, xs, ys, rng=child_seed(seed, "label_issues")))
    # a classifier of the synthetic rows scored on the anchors
    row["tstr_accuracy"] = probe(xa, ya, xs, ys, xa, ya)["accuracy_synthetic"].value
    if data.texts is not None:  # the audit's null-calibrated values (minutes per dataset)
        from ._llm import audit_measures

        row.update(audit_measures(xa, xs, data.reference, {**data.texts, "synthetic":
                                  list(mix.texts)}, mix.anchors,
                                  rng=child_seed(seed, "audit")))
    if data.lm is not None and data.lm_reference is not None:
        sk = np.asarray([data.lm[t][1] for t in mix.texts])
        row["lm_g_vendi"] = vendi_score(sk, rng=child_seed(seed, "g_vendi")).value
        m_s, m_r = sk.mean(axis=0), data.lm_reference.mean(axis=0)
        row["lm_alignment"] = float(m_s @ m_r / (np.linalg.norm(m_s) * np.linalg.norm(m_r)))
        row["lm_loss"] = float(np.mean([data.lm[t][0] for t in mix.texts]))
    return row


@dataclass
class MixSetup:
    """One design of Study 4: the pool, the TREC split, the regime's anchors and the
    drawn datasets (``root`` seeds everything drawn after them)."""

    pool: Pool
    split: Any
    regime: str
    anchor_rows: np.ndarray
    anchor_texts: list[str]
    anchor_labels: np.ndarray
    mixes: list[Mixture]
    root: np.random.SeedSequence


def mix_design(pool_path: str | Path, *, regime: str = "few-shot", design_seed: int = 0,
               n_datasets: int = 200, seed: int = 0, quick: bool = False) -> MixSetup:
    """The anchors and datasets of a design: the same for every caller given the seeds
    (Study 4's measures and its LoRA check read the same datasets)."""
    from ._llm import quick_sizes
    from ._trec import load_trec_split

    regime = check_choice(regime, "regime", tuple(REGIMES))
    pool = load_pool(pool_path)
    sizes = quick_sizes(quick)
    split = load_trec_split(rng=child_seed(seed_sequence(seed), "data"),
                            max_reference=sizes["max_reference"], max_test=sizes["max_test"])
    root = child_seed(seed_sequence(design_seed), "mix")
    pick = regime_anchors(split.labels["anchor"], pool, regime, root)
    a_texts = [split.texts["anchor"][i] for i in pick]
    a_labels = np.asarray(split.labels["anchor"][pick]).astype(str)
    design = MixDesign(n_datasets=n_datasets, **({"max_rows": 120} if quick else {}))
    mixes = draw_mixtures(pool, a_texts, a_labels, pick, design, split.classes, root)
    return MixSetup(pool, split, regime, pick, a_texts, a_labels, mixes, root)


def run_mix_study(pool_path: str | Path, *, regime: str = "few-shot", design_seed: int = 0,
                  n_datasets: int = 200, seed: int = 0, model: str = "minilm",
                  lm: bool = True, jobs: int = 1, cache_dir: str | Path | None = None,
                  quick: bool = False, backend: str = "local", audit: bool = False,
                  progress: Callable[[int, int], None] | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Study 4 (docs/study.md): the design's datasets, their gains and measures, and the
    pre-registered analysis. Returns ``(table, analysis, settings)``.

    ``seed`` is the LLM study's seed whose TREC split the pool's provenance indexes (0 for
    the recorded pool); ``design_seed`` draws the anchors and the datasets. ``audit``
    adds the audit's null-calibrated values (``run_audit`` per dataset, the reference
    sample as the target: about 5 s per dataset more)."""
    import time

    from ..experiments.backends import get_backend, map_ordered
    from ._measures import STUDY_MEASURES
    from ._text import fit_text_embedder

    t0 = time.perf_counter()
    d = mix_design(pool_path, regime=regime, design_seed=design_seed,
                   n_datasets=n_datasets, seed=seed, quick=quick)
    pool, split, pick, a_texts, a_labels, mixes, root = (
        d.pool, d.split, d.anchor_rows, d.anchor_texts, d.anchor_labels, d.mixes, d.root)
    regime = d.regime
    where = None if cache_dir is None else Path(cache_dir)
    texts = sorted({t for m in mixes for t in m.texts} | set(a_texts))
    fixed = split.texts["reference"] + split.texts["test"]
    embed = fit_text_embedder(split.texts["anchor"] + split.texts["reference"], model=model,
                              cache_dir=None if where is None else where / "embeddings")
    vecs = embed(texts + fixed)
    vec = dict(zip(texts, vecs[: len(texts)], strict=True))
    n_ref = len(split.texts["reference"])
    lm_vals, lm_ref = None, None
    if lm:
        from ..lm import score_texts

        ref_pick = child_generator(root, "lm_reference").permutation(n_ref)[:400]
        ref_texts = [split.texts["reference"][i] for i in sorted(ref_pick)]
        lm_dir = None if where is None else where / "lm"
        sc = score_texts(texts + ref_texts, cache_dir=lm_dir, threads=max(1, jobs))
        lm_vals = {t: (float(sc.loss[i]), sc.sketch[i])  # type: ignore[index]
                   for i, t in enumerate(texts)}
        lm_ref = np.asarray(sc.sketch)[len(texts):]
    data = MixData(vec, _lookup(vec, a_texts), a_labels, vecs[len(texts):][:n_ref],
                   vecs[len(texts):][n_ref:], np.asarray(split.labels["test"]).astype(str),
                   lm_vals, lm_ref, list(split.classes),
                   {"anchor": a_texts, "reference": list(split.texts["reference"])}
                   if audit else None)
    seeds = [child_seed(root, "evaluate", i) for i in range(len(mixes))]
    with get_backend(backend, jobs=jobs) as ex:
        shared = ex.broadcast(data)
        rows = map_ordered(ex, _mix_task, [(m, s, shared) for m, s in zip(
            mixes, seeds, strict=True)], progress=progress)
    table = pd.DataFrame(rows)
    table.insert(0, "dataset", range(len(rows)))
    from ._llm import AUDIT_MEASURES

    measures = {**STUDY_MEASURES, **MIX_MEASURES,
                **{k: (d, sg) for k, (_, d, sg) in AUDIT_MEASURES.items()}}
    analysis = analyse_mix(table, measures, rng=child_seed(root, "bootstrap"))
    settings = {"regime": regime, "design_seed": design_seed, "n_datasets": n_datasets,
                "seed": seed, "model": model, "lm": lm, "anchors": int(pick.size),
                "pool_rows": len(pool.questions), "quick": quick, "audit": audit,
                "seconds": round(time.perf_counter() - t0, 1)}
    return table, analysis, settings



def replicate(main: pd.DataFrame, held_out: pd.DataFrame) -> pd.DataFrame:
    """The pre-registration's third condition: ``main``'s analysis with the held-out
    design's Spearman interval beside it, and the final verdict (a measure that predicts
    on the main design predicts when the held-out interval excludes 0 in its direction,
    else it is "not replicated")."""
    cols = ["measure", "rho", "rho_low", "rho_high"]
    other = held_out[[c for c in cols if c in held_out]].rename(
        columns={c: f"held_out_{c}" for c in cols[1:]})
    out = main.merge(other, on="measure", how="left")
    final = []
    for r in out.to_dict("records"):
        v = str(r.get("verdict", ""))
        if v.startswith("predicts (pending"):
            lo, hi = r.get("held_out_rho_low", np.nan), r.get("held_out_rho_high", np.nan)
            ok = (lo > 0) if r["expected_sign"] > 0 else (hi < 0)
            v = "predicts" if ok else "not replicated"
        final.append(v)
    out["final_verdict"] = final
    return out
