"""build/debian_kernel.py without the network: lock file, cache reuse, clear failures."""

from __future__ import annotations

from pathlib import Path

import harness
import pytest

dk = harness._load_debian_kernel()
LOCK = dk.KernelLock("linux-image-6.1.0-99-amd64", "6.1.999-1", "ab" * 32)


def test_lock_round_trips_and_names_the_release(tmp_path: Path) -> None:
    path = tmp_path / "kernel.lock"
    dk.write_lock(LOCK, path)
    assert dk.read_lock(path) == LOCK
    assert LOCK.release == "6.1.0-99-amd64"


def test_the_committed_lock_is_readable() -> None:
    lock = dk.read_lock()
    assert lock.package.startswith("linux-image-") and len(lock.sha256) == 64


@pytest.mark.parametrize("text", ["", "package = 'x'\n", "not toml ["])
def test_a_broken_lock_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kernel.lock"
    path.write_text(text)
    with pytest.raises(dk.KernelError, match="malformed"):
        dk.read_lock(path)


def test_a_missing_lock_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(dk.KernelError, match="debian_kernel.py lock"):
        dk.read_lock(tmp_path / "nope.lock")


def _no_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(cmd: list[str], timeout: float = 0, cwd: Path | None = None) -> str:
        calls.append(cmd)
        raise dk.KernelError(f"`{' '.join(cmd)}` failed: E: Version '{LOCK.version}' not found")

    monkeypatch.setattr(dk, "_run", run)
    return calls


def test_a_complete_cache_is_used_without_apt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _no_commands(monkeypatch)
    root = tmp_path / LOCK.version
    (root / "boot").mkdir(parents=True)
    (root / "boot" / f"vmlinuz-{LOCK.release}").write_bytes(b"kernel")
    (root / dk.COMPLETE_MARK).write_text(LOCK.sha256 + "\n")
    tree = dk.fetch_kernel(tmp_path, LOCK)
    assert tree.vmlinuz.read_bytes() == b"kernel" and tree.modules_dir == root
    assert calls == []


def test_a_vanished_version_fails_with_the_version_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _no_commands(monkeypatch)
    (tmp_path / LOCK.version).mkdir()  # an unpack that never completed is not trusted
    with pytest.raises(dk.KernelError) as err:
        dk.fetch_kernel(tmp_path, LOCK)
    message = str(err.value)
    assert f"{LOCK.package}={LOCK.version}" in message
    assert "debian_kernel.py lock" in message and "\n" not in message
    assert calls[0][:2] == ["apt-get", "download"]


def test_module_closure_keeps_load_order_and_drops_duplicates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = {
        "sr_mod": "insmod /k/cdrom.ko\ninsmod /k/scsi_mod.ko\ninsmod /k/sr_mod.ko\n",
        "sg": "insmod /k/scsi_mod.ko\ninsmod /k/sg.ko opt=1\n",
        "configfs": "builtin configfs\n",
    }
    monkeypatch.setattr(dk, "_run", lambda cmd, timeout=0: shown[cmd[-1]])
    tree = dk.KernelTree("6.1.0-99-amd64", Path("/k"))
    closure = dk.module_closure(tree, ["sr_mod", "sg", "configfs"])
    assert [p.name for p in closure] == ["cdrom.ko", "scsi_mod.ko", "sr_mod.ko", "sg.ko"]
