# neuroport: two commands do all the set-up on a fresh machine.
#   make demo   builds .venv (Python 3.10), installs .[all,dev], runs `neuroport demo`
#   make test   builds .venv the same way and runs the test suite
#   make docs   builds the documentation site into docs/_build/html (open docs/_build/html/index.html)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv clean bench fuzz cli-sweep docs gallery

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

# The API reference (docstrings) + docs/*.md + the gallery, warnings as errors (tests/test_docs.py builds it too).
docs: $(STAMP)
	MPLBACKEND=Agg $(PY) -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "open docs/_build/html/index.html"

# Only the gallery's figures (docs/gallery.py; `make docs` draws them itself) into docs/_generated/gallery.
gallery: $(STAMP)
	MPLBACKEND=Agg $(PY) docs/gallery.py docs/_generated

bench: $(STAMP)
	$(PY) benchmarks/bench_numpy.py

fuzz: $(STAMP)
	$(PY) benchmarks/fuzz.py 300

cli-sweep: $(STAMP)
	MPLBACKEND=Agg $(PY) benchmarks/cli_sweep.py

clean:
	rm -rf $(VENV) demo_output build *.egg-info docs/_build docs/_generated
