"""Reading choices and printing lines for an 80-column, 25-row console.

Input is read with ``input()`` from ``sys.stdin``, the same stream the
flasher's own YES question reads, so one scripted stream (a test, a serial
line) can drive a whole session. End of input ends the menu cleanly
(``MenuExit``) instead of a traceback.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Sequence

from rescue.record import record

WIDTH = 80
# Room for a screen's list: 25 rows minus a title, a blank line, the command line,
# the prompt and a line of slack for a message.
LIST_ROWS = 20


class MenuExit(Exception):
    """The session ends: the user quit, or the input ran out."""


def fit(text: str, width: int = WIDTH) -> str:
    """One console line: longer text is cut with '...' rather than wrapped mid-word."""
    return text if len(text) <= width else text[: width - 3] + "..."


def say(*lines: str) -> None:
    """Print messages wrapped at the console width (a long path breaks, it is not lost)."""
    for line in lines:
        print("\n".join(textwrap.wrap(line, WIDTH, break_on_hyphens=False)))


def ask(prompt: str) -> str:
    """One line of input, stripped; end of input, or Ctrl-C at the question, raises ``MenuExit``
    (the menu says it is leaving and how to come back, as for 'q'; Ctrl-C during a command
    stops only that command)."""
    try:
        return input(fit(prompt, WIDTH - 10)).strip()
    except EOFError:
        print()
        raise MenuExit("end of input") from None
    except KeyboardInterrupt:
        print()
        raise MenuExit("Ctrl-C") from None


@record(frozen=True)
class Option:
    key: str  # a digit string for numbered entries, one letter for commands
    text: str


def numbered(texts: Sequence[str]) -> list[Option]:
    return [Option(str(number), text) for number, text in enumerate(texts, 1)]


def choose(
    title: str,
    options: Sequence[Option],
    commands: Sequence[Option],
    drawn: Callable[[], None] | None = None,
) -> str:
    """Show a screen and return the key of the option the user picked.

    Anything else (letters not offered, numbers out of range) says what is
    allowed and asks again: a wrong key never does anything. Enter alone asks
    again without a complaint (the hints say "a key, then Enter": Enter is how
    a choice is sent, not a choice). ``drawn`` is called once the screen is
    out, before the first question.
    """
    print(fit(title), "", sep="\n")
    for option in options[:LIST_ROWS]:
        print(fit(f"  {option.key:>2}) {option.text}"))
    if len(options) > LIST_ROWS:
        print(f"  ... {len(options) - LIST_ROWS} more not shown")
    print(fit("  " + "   ".join(f"{c.key}) {c.text}" for c in commands)))
    allowed = {o.key for o in options[:LIST_ROWS]} | {c.key for c in commands}
    if drawn is not None:
        sys.stdout.flush()
        drawn()
    while True:
        answer = ask("Choice: ").lower()
        if answer in allowed:
            return answer
        if answer:
            say(f"'{answer}' is not on this screen: type {_allowed_text(options, commands)}")


def _allowed_text(options: Sequence[Option], commands: Sequence[Option]) -> str:
    shown = min(len(options), LIST_ROWS)
    numbers = [f"1-{shown}"] if shown > 1 else [o.key for o in options[:1]]
    keys = numbers + [c.key for c in commands]
    listed = f"{', '.join(keys[:-1])} or {keys[-1]}" if len(keys) > 1 else keys[0]
    return f"{listed}, then Enter"


def yes_no(question: str) -> bool:
    """A y/n question; only 'y' or 'yes' counts as yes."""
    return ask(f"{question} [y/N] ").lower() in ("y", "yes")


def pause() -> None:
    """Let the user read the output before the next screen scrolls it away."""
    ask("Press Enter for the menu ")
