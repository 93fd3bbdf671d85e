"""A drive named by its node is read from its own sysfs entries, the same as the walk reads it."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from test_discovery import CD, SysfsTree, tree, udev_world  # noqa: F401  (tree: a fixture)

import rescue.discovery as discovery
from rescue.discovery import Inventory, discover, named, resolve
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


def test_with_udev_the_node_gets_udev_facts_like_the_walk(
    linked: SysfsTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    props = {"sr0": {**CD, "ID_CDROM_MEDIA": "1", "ID_CDROM_MEDIA_CD": "1"}, "sr1": CD}
    world = udev_world(linked, props)
    walked = discover(sysfs_root=str(linked.root), udev_context=world)
    monkeypatch.setattr(named.udev, "open_context", lambda use, root: (world, None))
    by_path = {d.sys_path: d.properties for d in world.devices}
    monkeypatch.setattr(named.udev, "block_properties", lambda ctx, path: by_path.get(path))
    read = functools.partial(named.by_node, sysfs_root=str(linked.root))  # udev's nodes: /dev
    for drive in walked.drives:
        assert drive.sg is not None
        assert read(Path(drive.sg).name) == drive, drive.sg
    tcm = read("sg4")
    assert tcm is not None and tcm.sr is None  # udev did not tag sr3 a CD: the walk pairs none


def test_udev_block_properties_of_a_device_udev_does_not_know_is_none(tmp_path: Path) -> None:
    import pyudev

    gone = str(tmp_path / "devices" / "block" / "sr9")  # e.g. unplugged between two reads
    assert named.udev.block_properties(pyudev.Context(), gone) is None
