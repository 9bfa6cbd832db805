"""Release updates (appliance/update.py) on real venvs built from small releases made here.

Each fake release is a real wheel named kasir whose `kasir run` behaves as the test asks:
reaches its login screen (touches the ready marker), crashes at start, or hangs. The till's
service is a real process started from `releases/current`, as systemd would.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import update
from appliance.update import Releases, UpdateError, is_newer, parse_version, verify_bundle
from image import make_bundle

BEHAVIOURS = {
    "good": "import os, pathlib; pathlib.Path(os.environ['KASIR_READY']).touch()",
    "crash": "raise SystemExit('kasir: cannot start: broken release')",
    "hang": "import time; time.sleep(30)",
}


def fake_wheel(directory: Path, version: str, behaviour: str) -> Path:
    """A wheel `kasir` whose console script `kasir run` does `behaviour`."""
    module = (
        "import sys\n"
        "def main():\n"
        f"    if sys.argv[1:] == ['--version']:\n        print('kasir {version}'); return 0\n"
        f"    if sys.argv[1:2] == ['run']:\n        exec({BEHAVIOURS[behaviour]!r})\n"
        "    return 0\n"
    )
    info = f"kasir-{version}.dist-info"
    files = {
        "fakekasir.py": module,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: kasir\nVersion: {version}\n"
        "Provides-Extra: till\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\nkasir = fakekasir:main\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"kasir-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


@pytest.fixture(scope="module")
def release_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, release_key):
    """Signed bundles: 1.0.0 and 1.1.0 reach the login screen, 1.2.0 crashes, 1.3.0 hangs."""
    out = tmp_path_factory.mktemp("bundles")
    made = {}
    for version, behaviour in (
        ("1.0.0", "good"),
        ("1.1.0", "good"),
        ("1.2.0", "crash"),
        ("1.3.0", "hang"),
    ):
        wheels = out / f"wheels-{version}"
        wheels.mkdir()
        fake_wheel(wheels, version, behaviour)
        made[version] = make_bundle.write_bundle(
            wheels,
            version,
            release_key,
            out / f"kasir-{version}.bundle",
            requirements=(f"kasir[till]=={version}",),
        )
    return made


class Till:
    """The till's service: `releases/current/bin/kasir run`, as kasir-till.service runs it."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def start(self) -> None:
        self.stop()
        self.starts += 1
        ready = self.data_dir / "run" / "ready"
        ready.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(self.data_dir / "releases/current/bin/kasir"), "run"],
            env={**os.environ, "KASIR_READY": str(ready)},
            stderr=subprocess.DEVNULL,
        )

    def failed(self) -> bool:
        return self.process is not None and self.process.poll() not in (None, 0)


def updater_for(data: Path, ready_timeout: float = 60) -> tuple[Till, Releases]:
    """A simulated till service and the updater for `data`, installing with this Python."""
    till = Till(data)
    releases = Releases(
        data,
        python=sys.executable,
        pip_python=sys.executable,
        service=till,
        ready_timeout=ready_timeout,
        poll=0.05,
        log=lambda _: None,
    )
    return till, releases


@pytest.fixture(scope="module")
def installed(tmp_path_factory, bundles, release_key):
    """A data directory where 1.0.0 was installed as the image's release and then updated to
    1.1.0 (the good update); the later tests start from there."""
    data = tmp_path_factory.mktemp("data")
    till, releases = updater_for(data)
    keys = [release_key.public_key()]
    first = releases.install(bundles["1.0.0"], keys)
    assert first.state == "installed" and releases.current() == "1.0.0"
    till.start()
    outcome = releases.install(bundles["1.1.0"], keys)
    yield releases, till, keys, outcome
    till.stop()


def test_a_good_update_switches_and_keeps_the_previous_release(installed):
    releases, till, _, outcome = installed
    assert outcome.state == "installed", outcome.message
    assert till.starts == 2  # the image's release, then the update's
    assert releases.current() == "1.1.0" and releases.previous() == "1.0.0"
    assert not releases.trial_file.exists()
    assert releases.ready_file.exists()
    assert releases.installed() == ["1.0.0", "1.1.0"]
    version = subprocess.run(
        [str(releases.dir / "current/bin/kasir"), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == "kasir 1.1.0"
    manifest = json.loads((releases.dir / "1.1.0/manifest.json").read_text())
    assert manifest["version"] == "1.1.0"


def test_a_crashing_release_is_rolled_back(installed, bundles):
    releases, till, keys, _ = installed
    outcome = releases.install(bundles["1.2.0"], keys)
    assert outcome.state == "rolled back"
    assert "1.2.0 did not reach its login screen; back on 1.1.0" in outcome.message
    assert releases.current() == "1.1.0"
    assert releases.failed_versions() == ["1.2.0"]
    assert not releases.trial_file.exists()
    # The old release was started again and reached its login screen.
    till.process.wait(timeout=30)
    assert releases.ready_file.exists()
    with pytest.raises(UpdateError, match=r"1\.2\.0 was rolled back before"):
        releases.install(bundles["1.2.0"], keys)


def test_a_release_that_never_reaches_login_is_rolled_back_after_the_timeout(installed, bundles):
    releases, _, keys, _ = installed
    releases.ready_timeout = 1.0
    try:
        outcome = releases.install(bundles["1.3.0"], keys)
    finally:
        releases.ready_timeout = 60
    assert outcome.state == "rolled back"
    assert releases.current() == "1.1.0"
    assert "1.3.0" in releases.failed_versions()


def test_bad_signature_is_refused_before_anything_is_installed(installed, tmp_path):
    releases, _, keys, _ = installed
    wheels = tmp_path / "w"
    wheels.mkdir()
    fake_wheel(wheels, "2.0.0", "good")
    forged = make_bundle.write_bundle(
        wheels,
        "2.0.0",
        Ed25519PrivateKey.generate(),
        tmp_path / "kasir-2.0.0.bundle",
        requirements=("kasir[till]==2.0.0",),
    )
    with pytest.raises(UpdateError, match="bad signature"):
        releases.install(forged, keys)
    assert not (releases.dir / "2.0.0").exists()
    assert releases.current() == "1.1.0"


def rewrite(bundle: Path, out: Path, change) -> Path:
    """A copy of `bundle` with members changed by `change(name, data) -> data | None`."""
    with tarfile.open(bundle) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else b""
            data = change(member.name, data)
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def test_a_wheel_changed_after_signing_is_refused(bundles, release_key, tmp_path):
    def corrupt(name, data):
        return data + b"\0" if name.endswith(".whl") else data

    bad = rewrite(bundles["1.1.0"], tmp_path / "bad.bundle", corrupt)
    with pytest.raises(UpdateError, match="does not match the manifest"):
        verify_bundle(bad, [release_key.public_key()])


def test_a_file_slipped_into_a_bundle_is_refused(bundles, release_key, tmp_path):
    bad = tmp_path / "extra.bundle"
    rewrite(bundles["1.1.0"], bad, lambda name, data: data)
    with tarfile.open(bad, "a") as tar:
        info = tarfile.TarInfo("wheels/evil-1.0-py3-none-any.whl")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(UpdateError, match="not in the manifest"):
        verify_bundle(bad, [release_key.public_key()])


def test_a_missing_signature_is_refused(bundles, release_key, tmp_path):
    bad = rewrite(
        bundles["1.1.0"],
        tmp_path / "unsigned.bundle",
        lambda name, data: None if name == "manifest.sig" else data,
    )
    with pytest.raises(UpdateError, match=r"manifest\.sig is missing"):
        verify_bundle(bad, [release_key.public_key()])


def test_an_older_or_equal_version_is_refused(installed, bundles):
    releases, _, keys, _ = installed
    with pytest.raises(UpdateError, match=r"1\.0\.0 is not newer than the running 1\.1\.0"):
        releases.install(bundles["1.0.0"], keys)
    with pytest.raises(UpdateError, match=r"1\.1\.0 is not newer than the running 1\.1\.0"):
        releases.install(bundles["1.1.0"], keys)


def test_no_trusted_key_refuses_everything(bundles):
    with pytest.raises(UpdateError, match="no trusted release key"):
        verify_bundle(bundles["1.1.0"], [])


def test_owner_keys_come_from_kasir_toml(tmp_path, release_key):
    owner = Ed25519PrivateKey.generate()
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    (keys_dir / "release.pub").write_text(update.key_id(release_key.public_key()) + "\n")
    config = tmp_path / "kasir.toml"
    config.write_text(f'[update]\nextra_keys = ["{update.key_id(owner.public_key())}"]\n')
    ids = [update.key_id(k) for k in update.trusted_keys(keys_dir, config)]
    assert ids == [update.key_id(release_key.public_key()), update.key_id(owner.public_key())]
    config.write_text('[update]\nextra_keys = ["bm90IGEga2V5"]\n')
    with pytest.raises(UpdateError, match="extra_keys item 1: an ed25519 public key has 32"):
        update.trusted_keys(keys_dir, config)


def test_power_cut_during_a_trial_is_settled_at_boot(tmp_path, bundles, release_key):
    """`current` already points at the new release, trial.json says so, and the till never
    drew its login screen before the power went: the boot-time guard goes back."""
    data = tmp_path / "data"
    till, releases = updater_for(data, ready_timeout=1)
    keys = [release_key.public_key()]
    releases.install(bundles["1.0.0"], keys)
    manifest = verify_bundle(bundles["1.3.0"], keys)
    releases.install_files(bundles["1.3.0"], manifest)
    releases._write_json(releases.trial_file, {"version": "1.3.0", "previous": "1.0.0"})
    releases._set_link(releases.previous_link, "1.0.0")
    releases._set_link(releases.current_link, "1.3.0")
    # ... power cut; at boot systemd starts the till from `current`, then the guard runs.
    till.start()
    try:
        outcome = releases.settle()
    finally:
        till.stop()
    assert outcome.state == "rolled back"
    assert releases.current() == "1.0.0" and not releases.trial_file.exists()


def test_incoming_bundles_newest_good_one_wins(tmp_path, bundles, release_key):
    data = tmp_path / "data"
    till, releases = updater_for(data)
    keys = [release_key.public_key()]
    releases.install(bundles["1.0.0"], keys)
    till.start()
    incoming = data / "updates/incoming"
    incoming.mkdir(parents=True)
    for version in ("1.1.0",):
        (incoming / bundles[version].name).write_bytes(bundles[version].read_bytes())
    (incoming / "garbage.bundle").write_bytes(b"not a tar")
    try:
        outcomes = releases.install_incoming(keys)
    finally:
        till.stop()
    states = {o.version: o.state for o in outcomes}
    assert states == {"garbage.bundle": "refused", "1.1.0": "installed"}
    assert releases.current() == "1.1.0"
    assert list(incoming.iterdir()) == []
    last = json.loads((data / "updates/last.json").read_text())
    assert {entry["state"] for entry in last} == {"refused", "installed"}


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0.0", "1.0.1"),
        ("1.0", "1.0.1"),
        ("1.9.0", "1.10.0"),
        ("1.0.0rc1", "1.0.0"),
        ("1.0.0a2", "1.0.0b1"),
        ("1.0.0.dev3", "1.0.0a1"),
        ("1.0.0", "1.0.0.post1"),
    ],
)
def test_version_order(older, newer):
    assert parse_version(older) < parse_version(newer)
    assert is_newer(newer, older) and not is_newer(older, newer)
    assert parse_version("1.0") == parse_version("1.0.0")


@pytest.mark.parametrize("bad", ["", "v1.0", "1.0+local", "1!2.0", "latest"])
def test_bad_versions_are_named(bad):
    with pytest.raises(UpdateError, match="is not a release version"):
        parse_version(bad)


SIMULATION = """\
NOTE: This is only a simulation!
Inst libc6 [2.36-9+deb12u9] (2.36-9+deb12u10 Debian-Security:12/stable-security [arm64])
Inst tzdata [2024b-0+deb12u1] (2025a-0+deb12u1 Debian:12.10/stable [all])
Inst linux-image-6.1.0-57-arm64 (6.1.193-1 Debian-Security:12/stable-security [arm64])
Inst linux-image-arm64 [6.1.192-2] (6.1.193-1 Debian-Security:12/stable-security [arm64])
Conf libc6 (2.36-9+deb12u10 Debian-Security:12/stable-security [arm64])
"""


def test_only_security_upgrades_are_picked():
    # tzdata is a point-release update; the new kernel package is pulled in by its metapackage.
    assert update.security_upgrades(SIMULATION) == ["libc6", "linux-image-arm64"]
    assert update.security_upgrades("0 upgraded, 0 newly installed.\n") == []


class Recorder:
    def __init__(self, fail: set[str] = frozenset(), simulation: str = ""):
        self.commands: list[list[str]] = []
        self.fail = fail
        self.simulation = simulation

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        out = self.simulation if "-s" in command else ""
        code = 1 if any(word in self.fail for word in command) else 0
        return subprocess.CompletedProcess(command, code, out, "failed" if code else "")


def test_security_updates_remount_read_only_after_nothing_changed():
    run = Recorder()
    assert update.security_update(run, log=lambda _: None) == "unchanged"
    assert run.commands[0] == ["mount", "-o", "remount,rw", "/"]
    assert run.commands[-1] == ["mount", "-o", "remount,ro", "/"]
    apt = [c for c in run.commands if "apt-get" in c]
    assert apt and all(c[:2] == ["chroot", "/run/kasir-maintenance"] for c in apt)
    assert not any("install" in c for c in apt)


def test_security_updates_install_and_ask_for_a_reboot():
    run = Recorder(simulation=SIMULATION)
    assert update.security_update(run, log=lambda _: None) == "reboot"
    install = next(c for c in run.commands if "install" in c)
    assert install[-2:] == ["libc6", "linux-image-arm64"]
    assert "tzdata" not in install
    # The root stays read-write until the reboot: programs still hold the replaced files.
    assert ["mount", "-o", "remount,ro", "/"] not in run.commands


def test_a_failed_security_update_still_leaves_the_root_read_only():
    run = Recorder(fail={"update"})
    with pytest.raises(UpdateError, match="apt-get update"):
        update.security_update(run, log=lambda _: None)
    assert run.commands[-1] == ["mount", "-o", "remount,ro", "/"]
    unmounts = [c for c in run.commands if c[0] == "umount"]
    assert len(unmounts) == 6
