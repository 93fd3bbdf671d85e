"""A drive named by its node is read from its own sysfs entries, the same as the walk reads it,
and udev's facts from its block device's entry in udev's database, the same as pyudev gives them."""

from __future__ import annotations

import functools
import random
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_discovery import (  # noqa: F401  (tree: a fixture)
    CD,
    USB_HOST,
    VIRTIO_HOST,
    SysfsTree,
    tree,
    udev_world,
)

import rescue.discovery as discovery
from rescue.discovery import Inventory, discover, named, resolve, udevdb
from rescue.errors import DeviceNotFound


def with_class_links(t: SysfsTree) -> SysfsTree:
    """Add the class entries the kernel makes per node: class/block/srN, class/scsi_generic/sgN."""
    for entry in sorted((t.root / "class" / "scsi_device").iterdir()):
        device = (entry / "device").resolve()
        for sub, klass in (("block", "block"), ("scsi_generic", "scsi_generic")):
            for child in sorted((device / sub).glob("*")):
                t._link(child / "device", device)
                t._link(t.root / "class" / klass / child.name, child)
    return t


@pytest.fixture
def linked(tree: SysfsTree) -> SysfsTree:  # noqa: F811
    return with_class_links(tree)


def by_node(t: SysfsTree, spec: str) -> discovery.DriveNode | None:
    return named.by_node(spec, sysfs_root=str(t.root), dev_root=str(t.dev))


def test_every_node_form_gives_the_drive_the_walk_gives(linked: SysfsTree) -> None:
    walked = discover(sysfs_root=str(linked.root), dev_root=str(linked.dev), use_udev=False)
    (linked.dev / "cdrom").symlink_to("sr3")
    for drive in walked.drives:
        assert drive.sr is not None and drive.sg is not None
        for spec in (drive.sr, drive.sg, Path(drive.sr).name, f" {Path(drive.sg).name} "):
            assert by_node(linked, spec) == drive, spec
    assert by_node(linked, str(linked.dev / "cdrom")) == walked.drives[2]  # the TCMU drive's sr3


@pytest.mark.parametrize("spec", ["0", "6:0:0:0", "sg0", "sda", "/dev/sr7", "sr7", "/tmp", "\0"])
def test_what_a_node_does_not_settle_is_left_to_the_walk(linked: SysfsTree, spec: str) -> None:
    assert by_node(linked, spec) is None  # sg0 is the disk's node: not a drive


def test_a_node_whose_class_entry_is_missing_is_left_to_the_walk(tree: SysfsTree) -> None:  # noqa: F811
    assert by_node(tree, "sg2") is None  # no class/scsi_generic in this tree


@pytest.fixture
def walks(linked: SysfsTree, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """resolve() reads LINKED for a node; each walk it makes is counted (and finds the tree)."""
    counted: list[int] = []
    roots = {"sysfs_root": str(linked.root), "dev_root": str(linked.dev)}
    monkeypatch.setattr(discovery, "by_node", functools.partial(named.by_node, **roots))

    def walk() -> Inventory:
        counted.append(1)
        return discover(use_udev=False, **roots)

    monkeypatch.setattr(discovery, "discover", walk)
    return counted


def test_resolve_reads_a_named_node_without_walking_the_others(
    linked: SysfsTree, walks: list[int]
) -> None:
    drive = resolve(str(linked.dev / "sg2"))
    assert (drive.index, drive.hctl, drive.sr) == (1, "6:0:0:0", str(linked.dev / "sr1"))
    assert resolve("sr2").sg == str(linked.dev / "sg3")
    assert walks == []


def test_an_index_or_an_address_still_walks_and_errors_keep_their_words(
    linked: SysfsTree, walks: list[int]
) -> None:
    assert resolve("1").hctl == "6:0:0:0" and walks == [1]
    assert resolve("7:0:1:0").sg == str(linked.dev / "sg4") and walks == [1, 1]
    with pytest.raises(DeviceNotFound, match=r"^no optical drive sg0; found 4 drives: 0: "):
        resolve("sg0")
    with pytest.raises(DeviceNotFound, match="`rescue list` shows 4 drives"):
        resolve("9")
    assert len(walks) == 4


def test_one_command_reads_its_node_once_and_its_path_is_known(
    linked: SysfsTree, walks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    read = discovery.by_node
    monkeypatch.setattr(discovery, "by_node", lambda spec: reads.append(spec) or read(spec))
    sg = str(linked.dev / "sg4")
    assert discovery.known_path(sg) is None
    with discovery.discovered_once():
        first = resolve(sg)
        assert resolve(sg) is first and discovery.known_path(sg) is first.path
        assert first.path is not None and first.hctl == "7:0:1:0"
    assert reads == [sg] and walks == []
    assert discovery.known_path(sg) is None  # the block ended


# --- udev's facts, read from the one drive's entry in udev's database -----------------------


def udev_database(t: SysfsTree, base: Path, props: dict[str, dict[str, str]]) -> Path:
    """udev's database for T's block devices as systemd writes it (one ``b<major>:<minor>`` file
    per device that has PROPS, each ``E`` line among the other kinds of line), and each block
    directory's ``dev`` attribute (sr's major is 11, the minor its number)."""
    database = base / "udev-data"
    database.mkdir()
    for block in sorted((t.root / "devices").glob("**/block/*")):
        number = f"11:{block.name[2:]}"
        (block / "dev").write_text(number + "\n")
        if block.name in props:
            lines = ["S:cdrom", "L:-100", "I:1234567"]
            lines += [f"E:{key}={value}" for key, value in props[block.name].items()]
            lines += ["G:systemd", "Q:systemd", "V:1"]
            (database / f"b{number}").write_text("".join(line + "\n" for line in lines))
    return database


@pytest.fixture
def running(linked: SysfsTree, monkeypatch: pytest.MonkeyPatch) -> SysfsTree:
    """LINKED taken for the running system's /sys (so udev is in use when its database exists)."""
    monkeypatch.setattr(named.udev, "DEFAULT_SYSFS", str(linked.root))
    return linked


#: Every udev fact a drive takes: a disc, capabilities, identity only udev holds, and a drive
#: udev did not tag a CD (sr3, the TCMU drive's: no ID_CDROM, no ID_TYPE=cd).
PROPS = {
    "sr0": {
        **CD,
        "ID_CDROM_MEDIA": "1",
        "ID_CDROM_MEDIA_DVD_PLUS_R": "1",
        "ID_CDROM_MEDIA_STATE": "complete",
        "ID_CDROM_MEDIA_TRACK_COUNT": "1",
    },
    "sr1": CD,
    "sr2": {
        **CD,
        "ID_VENDOR": "QEMU",
        "ID_VENDOR_ENC": "QEMU\\x20\\x20\\x20\\x20",
        "ID_MODEL": "QEMU_CD-ROM",
        "ID_MODEL_ENC": "QEMU\\x20CD-ROM\\x20\\x20\\x20\\x20\\x20",
        "ID_REVISION": "2.5+",
    },
    "sr3": {"ID_BUS": "scsi", "ID_SERIAL": "x"},
}


def test_with_udev_the_node_gets_udev_facts_like_the_walk(
    running: SysfsTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    virtio = running.root / "devices" / VIRTIO_HOST / "target10:0:0" / "10:0:0:0"
    for name in ("vendor", "model", "rev"):
        (virtio / name).unlink()  # identity from udev's _ENC properties only
    monkeypatch.setattr(named.udev, "UDEV_DATABASE", str(udev_database(running, tmp_path, PROPS)))
    walked = discover(sysfs_root=str(running.root), udev_context=udev_world(running, PROPS))
    read = functools.partial(named.by_node, sysfs_root=str(running.root))  # udev's nodes: /dev
    for drive in walked.drives:
        assert drive.sg is not None
        assert read(Path(drive.sg).name) == drive, drive.sg
    ata, usb, tcm, qemu = (read(name) for name in ("sg1", "sg2", "sg4", "sg3"))
    assert ata is not None and ata.media is not None and ata.media.kinds == ("dvd_plus_r",)
    assert ata.capabilities == ("cd_r", "dvd") and ata.sr == "/dev/sr0"
    assert usb is not None and usb.media is not None and not usb.media.present
    assert qemu is not None and (qemu.vendor, qemu.model, qemu.revision) == (
        "QEMU",
        "QEMU CD-ROM",
        "2.5+",
    )
    assert tcm is not None and tcm.sr is None  # udev did not tag sr3 a CD: the walk pairs none


def test_a_drive_udev_keeps_no_entry_for_has_no_udev_facts_and_no_sr(
    running: SysfsTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file (udev has not seen or initialised it), a file that cannot be read, or a block
    directory without a device number: pyudev would show no ID_CDROM either."""
    database = udev_database(running, tmp_path, {"sr1": CD, "sr2": CD})
    monkeypatch.setattr(named.udev, "UDEV_DATABASE", str(database))
    (database / "b11:2").unlink()
    (database / "b11:2").mkdir()  # reading it fails with an OSError, even as root
    usb = running.root / "devices" / USB_HOST / "target6:0:0" / "6:0:0:0"
    (usb / "block" / "sr1" / "dev").write_text("../../b11:2\n")
    for sg in ("sg1", "sg2", "sg3"):
        drive = named.by_node(sg, sysfs_root=str(running.root))
        assert drive is not None and drive.sg == f"/dev/{sg}"
        assert (drive.sr, drive.media, drive.capabilities) == (None, None, ()), sg


def test_without_a_database_folder_the_node_is_read_as_sysfs_alone(
    running: SysfsTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(named.udev, "UDEV_DATABASE", str(tmp_path / "no-udev"))
    walked = discover(sysfs_root=str(running.root), dev_root=str(running.dev), use_udev=False)
    assert [by_node(running, str(d.sg)) for d in walked.drives] == walked.drives


def test_a_named_node_loads_no_pyudev(
    running: SysfsTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(named.udev, "UDEV_DATABASE", str(udev_database(running, tmp_path, PROPS)))
    monkeypatch.delitem(sys.modules, "pyudev", raising=False)
    monkeypatch.setitem(sys.modules, "pyudev", None)  # an import of it would raise
    drive = named.by_node("sg1", sysfs_root=str(running.root))
    assert drive is not None and drive.media is not None and drive.media.present


# --- the database file's parser -------------------------------------------------------------


def test_later_lines_replace_earlier_and_an_empty_value_unsets() -> None:
    data = b"E:A=1\nE:B=2\nE:A=3\nE:B=\nE:C\nX:D=4\nEE:F=5\nE:G=a=b\r\nE:H=6"
    assert udevdb.properties(data) == {"A": "3", "G": "a=b"}  # H: no line end, as systemd


@given(st.binary(max_size=200))
@example(b"E:\xff\xfe=\x80\n")
@example(b"E:=\n")
def test_any_bytes_give_text_properties_and_never_raise(data: bytes) -> None:
    found = udevdb.properties(data)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in found.items())


LINE_BYTES = st.binary(max_size=12).filter(lambda b: b"\n" not in b and b"\r" not in b)
OTHER_LINES = st.lists(st.sampled_from(["S:", "L:", "I:", "G:", "Q:", "V:", "W:", "N:"]))


@given(
    st.dictionaries(LINE_BYTES.filter(lambda b: b"=" not in b), LINE_BYTES.filter(bool)),
    OTHER_LINES,
    st.randoms(use_true_random=False),
)
def test_e_lines_round_trip(
    props: dict[bytes, bytes], others: list[str], rnd: random.Random
) -> None:
    """Properties written as udev writes them come back, byte for byte (non-UTF-8 included),
    whatever other lines stand between them."""
    lines = [b"E:" + key + b"=" + value for key, value in props.items()]
    lines += [kind.encode() + b"x" for kind in others]
    rnd.shuffle(lines)
    found = udevdb.properties(b"".join(line + b"\n" for line in lines))
    back = {
        k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape")
        for k, v in found.items()
    }
    assert back == props
