"""The SD card's layout and the boot files that name it: partition arithmetic, fstab,
cmdline.txt and config.txt.

    >>> layout = Layout.for_content(root_bytes=900 * MiB, root_inodes=40_000,
    ...                             data_bytes=200 * MiB, data_inodes=9_000)
    >>> layout.partitions[1].label, layout.partitions[1].start % (4 * MiB)
    ('kasir-root', 0)

Three partitions on an MBR table (the Pi's boot ROM reads MBR only): FAT boot, ext4 root and
ext4 data, each found by its label. Every partition starts on a 4 MiB boundary, the erase-block
size of common SD cards, so a write never straddles two erase blocks. The data partition is
last, so that first boot can grow it to the end of the card.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
SECTOR = 512
ALIGN = 4 * MiB
BLOCK = 4096  # ext4 block size used for both ext4 file systems

BOOT_LABEL = "KASIR-BOOT"  # FAT labels: at most 11 characters, upper case
ROOT_LABEL = "kasir-root"
DATA_LABEL = "kasir-data"
DATA_DIR = "/var/lib/kasir"
DISK_ID = 0x4B415352  # "KASR": the MBR disk identifier, so PARTUUIDs are predictable too

# MBR partition type ids
FAT32_LBA = 0x0C
LINUX = 0x83


def align_up(value: int, to: int = ALIGN) -> int:
    return -(-value // to) * to


@dataclass(frozen=True)
class Partition:
    number: int
    label: str
    fs: str  # "vfat" or "ext4"
    type_id: int
    start: int  # bytes from the start of the disk
    size: int  # bytes

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def start_sector(self) -> int:
        return self.start // SECTOR

    @property
    def sectors(self) -> int:
        return self.size // SECTOR


def ext4_size(content_bytes: int, inodes: int, *, headroom: int, reserve_pct: int) -> int:
    """Bytes an ext4 file system needs to hold `content_bytes` (already rounded to blocks) in
    `inodes` files, plus `headroom` free for later writes.

    The overhead counted: one 256-byte inode per 16 KiB (mke2fs's default ratio) or per file,
    whichever is more; the journal (mke2fs picks 4-64 MiB by size; 64 MiB is assumed); group
    descriptors and bitmaps (about 1.5%); the root-reserved blocks; and 10% slack for
    directories' own blocks and fragmentation at the end of block groups."""
    if content_bytes < 0 or inodes < 0 or headroom < 0:
        raise ValueError("sizes cannot be negative")
    if not 0 <= reserve_pct < 50:
        raise ValueError(f"reserve_pct {reserve_pct} should be 0-49")
    payload = int(content_bytes * 1.10) + headroom
    inode_bytes = max(inodes * 2, payload // 16384) * 256
    journal = 64 * MiB
    metadata = int(payload * 0.015)
    size = payload + inode_bytes + journal + metadata
    size = int(size * 100 / (100 - reserve_pct))
    return align_up(max(size, 32 * MiB))


@dataclass(frozen=True)
class Layout:
    partitions: tuple[Partition, Partition, Partition]

    @property
    def size(self) -> int:
        return self.partitions[-1].end

    @property
    def boot(self) -> Partition:
        return self.partitions[0]

    @property
    def root(self) -> Partition:
        return self.partitions[1]

    @property
    def data(self) -> Partition:
        return self.partitions[2]

    @classmethod
    def build(cls, boot_size: int, root_size: int, data_size: int, first: int = ALIGN) -> Layout:
        sizes = {"boot": boot_size, "root": root_size, "data": data_size}
        for name, size in sizes.items():
            if size <= 0:
                raise ValueError(f"{name} partition size {size} should be above zero")
            if size % ALIGN:
                raise ValueError(f"{name} partition size {size} is not a multiple of 4 MiB")
        if first % ALIGN or first < ALIGN:
            raise ValueError(f"first partition offset {first} should be a multiple of 4 MiB")
        boot = Partition(1, BOOT_LABEL, "vfat", FAT32_LBA, first, boot_size)
        root = Partition(2, ROOT_LABEL, "ext4", LINUX, boot.end, root_size)
        data = Partition(3, DATA_LABEL, "ext4", LINUX, root.end, data_size)
        return cls((boot, root, data))

    @classmethod
    def for_content(
        cls,
        *,
        root_bytes: int,
        root_inodes: int,
        data_bytes: int,
        data_inodes: int,
        boot_size: int = 256 * MiB,
        root_headroom: int = 384 * MiB,
        data_headroom: int = 128 * MiB,
    ) -> Layout:
        """Sizes from the content: the root keeps room for a kernel update (old and new
        modules side by side) during the nightly security updates; the data partition only
        needs to hold the first release, as first boot grows it to the whole card."""
        return cls.build(
            boot_size,
            ext4_size(root_bytes, root_inodes, headroom=root_headroom, reserve_pct=1),
            ext4_size(data_bytes, data_inodes, headroom=data_headroom, reserve_pct=0),
        )

    def sfdisk_script(self) -> str:
        lines = [
            "label: dos",
            f"label-id: 0x{DISK_ID:08x}",
            "unit: sectors",
            "sector-size: 512",
            "",
        ]
        for p in self.partitions:
            lines.append(f"start={p.start_sector}, size={p.sectors}, type={p.type_id:x}")
        return "\n".join(lines) + "\n"


def parse_sfdisk_dump(text: str) -> list[tuple[int, int, int]]:
    """(start sector, sectors, type id) of each partition in `sfdisk --dump` output."""
    found = []
    for line in text.splitlines():
        if ":" not in line or "start=" not in line:
            continue
        fields = dict(
            part.strip().split("=", 1) for part in line.split(":", 1)[1].split(",") if "=" in part
        )
        found.append((int(fields["start"]), int(fields["size"]), int(fields["type"].strip(), 16)))
    return found


def fstab(tmpfs_sizes: dict[str, str] | None = None) -> str:
    """The root is read-only; what must be written at run time goes to tmpfs (lost at
    reboot) or to the data partition. The boot partition is FAT, which a power cut during a
    write can spoil: it stays read-only and is remounted read-write only for the moments
    first boot and kernel updates write to it; the till runs without it (nofail). Devices
    get 5 minutes to appear: udev's first pass is slow on a Zero 2 W (and under emulation)."""
    sizes = {"/tmp": "64M", "/var/tmp": "32M", "/var/log": "32M", "/var/lib/systemd": "8M"}
    sizes.update(tmpfs_sizes or {})
    rows = [
        ("# <file system>", "<mount point>", "<type>", "<options>", "<dump>", "<pass>"),
        (f"LABEL={ROOT_LABEL}", "/", "ext4", "ro,noatime,errors=remount-ro", "0", "1"),
        (
            f"LABEL={BOOT_LABEL}",
            "/boot/firmware",
            "vfat",
            "ro,noatime,umask=0022,flush,nofail,x-systemd.device-timeout=5min",
            "0",
            "2",
        ),
        (
            f"LABEL={DATA_LABEL}",
            DATA_DIR,
            "ext4",
            "rw,noatime,nodev,nosuid,errors=remount-ro,x-systemd.device-timeout=5min",
            "0",
            "2",
        ),
    ]
    for mount_point, size in sizes.items():
        mode = "1777" if mount_point in ("/tmp", "/var/tmp") else "0755"
        rows.append(
            ("tmpfs", mount_point, "tmpfs", f"nosuid,nodev,mode={mode},size={size}", "0", "0")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    out = []
    for row in rows:
        out.append(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + " " + row[5])
    return "\n".join(line.rstrip() for line in out) + "\n"


def fstab_root_label(text: str) -> str | None:
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and fields[1] == "/":
            return fields[0].removeprefix("LABEL=") if fields[0].startswith("LABEL=") else None
    return None


def cmdline(consoles: tuple[str, ...] = ("tty1",), extra: tuple[str, ...] = ()) -> str:
    """The kernel command line: the root by label, mounted read-only from the start (the
    initramfs checks it first), consoles as given (the last one gets /dev/console)."""
    args = [f"console={c}" for c in consoles]
    args += [
        f"root=LABEL={ROOT_LABEL}",
        "rootfstype=ext4",
        "ro",
        "rootwait",
        "fsck.repair=yes",
        "net.ifnames=0",
        "quiet",
        "loglevel=3",
        "systemd.show_status=auto",
        "vt.global_cursor_default=0",
        *extra,
    ]
    return " ".join(args) + "\n"


def cmdline_root_label(text: str) -> str | None:
    for arg in text.split():
        if arg.startswith("root=LABEL="):
            return arg.removeprefix("root=LABEL=")
    return None


# Device trees of Debian's kernel for each supported board. The Pi firmware would otherwise
# look for the Raspberry Pi kernel's own file names, which Debian's kernel does not ship.
DEVICE_TREES = {
    "pi3": "bcm2837-rpi-3-b.dtb",
    "pi3+": "bcm2837-rpi-3-b-plus.dtb",
    "pi4": "bcm2711-rpi-4-b.dtb",
    "pi400": "bcm2711-rpi-400.dtb",
    "pi02": "bcm2837-rpi-zero-2-w.dtb",
}


def config_txt(kernel: str, initrd: str, extra: str = "") -> str:
    """The Pi firmware's config.txt for Debian's arm64 kernel on Pi 3/3+/4/400/Zero 2 W.

    `[pi3]` also matches the 3+, so `[pi3+]` comes after it and wins there. HDMI gets a
    mode even with no screen attached at power-on (a till's screen is often switched on after
    the till), and the KMS driver (vc4-kms-v3d) is what Debian's kernel provides."""
    lines = [
        "# Kasir SD image: the Raspberry Pi firmware's settings. Generated at build time.",
        "# Edit with care: a mistake here stops the Pi from booting.",
        "arm_64bit=1",
        "enable_uart=1",
        "upstream_kernel=1",
        f"kernel={kernel}",
        f"initramfs {initrd} followkernel",
        "disable_overscan=1",
        "hdmi_force_hotplug=1",
        "dtparam=audio=on",
        "disable_splash=1",
        "boot_delay=0",
        "",
    ]
    for board, dtb in DEVICE_TREES.items():
        lines += [f"[{board}]", f"device_tree={dtb}", ""]
    lines.append("[all]")
    if extra.strip():
        lines += ["# From the build's --config-txt-extra", extra.strip()]
    return "\n".join(lines) + "\n"


# -- on the till: the boot partition after a kernel update -----------------------------------


def _version_key(name: str) -> list:
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def install_boot_files(root: str = "/", firmware: str = "/boot/firmware") -> tuple[str, str]:
    """Copy the newest kernel, its initrd and the Pi device trees to the boot partition and
    write config.txt and cmdline.txt for them; remove kernels no longer in /boot.

    Debian's raspi-firmware hook would do the copying but writes its own config.txt and
    cmdline.txt (root by device name, mounted read-write), so the image replaces that hook
    with a call to this function."""
    import glob
    import os
    import shutil

    boot = os.path.join(root, "boot")
    fw = os.path.join(root, firmware.lstrip("/"))
    kernels = sorted(
        (p for p in glob.glob(os.path.join(boot, "vmlinuz-*")) if not p.endswith(".dpkg-bak")),
        key=lambda p: _version_key(os.path.basename(p)),
    )
    if not kernels:
        raise SystemExit("no kernel in /boot: nothing to put on the boot partition")
    version = os.path.basename(kernels[-1]).removeprefix("vmlinuz-")
    initrd = os.path.join(boot, f"initrd.img-{version}")
    if not os.path.exists(initrd):
        raise SystemExit(f"no initrd for {version} in /boot")
    os.makedirs(fw, exist_ok=True)
    dtbs = os.path.join(root, f"usr/lib/linux-image-{version}/broadcom")
    for board_dtb in DEVICE_TREES.values():
        shutil.copyfile(os.path.join(dtbs, board_dtb), os.path.join(fw, board_dtb))
    kernel_name, initrd_name = f"vmlinuz-{version}", f"initrd.img-{version}"
    for source, name in ((kernels[-1], kernel_name), (initrd, initrd_name)):
        tmp = os.path.join(fw, name + ".new")
        shutil.copyfile(source, tmp)
        os.replace(tmp, os.path.join(fw, name))
    for name, text in (
        ("cmdline.txt", cmdline(consoles=("ttyS1,115200", "tty1"))),
        ("config.txt", config_txt(kernel_name, initrd_name)),
    ):
        tmp = os.path.join(fw, name + ".new")
        with open(tmp, "w") as out:
            out.write(text)
        os.replace(tmp, os.path.join(fw, name))
    for old in glob.glob(os.path.join(fw, "vmlinuz-*")) + glob.glob(
        os.path.join(fw, "initrd.img-*")
    ):
        if os.path.basename(old) not in (kernel_name, initrd_name):
            os.remove(old)
    os.sync()
    return kernel_name, initrd_name


if __name__ == "__main__":
    import sys

    if len(sys.argv) >= 2 and sys.argv[1] == "boot-files":
        print(*install_boot_files(firmware=sys.argv[2] if len(sys.argv) > 2 else "/boot/firmware"))
    else:
        raise SystemExit("usage: layout.py boot-files [/boot/firmware]")
