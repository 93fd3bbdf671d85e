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

DEMO := out/demo
DEMO_DRIVE := emu:btc-drw1004im,rev=0043,disc=none,state=$(DEMO)/drive.state

# An emulated BTC DRW-1004IM on 0043: identify it, plan 0043 -> 0151, flash 0050 then 0151.
demo: setup
	$(RESCUE) list --emulated
	$(RESCUE) info emu:generic-dvd
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(PY) -m rescue.emulator.images btc 0050 -o $(DEMO)/V0050.bin
	$(PY) -m rescue.emulator.images btc 0151 -o $(DEMO)/V0151.bin
	$(RESCUE) fw inspect $(DEMO)/V0151.bin
	$(RESCUE) plan '$(DEMO_DRIVE)' --to 0151
	$(RESCUE) flash '$(DEMO_DRIVE)' $(DEMO)/V0050.bin --yes --no-backup --reports $(DEMO)/reports
	$(RESCUE) flash '$(DEMO_DRIVE)' $(DEMO)/V0151.bin --yes --no-backup --reports $(DEMO)/reports
	$(RESCUE) info '$(DEMO_DRIVE)'

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
	$(PY) -m tests.bench $(BENCH)

clean:
	rm -rf $(VENV) dist out .pytest_cache

-include tests/vm/rules.mk
-include iso/rules.mk
