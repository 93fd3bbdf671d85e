# rescue: the two front-door commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RESCUE := $(VENV)/bin/rescue
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: setup demo test test-quick lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(RESCUE) list --emulated
	$(RESCUE) info emu:generic-dvd

# Everything, the QEMU guest tests included (what CI runs).
test: setup
	$(PY) -m ruff check rescue tests
	$(PY) -m pytest -q -m "" $(PYTEST_ARGS)

# The fast in-process suite only.
test-quick: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check rescue tests

bench: setup
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) dist out .pytest_cache

-include tests/vm/rules.mk
-include iso/rules.mk
