"""Create and remove the kernel objects that make a user-space SCSI device real.

Two configfs trees are involved (Linux drivers/target, target_core_user and
loopback/tcm_loop; steps measured in docs/testbed.md):

- a backstore ``core/user_1/NAME`` whose ``control`` takes
  ``dev_config=HANDLER/NAME``, ``dev_size=``, ``hw_block_size=`` and
  ``nl_reply_supported=-1`` (no netlink daemon such as tcmu-runner needed);
  enabling it creates /dev/uioN, whose sysfs name is
  ``tcm-user/1/NAME/HANDLER/NAME``;
- a tcm_loop port ``loopback/naa.X/tpgt_1``: a virtual SCSI host. Its I_T
  nexus must exist before a LUN is linked, and linking the backstore as
  ``lun/lun_0`` makes the host scan it, so the handler must already be
  answering when ``link`` is called. ``tpgt_1/address`` names the SCSI host
  as H:C:T, which leads to the srN and sgN nodes through sysfs.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

from rescue.errors import DeviceNotFound, ExitCode, PermissionDenied, RescueError

CONFIGFS = Path("/sys/kernel/config")
HANDLER = "rescue"
HBA = "user_1"
BLOCK_SIZE = 2048  # the kernel sizes READ(10)/(12) transfers with it: optical sectors
DEV_SIZE = 8_547_991_552  # a dual-layer DVD; the kernel only range-checks against it
MAX_DATA_AREA_MB = 16  # WRITE BUFFER chunks of up to 1 MiB fit many times over
REQUIRED_MODULES = ("target_core_mod", "target_core_user", "tcm_loop")
NODE_WAIT_SECONDS = 15.0


class KernelSupportMissing(RescueError):
    """The running kernel lacks configfs, target_core_user or tcm_loop."""

    exit_code = ExitCode.FAILURE


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as err:
        raise KernelSupportMissing(
            f"the kernel refused '{text.strip()}' in {path}: {err.strerror}"
        ) from None


def _try(command: list[str]) -> str | None:
    """Run a setup command; None when it succeeded, else its complaint."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return f"{command[0]} is not installed"
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["failed"])[-1]


def ensure_kernel_support(sys_root: Path = Path("/sys")) -> None:
    """Fail early, in one line, when this system cannot host an emulated drive."""
    if os.geteuid() != 0:
        raise PermissionDenied(
            "exposing an emulated drive to the kernel needs root",
            hint="run `sudo rescue emulate ...`",
        )
    # A loaded module shows in /sys/module; a built-in one may not, but then
    # modprobe succeeds without doing anything.
    missing = [m for m in REQUIRED_MODULES if not (sys_root / "module" / m).is_dir()]
    if missing:
        complaint = _try(["modprobe", "-a", *missing])
        if complaint is not None:
            raise KernelSupportMissing(
                f"kernel module(s) {', '.join(missing)} unavailable: {complaint}",
                hint="boot a kernel with CONFIG_TARGET_CORE, TCM_USER2 and LOOPBACK_TARGET",
            )
    if not (CONFIGFS / "target").is_dir():
        _try(["mount", "-t", "configfs", "configfs", str(CONFIGFS)])
        if not (CONFIGFS / "target").is_dir():
            raise KernelSupportMissing(
                f"configfs is not mounted at {CONFIGFS}",
                hint=f"mount -t configfs configfs {CONFIGFS}",
            )


def _naa() -> str:
    """A random NAA type 5 WWN (16 hex digits), as tcm_loop expects."""
    return "naa.5" + secrets.token_hex(8)[:15]


class LoopbackLun:
    """One emulated drive's backstore and tcm_loop port, created in that order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.backstore = CONFIGFS / "target/core" / HBA / name
        self.port = CONFIGFS / "target/loopback" / _naa()
        self.tpg = self.port / "tpgt_1"
        self.lun = self.tpg / "lun/lun_0"
        self.uio: str | None = None

    def create_backstore(self) -> str:
        """Make the backstore and return its /dev/uioN."""
        try:
            self.backstore.mkdir(parents=True)
        except FileExistsError:
            raise RescueError(f"an emulated drive named {self.name} already exists") from None
        except OSError as err:
            raise KernelSupportMissing(f"cannot create {self.backstore}: {err.strerror}") from None
        control = self.backstore / "control"
        for setting in (
            f"dev_config={HANDLER}/{self.name}",
            f"dev_size={DEV_SIZE}",
            f"hw_block_size={BLOCK_SIZE}",
            f"max_data_area_mb={MAX_DATA_AREA_MB}",
            "nl_reply_supported=-1",
        ):
            _write(control, setting)
        _write(self.backstore / "enable", "1")
        _write(self.backstore / "attrib/tmr_notification", "1")
        self.uio = self._find_uio()
        return self.uio

    def _find_uio(self) -> str:
        wanted = f"tcm-user/1/{self.name}/{HANDLER}/{self.name}"
        for entry in Path("/sys/class/uio").glob("uio*"):
            if (entry / "name").read_text().strip() == wanted:
                return f"/dev/{entry.name}"
        raise KernelSupportMissing(f"no /dev/uioN appeared for {self.name} (uio loaded?)")

    def map_size(self) -> int:
        assert self.uio is not None
        uio = Path(self.uio).name
        return int((Path("/sys/class/uio") / uio / "maps/map0/size").read_text(), 0)

    def link(self) -> None:
        """Create the port and attach the LUN; the kernel scans it (handler must run)."""
        self.tpg.mkdir(parents=True)
        _write(self.tpg / "nexus", _naa())
        self.lun.mkdir(parents=True)
        (self.lun / self.name).symlink_to(self.backstore)

    def scsi_address(self) -> str:
        """H:C:T:L of the drive on the loopback host."""
        host_channel_target = (self.tpg / "address").read_text().strip()
        return f"{host_channel_target}:0"

    def nodes(self, timeout: float = NODE_WAIT_SECONDS) -> tuple[str, str]:
        """(/dev/srN, /dev/sgN) once the sr and sg drivers have bound the new device."""
        device = Path("/sys/bus/scsi/devices") / self.scsi_address()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            blocks = sorted(p.name for p in (device / "block").glob("*"))
            generics = sorted(p.name for p in (device / "scsi_generic").glob("*"))
            if (
                blocks
                and generics
                and all(Path("/dev", n).exists() for n in (blocks[0], generics[0]))
            ):
                return f"/dev/{blocks[0]}", f"/dev/{generics[0]}"
            time.sleep(0.05)
        raise DeviceNotFound(
            f"{self.name}: no /dev/srN and /dev/sgN after {timeout:g} s at {device}",
            hint="is sr_mod and sg loaded, and does the model answer INQUIRY with type 5?",
        )

    def unlink(self) -> None:
        """Detach the LUN and remove the port (the SCSI host goes away)."""
        link = self.lun / self.name
        if link.is_symlink():
            link.unlink()
        for directory in (self.lun, self.tpg, self.port):
            if directory.is_dir():
                directory.rmdir()

    def remove_backstore(self) -> None:
        """Remove the backstore; call after the handler closed /dev/uioN."""
        if self.backstore.is_dir():
            self.backstore.rmdir()
