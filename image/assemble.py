"""Put file trees into a disk image without loop devices, and read an image back.

    >>> layout = build_disk(Path("out.img"), boot_dir, root_dir, data_dir)   # doctest: +SKIP

The FAT partition is made with `mkfs.vfat` in a file and filled with mtools; the ext4 ones with
`mkfs.ext4 -d` (which copies a directory, owners, modes and extended attributes included);
the partition table is written by `sfdisk` straight into the image file; each partition is
then copied in at its offset, skipping runs of zeros so the image file stays sparse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .layout import BLOCK, SECTOR, Layout, MiB, Partition, parse_sfdisk_dump


class AssemblyError(RuntimeError):
    pass


def run(command: list[str], *, input: str | None = None, env: dict | None = None) -> str:
    done = subprocess.run(
        command,
        input=input,
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    if done.returncode != 0:
        raise AssemblyError(
            f"{' '.join(command[:3])}... failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}"
        )
    return done.stdout


@dataclass(frozen=True)
class Usage:
    bytes: int  # file contents rounded up to whole 4 KiB blocks
    inodes: int


def usage(top: Path) -> Usage:
    """What a tree takes on ext4: blocks of regular files (hard links once), directories and
    long symlinks, and the number of inodes."""
    total = inodes = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(top):
        inodes += 1
        total += BLOCK
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_nlink > 1:
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            inodes += 1
            if os.path.islink(os.path.join(dirpath, name)):
                total += BLOCK if st.st_size > 59 else 0
            else:
                total += -(-st.st_size // BLOCK) * BLOCK
    return Usage(total, inodes)


def make_fat(image: Path, source: Path, size: int, label: str) -> None:
    image.unlink(missing_ok=True)
    run(["mkfs.vfat", "-F", "32", "-s", "1", "-n", label, "-C", str(image), str(size // 1024)])
    entries = sorted(source.iterdir())
    if entries:
        run(
            ["mcopy", "-s", "-p", "-m", "-Q", "-i", str(image), *map(str, entries), "::/"],
            env={"MTOOLS_SKIP_CHECK": "1"},
        )


def make_ext4(image: Path, source: Path, size: int, label: str, *, reserve_pct: int) -> None:
    """`mkfs.ext4 -d` copies the tree's contents; the file system's own top directory gets
    the tree's owner and mode here too (it is a mount point's view, e.g. /var/lib/kasir)."""
    image.unlink(missing_ok=True)
    top = source.stat()
    run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            label,
            "-b",
            str(BLOCK),
            "-m",
            str(reserve_pct),
            "-E",
            f"root_owner={top.st_uid}:{top.st_gid}",
            "-d",
            str(source),
            str(image),
            f"{size // 1024}k",
        ]
    )
    mode = 0o40000 | (top.st_mode & 0o7777)
    run(["debugfs", "-w", "-R", f"set_inode_field / mode 0{mode:o}", str(image)])


def copy_in(disk: Path, part_image: Path, offset: int) -> None:
    """Copy `part_image` into `disk` at `offset`, leaving holes where the source is zeros."""
    chunk = 4 * MiB
    zeros = bytes(chunk)
    with open(part_image, "rb") as src, open(disk, "r+b") as dst:
        position = offset
        while True:
            block = src.read(chunk)
            if not block:
                break
            if block != zeros[: len(block)]:
                dst.seek(position)
                dst.write(block)
            position += len(block)


def write_table(disk: Path, layout: Layout) -> None:
    with open(disk, "r+b") as f:
        f.truncate(layout.size)
    run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(disk)], input=layout.sfdisk_script()
    )


def build_disk(
    disk: Path,
    boot_dir: Path,
    root_dir: Path,
    data_dir: Path,
    *,
    layout: Layout | None = None,
    workdir: Path | None = None,
    log=print,
) -> Layout:
    """Make `disk` from the three trees; sizes from their content unless `layout` is given."""
    if layout is None:
        root, data = usage(root_dir), usage(data_dir)
        layout = Layout.for_content(
            root_bytes=root.bytes,
            root_inodes=root.inodes,
            data_bytes=data.bytes,
            data_inodes=data.inodes,
        )
    disk.unlink(missing_ok=True)
    disk.touch()
    write_table(disk, layout)
    with tempfile.TemporaryDirectory(prefix="kasir-parts-", dir=workdir) as tmp:
        for part, source in zip(layout.partitions, (boot_dir, root_dir, data_dir), strict=True):
            image = Path(tmp) / f"p{part.number}.img"
            log(f"  partition {part.number} {part.label}: {part.size // MiB} MiB {part.fs}")
            if part.fs == "vfat":
                make_fat(image, source, part.size, part.label)
            else:
                make_ext4(
                    image, source, part.size, part.label, reserve_pct=1 if part.number == 2 else 0
                )
            if image.stat().st_size != part.size:
                raise AssemblyError(
                    f"{part.label}: file system is {image.stat().st_size} bytes, "
                    f"partition {part.size}"
                )
            copy_in(disk, image, part.start)
            image.unlink()
    return layout


# -- reading an image back ----------------------------------------------------------------------


def read_table(disk: Path) -> list[tuple[int, int, int]]:
    return parse_sfdisk_dump(run(["sfdisk", "--dump", str(disk)]))


def probe(disk: Path, start_sector: int, sectors: int) -> dict[str, str]:
    """blkid's view of one partition inside an image file: TYPE, LABEL, UUID..."""
    out = run(
        [
            "blkid",
            "-p",
            "-o",
            "export",
            "-O",
            str(start_sector * SECTOR),
            "-S",
            str(sectors * SECTOR),
            str(disk),
        ]
    )
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def fat_read(disk: Path, part: Partition | tuple[int, int, int], name: str) -> bytes:
    start = part.start if isinstance(part, Partition) else part[0] * SECTOR
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        run(
            ["mcopy", "-n", "-i", f"{disk}@@{start}", f"::/{name}", str(target)],
            env={"MTOOLS_SKIP_CHECK": "1"},
        )
        return target.read_bytes()


def fat_list(disk: Path, start: int) -> list[str]:
    out = run(["mdir", "-b", "-i", f"{disk}@@{start}", "::/"], env={"MTOOLS_SKIP_CHECK": "1"})
    return [line.strip().removeprefix("::/") for line in out.splitlines() if line.strip()]


def ext4_read(disk: Path, start: int, path: str) -> bytes:
    """A file from an ext4 partition inside an image file, through debugfs (no mounting)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        done = subprocess.run(
            ["debugfs", "-R", f"dump {path} {target}", f"{disk}?offset={start}"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not target.exists():
            raise AssemblyError(f"debugfs could not read {path}: {done.stderr.strip()}")
        return target.read_bytes()


def ext4_check(disk: Path, start: int) -> str:
    """e2fsck -n (read-only) on a partition inside the image: '' if clean, else its report."""
    done = subprocess.run(
        ["e2fsck", "-f", "-n", f"{disk}?offset={start}"], capture_output=True, text=True
    )
    return "" if done.returncode == 0 else (done.stdout + done.stderr)


def extract(disk: Path, start: int, size: int, out: Path) -> None:
    with open(disk, "rb") as src, open(out, "wb") as dst:
        src.seek(start)
        remaining = size
        while remaining:
            block = src.read(min(remaining, 4 * MiB))
            if not block:
                break
            dst.write(block)
            remaining -= len(block)


def xz(path: Path, level: int = 6, threads: int = 0) -> Path:
    """Compress `path` to `path.xz` (kept sparse-aware by xz itself), removing the original."""
    out = path.with_name(path.name + ".xz")
    out.unlink(missing_ok=True)
    run(["xz", f"-{level}", f"-T{threads}", "--force", str(path)])
    return out


def unmount_below(path: Path) -> None:
    """Unmount whatever is mounted under `path` (left by a build that was killed), deepest
    first, so that removing the tree never reaches into /dev, /proc or /sys."""
    top = str(Path(path).resolve())
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1].replace("\\040", " ") for line in mounts]
    for point in sorted((p for p in points if p == top or p.startswith(top + "/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def rmtree(path: Path) -> None:
    if path.exists():
        unmount_below(path)
        shutil.rmtree(path)
