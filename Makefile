# Two commands do all the set-up on a fresh machine:
#   make run    virtualenv + installs + Graphviz, then serves the dashboard on http://127.0.0.1:8050
#   make test   the same plus test tools, Debian's chromium + chromium-driver, redis-server and
#               nginx-light (the team deployment's integration tests),
#               then ruff (lint and format) and the whole suite
#   make test-fast   ruff and the tests that need no browser (no Chromium installed)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8050
# Debian packages, installed with apt-get only where the program is missing.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test test-fast lint bench models export clean system-python system-run system-test

run: $(VENV)/.runtime system-run
	$(PY) -m layerviz serve --host $(HOST) --port $(PORT)

test: lint system-test
	DASH_TEST_CHROMEPATH=/usr/bin/chromium $(PY) -m pytest --headless -q

test-fast: lint system-run
	$(PY) -m pytest -q -m "not e2e"

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(VENV)/.dev
	$(PY) bench/extract.py
	$(PY) bench/dashboard.py
	$(PY) bench/explain.py
	$(PY) bench/architecture.py
	$(PY) bench/inspector.py
	$(PY) bench/compare.py
	$(PY) bench/export.py
	$(PY) bench/load.py
	$(PY) bench/rss.py
	$(PY) bench/input_sources.py
	$(PY) bench/browser.py

# Retrain the bundled models (scikit-learn is a development dependency).
models: $(VENV)/.dev
	for script in models/train_*.py; do $(PY) $$script || exit 1; done

# The article's run on the default model, without a browser.
export: $(VENV)/.runtime
	$(PY) -m layerviz export digits_cnn --out layerviz-export

$(VENV)/.runtime: requirements.txt pyproject.toml | system-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Debian's python3 has no venv module until python3-venv is installed.
system-python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
	  { $(APT) update -qq && $(APT) install -y -qq python3-venv; }

system-run:
	@command -v dot >/dev/null || { $(APT) update -qq && $(APT) install -y -qq graphviz; }

system-test: system-run
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	   && command -v redis-server >/dev/null && command -v nginx >/dev/null; } || \
	  { $(APT) update -qq && $(APT) install -y -qq chromium chromium-driver redis-server \
	      nginx-light; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache layerviz-export *.egg-info
