# rescue: the two front-door commands are `make demo` and `make test`.
# The venv's interpreter: the distribution's own where there is one. Debian's python3 is
# built with PGO and LTO and has libpython linked in; it starts a venv in 0.21 s where a
# --enable-shared build without PGO (pyenv's) takes 0.39 s under TCG, and a whole scan
# is a quarter faster (docs/performance.md). The frozen app has its own (build/freeze.py).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
RESCUE := $(VENV)/bin/rescue
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: setup demo test test-quick lint bench clean deps-venv deps-quick deps-all deps-vm deps-image

# Set-up runs in the order written (the deps-* steps may call apt-get; never two at once).
.NOTPARALLEL:

# What a target needs besides Python, installed when missing by build/ensure_deps.py:
# the Debian packages of build/apt-packages.txt (by section) and the pinned kernel.
# As root it installs; otherwise through `sudo -n`, or it stops with the command to run.
# When all is there it is one dpkg-query: well under a second.
DEPS := $(PYTHON) build/ensure_deps.py --venv $(VENV)
deps-venv:  ; @$(DEPS) venv
deps-quick: ; @$(DEPS) venv quick
deps-vm:    ; @$(DEPS) venv vm kernel
deps-image: ; @$(DEPS) venv image kernel
deps-all:   ; @$(DEPS) venv quick vm image kernel

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	# compat: a plain path in a .pth, where the default editable finder costs every
	# start in the venv pathlib and re (0.45 s of 0.82 s under TCG; docs/performance.md)
	$(PY) -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	touch $@

# Bytecode for what changed since the last time (compileall skips what is current): a
# run that may not write it (PYTHONDONTWRITEBYTECODE, or the test guest's read-only view
# of the tree) would otherwise compile every module it imports, at every start.
# setuptools' distutils-precedence.pth imports _distutils_hack at every start of every
# process in the venv (1.9 M instructions, 6% of the interpreter's start; 13 ms under TCG)
# to redirect `import distutils`, which nothing here imports (docs/performance.md).
setup: deps-venv $(VENV)/.installed
	@$(PY) -m compileall -q rescue
	@rm -f $(VENV)/lib/python3*/site-packages/distutils-precedence.pth

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
# The booted-image tests (tests/boot, one QEMU at a time) run beside the rest (whose QEMU
# guest suite is one more): each TCG guest keeps one core busy, so on a two-core machine the
# two halves overlap instead of queueing. The boot half's output follows the main half's.
# With PYTEST_ARGS set (a narrower run) everything goes through one pytest.
BOOT_LOG := out/boot-tests.log
test: deps-all setup
	$(PY) -m ruff check rescue tests
ifeq ($(strip $(PYTEST_ARGS)),)
	@mkdir -p out; \
	$(PY) -m pytest -q -m "" --durations=10 tests/boot > $(BOOT_LOG) 2>&1 & boot=$$!; \
	rc=0; $(PY) -m pytest -q -m "" --durations=15 --ignore=tests/boot || rc=$$?; \
	wait $$boot || rc=$$?; echo "--- booted-image tests (tests/boot) ---"; cat $(BOOT_LOG); \
	exit $$rc
else
	$(PY) -m pytest -q -m "" $(PYTEST_ARGS)
endif

# The fast in-process suite only.
test-quick: deps-quick setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check rescue tests

bench: deps-all setup
	$(PY) -m tests.bench $(BENCH)

clean:
	rm -rf $(VENV) dist out .pytest_cache

-include tests/vm/rules.mk
-include iso/rules.mk
