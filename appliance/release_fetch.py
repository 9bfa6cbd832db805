"""Fetching the release the OMS offers, for the updater (`appliance/update.py`).

When a heartbeat answer offers a release newer than this one, the bundle is
downloaded to `<data dir>/updates/incoming/.kasir-<version>.bundle.part`, checked against the
offer's size and sha256, and renamed to `kasir-<version>.bundle`: the rename is what the
updater's path unit waits for (`appliance/update.py` then checks the signature and installs).
A release is not fetched again while its bundle waits there, once installed
(`releases/<version>/.complete`), or after it was rolled back (`releases/failed.json`). The
long-running `kasir sync` downloads in a thread of its own, so sales keep going up meanwhile;
a failed download is logged and tried again at a later heartbeat, waiting longer after each
failure of the same offer.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from retail import versions
from retail.schema import ReleaseOffer

from . import __version__, update
from .oms_client import OmsClient, OmsError

log = logging.getLogger("kasir.sync")

RELEASE_RETRY_S = 60.0  # after a failed download; doubles with each failure of the same offer
RELEASE_RETRY_MAX_S = 3600.0
# Left free beside a bundle: the till's store and logs share the data partition.
FREE_SPACE_MARGIN = 64 << 20


def incoming_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "updates" / "incoming"


def bundle_name(version: str) -> str:
    return f"kasir-{version}{update.BUNDLE_SUFFIX}"


def wanted_release(answer: dict, data_dir: Path, running: str = __version__) -> ReleaseOffer | None:
    """The release a heartbeat answer offers, when this till should fetch it: newer than the
    running version, not waiting in updates/incoming already, not installed already, and not
    rolled back before (the updater's releases/failed.json)."""
    raw = answer.get("release")
    if raw is None:
        return None
    try:
        offer = ReleaseOffer.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(x) for x in problem["loc"])
        log.warning("release offer ignored: %s: %s", where or "release", problem["msg"])
        return None
    try:
        if not versions.is_newer(offer.version, running):
            return None
    except versions.VersionError as exc:
        log.warning("release offer %s ignored: %s", offer.version, exc)
        return None
    if (incoming_dir(data_dir) / bundle_name(offer.version)).exists():
        return None
    releases = update.Releases(Path(data_dir))
    if (releases.dir / offer.version / ".complete").is_file():
        return None
    if offer.version in releases.failed_versions():
        log.info("release %s was rolled back on this till before: not fetched", offer.version)
        return None
    return offer


def fetch_release(client: OmsClient, data_dir: Path, offer: ReleaseOffer) -> Path:
    """Download `offer` into updates/incoming under a name the updater ignores, then rename it
    to the name it waits for. Raises OmsError or OSError; nothing is left behind then."""
    incoming = incoming_dir(data_dir)
    incoming.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(incoming).free
    if free < offer.size + FREE_SPACE_MARGIN:
        raise OSError(
            f"release {offer.version}: {offer.size} bytes to download but only {free} free in "
            f"{incoming}"
        )
    final = incoming / bundle_name(offer.version)
    part = incoming / f".{final.name}.part"
    for stale in incoming.glob(".*.part"):
        # Left by a download cut off with its process; only one download runs at a time.
        stale.unlink(missing_ok=True)
    client.download_release(offer, part)
    os.replace(part, final)
    update.fsync_dir(incoming)
    return final


class ReleaseFetcher:
    """Fetches the releases heartbeat answers offer, one at a time, inline or in a thread of
    its own (with a client of its own: a requests session is not shared between threads)."""

    def __init__(
        self,
        make_client: Callable[[], OmsClient],
        data_dir: Path,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.make_client = make_client
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.thread: threading.Thread | None = None
        # (version, sha256) -> (failures so far, clock time of the next try)
        self.failures: dict[tuple[str, str], tuple[int, float]] = {}

    def offered(self, answer: dict, background: bool = False) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        offer = wanted_release(answer, self.data_dir)
        if offer is None:
            return
        failed = self.failures.get((offer.version, offer.sha256))
        if failed is not None and self.clock() < failed[1]:
            return
        if background:
            self.thread = threading.Thread(
                target=self.fetch, args=(offer,), name="kasir-release-fetch", daemon=True
            )
            self.thread.start()
        else:
            self.fetch(offer)

    def fetch(self, offer: ReleaseOffer) -> Path | None:
        key = (offer.version, offer.sha256)
        try:
            with self.make_client() as client:
                path = fetch_release(client, self.data_dir, offer)
        except (OmsError, OSError) as exc:
            count = self.failures.get(key, (0, 0.0))[0] + 1
            wait = min(RELEASE_RETRY_MAX_S, RELEASE_RETRY_S * 2 ** (count - 1))
            self.failures[key] = (count, self.clock() + wait)
            log.error(
                "release %s not fetched: %s; trying again in %.0f s at the earliest",
                offer.version,
                exc,
                wait,
            )
            return None
        self.failures.pop(key, None)
        log.info("release %s fetched into %s for the updater", offer.version, path)
        return path
