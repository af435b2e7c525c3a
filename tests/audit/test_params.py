"""Every public parameter of the audit's entry points has a constraint declared once
(``validate_params``), checked before any work: a bad value for each is an error naming
the parameter, raised before a stage runs or a file is read."""

import inspect

import numpy as np
import pytest

import synthgain.audit._pipeline as pipeline
from synthgain.audit import load_dataset, run_audit
from synthgain.exceptions import ValidationError

G = np.random.default_rng(0)
A, S = G.normal(size=(20, 3)), G.normal(size=(20, 3))

#: parameter -> a value outside its constraint
BAD_RUN_AUDIT = {
    "anchor": "anchors.jsonl", "synthetic": 3, "target": {"x": 1}, "evaluation": A,
    "model": "gpt5", "cache_dir": 3, "compare_rows": 1, "repeats": 1, "n_pca": 0, "k": 0,
    "copy_ratio": 0.0, "near_copy_limit": 1.5, "max_near_copies": -1, "rng": -5,
    "workers": 0, "progress": "bar", "thresholds": "near_copy_rate=0.1",
    "batch_size": 0, "backend": "ray", "scheduler": 8786,
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
