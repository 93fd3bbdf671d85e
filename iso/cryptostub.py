"""Replace OpenSSL's libcrypto in the image by a stub of the functions it is linked for.

Why: only kmod and libkmod (which udevadm links) need libcrypto.so.3, and only
to print who signed a module (`modinfo`'s signer fields, the PKCS#7 parsing in
kmod's libkmod-signature.c). Loading a module never uses it: the kernel itself
checks each module's signature (and under Secure Boot lockdown refuses an
unsigned one). The real library is 4.7 MB, 1.6 MB of the compressed initramfs
(docs/image.md); the stub is a few KiB.

What the stub is: every OpenSSL function an ELF file of the image imports,
under the OpenSSL version node it imports it with, each returning 0 (NULL).
libkmod treats a NULL from BIO_new_mem_buf as "no signature details", so
`modinfo` prints a module without its signer and everything else unchanged.
The list is read from the image's own files, so a program that starts to use
another function gets it stubbed rather than failing to load; a program that
needs OpenSSL for real work is refused at build time (NEEDS_REAL_CRYPTO).
Built from stdin with gcc, stripped: no path or time goes into the file, so
two builds give the same bytes.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from iso import elfdeps, tool

LIBCRYPTO = "libcrypto.so.3"
LIBDIR = "usr/lib/x86_64-linux-gnu"
# The programs the stub is for; any other ELF file needing libcrypto stops the build.
STUBBED_FOR = {"kmod", "libkmod.so.2"}
_UNDEFINED = re.compile(r"^\s+U (\w+)@(OPENSSL_[\w.]+)$")


class StubError(Exception):
    """The stub cannot stand in for libcrypto (a one-line reason)."""


def _run(cmd: list[str], stdin: str | None = None) -> str:
    return tool.run(cmd, StubError, stdin=stdin)


def imports(nm_output: str) -> dict[str, str]:
    """OpenSSL symbol -> version node, from `nm -D --undefined-only` output."""
    return {m[1]: m[2] for line in nm_output.splitlines() if (m := _UNDEFINED.match(line))}


def users(root: Path) -> list[Path]:
    """ELF files in ROOT that link libcrypto (the library itself aside)."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.name != LIBCRYPTO and elfdeps.is_elf(path):
            if LIBCRYPTO in _run(["readelf", "-d", str(path)]):
                found.append(path)
    return found


def source(symbols: dict[str, str]) -> tuple[str, str]:
    """The stub's C source and its linker version script."""
    code = "".join(f"void *{name}(void) {{ return 0; }}\n" for name in sorted(symbols))
    nodes = sorted(set(symbols.values()))
    script = "".join(
        f"{node} {{ global: {''.join(f'{n}; ' for n in sorted(symbols) if symbols[n] == node)}}};\n"
        for node in nodes
    )
    return code, script


def install(root: Path) -> int:
    """Replace ROOT's libcrypto by the stub; return how many functions it stubs."""
    target = root / LIBDIR / LIBCRYPTO
    if not target.exists():
        return 0
    symbols: dict[str, str] = {}
    for user in users(root):
        if user.name not in STUBBED_FOR:
            where = user.relative_to(root)
            raise StubError(f"{where} links {LIBCRYPTO}, which the stub cannot serve")
        symbols.update(imports(_run(["nm", "-D", "--undefined-only", str(user)])))
    code, script = source(symbols)
    with tempfile.TemporaryDirectory() as work:
        version_script = Path(work) / "libcrypto.map"
        version_script.write_text(script)
        target.unlink()
        _run(
            ["gcc", "-shared", "-fPIC", "-O2", "-s", "-nostdlib", f"-Wl,-soname,{LIBCRYPTO}",
             f"-Wl,--version-script={version_script}", "-o", str(target), "-x", "c", "-"],
            stdin=code,
        )  # fmt: skip
    return len(symbols)
