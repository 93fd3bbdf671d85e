# The real-kernel test bed: QEMU guest with the pinned Debian kernel (see tests/vm/harness.py).
.PHONY: test-vm vm-kernel vm-shell

# Fetch (or reuse) the pinned kernel; fails with one line if the archive dropped it.
vm-kernel: deps-vm
	$(PYTHON) build/debian_kernel.py fetch

# Boot one guest, run tests/guest/ inside it, report each guest test on the host.
test-vm: deps-vm setup
	$(PY) -m pytest -q -m vm tests/vm $(PYTEST_ARGS)

# Run one command in the guest, e.g. `make vm-shell CMD='sg_inq /dev/sg0'`.
vm-shell: deps-vm setup
	$(PY) tests/vm/harness.py -- sh -c '$(CMD)'
