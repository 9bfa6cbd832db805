"""First boot applies a sample kasir.toml to a temp root: what it writes, what it reports."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from image import firstboot
from image.firstboot import Report, System, apply, enrol_once, remove_keys, wpa_psk
from image.layout import Layout, MiB, parse_sfdisk_dump

SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDbnLW9Tr1ug2TvULJ5H3ig/LEWAqh9N6sPKl+SjIAvJ owner@laptop"
)
SAMPLE = f"""\
# Toko Maju, till 1
[store]
name = "Toko Maju"
timezone = "WITA"

[till]
name = "Kasir depan"

[system]
hostname = "toko-maju-1"
locale = "id_ID.UTF-8"
ssh_authorized_key = "{SSH_KEY}"

[wifi]
ssid = "TokoMaju"
# the shop's Wi-Fi password
psk = "rahasia-sekali"
country = "ID"

[oms]
url = "https://oms.tokomaju.id"
enrolment_code = "K7Q2-9XTM"

[printer]
type = "usb"
usb_vendor = "04B8"
usb_product = "0e15"

[update]
security_time = "02:15"
"""


class Recorder(System):
    """The live system's side effects, recorded; commands other than ssh-keygen not run."""

    def __init__(self):
        super().__init__(live=False)
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.hostname: str | None = None

    def sethostname(self, name):
        self.hostname = name

    def start(self, unit):
        self.started.append(unit)

    def stop(self, unit):
        self.stopped.append(unit)


def make_root(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "root"
    for d in ("boot/firmware", "etc/ssh", "var/lib/kasir", "usr/share/zoneinfo/Asia"):
        (root / d).mkdir(parents=True)
    for zone in ("Makassar", "Jakarta"):
        (root / "usr/share/zoneinfo/Asia" / zone).write_bytes(b"TZif2")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tkasir\n")
    (root / firstboot.CONFIG).write_text(config)
    return root


KASIR = [sys.executable, "-m", "appliance.cli"]


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    """One first boot of SAMPLE (with a real `kasir init`), looked at by several tests."""
    root = make_root(tmp_path_factory.mktemp("firstboot"), SAMPLE)
    system = Recorder()
    report = apply(root, system=system, kasir=KASIR, as_user=None, log=lambda _: None)
    return root, system, report


def test_sample_config_is_applied_to_the_root(applied):
    root, system, report = applied
    assert report.problems == []
    assert (root / "etc/hostname").read_text() == "toko-maju-1\n"
    assert "127.0.1.1\ttoko-maju-1" in (root / "etc/hosts").read_text().splitlines()
    assert system.hostname == "toko-maju-1"
    # WITA is the store's zone, named the Indonesian way; the system takes the IANA name.
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Asia/Makassar"
    assert (root / "etc/timezone").read_text() == "Asia/Makassar\n"
    assert (root / "etc/default/locale").read_text() == "LANG=id_ID.UTF-8\n"


def test_wifi_is_set_up_and_its_password_removed_from_the_file(applied):
    root, system, _ = applied
    wpa = root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
    text = wpa.read_text()
    assert 'ssid="TokoMaju"' in text and "country=ID" in text
    assert f"psk={wpa_psk('TokoMaju', 'rahasia-sekali')}" in text
    assert "rahasia-sekali" not in text
    assert stat.S_IMODE(wpa.stat().st_mode) == 0o600
    link = root / "etc/systemd/system/multi-user.target.wants/wpa_supplicant@wlan0.service"
    assert os.readlink(link) == "/lib/systemd/system/wpa_supplicant@.service"
    assert "wpa_supplicant@wlan0.service" in system.started
    config = (root / firstboot.CONFIG).read_text()
    assert "rahasia-sekali" not in config
    assert "# psk: removed after first boot set up Wi-Fi" in config
    # Everything else in the owner's file is left as written, comments included.
    assert "# the shop's Wi-Fi password" in config and 'ssid = "TokoMaju"' in config
    # The enrolment code stays until enrolment has used it.
    assert 'enrolment_code = "K7Q2-9XTM"' in config


def test_wpa_psk_matches_the_ieee_test_vector():
    # IEEE 802.11i-2004, H.4.1: passphrase "password", SSID "IEEE".
    expected = "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    assert wpa_psk("IEEE", "password") == expected


def test_ssh_is_turned_on_only_with_a_key(applied, tmp_path):
    root, system, _ = applied
    assert (root / "root/.ssh/authorized_keys").read_text() == SSH_KEY + "\n"
    assert "PasswordAuthentication no" in (root / "etc/ssh/sshd_config.d/kasir.conf").read_text()
    assert (root / "etc/ssh/ssh_host_ed25519_key").exists()
    assert (root / "etc/systemd/system/multi-user.target.wants/ssh.service").is_symlink()
    assert "ssh.service" in system.started

    plain = make_root(tmp_path / "plain", "[store]\nname = 'x'\n")
    apply(plain, system=Recorder(), kasir=None, log=lambda _: None)
    assert not (plain / "etc/systemd/system/multi-user.target.wants/ssh.service").exists()
    assert not (plain / "root/.ssh/authorized_keys").exists()


def test_usb_printer_rule_and_update_time(applied):
    root, _, _ = applied
    rule = (root / "etc/udev/rules.d/70-kasir-printer.rules").read_text()
    assert 'ATTR{idVendor}=="04b8", ATTR{idProduct}=="0e15", GROUP="lp"' in rule
    assert 'SYMLINK+="kasir-printer"' in rule
    timer = root / "etc/systemd/system/kasir-security-update.timer.d/kasir.conf"
    assert "OnCalendar=*-*-* 02:15:00" in timer.read_text()


def test_the_store_is_created_and_the_manager_pin_reported(applied):
    root, _, report = applied
    assert (root / "var/lib/kasir/kasir.sqlite3").exists()
    assert report.manager_pin is not None and len(report.manager_pin) == 6
    firstboot.write_report(root, report)
    saved = json.loads((root / firstboot.REPORT).with_suffix(".json").read_text())
    assert saved["manager_pin"] == report.manager_pin
    assert saved["problems"] == []
    assert (
        "applied: host name toko-maju-1"
        in (root / firstboot.REPORT).with_suffix(".txt").read_text()
    )


BAD = """\
[system]
hostname = "Toko_Maju"
timezone = "Mars/Olympus"
locale = "fr_FR.UTF-8"

[wifi]
ssid = "TokoMaju"
psk = "short"
country = "Indonesia"

[printer]
width = 40
colour = "red"
"""


def test_bad_values_are_reported_by_key_and_line_and_the_rest_applied(tmp_path):
    root = make_root(tmp_path, BAD)
    report = apply(root, system=Recorder(), kasir=None, log=lambda _: None)
    problems = {p["key"]: p for p in report.problems}
    assert problems["system.hostname"]["line"] == 2
    assert "not a host name" in problems["system.hostname"]["message"]
    assert problems["system.timezone"]["line"] == 3
    assert problems["system.locale"]["line"] == 4
    assert problems["wifi.psk"]["line"] == 8
    assert "8 to 63 characters" in problems["wifi.psk"]["message"]
    assert problems["wifi.country"]["line"] == 9
    assert problems["printer.width"]["line"] == 12
    assert problems["printer.colour"] == {
        "key": "printer.colour",
        "line": 13,
        "message": "unknown key",
    }
    # What was good still applied: the network name, and defaults for the bad ones.
    assert (root / "etc/hostname").read_text() == "kasir\n"
    wpa = (root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf").read_text()
    assert 'ssid="TokoMaju"' in wpa and "key_mgmt=NONE" in wpa
    lines = report.lines()
    assert "NOT APPLIED wifi.psk (kasir.toml line 8): a Wi-Fi password has 8 to 63 " in (
        "\n".join(lines)
    )


def test_security_updates_can_be_turned_off(tmp_path):
    root = make_root(tmp_path, "[update]\nsecurity_updates = false\n")
    timers = root / "etc/systemd/system/timers.target.wants"
    timers.mkdir(parents=True)
    (timers / "kasir-security-update.timer").symlink_to("/x")
    system = Recorder()
    report = apply(root, system=system, kasir=None, log=lambda _: None)
    assert not (timers / "kasir-security-update.timer").is_symlink()
    assert system.stopped == ["kasir-security-update.timer"]
    assert "nightly security updates off" in report.applied


def test_a_file_that_is_not_toml_is_reported_with_its_line(tmp_path):
    root = make_root(tmp_path, "[system]\nhostname = toko\n")
    report = apply(root, system=Recorder(), kasir=None, log=lambda _: None)
    assert report.problems[0]["key"] == "kasir.toml"
    assert report.problems[0]["line"] == 2
    assert "not valid TOML" in report.problems[0]["message"]
    assert (root / "etc/hostname").read_text() == "kasir\n"


def test_a_missing_file_is_reported(tmp_path):
    root = make_root(tmp_path, "")
    (root / firstboot.CONFIG).unlink()
    report = apply(root, system=Recorder(), kasir=None, log=lambda _: None)
    assert "is missing" in report.problems[0]["message"]


def test_remove_keys_keeps_everything_else():
    text = (
        '[wifi]\r\nssid = "a"\r\npsk = \'x\'\r\n[oms]\r\nenrolment_code = """\r\nAB\r\n'
        '"""\r\nurl = "https://o"\r\n'
    )
    out = remove_keys(text, {"wifi.psk", "oms.enrolment_code"}, "gone")
    assert out == (
        '[wifi]\r\nssid = "a"\r\n# psk: gone\r\n[oms]\r\n# enrolment_code: gone\r\n'
        'url = "https://o"\r\n'
    )
    assert remove_keys("[a]\npsk = 1\n", {"wifi.psk"}, "gone") == "[a]\npsk = 1\n"


def fake_kasir(tmp_path: Path, exit_code: int, message: str) -> list[str]:
    script = tmp_path / "kasir"
    script.write_text(
        f"#!/bin/sh\necho '{message}' >&{1 if exit_code == 0 else 2}\nexit {exit_code}\n"
    )
    script.chmod(0o755)
    return [str(script)]


def test_enrolment_removes_the_code_only_once_it_worked(tmp_path):
    root = make_root(tmp_path, SAMPLE)
    (tmp_path / "a").mkdir()
    refused = fake_kasir(tmp_path / "a", 3, "kasir: enrolment code expired")
    state, message = enrol_once(root, refused, Recorder(), as_user=None)
    assert (state, message) == ("failed", "kasir: enrolment code expired")
    assert "K7Q2-9XTM" in (root / firstboot.CONFIG).read_text()

    (tmp_path / "b").mkdir()
    accepted = fake_kasir(tmp_path / "b", 0, "Enrolled as JKT1-T01 (Toko Maju)")
    state, message = enrol_once(root, accepted, Recorder(), as_user=None)
    assert (state, message) == ("done", "Enrolled as JKT1-T01 (Toko Maju)")
    config = (root / firstboot.CONFIG).read_text()
    assert "K7Q2-9XTM" not in config and "# enrolment_code: removed after enrolment" in config


def test_enrolment_loop_reports_failures_and_retries(tmp_path):
    root = make_root(tmp_path, SAMPLE)
    (tmp_path / "k").mkdir()
    kasir = fake_kasir(tmp_path / "k", 3, "kasir: cannot reach https://oms.tokomaju.id")
    pauses = []
    state = firstboot.enrol_loop(
        root,
        kasir,
        Recorder(),
        sleep=pauses.append,
        attempts=3,
        as_user=None,
        log=lambda _: None,
    )
    assert state == "failed" and pauses == [15.0, 30.0]
    saved = json.loads((root / firstboot.REPORT).with_suffix(".json").read_text())
    assert saved["problems"] == [
        {
            "key": "oms.enrolment_code",
            "line": None,
            "message": "not enrolled: kasir: cannot reach https://oms.tokomaju.id",
        }
    ]


def test_standalone_till_and_half_configured_oms(tmp_path):
    root = make_root(tmp_path, "[store]\nname = 'x'\n")
    assert enrol_once(root, ["false"], as_user=None)[0] == "nothing"
    (root / firstboot.CONFIG).write_text('[oms]\nurl = "https://oms.example.id"\n')
    state, message = enrol_once(root, ["false"], as_user=None)
    assert state == "failed" and "oms.enrolment_code is empty" in message


def test_grow_partition_moves_the_data_partition_to_the_end(tmp_path):
    if shutil.which("sfdisk") is None:
        pytest.fail("sfdisk missing: apt-get install fdisk")
    layout = Layout.build(8 * MiB, 8 * MiB, 8 * MiB)
    disk = tmp_path / "card.img"
    with open(disk, "wb") as f:
        f.truncate(layout.size)
    subprocess.run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(disk)],
        input=layout.sfdisk_script(),
        text=True,
        check=True,
    )
    with open(disk, "r+b") as f:
        f.truncate(layout.size + 64 * MiB)  # a bigger card
    firstboot.grow_partition(str(disk), 3)
    dump = subprocess.run(["sfdisk", "--dump", str(disk)], capture_output=True, text=True)
    table = parse_sfdisk_dump(dump.stdout)
    assert table[:2] == [(p.start_sector, p.sectors, p.type_id) for p in layout.partitions[:2]]
    start, sectors, _ = table[2]
    assert start == layout.data.start_sector
    assert (start + sectors) * 512 == layout.size + 64 * MiB


def test_report_lines_name_key_and_line():
    report = Report()
    report.ok("host name kasir")
    report.problem("wifi.psk", "too short", 7)
    report.problem("kasir.toml", "missing")
    assert report.lines() == [
        "applied: host name kasir",
        "NOT APPLIED wifi.psk (kasir.toml line 7): too short",
        "NOT APPLIED kasir.toml: missing",
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("system.ssh_authorized_key", "ssh-dss AAAAB3", "types: ssh-ed25519"),
        ("system.ssh_authorized_key", "ssh-ed25519 not*base64", "is not base64"),
        ("system.ssh_authorized_key", "ssh-rsa " + SSH_KEY.split()[1], "does not hold a ssh-rsa"),
        ("system.hostname", "-kasir", "not a host name"),
        ("wifi.ssid", "x" * 33, "longer than 32 bytes"),
        ("wifi.psk", "pässwörter", "printable ASCII"),
        ("update.extra_keys", ["AAAA"], "not an ed25519 public key"),
        ("update.extra_keys", [1], "should be text"),
        ("update.security_time", "24:00", "not a time of day"),
    ],
)
def test_first_boot_keys_refuse_bad_values_with_the_reason(name, value, message):
    from appliance.config import KEYS

    with pytest.raises(ValueError, match=message):
        KEYS[name].validate(value)


def test_first_boot_keys_accept_good_values():
    from appliance.config import KEYS

    assert KEYS["system.ssh_authorized_key"].validate(SSH_KEY) == SSH_KEY
    assert KEYS["wifi.psk"].validate("a" * 64) == "a" * 64
    assert KEYS["system.timezone"].validate("WIT") == "WIT"
    assert KEYS["wifi.psk"].secret and not KEYS["wifi.ssid"].secret
