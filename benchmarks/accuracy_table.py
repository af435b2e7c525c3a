"""Bias and RMSE of every estimator in synthgain.measures against the exact value.

Writes docs/estimators.md. Run from the repository root:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy_table.py

Every replicate is seeded from (root seed, case, replicate), so the page is reproducible.
Truth is the closed form (Gaussians, uniforms) or numerical integration on a fine grid
(two-component mixtures in 1-D and 2-D).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgain.measures import (
    Gaussian,
    entropy,
    js_divergence,
    kl_divergence,
    label_mutual_information,
    mutual_information,
    total_variation,
)
from synthgain.mixture import GaussianMixture

ROOT_SEED = 20250101
OUT = Path(__file__).resolve().parents[1] / "docs" / "estimators.md"


@dataclass
class Row:
    quantity: str
    method: str
    case: str
    d: int
    n: str
    reps: int
    truth: float
    bias: float
    rmse: float
    se_ratio: float | None  # empirical sd / mean reported stderr


def replicate(fn: Callable[[np.random.Generator], tuple[float, float | None]], reps: int,
              key: int) -> tuple[np.ndarray, np.ndarray]:
    seeds = np.random.SeedSequence([ROOT_SEED, key]).spawn(reps)
    vals, ses = [], []
    for s in seeds:
        v, se = fn(np.random.default_rng(s))
        vals.append(v)
        ses.append(np.nan if se is None else se)
    return np.array(vals), np.array(ses)


def summary_row(quantity: str, method: str, case: str, d: int, n: str, truth: float,
              vals: np.ndarray, ses: np.ndarray) -> Row:
    err = vals - truth
    ratio = None
    if len(vals) > 2 and np.all(np.isfinite(ses)) and ses.mean() > 0:
        ratio = float(vals.std(ddof=1) / ses.mean())
    return Row(quantity, method, case, d, n, len(vals), truth, float(err.mean()),
               float(np.sqrt(np.mean(err**2))), ratio)


# --- cases -----------------------------------------------------------------------------
def gaussian_pair(d: int) -> tuple[Gaussian, Gaussian]:
    rng = np.random.default_rng(d)
    a = rng.standard_normal((d, d)) / math.sqrt(d)
    p = Gaussian(np.zeros(d), a @ a.T + np.eye(d))
    shift = np.zeros(d)
    shift[0] = 1.0
    return p, Gaussian(shift, 1.5 * np.eye(d))


def mixtures(d: int) -> tuple[GaussianMixture, GaussianMixture]:
    if d == 1:
        return (GaussianMixture([0.5, 0.5], [[0.0], [3.0]], [[[1.0]], [[1.0]]]),
                GaussianMixture([0.3, 0.7], [[0.5], [2.0]], [[[1.0]], [[2.0]]]))
    return (GaussianMixture([0.5, 0.5], [[0.0, 0.0], [3.0, 1.0]],
                            [np.eye(2), [[1.0, 0.5], [0.5, 1.0]]]),
            GaussianMixture([0.3, 0.7], [[0.5, 0.0], [2.0, 2.0]], [np.eye(2), 2.0 * np.eye(2)]))


def mixture_truth(f: GaussianMixture, g: GaussianMixture) -> dict[str, float]:
    """KL, entropy, JS and TV by the trapezoid rule on a grid covering the mass."""
    if f.dim == 1:
        x = np.linspace(-15, 18, 400_001)
        pts, w = x[:, None], np.full(x.size, x[1] - x[0])
    else:
        x = np.linspace(-10, 13, 1201)
        xx, yy = np.meshgrid(x, x, indexing="ij")
        pts, w = np.column_stack([xx.ravel(), yy.ravel()]), np.full(xx.size, (x[1] - x[0]) ** 2)
    lf, lg = f.logpdf(pts), g.logpdf(pts)
    pf, pg = np.exp(lf), np.exp(lg)
    lm = np.logaddexp(lf, lg) - math.log(2)
    return {
        "kl": float(np.sum(w * pf * (lf - lg))),
        "entropy": float(np.sum(w * -pf * lf)),
        "js": float(np.sum(w * (0.5 * pf * (lf - lm) + 0.5 * pg * (lg - lm)))),
        "tv": float(np.sum(w * 0.5 * np.abs(pf - pg))),
        "label_mi": float(np.sum(w * -pf * lf)) - float(
            f.weights @ (0.5 * (f.dim * math.log(2 * math.pi * math.e)
                                + np.linalg.slogdet(f.covariances)[1]))),
    }


def est(fn: Callable[..., object]) -> Callable[..., tuple[float, float | None]]:
    def run(*args: object, **kw: object) -> tuple[float, float | None]:
        e = fn(*args, **kw)
        return float(e.value), e.stderr  # type: ignore[attr-defined]
    return run


def reps_for(n: int, d: int, quick: bool) -> int:
    r = 20 if n <= 1000 else 5
    if d >= 50:
        r = min(r, 5)
    return max(3, r // 4) if quick else r


def sample_rows(quick: bool) -> list[Row]:
    rows: list[Row] = []
    key = 0
    ns = [100, 1000, 10_000]
    for d in [1, 2, 10, 50]:
        p, q = gaussian_pair(d)
        h_true, kl_true = float(entropy(p)), float(kl_divergence(p, q))
        for n in ns:
            if d == 50 and n == 100:
                continue
            r = reps_for(n, d, quick)
            key += 1
            v, s = replicate(lambda g, n=n, p=p: est(entropy)(p.sample(n, rng=g), k=3), r, key)
            rows.append(summary_row("entropy", "kozachenko_leonenko k=3", "Gaussian", d, f"{n}",
                                  h_true, v, s))
            if d <= 2:
                key += 1
                v, s = replicate(lambda g, n=n, p=p: est(entropy)(p.sample(n, rng=g),
                                                                  method="histogram"), r, key)
                rows.append(summary_row("entropy", "histogram (auto bins)", "Gaussian", d, f"{n}",
                                      h_true, v, s))
            for ratio in ([0.25, 1.0, 4.0] if n == 1000 else [1.0]):
                m = int(n / ratio)
                key += 1
                v, s = replicate(
                    lambda g, n=n, m=m, p=p, q=q: est(kl_divergence)(
                        p.sample(n, rng=g), q.sample(m, rng=g), k=1), r, key)
                rows.append(summary_row("KL", "wang_kulkarni_verdu k=1", "Gaussian pair", d,
                                      f"{n}/{m}", kl_true, v, s))
            if d <= 2:
                key += 1
                v, s = replicate(
                    lambda g, n=n, p=p, q=q: est(kl_divergence)(
                        p.sample(n, rng=g), q.sample(n, rng=g), method="histogram"), r, key)
                rows.append(summary_row("KL", "histogram (auto bins, alpha=0.5)", "Gaussian pair",
                                      d, f"{n}/{n}", kl_true, v, s))
    # same distribution, unequal sizes: the case other libraries get wrong
    for n, m in [(4000, 1000), (1000, 4000)]:
        key += 1
        v, s = replicate(lambda g, n=n, m=m: est(kl_divergence)(
            g.standard_normal((n, 2)), g.standard_normal((m, 2)), k=1), reps_for(4000, 2, quick), key)
        rows.append(summary_row("KL", "wang_kulkarni_verdu k=1", "p = q = N(0, I)", 2, f"{n}/{m}",
                              0.0, v, s))
    # correlated Gaussian mutual information
    for rho in [0.5, 0.9]:
        g2 = Gaussian([0, 0], [[1, rho], [rho, 1]])
        truth = float(mutual_information(g2, [1]))
        for n in ns:
            for meth in ["ksg1", "ksg2", "histogram"]:
                key += 1

                def run(g: np.random.Generator, n: int = n, meth: str = meth,
                        g2: Gaussian = g2) -> tuple[float, float | None]:
                    z = g2.sample(n, rng=g)
                    return est(mutual_information)(z[:, :1], z[:, 1:], method=meth)

                v, s = replicate(run, reps_for(n, 2, quick), key)
                rows.append(summary_row("MI", meth, f"Gaussian rho={rho}", 2, f"{n}", truth, v, s))
    # uniform on the unit cube: H = 0; KL(U[0,1]^d || U[0,2]^d) = d log 2
    for d in [1, 2, 10]:
        for n in [1000, 10_000]:
            r = reps_for(n, d, quick)
            key += 1
            v, s = replicate(lambda g, n=n, d=d: est(entropy)(g.random((n, d)), k=3), r, key)
            rows.append(summary_row("entropy", "kozachenko_leonenko k=3", "uniform [0,1]^d", d,
                                  f"{n}", 0.0, v, s))
            key += 1
            v, s = replicate(lambda g, n=n, d=d: est(kl_divergence)(
                g.random((n, d)), 2 * g.random((n, d)), k=1), r, key)
            rows.append(summary_row("KL", "wang_kulkarni_verdu k=1", "U[0,1]^d vs U[0,2]^d", d,
                                  f"{n}/{n}", d * math.log(2), v, s))
    # 1-D Gaussians: TV and JS from samples
    f1, g1 = Gaussian(0.0, 1.0), Gaussian(1.0, 1.0)
    tv1 = float(total_variation(f1, g1))
    js1 = js_divergence(f1, g1, n_samples=400_000, rng=0).value
    for n in ns:
        r = reps_for(n, 1, quick)
        for name, fn, truth in [("TV", total_variation, tv1), ("JS", js_divergence, js1)]:
            for meth in ["knn_ratio", "histogram"]:
                key += 1
                v, s = replicate(lambda g, n=n, fn=fn, meth=meth: est(fn)(
                    f1.sample(n, rng=g), g1.sample(n, rng=g), method=meth), r, key)
                label = "knn_ratio k=auto" if meth == "knn_ratio" else "histogram (auto bins)"
                rows.append(summary_row(name, label, "N(0,1) vs N(1,1)", 1, f"{n}/{n}", truth, v, s))
    return rows


def mixture_rows(quick: bool) -> list[Row]:
    rows: list[Row] = []
    key = 10_000
    for d in [1, 2]:
        f, g = mixtures(d)
        t = mixture_truth(f, g)
        case = "2-component mixtures"
        n_mc = 10_000
        r = 5 if quick else 20
        for q_name, fn, args, truth in [
            ("KL", kl_divergence, (f, g), t["kl"]),
            ("entropy", entropy, (f,), t["entropy"]),
            ("JS", js_divergence, (f, g), t["js"]),
            ("TV", total_variation, (f, g), t["tv"]),
            ("label MI", label_mutual_information, (f,), t["label_mi"]),
        ]:
            key += 1
            v, s = replicate(lambda gen, fn=fn, args=args, n_mc=n_mc: est(fn)(*args, n_samples=n_mc, rng=gen),
                             r, key)
            rows.append(summary_row(q_name, f"monte_carlo n_samples={n_mc}", case, d, "-", truth, v, s))
        for meth in ["hershey_olsen", "hershey_olsen_product", "durrieu"]:
            e = kl_divergence(f, g, method=meth)
            label = meth + (" (midpoint of bounds)" if meth == "durrieu" else "")
            rows.append(summary_row("KL", label, case, d, "-", t["kl"], np.array([e.value]),
                                  np.array([np.nan])))
        b = kl_divergence(f, g, method="durrieu")
        rows.append(Row("KL", f"durrieu bounds [{b.lower:.4f}, {b.upper:.4f}]", case, d, "-", 1,
                        t["kl"], math.nan, math.nan, None))
        eb = entropy(f, method="bounds")
        rows.append(Row("entropy", f"bounds [{eb.lower:.4f}, {eb.upper:.4f}]", case, d, "-", 1,
                        t["entropy"], math.nan, math.nan, None))
        for n in [1000, 10_000]:
            r = reps_for(n, d, quick)
            for q_name, fn, truth, kw in [
                ("KL", kl_divergence, t["kl"], {"k": 1}),
                ("JS", js_divergence, t["js"], {}),
                ("TV", total_variation, t["tv"], {}),
            ]:
                key += 1
                v, s = replicate(lambda gen, n=n, fn=fn, kw=kw, f=f, g=g: est(fn)(
                    f.sample(n, rng=gen)[0], g.sample(n, rng=gen)[0], **kw), r, key)
                name = {"KL": "wang_kulkarni_verdu k=1"}.get(q_name, "knn_ratio k=auto")
                rows.append(summary_row(q_name, name, case + " (samples)", d, f"{n}/{n}", truth, v, s))
    return rows


# --- output ------------------------------------------------------------------------------
def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def render(rows: list[Row], seconds: float, quick: bool) -> str:
    head = [
        "# Estimator accuracy",
        "",
        "Generated by `benchmarks/accuracy_table.py` (do not edit by hand); rerun with",
        "`OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy_table.py`.",
        f"Run: {'quick mode, ' if quick else ''}{seconds:.0f} s on {platform.machine()} "
        f"({platform.python_version()}), root seed {ROOT_SEED}.",
        "",
        "All values in nats. **bias** = mean(estimate - truth), **RMSE** = root mean squared",
        "error over **reps** independent replicates (20 for n <= 1000; 5 for n = 10000 and for",
        "d = 50, to keep the run to a few minutes). **sd/se** = empirical standard deviation of",
        "the estimates divided by the mean reported standard error: near 1 means the reported",
        "`stderr` is honest, above 1 that it understates the error. Deterministic methods",
        "(variational, bounds) have one replicate and RMSE = |bias|. `n` is the sample size,",
        "`n/m` the sizes of the p- and q-samples. Truth: closed forms for Gaussians and",
        "uniforms, the trapezoid rule on a fine grid for mixtures.",
        "",
        "Reading the table: kNN estimators are consistent but biased at small n and in high",
        "dimension (the d = 50 rows); the histogram estimators (labelled `histogram`, d <= 3",
        "only, bins shared between samples) carry a bin-width bias that does not vanish at",
        "fixed bins; the kNN ratio estimators of JS and TV are plug-ins whose bias is set by k.",
        "",
        "## How the estimators are chosen and what their errors mean",
        "",
        "- `method=\"auto\"`: the closed form where one exists (Gaussian entropy, KL, block",
        "  mutual information; TV between 1-D Gaussians or Gaussians with equal covariances),",
        "  Monte Carlo for mixtures (and for TV between other Gaussians, with bounds attached),",
        "  kNN for samples: Kozachenko-Leonenko entropy, Wang-Kulkarni-Verdu KL, KSG1 mutual",
        "  information, kNN density-ratio plug-ins for JS and TV (`k = max(5, ceil(sqrt(n)))`).",
        "- Monte Carlo `stderr` is the sample standard deviation over sqrt(n_samples); the",
        "  sd/se column shows it is honest. kNN `stderr` treats the per-point terms as",
        "  independent and the second sample as fixed: it is a guide, not a guarantee. In the",
        "  table sd/se is 0.6-2 in most kNN rows, up to 2.8 for KL when m < n, about 7 for the",
        "  uniform KL in d = 10 and up to 6 for the TV ratio estimator (whose per-point terms",
        "  share neighbours). With 5 replicates sd/se is itself only a rough figure.",
        "  `bias_correction=\"permutation\"` removes the bias at p = q (or under independence",
        "  for MI); the d = 50 rows show that in high dimension the bias is the main error.",
        "- Units: the kNN estimators of the scale-free quantities (KL, JS, TV, mutual",
        "  information) standardise each feature first by default (`standardize=None`, on",
        "  for the kNN methods: one pooled map for both samples of a divergence, x and y each",
        "  for MI), so rescaling a feature leaves them unchanged up to rounding;",
        "  `standardize=False` gives the raw coordinates. Entropy is not scale-free",
        "  (`H(cX) = H(X) + d log c`) and keeps the data's scale by default.",
        "- Ties: features with tied values are dequantised by uniform noise of their grid",
        "  step (`ties=\"jitter\"`, the default), or duplicated rows are removed",
        "  (`ties=\"remove\"`); `I(X; X)` of a discrete X is then its discrete entropy.",
        "- Neighbour search is exact (k-d tree for d <= 16, blocked float32 GEMM with a proven",
        "  rounding margin and float64 refinement above), so these errors are the estimators'",
        "  own, not the search's.",
        "",
        "## Table",
        "",
        "| quantity | method | case | d | n | reps | truth | bias | RMSE | sd/se |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    body = [
        f"| {r.quantity} | {r.method} | {r.case} | {r.d} | {r.n} | {r.reps} | {fmt(r.truth)} | "
        f"{fmt(r.bias)} | {fmt(r.rmse)} | {fmt(r.se_ratio, 2)} |"
        for r in rows
    ]
    return "\n".join(head + body) + "\n"


def kept_section(path: Path) -> str:
    """The calibration section of the page (written by benchmarks/calibration.py), kept."""
    start, end = "<!-- calibration:start -->", "<!-- calibration:end -->"
    old = path.read_text() if path.exists() else ""
    i, j = old.find(start), old.find(end)
    return "" if i < 0 or j < i else "\n" + old[i:j + len(end)] + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer replicates (smoke run)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = sample_rows(args.quick) + mixture_rows(args.quick)
    text = render(rows, time.perf_counter() - t0, args.quick)
    args.out.write_text(text + kept_section(args.out))
    print(f"wrote {args.out} ({len(rows)} rows, {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
