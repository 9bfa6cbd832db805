"""Release updates of the till: signed bundles, installed side by side, switched atomically,
and switched back when the new release does not reach its login screen.

    # python3 -m appliance.update install /var/lib/kasir/updates/incoming/kasir-0.2.0.bundle
    kasir 0.2.0 verified (signed by key 3Wd0...), installing into releases/0.2.0
    switched to 0.2.0; waiting up to 180 s for the till's login screen
    0.2.0 reached its login screen: update done

On the SD image this file runs with Debian's own python3 and python3-cryptography (a copy at
/usr/lib/kasir/update.py), never from a release venv: a broken release must not be able to
break its own rollback. It therefore uses the standard library and `cryptography` only.

Under the data directory (/var/lib/kasir):

    releases/<version>/        a venv with that release (`.complete` once fully installed)
    releases/current           symlink to the running release (switched with rename(2))
    releases/previous          symlink to the release to go back to
    releases/trial.json        a release on trial: written before `current` switches
    releases/failed.json       versions that were rolled back, not installed again by themselves
    run/ready                  touched by the till at its first drawn login frame
    updates/incoming/          bundles offered by the OMS: `kasir sync` downloads each to a
                               hidden .kasir-<version>.bundle.part, checks its size and sha256
                               and renames it kasir-<version>.bundle (what the path unit sees)
    updates/last.json          what happened to the last bundle, for the till and the OMS

A bundle is a tar file: `manifest.json` (name, version, requirements, each wheel's sha256),
`manifest.sig` (base64 ed25519 signature of manifest.json's exact bytes) and `wheels/*.whl`.
It is trusted when any trusted key signed it: the release keys baked into the image
(/usr/share/kasir/keys/*.pub) and the owner's own (`[update] extra_keys` in kasir.toml).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
WHEELS = "wheels"
BUNDLE_SUFFIX = ".bundle"
DATA_DIR = Path("/var/lib/kasir")
KEYS_DIR = Path("/usr/share/kasir/keys")
CONFIG = Path("/boot/firmware/kasir.toml")
TILL_UNIT = "kasir-till.service"
READY_TIMEOUT = 180.0
KEEP_RELEASES = 2  # current and previous


class UpdateError(Exception):
    """A bundle that will not be installed, or an install that failed; says why."""


# -- versions ---------------------------------------------------------------------------------

_VERSION = re.compile(
    r"(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?"
    r"(?:\.post(?P<post>\d+))?"
    r"(?:\.dev(?P<dev>\d+))?"
)


def parse_version(text: str) -> tuple:
    """A sortable key for a PEP 440 version of the forms Kasir uses: 1.2.3, 1.2.3rc1,
    1.2.3.post1, 1.2.3.dev4 (no epochs or local versions: a release never needs them).
    `retail.versions` is the same rule for the OMS and the till; this copy exists because the
    updater runs outside every release venv (tests/retail/test_versions.py keeps them equal)."""
    match = _VERSION.fullmatch(text.strip())
    if not match:
        raise UpdateError(f"version {text!r} is not a release version such as 1.2.3")
    release = tuple(int(part) for part in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    dev = int(match["dev"]) if match["dev"] is not None else None
    if match["pre"]:
        pre = ({"a": 0, "b": 1, "rc": 2}[match["pre"]], int(match["pre_n"]))
    elif dev is not None and match["post"] is None:
        pre = (-1, 0)  # 1.0.dev1 comes before 1.0a1
    else:
        pre = (3, 0)
    post = int(match["post"]) if match["post"] is not None else -1
    return (release, pre, post, dev if dev is not None else float("inf"))


def is_newer(candidate: str, running: str | None) -> bool:
    return running is None or parse_version(candidate) > parse_version(running)


# -- keys and signatures -----------------------------------------------------------------------


def load_public_key(text: str, where: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UpdateError(f"{where}: not a base64 ed25519 public key") from None
    if len(raw) != 32:
        raise UpdateError(f"{where}: an ed25519 public key has 32 bytes, this one {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def trusted_keys(keys_dir: Path = KEYS_DIR, config: Path | None = CONFIG) -> list:
    """The image's release keys, then the owner's keys from kasir.toml."""
    keys = []
    if keys_dir.is_dir():
        for path in sorted(keys_dir.glob("*.pub")):
            keys.append(load_public_key(path.read_text(), str(path)))
    if config is not None and config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UpdateError(f"{config}: cannot read [update] extra_keys: {exc}") from None
        extra = data.get("update", {}).get("extra_keys", [])
        if not isinstance(extra, list):
            raise UpdateError(f"{config}: update.extra_keys should be a list of keys")
        for n, text in enumerate(extra, 1):
            keys.append(load_public_key(str(text), f"{config}: update.extra_keys item {n}"))
    return keys


# -- bundles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    requirements: tuple[str, ...]
    files: dict[str, str]  # member name -> sha256 hex
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UpdateError(f"{MANIFEST} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UpdateError(f"{MANIFEST} should hold a JSON object")
        if data.get("format") != FORMAT:
            raise UpdateError(f"{MANIFEST}: format {data.get('format')!r} is not {FORMAT}")
        for field in ("name", "version"):
            if not isinstance(data.get(field), str) or not data[field]:
                raise UpdateError(f"{MANIFEST}: {field} is missing")
        requirements = data.get("requirements")
        if (
            not isinstance(requirements, list)
            or not requirements
            or not all(isinstance(r, str) and r and not r.startswith("-") for r in requirements)
        ):
            raise UpdateError(f"{MANIFEST}: requirements should be a list of requirement texts")
        if data["name"] != "kasir":
            raise UpdateError(f"{MANIFEST}: name {data['name']!r} is not kasir")
        parse_version(data["version"])
        files = data.get("files")
        if not isinstance(files, dict) or not files:
            raise UpdateError(f"{MANIFEST}: files is missing or empty")
        for member, digest in files.items():
            _check_member_name(member)
            if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
                raise UpdateError(f"{MANIFEST}: {member}: sha256 {digest!r} is not 64 hex digits")
        return cls(data["name"], data["version"], tuple(requirements), dict(files), raw)


def _check_member_name(member: str) -> None:
    path = PurePosixPath(member)
    if (
        path.is_absolute()
        or len(path.parts) != 2
        or path.parts[0] != WHEELS
        or not path.name.endswith(".whl")
        or path.name.startswith(".")
    ):
        raise UpdateError(f"bundle member {member!r} is not wheels/<name>.whl")


def verify_bundle(bundle: Path, keys: Sequence) -> Manifest:
    """Check the signature over the manifest, then every wheel against the manifest. Nothing
    from the bundle is used before both checks pass."""
    from cryptography.exceptions import InvalidSignature

    if not keys:
        raise UpdateError("no trusted release key: cannot check any bundle")
    try:
        with tarfile.open(bundle, "r:") as tar:
            members = {m.name: m for m in tar.getmembers()}
            for name in (MANIFEST, SIGNATURE):
                if name not in members or not members[name].isfile():
                    raise UpdateError(f"{bundle.name}: {name} is missing")
            raw = tar.extractfile(members[MANIFEST]).read()
            sig_text = tar.extractfile(members[SIGNATURE]).read()
            try:
                signature = base64.b64decode(sig_text.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise UpdateError(f"{bundle.name}: {SIGNATURE} is not base64") from None
            signer = None
            for key in keys:
                try:
                    key.verify(signature, raw)
                except InvalidSignature:
                    continue
                signer = key
                break
            if signer is None:
                raise UpdateError(
                    f"{bundle.name}: bad signature: the manifest is not signed by a trusted key"
                )
            manifest = Manifest.parse(raw)
            extra = set(members) - set(manifest.files) - {MANIFEST, SIGNATURE, WHEELS}
            if extra:
                raise UpdateError(f"{bundle.name}: files not in the manifest: {sorted(extra)}")
            for member, digest in manifest.files.items():
                info = members.get(member)
                if info is None or not info.isfile():
                    raise UpdateError(f"{bundle.name}: {member} is missing")
                actual = _sha256(tar.extractfile(info))
                if actual != digest:
                    raise UpdateError(
                        f"{bundle.name}: {member} does not match the manifest "
                        f"(sha256 {actual[:12]}..., expected {digest[:12]}...)"
                    )
    except (tarfile.TarError, OSError) as exc:
        raise UpdateError(f"{bundle.name}: not a readable bundle: {exc}") from None
    return manifest


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


# -- the till's service ------------------------------------------------------------------------


class Service:
    """The till's systemd unit. Tests pass their own object with the same three methods."""

    def __init__(self, unit: str = TILL_UNIT, run: Callable = subprocess.run):
        self.unit = unit
        self.run = run
        self._restarts_at_start = 0

    def _restarts(self) -> int:
        out = self.run(
            ["systemctl", "show", "-p", "NRestarts", "--value", self.unit],
            capture_output=True,
            text=True,
        )
        try:
            return int(out.stdout.strip() or 0)
        except ValueError:
            return 0

    def stop(self) -> None:
        self.run(["systemctl", "stop", self.unit], check=False)

    def start(self) -> None:
        self.run(["systemctl", "reset-failed", self.unit], check=False)
        self.run(["systemctl", "start", "--no-block", self.unit], check=False)
        self._restarts_at_start = self._restarts()

    def failed(self) -> bool:
        """Given up on, or crashed twice since start: waiting longer would not help."""
        state = self.run(["systemctl", "is-failed", "--quiet", self.unit], check=False)
        if state.returncode == 0:
            return True
        return self._restarts() - self._restarts_at_start >= 2


# -- releases ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    version: str
    state: str  # "installed", "rolled back", "refused"
    message: str

    def as_dict(self) -> dict:
        return {"version": self.version, "state": self.state, "message": self.message}


class Releases:
    def __init__(
        self,
        data_dir: Path = DATA_DIR,
        *,
        python: str = "/usr/bin/python3",
        pip_python: str | None = None,
        service=None,
        ready_timeout: float = READY_TIMEOUT,
        poll: float = 0.5,
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / "releases"
        self.python = python
        # None: each venv gets its own pip (the till); else this interpreter's pip installs
        # into a venv made without one (quicker: the tests use it).
        self.pip_python = pip_python
        self.service = service if service is not None else Service()
        self.ready_timeout = ready_timeout
        self.poll = poll
        self.log = log
        self.clock = clock
        self.sleep = sleep

    # paths
    @property
    def current_link(self) -> Path:
        return self.dir / "current"

    @property
    def previous_link(self) -> Path:
        return self.dir / "previous"

    @property
    def trial_file(self) -> Path:
        return self.dir / "trial.json"

    @property
    def failed_file(self) -> Path:
        return self.dir / "failed.json"

    @property
    def ready_file(self) -> Path:
        return self.data_dir / "run" / "ready"

    def _linked(self, link: Path) -> str | None:
        try:
            return os.readlink(link)
        except (FileNotFoundError, OSError):
            return None

    def current(self) -> str | None:
        return self._linked(self.current_link)

    def previous(self) -> str | None:
        return self._linked(self.previous_link)

    def installed(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        found = [
            p.name for p in self.dir.iterdir() if not p.is_symlink() and (p / ".complete").is_file()
        ]
        return sorted(found, key=parse_version)

    def failed_versions(self) -> list[str]:
        try:
            return list(json.loads(self.failed_file.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return []

    def _write_json(self, path: Path, value) -> None:
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(value, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    def _set_link(self, link: Path, version: str) -> None:
        """Point `link` at `version` in one rename(2): a power cut leaves the old or the new
        link, never none."""
        tmp = link.with_name(link.name + ".new")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(version, tmp)
        os.replace(tmp, link)
        fsync_dir(link.parent)

    # installing

    def install_files(self, bundle: Path, manifest: Manifest) -> Path:
        """A venv for the release in releases/<version>, from the bundle's wheels only."""
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.dir / manifest.version
        if (target / ".complete").is_file():
            self.log(f"{manifest.version} is already installed in {target}")
            return target
        if target.exists():
            shutil.rmtree(target)  # an install cut short: start again
        with tempfile.TemporaryDirectory(prefix=".staging-", dir=self.dir) as staging:
            wheels = Path(staging) / "wheels"
            wheels.mkdir()
            with tarfile.open(bundle, "r:") as tar:
                for member in manifest.files:
                    name = PurePosixPath(member).name
                    source = tar.extractfile(tar.getmember(member))
                    with open(wheels / name, "wb") as out:
                        shutil.copyfileobj(source, out)
                    with open(wheels / name, "rb") as check:
                        if _sha256(check) != manifest.files[member]:
                            raise UpdateError(f"{member} changed while it was being unpacked")
            env = dict(os.environ, TMPDIR=staging, PIP_NO_CACHE_DIR="1", HOME=staging)
            venv = [self.python, "-m", "venv", str(target)]
            if self.pip_python:
                venv.insert(3, "--without-pip")
                pip = [self.pip_python, "-m", "pip", "--python", str(target / "bin" / "python")]
            else:
                pip = [str(target / "bin" / "python"), "-m", "pip"]
            self._run(venv, env, "creating the venv")
            self._run(
                [
                    *pip,
                    "install",
                    "--no-index",
                    "--find-links",
                    str(wheels),
                    "--disable-pip-version-check",
                    "--no-warn-script-location",
                    "--quiet",
                    *manifest.requirements,
                ],
                env,
                "installing the wheels",
            )
        if not (target / "bin" / "kasir").exists():
            raise UpdateError(f"{manifest.version}: the release has no bin/kasir")
        (target / "manifest.json").write_bytes(manifest.raw)
        complete = target / ".complete"
        complete.write_text(manifest.version + "\n")
        fsync_dir(target)
        return target

    def _run(self, command: list[str], env: dict, what: str) -> None:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise UpdateError(f"{what} failed: " + " / ".join(detail))

    def install(self, bundle: Path, keys: Sequence, *, force: bool = False) -> Outcome:
        """Verify, install, switch, wait for the login screen; roll back if it never comes."""
        manifest = verify_bundle(bundle, keys)
        version = manifest.version
        running = self.current()
        if not is_newer(version, running):
            raise UpdateError(f"{version} is not newer than the running {running}: refused")
        if version in self.failed_versions() and not force:
            raise UpdateError(
                f"{version} was rolled back before: not installed again without --force"
            )
        self.log(f"kasir {version} verified, installing into {self.dir / version}")
        self.install_files(bundle, manifest)
        if running is None:
            # The image's first release: nothing to fall back to, nothing running yet.
            self._set_link(self.current_link, version)
            return Outcome(version, "installed", f"{version} installed as the first release")
        return self.switch_on_trial(version)

    def switch_on_trial(self, version: str) -> Outcome:
        running = self.current()
        self._write_json(self.trial_file, {"version": version, "previous": running})
        self.service.stop()
        self._clear_ready()
        self._set_link(self.previous_link, running)
        self._set_link(self.current_link, version)
        self.service.start()
        self.log(
            f"switched to {version}; waiting up to {self.ready_timeout:.0f} s for the till's "
            "login screen"
        )
        return self.settle()

    def _clear_ready(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.ready_file.unlink()

    def wait_ready(self) -> bool:
        deadline = self.clock() + self.ready_timeout
        while True:
            if self.ready_file.exists():
                return True
            if self.service.failed() or self.clock() >= deadline:
                return False
            self.sleep(self.poll)

    def settle(self) -> Outcome:
        """Confirm the release on trial, or go back to the previous one."""
        try:
            trial = json.loads(self.trial_file.read_text())
        except FileNotFoundError:
            current = self.current() or "none"
            return Outcome(current, "installed", "no release on trial")
        version, previous = trial["version"], trial["previous"]
        if self.current() != version:
            # Cut off before `current` switched: the old release never stopped being current.
            self.trial_file.unlink()
            return Outcome(version, "refused", f"the switch to {version} never happened")
        if self.wait_ready():
            self.trial_file.unlink()
            fsync_dir(self.dir)
            self.prune()
            self.log(f"{version} reached its login screen: update done")
            return Outcome(version, "installed", f"{version} reached its login screen")
        self.log(f"{version} did not reach its login screen: going back to {previous}")
        self.service.stop()
        self._clear_ready()
        self._set_link(self.current_link, previous)
        failed = self.failed_versions()
        if version not in failed:
            self._write_json(self.failed_file, [*failed, version])
        self.trial_file.unlink()
        fsync_dir(self.dir)
        self.service.start()
        return Outcome(
            version, "rolled back", f"{version} did not reach its login screen; back on {previous}"
        )

    def prune(self) -> None:
        keep = {self.current(), self.previous()}
        for version in self.installed():
            if version not in keep:
                shutil.rmtree(self.dir / version)
        for stale in self.dir.glob(".staging-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def rollback(self) -> str:
        """Go back to the previous release by hand (`kasir-update rollback`)."""
        previous, current = self.previous(), self.current()
        if previous is None or not (self.dir / previous / ".complete").is_file():
            raise UpdateError("there is no previous release to go back to")
        self.service.stop()
        self._clear_ready()
        self._set_link(self.current_link, previous)
        self._set_link(self.previous_link, current)
        self.service.start()
        return previous

    # bundles offered

    def install_incoming(self, keys: Sequence, incoming: Path | None = None) -> list[Outcome]:
        """Install the newest acceptable bundle waiting in updates/incoming; every bundle is
        then removed, and the outcome written to updates/last.json."""
        incoming = incoming or self.data_dir / "updates" / "incoming"
        bundles = sorted(incoming.glob("*" + BUNDLE_SUFFIX)) if incoming.is_dir() else []
        outcomes: list[Outcome] = []
        try:
            candidates = []
            for bundle in bundles:
                try:
                    manifest = verify_bundle(bundle, keys)
                    candidates.append((parse_version(manifest.version), bundle))
                except UpdateError as exc:
                    outcomes.append(Outcome(bundle.name, "refused", str(exc)))
            for _, bundle in sorted(candidates, reverse=True):
                try:
                    outcomes.append(self.install(bundle, keys))
                    break
                except UpdateError as exc:
                    outcomes.append(Outcome(bundle.name, "refused", str(exc)))
        finally:
            # Looked at once: a bad bundle stays refused, an older one is never wanted later.
            for bundle in bundles:
                bundle.unlink(missing_ok=True)
        if outcomes:
            last = self.data_dir / "updates" / "last.json"
            last.parent.mkdir(parents=True, exist_ok=True)
            self._write_json(last, [o.as_dict() for o in outcomes])
        return outcomes


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- Debian security updates --------------------------------------------------------------------

_INST = re.compile(r"^Inst (\S+) \[[^\]]*\] \((\S+) ([^\[]*)\[")


def security_upgrades(simulation: str) -> list[str]:
    """Installed packages that `apt-get -s dist-upgrade` would upgrade from the security
    suite. Point-release updates wait for the owner; security fixes do not."""
    found = []
    for line in simulation.splitlines():
        match = _INST.match(line)
        if match and any(
            origin.strip().split("/")[-1].endswith("-security")
            for origin in match.group(3).split(",")
        ):
            found.append(match.group(1))
    return found


def security_update(
    run: Callable = subprocess.run,
    *,
    chroot_dir: str = "/run/kasir-maintenance",
    log: Callable[[str], None] = print,
) -> str:
    """Debian security updates on the read-only root, in the nightly window.

    The root and boot partitions are remounted read-write for this only. apt runs in a chroot
    of a plain bind mount of / (which shows the disk's own /var, not the tmpfs mounted over
    parts of it), so packages see their real state files. Returns "unchanged" (root read-only
    again) or "reboot": after an upgrade the old files are still open in running programs, so
    the root cannot go back to read-only before a reboot, which also starts the new code."""

    def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = run(list(command), capture_output=True, text=True)
        if check and result.returncode != 0:
            raise UpdateError(
                f"{' '.join(command)} failed: {(result.stderr or result.stdout).strip()[-400:]}"
            )
        return result

    def apt(*args: str) -> subprocess.CompletedProcess:
        return sh("chroot", chroot_dir, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *args)

    mounted: list[str] = []
    sh("mount", "-o", "remount,rw", "/")
    changed = still_rw = False
    try:
        sh("mount", "-o", "remount,rw", "/boot/firmware")
        sh("mkdir", "-p", chroot_dir)
        for source, target, kind in (
            ("/", chroot_dir, "--bind"),
            ("/boot/firmware", f"{chroot_dir}/boot/firmware", "--bind"),
            ("/dev", f"{chroot_dir}/dev", "--rbind"),
            ("/proc", f"{chroot_dir}/proc", "--bind"),
            ("/sys", f"{chroot_dir}/sys", "--bind"),
            ("/run", f"{chroot_dir}/run", "--bind"),
        ):
            sh("mount", kind, source, target)
            mounted.append(target)
        apt("update", "-q")
        packages = security_upgrades(apt("-s", "dist-upgrade").stdout)
        if packages:
            log(f"security updates: {', '.join(packages)}")
            apt(
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "-o",
                "Dpkg::Options::=--force-confold",
                *packages,
            )
            changed = True
        apt("clean")
    finally:
        for target in reversed(mounted):
            sh("umount", "-R", target, check=False)
        sh("sync", check=False)
        sh("mount", "-o", "remount,ro", "/boot/firmware", check=False)
        if not changed:
            still_rw = sh("mount", "-o", "remount,ro", "/", check=False).returncode != 0
    if changed or still_rw:
        log("security updates installed: rebooting so that they take effect")
        return "reboot"
    log("no security updates tonight")
    return "unchanged"


# -- command line --------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kasir-update", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=DATA_DIR)
    p.add_argument("--keys-dir", type=Path, default=KEYS_DIR)
    p.add_argument("--config", type=Path, default=CONFIG)
    p.add_argument("--python", default="/usr/bin/python3", help="makes the release venvs")
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, help="seconds to login screen")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("install", help="verify and install a bundle, then try it")
    s.add_argument("bundle", type=Path)
    s.add_argument("--force", action="store_true", help="also a version rolled back before")
    sub.add_parser("incoming", help="install the newest bundle in updates/incoming")
    sub.add_parser("guard", help="at boot: settle a release left on trial")
    s = sub.add_parser("verify", help="check a bundle's signature and files only")
    s.add_argument("bundle", type=Path)
    sub.add_parser("rollback", help="go back to the previous release")
    sub.add_parser("status", help="releases installed, current, previous, on trial")
    sub.add_parser("security", help="Debian security updates (root read-write meanwhile)")
    args = p.parse_args(list(argv) if argv is not None else None)
    releases = Releases(args.data_dir, python=args.python, ready_timeout=args.timeout)
    try:
        if args.command == "status":
            print(f"current:  {releases.current()}")
            print(f"previous: {releases.previous()}")
            print(f"installed: {', '.join(releases.installed()) or 'none'}")
            if releases.trial_file.exists():
                print(f"on trial: {releases.trial_file.read_text().strip()}")
            failed = releases.failed_versions()
            print(f"rolled back before: {', '.join(failed) or 'none'}")
            return 0
        if args.command == "security":
            if security_update() == "reboot":
                subprocess.run(["systemctl", "reboot"], check=False)
            return 0
        if args.command == "guard":
            outcome = releases.settle()
            print(outcome.message)
            return 0
        if args.command == "rollback":
            print(f"back on {releases.rollback()}")
            return 0
        keys = trusted_keys(args.keys_dir, args.config)
        if args.command == "verify":
            manifest = verify_bundle(args.bundle, keys)
            print(f"{args.bundle.name}: kasir {manifest.version}, signature and files good")
            return 0
        if args.command == "install":
            outcome = releases.install(args.bundle, keys, force=args.force)
            print(outcome.message)
            return 0 if outcome.state == "installed" else 1
        if args.command == "incoming":
            outcomes = releases.install_incoming(keys)
            for outcome in outcomes:
                print(f"{outcome.version}: {outcome.state}: {outcome.message}")
            return 1 if any(o.state == "rolled back" for o in outcomes) else 0
    except UpdateError as exc:
        print(f"kasir-update: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
