"""Random families of anchor and synthetic data with provenance, and their true
information quantities.

The calibration table (benchmarks/calibration.py) and the suite
(tests/audit/test_families.py) draw cases from these families to check the audit's
information measures on data nobody picked by hand: each case is a random member,
drawn from its seed alone.

**The anchors** come from a mixture of ``K`` components (``K`` uniform on 1 ... 20) in
``d = 8`` dimensions (the dimension of the audit's information space), with Dirichlet(2)
weights, means ``sep x N(0, I)`` with ``sep`` log-uniform on [0.3, 6] (from overlapping
to well separated), and per component and coordinate scales ``exp(N(0, 0.5^2))``
(anisotropic). The components of a member are all Gaussian, all multivariate Student t
(``nu`` uniform on [2.5, 8]: heavy tails), all uniform on boxes (bounded support), or of
the three kinds at random.

**The synthetic rows**, one per anchor (row ``j`` names anchor ``j`` as its prompt), are
of one provenance kind:

- ``class``: drawn from the component that generated their anchor (a generator that
  knows each anchor's class and nothing else about it);
- ``paraphrase``: the anchor plus Gaussian noise of standard deviation ``tau`` per
  coordinate, ``tau`` log-uniform on [0.05, 2] (from near-copies to loose rewrites);
- ``independent``: drawn from another random member of the family, unrelated to the
  anchor named.

**The truths** (nats) are Monte Carlo means over ``draws`` fresh draws of the member,
with their standard errors: ``H(anchor)``, ``H(synthetic)``,
``I(anchor; synthetic) = E[log p(s | a) - log p(s)]`` and ``dI - H(anchor) =
H(synthetic) - H(anchor) - I(anchor; synthetic)`` (the audit's quantities, with the
prompt of a row being its anchor). Every density is exact: Gaussian and uniform
components convolved with Gaussian noise in closed form (diagonal scales), Student t
ones by Gauss-Laguerre quadrature over their Gamma scale mixture (64 nodes, taken from
the posterior of the scale, so that the quadrature is exact without noise), checked
against direct integration in tests/audit/test_families.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import special

from synthgain._rng import RNGLike, child_generator, seed_sequence

D = 8
KINDS = ("gaussian", "t", "uniform")
PROVENANCE = ("class", "paraphrase", "independent")
K_MAX = 20
SEP = (0.3, 6.0)
SCALE_SD = 0.5
NU = (2.5, 8.0)
TAU = (0.05, 2.0)
NODES = 64
LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Member:
    """One mixture of the family: diagonal components of three kinds.

    ``scales`` is the standard deviation per coordinate for a Gaussian, the scale for a
    Student t (covariance ``nu / (nu - 2) scales^2``) and the half-width over sqrt(3)
    for a uniform box (so that its variance is ``scales^2``).
    """

    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, d)
    scales: np.ndarray  # (K, d)
    kinds: tuple[str, ...]  # (K,)
    dfs: np.ndarray  # (K,), used by "t" components

    @property
    def n_components(self) -> int:
        return len(self.kinds)

    def describe(self) -> dict[str, Any]:
        return {"K": self.n_components, "kinds": sorted(set(self.kinds))}

    def sample(self, n: int, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` rows and the component of each."""
        z = gen.choice(self.n_components, size=n, p=self.weights)
        e = gen.standard_normal((n, D))
        u = gen.uniform(-1.0, 1.0, (n, D)) * np.sqrt(3.0)
        g = gen.chisquare(self.dfs[z]) / self.dfs[z]  # the t's Gamma scale, (n,)
        kinds = np.asarray(self.kinds)[z]
        base = np.where((kinds == "uniform")[:, None], u, e)
        base = np.where((kinds == "t")[:, None], e / np.sqrt(g)[:, None], base)
        return self.means[z] + self.scales[z] * base, z

    def component_logpdf(self, x: np.ndarray, tau: float = 0.0) -> np.ndarray:
        """``log p_k(x)`` of every component convolved with N(0, tau^2 I), (n, K)."""
        out = np.empty((x.shape[0], self.n_components))
        for k, kind in enumerate(self.kinds):
            r = x - self.means[k]
            s = self.scales[k]
            if kind == "gaussian":
                out[:, k] = _gauss_diag(r, s ** 2 + tau ** 2)
            elif kind == "uniform":
                out[:, k] = _box(r, s * np.sqrt(3.0), tau)
            else:
                out[:, k] = _student(r, s, float(self.dfs[k]), tau)
        return out

    def logpdf(self, x: np.ndarray, tau: float = 0.0) -> np.ndarray:
        """``log p(x)`` of the mixture convolved with N(0, tau^2 I), (n,)."""
        return special.logsumexp(self.component_logpdf(x, tau) + np.log(self.weights), axis=1)


def _gauss_diag(r: np.ndarray, var: np.ndarray) -> np.ndarray:
    return -0.5 * (np.sum(r ** 2 / var, axis=1) + np.sum(np.log(var)) + r.shape[1] * LOG2PI)


def _log_diff_ndtr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for b > a, accurate in both tails."""
    flip = a > 0  # Phi(b) - Phi(a) = Phi(-a) - Phi(-b): compute in the lower tail
    lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
    lb, la = special.log_ndtr(hi), special.log_ndtr(lo)
    return lb + np.log1p(-np.exp(np.minimum(la - lb, 0.0)))


def _box(r: np.ndarray, h: np.ndarray, tau: float) -> np.ndarray:
    """Uniform on [-h, h] per coordinate (centred residual ``r``), convolved with
    N(0, tau^2) per coordinate."""
    if tau == 0:
        inside = np.all(np.abs(r) <= h, axis=1)
        return np.where(inside, -np.sum(np.log(2 * h)), -np.inf)
    return np.sum(_log_diff_ndtr((r - h) / tau, (r + h) / tau) - np.log(2 * h), axis=1)


@cache
def _laguerre(alpha: float) -> tuple[np.ndarray, np.ndarray]:
    u, lam = special.roots_genlaguerre(NODES, alpha)
    return u, np.log(lam) - special.gammaln(alpha + 1)  # weights of Gamma(alpha + 1, 1)


def _student(r: np.ndarray, s: np.ndarray, nu: float, tau: float) -> np.ndarray:
    """Multivariate t (diagonal scale ``s``), convolved with N(0, tau^2 I).

    The t is ``N(0, diag(s^2) / w)`` with ``w ~ Gamma(nu/2, rate nu/2)``; given ``x``
    (without noise) ``w`` is ``Gamma((nu + d)/2, rate (nu + delta^2)/2)``. So
    ``p_tau(x) = p_0(x) E_{w | x}[N(x; 0, s^2/w + tau^2) / N(x; 0, s^2/w)]``, the
    expectation by Gauss-Laguerre quadrature (exact at tau = 0).
    """
    d = r.shape[1]
    delta2 = np.sum((r / s) ** 2, axis=1)
    log0 = (special.gammaln((nu + d) / 2) - special.gammaln(nu / 2)
            - 0.5 * d * np.log(nu * np.pi) - np.sum(np.log(s))
            - 0.5 * (nu + d) * np.log1p(delta2 / nu))
    if tau == 0:
        return log0
    u, logw = _laguerre((nu + d) / 2 - 1)
    out = np.empty(r.shape[0])
    for lo in range(0, r.shape[0], 4096):
        rr, dd = r[lo:lo + 4096], delta2[lo:lo + 4096]
        w = 2 * u[None, :] / (nu + dd[:, None])  # (b, Q)
        v0 = s[None, None, :] ** 2 / w[:, :, None]  # (b, Q, d)
        v1 = v0 + tau ** 2
        r2 = rr[:, None, :] ** 2
        ratio = -0.5 * np.sum(r2 / v1 - r2 / v0 + np.log(v1 / v0), axis=2)
        out[lo:lo + 4096] = special.logsumexp(ratio + logw[None, :], axis=1)
    return log0 + out


def draw_member(gen: np.random.Generator, kinds: str | None = None) -> Member:
    """A random member of the anchors' family (``kinds``: one of KINDS or "mixed";
    None: each of the four with probability 1/4)."""
    choice = kinds or str(gen.choice([*KINDS, "mixed"]))
    k = int(gen.integers(1, K_MAX + 1))
    sep = float(np.exp(gen.uniform(*np.log(SEP))))
    weights = gen.dirichlet(np.full(k, 2.0))
    means = sep * gen.standard_normal((k, D))
    scales = np.exp(SCALE_SD * gen.standard_normal((k, D)))
    comp = (tuple(str(c) for c in gen.choice(KINDS, size=k)) if choice == "mixed"
            else (choice,) * k)
    dfs = gen.uniform(*NU, size=k)
    return Member(weights, means, scales, comp, dfs)


@dataclass(frozen=True)
class Case:
    """One random case: the anchors' member, the provenance and its parameters."""

    anchor: Member
    provenance: str
    tau: float = 0.0
    other: Member | None = None  # the synthetic rows' member ("independent")
    #: the target of the KL gap: the anchors' member convolved with N(0, target_tau^2 I)
    target_tau: float = 1.0

    def describe(self) -> dict[str, Any]:
        out = {"provenance": self.provenance, **self.anchor.describe()}
        if self.provenance == "paraphrase":
            out["tau"] = round(self.tau, 4)
        return out

    def sample(self, n: int, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` anchors and the synthetic row made from each (row j from anchor j)."""
        a, z = self.anchor.sample(n, gen)
        if self.provenance == "class":
            s = np.empty_like(a)
            for k in np.unique(z):
                rows = np.flatnonzero(z == k)
                one = Member(np.array([1.0]), self.anchor.means[k:k + 1],
                             self.anchor.scales[k:k + 1], (self.anchor.kinds[k],),
                             self.anchor.dfs[k:k + 1])
                s[rows] = one.sample(rows.size, gen)[0]
        elif self.provenance == "paraphrase":
            s = a + self.tau * gen.standard_normal(a.shape)
        else:
            assert self.other is not None
            s = self.other.sample(n, gen)[0]
        return a, s

    def synthetic_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log q(x)`` of the synthetic rows' marginal, (n,)."""
        if self.provenance == "class":  # a row of the anchor's component: the same mixture
            return self.anchor.logpdf(x)
        if self.provenance == "paraphrase":
            return self.anchor.logpdf(x, self.tau)
        assert self.other is not None
        return self.other.logpdf(x)

    def sample_target(self, n: int, gen: np.random.Generator) -> np.ndarray:
        """``n`` rows of the target: the anchors' member plus N(0, target_tau^2 I)."""
        return self.anchor.sample(n, gen)[0] + self.target_tau * gen.standard_normal((n, D))

    def divergences(self, draws: int = 100_000, rng: RNGLike = 0) -> dict[str, float]:
        """Between the anchors' marginal P and the synthetic rows' marginal Q, with the
        target T: JS(P, Q), TV(P, Q), the KL gap KL(P||T) - KL(Q||T) and its two halves
        against the permutation null's mixture M = (P + Q) / 2 (``kl_x`` = KL(P||T) -
        KL(M||T), ``kl_y`` = KL(Q||T) - KL(M||T)), each with its Monte Carlo standard
        error (``*_se``: draw i of P and draw i of Q make one independent term)."""
        gen = child_generator(seed_sequence(rng), "divergences")
        xp, xq = self.sample(draws, gen)[0], self.sample(draws, gen)[1]
        lp = {"p": self.anchor.logpdf(xp), "q": self.synthetic_logpdf(xp),
              "t": self.anchor.logpdf(xp, self.target_tau)}
        lq = {"p": self.anchor.logpdf(xq), "q": self.synthetic_logpdf(xq),
              "t": self.anchor.logpdf(xq, self.target_tau)}
        for v in (lp, lq):
            v["m"] = np.logaddexp(v["p"], v["q"]) - np.log(2.0)
        parts = {
            "js": 0.5 * (lp["p"] - lp["m"]) + 0.5 * (lq["q"] - lq["m"]),
            "tv": np.maximum(0.0, -np.expm1(np.minimum(lp["q"] - lp["p"], 0.0))),
            "gap": (lp["p"] - lp["t"]) - (lq["q"] - lq["t"]),
            "kl_x": (lp["p"] - lp["t"]) - 0.5 * ((lp["m"] - lp["t"]) + (lq["m"] - lq["t"])),
            "kl_y": (lq["q"] - lq["t"]) - 0.5 * ((lp["m"] - lp["t"]) + (lq["m"] - lq["t"])),
        }
        out: dict[str, float] = {}
        for key, v in parts.items():
            out[key] = float(v.mean())
            out[key + "_se"] = float(v.std(ddof=1) / np.sqrt(v.size))
        return out

    def truths(self, draws: int = 100_000, rng: RNGLike = 0) -> dict[str, float]:
        """H(anchor), H(synthetic), I(anchor; synthetic), H(synthetic) - H(anchor) and
        dI - H(anchor), with the Monte Carlo standard error of each (``*_se``)."""
        gen = child_generator(seed_sequence(rng), "truth")
        a, s = self.sample(draws, gen)
        la = self.anchor.logpdf(a)
        if self.provenance == "class":
            ls = self.anchor.logpdf(s)
            post = self.anchor.component_logpdf(a) + np.log(self.anchor.weights)
            post -= special.logsumexp(post, axis=1, keepdims=True)
            cond = special.logsumexp(post + self.anchor.component_logpdf(s), axis=1)
        elif self.provenance == "paraphrase":
            ls = self.anchor.logpdf(s, self.tau)
            cond = _gauss_diag(s - a, np.full(D, self.tau ** 2))
        else:
            assert self.other is not None
            ls = self.other.logpdf(s)
            cond = ls
        parts = {"h_anchor": -la, "h_synthetic": -ls, "mi": cond - ls,
                 "dh_synthetic": la - ls, "gain": la - cond}
        out: dict[str, float] = {}
        for key, v in parts.items():
            out[key] = float(v.mean())
            out[key + "_se"] = float(v.std(ddof=1) / np.sqrt(v.size))
        return out


def draw_case(rng: RNGLike, provenance: str | None = None, kinds: str | None = None
              ) -> Case:
    """A random case, from its seed alone (``provenance``: one of PROVENANCE; None: each
    with probability 1/3)."""
    root = seed_sequence(rng)
    gen = child_generator(root, "case")
    prov = provenance or str(gen.choice(PROVENANCE))
    anchor = draw_member(gen, kinds)
    tau = float(np.exp(gen.uniform(*np.log(TAU))))
    other = draw_member(gen) if prov == "independent" else None
    # from its own stream, so that the members drawn before it was added are unchanged
    target_tau = float(np.exp(child_generator(root, "target").uniform(
        *np.log(TAU))))
    return Case(anchor, prov, tau if prov == "paraphrase" else 0.0, other, target_tau)
