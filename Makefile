# neuroport: two commands do all the set-up on a fresh machine.
#   make demo   builds .venv (Python 3.10), installs .[all,dev], runs `neuroport demo`
#   make test   builds .venv the same way and runs the test suite
#   make docs   builds the documentation site into docs/_build/html (open docs/_build/html/index.html)
#   make nest-mpi  (optional, ~1,300 CPU-s) builds NEST 3.10 with MPI from source into .venv-nest-mpi
#               (docs/nest.md); make test does not need it
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv clean bench fuzz cli-sweep docs gallery nest-mpi

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

# --- NEST with MPI (docs/nest.md) --------------------------------------------------------------
# The PyPI wheel nest-simulator has no MPI; this builds the PyPI source package with MPI, only the
# models backends/nest uses, into its own venv (.venv stays on the wheel, so make test never needs
# it). Idempotent: the build is stamped; a second `make nest-mpi` does nothing (neuroport itself is
# re-installed there only when pyproject.toml changes). Needs root for apt-get when packages are missing.
NEST_MPI_VENV := .venv-nest-mpi
NEST_MPI_PY := $(NEST_MPI_VENV)/bin/python
NEST_MPI_BUILT := $(NEST_MPI_VENV)/.nest-mpi-built
NEST_MPI_STAMP := $(NEST_MPI_VENV)/.installed
NEST_MPI_APT := openmpi-bin libopenmpi-dev libgsl-dev libboost-dev libltdl-dev
# weight_recorder: NEST's own minimal modelset has it (the kernel's connection infrastructure)
NEST_MPI_MODELS := iaf_psc_delta;iaf_psc_exp;aeif_psc_delta;aeif_psc_exp;iaf_cond_exp;iaf_cond_exp_sfa_rr;spike_generator;spike_recorder;multimeter;parrot_neuron;static_synapse;stdp_synapse;tsodyks2_synapse;weight_recorder
NEST_MPI_HAS_MPI := import sys, os; os.environ.setdefault("PYNEST_QUIET", "1"); import nest; sys.exit(0 if nest.build_info.get("have_mpi") else 1)

$(NEST_MPI_BUILT):
	@if [ -z "$(PYTHON310_FOUND)" ]; then echo "error: Python 3.10 not found (see make venv)"; exit 1; fi
	@missing=""; for p in $(NEST_MPI_APT); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "error: missing packages:$$missing; run as root or: sudo apt-get install$$missing"; exit 1; fi; \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
	fi
	@test -x $(NEST_MPI_PY) || $(PYTHON310_FOUND) -m venv $(NEST_MPI_VENV)
	$(NEST_MPI_PY) -m pip install --quiet --upgrade pip
	@if $(NEST_MPI_PY) -c '$(NEST_MPI_HAS_MPI)' 2>/dev/null; then echo "NEST with MPI already in $(NEST_MPI_VENV)"; else \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 nice -n 19 $(NEST_MPI_PY) -m pip install --no-binary nest-simulator \
	    --config-settings=cmake.define.with-mpi=ON "--config-settings=cmake.define.with-models=$(NEST_MPI_MODELS)" \
	    nest-simulator==3.10.0 "numpy<2"; fi
	$(NEST_MPI_PY) -c '$(NEST_MPI_HAS_MPI)' || { echo "error: the NEST in $(NEST_MPI_VENV) has no MPI"; exit 1; }
	@touch $(NEST_MPI_BUILT)

$(NEST_MPI_STAMP): $(NEST_MPI_BUILT) pyproject.toml
	$(NEST_MPI_PY) -m pip install --quiet -e '.[nest,dev]' "numpy<2"
	@touch $(NEST_MPI_STAMP)

nest-mpi: $(NEST_MPI_STAMP)
	@echo "NEST with MPI: $(NEST_MPI_PY) (NestBackend(ranks=N) uses it through NEUROPORT_NEST_PYTHON=$(NEST_MPI_PY), docs/nest.md)"
