# make run   — create .venv, install the package, print the flagship forecast (as of 2025-10-25) and its prior
# make test  — create .venv, install with every extra the tests need (and chromium, via apt, if missing), run the tests
# make lint  — ruff and mypy
# make bench — the speed benchmarks (benchmarks/)

# Find a Python >= 3.12 (Mesa 3.5 needs it). pyenv users: .python-version selects 3.12.
PYTHON ?= $(shell for p in python3.12 python3 python3.13 python; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	  && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check --progress-bar on

.PHONY: run test lint bench clean check-python browser

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found (tried python3.12, python3, python3.13, python). Install Python 3.12+ or set PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# what running needs (no test tools, no page, no Dask)
$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	@echo "installing the package and its dependencies into $(VENV) (a few minutes the first time)"
	$(PIP) -e .
	touch $@

# everything the tests exercise: the page, Dask, EMA Workbench, the test tools
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	@echo "installing the package with its app, dask, ema and test extras into $(VENV) (a few minutes the first time)"
	$(PIP) -e '.[app,dask,ema,test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m sim forecast scenarios/us_korea_2025.toml --as-of 2025-10-25 --seed 7 --workers 2

# The page's browser test drives Debian's chromium (headless); install it if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (for the page's browser test)"; \
	  S=; if [ "$$(id -u)" -ne 0 ]; then S=sudo; fi; \
	  $$S apt-get update -qq && $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	  || { echo "error: could not install chromium with apt-get; install it (Debian: apt-get install chromium)" >&2; exit 1; }; }

test: $(VENV)/.installed-test browser
	$(PY) -m pytest -q --nbval-lax tests docs/examples

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check sim tests benchmarks
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_run.py
	$(PY) benchmarks/bench_forecast.py
	$(PY) benchmarks/bench_page.py


clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
