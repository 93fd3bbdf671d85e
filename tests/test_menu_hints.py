"""Every menu screen accepts what its hint offers, and says so truly when refusing.

The walk starts at the first screen with two emulated drives (a BTC that
cannot back up, an SE-506CB that can) and a firmware folder, reads the last
question of each session's output, and tries each key that question's hint
lists: the numbers and letters a screen prints, y / n / Enter for ``[y/N]``,
Enter for "Press Enter". A key the hint offers must not be refused. (The
flasher's YES question answers an ended input itself, as "not confirmed": the
two tests after the walk type at it.) On every choice screen the refusal of an
unlisted key must name exactly the keys the screen shows. The input is not a
terminal (a script, as on a serial line whose getty is absent): the flasher's
typed YES is still asked, never "pass --yes".
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image

REFUSED = "is not on this screen"
END = "\nLeaving the menu (end of input)"
#: The questions the menu (and the flasher inside it) ends a line with, and the keys each offers.
QUESTIONS = {
    "[y/N] ": ["y", "n", ""],
    "Press Enter for the menu ": [""],
    "(e.g. 5/20/0, or sense bytes 70 00 05 ...): ": ["5/20/0", ""],
}
MAX_SESSIONS = 80  # the walk ends long before: screens are told apart by title


class Menu:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.tmp, self.monkeypatch, self.capsys = tmp, monkeypatch, capsys
        self.firmware = tmp / "firmware"
        self.firmware.mkdir()
        (self.firmware / "V0050.bin").write_bytes(make_btc_image("0050"))
        self.outputs: dict[tuple[str, ...], str] = {}

    def run(self, keys: list[str]) -> str:
        if tuple(keys) not in self.outputs:
            self.outputs[tuple(keys)] = self._run(keys)
        return self.outputs[tuple(keys)]

    def _run(self, keys: list[str]) -> str:
        self.monkeypatch.setattr("sys.stdin", io.StringIO("".join(k + "\n" for k in keys)))
        devices = ["emu:btc-drw1004im,disc=none", "emu:tsst-se506cb,disc=none"]
        argv = ["menu", *devices, "--firmware", str(self.firmware)]
        assert main([*argv, "--reports", str(self.tmp / "reports")]) == 0
        out = self.capsys.readouterr()
        assert "Traceback" not in out.err
        return (out.out + out.err).replace(" \\\n    ", " ")  # echoed commands on one line


@pytest.fixture
def menu(bench: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Menu:
    return Menu(bench, monkeypatch, capsys)


def last_question(out: str) -> tuple[str, list[str]] | None:
    """The screen the input ended on (its title, or the question) and the keys its hint offers."""
    if not out.endswith(END + ". Type 'rescue menu' to come back.\n"):
        return None  # quit, or a screen of its own (the bench) ended the session
    before = out[: out.rindex(END)]
    for question, keys in QUESTIONS.items():
        if before.endswith(question):
            return question, keys
    assert before.endswith("Choice: "), before[-300:]
    lines = before.removesuffix("Choice: ").splitlines()
    commands = lines[-1]
    numbers: list[str] = []
    for line in reversed(lines[:-1]):
        found = re.match(r"\s+(\d+)\) ", line)
        if not found:
            title = line if line else "?"
            break
        numbers.insert(0, found.group(1))
    title_at = len(lines) - 2 - len(numbers) - 1  # the title, then a blank line, then the list
    title = lines[title_at] if title_at >= 0 else title
    # An answered prompt shares the title's line (the input is not echoed).
    title = re.sub(r"^(Choice: |Press Enter for the menu )+", "", title)
    letters = re.findall(r"(?:^|\s)([a-z])\) ", commands)
    assert letters, commands
    return title, numbers + letters


def _same(title: str) -> str:
    """A drive screen is the same screen after a flash changed the revision in its title."""
    return re.sub(r" \S+  \(", "  (", title)


def refusal_keys(text: str) -> list[str]:
    """The keys a refusal names: "type 1-4, e, b or q, then Enter" -> 1 2 3 4 e b q."""
    found = re.search(rf"{REFUSED}: type (.*), then Enter", text)
    assert found, text[-300:]
    keys: list[str] = []
    for word in re.split(r", | or ", found.group(1)):
        if re.fullmatch(r"\d+-\d+", word):
            low, high = map(int, word.split("-"))
            keys += [str(n) for n in range(low, high + 1)]
        else:
            keys.append(word)
    return keys


def test_every_screen_accepts_each_key_its_hint_offers(menu: Menu) -> None:
    seen: dict[str, list[str]] = {}
    paths: list[list[str]] = [[]]
    while paths:
        path = paths.pop(0)
        out = menu.run(path)
        screen = last_question(out)
        if screen is None or _same(screen[0]) in seen:
            continue
        title, keys = screen
        seen[_same(title)] = keys
        if not title.endswith(tuple(QUESTIONS)):  # a choice screen: its refusal names its keys
            refused = menu.run([*path, "zz"])
            assert refusal_keys(refused[len(out) - len(END) - 40 :]) == keys, title
        for key in keys:
            after = menu.run([*path, key])
            assert after.count(REFUSED) == out.count(REFUSED), (title, key, after[-400:])
            paths.append([*path, key])
        assert len(menu.outputs) < MAX_SESSIONS, seen
    # The walk reached every kind of screen the menu has.
    assert "Optical drives: pick one" in seen
    assert any(title.startswith("Firmware for btc in ") for title in seen)
    assert any(title.startswith("Drive: BTC") for title in seen)
    assert any(title.startswith("Drive: TSSTcorp") for title in seen)
    assert set(QUESTIONS) <= set(seen), sorted(seen)


def test_a_flash_from_a_script_asks_the_typed_yes_and_flashes(menu: Menu) -> None:
    """No terminal: the menu asks the flasher's YES itself rather than dead-end on --yes."""
    out = menu.run(["1", "3", "1", "y", "YES", "", "1", ""])
    assert "Type YES to continue" in out
    assert "pass --yes" not in out and "no terminal" not in out
    assert "DVDRW IDE1004 now runs 0050" in out


def test_a_script_that_does_not_type_yes_flashes_nothing(menu: Menu) -> None:
    out = menu.run(["1", "3", "1", "y", "yes", "", "1", ""])
    assert "not confirmed: nothing was written" in out
    assert "revision 0043" in out.split("$ rescue info", 1)[1]
