"""The probe: what the synthetic data does to a real model's accuracy on the target.

A logistic regression is trained on the anchors, on the synthetic data, and on both, and
each is scored on the labelled target set. The differences are the measured
generalization gain that the divergences and information terms try to predict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import check_rng
from .._validation import anything, check_array, real, validate_params
from ..exceptions import ValidationError
from ..measures import Estimate

__all__ = ["LABEL_FOLDS", "fit_score", "label_issues", "probe"]


def _logistic(c: float) -> Any:
    """The audit's classifier: a standardised logistic regression (unfitted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))


def fit_score(x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray, c: float
               ) -> np.ndarray:
    """Per-target-point correctness (0/1) of a standardised logistic regression.

    Does no argument checking. A training set with one class predicts that class.
    """
    if np.unique(y).size == 1:
        return (yt == y[0]).astype(float)
    model = _logistic(c)
    model.fit(x, y)
    return (model.predict(xt) == yt).astype(float)


def _paired(c1: np.ndarray, c0: np.ndarray, method: str) -> Estimate:
    diff = c1 - c0
    n = diff.shape[0]
    return Estimate(float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(n)), method, (n,))


@validate_params(anchor=anything, anchor_labels=anything, synthetic=anything,
                 synthetic_labels=anything, target=anything, target_labels=anything,
                 C=real(0.0, closed="neither"))
def probe(
    anchor: Any,
    anchor_labels: Any,
    synthetic: Any,
    synthetic_labels: Any,
    target: Any,
    target_labels: Any,
    *,
    C: float = 1.0,
) -> dict[str, Estimate]:
    """Target accuracy of a logistic-regression probe trained on anchor, synthetic, both.

    Parameters
    ----------
    anchor, synthetic, target : array_like, shapes (n_a, d), (n_s, d), (n_t, d)
        Embeddings.
    anchor_labels, synthetic_labels, target_labels : array_like, shapes (n_a,), (n_s,),
        (n_t,)
        Class labels (any hashable values, compared as strings).
    C : float
        Inverse L2 strength (features standardised on each training set).

    Returns
    -------
    dict of :class:`Estimate`
        ``"accuracy_anchor"``, ``"accuracy_synthetic"``, ``"accuracy_both"`` (each with
        the binomial standard error over target points), ``"gain_both"`` = accuracy(both)
        - accuracy(anchor) and ``"gain_synthetic"`` = accuracy(synthetic) -
        accuracy(anchor), with paired standard errors.

    Notes
    -----
    The gain is a paired difference over the same target points, so its standard error
    is ``sd(c_1 - c_0) / sqrt(n_t)`` with ``c`` the per-point correctness: smaller than
    the unpaired one when the probes agree on most points.

    Examples
    --------
    Two classes 8 standard deviations apart: every probe is right on every target point,
    so each gain is 0:

    >>> import numpy as np
    >>> from synthgain.audit import probe
    >>> g = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 100)
    >>> x = g.normal(size=(200, 2)) + 8 * y[:, None]
    >>> {k: float(v.value) for k, v in probe(x, y, x, y, x, y).items()}
    {'accuracy_anchor': 1.0, 'accuracy_synthetic': 1.0, 'accuracy_both': 1.0, 'gain_both': 0.0, 'gain_synthetic': 0.0}
    """
    c = C
    xa = check_array(anchor, "anchor", ndim=2, min_rows=2)
    xs = check_array(synthetic, "synthetic", ndim=2, min_rows=2, dim=xa.shape[1])
    xt = check_array(target, "target", ndim=2, min_rows=2, dim=xa.shape[1])
    labels = []
    for name, y, x in (("anchor_labels", anchor_labels, xa),
                       ("synthetic_labels", synthetic_labels, xs),
                       ("target_labels", target_labels, xt)):
        arr = np.asarray(y).astype(str)
        if arr.ndim != 1 or arr.shape[0] != x.shape[0]:
            raise ValidationError(
                f"`{name}` must have one label per row ({x.shape[0]}). Got shape {arr.shape}."
            )
        labels.append(arr)
    ya, ys, yt = labels
    corr = {
        "anchor": fit_score(xa, ya, xt, yt, c),
        "synthetic": fit_score(xs, ys, xt, yt, c),
        "both": fit_score(np.concatenate([xa, xs]), np.concatenate([ya, ys]), xt, yt, c),
    }
    n = xt.shape[0]
    out = {
        f"accuracy_{k}": Estimate(float(v.mean()), float(np.sqrt(v.mean() * (1 - v.mean()) / n)),
                                  "logistic_probe_accuracy", (n,), {"C": c})
        for k, v in corr.items()
    }
    out["gain_both"] = _paired(corr["both"], corr["anchor"], "paired_accuracy_difference")
    out["gain_synthetic"] = _paired(corr["synthetic"], corr["anchor"],
                                    "paired_accuracy_difference")
    return out


#: folds of the cross-fitted class probabilities the label issues are found from
LABEL_FOLDS = 5


def _fit_rows(code: np.ndarray, limit: int, gen: np.random.Generator) -> np.ndarray:
    """At most about ``limit`` rows, each class in proportion and at least 2 of it."""
    if code.shape[0] <= limit:
        return np.arange(code.shape[0])
    out = []
    for c in np.unique(code):
        rows = np.flatnonzero(code == c)
        take = min(rows.size, max(2, int(np.ceil(limit * rows.size / code.shape[0]))))
        out.append(gen.choice(rows, take, replace=False))
    return np.sort(np.concatenate(out))


def label_issues(x: np.ndarray, labels: Any, *, C: float = 1.0, max_fit_rows: int = 5000,
                 rng: Any = None) -> np.ndarray:
    """Rows whose label looks wrong: ``cleanlab.filter.find_label_issues`` on
    out-of-sample class probabilities of a standardised logistic regression, each row's
    from a model fitted on the other folds (stratified, :data:`LABEL_FOLDS` folds, fewer
    where a class has fewer rows).

    Rows of a class with a single row cannot be cross-fitted and are never flagged; with
    fewer than two such classes nothing is (one bool per row, all False). Above
    ``max_fit_rows`` rows, the probabilities are cross-fitted on that many (each class in
    proportion) and the other rows' come from a model fitted on them all (out of sample
    too), so the cost stays bounded at 100,000 rows. The finding
    itself is cleanlab's confident learning [1]_ (``filter_by="prune_by_noise_rate"``):
    per class pair, the rows counted in the off-diagonal of the confident joint, those
    with the largest margin first.

    References
    ----------
    .. [1] C. G. Northcutt, L. Jiang, I. L. Chuang, "Confident Learning: Estimating
       Uncertainty in Dataset Labels", Journal of Artificial Intelligence Research 70
       (2021) 1373-1411.

    Examples
    --------
    Two well-separated classes with 10 labels of 200 flipped: 8 of the flips are found,
    and no clean row is flagged.

    >>> import numpy as np
    >>> from synthgain.audit import label_issues
    >>> g = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 100)
    >>> x = g.normal(size=(200, 2)) + 4 * y[:, None]
    >>> noisy = y.copy(); noisy[:10] = 1
    >>> found = label_issues(x, noisy, rng=0)
    >>> int(found[:10].sum()), int(found[10:].sum())
    (8, 0)
    """
    flags = np.zeros(np.asarray(labels).shape[0], dtype=bool)
    oos = out_of_sample_probabilities(x, labels, C=C, max_fit_rows=max_fit_rows, rng=rng)
    if oos is None:
        return flags
    flags[oos.rows] = _find_issues(oos.codes, oos.probs)
    return flags


@dataclass(frozen=True)
class OutOfSample:
    """Out-of-sample class probabilities: ``probs[i]`` of row ``rows[i]`` (the rows whose
    class the model knows), ``codes[i]`` its label as an index into ``classes``."""

    rows: np.ndarray
    codes: np.ndarray
    probs: np.ndarray
    classes: np.ndarray


def _find_issues(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    import cleanlab.filter

    # one process: cleanlab's own pool fails inside worker processes (its globals are
    # set in the parent only), and the flags must not depend on the workers
    return np.asarray(cleanlab.filter.find_label_issues(codes, probs, n_jobs=1), dtype=bool)


def out_of_sample_probabilities(x: np.ndarray, labels: Any, *, train: Any = None,
                                C: float = 1.0, max_fit_rows: int = 5000, rng: Any = None
                                ) -> OutOfSample | None:
    """Each row's class probabilities from a standardised logistic regression that did
    not see it: the rows of ``train`` (all rows by default; at most ``max_fit_rows``,
    each class in proportion) cross-fitted over stratified folds, every other row from a
    model fitted on them all. Only rows of a class with at least two training rows are
    scored (``rows``); None when fewer than two classes have that many."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(labels).astype(str)
    tr = np.ones(y.shape[0], bool) if train is None else np.asarray(train, bool)
    names, code = np.unique(y, return_inverse=True)
    counts = np.bincount(code[tr], minlength=names.size)
    keep = counts[code] >= 2
    kept = np.unique(code[keep & tr])
    if kept.size < 2:
        return None
    keep &= np.isin(code, kept)
    xk, ck = np.asarray(x, dtype=float)[keep], np.searchsorted(kept, code[keep])
    gen = check_rng(rng)
    in_train = np.flatnonzero(tr[keep])
    fit = in_train[_fit_rows(ck[in_train], max_fit_rows, gen)]
    folds = int(min(LABEL_FOLDS, np.bincount(ck[fit]).min()))
    seed = int(gen.integers(2**31 - 1))
    model = _logistic(C)
    probs = np.empty((ck.shape[0], kept.size))
    probs[fit] = cross_val_predict(model, xk[fit], ck[fit], method="predict_proba",
                                   cv=StratifiedKFold(folds, shuffle=True,
                                                      random_state=seed))
    rest = np.setdiff1d(np.arange(ck.shape[0]), fit)
    if rest.size:  # rows outside the fitted ones are out of sample for a model of them all
        probs[rest] = model.fit(xk[fit], ck[fit]).predict_proba(xk[rest])
    return OutOfSample(np.flatnonzero(keep), ck, probs, names[kept])


def anchor_label_checks(anchors: np.ndarray, anchor_labels: Any, synthetic: np.ndarray,
                        synthetic_labels: Any, *, C: float = 1.0, rng: Any = None
                        ) -> dict[str, np.ndarray] | None:
    """What the anchors teach about each row's label: per anchor (cross-fitted on the
    anchors) and per synthetic row (a model of all anchors), whether the classifier's
    most probable class is the row's label (``agree_*``) and whether cleanlab flags the
    label (``issue_*``, on all rows' out-of-sample probabilities at once). A synthetic
    row of a class the anchors do not have (or have once) disagrees and is not flagged.
    None when the anchors have fewer than two classes of two rows.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit._probe import anchor_label_checks
    >>> g = np.random.default_rng(0)
    >>> ya, ys = np.repeat([0, 1], 50), np.repeat([0, 1], 50)
    >>> xa, xs = g.normal(size=(100, 2)) + 4 * ya[:, None], g.normal(size=(100, 2)) + 4 * ys[:, None]
    >>> out = anchor_label_checks(xa, ya, xs, 1 - ys, rng=0)  # every synthetic label wrong
    >>> float(out["agree_anchor"].mean()), float(out["agree_synthetic"].mean())
    (1.0, 0.0)
    """
    na = np.asarray(anchors).shape[0]
    y = np.concatenate([np.asarray(anchor_labels).astype(str),
                        np.asarray(synthetic_labels).astype(str)])
    x = np.concatenate([np.asarray(anchors, float), np.asarray(synthetic, float)])
    train = np.arange(y.shape[0]) < na
    gen = check_rng(rng)
    oos = out_of_sample_probabilities(x, y, train=train, C=C, max_fit_rows=10**9, rng=gen)
    if oos is None:
        return None
    agree = np.zeros(y.shape[0], bool)
    issue = np.zeros(y.shape[0], bool)
    agree[oos.rows] = oos.probs.argmax(axis=1) == oos.codes
    issue[oos.rows] = _find_issues(oos.codes, oos.probs)
    out = {"agree_anchor": agree[:na], "agree_synthetic": agree[na:],
           "issue_anchor": issue[:na], "issue_synthetic": issue[na:]}
    return out | _fold_checks(x, oos, na, C, gen)


def _fold_checks(x: np.ndarray, oos: OutOfSample, na: int, C: float,
                 gen: np.random.Generator) -> dict[str, np.ndarray]:
    """The synthetic rows' checks by models of the anchors with one fold left out, for
    the delete-a-group jackknife of the synthetic shares (``agree_folds``,
    ``issue_folds``: folds x synthetic rows): the share depends on the one model fitted
    on the anchors, a variance the rows' binomial one leaves out."""
    from sklearn.model_selection import StratifiedKFold

    a_pos = np.flatnonzero(oos.rows < na)
    s_pos = np.flatnonzero(oos.rows >= na)
    ns = x.shape[0] - na
    folds = int(min(LABEL_FOLDS, np.bincount(oos.codes[a_pos]).min()))
    split = StratifiedKFold(folds, shuffle=True, random_state=int(gen.integers(2**31 - 1)))
    agree = np.zeros((folds, ns), bool)
    issue = np.zeros((folds, ns), bool)
    for k, (keep, _) in enumerate(split.split(a_pos, oos.codes[a_pos])):
        fit = a_pos[keep]
        model = _logistic(C).fit(x[oos.rows[fit]], oos.codes[fit])
        probs = oos.probs.copy()
        probs[s_pos] = _all_classes(model, x[oos.rows[s_pos]], oos.classes.size)
        agree[k, oos.rows[s_pos] - na] = probs[s_pos].argmax(axis=1) == oos.codes[s_pos]
        issue[k, oos.rows[s_pos] - na] = _find_issues(oos.codes, probs)[s_pos]
    return {"agree_folds": agree, "issue_folds": issue}


def _all_classes(model: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` over every class, 0 for a class the fold's rows lack."""
    out = np.zeros((x.shape[0], n_classes))
    out[:, model.classes_] = model.predict_proba(x)
    return out
