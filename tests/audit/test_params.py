"""Every public parameter of the audit's entry points has a constraint declared once
(``validate_params``), checked before any work: a bad value for each is an error naming
the parameter, raised before a stage runs or a file is read."""

import inspect

import numpy as np
import pytest

import synthgain.audit._pipeline as pipeline
from synthgain.audit import (
    classifier_two_sample_test,
    load_dataset,
    novelty,
    prdc,
    probe,
    project,
    run_audit,
    vendi_score,
)
from synthgain.exceptions import ValidationError

G = np.random.default_rng(0)
A, S = G.normal(size=(20, 3)), G.normal(size=(20, 3))

#: parameter -> a value outside its constraint
BAD_RUN_AUDIT = {
    "anchor": "anchors.jsonl", "synthetic": 3, "target": {"x": 1}, "evaluation": A,
    "model": "gpt5", "cache_dir": 3, "compare_rows": 1, "repeats": 1, "n_pca": 0, "k": 0,
    "copy_ratio": 0.0, "near_copy_limit": 1.5, "max_near_copies": -1, "rng": -5,
    "workers": 0, "progress": "bar", "thresholds": "near_copy_rate=0.1",
    "batch_size": 0, "backend": "spark", "scheduler": 8786, "lm": "gpt2", "lm_dim": 0,
    "lm_rows": "some",
}
BAD_LOAD_DATASET = {
    "path": 3, "text_column": 1, "embedding_column": ["e"], "label_column": 2.0,
    "anchor_id_column": 0, "id_column": b"id", "name": 5, "layout": "csv",
    "field": "answer", "option_names": ["--x"], "keep_records": "yes",
}


def test_every_parameter_has_a_declared_constraint_and_a_bad_value_here():
    for func, bad in ((run_audit, BAD_RUN_AUDIT), (load_dataset, BAD_LOAD_DATASET)):
        params = set(inspect.signature(func).parameters)
        assert set(func.__constraints__) == params
        assert set(bad) == params


@pytest.mark.parametrize("name", list(BAD_RUN_AUDIT))
def test_run_audit_refuses_each_bad_value_before_any_work(name, monkeypatch):
    def no_work(run):
        raise AssertionError("a stage ran")

    monkeypatch.setattr(pipeline, "_run_stages", no_work)
    args = {"anchor": A, "synthetic": S, name: BAD_RUN_AUDIT[name]}
    with pytest.raises(ValidationError, match=f"`{name}`"):
        run_audit(args.pop("anchor"), args.pop("synthetic"), **args)


@pytest.mark.parametrize("name", list(BAD_LOAD_DATASET))
def test_load_dataset_refuses_each_bad_value_before_reading(name, tmp_path):
    path = tmp_path / "never-read.jsonl"  # does not exist: a read would fail otherwise
    args = {"path": path, name: BAD_LOAD_DATASET[name]}
    with pytest.raises(ValidationError, match=f"`{name}`"):
        load_dataset(args.pop("path"), **args)


Y = np.repeat(["a", "b"], 10)
#: the other public entry points: valid arguments, then a bad value for each parameter
OTHERS = {
    prdc: ({"real": A, "fake": S},
           {"real": "x", "fake": A[:, :2], "k": 0, "workers": 0}),
    vendi_score: ({"x": A}, {"x": "x", "n_groups": 1, "rng": -1}),
    novelty: ({"anchors": A, "synthetic": S},
              {"anchors": "x", "synthetic": S[:, :2], "copy_ratio": 2.0, "workers": 0,
               "k": 0, "backend": "dask", "chunk_rows": 0}),
    probe: ({"anchor": A, "anchor_labels": Y, "synthetic": S, "synthetic_labels": Y,
             "target": A, "target_labels": Y},
            {"anchor": "x", "anchor_labels": Y[:3], "synthetic": S[:, :2],
             "synthetic_labels": Y[:3], "target": "x", "target_labels": Y[:3], "C": 0.0}),
    classifier_two_sample_test: ({"xp": A, "xq": S},
                                 {"xp": "x", "xq": S[:, :2], "n_folds": 2, "max_rows": 2,
                                  "n_pca": 0, "C": -1.0, "rng": -1}),
    project: ({"reference": A, "n_components": 2}, {"reference": "x", "n_components": 0}),
}


def test_the_other_entry_points_declare_every_parameter():
    for func, (_, bad) in OTHERS.items():
        assert set(func.__constraints__) == set(inspect.signature(func).parameters)
        assert set(bad) == set(func.__constraints__), func.__name__


@pytest.mark.parametrize("func,name", [(f, n) for f, (_, bad) in OTHERS.items() for n in bad],
                         ids=lambda v: getattr(v, "__name__", v))
def test_each_bad_value_is_refused_naming_the_parameter(func, name):
    good, bad = OTHERS[func]
    with pytest.raises(ValidationError, match=f"`{name}`"):
        func(**{**good, name: bad[name]})
