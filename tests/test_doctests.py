"""The Examples of the public docstrings run as doctests: each checks a closed form or a
stated property, so the documentation cannot drift from the code."""

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

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


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_function_has_an_example(package):
    mod = importlib.import_module(package)
    missing = [n for n in mod.__all__ if inspect.isfunction(getattr(mod, n))
               and ">>>" not in (getattr(mod, n).__doc__ or "")]
    assert missing == []


def test_the_estimators_cite_their_sources():
    import synthgain.audit as a
    import synthgain.measures as m

    for f in (m.entropy, m.kl_divergence, m.js_divergence, m.total_variation,
              m.mutual_information, m.rank_correlation, a.vendi_score, a.prdc, a.novelty,
              a.classifier_two_sample_test):
        doc = inspect.getdoc(f)
        assert "References\n----------\n.. [1]" in doc, f.__name__
