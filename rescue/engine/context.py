"""The per-run context every engine function takes: where text, events and files go.

An engine function (``rescue.engine.flash``, ``backup``, ``doctor``, ``scan``)
takes two things: a frozen record of its options (what to do, to which
drive) and one ``RunContext`` (how this run talks to the world: the console
for human text, the event listener, the journal and reports folder, whether a
person may be asked). The command line, the menu and the bench build the
context differently; the engine does the same work for all three.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console

from rescue.record import field, record

#: Stages an engine reports through ``Event(kind="stage")``, in the order a flash passes them.
STAGES = ("open", "identity", "checks", "backup", "confirm", "write", "wait", "verify", "done")


@record(frozen=True)
class Event:
    """One thing a running job wants its face to know.

    ``kind`` is ``stage`` (``text`` is one of ``STAGES``, ``detail`` says more),
    ``progress`` (``done`` of ``total`` bytes or sectors of the current stage)
    or ``note`` (a line a person should read, e.g. a risk the user chose).
    """

    device: str
    kind: str
    text: str = ""
    detail: str = ""
    done: int = 0
    total: int = 0

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


Listener = Callable[[Event], None]


def _silent() -> Console:
    return Console(quiet=True)


@record
class RunContext:
    """How one run talks to the world; the CLI, the menu and a bench worker each make one.

    ``quiet``: no progress bars and no human summary (``--json``, a bench
    worker); errors are still raised. ``assume_yes``: the user consented
    already (``--yes``, the bench's one batch question): never ask.
    """

    console: Console = field(default_factory=_silent)
    quiet: bool = False
    assume_yes: bool = False
    journal: str | None = None  # None: the engine's default (flash: next to its report)
    reports: str | None = None  # None: $RESCUE_REPORTS or ./reports
    listener: Listener | None = None
    # Who answers the typed YES: None is the terminal (no terminal: refused, "pass --yes");
    # the menu passes its own console, which it reads whether or not it is a terminal.
    ask: Callable[[str], str] | None = None

    @property
    def interactive(self) -> bool:
        """A person at a terminal who may be asked questions (not --yes, not quiet)."""
        return not (self.assume_yes or self.quiet) and bool(sys.stdin) and sys.stdin.isatty()

    def emit(self, device: str, kind: str, text: str = "", **more: object) -> None:
        if self.listener is not None:
            self.listener(Event(device, kind, text, **more))  # type: ignore[arg-type]

    @classmethod
    def for_cli(cls, args: object, *, stderr: bool | None = None) -> RunContext:
        """The context of a CLI command from its parsed options (--json, --journal, --yes...)."""
        as_json = bool(getattr(args, "json", False))
        console = Console(
            stderr=as_json if stderr is None else stderr, highlight=False, soft_wrap=True
        )
        return cls(
            console=console,
            quiet=as_json,
            assume_yes=bool(getattr(args, "yes", False)),
            journal=getattr(args, "journal", None),
            reports=getattr(args, "reports", None),
        )
