"""The hybrid image's partition table, read back from a real (small) xorriso run.

What the firmware sees: UEFI boots a stick from the partition whose MBR type
is 0xEF (the EFI System Partition), and a CD from the El Torito EFI entry;
both must be the one FAT image with shim in it. The USB image's data
partition follows as a FAT32 (LBA) partition that any OS mounts.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iso import image  # noqa: E402

EPOCH = 1767225600
SECTOR = 512
ISO_BLOCK = 2048


def mbr_partitions(disk: Path) -> list[tuple[int, int, int]]:
    """(type, first LBA, sectors) of the four MBR entries, from the bytes themselves."""
    mbr = disk.read_bytes()[:SECTOR]
    assert mbr[510:512] == b"\x55\xaa", "no MBR signature"
    entries = []
    for number in range(4):
        entry = mbr[446 + 16 * number : 446 + 16 * (number + 1)]
        start, count = struct.unpack_from("<II", entry, 8)
        entries.append((entry[4], start, count))
    return entries


def el_torito_efi_lba(disk: Path) -> int:
    """Where the El Torito catalog's UEFI entry (platform 0xEF) loads from, in 512-byte LBA."""
    data = disk.read_bytes()
    record = data[17 * ISO_BLOCK : 18 * ISO_BLOCK]
    assert record[1:6] == b"CD001" and record[7:30].rstrip(b"\0") == b"EL TORITO SPECIFICATION"
    (catalog_block,) = struct.unpack_from("<I", record, 0x47)
    catalog = data[catalog_block * ISO_BLOCK : (catalog_block + 1) * ISO_BLOCK]
    for offset in range(32, ISO_BLOCK - 64, 32):
        header = catalog[offset : offset + 32]
        if header[0] in (0x90, 0x91) and header[1] == 0xEF:
            (rba,) = struct.unpack_from("<I", catalog, offset + 32 + 8)
            return rba * (ISO_BLOCK // SECTOR)
    raise AssertionError("no UEFI section in the El Torito catalog")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("image")
    tree = work / "tree"
    (tree / "isolinux").mkdir(parents=True)
    for source in image.ISOLINUX_FILES:
        (tree / "isolinux" / Path(source).name).write_bytes(Path(source).read_bytes())
    efi = work / "efiboot.img"
    image.efi_image(efi, work / "efi", EPOCH)
    data = work / "data.img"
    image.data_image(data, image.DATA_MIN_MIB, EPOCH)
    iso = work / "t.iso"
    usb = work / "t-usb.img"
    image.xorriso_iso(tree, efi, iso, EPOCH)
    image.xorriso_iso(tree, efi, usb, EPOCH, append=data)
    return {"iso": iso, "usb": usb, "efi": efi, "data": data}


def test_the_efi_partition_has_the_efi_system_partition_type(built: dict[str, Path]):
    parts = mbr_partitions(built["iso"])
    kind, start, count = parts[image.EFI_PARTITION - 1]
    assert kind == 0xEF
    assert count * SECTOR == built["efi"].stat().st_size
    assert built["iso"].read_bytes()[start * SECTOR : (start + count) * SECTOR] == (
        built["efi"].read_bytes()
    )


def test_the_image_ends_with_its_last_partition_not_padding(built: dict[str, Path]):
    for name, last in (("iso", image.EFI_PARTITION), ("usb", image.DATA_PARTITION)):
        _, start, count = mbr_partitions(built[name])[last - 1]
        assert built[name].stat().st_size == (start + count) * SECTOR, name


def test_cd_and_stick_boot_the_same_efi_image(built: dict[str, Path]):
    _, start, _ = mbr_partitions(built["iso"])[image.EFI_PARTITION - 1]
    assert el_torito_efi_lba(built["iso"]) == start


def test_no_partition_is_left_marked_basic_data_in_a_gpt(built: dict[str, Path]):
    types = [kind for kind, _, _ in mbr_partitions(built["iso"])]
    assert 0xEE not in types, "a protective GPT entry would hide the 0xEF partition"
    assert built["iso"].read_bytes()[SECTOR : SECTOR + 8] != b"EFI PART"


def test_the_usb_image_adds_a_fat32_data_partition_after_the_esp(built: dict[str, Path]):
    parts = mbr_partitions(built["usb"])
    esp, data = parts[image.EFI_PARTITION - 1], parts[image.DATA_PARTITION - 1]
    assert esp[0] == 0xEF and data[0] == 0x0C
    assert data[1] >= esp[1] + esp[2]
    label = subprocess.run(
        ["mlabel", "-s", "-i", f"{built['usb']}@@{data[1] * SECTOR}", "::"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert image.DATA_LABEL in label.stdout


def test_the_data_partition_is_fat32_and_knows_where_it_starts(built: dict[str, Path]):
    """FAT32 as the 0x0C type says, its boot sector and FAT32's backup copy (sector 6)
    counting the sectors before the partition, as DOS, Windows and fsck.fat expect."""
    _, start, _ = mbr_partitions(built["usb"])[image.DATA_PARTITION - 1]
    disk = built["usb"].read_bytes()
    for sector in (0, 6):
        boot = disk[(start + sector) * SECTOR : (start + sector + 1) * SECTOR]
        assert boot[82:90] == b"FAT32   " and boot[22:24] == b"\0\0", boot[:90]
        assert struct.unpack_from("<I", boot, 28)[0] == start
        assert boot[65] == 0, "the file system must leave the build clean"
    base = start * SECTOR
    per_cluster, reserved, fats = struct.unpack_from("<BHB", disk, base + 13)
    total, fat_sectors = struct.unpack_from("<II", disk, base + 32)
    clusters = (total - reserved - fats * fat_sectors) // per_cluster
    assert clusters >= 65525, f"FAT32 needs at least 65525 clusters, has {clusters}"


def test_a_data_partition_too_small_for_fat32_is_refused(tmp_path: Path):
    with pytest.raises(image.ImageError, match="at least"):
        image.data_image(tmp_path / "d.img", image.DATA_MIN_MIB - 1, EPOCH)


def test_the_efi_fat_holds_shim_grub_and_mokmanager(built: dict[str, Path]):
    listing = subprocess.run(
        ["mdir", "-b", "-i", str(built["efi"]), "::/EFI/BOOT"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    for name in image.EFI_FILES:
        assert f"::/efi/boot/{name.lower()}" in listing
    size = built["efi"].stat().st_size
    assert size % image.ISO_BLOCK == 0
    payload = sum(Path(source).stat().st_size for source in image.EFI_FILES.values())
    assert payload < size <= payload + image.EFI_SLACK + image.ISO_BLOCK
