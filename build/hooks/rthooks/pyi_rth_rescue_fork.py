# Run-time hook that stands in for PyInstaller's own for multiprocessing (build/rescue.spec).
#
# PyInstaller's hook imports multiprocessing at every start, to divert the child
# processes that the "spawn" and "forkserver" start methods launch by running the
# executable again. rescue uses the "fork" context only (rescue/bench/runner.py),
# whose children are copies of the running process, so there is nothing to divert.
# Importing multiprocessing costs more than its modules: it draws a 32-byte authkey
# with a blocking getrandom(), which in the booted image waits until the kernel's
# random pool is ready, often seconds after /init on a machine without a hardware
# random source (docs/image.md). So this hook imports nothing.
