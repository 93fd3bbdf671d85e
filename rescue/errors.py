"""Errors the user sees, and the exit code each category maps to.

Every failure the tool can meet is a ``RescueError`` with a category; the CLI
prints its one-line message (and hint) and exits with the category's code, so
scripts on a repair bench can branch on *why* something failed without
parsing text. The table is documented in the README; keep them in step.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # anything not covered below (also: verify failed)
    USAGE = 2  # bad command line (argparse uses 2 as well)
    NO_DEVICE = 3  # device missing, vanished, or not an optical drive
    PERMISSION = 4  # needs root / CAP_SYS_RAWIO, or the OS refuses a node or path
    BAD_INPUT = 5  # a file or folder the user named cannot be used (read or written)
    REFUSED = 6  # refused by the safety policy (identity mismatch, disc present, ...)
    NOT_READY = 7  # sense key 2: not ready, no medium, becoming ready
    MEDIUM_ERROR = 8  # sense keys 3 and 4: medium or hardware error
    ILLEGAL_REQUEST = 9  # sense key 5: the drive does not accept the command
    UNIT_ATTENTION = 10  # sense key 6: reset, media change, microcode changed
    TIMEOUT = 11  # the command did not finish in time
    TRANSPORT = 12  # the bus or the response itself was bad (garbage, aborted)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILURE: "failed (including a verify that did not match)",
    ExitCode.USAGE: "bad command line",
    ExitCode.NO_DEVICE: "no such device, or it vanished",
    ExitCode.PERMISSION: "permission denied (needs root or CAP_SYS_RAWIO, or access to a path)",
    ExitCode.BAD_INPUT: "a named file or folder is unusable (to read, or as a place to write)",
    ExitCode.REFUSED: "refused by the safety policy",
    ExitCode.NOT_READY: "drive not ready (sense key 2)",
    ExitCode.MEDIUM_ERROR: "medium or hardware error (sense keys 3, 4)",
    ExitCode.ILLEGAL_REQUEST: "drive rejected the command (sense key 5)",
    ExitCode.UNIT_ATTENTION: "unit attention (sense key 6)",
    ExitCode.TIMEOUT: "command timed out",
    ExitCode.TRANSPORT: "transport or response error",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


class RescueError(Exception):
    """Base of every error the tool reports; carries a category and a hint."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
        }


class UsageError(RescueError):
    exit_code = ExitCode.USAGE


class DeviceNotFound(RescueError):
    exit_code = ExitCode.NO_DEVICE


class PermissionDenied(RescueError):
    exit_code = ExitCode.PERMISSION


class BadInput(RescueError):
    exit_code = ExitCode.BAD_INPUT


class Refused(RescueError):
    exit_code = ExitCode.REFUSED


class CommandTimeout(RescueError):
    exit_code = ExitCode.TIMEOUT


class TransportError(RescueError):
    exit_code = ExitCode.TRANSPORT


class ParseError(TransportError):
    """A response from the drive did not have the shape the standard gives it."""


class VerifyFailed(RescueError):
    exit_code = ExitCode.FAILURE


class Interrupted(RescueError):
    """Ctrl-C, told with what was done: the message says how far the command got."""

    exit_code = ExitCode.INTERRUPTED


# Sense key -> exit code; keys not listed are transport-class failures.
SENSE_KEY_EXIT: dict[int, ExitCode] = {
    0x2: ExitCode.NOT_READY,
    0x3: ExitCode.MEDIUM_ERROR,
    0x4: ExitCode.MEDIUM_ERROR,
    0x5: ExitCode.ILLEGAL_REQUEST,
    0x6: ExitCode.UNIT_ATTENTION,
}
