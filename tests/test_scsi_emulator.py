"""Host-side builders and parsers against the independent emulated MMC drive.

``rescue.emulator.mmc`` was written from the same standards without importing
``rescue.scsi``; when a builder and the model disagree on a field, or a parser
and the model on a layout, these tests fail. Commands go through the emulated
transport so allocation lengths are applied as a real carrier would.
"""

import pytest

from rescue.emulator.registry import create
from rescue.scsi import cdb
from rescue.scsi.capacity import parse_read_capacity_10
from rescue.scsi.configuration import parse_configuration
from rescue.scsi.events import parse_event_status
from rescue.scsi.inquiry import parse_inquiry
from rescue.scsi.modepage import parse_capabilities_response
from rescue.scsi.readcd import C2Mode, HeaderCode, SectorType, split_blocks
from rescue.scsi.toc import parse_session_info, parse_toc
from rescue.scsi.vpd import parse_device_identification, parse_supported_pages, parse_unit_serial
from rescue.transport.emulated import EmulatedTransport


def transport(spec: str) -> EmulatedTransport:
    """A drive behind the emulated transport, its power-on unit attention consumed."""
    link = EmulatedTransport(create(spec), "emu")
    assert link.execute(cdb.test_unit_ready()).status != 0
    return link


def data(link: EmulatedTransport, command: cdb.Cdb) -> bytes:
    result = link.execute(command, data_in=command.data_in)
    assert result.ok, (command.hex(), result.sense.hex())
    return result.data


def test_identity_and_vpd() -> None:
    link = transport("generic-dvd,serial=K1234")
    inq = parse_inquiry(data(link, cdb.inquiry()))
    assert (inq.vendor, inq.product, inq.revision) == ("RESCUE", "EMU DVD-ROM", "1.00")
    assert inq.is_optical and inq.removable
    pages = parse_supported_pages(data(link, cdb.inquiry(evpd=True, page=0x00))).pages
    assert {0x00, 0x80, 0x83} <= set(pages)
    serial = parse_unit_serial(data(link, cdb.inquiry(evpd=True, page=0x80)))
    assert serial.serial == "K1234"
    ident = parse_device_identification(data(link, cdb.inquiry(evpd=True, page=0x83)))
    assert ident.designators and not ident.truncated


def test_configuration_and_capabilities() -> None:
    link = transport("generic-dvd")
    conf = parse_configuration(data(link, cdb.get_configuration()))
    assert not conf.truncated
    assert conf.current_profile_name == "DVD-ROM"
    assert [(p.name, p.current) for p in conf.profiles] == [("DVD-ROM", True), ("CD-ROM", False)]
    date = conf.feature(0x010C).firmware_date
    assert date is not None and date.year is not None and len(date.text) == 14
    one = parse_configuration(data(link, cdb.get_configuration(cdb.ConfigRT.ONE, 0x010C)))
    assert [f.code for f in one.features] == [0x010C]
    caps = parse_capabilities_response(data(link, cdb.mode_sense_10(cdb.CAPABILITIES_PAGE)))
    assert caps.read_dvd_rom and caps.read_cd_r and caps.c2_pointers
    assert caps.eject and caps.lock and caps.loading_mechanism_name == "tray"
    assert caps.buffer_size == 512


def test_small_allocation_keeps_the_header() -> None:
    link = transport("generic-dvd")
    conf = parse_configuration(data(link, cdb.get_configuration(alloc=8)))
    assert conf.current_profile == 0x10 and conf.truncated and conf.features == ()


def test_capacity_and_toc_agree_in_lba_and_msf() -> None:
    link = transport("generic-dvd,sectors=9000")
    cap = parse_read_capacity_10(data(link, cdb.read_capacity_10()))
    assert cap.blocks == 9000 and cap.block_length == 2048
    toc = parse_toc(data(link, cdb.read_toc()))
    toc_msf = parse_toc(data(link, cdb.read_toc(msf=True)), msf=True)
    assert toc.lead_out.lba == toc_msf.lead_out.lba == cap.blocks
    assert toc.entries[0].is_data
    info = parse_session_info(data(link, cdb.read_toc(cdb.TocFormat.SESSION_INFO)))
    assert (info.first, info.last, info.entries[0].lba) == (1, 1, 0)


def test_tray_events_follow_eject_and_load() -> None:
    link = transport("generic-dvd")
    media = parse_event_status(data(link, cdb.get_event_status())).media
    assert media.media_present and not media.tray_open
    assert link.execute(cdb.start_stop_unit(cdb.StartStop.EJECT)).ok
    media = parse_event_status(data(link, cdb.get_event_status())).media
    assert media.tray_open
    assert link.execute(cdb.start_stop_unit(cdb.StartStop.LOAD)).ok
    media = parse_event_status(data(link, cdb.get_event_status())).media
    assert not media.tray_open and media.media_present


def test_locked_tray_refuses_eject() -> None:
    link = transport("generic-dvd")
    assert link.execute(cdb.prevent_allow_medium_removal(True)).ok
    refused = link.execute(cdb.start_stop_unit(cdb.StartStop.EJECT))
    assert not refused.ok and refused.sense[2] & 0x0F == 5
    assert link.execute(cdb.prevent_allow_medium_removal(False)).ok
    assert link.execute(cdb.start_stop_unit(cdb.StartStop.EJECT)).ok


@pytest.mark.parametrize("c2", [C2Mode.C2, C2Mode.C2_AND_BLOCK])
def test_read_cd_c2_pointers_flag_the_bad_sector(c2: C2Mode) -> None:
    link = transport("generic-cd,media=cd,bad=11")
    options = dict(sector_type=SectorType.MODE1, sync=False, header=HeaderCode.NONE, edc_ecc=False)
    command = cdb.read_cd(10, 3, c2=c2, **options)
    blocks = split_blocks(data(link, command), 2048, c2)
    assert [b.c2_error_count > 0 for b in blocks] == [False, True, False]
    plain = data(link, cdb.read_10(10, 1))
    assert blocks[0].main == plain
