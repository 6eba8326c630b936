PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench lint docs notebooks venv dev clean browser-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(PIP) install -q -e '.[dev,cluster]'
	$(PIP) install -q --no-deps torchattacks==3.5.1
	touch $@

venv: $(VENV)/.installed

dev: $(VENV)/.dev

demo: $(VENV)/.installed
	$(VENV)/bin/rnnscope demo --out reports/demo

# Headless Chromium for the report's browser test (Debian: chromium-headless-shell). Installed
# only when missing and running as root with apt-get; any failure just leaves the test skipped.
browser-deps:
	@if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium-headless-shell and fonts-dejavu-core for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium-headless-shell fonts-dejavu-core) >/dev/null 2>&1 \
			|| echo "could not install chromium-headless-shell; the browser test will be skipped"; \
	else \
		echo "no chromium found and not root: the browser test will be skipped"; \
	fi

# Test processes (one compute thread each, every test file on one of them, so that its fixtures
# are made once); TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= 2

test: $(VENV)/.dev
	-@$(MAKE) --no-print-directory browser-deps
	MPLBACKEND=Agg $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.dev
	$(PY) benchmarks/pseudospectra.py
	$(PY) benchmarks/analyze.py
	$(PY) benchmarks/power_chain_order.py
	$(PY) benchmarks/training.py
	$(PY) benchmarks/attacks.py
	$(PY) benchmarks/dynamics.py
	$(PY) benchmarks/sweep.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Executed copies of the notebooks (jupytext percent scripts in notebooks/) with their outputs.
notebooks: $(VENV)/.dev
	MPLBACKEND=Agg $(PY) docs/execute_notebooks.py --out docs/notebooks

docs: notebooks
	$(VENV)/bin/sphinx-build -W --keep-going -q docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info reports docs/_build docs/notebooks
