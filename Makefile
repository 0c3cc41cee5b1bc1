# Two entry points: `make demo` (train, evaluate, video and plots) and `make test`.
# Each creates .venv on first use, installs the pinned set-up, and reuses it afterwards.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.rlkit-installed

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing rlkit and its pinned dependencies into $(VENV) (first run only)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m experiments.demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup tests

bench: $(STAMP)
	$(PY) -m benchmarks.environments

clean:
	rm -rf $(VENV) runs
