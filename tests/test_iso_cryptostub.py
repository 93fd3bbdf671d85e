"""The libcrypto stub (iso/cryptostub.py): kmod loads and runs with it, other users are refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from iso import cryptostub

KMOD = Path("/usr/bin/kmod")
LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
NM_SAMPLE = """\
                 w __cxa_finalize@GLIBC_2.2.5
                 U BIO_free@OPENSSL_3.0.0
                 U d2i_PKCS7_bio@OPENSSL_3.0.0
                 U strlen@GLIBC_2.2.5
"""

needs_host_kmod = pytest.mark.skipif(
    not (KMOD.exists() and (LIBDIR / cryptostub.LIBCRYPTO).exists()),
    reason="the build host's kmod and libcrypto (build/apt-packages.txt, image)",
)


def test_imports_keeps_openssl_symbols_with_their_version_node() -> None:
    assert cryptostub.imports(NM_SAMPLE) == {
        "BIO_free": "OPENSSL_3.0.0",
        "d2i_PKCS7_bio": "OPENSSL_3.0.0",
    }


def test_source_defines_each_function_and_lists_it_under_its_node() -> None:
    code, script = cryptostub.source({"b": "OPENSSL_3.0.0", "a": "OPENSSL_3.0.0", "c": "X_1"})
    assert code == "".join(f"void *{n}(void) {{ return 0; }}\n" for n in "abc")
    assert script == "OPENSSL_3.0.0 { global: a; b; };\nX_1 { global: c; };\n"


def _root_with(tmp_path: Path, program: Path) -> Path:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / cryptostub.LIBDIR).mkdir(parents=True)
    shutil.copy2(program, root / "usr/bin" / program.name)
    shutil.copy2(LIBDIR / cryptostub.LIBCRYPTO, root / cryptostub.LIBDIR)
    return root


@needs_host_kmod
def test_kmod_runs_against_the_stub(tmp_path: Path) -> None:
    root = _root_with(tmp_path, KMOD)
    assert cryptostub.install(root) >= 10
    stub = root / cryptostub.LIBDIR / cryptostub.LIBCRYPTO
    assert stub.stat().st_size < 64 * 1024
    env = {"LD_LIBRARY_PATH": str(stub.parent), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(root / "usr/bin/kmod"), "--version"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "kmod version" in done.stdout
    ldd = subprocess.run(["ldd", str(root / "usr/bin/kmod")], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert str(stub) in ldd


@needs_host_kmod
def test_stub_builds_are_byte_identical(tmp_path: Path) -> None:
    stubs = []
    for name in ("one", "two"):
        root = _root_with(tmp_path / name, KMOD)
        cryptostub.install(root)
        stubs.append((root / cryptostub.LIBDIR / cryptostub.LIBCRYPTO).read_bytes())
    assert stubs[0] == stubs[1]


@needs_host_kmod
def test_a_program_that_needs_openssl_for_real_stops_the_build(tmp_path: Path) -> None:
    root = _root_with(tmp_path, KMOD)
    shutil.copy2(KMOD, root / "usr/bin/signtool")  # same imports, not on the list
    with pytest.raises(cryptostub.StubError, match="usr/bin/signtool links libcrypto"):
        cryptostub.install(root)


def test_a_root_without_libcrypto_is_left_alone(tmp_path: Path) -> None:
    assert cryptostub.install(tmp_path) == 0
    assert list(tmp_path.iterdir()) == []
