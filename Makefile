# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Every package is installed at the version in constraints.txt: the versions that were tested,
# none with a known vulnerability. `make lock` rewrites it from a venv where `make test` passed.
LOCK   := -c constraints.txt
# torch goes in before anything that depends on it, pinned to the CPU build, so pip never pulls CUDA.
TORCH  := torch==2.13.0

.PHONY: demo test test-fast lint serve clean chromium postgres lock models

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(LOCK) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(LOCK) $(TORCH)
	$(PIP) install $(LOCK) -e '.[dev,wan]'
	@touch $@ $(VENV)/.base

demo: $(VENV)/.base models
	$(BIN)/refvid demo

# The vision models (MediaPipe's .tflite files, from the mediapipe wheel on PyPI) go into
# REFVID_MODEL_DIR (default ~/.cache/refvid/models), checked by SHA-256; kept when present.
models: $(VENV)/.base
	$(BIN)/python -m refvid.vision.models

# Two pytest workers, each taking whole test files (module-scoped servers stay one per file):
# the suite leaves a core idle while it waits on servers, encoders and databases.
test: $(VENV)/.dev chromium postgres models
	$(BIN)/ruff check refvid tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The fast lane while working: no live servers, browsers or full-size renders (`make test` runs all).
test-fast: $(VENV)/.dev models
	$(BIN)/python -m pytest -q -m "not slow"

# The page tests drive Debian's chromium through Playwright (never `playwright install`: no
# browser downloads). Installed here when missing; where it cannot be, those tests are skipped.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo -n); \
	  echo "installing Debian's chromium for the browser tests (apt-get)"; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; } \
	    || echo "could not install chromium with apt-get: the browser tests will be skipped"; \
	else echo "chromium is not installed and apt-get needs root: the browser tests will be skipped (apt-get install chromium)"; fi

# The scale-out tests (queue, leases, a two-node cluster) use PostgreSQL on 127.0.0.1:5432 with
# trust auth, each test making and dropping its own database. Started here when it is
# installed but stopped; without it those tests are skipped with the reason.
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then :; \
	elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then \
	  echo "starting PostgreSQL for the scale-out tests"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start \
	    || echo "could not start PostgreSQL: the scale-out tests will be skipped"; \
	else echo "no PostgreSQL on 127.0.0.1:5432: the scale-out tests will be skipped"; fi

serve: $(VENV)/.base
	$(BIN)/refvid serve --dev-key

lock: $(VENV)/.dev
	$(BIN)/python tools/lock.py > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
