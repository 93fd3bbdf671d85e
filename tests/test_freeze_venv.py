"""PyInstaller's venv of its own (build/freeze.py freeze_python): made from the chosen
interpreter with the app's dependencies, reused while nothing it was made from changes.

The commands are recorded, not run: making a real venv is what `make iso` and the
boot tests do (tests/boot builds the image through build/freeze.py)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))

import freeze  # noqa: E402


def test_the_requirements_are_the_apps_dependencies_and_pyinstaller() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    wanted = freeze.freeze_requirements(text)
    assert wanted[: len(project["dependencies"])] == project["dependencies"]
    assert [r for r in wanted if r.lower().startswith("pyinstaller")] == ["pyinstaller>=6"]
    assert not [r for r in wanted if r.startswith(("pytest", "hypothesis", "ruff"))]


class Recorder:
    """Stands in for freeze._run: answers the interpreter query, records the rest, and
    makes the venv's python file as `python -m venv` would."""

    def __init__(self, venv: Path, where: str = "/opt/py 3.11.7 (main)") -> None:
        self.venv, self.where, self.calls = venv, where, []

    def __call__(self, cmd: list[str], what: str, env: dict | None = None) -> str:
        if cmd[1] == "-c":
            return f"{self.where}\n"
        self.calls.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            (self.venv / "bin").mkdir(parents=True, exist_ok=True)
            (self.venv / "bin" / "python").write_text("")
        return ""


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Recorder, Path]:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes((ROOT / "pyproject.toml").read_bytes())
    monkeypatch.setattr(freeze, "PYPROJECT", pyproject)
    monkeypatch.setenv("RESCUE_FREEZE_PYTHON", "/opt/py/bin/python3")
    venv = tmp_path / "freeze-venv"
    record = Recorder(venv)
    monkeypatch.setattr(freeze, "_run", record)
    return venv, record, pyproject


def test_the_venv_is_made_from_the_named_interpreter_then_reused(made) -> None:
    venv, record, _ = made
    assert freeze.freeze_python(venv) == venv / "bin" / "python"
    making, installing = record.calls
    assert making == ["/opt/py/bin/python3", "-m", "venv", "--clear", str(venv)]
    assert installing[:4] == [str(venv / "bin" / "python"), "-m", "pip", "install"]
    assert "pyinstaller>=6" in installing
    record.calls.clear()
    assert freeze.freeze_python(venv) == venv / "bin" / "python"
    assert record.calls == []


def test_the_venv_is_made_again_when_pyproject_changes(made) -> None:
    venv, record, pyproject = made
    freeze.freeze_python(venv)
    record.calls.clear()
    pyproject.write_text(pyproject.read_text().replace('"rich>=13"', '"rich>=14"'))
    freeze.freeze_python(venv)
    assert [cmd[1:3] for cmd in record.calls] == [["-m", "venv"], ["-m", "pip"]]
    assert "rich>=14" in record.calls[1]


def test_the_venv_is_made_again_when_the_interpreter_changes(made) -> None:
    venv, record, _ = made
    freeze.freeze_python(venv)
    record.calls.clear()
    record.where = "/opt/py 3.11.9 (main)"
    freeze.freeze_python(venv)
    assert [cmd[1:3] for cmd in record.calls] == [["-m", "venv"], ["-m", "pip"]]


def test_a_failed_install_leaves_no_stamp_so_the_next_build_tries_again(made) -> None:
    venv, record, _ = made

    def failing(cmd: list[str], what: str, env: dict | None = None) -> str:
        if cmd[1:3] == ["-m", "pip"]:
            raise freeze.FreezeError(f"{what} failed:\nno network")
        return record(cmd, what, env)

    freeze._run = failing  # restored by the fixture's monkeypatch
    with pytest.raises(freeze.FreezeError, match="no network"):
        freeze.freeze_python(venv)
    assert not (venv / freeze.FREEZE_STAMP).exists()


def test_an_interpreter_that_cannot_run_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESCUE_FREEZE_PYTHON", "/nonexistent/python3")
    with pytest.raises(freeze.FreezeError, match=r"^/nonexistent/python3: .* cannot be run"):
        freeze.freeze_python(Path("/nonexistent/venv"))
