"""The frozen app leaves out only modules the tool never runs (build/freeze.py EXCLUDES).

A module left out of the freeze that the tool does import fails only in the
booted image, as a ModuleNotFoundError; these tests catch it on the host.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))

from freeze import EXCLUDES  # noqa: E402

# Excluded for the image, yet loaded on the host: hashlib tries _hashlib first and
# falls back to its built-in SHA-2 when it is missing, as in the image.
TOLERATED = {"_hashlib"}


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


def test_importing_every_rescue_module_loads_no_excluded_module() -> None:
    """Import-time dependencies of rescue, rich, pyudev and py_sg, transitively."""
    code = (
        "import importlib, pkgutil, sys, rescue\n"
        "for m in pkgutil.walk_packages(rescue.__path__, 'rescue.'):\n"
        "    importlib.import_module(m.name)\n"
        "import pyudev, py_sg\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = done.stdout.split()
    assert len(loaded) > 100
    assert [n for n in loaded if excluded(n) and n not in TOLERATED] == []


HOOKS = ROOT / "build" / "hooks"


def test_the_multiprocessing_run_time_hook_imports_nothing() -> None:
    """PyInstaller's own imports multiprocessing at every start, which waits for the
    kernel's random pool (a blocking getrandom for the authkey); ours replaces it."""
    table = ast.literal_eval((HOOKS / "rthooks.dat").read_text())
    hooks = [HOOKS / "rthooks" / name for name in table["multiprocessing"]]
    assert hooks and all(hook.is_file() for hook in hooks)
    for hook in hooks:
        assert imported_names(hook.read_text()) == set()


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
