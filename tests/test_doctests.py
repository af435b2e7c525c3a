"""The Examples of the public docstrings run as doctests: each checks a closed form or a
stated property, so the documentation cannot drift from the code."""

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import synthgain

PACKAGES = ("synthgain.measures", "synthgain.audit")


def _modules():
    names = ["synthgain._validation"]
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        names.append(pkg)
        names += [m.name for m in pkgutil.walk_packages(mod.__path__, pkg + ".")]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(legacy="1.25"):
        for test in finder.find(mod, name, globs={}):
            runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s) in {name}"


def test_every_public_measure_has_an_example_and_references_where_an_estimator():
    import synthgain.measures as m

    missing = [n for n in m.__all__ if inspect.isfunction(getattr(m, n))
               and ">>>" not in (getattr(m, n).__doc__ or "")]
    assert missing == []
    for n in ("entropy", "kl_divergence", "js_divergence", "total_variation",
              "mutual_information", "rank_correlation"):
        assert "References\n    ----------" in getattr(m, n).__doc__, n
    assert synthgain.__name__ == "synthgain"
