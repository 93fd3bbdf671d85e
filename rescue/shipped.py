"""The data files rescue ships in ``rescue/data``, read as the plain files they are.

Why not importlib.resources or pkgutil, which exist for this: the first
imports tempfile, zipfile and their kin, the second loads typing on Python
3.11 (functools' singledispatch registration in pkgutil's own module code),
and a scan that names a sense or a command that checks the drive table paid
for them before its first command under an emulated CPU (docs/performance.md,
"Start-up of a scan"). Both would read the same bytes: the package is always
a folder of files, in a checkout, an installed wheel and the frozen app alike
(PyInstaller onedir with ``noarchive``: build/rescue.spec puts ``rescue/data``
beside the modules).
"""

from __future__ import annotations

import os

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def path_of(name: str) -> str:
    return os.path.join(FOLDER, name)


def read_shipped(name: str) -> bytes:
    """The bytes of ``rescue/data/NAME``; OSError as ``open`` gives it."""
    with open(path_of(name), "rb") as file:
        return file.read()
