"""What a sense triple means for someone reviving an optical drive, and what to do next.

The standard names (``asc_table``) are precise but written for firmware
engineers; a person at a repair bench needs "is it the disc, the drive, or my
command?" and one next step. Entries are chosen for what a flasher and a disc
reader meet (docs/protocols.md, "Sense codes met while flashing", plus MMC's
common not-ready, medium and copy-protection codes). A lookup goes from the
exact triple, to the ASC with any qualifier, to the sense key alone, so every
triple gets advice.
"""

from __future__ import annotations

from collections.abc import Iterable

from rescue.record import record


@record(frozen=True)
class Advice:
    meaning: str
    next_step: str


ANY = None  # matches any ASCQ


# (sense keys, ASC, ASCQ or ANY, meaning, next step)
_ENTRIES: tuple[tuple[Iterable[int], int, int | None, str, str], ...] = (
    # --- not ready ---
    ((0x2,), 0x04, 0x00, "the drive is not ready and does not say why",
     "wait a few seconds and retry; if it stays not ready, power-cycle the drive"),
    ((0x2,), 0x04, 0x01, "the drive is becoming ready (spinning up, reading the disc, "
     "or restarting after a firmware update)",
     "keep polling TEST UNIT READY for up to a minute"),
    ((0x2,), 0x04, 0x02, "the drive waits for a START STOP UNIT before it spins up",
     "send START STOP UNIT (start), then retry"),
    ((0x2,), 0x04, 0x03, "the drive needs a person: tray stuck, or a mechanical fault",
     "check the tray and the disc, then power-cycle the drive"),
    ((0x2,), 0x04, 0x07, "an earlier operation (flash, format, close) is still running",
     "keep polling; do not power off the drive now"),
    ((0x2,), 0x04, 0x08, "the drive is still writing data it accepted earlier",
     "keep polling until it finishes"),
    ((0x2,), 0x04, ANY, "the drive is not ready yet",
     "wait and retry; if it stays not ready, power-cycle the drive"),
    ((0x2,), 0x06, 0x00, "the drive could not find its reference position (pickup home)",
     "power-cycle the drive; if it repeats, the sled or its motor is faulty"),
    ((0x2,), 0x30, ANY, "the disc in the drive cannot be used: unknown or unsupported format",
     "try another disc; a blank or damaged disc gives this too"),
    ((0x2,), 0x3A, 0x00, "no disc in the drive",
     "for flashing this is what you want; to read, insert a disc"),
    ((0x2,), 0x3A, 0x01, "no disc, tray closed",
     "for flashing this is what you want; to read, insert a disc"),
    ((0x2,), 0x3A, 0x02, "no disc, tray open",
     "close the tray (flashing wants it closed and empty)"),
    ((0x2,), 0x3A, ANY, "no disc in the drive",
     "insert a disc to read; leave it empty to flash"),
    ((0x2,), 0x3E, 0x00, "the drive has not finished configuring itself after power-on",
     "wait a few seconds and retry"),
    # --- medium ---
    ((0x3,), 0x02, 0x00, "the pickup could not seek: disc or mechanics",
     "try another disc; if every disc fails, the pickup or sled needs service"),
    ((0x3, 0x4), 0x09, ANY, "a servo (tracking, focus or spindle) failed: laser or mechanics, "
     "not firmware", "clean the lens, try a known-good disc; if it persists the pickup is worn"),
    ((0x3,), 0x0C, ANY, "writing to the disc failed",
     "try another blank disc or a lower write speed"),
    ((0x3,), 0x11, ANY, "the drive could not read the disc: disc or laser trouble, not firmware",
     "clean the disc, try another one; if every disc fails, the laser is weak or dirty"),
    ((0x3,), 0x15, ANY, "the pickup could not reach the requested position",
     "try another disc; if every disc fails, the mechanics need service"),
    ((0x3,), 0x31, ANY, "the disc's format is corrupt", "try another disc"),
    ((0x3,), 0x57, 0x00, "the drive could not read the disc's table of contents",
     "clean the disc or try another one"),
    ((0x3,), 0x73, ANY, "the disc's calibration or control area failed",
     "try another blank disc"),
    # --- hardware ---
    ((0x4,), 0x08, ANY, "the drive's controller lost contact with its own parts",
     "power-cycle the drive; check the cable"),
    ((0x4,), 0x15, 0x01, "a mechanical positioning error inside the drive",
     "power-cycle; if it repeats, the sled or tray mechanism is faulty"),
    ((0x4,), 0x3E, ANY, "the drive reports an internal failure of its logical unit",
     "power-cycle the drive; if it persists after a flash, use the family's recovery mode"),
    ((0x4,), 0x40, ANY, "a self-diagnostic of one of the drive's components failed",
     "power-cycle; if it repeats, the drive has a hardware fault"),
    ((0x4,), 0x42, ANY, "the drive failed its power-on self test",
     "power-cycle; if it repeats, the drive has a hardware fault"),
    ((0x4,), 0x44, 0x00, "the drive failed inside (internal target failure)",
     "power-cycle the drive and retry once; if it repeats right after a flash, the "
     "firmware may be damaged: retry the flash from the backup"),
    ((0x4,), 0x53, ANY, "loading or ejecting the disc failed",
     "check that nothing blocks the tray, then power-cycle"),
    # --- illegal request ---
    ((0x5,), 0x1A, 0x00, "the data length sent does not match what the command expects",
     "check the transfer length for this family (chunk size, header)"),
    ((0x5,), 0x20, 0x00, "the drive's running firmware does not implement this command",
     "check that this drive family uses this protocol; the drive may need a different "
     "mode (e.g. its boot loader) to accept it"),
    ((0x5,), 0x21, ANY, "the address is beyond the end of the disc or not allowed here",
     "check the LBA against the disc's capacity"),
    ((0x5,), 0x24, 0x00, "a field of the command is wrong (mode, buffer ID, offset or length)",
     "check the command's fields against the family's protocol"),
    ((0x5,), 0x25, 0x00, "the addressed logical unit does not exist", "address LUN 0"),
    ((0x5,), 0x26, ANY, "the data sent with the command was rejected (bad header or content)",
     "check that the image is for this drive and was not altered"),
    ((0x5,), 0x2C, 0x00, "the command came in the wrong order, or the drive rejected the image",
     "start the whole sequence again from the beginning; do not power off"),
    ((0x5,), 0x30, ANY, "the disc in the drive does not suit this command",
     "use a disc of the right type, or remove it"),
    ((0x5,), 0x39, 0x00, "the drive cannot save these parameters",
     "send the command again without the save (SP) bit"),
    ((0x5,), 0x53, 0x02, "the tray is locked by software (PREVENT ALLOW MEDIUM REMOVAL)",
     "find what locked it (udev's cdrom_id --lock-media, a mounted disc) and release it"),
    ((0x5,), 0x64, ANY, "the track's mode does not allow this read",
     "read the track with the right sector type (e.g. READ CD for audio)"),
    ((0x5,), 0x6F, 0x04, "the DVD's region does not match the drive's region setting",
     "the disc is for another region; the drive's region may not be changeable"),
    ((0x5,), 0x6F, 0x05, "the drive's region is locked (no region changes left)",
     "the region cannot be changed by software any more"),
    ((0x5,), 0x6F, ANY, "copy-protection authentication failed or was not done",
     "the disc is protected; authenticate (CSS/AACS) before reading these sectors"),
    # --- unit attention ---
    ((0x6,), 0x28, ANY, "the disc may have changed (tray moved or a disc was inserted)",
     "nothing is wrong; repeat the command"),
    ((0x6,), 0x29, ANY, "the drive was powered on or reset since the last command",
     "expected after a firmware update or a restart; repeat the command"),
    ((0x6,), 0x2A, ANY, "the drive's settings were changed by someone else",
     "repeat the command; re-read any settings you rely on"),
    ((0x6,), 0x3F, 0x01, "the drive's firmware (microcode) has been changed",
     "expected after a successful update: read the identity again and verify"),
    ((0x6,), 0x3F, ANY, "the drive's operating conditions changed",
     "repeat the command; read the identity again"),
    ((0x6,), 0x5A, 0x01, "someone pressed the eject button", "repeat the command"),
    ((0x6,), 0x5E, ANY, "the drive changed its power state", "repeat the command"),
    # --- others ---
    ((0x7,), 0x27, ANY, "the disc or drive is write-protected",
     "use a writable disc; nothing to fix in the drive"),
    ((0xB,), 0x47, ANY, "a parity/CRC error on the bus between computer and drive",
     "check or replace the cable and adapter, then retry"),
    ((0xB,), 0x4B, ANY, "the data transfer between computer and drive broke off",
     "check the cable and adapter, then retry"),
    ((0xE,), 0x1D, ANY, "what was read back does not match what was sent",
     "repeat the verify; if it still differs, do not trust the written data"),
)

_BY_KEY: dict[int, Advice] = {
    0x0: Advice("no error to report", "nothing to do"),
    0x1: Advice("the command succeeded after the drive corrected an error",
                "nothing urgent; frequent recovered errors point at a worn disc or laser"),
    0x2: Advice("the drive is not ready", "wait and retry; check that a disc is (or is not) "
                "in the drive as the task needs"),
    0x3: Advice("the disc could not be read or written", "clean the disc or try another one"),
    0x4: Advice("the drive reports a hardware fault", "power-cycle the drive; if it repeats, "
                "the drive needs service"),
    0x5: Advice("the drive rejected the command as invalid",
                "check that the command and its fields suit this drive family"),
    0x6: Advice("something changed in the drive since the last command (reset, disc, settings)",
                "repeat the command"),
    0x7: Advice("the disc or drive is protected against this operation",
                "use another disc, or do not write"),
    0x8: Advice("the drive met a blank (unwritten) area, or written data where blank was needed",
                "check the address; the disc may be unfinished"),
    0x9: Advice("a vendor-specific condition", "look up the vendor's documentation"),
    0xA: Advice("a copy operation was aborted", "retry the copy"),
    0xB: Advice("the drive aborted the command", "retry once; if it repeats, check the cable"),
    0xC: Advice("an obsolete condition (EQUAL, from old SCSI search commands)",
                "nothing to do"),
    0xD: Advice("the end of the medium was reached with data left to write",
                "use a larger disc"),
    0xE: Advice("data read back does not match", "repeat the verify"),
    0xF: Advice("the command completed and the drive reports extra information",
                "nothing to do"),
}


def _index() -> dict[tuple[int, int, int | None], Advice]:
    index: dict[tuple[int, int, int | None], Advice] = {}
    for keys, asc, ascq, meaning, next_step in _ENTRIES:
        for key in keys:
            index[(key, asc, ascq)] = Advice(meaning, next_step)
    return index


_SPECIFIC = _index()


def advise(key: int, asc: int, ascq: int) -> Advice:
    """Plain-language meaning and next step; exact triple first, then ASC, then key."""
    return (
        _SPECIFIC.get((key, asc, ascq))
        or _SPECIFIC.get((key, asc, ANY))
        or _BY_KEY[key & 0x0F]
    )
