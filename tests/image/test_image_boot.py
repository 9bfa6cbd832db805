"""The real image: built by image/build.py, booted in qemu-system-aarch64 -M virt with its
own kernel and initrd, watched on the serial console and checked over SSH (turned on by the
test's kasir.toml with a key, as an owner would).

A real OMS (`kasir-oms serve` on a loopback port of this machine) gives the till an
enrolment code; the guest reaches it through QEMU's user network in restricted mode, where
only the forwarded ports exist. Slow: about 15 minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from image import assemble
from image.layout import SECTOR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]
PROJECT = Path(__file__).resolve().parents[2]
HOSTNAME = "kasir-qemu"
OMS_GUEST = "10.0.2.100"  # what the guest dials; QEMU forwards it to the OMS on loopback
BOOT_DEADLINE = 900  # seconds to a login prompt under emulation
# Not under pytest's tmp_path: a build takes a quarter of an hour and other pytest runs on
# the machine clean up old temp directories meanwhile. One directory per run (runs may
# overlap); logs and screenshots stay there afterwards, images and the root tree do not.
WORK_PARENT = Path(os.environ.get("KASIR_IMAGE_TEST_DIR", "/var/tmp"))


def log(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Oms:
    """kasir-oms from this checkout on a loopback port with a temp SQLite database."""

    def __init__(self, work: Path):
        self.work = work
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'oms.sqlite3'}",
            "KASIR_OMS_SECRET": "k" * 40,
        }
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cloud_oms.cli", *args],
            env=self.env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"kasir-oms {args[0]}: {done.stderr}"
        return done.stdout

    def start(self) -> str:
        self.cli("migrate")
        self.cli("add-store", "QEMU", "Toko QEMU", "--tz", "Asia/Jakarta")
        out = self.cli("add-terminal", "QEMU", "Kasir QEMU")
        code = re.search(r"code \(valid \d+ h\): (\S+)", out).group(1)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cloud_oms.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=PROJECT,
            stdout=open(self.work / "oms.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        return code

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)


def kasir_toml(ssh_key: str, oms_code: str | None) -> str:
    oms = (
        f'[oms]\nurl = "http://{OMS_GUEST}"\nenrolment_code = "{oms_code}"\nallow_http = true\n'
        if oms_code
        else ""
    )
    return (
        "# kasir.toml of the QEMU boot test\n"
        '[store]\nname = "Toko QEMU"\n\n'
        '[till]\nname = "Kasir QEMU"\n\n'
        f'[system]\nhostname = "{HOSTNAME}"\nssh_authorized_key = "{ssh_key}"\n\n'
        f"{oms}\n"
        "[update]\nsecurity_updates = false\n"
    )


@pytest.fixture(scope="module")
def machine():
    for tool in ("qemu-system-aarch64", "mmdebstrap", "ssh", "ssh-keygen", "xz"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install scripts/apt-test.txt")
    WORK_PARENT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kasir-image-test-", dir=WORK_PARENT))
    log(f"work directory: {work}")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "id"), "-C", "test"],
        check=True,
    )
    ssh_key = (work / "id.pub").read_text().strip()
    oms = Oms(work)
    code = oms.start()
    toml = work / "kasir.toml"
    toml.write_text(kasir_toml(ssh_key, code))

    # -- build ------------------------------------------------------------------------------
    out = work / "out"
    started = time.monotonic()
    with open(work / "build.log", "w") as build_log:
        build = subprocess.run(
            [
                sys.executable,
                str(PROJECT / "image/build.py"),
                "--out",
                str(out),
                "--work",
                str(work / "build"),
                "--kasir-toml",
                str(toml),
                "--xz-level",
                "1",
            ],
            stdout=build_log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT,
        )
    build_text = (work / "build.log").read_text()
    log(build_text)
    assert build.returncode == 0, build_text[-3000:]
    log(f"build: {time.monotonic() - started:.0f} s")
    (manifest_path,) = out.glob("kasir-*-arm64.manifest.json")
    manifest = json.loads(manifest_path.read_text())
    image_xz = out / manifest["image"]
    assert image_xz.exists()

    # -- the disk QEMU boots: the flashed card, bigger than the image ---------------------------
    disk = work / "card.img"
    with open(disk, "wb") as target:
        subprocess.run(["xz", "-dc", "-T0", str(image_xz)], stdout=target, check=True)
    table = assemble.read_table(disk)
    boot_start = table[0][0] * SECTOR
    kernel, initrd = work / "vmlinuz", work / "initrd.img"
    kernel.write_bytes(assemble.fat_read(disk, (table[0][0], 0, 0), manifest["kernel"]))
    initrd.write_bytes(assemble.fat_read(disk, (table[0][0], 0, 0), manifest["initrd"]))
    cmdline = assemble.fat_read(disk, (table[0][0], 0, 0), "cmdline.txt").decode()
    assert "root=LABEL=kasir-root" in cmdline and boot_start > 0
    original_data = table[2][1] * SECTOR
    with open(disk, "r+b") as f:
        f.truncate(disk.stat().st_size + 512 * 1024 * 1024)

    # -- boot ------------------------------------------------------------------------------------
    ssh_port = free_port()
    serial = work / "serial.log"
    monitor = work / "monitor.sock"
    qemu = subprocess.Popen(
        [
            "qemu-system-aarch64",
            "-M",
            "virt",
            "-cpu",
            "cortex-a72",
            "-smp",
            "2",
            "-m",
            "2048",
            "-accel",
            "tcg,thread=multi",
            "-kernel",
            str(kernel),
            "-initrd",
            str(initrd),
            "-append",
            "console=ttyAMA0 root=LABEL=kasir-root rootfstype=ext4 ro rootwait "
            "fsck.repair=yes net.ifnames=0 systemd.show_status=1",
            "-drive",
            f"file={disk},format=raw,if=virtio",
            "-netdev",
            f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{ssh_port}-:22,"
            f"guestfwd=tcp:{OMS_GUEST}:80-tcp:127.0.0.1:{oms.port}",
            "-device",
            "virtio-net-pci,netdev=n0,romfile=",
            "-device",
            "virtio-gpu-pci",
            "-device",
            "qemu-xhci",
            "-device",
            "usb-tablet",
            "-device",
            "i6300esb",
            "-display",
            "none",
            "-serial",
            f"file:{serial}",
            "-monitor",
            f"unix:{monitor},server,nowait",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "qemu.log", "w"),  # noqa: SIM115
    )
    vm = Machine(work, qemu, serial, monitor, ssh_port, manifest, original_data, oms)
    try:
        vm.wait_for_login()
        yield vm
    finally:
        vm.shutdown()
        oms.stop()
        for big in (disk, work / "build", *out.glob("*.img*"), *out.glob("*.bundle")):
            if big.is_dir():
                assemble.rmtree(big)
            else:
                big.unlink(missing_ok=True)
        log(f"serial console: {serial}")


class Machine:
    def __init__(self, work, qemu, serial, monitor, ssh_port, manifest, original_data, oms):
        self.work = work
        self.qemu = qemu
        self.serial = serial
        self.monitor = monitor
        self.ssh_port = ssh_port
        self.manifest = manifest
        self.original_data = original_data
        self.oms = oms
        self.boot_seconds: float | None = None

    def console(self) -> str:
        return self.serial.read_text(errors="replace") if self.serial.exists() else ""

    def wait_for_login(self) -> None:
        started = time.monotonic()
        while True:
            text = self.console()
            if re.search(rf"^{HOSTNAME} login:", text, re.M):
                self.boot_seconds = time.monotonic() - started
                log(f"login prompt after {self.boot_seconds:.0f} s")
                return
            for fatal in ("Kernel panic", "emergency mode", "Give root password"):
                if fatal in text:
                    pytest.fail(f"boot failed ({fatal}):\n{text[-4000:]}")
            if self.qemu.poll() is not None:
                pytest.fail(f"qemu exited: {(self.work / 'qemu.log').read_text()}\n{text[-3000:]}")
            if time.monotonic() - started > BOOT_DEADLINE:
                pytest.fail(f"no login prompt in {BOOT_DEADLINE} s:\n{text[-4000:]}")
            time.sleep(2)

    def ssh(
        self, command: str, timeout: float = 300, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                "ssh",
                "-i",
                str(self.work / "id"),
                "-p",
                str(self.ssh_port),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "ConnectTimeout=20",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
                command,
            ],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def out(self, command: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + 120
        while True:
            done = self.ssh(command, timeout)
            if done.returncode != 255 or time.monotonic() > deadline:
                return done.stdout.strip()
            time.sleep(3)  # sshd still starting

    def wait_until(self, command: str, expected: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while True:
            got = self.out(command)
            if got == expected or time.monotonic() > deadline:
                return got
            time.sleep(3)

    def monitor_command(self, command: str) -> None:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.monitor))
            s.sendall(command.encode() + b"\n")
            time.sleep(2)

    def screenshot(self, name: str) -> None:
        shot = self.work / "screen.ppm"
        self.monitor_command(f"screendump {shot}")
        if shot.exists():
            from PIL import Image

            png = self.work / name
            Image.open(shot).save(png)
            log(f"screenshot: {png}")

    def shutdown(self) -> None:
        if self.qemu.poll() is None:
            self.ssh("systemctl poweroff", timeout=30) if self.boot_seconds else None
            try:
                self.qemu.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.qemu.kill()
                self.qemu.wait()


def test_multi_user_reached_with_no_failed_unit(machine):
    state = machine.out("systemctl is-system-running --wait", timeout=600)
    failed = machine.out("systemctl --failed --no-legend --plain")
    detail = machine.out(
        "for u in $(systemctl --failed --no-legend --plain | cut -d' ' -f1); "
        "do journalctl -b -u $u --no-pager | tail -20; done"
    )
    log(machine.out("systemd-analyze"))
    assert failed == "", f"failed units:\n{failed}\n{detail}"
    assert state == "running"
    assert "Reached target" in machine.console() and "Multi-User System" in machine.console()


def test_first_boot_applied_the_config(machine):
    assert machine.out("hostname") == HOSTNAME
    report = machine.out("cat /var/lib/kasir/run/setup-report.txt")
    log(report)
    assert f"applied: host name {HOSTNAME}" in report
    assert "NOT APPLIED" not in report.replace("NOT APPLIED oms.enrolment_code", "")
    assert machine.out("test -f /var/lib/kasir/system/firstboot.done && echo yes") == "yes"
    assert machine.out("findmnt -no OPTIONS /").split(",")[0] == "ro"
    assert machine.out("findmnt -no OPTIONS /boot/firmware").split(",")[0] == "ro"
    assert machine.out("cat /etc/machine-id | wc -c") == "33"


def test_data_partition_grew_to_the_end_of_the_disk(machine):
    size = int(machine.out("lsblk -bno SIZE /dev/vda3"))
    assert size >= machine.original_data + 500 * 1024 * 1024
    fs = int(machine.out("df -B1 --output=size /var/lib/kasir | tail -1"))
    assert fs > machine.original_data


def test_kasir_answers_its_version(machine):
    version = machine.manifest["kasir"]
    assert machine.out("/var/lib/kasir/releases/current/bin/kasir --version") == (
        f"kasir {version}"
    )
    assert machine.out("readlink /var/lib/kasir/releases/current") == version
    assert machine.out("id -nG kasir").split() >= ["kasir"]
    groups = set(machine.out("id -nG kasir").split())
    assert {"dialout", "lp", "gpio", "video", "input", "render"} <= groups


def test_enrolled_and_the_sync_service_runs(machine):
    enrol = machine.out("journalctl -b -u kasir-enrol --no-pager | tail -20")
    log(enrol)
    state = machine.wait_until("systemctl is-active kasir-sync", "active", 300)
    sync_log = machine.out("journalctl -b -u kasir-sync --no-pager | tail -20")
    log(sync_log)
    assert state == "active", f"kasir-sync: {state}\n{enrol}\n{sync_log}"
    toml = machine.out("cat /boot/firmware/kasir.toml")
    assert "enrolment_code = " not in toml and "# enrolment_code: removed" in toml


def test_hardware_watchdog_is_fed(machine):
    assert machine.out("cat /sys/class/watchdog/watchdog0/state") == "active"
    assert "i6300ESB" in machine.out("cat /sys/class/watchdog/watchdog0/identity")


def test_till_unit_on_the_virtio_gpu_display(machine):
    """The kiosk unit draws the till's login screen on the virtio-gpu display (Kivy's SDL2
    kmsdrm with Mesa) as the kasir user: the app marks run/ready at its first drawn login
    frame, the same mark the updater's rollback waits for."""
    help_text = machine.out("/var/lib/kasir/releases/current/bin/kasir --help")
    # argparse lists each command on its own line under COMMAND ("    run   open the ...").
    assert re.search(r"^\s+run\s", help_text, re.MULTILINE), help_text
    assert machine.out("ls -l /dev/dri/ | grep -c card") != "0"
    # Touch: USB touchscreens use hid-multitouch (QEMU has only a single-touch usb-tablet,
    # whose events reach the kasir user the same way, through evdev).
    assert machine.out("modinfo -n hid-multitouch").endswith((".ko", ".ko.xz"))
    assert (
        machine.out(
            "su -s /bin/sh kasir -c 'for e in /dev/input/event*; do test -r $e || exit 1; done; "
            "echo yes'"
        )
        == "yes"
    )
    assert machine.out("su -s /bin/sh kasir -c 'test -w /dev/dri/card0 && echo yes'") == "yes"
    ready = machine.wait_until("test -e /var/lib/kasir/run/ready && echo yes", "yes", 300)
    machine.screenshot("image-qemu-login.png")
    journal = machine.out("journalctl -b -u kasir-till --no-pager | tail -40")
    log(journal)
    assert ready == "yes", "no login frame drawn within 300 s:\n" + journal[-2000:]
    assert machine.out("systemctl is-active kasir-till") == "active", journal[-2000:]
