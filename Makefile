# Two entry points: `make demo` (train, evaluate, video and plots) and `make test`.
# Each creates .venv on first use, installs the pinned set-up, and reuses it afterwards.
# pip takes torch (it finds the CPU wheel where pip is configured to look; uv does not look
# there) and uv; uv installs the rest in parallel. Nothing is compiled at install: Python
# writes the bytecode of what is imported, the first time (PYTHONDONTWRITEBYTECODE is
# cleared for every command here; with it set, each process would compile TensorFlow).

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.rlkit-installed
UV := $(VENV)/bin/uv
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing rlkit and its pinned dependencies into $(VENV) (first run only)..."
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -c $(CONSTRAINTS) torch==2.13.0 uv
	$(UV) pip install --quiet --python $(PY) -c $(CONSTRAINTS) -e '.[dev,bench]' || \
	  { echo "uv failed; installing with pip instead (slower)"; \
	    $(PY) -m pip install --quiet --disable-pip-version-check --no-compile -c $(CONSTRAINTS) -e '.[dev,bench]'; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m experiments.demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --durations=25 tests

bench: $(STAMP)
	$(PY) -m benchmarks.environments

clean:
	rm -rf $(VENV) runs
