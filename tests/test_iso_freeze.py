"""The frozen app leaves out only modules the tool never runs (build/freeze.py EXCLUDES).

A module left out of the freeze that the tool does import fails only in the
booted image, as a ModuleNotFoundError; these tests catch it on the host.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))

import PyInstaller  # noqa: E402
from freeze import EXCLUDES, RUNTIME_HOOKS_LEFT_OUT, startup_scripts  # noqa: E402

# PyInstaller's own run-time hooks: module name -> the hook files it runs for it.
PYI_HOOKS = Path(PyInstaller.__file__).parent / "hooks"
PYI_RTHOOKS: dict[str, list[str]] = ast.literal_eval((PYI_HOOKS / "rthooks.dat").read_text())


def excluded(name: str) -> bool:
    """Whether module NAME is, or is inside, an excluded module."""
    return any(name == ex or name.startswith(f"{ex}.") for ex in EXCLUDES)


def imported_names(source: str) -> set[str]:
    """Every module an import statement in SOURCE names, lazy imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_excluded_recognises_submodules_only_by_dotted_prefix() -> None:
    assert excluded("email.utils")
    assert excluded("xml")
    assert not excluded("xmlish")
    assert not excluded("json")


def test_no_rescue_module_imports_an_excluded_module() -> None:
    offenders = []
    for path in sorted((ROOT / "rescue").rglob("*.py")):
        for name in imported_names(path.read_text()):
            if excluded(name):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


# Every rescue module, then pyudev and py_sg, imported with the excluded modules
# missing, as in the frozen app: an import that needs one fails the run, one that
# carries on without it (hashlib without _hashlib, shutil without bz2 and lzma) does.
LEAVE_OUT = f"""
import importlib, pkgutil, sys
EXCLUDED = {EXCLUDES!r}
assert not [name for name in sys.modules if name in EXCLUDED]
class Missing:  # not importlib.abc's: its resources bring tempfile, shutil and bz2
    def find_spec(self, name, path=None, target=None):
        if any(name == ex or name.startswith(ex + ".") for ex in EXCLUDED):
            raise ModuleNotFoundError(f"No module named {{name!r}} (left out)", name=name)
sys.meta_path.insert(0, Missing())
"""
IMPORT_ALL = """
import rescue
for m in pkgutil.walk_packages(rescue.__path__, "rescue."):
    importlib.import_module(m.name)
import pyudev, py_sg
print("\\n".join(sorted(sys.modules)))
"""


def test_excluded_modules_block_an_import_as_in_the_frozen_app() -> None:
    """The stand-in for the frozen app's missing modules does refuse them."""
    code = LEAVE_OUT + "import bz2"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "No module named 'bz2' (left out)" in done.stderr


@pytest.fixture(scope="module")
def loaded() -> list[str]:
    """The modules loaded by importing everything with the excluded modules missing."""
    done = subprocess.run(
        [sys.executable, "-c", LEAVE_OUT + IMPORT_ALL],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_importing_every_rescue_module_needs_no_excluded_module(loaded: list[str]) -> None:
    """Import-time dependencies of rescue, rich, pyudev and py_sg, transitively."""
    assert len(loaded) > 100
    assert "rescue.cli" in loaded and "rich.console" in loaded
    assert [n for n in loaded if excluded(n)] == []


def test_the_left_out_run_time_hooks_are_pyinstallers_own() -> None:
    """Each name still names one of PyInstaller's hooks: a renamed hook would come back
    into every start unseen."""
    hooks = {name.removesuffix(".py") for names in PYI_RTHOOKS.values() for name in names}
    assert set(RUNTIME_HOOKS_LEFT_OUT) <= hooks


def test_startup_scripts_leaves_out_those_hooks_only() -> None:
    scripts = [
        ("pyiboot01_bootstrap", "/pyi/loader/pyiboot01_bootstrap.py", "PYSOURCE"),
        ("pyi_rth_pkgutil", "/pyi/hooks/rthooks/pyi_rth_pkgutil.py", "PYSOURCE"),
        ("pyi_rth_inspect", "/pyi/hooks/rthooks/pyi_rth_inspect.py", "PYSOURCE"),
        ("pyi_rth_multiprocessing", "/pyi/hooks/rthooks/pyi_rth_multiprocessing.py", "PYSOURCE"),
        ("pyi_rth_setuptools", "/pyi/hooks/rthooks/pyi_rth_setuptools.py", "PYSOURCE"),
        ("cli", str(ROOT / "rescue" / "cli.py"), "PYSOURCE"),
    ]
    assert [name for name, _, _ in startup_scripts(scripts)] == [
        "pyiboot01_bootstrap", "pyi_rth_setuptools", "cli",
    ]  # fmt: skip


def test_the_run_time_hooks_a_start_still_runs_import_no_excluded_module(
    loaded: list[str],
) -> None:
    """PyInstaller adds a module's hooks when the build collects that module; a hook that
    imports a left-out module would stop the frozen app at every start."""
    kept = [
        PYI_HOOKS / "rthooks" / name
        for module, names in PYI_RTHOOKS.items() if module in loaded
        for name in names if name.removesuffix(".py") not in RUNTIME_HOOKS_LEFT_OUT
    ]  # fmt: skip
    for hook in kept:
        names = imported_names(hook.read_text())
        assert [n for n in names if excluded(n)] == [], hook.name


def test_rescue_starts_processes_with_fork_only() -> None:
    """What makes PyInstaller's spawn/forkserver diversion unnecessary: every context
    is get_context("fork"), and nothing starts a process through the default one."""
    contexts, defaults = [], []
    for path in sorted((ROOT / "rescue").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            on_module = isinstance(owner, ast.Name) and owner.id == "multiprocessing"
            if node.func.attr == "get_context":
                contexts.append([a.value for a in node.args if isinstance(a, ast.Constant)])
            elif on_module or node.func.attr == "set_start_method":
                defaults.append(f"{path.name}:{node.lineno} {node.func.attr}")
    assert contexts and all(args == ["fork"] for args in contexts), contexts
    assert defaults == []
