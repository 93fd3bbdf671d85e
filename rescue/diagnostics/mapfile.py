"""GNU ddrescue mapfiles: write what a scan learnt, read one back to resume.

Format facts from the GNU ddrescue manual, section "Mapfile structure":
lines starting with '#' are comments; the first non-comment line is the
status line ``current_pos current_status [current_pass]``; every further
line is ``pos size status`` with pos/size in bytes (written in hex with a
``0x`` prefix) and the blocks contiguous. Writing the same format lets a
user carry on imaging with ``ddrescue`` from where ``rescue scan`` stopped.

The format has no status for a sector that reads only with C2 errors (a
"weak" sector: '+' to ddrescue, since it copies). rescue keeps those in
comment lines of its own, ``# rescue-c2 LBA:BYTES ...``, which ddrescue
ignores and a resumed scan reads back.

A mapfile also says which disc it maps, in one more comment line,
``# rescue-disc sectors=N sha256=HEX`` (HEX: the sha256 of the disc's first
sectors, or ``unreadable``), so a resume on another disc is refused instead of
mixing two discs' maps.
"""

from __future__ import annotations

import re

from rescue.errors import BadInput
from rescue.record import field, record

FINISHED = "+"
BAD_SECTOR = "-"
NON_TRIED = "?"
NON_TRIMMED = "*"
NON_SCRAPED = "/"
BLOCK_STATUSES = frozenset(FINISHED + BAD_SECTOR + NON_TRIED + NON_TRIMMED + NON_SCRAPED)
# The status line also knows the fill/generate phases of ddrescue (manual, same section).
CURRENT_STATUSES = BLOCK_STATUSES | {"F", "G"}


@record(frozen=True)
class Block:
    pos: int
    size: int
    status: str

    @property
    def end(self) -> int:
        return self.pos + self.size


@record(frozen=True)
class Mapfile:
    current_pos: int
    current_status: str
    current_pass: int
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def write_mapfile(mapfile: Mapfile, comments: tuple[str, ...] = ()) -> str:
    lines = [f"# {c}" for c in comments]
    lines.append("# current_pos  current_status  current_pass")
    lines.append(
        f"0x{mapfile.current_pos:08X}     {mapfile.current_status}               "
        f"{mapfile.current_pass}"
    )
    lines.append("#      pos        size  status")
    lines += [f"0x{b.pos:08X}  0x{b.size:08X}  {b.status}" for b in mapfile.blocks]
    return "\n".join(lines) + "\n"


C2_TAG = "rescue-c2"
C2_PER_LINE = 12


def c2_comments(c2: dict[int, int]) -> tuple[str, ...]:
    """Comment lines (without '# ') holding weak LBAs and the bytes their C2 pointers flagged."""
    pairs = [f"{lba}:{count}" for lba, count in sorted(c2.items())]
    return tuple(
        f"{C2_TAG} {' '.join(pairs[i : i + C2_PER_LINE])}"
        for i in range(0, len(pairs), C2_PER_LINE)
    )


def read_c2_comments(text: str, name: str = "mapfile") -> dict[int, int]:
    """The weak sectors an earlier scan wrote into the mapfile's comments."""
    c2: dict[int, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        words = line.lstrip().removeprefix("#").split()
        if not words or words[0] != C2_TAG:
            continue
        for pair in words[1:]:
            lba, sep, count = pair.partition(":")
            if not (sep and lba.isdigit() and count.isdigit()):
                raise BadInput(f"{name} line {n}: {pair!r} is not LBA:BYTES")
            c2[int(lba)] = int(count)
    return c2


DISC_TAG = "rescue-disc"


@record(frozen=True)
class DiscId:
    """Which disc a mapfile maps: its size and a fingerprint of its first sectors."""

    sectors: int
    sha256: str | None  # None: the first sectors could not be read

    def comment(self) -> str:
        return f"{DISC_TAG} sectors={self.sectors} sha256={self.sha256 or 'unreadable'}"

    def differs(self, other: DiscId) -> str | None:
        """Why ``other`` is not this disc, or None when nothing says so."""
        if self.sectors != other.sectors:
            return f"{self.sectors} sectors, this disc has {other.sectors}"
        if self.sha256 and other.sha256 and self.sha256 != other.sha256:
            return "same size, but its first sectors hold other data"
        return None


def read_disc_comment(text: str, name: str = "mapfile") -> DiscId | None:
    """The ``# rescue-disc`` line of a mapfile; None when it has none (ddrescue's own)."""
    for n, line in enumerate(text.splitlines(), 1):
        words = line.lstrip().removeprefix("#").split()
        if not words or words[0] != DISC_TAG:
            continue
        fields = dict(w.partition("=")[::2] for w in words[1:])
        sectors, digest = fields.get("sectors", ""), fields.get("sha256", "")
        valid = len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
        if not sectors.isdigit() or not (valid or digest == "unreadable"):
            raise BadInput(f"{name} line {n}: want '# {DISC_TAG} sectors=N sha256=HEX'")
        return DiscId(int(sectors), digest if valid else None)
    return None


def _number(token: str, where: str) -> int:
    """ddrescue writes hex with 0x; the manual allows decimal too, as C's strtoll base 0 does."""
    try:
        value = int(token, 16) if token[:2].lower() == "0x" else int(token, 10)
    except ValueError:
        raise BadInput(f"{where}: {token!r} is not a number") from None
    if value < 0:
        raise BadInput(f"{where}: {token!r} is negative")
    return value


def parse_mapfile(text: str, name: str = "mapfile") -> Mapfile:
    """Parse mapfile text; anything not in the documented shape raises BadInput."""
    rows = [
        (n, line.split())
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise BadInput(f"{name}: no status line (is this a ddrescue mapfile?)")
    n, head = rows[0]
    where = f"{name} line {n}"
    if len(head) not in (2, 3) or head[1] not in CURRENT_STATUSES:
        raise BadInput(f"{where}: want 'current_pos current_status [current_pass]'")
    current_pass = _number(head[2], where) if len(head) == 3 else 1
    blocks: list[Block] = []
    for n, parts in rows[1:]:
        where = f"{name} line {n}"
        if len(parts) != 3 or parts[2] not in BLOCK_STATUSES:
            raise BadInput(f"{where}: want 'pos size status' with status one of + - ? * /")
        block = Block(_number(parts[0], where), _number(parts[1], where), parts[2])
        if block.size == 0:
            raise BadInput(f"{where}: empty block")
        if blocks and block.pos != blocks[-1].end:
            raise BadInput(f"{where}: block at {block.pos:#x} does not follow the one before")
        blocks.append(block)
    return Mapfile(_number(head[0], where), head[1], current_pass, tuple(blocks))


def to_sectors(mapfile: Mapfile, sector_size: int, sectors: int) -> bytearray:
    """Per-sector status for a disc of ``sectors``; areas the mapfile omits are non-tried."""
    status = bytearray(NON_TRIED.encode() * sectors)
    for b in mapfile.blocks:
        if b.pos % sector_size or b.size % sector_size:
            raise BadInput(
                f"mapfile block {b.pos:#x}+{b.size:#x} is not {sector_size}-byte aligned"
            )
        first, last = b.pos // sector_size, min(b.end // sector_size, sectors)
        status[first:last] = b.status.encode() * max(0, last - first)
    return status


#: A run of one status; any other byte is a block of its own (a status array holds none).
#: Compiled (and cached by re) on the first save, not at import: a scan imports this
#: module before its first READ (issue 15).
_RUNS = b"|".join(re.escape(code.encode()) + b"+" for code in sorted(BLOCK_STATUSES)) + rb"|[\s\S]"
_DONE = (FINISHED + BAD_SECTOR).encode()


def from_sectors(
    status: bytes, sector_size: int, current_lba: int, current_pass: int = 1
) -> Mapfile:
    """Collapse a per-sector status array into contiguous mapfile blocks.

    The runs are found by one C-level regex pass: a scan checkpoints the map
    of a whole disc (2.3 million sectors for a DVD, 12 million for a BD) every
    30 s; a Python loop over every sector took 0.2 s per DVD save on the
    build host, seconds under TCG (docs/architecture.md, "The command path").
    """
    blocks = tuple(
        Block(
            run.start() * sector_size,
            (run.end() - run.start()) * sector_size,
            chr(status[run.start()]),
        )
        for run in re.finditer(_RUNS, status)
    )
    pending = bool(status.translate(None, _DONE))
    return Mapfile(
        current_lba * sector_size, NON_TRIED if pending else FINISHED, current_pass, blocks
    )
