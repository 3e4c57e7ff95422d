# Two commands do all the set-up on a fresh machine:
#   make run    virtualenv + installs + Graphviz, then serves the dashboard on http://127.0.0.1:8050
#   make test   the same plus test tools, Debian's chromium + chromium-driver, redis-server and
#               nginx-light (the team deployment's integration tests),
#               then ruff (lint and format), the whole suite on TensorFlow, and the library's
#               tests again with Keras on JAX (BACKEND_TESTS; Keras fixes its backend at import)
#   make test-fast   ruff and the tests that need no browser (no Chromium installed)
#   make test-torch  BACKEND_TESTS with Keras on PyTorch, in a venv of its own (.venv-torch:
#               the CPU wheel torch==2.13.0 and requirements.txt without TensorFlow); not in CI
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8050
# The library's tests that run once more per backend: extraction and the gradient interface,
# explanations (their reference checks included), statistics and comparison, patterns, the
# lazy import and the dashboard's in-process check. Kept small: on JAX each new model is
# compiled again (XLA), and CI adds this run to the TensorFlow one. The browser and server
# tests stay on TensorFlow. Widen it on the command line: make test-torch BACKEND_TESTS=tests/load
BACKEND_TESTS ?= tests/extract tests/analysis/test_explain.py \
                 tests/analysis/test_explain_reference.py tests/analysis/test_statistics.py \
                 tests/analysis/test_compare.py tests/patterns tests/test_lazy_import.py \
                 tests/ui/test_any_backend.py
TORCH_VENV ?= .venv-torch
# Debian packages, installed with apt-get only where the program is missing.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test test-jax test-torch test-fast lint bench models export clean system-python system-run system-test

run: $(VENV)/.runtime system-run
	$(PY) -m layerviz serve --host $(HOST) --port $(PORT)

test: lint system-test
	DASH_TEST_CHROMEPATH=/usr/bin/chromium $(PY) -m pytest --headless -q
	$(MAKE) test-jax

test-jax: $(VENV)/.dev
	KERAS_BACKEND=jax $(PY) -m pytest -q $(BACKEND_TESTS)

test-torch: $(TORCH_VENV)/.torch
	KERAS_BACKEND=torch $(TORCH_VENV)/bin/python -m pytest -q $(BACKEND_TESTS)

# torch==2.13.0 is the CPU wheel (PyPI's default torch pulls ~4 GB of CUDA packages); no
# TensorFlow beside it (TensorFlow imported before Keras-on-torch crashes the interpreter).
$(TORCH_VENV)/.torch: requirements.txt requirements-dev.txt pyproject.toml | system-python
	test -x $(TORCH_VENV)/bin/python || $(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(TORCH_VENV)/bin/python -m pip install -q torch==2.13.0
	grep -v '^tensorflow' requirements.txt > $(TORCH_VENV)/requirements.txt
	grep '^pytest==' requirements-dev.txt >> $(TORCH_VENV)/requirements.txt
	$(TORCH_VENV)/bin/python -m pip install -q -r $(TORCH_VENV)/requirements.txt
	$(TORCH_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

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
	rm -rf $(VENV) $(TORCH_VENV) .pytest_cache .ruff_cache layerviz-export *.egg-info
