"""plot_theory_sweep: the figure of a theory sweep, drawn only in synthgain.plots."""

import pandas as pd
import pytest

from synthgain.exceptions import ValidationError
from synthgain.plots import plot_theory_sweep

COLS = ("GGMI", "theorem_4_10_rhs", "I_gen_W", "lemma_4_5_rhs", "dI")


def _rows(klgap):
    rows = []
    for v in (2, 5):
        for s in range(2):
            row = {"param_J": v, "setting": s, **{c: float(v + s) for c in COLS}}
            if klgap:
                row["kl_gap"] = -float(v)
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("klgap", "panels"), [(False, 3), (True, 5)])  # colour bar: 5th axes
def test_panels(klgap, panels):
    fig = plot_theory_sweep(_rows(klgap), "J")
    assert len(fig.axes) == panels
    assert [ax.get_title() for ax in fig.axes[:3]] == [
        "Theorem 4.10", "Lemma 4.5", "information gain dI"]
    assert fig.axes[0].get_xlabel() == "J"


def test_missing_columns():
    with pytest.raises(ValidationError, match=r"Missing \['GGMI'"):
        plot_theory_sweep(_rows(False).drop(columns="GGMI"), "J")
