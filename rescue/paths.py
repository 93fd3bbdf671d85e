"""Path text as pathlib spells it on Linux, without importing pathlib.

pathlib brings urllib.parse, ipaddress, ntpath and fnmatch with it: about
4 ms of a scan's start on the build host and tens of milliseconds under an
emulated CPU (issue 15), for the few things the writers of files and the
reports folder ask of a path: its normal spelling (what a message shows), its
folder and its last name. These functions answer as ``PurePosixPath`` does
(``str(PurePosixPath(p))``, ``.parent``, ``.name``; tests/test_paths.py
compares them), so every message and every file name stays the same.
"""

from __future__ import annotations

import os


def _split(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The root ("", "/" or "//") and the parts that name something (no "" or ".")."""
    text = os.fspath(path)
    root = ""
    if text.startswith("/"):  # POSIX keeps exactly two leading slashes, folds three or more
        root = "//" if text[:2] == "//" and text[:3] != "///" else "/"
    return root, [part for part in text.split("/") if part and part != "."]


def pure(path: str | os.PathLike[str]) -> str:
    """``str(PurePosixPath(path))``: no empty or "." parts, no trailing "/", "" is "."."""
    root, parts = _split(path)
    return root + "/".join(parts) or "."


def parent(path: str | os.PathLike[str]) -> str:
    """``str(PurePosixPath(path).parent)``: a root's and "."'s parent is itself."""
    root, parts = _split(path)
    return root + "/".join(parts[:-1]) or "."


def name(path: str | os.PathLike[str]) -> str:
    """``PurePosixPath(path).name``: the last part; "" for a root or "."."""
    parts = _split(path)[1]
    return parts[-1] if parts else ""


def like(given: str | os.PathLike[str], text: str) -> str | os.PathLike[str]:
    """TEXT as the kind of path GIVEN was: text for text, a ``Path`` for a ``Path`` (its
    caller has imported pathlib already), so a function that took either returns the same."""
    if isinstance(given, str):
        return text
    from pathlib import Path

    return Path(text)
