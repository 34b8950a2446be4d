# neuroport: two commands do all the set-up on a fresh machine.
#   make demo   builds .venv (Python 3.10), installs .[all,dev], runs `neuroport demo`
#   make test   builds .venv the same way and runs the test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv clean bench fuzz cli-sweep

# Python 3.10 is required by lava-nc 0.10 (Requires-Python < 3.11).
PYTHON310_FOUND := $(shell tools/find-python310.sh)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON310_FOUND)" ]; then \
	  echo "error: Python 3.10 not found (lava-nc 0.10 needs Python < 3.11)."; \
	  echo "       Install it (e.g. 'pyenv install 3.10') or run 'PYTHON310=/path/to/python3.10 make ...'."; \
	  exit 1; fi
	@echo "Using $(PYTHON310_FOUND) ($$($(PYTHON310_FOUND) --version))"
	@test -x $(PY) || $(PYTHON310_FOUND) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/neuroport demo --out demo_output

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_numpy.py

fuzz: $(STAMP)
	$(PY) benchmarks/fuzz.py 300

cli-sweep: $(STAMP)
	MPLBACKEND=Agg $(PY) benchmarks/cli_sweep.py

clean:
	rm -rf $(VENV) demo_output build *.egg-info
