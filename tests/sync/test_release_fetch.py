"""A till fetches the release its OMS offers: `kasir sync` against a real OMS (SQLite and
PostgreSQL) with releases published by `kasir-oms release add`, the bundle landing in
updates/incoming for the updater, which then accepts it."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import __version__, outbox, release_fetch, sync, update
from appliance.config import Config
from appliance.enrol import enrol
from appliance.shifts import open_shift
from appliance.staff import StaffInfo
from appliance.store.db import open_store
from appliance.store.models import Staff
from cloud_oms.cli import main as kasir_oms
from cloud_oms.models.releases import Release
from retail.ids import uuid7
from retail.pins import hash_secret
from retail.schema import ReleaseOffer
from tests.appliance.tillkit import FAST
from tests.oms.conftest import OmsServer
from tests.oms.release_bundles import bundle_file
from tests.sync.tillrig import REPO, Proc, kasir_argv, till_env, wait_until

# Releases newer than the till (whatever its own version) have a major number far above it.
AHEAD = int(__version__.split(".")[0]) + 50


def newer(n: int) -> str:
    return f"{AHEAD}.0.{n}"


@pytest.fixture(scope="module")
def oms(oms_backend, fresh_database, tmp_path_factory):
    """A real OMS with a data directory for release bundles, and the key its bundles are
    signed with (the OMS never sees the key; the till's updater checks the signature)."""
    root = tmp_path_factory.mktemp("oms-releases")
    with fresh_database(oms_backend) as url:
        server = OmsServer(url, oms_backend, root)
        server.env["KASIR_OMS_DATA_DIR"] = str(root / "data")
        server.start()
        try:
            yield SimpleNamespace(
                server=server,
                url=url,
                data=root / "data",
                root=root,
                key=Ed25519PrivateKey.generate(),
            )
        finally:
            server.stop()


def publish(oms, version: str) -> Path:
    """`kasir-oms release add` of a fresh signed bundle; returns the bundle as made."""
    bundle = bundle_file(oms.root / f"made-{version}", version, oms.key)
    assert kasir_oms(["--database-url", oms.url, "--data-dir", str(oms.data), "release", "add",
                      str(bundle)]) == 0  # fmt: skip
    return bundle


def withdraw(oms, version: str) -> None:
    assert kasir_oms(["--database-url", oms.url, "release", "withdraw", version]) == 0


@pytest.fixture
def till(oms, tmp_path):
    """A till enrolled at `oms` with a shift opened (so each first sync has events to send),
    and no release offered: whatever earlier tests published is withdrawn."""
    with oms.server.bind():
        Release.update(active=False).execute()
    database = open_store(tmp_path / "kasir.sqlite3")
    config = Config(env={}, cli={"till.data_dir": str(tmp_path)})
    config.attach_store()
    manager = StaffInfo(uuid7(), "Budi", "manager")
    Staff.create(
        id=manager.id, name=manager.name, role=manager.role, pin_hash=hash_secret("246810", **FAST)
    )
    open_shift(manager, 100_000, config)
    from cloud_oms import admin
    from cloud_oms.models.core import Store

    with oms.server.bind():
        if Store.get_or_none(Store.code == "JKT1") is None:
            admin.add_store("JKT1", "Toko JKT1")
        _, code = admin.add_terminal("JKT1", tmp_path.name[:60])
    enrol(config, tmp_path, oms.server.url, code, name="Kasir")
    yield SimpleNamespace(dir=tmp_path, config=config, incoming=tmp_path / "updates" / "incoming")
    database.close()


def sync_once(till) -> subprocess.CompletedProcess:
    """`kasir sync --once`, the real command in its own process."""
    done = subprocess.run(
        [*kasir_argv(), "--data-dir", str(till.dir), "sync", "--once"],
        env=till_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Uploaded" in done.stdout
    return done


def incoming(till) -> list[str]:
    """Every file in updates/incoming, hidden ones (partial downloads) included."""
    return sorted(p.name for p in till.incoming.iterdir()) if till.incoming.is_dir() else []


def test_an_older_till_fetches_the_newest_release_and_the_updater_accepts_it(oms, till, tmp_path):
    publish(oms, newer(1))  # active, but not the newest
    bundle = publish(oms, newer(2))
    publish(oms, newer(9))
    withdraw(oms, newer(9))  # newer still, but withdrawn

    sync_once(till)
    fetched = till.incoming / f"kasir-{newer(2)}.bundle"
    assert incoming(till) == [fetched.name]
    assert fetched.read_bytes() == bundle.read_bytes()
    assert outbox.depth()["pending"] == 0  # the shift went up in the same round

    # The updater's own check of what arrived: the signature with the release key, and every
    # wheel against the signed manifest (the updater's command line, as on the Pi).
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "release.pub").write_text(update.key_id(oms.key.public_key()) + "\n")
    argv = ["--data-dir", str(till.dir), "--keys-dir", str(keys), "--config", str(keys / "none")]
    assert update.main([*argv, "verify", str(fetched)]) == 0
    manifest = update.verify_bundle(fetched, update.trusted_keys(keys, None))
    assert manifest.version == newer(2)

    # Waiting in incoming: the next round does not fetch it again.
    before = fetched.stat()
    sync_once(till)
    assert incoming(till) == [fetched.name]
    assert (fetched.stat().st_ino, fetched.stat().st_mtime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
    )


def test_a_till_already_on_the_offered_version_fetches_nothing(oms, till):
    publish(oms, __version__)
    sync_once(till)
    assert incoming(till) == []


def test_a_withdrawn_release_is_not_fetched(oms, till):
    publish(oms, newer(3))
    withdraw(oms, newer(3))
    sync_once(till)
    assert incoming(till) == []


def test_a_release_rolled_back_or_installed_before_is_not_fetched_again(oms, till):
    # The updater's record of versions that did not reach their login screen.
    releases_dir = till.dir / "releases"
    releases_dir.mkdir()
    (releases_dir / "failed.json").write_text(json.dumps([newer(4)]))
    publish(oms, newer(4))
    sync_once(till)
    assert incoming(till) == []
    # A newer one is fetched all the same.
    publish(oms, newer(5))
    (releases_dir / newer(5)).mkdir()
    (releases_dir / newer(5) / ".complete").write_text(newer(5) + "\n")  # installed already
    sync_once(till)
    assert incoming(till) == []
    withdraw(oms, newer(5))
    withdraw(oms, newer(4))
    publish(oms, newer(6))
    sync_once(till)
    assert incoming(till) == [f"kasir-{newer(6)}.bundle"]


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_a_corrupted_download_leaves_nothing_and_says_why(oms, till, damage):
    version = newer(10 if damage == "flipped" else 11)
    publish(oms, version)
    stored = oms.data / "releases" / f"kasir-{version}.bundle"
    data = bytearray(stored.read_bytes())
    if damage == "flipped":  # the file changed behind the OMS's back, same size
        data[len(data) // 2] ^= 0xFF
        expected = f"release {version} not fetched: release {version}: sha256 mismatch"
    else:
        expected = (
            f"release {version} not fetched: release {version}: downloaded {len(data) - 100} "
            f"bytes, the OMS announced {len(data)}"
        )
        data = data[:-100]
    stored.write_bytes(bytes(data))

    done = sync_once(till)
    assert incoming(till) == []  # neither the bundle nor a partial download
    assert expected in done.stderr
    assert outbox.depth()["pending"] == 0  # the sales went up all the same


def test_a_failed_download_is_tried_again_later_not_every_round(oms, till, caplog):
    """In the long-running sync, the same failing offer is not downloaded again at every
    heartbeat: the wait doubles after each failure, and a good file is then fetched."""
    version = newer(12)
    publish(oms, version)
    stored = oms.data / "releases" / f"kasir-{version}.bundle"
    good = stored.read_bytes()
    stored.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    link = sync.SyncLink.from_store(till.config, till.dir)
    now = [1000.0]
    link.releases.clock = lambda: now[0]
    caplog.set_level(logging.INFO, logger="kasir.sync")

    def attempts() -> list[str]:
        return [r.getMessage() for r in caplog.records if f"release {version}" in r.getMessage()]

    link.round()
    assert len(attempts()) == 1 and "trying again in 60 s" in attempts()[0]
    link.round()
    assert len(attempts()) == 1  # too soon
    now[0] += 61
    link.round()
    assert len(attempts()) == 2 and "trying again in 120 s" in attempts()[1]
    stored.write_bytes(good)  # the owner put the right file back
    now[0] += 121
    link.round()
    assert attempts()[-1].startswith(f"release {version} fetched into ")
    assert (till.incoming / f"kasir-{version}.bundle").read_bytes() == good
    assert incoming(till) == [f"kasir-{version}.bundle"]


def test_the_sync_service_fetches_in_the_background(oms, till):
    """`kasir sync` as the Pi runs it: the bundle arrives while rounds go on."""
    bundle = publish(oms, newer(13))
    proc = Proc("sync", [*kasir_argv(), "--data-dir", str(till.dir), "sync"],
                till.dir / "sync.log", till_env(interval=1))  # fmt: skip
    proc.start()
    try:
        fetched = till.incoming / f"kasir-{newer(13)}.bundle"
        wait_until(fetched.exists, 60, "the bundle in updates/incoming", proc.log)
        assert fetched.read_bytes() == bundle.read_bytes()
        wait_until(lambda: "fetched into" in proc.log(), 10, "the fetch logged", proc.log)
    finally:
        assert proc.stop() == 0, proc.log()
    assert incoming(till) == [fetched.name]


def test_offers_the_till_cannot_use_are_passed_over_with_the_reason(tmp_path, caplog):
    """Never a download from another host (the till's token goes with it), nor of a version
    the updater could not order."""
    good = {"version": newer(1), "sha256": "a" * 64, "size": 10, "url": "/api/v1/sync/releases/x"}
    assert release_fetch.wanted_release({"release": good}, tmp_path) == ReleaseOffer(**good)
    assert release_fetch.wanted_release({"release": None}, tmp_path) is None
    caplog.set_level(logging.INFO, logger="kasir.sync")
    for change, reason in (
        ({"url": "https://elsewhere.example/kasir.bundle"}, "release offer ignored: url: "),
        ({"url": "//elsewhere.example/kasir.bundle"}, "release offer ignored: url: "),
        ({"sha256": "A" * 64}, "release offer ignored: sha256: "),
        ({"size": 0}, "release offer ignored: size: "),
        ({"version": "../../etc"}, "release offer ignored: version: "),
        ({"version": "1.0.x"}, "release offer 1.0.x ignored: version '1.0.x' is not a release"),
    ):
        caplog.clear()
        assert release_fetch.wanted_release({"release": {**good, **change}}, tmp_path) is None
        assert caplog.records, change
        assert caplog.records[0].getMessage().startswith(reason), caplog.text
    older = {**good, "version": "0.0.1"}
    assert release_fetch.wanted_release({"release": older}, tmp_path, running="0.1.0") is None
