"""First boot of a Kasir SD card: apply the owner's kasir.toml to the system.

On the till this file is /usr/lib/kasir/firstboot.py, run by three units:

    kasir-growdata.service   python3 firstboot.py grow     data partition fills the card
    kasir-firstboot.service  <release>/bin/python firstboot.py apply
    kasir-enrol.service      <release>/bin/python firstboot.py enrol

`apply` sets the host name, time zone, locale, Wi-Fi, SSH (only with a key), the printer's
udev rule and the nightly update time, creates the till's store, then removes the Wi-Fi
password from kasir.toml. `enrol` joins the OMS with `kasir enrol` (retrying until the network
and the OMS answer) and then removes the enrolment code. Whatever could not be applied is
written, by key and line, to /var/lib/kasir/run/setup-report.json (and .txt) for the till to
show on its screen, and to the console.

Every path is taken under `root`, so the tests apply a sample kasir.toml to a temp directory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CONFIG = "boot/firmware/kasir.toml"
DATA = "var/lib/kasir"
SYSTEM_STATE = f"{DATA}/system"
REPORT = f"{DATA}/run/setup-report"
DONE = f"{SYSTEM_STATE}/firstboot.done"
RECONFIGURE = "boot/firmware/kasir-reconfigure"
RELEASE = f"{DATA}/releases/current"
DEFAULT_HOSTNAME = "kasir"
INDONESIAN_ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
SSHD_DROP_IN = """\
# Written by Kasir's first boot: keys only, root only, as kasir.toml asked.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
"""


@dataclass
class Report:
    applied: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    manager_pin: str | None = None

    def ok(self, text: str) -> None:
        self.applied.append(text)

    def problem(self, key: str, message: str, line: int | None = None) -> None:
        self.problems.append({"key": key, "line": line, "message": message})

    def lines(self) -> list[str]:
        out = [f"applied: {text}" for text in self.applied]
        for p in self.problems:
            where = f" (kasir.toml line {p['line']})" if p["line"] else ""
            out.append(f"NOT APPLIED {p['key']}{where}: {p['message']}")
        if self.manager_pin:
            out.append(
                f"manager PIN: {self.manager_pin} (for the first login; the till's login screen "
                "shows it until that manager changes it with Change my PIN)"
            )
        return out


def line_of(text: str, section: str, key: str) -> int | None:
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.\-]+)\s*\]", stripped)
        if header:
            current = header.group(1)
        elif current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def read_config(path: Path, report: Report) -> dict:
    """Every valid `section.key` value of the file, checked against the till's own schema;
    each bad one reported by key and line, and left out."""
    from appliance.config import KEYS

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.problem("kasir.toml", f"{path} is missing: the built-in defaults apply")
        return {}
    except UnicodeDecodeError:
        report.problem("kasir.toml", f"{path} is not UTF-8 text: the built-in defaults apply")
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        report.problem(
            "kasir.toml",
            f"not valid TOML ({exc}): nothing in it was applied",
            int(line.group(1)) if line else None,
        )
        return {}
    values = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            report.problem(section, f"expected a [{section}] section", line_of(text, "", section))
            continue
        for key, value in table.items():
            name = f"{section}.{key}"
            spec = KEYS.get(name)
            if spec is None:
                report.problem(name, "unknown key", line_of(text, section, key))
                continue
            try:
                values[name] = spec.validate(value)
            except ValueError as exc:
                report.problem(name, str(exc), line_of(text, section, key))
    return values


def remove_keys(text: str, names: set[str], note: str) -> str:
    """`text` with the lines setting `names` (section.key) replaced by a comment; the rest,
    comments included, kept as the owner wrote it."""
    out = []
    current = None
    skipping = None  # closing quotes of a multi-line string being removed
    for line in text.splitlines(keepends=True):
        if skipping:
            if skipping in line:
                skipping = None
            continue
        stripped = line.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.\-]+)\s*\]", stripped)
        if header:
            current = header.group(1)
        match = re.match(r"^(\s*)([A-Za-z0-9_\-]+)\s*=\s*(.*)$", line.rstrip("\r\n"))
        if match and current and f"{current}.{match.group(2)}" in names:
            value = match.group(3)
            for quotes in ('"""', "'''"):
                if value.startswith(quotes) and value.count(quotes) == 1:
                    skipping = quotes
            newline = "\r\n" if line.endswith("\r\n") else "\n"
            out.append(f"{match.group(1)}# {match.group(2)}: {note}{newline}")
            continue
        out.append(line)
    return "".join(out)


def write_atomically(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def scrub_secrets(config: Path, names: set[str], note: str) -> None:
    if not names or not config.exists():
        return
    text = config.read_text(encoding="utf-8")
    cleaned = remove_keys(text, names, note)
    if cleaned != text:
        write_atomically(config, cleaned)


def wpa_psk(ssid: str, passphrase: str) -> str:
    """The WPA pre-shared key wpa_supplicant derives, so that the password itself is kept
    nowhere on the card."""
    if len(passphrase) == 64:
        return passphrase.lower()
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32).hex()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wpa_config(ssid: str, psk: str, country: str, hidden: bool) -> str:
    lines = [
        "# Written by Kasir's first boot from kasir.toml [wifi].",
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev",
        "update_config=0",
        f"country={country}",
        "",
        "network={",
        f"    ssid={_quote(ssid)}",
    ]
    if psk:
        lines += ["    key_mgmt=WPA-PSK", f"    psk={wpa_psk(ssid, psk)}"]
    else:
        lines.append("    key_mgmt=NONE")
    if hidden:
        lines.append("    scan_ssid=1")
    lines.append("}")
    return "\n".join(lines) + "\n"


def enable(root: Path, unit: str, template: str | None = None, target="multi-user.target"):
    """`systemctl enable` for a unit shipped in /lib/systemd/system, done as a symlink so it
    also works on a root that is not running (the tests' temp root)."""
    wants = root / "etc/systemd/system" / f"{target}.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / unit
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(f"/lib/systemd/system/{template or unit}")


def disable(root: Path, unit: str, target="multi-user.target") -> None:
    link = root / "etc/systemd/system" / f"{target}.wants" / unit
    if link.is_symlink() or link.exists():
        link.unlink()


class System:
    """What `apply` does to the running system besides writing files; tests pass a recorder."""

    def __init__(self, live: bool):
        self.live = live

    def run(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(list(command), capture_output=True, text=True, **kwargs)

    def sethostname(self, name: str) -> None:
        if self.live:
            socket.sethostname(name)

    def start(self, unit: str) -> None:
        if self.live:
            self.run("systemctl", "start", "--no-block", unit)

    def stop(self, unit: str) -> None:
        if self.live:
            self.run("systemctl", "stop", "--no-block", unit)

    def reload(self) -> None:
        """Unit files and udev rules written by first boot take effect at once."""
        if self.live:
            self.run("systemctl", "daemon-reload")
            self.run("udevadm", "control", "--reload")

    def remount(self, mount_point: str, mode: str) -> bool:
        if not self.live:
            return True
        return self.run("mount", "-o", f"remount,{mode}", mount_point).returncode == 0


def apply(
    root: Path,
    *,
    system: System,
    kasir: list[str] | None = None,
    as_user: str | None = "kasir",
    log: Callable[[str], None] = print,
) -> Report:
    """Apply kasir.toml under `root`; return what was and was not applied."""
    report = Report()
    config_path = root / CONFIG
    values = read_config(config_path, report)

    def get(name: str):
        from appliance.config import KEYS

        return values.get(name, KEYS[name].default)

    # Host name: the till's name on the network.
    hostname = get("system.hostname") or DEFAULT_HOSTNAME
    write_atomically(root / "etc/hostname", hostname + "\n")
    hosts = root / "etc/hosts"
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
    lines = [line for line in lines if not line.startswith("127.0.1.1")]
    lines.insert(1, f"127.0.1.1\t{hostname}")
    write_atomically(hosts, "\n".join(lines) + "\n")
    system.sethostname(hostname)
    report.ok(f"host name {hostname}")

    # Time zone: the system's, else the store's.
    tz = get("system.timezone") or get("store.timezone")
    tz = INDONESIAN_ZONES.get(tz, tz)
    zoneinfo = root / "usr/share/zoneinfo" / tz
    if zoneinfo.is_file():
        localtime = root / "etc/localtime"
        if localtime.is_symlink() or localtime.exists():
            localtime.unlink()
        localtime.symlink_to(f"/usr/share/zoneinfo/{tz}")
        write_atomically(root / "etc/timezone", tz + "\n")
        report.ok(f"time zone {tz}")
    else:
        key = "system.timezone" if get("system.timezone") else "store.timezone"
        report.problem(key, f"time zone {tz!r} is not installed on this till")

    # Locale of system messages.
    locale = get("system.locale")
    write_atomically(root / "etc/default/locale", f"LANG={locale}\n")
    report.ok(f"locale {locale}")

    # Wi-Fi: wpa_supplicant on wlan0, networkd gives it an address (25-wireless.network).
    ssid, psk = get("wifi.ssid"), get("wifi.psk")
    wpa = root / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
    if ssid:
        wpa.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            wpa, wpa_config(ssid, psk, get("wifi.country"), get("wifi.hidden")), mode=0o600
        )
        enable(root, "wpa_supplicant@wlan0.service", "wpa_supplicant@.service")
        system.start("wpa_supplicant@wlan0.service")
        report.ok(f"Wi-Fi network {ssid!r}" + ("" if psk else " (open, no password)"))
    elif psk:
        report.problem("wifi.psk", "a Wi-Fi password without wifi.ssid: no network to join")
    else:
        disable(root, "wpa_supplicant@wlan0.service")
        if wpa.exists():
            wpa.unlink()

    # SSH: off unless a key is given; host keys made on this card, never shipped in the image.
    key = get("system.ssh_authorized_key")
    ssh_dir = root / "root/.ssh"
    if key:
        ssh_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(ssh_dir, 0o700)
        write_atomically(ssh_dir / "authorized_keys", key.strip() + "\n", mode=0o600)
        drop_in = root / "etc/ssh/sshd_config.d/kasir.conf"
        drop_in.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(drop_in, SSHD_DROP_IN)
        made = system.run("ssh-keygen", "-A", "-f", str(root))
        if made.returncode != 0:
            report.problem("system.ssh_authorized_key", f"ssh host keys: {made.stderr.strip()}")
        else:
            enable(root, "ssh.service")
            system.start("ssh.service")
            report.ok("SSH on, for the key given (root, key only)")
    else:
        disable(root, "ssh.service")
        if (ssh_dir / "authorized_keys").exists():
            (ssh_dir / "authorized_keys").unlink()

    # A USB receipt printer by its ids: the till's user may open it (python-escpos, libusb)
    # and /dev/kasir-printer names its printer-class device.
    rule = root / "etc/udev/rules.d/70-kasir-printer.rules"
    if get("printer.type") == "usb":
        vendor, product = get("printer.usb_vendor").lower(), get("printer.usb_product").lower()
        rule.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            rule,
            "# Written by Kasir's first boot from kasir.toml [printer].\n"
            f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", ATTR{{idVendor}}=="{vendor}", '
            f'ATTR{{idProduct}}=="{product}", GROUP="lp", MODE="0660"\n'
            f'SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", ATTRS{{idVendor}}=="{vendor}", '
            f'ATTRS{{idProduct}}=="{product}", SYMLINK+="kasir-printer", GROUP="lp", '
            'MODE="0660"\n',
        )
        report.ok(f"USB printer {vendor}:{product}")
    elif rule.exists():
        rule.unlink()
    for name in ("printer.type", "scanner.type", "drawer.type"):
        report.ok(f"{name} {get(name)}")

    # Nightly security updates.
    timer_dir = root / "etc/systemd/system/kasir-security-update.timer.d"
    if get("update.security_updates"):
        timer_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(
            timer_dir / "kasir.conf",
            f"[Timer]\nOnCalendar=\nOnCalendar=*-*-* {get('update.security_time')}:00\n",
        )
        enable(root, "kasir-security-update.timer", target="timers.target")
        report.ok(f"security updates nightly at {get('update.security_time')}")
    else:
        disable(root, "kasir-security-update.timer", target="timers.target")
        system.stop("kasir-security-update.timer")
        report.ok("nightly security updates off")

    # The till's store, with a first manager whose PIN the screen shows once.
    data = root / DATA
    (data / "run").mkdir(parents=True, exist_ok=True)
    if kasir is not None and not any(data.glob("*.sqlite3")):
        made = _as_user([*kasir, "--data-dir", str(data), "init"], as_user)
        pin = re.search(r"PIN[^:]*:\s*(\d+)", made.stdout)
        if made.returncode == 0 and pin:
            report.manager_pin = pin.group(1)
            report.ok("till store created")
        else:
            report.problem("till", f"`kasir init` failed: {last_line(made.stderr or made.stdout)}")

    system.reload()
    if ssid and psk:
        scrub_secrets(config_path, {"wifi.psk"}, "removed after first boot set up Wi-Fi")
        report.ok("Wi-Fi password removed from kasir.toml")
    for line in report.lines():
        log(line)
    return report


def last_line(text: str) -> str:
    """The line of a command's output that says what went wrong (a traceback's last)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _as_user(command: list[str], user: str | None) -> subprocess.CompletedProcess:
    kwargs = {}
    if user and os.geteuid() == 0:
        kwargs = {"user": user, "group": user, "extra_groups": []}
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def write_report(root: Path, report: Report, owner: str | None = None) -> None:
    base = root / REPORT
    base.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "applied": report.applied,
        "problems": report.problems,
        "manager_pin": report.manager_pin,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for path, text in (
        (base.with_suffix(".json"), json.dumps(payload, indent=2) + "\n"),
        (base.with_suffix(".txt"), "\n".join(report.lines()) + "\n"),
    ):
        write_atomically(path, text, mode=0o640)
        if owner and os.geteuid() == 0:
            shutil.chown(path, "root", owner)


def merge_report(
    root: Path, applied: list[str], problems: list[dict], owner: str | None = None
) -> None:
    """Add the enrolment's outcome to the report first boot wrote."""
    path = (root / REPORT).with_suffix(".json")
    try:
        old = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        old = {"applied": [], "problems": [], "manager_pin": None}
    report = Report(
        [*old["applied"], *applied],
        [p for p in old["problems"] if p["key"] != "oms.enrolment_code"] + problems,
        old.get("manager_pin"),
    )
    write_report(root, report, owner=owner)


# -- enrolment --------------------------------------------------------------------------------


def enrol_once(
    root: Path, kasir: list[str], system: System | None = None, as_user: str | None = "kasir"
) -> tuple[str, str]:
    """One attempt: ("done"|"nothing"|"failed", message). The boot partition is read-only
    but for the moment the used code is removed from kasir.toml."""
    system = system or System(live=False)
    config = root / CONFIG
    report = Report()
    values = read_config(config, report)
    url = values.get("oms.url", "")
    code = values.get("oms.enrolment_code", "")
    token = root / DATA / "oms-token"
    if token.exists():
        if code:
            scrub_on_boot(config, "removed: this till is enrolled", system)
        return "nothing", "already enrolled"
    if not url and not code:
        return "nothing", "no OMS configured: a standalone till"
    if not url or not code:
        missing = "oms.url" if not url else "oms.enrolment_code"
        return "failed", f"{missing} is empty: both are needed to join the OMS"
    done = _as_user([*kasir, "--data-dir", str(root / DATA), "enrol", url, code], as_user)
    if done.returncode == 0:
        scrub_on_boot(config, "removed after enrolment", system)
        return "done", done.stdout.strip().splitlines()[0] if done.stdout.strip() else "enrolled"
    return "failed", last_line(done.stderr or done.stdout) or f"exit status {done.returncode}"


def scrub_on_boot(config: Path, note: str, system: System) -> None:
    if system.remount("/boot/firmware", "rw"):
        try:
            scrub_secrets(config, {"oms.enrolment_code"}, note)
        finally:
            os.sync()
            system.remount("/boot/firmware", "ro")


def enrol_loop(
    root: Path,
    kasir: list[str],
    system: System,
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int | None = None,
    as_user: str | None = "kasir",
    log: Callable[[str], None] = print,
) -> str:
    """Try until enrolled: the network (Wi-Fi just set up) and the OMS may come later. The
    file is read again before each try, so a corrected code is picked up."""
    delay, n = 15.0, 0
    owner = "kasir" if system.live else None
    while True:
        n += 1
        state, message = enrol_once(root, kasir, system, as_user)
        if state == "done":
            merge_report(root, [f"joined the OMS: {message}"], [], owner)
            system.start("kasir-sync.service")
            log(f"enrolled: {message}")
            return state
        if state == "nothing":
            log(message)
            return state
        merge_report(
            root,
            [],
            [{"key": "oms.enrolment_code", "line": None, "message": f"not enrolled: {message}"}],
            owner,
        )
        log(f"enrolment attempt {n} failed: {message}; next try in {delay:.0f} s")
        if attempts is not None and n >= attempts:
            return state
        sleep(delay)
        delay = min(delay * 2, 600.0)


# -- growing the data partition -----------------------------------------------------------------


def grow_command(disk: str, number: int) -> list[str]:
    return ["sfdisk", "--no-reread", "--no-tell-kernel", "-N", str(number), disk]


def grow_partition(disk: str, number: int, run=subprocess.run) -> None:
    """Move the end of partition `number` to the end of `disk` (a device or an image file)."""
    done = run(grow_command(disk, number), input=", +\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sfdisk could not grow partition {number}: {done.stderr.strip()}")


def grow_data(mount_point: str = "/var/lib/kasir", run=subprocess.run) -> str:
    """Grow the mounted data partition and its ext4 to the end of the card (online)."""
    source = run(
        ["findmnt", "-no", "SOURCE", mount_point], capture_output=True, text=True
    ).stdout.strip()
    if not source.startswith("/dev/"):
        return f"{mount_point} is not mounted from a block device: nothing to grow"
    part = Path("/sys/class/block") / Path(os.path.realpath(source)).name
    number = int((part / "partition").read_text())
    disk_name = Path(os.path.realpath(part)).parent.name
    disk_sectors = int(Path(f"/sys/class/block/{disk_name}/size").read_text())
    end = int((part / "start").read_text()) + int((part / "size").read_text())
    if disk_sectors - end < 8192:  # less than 4 MiB to gain
        return "the data partition already fills the card"
    grow_partition(f"/dev/{disk_name}", number, run)
    for command in (
        ["partx", "-u", "--nr", str(number), f"/dev/{disk_name}"],
        ["resize2fs", source],
    ):
        done = run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return f"data partition grown by {(disk_sectors - end) * 512 // (1024 * 1024)} MiB"


# -- entry point ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="firstboot.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=Path("/"))
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("apply", help="apply kasir.toml (first boot, or after kasir-reconfigure)")
    sub.add_parser("enrol", help="join the OMS named in kasir.toml, retrying")
    sub.add_parser("grow", help="grow the data partition to the end of the card")
    args = p.parse_args(argv)
    root: Path = args.root
    live = root == Path("/")
    system = System(live)
    kasir = [str(root / RELEASE / "bin" / "kasir")]
    if args.command == "grow":
        print(grow_data())
        (root / SYSTEM_STATE).mkdir(parents=True, exist_ok=True)
        (root / SYSTEM_STATE / "grown").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z") + "\n")
        return 0
    if args.command == "enrol":
        state = enrol_loop(root, kasir, system)
        return 0 if state in ("done", "nothing") else 1
    if not (system.remount("/", "rw") and system.remount("/boot/firmware", "rw")):
        print("cannot remount / and /boot/firmware read-write: nothing applied", file=sys.stderr)
        return 1
    try:
        report = apply(root, system=system, kasir=kasir)
        write_report(root, report, owner="kasir" if live else None)
        if live:
            system.run("systemd-machine-id-setup", "--commit")
        (root / SYSTEM_STATE).mkdir(parents=True, exist_ok=True)
        (root / DONE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z") + "\n")
        reconfigure = root / RECONFIGURE
        if reconfigure.exists():
            reconfigure.unlink()
    finally:
        os.sync()
        system.remount("/boot/firmware", "ro")
        system.remount("/", "ro")
    return 0


if __name__ == "__main__":
    sys.exit(main())
