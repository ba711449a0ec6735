# The README's two commands:
#     make run     set up .venv and run the main job on the embedded synthetic default data
#                  (make run PROFILE=full: the full run the committed results come from)
#     make test    set up .venv (with the test tools) and run the test suite
# Both need only Python 3.10+ (3.11 tested) on the PATH; everything else is installed into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3 || command -v python)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
JOBS   ?= auto
# PROFILE=full: every frame, early stopping, into runs/full, and publish the run into the repository
# (the committed notebooks' outputs, the results folders, images/ and report.pdf come from it)
PROFILE ?= quick
RUN_ARGS ?=

.PHONY: run test lint format docs bench venv constraints clean help

help:
	@echo "make run    - set up $(VENV) and run the main job (both studies, the notebooks, report.pdf) into runs/demo"
	@echo "make run PROFILE=full - the full-profile run into runs/full, published into the repository"
	@echo "make test   - set up $(VENV) with the test tools, check lint and format (ruff), build the docs, run the tests"
	@echo "make lint   - ruff check, ruff format --check and numpydoc's docstring checks; make format rewrites the files"
	@echo "make docs   - build the documentation site into docs/_build/html (Sphinx, warnings are errors)"
	@echo "make bench  - run the CPU benchmarks (extraction, floor, Dask, scaling, frontend layer, training, bootstrap, pretrained)"
	@echo "make clean  - remove $(VENV), runs/ and caches"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no python3 found on PATH (Python 3.10+ needed)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "error: Python 3.10+ needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt constraints.txt pyproject.toml
	$(PIP) install -q -r requirements.txt -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	@touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/musiclass demo --profile $(PROFILE) $(if $(filter full,$(PROFILE)),--out runs/full --publish) $(RUN_ARGS)

# --dist loadfile: a file's tests run on one worker, in order, so a module-scoped fixture (a trained
# model, a notebook chain, a Dask cluster) is built once, not once per worker and again whenever
# another file's test came between two of its own (measured: the genre notebook chain ran twice)
test: lint docs
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/numpydoc lint $$(find src/musiclass -name '*.py' | sort)

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks docs
	$(BIN)/ruff format src tests benchmarks docs

docs: $(VENV)/.installed-dev
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/extract_bench.py
	$(BIN)/python benchmarks/floor_bench.py
	$(BIN)/python benchmarks/dask_bench.py
	$(BIN)/python benchmarks/scaling_bench.py
	$(BIN)/python benchmarks/frontend_bench.py
	$(BIN)/python benchmarks/train_bench.py
	$(BIN)/python benchmarks/bootstrap_bench.py
	$(BIN)/python benchmarks/pretrained_bench.py

constraints: $(VENV)/.installed-dev
	{ head -3 constraints.txt; $(PIP) freeze --exclude-editable | grep -v '^musiclass'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis .ruff_cache docs/_build docs/api/generated
