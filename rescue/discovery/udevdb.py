"""One block device's udev properties, read from udev's database file (no pyudev, no libudev).

A command on one drive named by its node (``rescue.discovery.named``) needs
udev's facts about that drive's block device only. Asking pyudev costs its
import, ctypes and libudev's loading: about 0.24 s of a scan's start under
QEMU's TCG (docs/image.md). The database is plain text, one file per device
(docs/protocols.md, "Linux facts that bite", 9; systemd's
``src/libsystemd/sd-device/sd-device.c`` and ``device-private.c``, read for
the facts):

- the file is ``<database>/b<major>:<minor>`` for a block device: the
  device id (``sd_device_get_device_id``) is the subsystem's letter, ``b``
  for block and ``c`` otherwise, then the device number, and the path is
  the database folder joined with it (``device_get_db_path``);
- the kernel gives the device number as the block directory's ``dev``
  attribute (``11:0`` for sr0);
- each line is a one-character key, ``:`` and a value
  (``device_read_db_internal_filename``); ``E`` lines are properties
  ``KEY=VALUE``, a later one replacing an earlier, an empty value unsetting
  it (``handle_db_line``); the other keys (devlinks, tags, times, version)
  are not properties, and unknown keys are ignored there as here.

These ``E`` lines are what pyudev's ``Device.properties`` adds to the
kernel's uevent keys (DEVNAME, MAJOR, ...); rescue reads only udev's ``ID_*``
properties, so the drive comes out as the udev walk describes it.
"""

from __future__ import annotations

import os

from rescue.discovery.sysfs import decimal, read_attr


def block_properties(block_dir: str, database: str) -> dict[str, str]:
    """udev's properties of the block device at sysfs directory BLOCK_DIR, from DATABASE.

    Empty when udev keeps no entry for it (not yet seen or initialised, gone
    between two reads) or the entry cannot be read: udev then tells nothing
    about the drive, as pyudev would tell no ``ID_CDROM``.
    """
    number = read_attr(block_dir, "dev")
    major, _, minor = (number or "").partition(":")
    if not (decimal(major) and decimal(minor)):  # no device number: nothing to look up
        return {}
    try:
        with open(os.path.join(database, f"b{major}:{minor}"), "rb") as entry:
            return properties(entry.read())
    except OSError:
        return {}


def properties(data: bytes) -> dict[str, str]:
    """The properties one database file's bytes set.

    Lines end at a newline or a carriage return, as systemd's reader has it;
    the text after the last one, never written by udev (each line ends with
    a newline), is left out as systemd leaves it. A line that is not a key and
    ``:``, or an ``E`` value without ``=``, is skipped. Bytes that are not
    UTF-8 stay in the text as surrogates, so no entry makes this raise.
    """
    found: dict[str, str] = {}
    lines = data.replace(b"\r", b"\n").split(b"\n")[:-1]
    for line in lines:
        if not line.startswith(b"E:"):
            continue
        key, equals, value = line[2:].decode("utf-8", "surrogateescape").partition("=")
        if not equals:
            continue
        if value:
            found[key] = value
        else:
            found.pop(key, None)
    return found
