"""Make signed Kasir release bundles for the till's updater (appliance/update.py).

    $ python3 image/make_bundle.py keygen keys/kasir-release         # once; keep .key offline
    $ python3 image/make_bundle.py make --key keys/kasir-release.key --out dist/
    dist/kasir-0.2.0.bundle: 38 wheels, signed by key 3Wd0...

`make` builds the project's wheel, downloads the aarch64 wheels it needs for Python 3.11
(Kivy's among them) from PyPI, and writes a tar of `manifest.json`, its signature and the
wheels. The till installs it with `python3 -m appliance.update install FILE`, or takes it from
/var/lib/kasir/updates/incoming/ where `kasir sync` puts the bundles its OMS offers.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appliance.update import FORMAT, MANIFEST, SIGNATURE, WHEELS, key_id

PROJECT = Path(__file__).resolve().parent.parent
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.11"
EXTRAS = "till"
# Kivy is not in the till extra (a desktop developer installs it from their distribution or
# PyPI as they like); on the image it comes from PyPI's aarch64 wheel, at this version.
IMAGE_EXTRA_REQUIREMENTS = ("kivy==2.3.1",)


class BundleError(Exception):
    pass


def project_version(project: Path = PROJECT) -> str:
    data = tomllib.loads((project / "pyproject.toml").read_text())
    return data["project"]["version"]


def generate_key(prefix: Path) -> tuple[Path, Path]:
    """An ed25519 key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (base64)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = prefix.with_suffix(".key")
    public = prefix.with_suffix(".pub")
    private.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public.write_text(key_id(key.public_key()) + "\n")
    return private, public


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path}: not an ed25519 key")
    return key


def public_key_text(private_key) -> str:
    return key_id(private_key.public_key())


def build_project_wheel(out_dir: Path, project: Path = PROJECT) -> Path:
    """The project's wheel, built from a copy of the source so that the work tree gets no
    build/ or egg-info litter."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kasir-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (project / name).exists():
                shutil.copy2(project / name, src / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for package in ("retail", "appliance", "cloud_oms"):
            shutil.copytree(project / package, src / package, ignore=ignore)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-w",
                str(out_dir),
                str(src),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BundleError(f"building the project's wheel failed:\n{done.stderr[-2000:]}")
    wheels = sorted(out_dir.glob(f"kasir-{project_version(project)}-*.whl"))
    if not wheels:
        raise BundleError(f"no kasir wheel appeared in {out_dir}")
    return wheels[-1]


def download_wheels(project_wheel: Path, out_dir: Path, extra=IMAGE_EXTRA_REQUIREMENTS) -> None:
    """Every wheel the till needs on the Pi: aarch64, CPython 3.11, binary only."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "-q",
            "--only-binary=:all:",
            "--platform",
            PLATFORM,
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "-d",
            str(out_dir),
            f"{project_wheel}[{EXTRAS}]",
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BundleError(f"downloading the aarch64 wheels failed:\n{done.stderr[-2000:]}")


def write_bundle(
    wheels_dir: Path,
    version: str,
    private_key,
    out: Path,
    requirements: tuple[str, ...] | None = None,
) -> Path:
    """A bundle of every wheel in `wheels_dir`, its manifest signed with `private_key`."""
    wheels = sorted(wheels_dir.glob("*.whl"))
    if not any(w.name.startswith(f"kasir-{version}-") for w in wheels):
        raise BundleError(f"{wheels_dir} holds no kasir-{version} wheel")
    files = {}
    for wheel in wheels:
        files[f"{WHEELS}/{wheel.name}"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    manifest = {
        "format": FORMAT,
        "name": "kasir",
        "version": version,
        "requirements": list(
            requirements or (f"kasir[{EXTRAS}]=={version}", *IMAGE_EXTRA_REQUIREMENTS)
        ),
        "python": PYTHON_VERSION,
        "platform": PLATFORM,
        "files": files,
    }
    raw = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    signature = base64.b64encode(private_key.sign(raw)) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((MANIFEST, raw), (SIGNATURE, signature)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for wheel in wheels:
            info = tar.gettarinfo(str(wheel), arcname=f"{WHEELS}/{wheel.name}")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o644
            with open(wheel, "rb") as stream:
                tar.addfile(info, stream)
    os.replace(tmp, out)
    return out


def make(key_path: Path, out_dir: Path, project: Path = PROJECT, wheels_dir: Path | None = None):
    """Build the wheel, fetch the rest, sign: the whole `make` command."""
    key = load_private_key(key_path)
    version = project_version(project)
    with tempfile.TemporaryDirectory(prefix="kasir-wheels-") as tmp:
        wheels = wheels_dir or Path(tmp)
        project_wheel = build_project_wheel(wheels, project)
        download_wheels(project_wheel, wheels)
        return write_bundle(wheels, version, key, out_dir / f"kasir-{version}.bundle")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make_bundle.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("keygen", help="make a release key pair PREFIX.key + PREFIX.pub")
    s.add_argument("prefix", type=Path)
    s = sub.add_parser("make", help="build, fetch and sign a bundle of this project")
    s.add_argument("--key", type=Path, required=True, help="private key (PEM) to sign with")
    s.add_argument("--out", type=Path, default=Path("dist"), help="directory for the bundle")
    s = sub.add_parser("pack", help="sign a bundle of wheels already in a directory")
    s.add_argument("--key", type=Path, required=True)
    s.add_argument("--wheels", type=Path, required=True)
    s.add_argument("--version", required=True)
    s.add_argument("--out", type=Path, required=True, help="bundle file to write")
    args = p.parse_args(argv)
    try:
        if args.command == "keygen":
            private, public = generate_key(args.prefix)
            print(f"private key: {private} (keep it offline)")
            print(f"public key:  {public}: {public.read_text().strip()}")
            return 0
        if args.command == "make":
            bundle = make(args.key, args.out)
        else:
            bundle = write_bundle(args.wheels, args.version, load_private_key(args.key), args.out)
        key = public_key_text(load_private_key(args.key))
        with tarfile.open(bundle) as tar:
            count = sum(1 for m in tar.getmembers() if m.name.startswith(WHEELS + "/"))
        print(f"{bundle}: {count} wheels, signed by key {key[:8]}...")
        return 0
    except (BundleError, FileExistsError, FileNotFoundError) as exc:
        print(f"make_bundle: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
