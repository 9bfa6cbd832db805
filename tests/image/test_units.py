"""Every systemd unit of the image passes `systemd-analyze verify` with no warning at all."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from image import build

UNITS = sorted((Path(build.UNITS)).iterdir())
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OMS_UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
# What the units run, made present (as stubs) in the verification root.
EXECUTABLES = [
    "usr/bin/rm",
    "usr/bin/python3",
    "var/lib/kasir/releases/current/bin/kasir",
    "var/lib/kasir/releases/current/bin/python",
    "opt/kasir-oms/venv/bin/kasir-oms",
    "opt/kasir-oms/backup.sh",
]


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory) -> Path:
    """A root with the machine's own systemd units (so targets and ordering resolve) plus the
    image's units, with executables where the image has them."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd (scripts/apt-test.txt)")
    root = tmp_path_factory.mktemp("units-root")
    (root / "usr/lib").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd", root / "usr/lib/systemd", symlinks=True)
    (root / "usr/bin").mkdir()
    (root / "etc/systemd/system").mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")
    os.symlink("usr/bin", root / "bin")
    for unit in UNITS + OMS_UNITS:
        shutil.copy2(unit, root / "usr/lib/systemd/system" / unit.name)
    for path in EXECUTABLES:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    return root


def verify(root: Path, *units: str) -> str:
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}"]
        + [f"/usr/lib/systemd/system/{u}" for u in units],
        capture_output=True,
        text=True,
    )
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else " [failed]")


@pytest.mark.parametrize("unit", [u.name for u in UNITS])
def test_unit_verifies_without_a_warning(verify_root, unit):
    assert verify(verify_root, unit) == ""


@pytest.mark.parametrize("unit", [u.name for u in OMS_UNITS])
def test_oms_unit_verifies_without_a_warning(verify_root, unit):
    assert verify(verify_root, unit) == ""


def test_all_units_together_have_no_ordering_cycle(verify_root):
    assert verify(verify_root, *(u.name for u in UNITS)) == ""


def test_the_check_catches_a_mistake(verify_root):
    """A typo'd key and a missing program are what the check above must catch."""
    bad = verify_root / "usr/lib/systemd/system/kasir-typo.service"
    bad.write_text(
        "[Unit]\nDescription=typo\n[Service]\nExecStart=/usr/bin/kasir-nowhere\nRestrat=always\n"
    )
    try:
        out = verify(verify_root, bad.name)
    finally:
        bad.unlink()
    assert "Restrat" in out and "kasir-nowhere" in out


# Units the image enables that come from packages this machine need not have.
FROM_PACKAGES = {"systemd-resolved.service": "systemd-resolved"}


def test_enabled_units_exist(verify_root):
    ours = {u.name for u in UNITS}
    packages = build.load_recipe()["packages"]["include"]
    for units in build.ENABLED_UNITS.values():
        for unit in units:
            if unit in FROM_PACKAGES:
                assert FROM_PACKAGES[unit] in packages, unit
            else:
                assert unit in ours or (verify_root / "usr/lib/systemd/system" / unit).exists()


def test_units_run_what_the_image_installs():
    texts = {u.name: u.read_text() for u in UNITS}
    assert "/usr/lib/kasir/update.py" in texts["kasir-update.service"]
    assert "/usr/lib/kasir/firstboot.py apply" in texts["kasir-firstboot.service"]
    assert "kasir run" in texts["kasir-till.service"]
    assert "kasir sync" in texts["kasir-sync.service"]
    assert "Restart=on-failure" in texts["kasir-till.service"]
    assert "SDL_VIDEODRIVER=kmsdrm" in (build.OVERLAY / "etc/default/kasir-till").read_text()
    assert (
        "RuntimeWatchdogSec="
        in (build.OVERLAY / "etc/systemd/system.conf.d/kasir-watchdog.conf").read_text()
    )
