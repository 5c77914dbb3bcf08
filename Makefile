# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# torch goes in before anything that depends on it, pinned to the CPU build, so pip never pulls CUDA.
TORCH  := torch==2.13.0

.PHONY: demo test lint serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[dev,wan]'
	@touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(BIN)/refvid demo

test: $(VENV)/.dev
	$(BIN)/ruff check refvid tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

serve: $(VENV)/.base
	$(BIN)/refvid serve --dev-key

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
