"""Till releases the OMS offers: signed bundles made by `image/make_bundle.py`, stored in the
OMS's data directory and offered to each till whose heartbeat reports an older version.

    $ kasir-oms release add dist/kasir-0.2.0.bundle
    release 0.2.0 stored as kasir-0.2.0.bundle (48213504 bytes, sha256 3f1c9a0b2e4d...)
    $ kasir-oms release list
    $ kasir-oms release withdraw 0.2.0

    >>> offer_for("0.1.0")                                        # doctest: +SKIP
    ReleaseOffer(version='0.2.0', sha256='3f1c...', size=48213504, url='/api/v1/sync/releases/0.2.0')

A bundle is a tar of `manifest.json` (name, version, the wheels' digests), `manifest.sig` and
`wheels/*.whl`. The OMS reads the manifest only to learn the version, and checks that a
signature is there; it does NOT verify the signature: it holds no release keys, the tills do
(`appliance/update.py` refuses a bundle no trusted key signed, whatever the OMS said). The
sha256 and size recorded here only let a till tell a download that went wrong in transit.

Versions are the PEP 440 forms the till's updater accepts (1.2.3, 1.2.3rc1, 1.2.3.post1,
1.2.3.dev4; no epochs or local versions), compared the way it compares them: a version the till
would refuse is refused here, at `release add`, rather than offered to every till in vain.
The offer is the newest active release, when it is newer than the till's own version; a
withdrawn release is no longer offered or served (its row and file stay, for the record).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path

from peewee import IntegrityError

from retail import versions
from retail.ids import utcnow
from retail.schema import ReleaseOffer

from . import db as dbmod
from .models.releases import Release

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RELEASES_SUBDIR = "releases"
DOWNLOAD_PATH = "/api/v1/sync/releases/{version}"
MAX_MANIFEST = 1 << 20  # a manifest lists some dozens of wheels: a few KiB
MAX_VERSION = 40  # what a till reports in its heartbeat and the OMS keeps


class ReleaseError(ValueError):
    """A bundle or a release command refused; the message names what is wrong."""


def version_key(text: str) -> tuple:
    """A sortable key for a release version (`retail.versions`); ReleaseError for any other
    text."""
    try:
        return versions.version_key(text)
    except versions.VersionError as exc:
        raise ReleaseError(str(exc)) from None


def is_older(version: str | None, than: str) -> bool:
    """Whether a till reporting `version` runs something older than release `than`. A version
    that is not a release version (a developer's build) is never called older: offering it a
    release would replace whatever it is."""
    if not version:
        return False
    try:
        return version_key(version) < version_key(than)
    except ReleaseError:
        return False


# -- bundles ----------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    """The bundle's manifest.json, checked for what the OMS relies on (name and version) and
    for a signature being present; ReleaseError naming the problem otherwise."""
    try:
        with tarfile.open(path, "r:") as tar:
            members = {m.name: m for m in tar.getmembers()}
            for name in (MANIFEST, SIGNATURE):
                if name not in members or not members[name].isfile():
                    raise ReleaseError(f"{path.name}: {name} is missing: not a Kasir bundle")
            if members[MANIFEST].size > MAX_MANIFEST:
                raise ReleaseError(f"{path.name}: {MANIFEST} is {members[MANIFEST].size} bytes")
            raw = tar.extractfile(members[MANIFEST]).read()
    except FileNotFoundError:
        raise ReleaseError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReleaseError(f"{path}: is a directory, not a bundle file") from None
    except tarfile.TarError as exc:
        raise ReleaseError(f"{path.name}: not a bundle: not an uncompressed tar ({exc})") from None
    except OSError as exc:
        raise ReleaseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path.name}: {MANIFEST} is not JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ReleaseError(f"{path.name}: {MANIFEST} should hold a JSON object")
    name = manifest.get("name")
    if name != "kasir":
        raise ReleaseError(f"{path.name}: {MANIFEST}: name {name!r} is not kasir")
    version = manifest.get("version")
    if not isinstance(version, str) or not version:
        raise ReleaseError(f"{path.name}: {MANIFEST}: version is missing")
    try:
        version_key(version)
    except ReleaseError as exc:
        raise ReleaseError(f"{path.name}: {MANIFEST}: {exc}") from None
    if len(version) > MAX_VERSION:
        raise ReleaseError(
            f"{path.name}: {MANIFEST}: version {version!r} is longer than {MAX_VERSION} characters"
        )
    return manifest


def _copy_hashed(source: Path, directory: Path) -> tuple[Path, str, int]:
    """Copy `source` to a temporary file in `directory`, fsynced: (its path, sha256, size).
    Digest and size are of the bytes written, so they describe the stored file even if the
    source changes meanwhile."""
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(prefix=".adding-", suffix=".part", dir=directory)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def releases_dir(files_dir: Path) -> Path:
    return Path(files_dir) / RELEASES_SUBDIR


def add(bundle: Path, files_dir: Path) -> Release:
    """Store a bundle and offer it: the file is copied into `<files_dir>/releases/` and a row
    recorded. Nothing is stored when the bundle or its version is refused."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    version = manifest["version"]
    key = version_key(version)
    with dbmod.session():
        for other in Release.select(Release.version, Release.active):
            if version_key(other.version) == key:
                state = "offered" if other.active else "withdrawn"
                raise ReleaseError(
                    f"version {version}: release {other.version} is already stored ({state})"
                )
    directory = releases_dir(files_dir)
    filename = f"kasir-{version}.bundle"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp, sha256, size = _copy_hashed(bundle, directory)
    except OSError as exc:
        raise ReleaseError(f"copying {bundle} into {directory}: {exc.strerror or exc}") from None
    try:
        with dbmod.session(), dbmod.atomic():
            release = Release.create(
                version=version, filename=filename, sha256=sha256, size=size, added_at=utcnow()
            )
            # Renamed inside the transaction: a second `release add` of this version that
            # lost the race for the row fails above and never touches the winner's file.
            os.replace(tmp, directory / filename)
        _fsync_dir(directory)
    except IntegrityError:
        raise ReleaseError(f"version {version}: already stored (added meanwhile)") from None
    except OSError as exc:
        raise ReleaseError(f"storing {directory / filename}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return release


def listing() -> list[Release]:
    """Every stored release, newest version first."""
    with dbmod.session():
        rows = list(Release.select())
    return sorted(rows, key=lambda r: version_key(r.version), reverse=True)


def withdraw(version: str) -> Release:
    with dbmod.session(), dbmod.atomic():
        release = Release.get_or_none(Release.version == version)
        if release is None:
            known = ", ".join(r.version for r in Release.select(Release.version)) or "none"
            raise ReleaseError(f"version {version}: no such release (stored: {known})")
        if not release.active:
            raise ReleaseError(f"version {version}: already withdrawn")
        Release.update(active=False).where(Release.id == release.id).execute()
        release.active = False
    return release


# -- what tills are offered ---------------------------------------------------------------------


def newest_active() -> Release | None:
    """The release tills are offered (call inside a database session)."""
    active = list(Release.select().where(Release.active == True))  # noqa: E712 - SQL
    return max(active, key=lambda r: version_key(r.version), default=None)


def offer_for(running: str | None) -> ReleaseOffer | None:
    """What a till running `running` is offered: the newest active release when it is newer
    (call inside a database session)."""
    newest = newest_active()
    if newest is None or not is_older(running, newest.version):
        return None
    return ReleaseOffer(
        version=newest.version,
        sha256=newest.sha256,
        size=newest.size,
        url=DOWNLOAD_PATH.format(version=newest.version),
    )


def active(version: str) -> Release | None:
    """The active release `version`, for the download route; None when it is unknown or
    withdrawn (call inside a database session)."""
    return Release.get_or_none((Release.version == version) & (Release.active == True))  # noqa: E712
