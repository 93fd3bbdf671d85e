"""Our parsers and name tables against sg3_utils, an independent implementation.

sg3_utils decodes responses from a hex file (``--inhex``), so the same bytes
go through both decoders and the fields must agree. sg3-utils is in
build/apt-packages.txt; without it these tests fail rather than skip.
"""

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.scsi.configuration import FEATURES, PROFILES
from rescue.scsi.inquiry import parse_inquiry
from rescue.scsi.vpd import parse_device_identification, parse_supported_pages, parse_unit_serial

pytestmark = pytest.mark.peer


def sg(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, errors="replace", check=True)
    return done.stdout


def decode(tool: str, data: bytes, tmp: Path, *options: str) -> str:
    hexfile = tmp / "response.hex"
    hexfile.write_text(data.hex(" "))
    return sg(tool, f"--inhex={hexfile}", *options)


def test_every_profile_and_feature_sg3_utils_knows_is_named() -> None:
    listing = sg("sg_get_config", "--list")
    features_part, profiles_part = listing.split("Known profiles:")
    theirs_features = {int(c, 16) for c in re.findall(r"\[0x([0-9a-f]+)\]", features_part)}
    theirs_profiles = {int(c, 16) for c in re.findall(r"\[0x([0-9a-f]{1,4})\]", profiles_part)}
    assert theirs_features and theirs_profiles
    assert theirs_features <= FEATURES.keys()
    assert theirs_profiles <= PROFILES.keys()


TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+ ", max_size=16)


def field(text: str, size: int) -> bytes:
    return text[:size].ljust(size).encode("ascii")


@settings(max_examples=40, deadline=None)
@given(
    qualifier=st.sampled_from([0, 1, 3]),
    device_type=st.integers(0, 31),
    removable=st.booleans(),
    vendor=TEXT,
    product=TEXT,
    revision=TEXT,
)
def test_standard_inquiry_agrees_with_sg_inq(
    tmp_path_factory, qualifier, device_type, removable, vendor, product, revision
) -> None:
    raw = (
        bytes([qualifier << 5 | device_type, 0x80 if removable else 0, 0x05, 0x02, 31, 0, 0, 0])
        + field(vendor, 8)
        + field(product, 16)
        + field(revision, 4)
    )
    ours = parse_inquiry(raw)
    out = decode("sg_inq", raw, tmp_path_factory.mktemp("inq"))
    assert f"PQual={ours.qualifier} " in out
    assert f"PDT={ours.device_type} " in out
    assert f"RMB={int(ours.removable)} " in out
    for label, value in (
        ("Vendor identification", ours.vendor),
        ("Product identification", ours.product),
        ("Product revision level", ours.revision),
    ):
        match = re.search(rf"{label}: ?(.*)$", out, re.M)
        assert match is not None and match.group(1).strip() == value


def vpd(page: int, body: bytes) -> bytes:
    return bytes([0x05, page]) + len(body).to_bytes(2, "big") + body


def test_vpd_pages_agree_with_sg_vpd(tmp_path: Path) -> None:
    serial = vpd(0x80, b"  K1A2B3C4  ")
    out = decode("sg_vpd", serial, tmp_path)
    assert re.search(r"Unit serial number: (.*)$", out, re.M).group(1).strip() == (
        parse_unit_serial(serial).serial
    )
    supported = vpd(0x00, bytes([0x00, 0x80, 0x83]))
    out = decode("sg_vpd", supported, tmp_path)
    listed = [line for line in out.splitlines()[1:] if line.strip()]
    assert len(listed) == len(parse_supported_pages(supported).pages)


@settings(max_examples=30, deadline=None)
@given(
    descriptors=st.lists(
        st.tuples(
            st.sampled_from([1, 2]),  # code set: binary, ASCII
            st.sampled_from([0, 1, 2]),  # association
            st.sampled_from([0, 1, 2, 3, 8]),  # designator type
            st.binary(min_size=8, max_size=8),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_device_identification_agrees_with_sg_vpd(tmp_path_factory, descriptors) -> None:
    body = b""
    for code_set, association, dtype, value in descriptors:
        if code_set == 2:
            value = bytes(0x41 + b % 26 for b in value)  # ASCII designators must be text
        if dtype == 3:
            code_set, value = 1, bytes([0x50 | value[0] & 0x0F]) + value[1:]  # NAA 5
        body += bytes([code_set, association << 4 | dtype, 0, len(value)]) + value
    raw = vpd(0x83, body)
    ours = parse_device_identification(raw)
    out = decode("sg_vpd", raw, tmp_path_factory.mktemp("vpd"))
    assert out.count("designator type:") == len(ours.designators)
    for designator in ours.designators:
        assert f"code set: {designator.code_set_name}" in out.lower()
