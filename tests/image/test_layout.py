"""Partition arithmetic and the boot files that name the partitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image.layout import (
    ALIGN,
    BOOT_LABEL,
    DATA_LABEL,
    DEVICE_TREES,
    ROOT_LABEL,
    SECTOR,
    Layout,
    MiB,
    cmdline,
    cmdline_root_label,
    config_txt,
    ext4_size,
    fstab,
    fstab_root_label,
    install_boot_files,
    parse_sfdisk_dump,
)


@settings(max_examples=150, deadline=None)
@given(
    root=st.integers(0, 8 * 1024 * MiB),
    root_inodes=st.integers(0, 500_000),
    data=st.integers(0, 2 * 1024 * MiB),
    data_inodes=st.integers(0, 100_000),
)
def test_partitions_are_aligned_contiguous_and_big_enough(root, root_inodes, data, data_inodes):
    layout = Layout.for_content(
        root_bytes=root, root_inodes=root_inodes, data_bytes=data, data_inodes=data_inodes
    )
    previous_end = ALIGN
    for part in layout.partitions:
        assert part.start % ALIGN == 0 and part.size % ALIGN == 0
        assert part.start == previous_end
        previous_end = part.end
    assert layout.size == layout.data.end
    assert layout.root.size >= root * 1.1 + 384 * MiB
    assert layout.data.size >= data * 1.1 + 128 * MiB
    assert [p.label for p in layout.partitions] == [BOOT_LABEL, ROOT_LABEL, DATA_LABEL]


def test_ext4_size_grows_with_content_and_counts_inodes():
    small = ext4_size(100 * MiB, 1000, headroom=0, reserve_pct=0)
    assert ext4_size(200 * MiB, 1000, headroom=0, reserve_pct=0) > small
    assert ext4_size(100 * MiB, 1_000_000, headroom=0, reserve_pct=0) > small
    assert ext4_size(100 * MiB, 1000, headroom=0, reserve_pct=5) > small
    # an empty file system still holds the journal mke2fs makes (at most 64 MiB)
    assert ext4_size(0, 0, headroom=0, reserve_pct=0) == 64 * MiB


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"boot_size": 0, "root_size": ALIGN, "data_size": ALIGN}, "boot partition size 0"),
        ({"boot_size": ALIGN, "root_size": ALIGN + 1, "data_size": ALIGN}, "not a multiple"),
        ({"boot_size": ALIGN, "root_size": ALIGN, "data_size": -ALIGN}, "data partition size"),
        ({"boot_size": ALIGN, "root_size": ALIGN, "data_size": ALIGN, "first": 512}, "offset"),
    ],
)
def test_bad_sizes_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Layout.build(**kwargs)


@pytest.mark.parametrize(
    ("args", "message"),
    [((-1, 0), "negative"), ((0, -1), "negative")],
)
def test_ext4_size_refuses_negative(args, message):
    with pytest.raises(ValueError, match=message):
        ext4_size(*args, headroom=0, reserve_pct=0)


def test_sfdisk_script_round_trips_through_the_dump_parser():
    layout = Layout.build(256 * MiB, 1024 * MiB, 128 * MiB)
    script = layout.sfdisk_script()
    assert "label: dos" in script
    dump_like = "\n".join(f"img{i + 1} : " + line for i, line in enumerate(script.splitlines()[5:]))
    parsed = parse_sfdisk_dump(dump_like)
    assert parsed == [(p.start_sector, p.sectors, p.type_id) for p in layout.partitions]
    assert parsed[0] == (4 * MiB // SECTOR, 256 * MiB // SECTOR, 0x0C)


def test_fstab_mounts_root_read_only_and_the_rest_by_label():
    text = fstab()
    rows = {fields[1]: fields for fields in (line.split() for line in text.splitlines()) if fields}
    assert rows["/"][0] == f"LABEL={ROOT_LABEL}" and rows["/"][3].split(",")[0] == "ro"
    assert rows["/"][5] == "1"
    assert rows["/boot/firmware"][0] == f"LABEL={BOOT_LABEL}"
    assert rows["/boot/firmware"][3].startswith("ro,")
    assert rows["/var/lib/kasir"][0] == f"LABEL={DATA_LABEL}"
    assert rows["/var/lib/kasir"][3].startswith("rw,")
    for writable in ("/tmp", "/var/tmp", "/var/log", "/var/lib/systemd"):
        assert rows[writable][2] == "tmpfs", writable
    assert fstab_root_label(text) == ROOT_LABEL
    assert "size=128M" in fstab({"/tmp": "128M"})


def test_cmdline_names_the_root_by_label_read_only():
    text = cmdline(consoles=("ttyS1,115200", "tty1"))
    assert text.endswith("\n") and text.count("\n") == 1
    args = text.split()
    assert cmdline_root_label(text) == ROOT_LABEL == fstab_root_label(fstab())
    assert "ro" in args and "rw" not in args
    assert args.index("console=ttyS1,115200") < args.index("console=tty1")
    assert "rootwait" in args


def test_config_txt_boots_debians_kernel_on_every_supported_board():
    text = config_txt("vmlinuz-6.1.0-56-arm64", "initrd.img-6.1.0-56-arm64")
    lines = text.splitlines()
    assert "arm_64bit=1" in lines
    assert "kernel=vmlinuz-6.1.0-56-arm64" in lines
    assert "initramfs initrd.img-6.1.0-56-arm64 followkernel" in lines
    for board, dtb in DEVICE_TREES.items():
        assert lines[lines.index(f"[{board}]") + 1] == f"device_tree={dtb}"
    # [pi3] also matches the 3+: the 3+'s own section must come later to win.
    assert lines.index("[pi3+]") > lines.index("[pi3]")
    assert lines[-1] == "[all]"
    assert config_txt("k", "i", extra="dtoverlay=x").splitlines()[-1] == "dtoverlay=x"


def test_boot_files_after_a_kernel_update(tmp_path):
    root = tmp_path
    for version in ("6.1.0-55-arm64", "6.1.0-56-arm64"):
        (root / "boot").mkdir(exist_ok=True)
        (root / "boot" / f"vmlinuz-{version}").write_text(f"kernel {version}")
        (root / "boot" / f"initrd.img-{version}").write_text(f"initrd {version}")
        dtbs = root / f"usr/lib/linux-image-{version}/broadcom"
        dtbs.mkdir(parents=True)
        for dtb in DEVICE_TREES.values():
            (dtbs / dtb).write_text(f"{dtb} {version}")
    fw = root / "boot/firmware"
    fw.mkdir()
    (fw / "vmlinuz-6.1.0-55-arm64").write_text("old")
    (fw / "initrd.img-6.1.0-55-arm64").write_text("old")

    kernel, initrd = install_boot_files(str(root), "/boot/firmware")

    assert (kernel, initrd) == ("vmlinuz-6.1.0-56-arm64", "initrd.img-6.1.0-56-arm64")
    assert (fw / kernel).read_text() == "kernel 6.1.0-56-arm64"
    assert not (fw / "vmlinuz-6.1.0-55-arm64").exists()
    assert not (fw / "initrd.img-6.1.0-55-arm64").exists()
    assert (fw / "bcm2711-rpi-4-b.dtb").read_text().endswith("6.1.0-56-arm64")
    assert f"kernel={kernel}" in (fw / "config.txt").read_text()
    assert cmdline_root_label((fw / "cmdline.txt").read_text()) == ROOT_LABEL


def test_boot_files_without_a_kernel_says_so(tmp_path):
    (tmp_path / "boot").mkdir()
    with pytest.raises(SystemExit, match="no kernel in /boot"):
        install_boot_files(str(tmp_path), "/boot/firmware")
