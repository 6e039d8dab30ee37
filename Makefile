# make run   — create .venv, install, run the flagship scenario (10,000 replications, 2 workers)
# make test  — create .venv, install with test extras (and chromium, via apt, if missing), run the test suite
# make lint  — ruff

# Find a Python >= 3.12 (Mesa 3.5 needs it). pyenv users: .python-version selects 3.12.
PYTHON ?= $(shell for p in python3.12 python3 python3.13 python; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	  && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench clean check-python browser

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found (tried python3.12, python3, python3.13, python). Install Python 3.12+ or set PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi

$(VENV)/.installed: pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m sim run scenarios/us_korea_2025.toml --runs 10000 --seed 7 --workers 2

# The page's browser test drives Debian's chromium (headless); install it if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (for the page's browser test)"; \
	  S=; if [ "$$(id -u)" -ne 0 ]; then S=sudo; fi; \
	  $$S apt-get update -qq && $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	  || { echo "error: could not install chromium with apt-get; install it (Debian: apt-get install chromium)" >&2; exit 1; }; }

test: $(VENV)/.installed browser
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check sim tests benchmarks

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
