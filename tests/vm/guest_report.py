"""Which guest tests exist (read statically) and how each fared (from JUnit XML).

Kept apart from the pytest plumbing so the mapping itself is unit-tested on
the host without booting anything (test_guest_report.py).
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness import GuestRun


def guest_case_ids(guest_dir: Path) -> list[str]:
    """`module::[Class::]function` for every test function in tests/guest."""
    ids = []
    for path in sorted(guest_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                ids.append(f"{path.stem}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                ids.extend(
                    f"{path.stem}::{node.name}::{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
                )
    return ids


@dataclass
class GuestReport:
    """One guest boot: how it ran (its results folder included) and each case's outcome."""

    run: GuestRun
    cases: dict[str, list[GuestCase]]  # case id (parameters stripped) -> results


@dataclass
class GuestCase:
    outcome: str  # passed, failed, error, skipped
    detail: str


def parse_junit(path: Path) -> dict[str, list[GuestCase]]:
    cases: dict[str, list[GuestCase]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        # classname is tests.guest.MODULE[.Class]; a collection error has no module part
        parts = case.get("classname", "").split(".")
        stem_at = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts))
        name = case.get("name", "").split("[", 1)[0]
        key = "::".join([*parts[stem_at:], name])
        outcome, detail = "passed", ""
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                detail = f"{child.get('message', '')}\n{child.text or ''}"
                break
        cases.setdefault(key, []).append(GuestCase(outcome, detail))
    return cases
