"""GET CONFIGURATION answers (MMC-6 5.2, 5.3): profiles and features.

A drive describes itself as a list of feature descriptors; the profile list
says which media kinds it handles and which one is mounted. Two features
matter to the flasher: Microcode Upgrade (0104h; its M5 bit says WRITE
BUFFER mode 5 is supported) and Firmware Information (010Ch; the firmware's
build date, a second way to verify a flash besides the INQUIRY revision).
Every descriptor is also kept raw, so an unknown feature still shows in a
report.
"""

from __future__ import annotations

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, ascii_field, be, extent, require

# MMC-6 table "Profile List" (plus the MMC-5 HD DVD profiles)
PROFILES: dict[int, str] = {
    0x0000: "no current profile",
    0x0001: "non-removable disk",
    0x0002: "removable disk",
    0x0003: "MO erasable",
    0x0004: "optical write once",
    0x0005: "AS-MO",
    0x0008: "CD-ROM",
    0x0009: "CD-R",
    0x000A: "CD-RW",
    0x0010: "DVD-ROM",
    0x0011: "DVD-R sequential recording",
    0x0012: "DVD-RAM",
    0x0013: "DVD-RW restricted overwrite",
    0x0014: "DVD-RW sequential recording",
    0x0015: "DVD-R dual layer sequential recording",
    0x0016: "DVD-R dual layer jump recording",
    0x0017: "DVD-RW dual layer",
    0x0018: "DVD-Download disc recording",
    0x001A: "DVD+RW",
    0x001B: "DVD+R",
    0x0020: "DDCD-ROM",
    0x0021: "DDCD-R",
    0x0022: "DDCD-RW",
    0x002A: "DVD+RW dual layer",
    0x002B: "DVD+R dual layer",
    0x0040: "BD-ROM",
    0x0041: "BD-R sequential recording (SRM)",
    0x0042: "BD-R random recording (RRM)",
    0x0043: "BD-RE",
    0x0050: "HD DVD-ROM",
    0x0051: "HD DVD-R",
    0x0052: "HD DVD-RAM",
    0x0053: "HD DVD-RW",
    0x0058: "HD DVD-R dual layer",
    0x005A: "HD DVD-RW dual layer",
    0xFFFF: "non-conforming",
}

# MMC-6 table "Feature Codes"
FEATURES: dict[int, str] = {
    0x0000: "Profile List",
    0x0001: "Core",
    0x0002: "Morphing",
    0x0003: "Removable Medium",
    0x0004: "Write Protect",
    0x0010: "Random Readable",
    0x001D: "Multi-Read",
    0x001E: "CD Read",
    0x001F: "DVD Read",
    0x0020: "Random Writable",
    0x0021: "Incremental Streaming Writable",
    0x0022: "Sector Erasable",
    0x0023: "Formattable",
    0x0024: "Hardware Defect Management",
    0x0025: "Write Once",
    0x0026: "Restricted Overwrite",
    0x0027: "CD-RW CAV Write",
    0x0028: "MRW",
    0x0029: "Enhanced Defect Reporting",
    0x002A: "DVD+RW",
    0x002B: "DVD+R",
    0x002C: "Rigid Restricted Overwrite",
    0x002D: "CD Track at Once",
    0x002E: "CD Mastering",
    0x002F: "DVD-R/-RW Write",
    0x0030: "DDCD Read",
    0x0031: "DDCD-R Write",
    0x0032: "DDCD-RW Write",
    0x0033: "Layer Jump Recording",
    0x0034: "LJ Rigid Restricted Overwrite",
    0x0035: "Stop Long Operation",
    0x0037: "CD-RW Media Write Support",
    0x0038: "BD-R Pseudo-Overwrite",
    0x003A: "DVD+RW Dual Layer",
    0x003B: "DVD+R Dual Layer",
    0x0040: "BD Read",
    0x0041: "BD Write",
    0x0042: "TSR",
    0x0050: "HD DVD Read",
    0x0051: "HD DVD Write",
    0x0052: "HD DVD-RW Fragment Recording",
    0x0080: "Hybrid Disc",
    0x0100: "Power Management",
    0x0101: "SMART",
    0x0102: "Embedded Changer",
    0x0103: "CD Audio External Play",
    0x0104: "Microcode Upgrade",
    0x0105: "Timeout",
    0x0106: "DVD CSS",
    0x0107: "Real Time Streaming",
    0x0108: "Drive Serial Number",
    0x0109: "Media Serial Number",
    0x010A: "Disc Control Blocks",
    0x010B: "DVD CPRM",
    0x010C: "Firmware Information",
    0x010D: "AACS",
    0x010E: "DVD CSS Managed Recording",
    0x0110: "VCPS",
    0x0113: "SecurDisc",
    0x0120: "BD CPS",
    0x0142: "OSSC",
}

PROFILE_LIST = 0x0000
BD_READ = 0x0040
BD_WRITE = 0x0041
MICROCODE_UPGRADE = 0x0104
DRIVE_SERIAL_NUMBER = 0x0108
FIRMWARE_INFORMATION = 0x010C

HEADER_LENGTH = 8


def profile_name(number: int) -> str:
    return PROFILES.get(number, f"unknown profile {number:04X}h")


def feature_name(code: int) -> str:
    if code >= 0xFF00:
        return f"vendor feature {code:04X}h"
    return FEATURES.get(code, f"unknown feature {code:04X}h")


@record(frozen=True, slots=True)
class Profile(Record):
    number: int
    name: str
    current: bool


@record(frozen=True, slots=True)
class FirmwareDate(Record):
    """Feature 010Ch: the firmware's creation time as the drive states it."""

    text: str  # "YYYYMMDDhhmmss", as sent (ASCII digits)
    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None


@record(frozen=True, slots=True)
class Feature(Record):
    code: int
    name: str
    version: int
    persistent: bool
    current: bool
    data: bytes  # the feature-dependent bytes after the 4-byte descriptor header
    profiles: tuple[Profile, ...] | None = None  # 0000h only
    m5: bool | None = None  # 0104h only: WRITE BUFFER mode 5 supported
    firmware_date: FirmwareDate | None = None  # 010Ch only
    serial: str | None = None  # 0108h only


@record(frozen=True, slots=True)
class Configuration(Record):
    data_length: int
    current_profile: int
    current_profile_name: str
    features: tuple[Feature, ...]
    truncated: bool  # the allocation length cut off descriptors the drive had

    def feature(self, code: int) -> Feature | None:
        """The descriptor for ``code``, or None if the drive did not report it."""
        for feat in self.features:
            if feat.code == code:
                return feat
        return None

    @property
    def reads_bd(self) -> bool:
        """Feature 0040h present: the drive reads BD (page 2Ah has no BD bits)."""
        return self.feature(BD_READ) is not None

    @property
    def writes_bd(self) -> bool:
        """Feature 0041h present: the drive writes BD."""
        return self.feature(BD_WRITE) is not None

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """The drive's profile list (empty if feature 0000h was not returned)."""
        feat = self.feature(PROFILE_LIST)
        return (feat.profiles or ()) if feat else ()


def _profiles(data: bytes) -> tuple[Profile, ...]:
    if len(data) % 4:
        raise ParseError(
            f"GET CONFIGURATION: profile list of {len(data)} bytes is not 4-byte aligned"
        )
    found = []
    for pos in range(0, len(data), 4):
        number = be(data, pos, 2)
        found.append(Profile(number, profile_name(number), bool(data[pos + 2] & 0x01)))
    return tuple(found)


def _firmware_date(data: bytes) -> FirmwareDate:
    """Bytes 4-17 of feature 010Ch: century, year, month, day, hour, minute, second.

    A drive may send non-digits; the text is kept and the numbers left None
    rather than rejecting the whole configuration.
    """
    require(data, 14, "GET CONFIGURATION feature 010Ch")
    text = ascii_field(data[:14])
    if len(text) == 14 and text.isdigit() and text.isascii():
        parts = (int(text[0:4]), *(int(text[i : i + 2]) for i in range(4, 14, 2)))
        return FirmwareDate(text, *parts)
    return FirmwareDate(text, None, None, None, None, None, None)


def _feature(code: int, flags: int, data: bytes) -> Feature:
    profiles = m5 = firmware_date = serial = None
    if code == PROFILE_LIST:
        profiles = _profiles(data)
    elif code == MICROCODE_UPGRADE:
        require(data, 1, "GET CONFIGURATION feature 0104h")
        m5 = bool(data[0] & 0x01)
    elif code == FIRMWARE_INFORMATION:
        firmware_date = _firmware_date(data)
    elif code == DRIVE_SERIAL_NUMBER:
        serial = ascii_field(data)
    return Feature(
        code,
        feature_name(code),
        (flags >> 2) & 0x0F,  # version
        bool(flags & 0x02),  # persistent
        bool(flags & 0x01),  # current
        data,
        profiles,
        m5,
        firmware_date,
        serial,
    )


def parse_configuration(data: bytes) -> Configuration:
    """Parse the 8-byte header and every feature descriptor present.

    When the allocation length cut the answer short of its data length, the
    descriptors that arrived whole are kept and ``truncated`` is set. Inside
    the announced length, a descriptor that overruns it is an error: the
    drive's own length fields disagree.
    """
    require(data, HEADER_LENGTH, "GET CONFIGURATION")
    data_length = be(data, 0, 4)
    if data_length < 4:
        raise ParseError(f"GET CONFIGURATION: data length {data_length} is shorter than the header")
    end, truncated = extent(data, data_length + 4)
    features = []
    pos = HEADER_LENGTH
    while pos < end:
        stop = pos + 4 + data[pos + 3] if end - pos >= 4 else end + 1
        if stop > end and truncated:
            break
        if end - pos < 4:
            raise ParseError(f"GET CONFIGURATION: {end - pos} stray bytes after the last feature")
        length = data[pos + 3]
        if stop > end:
            raise ParseError(
                f"GET CONFIGURATION: feature {be(data, pos, 2):04X}h is cut short "
                f"({end - pos - 4} of {length} bytes)"
            )
        features.append(_feature(be(data, pos, 2), data[pos + 2], bytes(data[pos + 4 : stop])))
        pos = stop
    current = be(data, 6, 2)
    return Configuration(data_length, current, profile_name(current), tuple(features), truncated)
