"""Run a study: every configuration x replicate in parallel, then summaries and correlations.

Task ``(c, r)`` (configuration ``c``, replicate ``r``) is seeded by
``child_seed(root, "tasks", c, r)``, the data split by ``child_seed(root, "data")`` and
the bootstrap by ``child_seed(root, "bootstrap")``, so every number is the same
whatever ``jobs`` is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, child_seed, seed_sequence
from .._validation import check_choice, check_int
from ..experiments.backends import get_backend, map_ordered
from ..experiments.provenance import claim_directory, write_bytes_atomic
from ..measures import rank_correlation, spearman_rows
from ._design import KNOBS, LLM_KNOBS, StudyConfig, one_at_a_time
from ._llm import AUDIT_MEASURES
from ._measures import GAINS, STUDY_MEASURES

__all__ = ["STUDIES", "StudyResult", "run_study", "study_configs"]

STUDIES = ("digits", "text", "llm")

_SWEEPS: dict[str, dict[str, list[Any]]] = {
    "digits": {"J": [0, 1, 2, 3, 4], "L": [0, 1, 2, 3, 5], "K": [1, 2, 3, 4, 5],
               "anchors_per_class": [2, 5, 10, 20], "noise": [0.0, 1.0, 2.0, 4.0, 8.0]},
    "text": {"generator": ["unigram", "markov1", "markov2"], "J": [0, 1, 2, 3, 4],
             "L": [0, 2, 4], "K": [1, 2, 3, 4], "anchors_per_class": [2, 5, 10],
             "noise": [0.0, 0.2, 0.5]},
    "llm": {"K": [1, 2, 3, 4], "J": [0, 1, 2], "off_task": [0.0, 0.25, 0.5],
            "demos": [1, 3, 6], "temperature": [0.3, 0.7, 1.2], "curation": ["none", "filter"],
            "noise": [0.0, 0.2, 0.4]},
}
_DEFAULTS = {"digits": StudyConfig(K=3, J=2, L=2, anchors_per_class=5, noise=0.0,
                                   per_class=40, generator="gmm"),
             "text": StudyConfig(K=2, J=2, L=2, anchors_per_class=5, noise=0.0,
                                 per_class=40, generator="markov2"),
             "llm": StudyConfig(K=3, J=1, L=0, anchors_per_class=8, noise=0.0, per_class=50,
                                generator="smollm2", off_task=0.0, demos=3, temperature=0.7,
                                curation="none")}
_REPS = {("digits", True): 3, ("digits", False): 20, ("text", True): 2, ("text", False): 10,
         ("llm", True): 1, ("llm", False): 3}
#: the LLM study's quick run: these configurations (default first), 12 questions per class
_LLM_QUICK = (("default", None), ("J", 0), ("off_task", 0.5), ("temperature", 1.2))
_LLM_QUICK_PER_CLASS = 12


def study_configs(name: str) -> list[StudyConfig]:
    """The one-knob-at-a-time configurations of study ``name``."""
    name = check_choice(name, "name", STUDIES)
    return one_at_a_time(_DEFAULTS[name], _SWEEPS[name])


def _llm_quick_configs() -> list[StudyConfig]:
    """The quick LLM run's four configurations, at 12 questions per class."""
    picked = [c for c in study_configs("llm")
              if (c.knob, None if c.knob == "default" else getattr(c, c.knob)) in _LLM_QUICK]
    return [replace(c, per_class=_LLM_QUICK_PER_CLASS) for c in picked]


@dataclass
class StudyResult:
    """Per-replicate rows, per-configuration summaries and rank correlations.

    Attributes
    ----------
    replicates : DataFrame
        One row per (configuration, replicate): knobs, accuracies, gains and measures.
    summary : DataFrame
        One row per configuration: knobs, ``mean_*`` and ``se_*`` (standard error over
        replicates) of every gain and measure.
    correlations : DataFrame
        One row per (gain, measure): ``rho``, bootstrap ``low``/``high``, ``p_value``,
        ``expected_sign`` and ``verdict`` ("predicts", "opposite" or "no evidence").
    """

    name: str
    replicates: pd.DataFrame
    summary: pd.DataFrame
    correlations: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def by_knob(self) -> pd.DataFrame:
        """Spearman rho of each measure with ``gain_both`` within each knob's sweep.

        The sweep's points are the default and the knob's other values (3 to 6 points, so
        no interval): whether a measure moves with the gain when only that knob moves.
        """
        s = self.summary
        rows = []
        for knob in dict.fromkeys(s["knob"]):
            if knob == "default":
                continue
            part = s[s["knob"].isin(["default", knob])]
            for m in _measures(c[len("mean_"):] for c in s.columns if c.startswith("mean_")):
                x, y = part[f"mean_{m}"].to_numpy(), part["mean_gain_both"].to_numpy()
                ok = np.isfinite(x) & np.isfinite(y)
                rho = (float(spearman_rows(x[ok][None], y[ok][None])[0]) if ok.sum() >= 3
                       else float("nan"))
                rows.append({"knob": knob, "measure": m, "n_points": int(ok.sum()),
                             "rho": rho})
        return pd.DataFrame(rows)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the CSV tables and ``study.json`` into ``out_dir``; return their paths.

        The figures are drawn by :func:`synthgain.plots.write_study_figures`.
        """
        keys = ("replicates", "summary", "correlations", "by_knob")
        names = {**{k: f"{self.name}_{k}.csv" for k in keys}, "json": f"{self.name}_study.json",
                 **({"synthetic": f"{self.name}_synthetic.jsonl"} if self.records else {})}
        out = claim_directory(out_dir, check=list(names.values()))
        paths = {k: out / name for k, name in names.items()}
        for key in keys:
            write_bytes_atomic(paths[key], getattr(self, key).to_csv(index=False).encode())
        doc = {"study": self.name, "settings": self.settings,
               "correlations": self.correlations.to_dict(orient="records")}
        write_bytes_atomic(paths["json"], (json.dumps(doc, indent=2, default=_json_default)
                                           + "\n").encode("utf-8"))
        if self.records:
            lines = (json.dumps(r, default=_json_default, ensure_ascii=False) + "\n"
                     for r in self.records)
            write_bytes_atomic(paths["synthetic"], "".join(lines).encode("utf-8"))
        return paths


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _verdict(rho: float, lo: float, hi: float, sign: int) -> str:
    if not np.isfinite(lo) or lo <= 0 <= hi:
        return "no evidence"
    return "predicts" if np.sign(rho) == sign else "opposite"


def _measures(columns: Iterable[str]) -> dict[str, tuple[str, int]]:
    """The measures of a study's tables, name -> (description, expected sign):
    :data:`STUDY_MEASURES`, then the audit's (:data:`AUDIT_MEASURES`, the LLM study's)
    among ``columns``."""
    present = set(columns)
    return {**STUDY_MEASURES, **{m: (desc, sign) for m, (_, desc, sign) in
                                 AUDIT_MEASURES.items() if m in present}}


def summarize(replicates: pd.DataFrame, rng: RNGLike = None, n_boot: int = 2000
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-configuration means and standard errors; rank correlations with the gains.

    The bootstrap of (gain ``g``, measure ``m``), the ``i``-th pair in
    ``GAINS x STUDY_MEASURES`` order, draws from ``child_seed(rng, i)``.
    """
    measures = _measures(replicates.columns)
    values = [*GAINS, "accuracy_anchor", "accuracy_synthetic", "accuracy_both", *measures]
    grouped = replicates.groupby("config_id", sort=True)
    extra = [k for k in LLM_KNOBS if k in replicates.columns]
    knobs = grouped[["knob", "generator", *KNOBS, *extra]].first()
    mean = grouped[values].mean().add_prefix("mean_")
    counts = np.sqrt(grouped.size().to_numpy(dtype=float))[:, None]
    se = grouped[values].std(ddof=1).div(counts).add_prefix("se_")
    summary = pd.concat([knobs, mean, se], axis=1).reset_index()
    summary.insert(1, "n_replicates", grouped.size().to_numpy())
    rows = []
    root = seed_sequence(rng)
    for i, (gain, measure) in enumerate((g, m) for g in GAINS for m in measures):
        est = rank_correlation(summary[f"mean_{measure}"], summary[f"mean_{gain}"],
                               n_bootstrap=n_boot, nan_policy="omit", rng=child_seed(root, i))
        lo, hi = est.interval if est.interval is not None else (np.nan, np.nan)
        sign = measures[measure][1]
        rows.append({"gain": gain, "measure": measure, "rho": est.value, "low": lo,
                     "high": hi, "p_value": est.params.get("p_value", np.nan),
                     "n_configs": est.n[0], "expected_sign": sign,
                     "verdict": _verdict(est.value, lo, hi, sign),
                     "description": measures[measure][0]})
    return summary, pd.DataFrame(rows)


def _digits_task(config: StudyConfig, seed: np.random.SeedSequence, data: Any
                 ) -> dict[str, Any]:
    from ._digits import digits_replicate

    return digits_replicate(config, data, seed)


def _text_task(config: StudyConfig, seed: np.random.SeedSequence, data: Any
               ) -> dict[str, Any]:
    from ._text import text_draw, text_score

    split, embed = data
    return text_score(text_draw(config, split, seed), split, embed)


def _llm_task(config: StudyConfig, seed: np.random.SeedSequence, data: Any
              ) -> dict[str, Any]:
    from ._llm import llm_task

    return llm_task(config, seed, data)


def _classes(data: Any) -> list[Any]:
    """The classes of a study's data: a DigitsSplit, (TextSplit, embedder) or LLMData."""
    split = data[0] if isinstance(data, tuple) else data
    return list(split.classes)


def _prepare_llm(seed: np.random.SeedSequence, model: str, quick: bool, generator: Any,
                 cache_dir: str | Path | None, questions: Any, audit: bool) -> Any:
    """The LLM study's shared data: the TREC split, the embeddings of its anchor
    candidates, reference and test questions (computed once), the generator."""
    from ._generator import ReplayGenerator, SmolLMGenerator
    from ._llm import LLMData, quick_sizes
    from ._text import fit_text_embedder
    from ._trec import load_trec_split

    gen = SmolLMGenerator() if generator is None else generator
    split = load_trec_split(lines=questions, rng=seed, **quick_sizes(quick))
    where = None if cache_dir is None else Path(cache_dir)
    emb_dir = None if where is None else where / "embeddings"
    fixed = split.texts["anchor"] + split.texts["reference"]
    main = fit_text_embedder(fixed, model=model, cache_dir=emb_dir)
    parts = ("anchor", "reference", "test")
    sizes = np.cumsum([len(split.texts[p]) for p in parts])[:-1]
    embeddings = dict(zip(parts, np.split(main([t for p in parts for t in split.texts[p]]), sizes),
                          strict=True))
    # tasks embed their synthetic questions on one torch thread each (one task per core)
    task_embed = main if model == "lsa" else fit_text_embedder(fixed, model=model,
                                                               cache_dir=emb_dir, jobs=1)
    # a replay already holds every generation on disk: nothing to cache
    replay = isinstance(gen, ReplayGenerator)
    return LLMData(split, embeddings, task_embed, gen,
                   None if where is None or replay else where / "generations", audit=audit)


def _prepare(name: str, seed: np.random.SeedSequence, model: str
             ) -> tuple[Any, Callable[..., dict[str, Any]]]:
    if name == "digits":
        from ._digits import load_digits_split

        return load_digits_split(seed), _digits_task
    from ._text import fit_text_embedder, load_quotes_split

    split = load_quotes_split(rng=seed)
    return (split, fit_text_embedder(split.texts["pool"], model=model)), _text_task


def run_study(
    name: str,
    *,
    quick: bool = False,
    rng: RNGLike = None,
    jobs: int = 1,
    n_replicates: int | None = None,
    configs: list[StudyConfig] | None = None,
    model: str | None = None,
    n_boot: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    generator: Any = None,
    cache_dir: str | Path | None = None,
    questions: Any = None,
    audit: bool = True,
) -> StudyResult:
    """Run study ``"digits"``, ``"text"`` or ``"llm"``: every configuration, replicated.

    Parameters
    ----------
    name : {"digits", "text", "llm"}
    quick : bool
        Fewer replicates (digits 3, text 2, llm 1; full: 20, 10 and 3); for the text
        study 20 synthetic texts per class instead of 40; for the LLM study 4
        configurations at 12 questions per class, and at most 40 reference and 60 test
        questions per class.
    rng : None, int, SeedSequence or Generator
        Root seed: the data split, then task ``(c, r)``; ``rng=s`` equals
        ``rng=SeedSequence(s)``. None: fresh entropy (the CLI passes ``--seed``, default 0).
    jobs : int
        Worker processes (joblib); results do not depend on it.
    n_replicates, configs
        Override the replicates per configuration and the configurations.
    model : {"lsa", "minilm"}, optional
        Text embedding (text and LLM studies; default ``"lsa"`` for text, ``"minilm"``
        for the LLM study).
    backend : {"local", "dask"}
        Where the tasks run (:func:`synthgain.experiments.backends.get_backend`);
        ``scheduler`` is a Dask scheduler's address.
    generator : TextGenerator, optional
        LLM study: the generator (default: :class:`SmolLMGenerator`, the installed
        SmolLM2-135M-Instruct; the tests pass :class:`StubGenerator`).
    cache_dir : path, optional
        LLM study: generations (``generations/``, content-addressed, so a rerun or a
        resumed run reads them) and embeddings (``embeddings/``) are cached here.
    questions : iterable of str, optional
        LLM study: TREC-format lines in place of the packaged TREC file.
    audit : bool, default True
        LLM study: also rank configurations by the audit's null-calibrated measures
        (:data:`synthgain.study.AUDIT_MEASURES`, one :func:`synthgain.audit.run_audit`
        per replicate); False leaves them out (faster; the tests of the cache do).

    Returns
    -------
    StudyResult
    """
    name = check_choice(name, "name", STUDIES)
    jobs = check_int(jobs, "jobs", low=1)
    reps = check_int(_REPS[name, bool(quick)] if n_replicates is None else n_replicates,
                     "n_replicates", low=1)
    cfgs = study_configs(name) if configs is None else list(configs)
    if quick and name == "text" and configs is None:
        cfgs = [replace(c, per_class=20) for c in cfgs]
    if quick and name == "llm" and configs is None:
        cfgs = _llm_quick_configs()
    model = check_choice(model if model is not None else "minilm" if name == "llm" else "lsa",
                         "model", ("lsa", "minilm"))
    root = seed_sequence(rng)
    s_data, s_boot = child_seed(root, "data"), child_seed(root, "bootstrap")
    t0 = time.perf_counter()
    if name == "llm":
        data: Any = _prepare_llm(s_data, model, bool(quick), generator, cache_dir, questions,
                                 bool(audit))
        task: Callable[..., dict[str, Any]] = _llm_task
    else:
        data, task = _prepare(name, s_data, model)
    n_classes = len(_classes(data))
    for c in cfgs:
        c.validate(n_classes)
    jobs_list = [(i, r) for i in range(len(cfgs)) for r in range(reps)]
    # the LLM study draws replicate r of every configuration from one seed (common random
    # numbers): configurations that differ only after generation (curation, label noise)
    # reuse the same generations from the cache, and every knob is compared on paired draws
    items = [(cfgs[i], child_seed(root, "tasks", r) if name == "llm"
              else child_seed(root, "tasks", i, r)) for i, r in jobs_list]
    rows = _map(task, items, data, jobs, progress, backend, scheduler)
    records = [{"config_id": i, "replicate": r, "knob": cfgs[i].knob,
                "knob_value": None if cfgs[i].knob == "default" else getattr(cfgs[i], cfgs[i].knob),
                **rec}
               for (i, r), row in zip(jobs_list, rows, strict=True)
               for rec in row.pop("_records", [])]
    table = pd.DataFrame([{"config_id": i, "replicate": r, **cfgs[i].to_dict(), **row}
                          for (i, r), row in zip(jobs_list, rows, strict=True)])
    summary, corr = summarize(table, s_boot, n_boot)
    settings = {"seed": rng if isinstance(rng, int) else None, "quick": bool(quick),
                "n_replicates": reps, "n_configs": len(cfgs), "jobs": jobs,
                "model": model if name != "digits" else None, "n_boot": n_boot,
                "backend": backend, "seconds": round(time.perf_counter() - t0, 1)}
    if name == "llm":
        settings["generator"] = data.generator.fingerprint()
    return StudyResult(name, table, summary, corr, settings, records)


def _run_task(task: Callable[..., dict[str, Any]],
              item: tuple[StudyConfig, np.random.SeedSequence, Any]) -> dict[str, Any]:
    return task(item[0], item[1], item[2])


def _map(task: Callable[..., dict[str, Any]], items: list[tuple[StudyConfig,
         np.random.SeedSequence]], data: Any, jobs: int,
         progress: Callable[[int, int], None] | None, backend: str = "local",
         scheduler: str | None = None) -> list[dict[str, Any]]:
    """Run every (configuration, seed) task, in order, on one of the experiments
    engine's backends (``jobs`` processes or workers, BLAS pinned to one thread per task)."""
    with get_backend(backend, jobs=jobs, scheduler=scheduler) as pool:
        shared = pool.broadcast(data)  # a cluster resolves it inside each item
        return map_ordered(pool, partial(_run_task, task),
                           [(config, seed, shared) for config, seed in items], progress=progress)
