"""Real signed release bundles, cheaply: `image/make_bundle.py`'s `write_bundle` over the small
fake kasir wheel of tests/image/test_update.py (no project wheel build, no download)."""

from __future__ import annotations

from pathlib import Path

from image import make_bundle
from tests.image.test_update import fake_wheel


def bundle_file(directory: Path, version: str, key) -> Path:
    """`directory/kasir-VERSION.bundle`, signed with `key` (an Ed25519PrivateKey)."""
    wheels = directory / f"wheels-{version}"
    wheels.mkdir(parents=True)
    fake_wheel(wheels, version, "good")
    return make_bundle.write_bundle(
        wheels,
        version,
        key,
        directory / f"kasir-{version}.bundle",
        requirements=(f"kasir[till]=={version}",),
    )
