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

.PHONY: demo test lint serve clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(LOCK) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(LOCK) $(TORCH)
	$(PIP) install $(LOCK) -e '.[dev,wan]'
	@touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(BIN)/refvid demo

test: $(VENV)/.dev
	$(BIN)/ruff check refvid tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

serve: $(VENV)/.base
	$(BIN)/refvid serve --dev-key

lock: $(VENV)/.dev
	$(BIN)/python tools/lock.py > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
