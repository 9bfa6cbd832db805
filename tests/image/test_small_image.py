"""A small image assembled from the overlay and a dummy root, then read back from the file:
partition table, labels, file systems, and `root=LABEL=` agreeing with fstab."""

from __future__ import annotations

import os
import shutil

import pytest

from image import assemble, build
from image.layout import (
    BOOT_LABEL,
    DATA_LABEL,
    ROOT_LABEL,
    cmdline,
    cmdline_root_label,
    config_txt,
    fstab,
    fstab_root_label,
)

TOOLS = ("mkfs.vfat", "mcopy", "mdir", "mkfs.ext4", "debugfs", "e2fsck", "sfdisk", "blkid")


@pytest.fixture(scope="module")
def small_image(tmp_path_factory):
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing tools {missing}: apt-get install the packages in apt-test.txt")
    work = tmp_path_factory.mktemp("small-image")
    root, boot, data = work / "root", work / "boot", work / "data"
    # The root: the image's overlay and units over a dummy system.
    shutil.copytree(build.OVERLAY, root, symlinks=True)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/fstab").write_text(fstab())
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    for unit in build.UNITS.iterdir():
        shutil.copy2(unit, root / "usr/lib/systemd/system" / unit.name)
    for mount_point in ("boot/firmware", "var/lib/kasir", "proc", "sys", "dev", "tmp"):
        (root / mount_point).mkdir(parents=True, exist_ok=True)
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    (root / "usr/bin/python3").write_bytes(os.urandom(300_000))  # incompressible bulk
    os.symlink("usr/bin", root / "bin")
    # The boot partition.
    boot.mkdir()
    (boot / "cmdline.txt").write_text(cmdline(consoles=("ttyS1,115200", "tty1")))
    (boot / "config.txt").write_text(config_txt("vmlinuz-6.1.0-56-arm64", "initrd.img-6.1.0"))
    (boot / "vmlinuz-6.1.0-56-arm64").write_bytes(os.urandom(100_000))
    (boot / "kasir.toml").write_text('[store]\nname = "Toko"\n')
    # The data partition: a release directory and the current link.
    release = data / "releases/0.1.0/bin"
    release.mkdir(parents=True)
    (release / "kasir").write_text("#!/bin/sh\necho kasir 0.1.0\n")
    (release / "kasir").chmod(0o755)
    os.symlink("0.1.0", data / "releases/current")
    os.chown(data, 0, 4321)
    data.chmod(0o1775)
    disk = work / "small.img"
    layout = assemble.build_disk(disk, boot, root, data, workdir=work, log=lambda _: None)
    return disk, layout


def test_partition_table_reads_back(small_image):
    disk, layout = small_image
    assert disk.stat().st_size == layout.size
    table = assemble.read_table(disk)
    assert table == [(p.start_sector, p.sectors, p.type_id) for p in layout.partitions]
    # Sparse: holes where the file systems are empty.
    assert disk.stat().st_blocks * 512 < layout.size


def test_labels_and_file_systems(small_image):
    disk, layout = small_image
    found = [assemble.probe(disk, p.start_sector, p.sectors) for p in layout.partitions]
    assert [(f["TYPE"], f["LABEL"]) for f in found] == [
        ("vfat", BOOT_LABEL),
        ("ext4", ROOT_LABEL),
        ("ext4", DATA_LABEL),
    ]
    assert assemble.ext4_check(disk, layout.root.start) == ""
    assert assemble.ext4_check(disk, layout.data.start) == ""


def test_cmdline_root_label_matches_fstab(small_image):
    disk, layout = small_image
    cmd = assemble.fat_read(disk, layout.boot, "cmdline.txt").decode()
    tab = assemble.ext4_read(disk, layout.root.start, "/etc/fstab").decode()
    assert cmdline_root_label(cmd) == fstab_root_label(tab) == ROOT_LABEL
    label = assemble.probe(disk, layout.root.start_sector, layout.root.sectors)["LABEL"]
    assert label == cmdline_root_label(cmd)


def test_files_land_on_the_right_partition(small_image):
    disk, layout = small_image
    names = {name.lower() for name in assemble.fat_list(disk, layout.boot.start)}
    assert {"cmdline.txt", "config.txt", "kasir.toml", "vmlinuz-6.1.0-56-arm64"} <= names
    assert b"kasir 0.1.0" in assemble.ext4_read(
        disk, layout.data.start, "/releases/0.1.0/bin/kasir"
    )
    unit = assemble.ext4_read(disk, layout.root.start, "/usr/lib/systemd/system/kasir-till.service")
    assert b"kasir run" in unit
    with pytest.raises(assemble.AssemblyError, match="could not read"):
        assemble.ext4_read(disk, layout.root.start, "/var/lib/kasir/releases/0.1.0/bin/kasir")


def test_data_partition_top_keeps_owner_and_mode(small_image):
    """/var/lib/kasir is root:kasir with the sticky bit: the till writes its store there."""
    disk, layout = small_image
    out = assemble.run(["debugfs", "-R", "stat /", f"{disk}?offset={layout.data.start}"])
    assert "Mode:  01775" in out
    assert "Group:  4321" in out


def test_xz_compresses_and_keeps_the_name(small_image, tmp_path):
    disk, layout = small_image
    image = tmp_path / "kasir-0.1.0-arm64.img"
    size = layout.boot.start + 8 * 1024 * 1024  # the table and the start of the FAT
    assemble.extract(disk, 0, size, image)
    packed = assemble.xz(image, level=0)
    assert packed.name == "kasir-0.1.0-arm64.img.xz" and not image.exists()
    assert packed.read_bytes()[:6] == b"\xfd7zXZ\x00"
    assert packed.stat().st_size < size // 20


def test_too_small_a_partition_is_an_error(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "big").write_bytes(os.urandom(3 * 1024 * 1024))
    with pytest.raises(assemble.AssemblyError, match=r"mkfs\.ext4"):
        assemble.make_ext4(tmp_path / "p.img", source, 2 * 1024 * 1024, "x", reserve_pct=0)
