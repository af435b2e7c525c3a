"""plot_theory_sweep: the figure of a theory sweep, drawn only in synthgain.plots."""

import pandas as pd
import pytest

from synthgain.exceptions import ValidationError
from synthgain.plots import plot_theory_sweep

COLS = ("GGMI", "theorem_4_10_rhs", "I_gen_W", "B_syn", "lemma_4_5_rhs_discrete", "dI")


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
        "Theorem 4.10", "Lemma 4.5 (unit-free)", "information gain dI"]
    assert fig.axes[0].get_xlabel() == "J"


def test_missing_columns():
    with pytest.raises(ValidationError, match=r"Missing \['GGMI'"):
        plot_theory_sweep(_rows(False).drop(columns="GGMI"), "J")


def test_ggmi_robustness_figure():
    from synthgain.plots import plot_ggmi_robustness

    rows = []
    for est in ("GGMI", "GGMI_matched"):
        for var in ("sigma=1", "q=G"):
            for sw in ("J", "all"):
                rows.append({"variant": var, "sweep": sw, "estimate": est,
                             **{f"{c}{e}": v for c in ("rho_value", "rho_klgap")
                                for e, v in (("", -0.5), ("_low", -0.8), ("_high", -0.1))}})
    fig = plot_ggmi_robustness(pd.DataFrame(rows))
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title() == "GGMI: rho with the KL Gap"
    with pytest.raises(ValidationError, match=r"Missing \['rho_klgap'"):
        plot_ggmi_robustness(pd.DataFrame(rows).drop(columns="rho_klgap"))


def test_klgap_mechanism_figure():
    from synthgain.plots import plot_klgap_mechanism

    cols = ("median_gap", "median_synthetic_kl", "median_synthetic_kl_off", "median_anchor_kl",
            "median_log_share", "median_synthetic_off_mass")
    pts = pd.DataFrame([{"sweep": sw, "K": k, **{c: float(k) for c in cols}}
                        for sw in ("L=0", "L=2") for k in (2, 5)])
    fig = plot_klgap_mechanism(pts)
    assert fig.axes[0].get_title() == "median KL Gap"
    with pytest.raises(ValidationError, match="Missing"):
        plot_klgap_mechanism(pts.drop(columns="median_gap"))
