"""The bridge's refusals before it touches the kernel: one clear line each.

The success path needs a kernel with target_core_user and runs in the QEMU
guest (tests/guest/test_tcmu.py, test_emulate.py); here the system is faked
so that no test ever loads modules or creates drives on the host.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from rescue.emulator import tcmu_configfs
from rescue.emulator.tcmu_configfs import REQUIRED_MODULES, KernelSupportMissing
from rescue.errors import ExitCode, PermissionDenied, UsageError
from rescue.ops import emulate


def _fake_system(root: Path, modules: tuple[str, ...]) -> Path:
    for name in modules:
        (root / "module" / name).mkdir(parents=True)
    return root


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records modprobe/mount calls; both fail as on a kernel without the pieces."""
    calls: list[list[str]] = []

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", f"{cmd[0]}: FATAL: not found\n")

    monkeypatch.setattr(tcmu_configfs.subprocess, "run", run)
    monkeypatch.setattr(tcmu_configfs.os, "geteuid", lambda: 0)
    return calls


def test_not_root_is_a_permission_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcmu_configfs.os, "geteuid", lambda: 1000)
    with pytest.raises(PermissionDenied) as err:
        tcmu_configfs.ensure_kernel_support()
    assert err.value.exit_code == ExitCode.PERMISSION and "root" in err.value.message


def test_missing_modules_are_named_after_trying_modprobe(
    tmp_path: Path, commands: list[list[str]]
) -> None:
    root = _fake_system(tmp_path, ("target_core_mod",))
    with pytest.raises(KernelSupportMissing) as err:
        tcmu_configfs.ensure_kernel_support(root)
    assert commands == [["modprobe", "-a", "target_core_user", "tcm_loop"]]
    assert "target_core_user, tcm_loop" in err.value.message
    assert "\n" not in err.value.message and err.value.hint


def test_a_missing_modprobe_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(cmd[0])

    monkeypatch.setattr(tcmu_configfs.subprocess, "run", run)
    monkeypatch.setattr(tcmu_configfs.os, "geteuid", lambda: 0)
    with pytest.raises(KernelSupportMissing, match="modprobe is not installed"):
        tcmu_configfs.ensure_kernel_support(_fake_system(tmp_path, ()))


def test_unmounted_configfs_is_reported_with_the_mount_command(
    tmp_path: Path, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_system(tmp_path / "sys", REQUIRED_MODULES)
    monkeypatch.setattr(tcmu_configfs, "CONFIGFS", tmp_path / "config")
    with pytest.raises(KernelSupportMissing) as err:
        tcmu_configfs.ensure_kernel_support(root)
    assert commands[0][:3] == ["mount", "-t", "configfs"]
    assert "configfs is not mounted" in err.value.message
    assert err.value.hint and "mount -t configfs" in err.value.hint


def test_present_support_passes_without_running_anything(
    tmp_path: Path, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_system(tmp_path / "sys", REQUIRED_MODULES)
    (tmp_path / "config/target").mkdir(parents=True)
    monkeypatch.setattr(tcmu_configfs, "CONFIGFS", tmp_path / "config")
    tcmu_configfs.ensure_kernel_support(root)
    assert commands == []


def test_emulate_rejects_an_unknown_model_before_touching_the_kernel(
    commands: list[list[str]],
) -> None:
    with pytest.raises(UsageError) as err:
        emulate.run(
            argparse.Namespace(
                specs=["generic-dvd", "no-such-drive"], json=False, rev=None, image=None, fault=None
            )
        )
    assert "no-such-drive" in err.value.message
    assert commands == []


def test_emulate_announces_nodes_as_text_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    drives = [
        SimpleNamespace(label="generic-dvd", sr="/dev/sr1", sg="/dev/sg2"),
        SimpleNamespace(label="btc-drw1004im,rev=0043", sr="/dev/sr2", sg="/dev/sg3"),
    ]
    emulate._announce(drives, as_json=False)  # type: ignore[arg-type]
    text = capsys.readouterr().out.splitlines()
    assert text[:2] == [
        "generic-dvd: /dev/sr1 /dev/sg2",
        "btc-drw1004im,rev=0043: /dev/sr2 /dev/sg3",
    ]
    assert text[2].startswith("ready")
    emulate._announce(drives, as_json=True)  # type: ignore[arg-type]
    rows = json.loads(capsys.readouterr().out)
    assert rows[1] == {"spec": "btc-drw1004im,rev=0043", "sr": "/dev/sr2", "sg": "/dev/sg3"}
