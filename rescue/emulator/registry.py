"""Named emulated drives, built from a one-line spec.

The CLI reaches a model as ``emu:SPEC`` and the TCMU bridge takes the same
SPEC, so one grammar serves tests, demos and the kernel-visible drive:

    SPEC  := NAME ( "," KEY "=" VALUE )*

Keys every model takes:
  ``disc=pattern|none|PATH``  a generated disc (default), an empty drive, or
                              an image file read as 2048-byte sectors
  ``media=cd|dvd``            what kind of disc is in it (default: the model's best)
  ``sectors=N``               length of the generated disc (default 8192 = 16 MiB,
                              at most 2^27: more than the largest optical disc holds)
  ``bad=LIST``                unreadable sectors, LIST := ITEM (";" ITEM)*,
                              ITEM := LBA | FIRST-LAST (inclusive, decimal)
  ``slow=LIST``               slow sectors, ITEM := (LBA | FIRST-LAST)[":" SECONDS]
                              (default 2 s of model time per command touching them)
  ``c2=LIST``                 weak sectors of a CD (LIST as for bad=): READ CD flags
                              some of their bytes in its C2 error pointers, plain
                              READs still return their data (``rescue.emulator.disc``)
  ``speed=X``                 top read speed (at the rim) in x of the medium: reads
                              take the time a CAV drive needs (default 48 for CDs,
                              16 for DVDs; 0: reads take no time)
  ``tray=open|closed``        tray position at power on (default closed)
  ``rev=XXXX``                firmware revision INQUIRY reports
  ``serial=TEXT``             unit serial number (VPD page 80h)
  ``fault=RULES``             fault injection, grammar in ``rescue.emulator.faults``
  ``maxxfer=N``               the path carries at most N bytes per command (in-process
                              only: more fails as the kernel's EINVAL does; pathcheck reads it)
  ``bridge=none|usb|usb-novendor``  behind an emulated USB bridge (usb-storage, 120 KiB
                              unless maxxfer= says otherwise); usb-novendor also answers
                              WRITE/READ BUFFER, ATA PASS-THROUGH and C0h-FFh with 5/20/00
                              (``rescue.emulator.usb_bridge``)

Model-specific keys are listed in each model's ``ModelInfo.keys`` (the BTC
model's are documented in ``rescue.emulator.btc``). Values cannot contain
",". Unknown names or keys raise ValueError naming the valid ones; each
``create`` gets a fresh ``VirtualClock`` unless a clock is passed.

Examples: ``generic-dvd``, ``generic-dvd,disc=/tmp/x.iso,bad=1000-1099;5000,tray=open``,
``generic-cd,fault=hang@3b``, ``btc-drw1004im,rev=0043,disc=none,state=/tmp/btc.state``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rescue.emulator import btc, mt1939, mt1959, pioneer, plextor, spc, tsst
from rescue.emulator.base import Clock, Device, VirtualClock
from rescue.emulator.disc import DEFAULT_PATTERN_SECTORS, DEFAULT_SLOW_SECONDS, Disc, MediaKind
from rescue.emulator.faults import Fault, parse_faults
from rescue.emulator.mmc import (
    PROFILE_CD_ROM,
    PROFILE_DVD_ROM,
    PROFILE_OF_MEDIA,
    Identity,
    MmcDrive,
)
from rescue.record import field, record

#: The largest generated disc: 2^27 sectors (256 GiB) is more than a 128 GB BDXL holds.
MAX_SECTORS = 1 << 27
MAX_SERIAL = 64  # characters of serial= (see _serial)

COMMON_KEYS = (
    "disc",
    "media",
    "sectors",
    "bad",
    "slow",
    "c2",
    "speed",
    "tray",
    "rev",
    "serial",
    "fault",
    "maxxfer",
    "bridge",
)


@record
class Options:
    """The common keys, parsed; ``extra`` holds the model-specific ones as text."""

    clock: Clock
    disc: Disc | None
    tray_open: bool
    faults: list[Fault]
    revision: str | None  # None: the model's default
    serial: str
    extra: dict[str, str] = field(default_factory=dict)


@record(frozen=True)
class ModelInfo:
    description: str
    family: str
    default_revision: str
    vendor: str
    product: str
    profiles: tuple[int, ...]
    build: Callable[[ModelInfo, Options], Device]
    keys: tuple[str, ...] = ()

    def identity(self, options: Options) -> Identity:
        revision = options.revision or self.default_revision
        return Identity(self.vendor, self.product, revision, options.serial)


def _build_generic(info: ModelInfo, options: Options) -> Device:
    return MmcDrive(
        identity=info.identity(options),
        profiles=info.profiles,
        clock=options.clock,
        disc=options.disc,
        tray_open=options.tray_open,
        faults=options.faults,
    )


MODELS: dict[str, ModelInfo] = {
    "generic-cd": ModelInfo(
        description="generic CD-ROM drive (reads CDs)",
        family="generic",
        default_revision="1.00",
        vendor="RESCUE",
        product="EMU CD-ROM",
        profiles=(PROFILE_CD_ROM,),
        build=_build_generic,
    ),
    "generic-dvd": ModelInfo(
        description="generic DVD-ROM drive (reads DVDs and CDs)",
        family="generic",
        default_revision="1.00",
        vendor="RESCUE",
        product="EMU DVD-ROM",
        profiles=(PROFILE_DVD_ROM, PROFILE_CD_ROM),
        build=_build_generic,
    ),
    "btc-drw1004im": ModelInfo(
        description="BTC DRW-1004IM DVD writer (MediaTek MT1x08), flashable like btcflash does",
        family="btc",
        default_revision="0043",
        vendor=btc.VENDOR,
        product=btc.PRODUCT,
        profiles=btc.PROFILES,
        build=btc.build,
        keys=btc.KEYS,
    ),
    "tsst-se506cb": ModelInfo(
        description="TSST SE-506CB Blu-ray writer (MediaTek MT1939): 0xFF download, memory dump",
        family="mt1939",
        default_revision="TS01",
        vendor=mt1939.VENDOR,
        product=mt1939.PRODUCT,
        profiles=mt1939.PROFILES,
        build=mt1939.build,
        keys=mt1939.KEYS,
    ),
    "plextor-px716a": ModelInfo(
        description="Plextor PX-716A DVD writer: WRITE BUFFER mode 4 chunks, mode 5 saves",
        family="plextor",
        default_revision="1.10",
        vendor=plextor.VENDOR,
        product=plextor.PRODUCT,
        profiles=plextor.PROFILES,
        build=plextor.build,
        keys=plextor.KEYS,
    ),
    "tsst-shd163c": ModelInfo(
        description="TSST SH-D163C DVD-ROM (MediaTek): vendor 0xFF download of 256 KiB",
        family="tsst",
        default_revision="SB01",
        vendor=tsst.VENDOR,
        product=tsst.PRODUCT,
        profiles=tsst.PROFILES,
        build=tsst.build,
        keys=tsst.KEYS,
    ),
    "asus-bw16d1ht": ModelInfo(
        description="ASUS BW-16D1HT Blu-ray writer (MediaTek MT1959), flashed as redumper does",
        family="mt1959",
        default_revision="3.02",
        vendor=mt1959.VENDOR,
        product=mt1959.PRODUCT,
        profiles=mt1959.PROFILES,
        build=mt1959.build,
        keys=mt1959.KEYS,
    ),
    "generic-spc": ModelInfo(
        description="emulator's own DVD-ROM taking SPC microcode (modes 0E/0F; feature 0104h)",
        family="spc",
        default_revision="1.00",
        vendor=spc.VENDOR,
        product=spc.PRODUCT,
        profiles=spc.PROFILES,
        build=spc.build,
        keys=spc.KEYS,
    ),
    "pioneer-dvr108": ModelInfo(
        description="Pioneer DVR-108 DVD writer: DVRFlash's kernel-mode Normal-part download",
        family="pioneer",
        default_revision="1.16",
        vendor=pioneer.VENDOR,
        product=pioneer.PRODUCT,
        profiles=pioneer.PROFILES,
        build=pioneer.build,
        keys=pioneer.KEYS,
    ),
}


def _split(spec: str) -> tuple[str, list[str]]:
    """MODEL and its KEY=VALUE pairs, as the grammar in the module docstring cuts them."""
    name, *pairs = spec.strip().split(",")
    return name, pairs


def state_file(spec: str) -> str | None:
    """The ``state=`` file SPEC names (unchecked), for telling two spellings of one drive apart."""
    _, pairs = _split(spec)
    values = (pair.partition("=") for pair in pairs)
    return next((value for key, _, value in values if key == "state"), None)


def create(spec: str, clock: Clock | None = None) -> Device:
    """A fresh device for ``spec`` (grammar in the module docstring)."""
    name, pairs = _split(spec)
    info = MODELS.get(name)
    if info is None:
        raise ValueError(f"unknown emulated model {name!r}; models: {', '.join(MODELS)}")
    values = _key_values(name, pairs, COMMON_KEYS + info.keys)
    options = Options(
        clock=clock or VirtualClock(),
        disc=_disc(info, values),
        tray_open=_choice(values, "tray", ("closed", "open")) == "open",
        faults=parse_faults(values.get("fault", "")),
        revision=values.get("rev"),
        serial=_serial(values.get("serial", "EMU0000001")),
        extra={k: v for k, v in values.items() if k in info.keys},
    )
    device = info.build(info, options)
    if "maxxfer" in values or "bridge" in values:
        from rescue.emulator.usb_bridge import bridged

        device = bridged(device, values.get("bridge", "none"), values.get("maxxfer"))
    return device


def _key_values(name: str, pairs: list[str], valid: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not value:
            raise ValueError(f"{name}: {pair!r} is not KEY=VALUE")
        if key not in valid:
            raise ValueError(f"{name}: unknown key {key!r}; valid keys: {', '.join(valid)}")
        if key in values:
            raise ValueError(f"{name}: key {key!r} given twice")
        values[key] = value
    return values


def _choice(values: dict[str, str], key: str, allowed: tuple[str, ...]) -> str:
    value = values.get(key, allowed[0])
    if value not in allowed:
        raise ValueError(f"{key}={value!r}: want one of {', '.join(allowed)}")
    return value


def _disc(info: ModelInfo, values: dict[str, str]) -> Disc | None:
    # The first profile a model claims that names a medium is the one it reads best.
    readable = tuple(k.value for p in info.profiles for k in MediaKind if PROFILE_OF_MEDIA[k] == p)
    kind = MediaKind(_choice(values, "media", readable))
    source = values.get("disc", "pattern")
    if source == "none":
        for key in ("sectors", "bad", "slow", "c2", "speed", "media"):
            if key in values:
                raise ValueError(f"{key}= makes no sense with disc=none")
        return None
    if source == "pattern":
        disc = Disc(kind=kind, sectors=_count(values.get("sectors"), DEFAULT_PATTERN_SECTORS))
    elif "sectors" in values:
        raise ValueError("sectors= applies to the generated disc only, not to an image file")
    elif not os.path.exists(source):
        raise ValueError(f"disc={source!r}: no such image file (or use disc=pattern|none)")
    elif (special := _not_an_image(source)) is not None:
        raise ValueError(f"disc={source!r}: {special}")
    else:
        disc = Disc.from_image(source, kind)
    disc.unreadable = [r for r, _ in _ranges(values.get("bad", ""), "bad", timed=False)]
    disc.slow = _ranges(values.get("slow", ""), "slow", timed=True)
    disc.weak = [r for r, _ in _ranges(values.get("c2", ""), "c2", timed=False)]
    if disc.weak and kind is not MediaKind.CD:
        raise ValueError("c2= marks weak CD sectors: it needs media=cd")
    if "speed" in values:
        disc.top_speed = _speed(values["speed"])
    return disc


def _speed(text: str) -> float:
    try:
        speed = float(text.removesuffix("x"))
    except ValueError:
        speed = -1.0
    if not 0 <= speed <= 100:
        raise ValueError(f"speed={text!r}: want a read speed in x from 0 to 100 (e.g. 16)")
    return speed


def _not_an_image(path: str) -> str | None:
    """Why ``path`` cannot be a disc image (a /proc file, say), or None."""
    from rescue.errors import RescueError
    from rescue.inputs import check_regular

    try:
        check_regular(path, "disc image")
    except RescueError as err:
        return err.message.removeprefix(f"{path}: ")
    return None


def _serial(text: str) -> str:
    """A serial short enough for VPD page 83h's one-byte designator length beside vendor and
    product (SPC-4 7.8.6.1); real drives' serials are 20 characters at most (ATA IDENTIFY
    words 10-19), so 64 leaves room. Any characters pass: the model sends each as one ASCII
    byte ('?' when it has none), and a drive's odd bytes are what the display must survive."""
    if len(text) > MAX_SERIAL:
        raise ValueError(f"serial=: want at most {MAX_SERIAL} characters, got {len(text)}")
    return text


def _count(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_SECTORS:
        raise ValueError(f"sectors={text!r}: want a positive whole number, at most {MAX_SECTORS}")
    return int(text)


def _ranges(text: str, key: str, timed: bool) -> list[tuple[range, float]]:
    """``"1000-1099;5000"`` -> LBA ranges, each with its seconds (``:S`` when ``timed``)."""
    out = []
    for item in filter(None, text.split(";")):
        span, colon, seconds_text = item.partition(":")
        if colon and not timed:
            raise ValueError(f"{key}={text!r}: {item!r} takes no :SECONDS")
        first, dash, last = span.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"{key}={text!r}: {item!r} is not LBA or FIRST-LAST (decimal)")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"{key}={text!r}: range {item!r} runs backwards")
        seconds = DEFAULT_SLOW_SECONDS
        if colon:
            try:
                seconds = float(seconds_text)
            except ValueError:
                seconds = -1.0
            if not 0 <= seconds < float("inf"):
                raise ValueError(f"{key}={text!r}: {seconds_text!r} is not a number of seconds")
        out.append((range(low, high + 1), seconds))
    return out
