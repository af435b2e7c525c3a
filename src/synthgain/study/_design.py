"""Configurations of the real-data studies: the paper's knobs, one at a time.

Gan & Liu's Figure 4 varies ``K`` (anchor-covered components), ``J`` (components the
generator knows beyond the anchors) and ``L`` (task-irrelevant components) one at a time
around a default. The studies do the same with real classes, and add two knobs of the
generation process: anchor coverage (anchors per class) and curation noise ``eps``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError

__all__ = ["CURATIONS", "KNOBS", "LLM_KNOBS", "StudyConfig", "assign_classes", "one_at_a_time", "pick_anchors"]

KNOBS = ("K", "J", "L", "anchors_per_class", "noise")
#: knobs of the LLM study only (neutral defaults elsewhere)
LLM_KNOBS = ("off_task", "demos", "temperature", "curation")
CURATIONS = ("none", "filter")


@dataclass(frozen=True)
class StudyConfig:
    """One configuration of a study.

    Attributes
    ----------
    K : int
        Task classes covered by anchors.
    J : int
        Task classes without anchors, known to the generator only (its knowledge beyond
        the anchors).
    L : int
        Classes irrelevant to the task, known to the generator.
    anchors_per_class : int
        Anchor examples drawn from each of the ``K`` classes.
    noise : float
        Curation noise ``eps``: the standard deviation of Gaussian noise added to each
        synthetic feature (digits), or the probability that a synthetic word is
        replaced by a random vocabulary word (text).
    per_class : int
        Synthetic rows generated for each of the ``K + J + L`` classes.
    generator : str
        Name of the generator (text study: its strength).
    off_task : float
        LLM study: share of each class's prompts that ask for off-task text (the
        paper's ``L`` as a share; those rows keep the class's label).
    demos : int
        LLM study: anchor questions shown in each anchored prompt (``k``).
    temperature : float
        LLM study: sampling temperature of the generator (its own entropy ``H(e_M)``).
    curation : {"none", "filter"}
        LLM study: ``"filter"`` drops synthetic questions of fewer than 3 or more than
        30 words, text that is not a question and duplicates; ``noise`` is then the label-flip rate.
    knob : str
        The knob this configuration varies ("default" for the centre point).
    """

    K: int = 3
    J: int = 2
    L: int = 2
    anchors_per_class: int = 5
    noise: float = 0.0
    per_class: int = 40
    generator: str = "gmm"
    off_task: float = 0.0
    demos: int = 1
    temperature: float = 1.0
    curation: str = "none"
    knob: str = "default"

    def validate(self, n_classes: int) -> StudyConfig:
        """Check the knobs against a data set of ``n_classes`` classes; return self."""
        check_int(self.K, "K", low=1)
        check_int(self.J, "J", low=0)
        check_int(self.L, "L", low=0)
        check_int(self.anchors_per_class, "anchors_per_class", low=1)
        check_int(self.per_class, "per_class", low=1)
        check_real(self.noise, "noise", low=0.0)
        check_real(self.off_task, "off_task", low=0.0, high=1.0)
        check_int(self.demos, "demos", low=1)
        check_real(self.temperature, "temperature", low=0.0, closed="right")
        check_choice(self.curation, "curation", CURATIONS)
        if self.demos > self.anchors_per_class:
            raise ValidationError(
                f"`demos` must be at most `anchors_per_class` ({self.anchors_per_class}). "
                f"Got {self.demos}; lower it or raise `anchors_per_class`.")
        if self.K + self.J + self.L > n_classes:
            raise ValidationError(
                f"`K + J + L` must be at most the {n_classes} classes of the data. Got "
                f"{self.K} + {self.J} + {self.L} = {self.K + self.J + self.L}; lower one of them."
            )
        return self

    @property
    def label(self) -> str:
        """Short name, e.g. ``"K=3 J=2 L=2 m=5 eps=0"``."""
        return (f"K={self.K} J={self.J} L={self.L} m={self.anchors_per_class} "
                f"eps={self.noise:g} gen={self.generator}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def one_at_a_time(default: StudyConfig, sweeps: Mapping[str, Sequence[Any]]) -> list[StudyConfig]:
    """The default configuration and, for each knob, the default with that knob changed.

    Parameters
    ----------
    default : StudyConfig
    sweeps : dict of knob name to values
        Knob names are fields of :class:`StudyConfig`. The default's own value is not
        repeated.

    Returns
    -------
    list of StudyConfig, the default first.
    """
    configs = [default]
    fields = set(default.to_dict())
    for knob, values in sweeps.items():
        if knob not in fields or knob == "knob":
            raise ValidationError(
                f"`sweeps` key {knob!r} is not a knob; use one of {sorted(fields - {'knob'})}."
            )
        for v in values:
            if v != getattr(default, knob):
                configs.append(replace(default, **{knob: v, "knob": knob}))
    return configs


def assign_classes(config: StudyConfig, classes: Sequence[Any], rng: np.random.Generator
                   ) -> dict[str, list[Any]]:
    """Draw the K anchored, J generator-only and L irrelevant classes, disjoint.

    Returns
    -------
    dict with ``"anchored"``, ``"unanchored"``, ``"irrelevant"`` (lists of class labels)
    and ``"task"`` = anchored + unanchored.
    """
    order = [classes[i] for i in rng.permutation(len(classes))]
    k, j, l_ = config.K, config.J, config.L
    out = {"anchored": order[:k], "unanchored": order[k : k + j],
           "irrelevant": order[k + j : k + j + l_]}
    out["task"] = out["anchored"] + out["unanchored"]
    return out


def pick_anchors(labels: np.ndarray, anchored: Sequence[Any], per_class: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` rows drawn without replacement from each anchored class.

    Raises
    ------
    ValidationError
        When a class has fewer than ``per_class`` candidate rows.
    """
    picks = []
    for c in anchored:
        rows = np.flatnonzero(labels == c)
        if rows.size < per_class:
            raise ValidationError(
                f"`anchors_per_class` must be at most the {rows.size} anchor candidates of "
                f"class {c!r}. Got {per_class}; lower it."
            )
        picks.append(rng.permutation(rows)[:per_class])
    return np.concatenate(picks)
