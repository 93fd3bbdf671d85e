"""Standard INQUIRY data (SPC-4 6.6.2): who the drive says it is.

Vendor, product and revision are the identity the flasher compares with a
firmware image, so they are decoded leniently (ASCII with replacement,
padding stripped) but from a response whose length fields make sense.
Bytes 36-55 are kept raw: drives put their firmware date or serial there.
"""

from __future__ import annotations

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, ascii_field, require

# SPC-4 table "Peripheral device type"
PERIPHERAL_TYPES: dict[int, str] = {
    0x00: "direct access block device",
    0x01: "sequential access device",
    0x02: "printer device",
    0x03: "processor device",
    0x04: "write-once device",
    0x05: "CD/DVD device",
    0x06: "scanner device (obsolete)",
    0x07: "optical memory device",
    0x08: "media changer device",
    0x09: "communications device (obsolete)",
    0x0C: "storage array controller device",
    0x0D: "enclosure services device",
    0x0E: "simplified direct access device",
    0x0F: "optical card reader/writer device",
    0x10: "bridge controller commands",
    0x11: "object-based storage device",
    0x12: "automation/drive interface",
    0x13: "security manager device",
    0x14: "host managed zoned block device",
    0x1E: "well known logical unit",
    0x1F: "unknown or no device type",
}

# SPC-4 table "Peripheral qualifier"
PERIPHERAL_QUALIFIERS: dict[int, str] = {
    0: "connected",
    1: "not connected",
    3: "not supported",
}

# SPC-4 table "Version": the command standard the device claims
VERSIONS: dict[int, str] = {
    0x00: "no standard claimed",
    0x02: "SCSI-2",
    0x03: "SPC",
    0x04: "SPC-2",
    0x05: "SPC-3",
    0x06: "SPC-4",
    0x07: "SPC-5",
}

CD_DVD = 0x05
STANDARD_LENGTH = 36  # bytes up to and including the product revision level


@record(frozen=True, slots=True)
class Inquiry(Record):
    qualifier: int
    qualifier_name: str
    device_type: int
    device_type_name: str
    removable: bool
    version: int
    version_name: str
    response_format: int
    additional_length: int
    vendor: str
    product: str
    revision: str
    vendor_specific: bytes

    @property
    def is_optical(self) -> bool:
        """True for a connected MMC (CD/DVD/BD) logical unit."""
        return self.qualifier == 0 and self.device_type == CD_DVD


def parse_inquiry(data: bytes) -> Inquiry:
    """Parse standard INQUIRY data; at least the 36 standard bytes must be there.

    The answer may be cut short by the allocation length, so only the bytes
    both announced by the additional length and actually present are used.
    """
    require(data, STANDARD_LENGTH, "INQUIRY")
    announced = data[4] + 5
    if announced < STANDARD_LENGTH:
        raise ParseError(
            f"INQUIRY: additional length {data[4]} leaves no room for vendor and product"
        )
    end = min(len(data), announced)
    qualifier, device_type = data[0] >> 5, data[0] & 0x1F
    return Inquiry(
        qualifier=qualifier,
        qualifier_name=PERIPHERAL_QUALIFIERS.get(qualifier, "reserved"),
        device_type=device_type,
        device_type_name=PERIPHERAL_TYPES.get(device_type, "reserved"),
        removable=bool(data[1] & 0x80),
        version=data[2],
        version_name=VERSIONS.get(data[2], "reserved"),
        response_format=data[3] & 0x0F,
        additional_length=data[4],
        vendor=ascii_field(data[8:16]),
        product=ascii_field(data[16:32]),
        revision=ascii_field(data[32:36]),
        vendor_specific=bytes(data[36 : min(end, 56)]),
    )
