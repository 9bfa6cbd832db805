"""Till releases at the OMS: `kasir-oms release add/list/withdraw` on real bundles, the offer
in the heartbeat answer and the download route, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from conftest import TEST_SECRET, OmsServer, bound, free_port
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from peewee import IntegrityError
from release_bundles import bundle_file

from cloud_oms import releases
from cloud_oms.cli import main
from cloud_oms.models.releases import Release


def tar_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def manifest(**fields) -> bytes:
    return json.dumps({"format": 1, "name": "kasir", "version": "0.2.0", **fields}).encode()


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def oms(oms_backend, fresh_database, tmp_path, monkeypatch):
    monkeypatch.delenv("KASIR_OMS_DATA_DIR", raising=False)
    with fresh_database(oms_backend) as url:
        yield SimpleNamespace(url=url, data=tmp_path / "oms-data", backend=oms_backend)


def kasir_oms(oms, capsys, *args, data_dir: bool = True):
    """`kasir-oms` (main() in this process): (exit status, stdout, stderr)."""
    options = ["--database-url", oms.url]
    if data_dir:
        options += ["--data-dir", str(oms.data)]
    status = main([*options, *args])
    out, err = capsys.readouterr()
    return status, out, err


def stored(oms) -> tuple[list[str], list[str]]:
    """(release rows' versions, files in the releases directory, hidden ones included)."""
    with bound(oms.url):
        versions = sorted(r.version for r in Release.select())
    directory = oms.data / "releases"
    files = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    return versions, files


def test_add_list_withdraw(oms, capsys, tmp_path, key):
    old = bundle_file(tmp_path, "0.2.0", key)
    new = bundle_file(tmp_path, "0.10.0", key)  # newer than 0.2.0, though not as text
    status, out, err = kasir_oms(oms, capsys, "release", "add", str(old))
    assert status == 0, err
    digest = hashlib.sha256(old.read_bytes()).hexdigest()
    assert f"release 0.2.0 stored as kasir-0.2.0.bundle ({old.stat().st_size} bytes" in out
    assert digest in out
    assert kasir_oms(oms, capsys, "release", "add", str(new))[0] == 0
    assert stored(oms) == (["0.10.0", "0.2.0"], ["kasir-0.10.0.bundle", "kasir-0.2.0.bundle"])
    assert (oms.data / "releases" / "kasir-0.2.0.bundle").read_bytes() == old.read_bytes()
    with bound(oms.url):
        row = Release.get(Release.version == "0.2.0")
        assert (row.sha256, row.size, row.active) == (digest, old.stat().st_size, True)

    status, out, _ = kasir_oms(oms, capsys, "release", "list")
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(v, state) for v, state, *_ in lines] == [("0.10.0", "offered"), ("0.2.0", "active")]
    assert lines[1][3] == digest

    status, out, _ = kasir_oms(oms, capsys, "release", "withdraw", "0.10.0")
    assert status == 0 and "release 0.10.0 withdrawn" in out
    out = kasir_oms(oms, capsys, "release", "list")[1]
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        ["0.10.0", "withdrawn"],
        ["0.2.0", "offered"],
    ]
    with bound(oms.url):
        assert releases.offer_for("0.1.0").version == "0.2.0"
        assert releases.offer_for("0.2.0") is None
    # The withdrawn release keeps its row and its file: it may still run on some till.
    assert stored(oms)[1] == ["kasir-0.10.0.bundle", "kasir-0.2.0.bundle"]

    status, _, err = kasir_oms(oms, capsys, "release", "withdraw", "0.10.0")
    assert status == 1 and "version 0.10.0: already withdrawn" in err
    status, _, err = kasir_oms(oms, capsys, "release", "withdraw", "9.9.9")
    assert status == 1 and "version 9.9.9: no such release (stored: " in err


def test_bad_bundles_are_refused_and_nothing_is_stored(oms, capsys, tmp_path, key):
    bad = tmp_path / "bad"
    bad.mkdir()
    text = bad / "notes.bundle"
    text.write_text("these are not the bytes you are looking for\n" * 20)
    gz = bad / "gzipped.bundle"
    gz.write_bytes(gzip.compress(bundle_file(tmp_path / "gz", "0.2.0", key).read_bytes()))
    sig = b"c2lnbmF0dXJl\n"
    cases = [
        (bad / "absent.bundle", "absent.bundle: no such file"),
        (bad, "is a directory, not a bundle file"),
        (text, "notes.bundle: not a bundle: not an uncompressed tar"),
        (gz, "gzipped.bundle: not a bundle: not an uncompressed tar"),
        (
            tar_of(bad / "nomanifest.bundle", {"manifest.sig": sig}),
            "nomanifest.bundle: manifest.json is missing",
        ),
        (
            tar_of(bad / "unsigned.bundle", {"manifest.json": manifest()}),
            "unsigned.bundle: manifest.sig is missing",
        ),
        (
            tar_of(bad / "json.bundle", {"manifest.json": b"{version", "manifest.sig": sig}),
            "json.bundle: manifest.json is not JSON",
        ),
        (
            tar_of(bad / "list.bundle", {"manifest.json": b"[]", "manifest.sig": sig}),
            "list.bundle: manifest.json should hold a JSON object",
        ),
        (
            tar_of(
                bad / "other.bundle",
                {"manifest.json": manifest(name="kassa"), "manifest.sig": sig},
            ),
            "other.bundle: manifest.json: name 'kassa' is not kasir",
        ),
        (
            tar_of(
                bad / "noversion.bundle",
                {"manifest.json": manifest(version=""), "manifest.sig": sig},
            ),
            "noversion.bundle: manifest.json: version is missing",
        ),
    ]
    for version in ("v1.0", "1.0-beta", "1.0+local", "1!2.0", "latest"):
        path = tar_of(
            bad / f"version-{len(cases)}.bundle",
            {"manifest.json": manifest(version=version), "manifest.sig": sig},
        )
        cases.append((path, f"manifest.json: version {version!r} is not a release version"))
    long = "1." + "0" * 39
    cases.append(
        (
            tar_of(
                bad / "long.bundle", {"manifest.json": manifest(version=long), "manifest.sig": sig}
            ),
            f"manifest.json: version {long!r} is longer than 40 characters",
        )
    )
    for path, message in cases:
        status, out, err = kasir_oms(oms, capsys, "release", "add", str(path))
        assert (status, out) == (1, ""), (path, out)
        assert err.startswith("kasir-oms release: ") and message in err, (message, err)
        assert stored(oms) == ([], []), message

    good = bundle_file(tmp_path / "good", "0.2.0", key)
    assert kasir_oms(oms, capsys, "release", "add", str(good))[0] == 0
    twice = bundle_file(tmp_path / "again", "0.2.0", key)
    same = bundle_file(tmp_path / "same", "0.2", key)  # the same version, written shorter
    for path in (twice, same):
        status, _, err = kasir_oms(oms, capsys, "release", "add", str(path))
        assert status == 1 and "release 0.2.0 is already stored (offered)" in err, err
    assert stored(oms) == (["0.2.0"], ["kasir-0.2.0.bundle"])
    assert (oms.data / "releases" / "kasir-0.2.0.bundle").read_bytes() == good.read_bytes()


def test_where_the_bundles_go_without_a_data_dir(oms, capsys, tmp_path, key):
    bundle = bundle_file(tmp_path, "0.2.0", key)
    status, out, err = kasir_oms(oms, capsys, "release", "add", str(bundle), data_dir=False)
    if oms.backend == "sqlite":
        assert status == 0, err
        beside = Path(oms.url.removeprefix("sqlite:///")).parent / "releases"
        try:
            assert (beside / "kasir-0.2.0.bundle").read_bytes() == bundle.read_bytes()
        finally:
            (beside / "kasir-0.2.0.bundle").unlink()
    else:
        assert status == 1 and out == ""
        assert "KASIR_OMS_DATA_DIR is not set" in err and "--data-dir" in err
        assert stored(oms) == ([], [])


def test_versions_order_as_the_till_updater_orders_them():
    ordered = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1", "1.10"]
    keys = [releases.version_key(v) for v in ordered]
    assert keys == sorted(keys) and len(set(map(repr, keys))) == len(keys)
    assert releases.version_key("1.0") == releases.version_key("1.0.0")
    assert releases.is_older("0.9", "1.0") and not releases.is_older("1.0", "1.0")
    # A developer's build or nothing at all is never offered a release.
    for running in ("", None, "dev", "1.0+local", "0.1.0-x"):
        assert not releases.is_older(running, "9.0")
    with pytest.raises(releases.ReleaseError, match=r"'1\.0 ' is not a release version"):
        releases.version_key("1.0 ")


# --- the heartbeat offer and the download, from a real server ------------------------------------


@pytest.fixture(scope="module")
def server(oms_backend, fresh_database, tmp_path_factory, key):
    """A real OMS with its own data directory, three releases stored (0.2.0, 0.3.0, and 0.4.0
    withdrawn), and an enrolled terminal."""
    root = tmp_path_factory.mktemp("release-oms")
    with fresh_database(oms_backend) as url:
        data = root / "data"
        bundles = {v: bundle_file(root, v, key) for v in ("0.2.0", "0.3.0", "0.4.0")}
        for bundle in bundles.values():
            assert main(["--database-url", url, "--data-dir", str(data), "release", "add",
                         str(bundle)]) == 0  # fmt: skip
        assert main(["--database-url", url, "release", "withdraw", "0.4.0"]) == 0
        server = OmsServer(url, oms_backend, root)
        server.env["KASIR_OMS_DATA_DIR"] = str(data)
        server.start()
        try:
            token = server.enrol("JKT1", "Kasir")["token"]
            yield SimpleNamespace(oms=server, token=token, data=data, bundles=bundles, url=url)
        finally:
            server.stop()


def beat(server, version: str) -> dict:
    body = {"version": version, "outbox_depth": 0, "last_seq": 0, "clock": "2026-01-01T00:00:00Z"}
    with server.oms.client(token=server.token) as http:
        answer = http.post("/api/v1/sync/heartbeat", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_heartbeat_offers_the_newest_active_release_to_older_tills(server):
    bundle = server.bundles["0.3.0"]
    assert beat(server, "0.1.0")["release"] == {
        "version": "0.3.0",
        "sha256": hashlib.sha256(bundle.read_bytes()).hexdigest(),
        "size": bundle.stat().st_size,
        "url": "/api/v1/sync/releases/0.3.0",
    }
    assert beat(server, "0.2.0")["release"]["version"] == "0.3.0"
    for running in ("0.3.0", "0.3", "0.4.0", "1.0", "not-a-version"):
        assert beat(server, running)["release"] is None, running


def test_a_terminal_downloads_an_active_release_and_nothing_else(server):
    with server.oms.client() as anonymous:
        refused = anonymous.get("/api/v1/sync/releases/0.3.0")
    assert refused.status_code == 401 and "Authorization" in refused.json()["detail"]
    with server.oms.client(token=server.token) as http:
        got = http.get("/api/v1/sync/releases/0.3.0")
        assert got.status_code == 200
        assert got.content == server.bundles["0.3.0"].read_bytes()
        assert got.headers["content-type"] == "application/x-tar"
        assert got.headers["x-kasir-sha256"] == hashlib.sha256(got.content).hexdigest()
        for version, why in (("0.4.0", "withdrawn"), ("9.9.9", "unknown")):
            missing = http.get(f"/api/v1/sync/releases/{version}")
            assert missing.status_code == 404, why
            assert missing.json()["detail"] == (
                f"release {version}: not offered (unknown or withdrawn)"
            )
        assert http.get("/api/v1/sync/releases/..%2Fsecret").status_code in (404, 422)


def test_a_release_whose_file_went_missing_is_a_clear_404(server):
    stored_file = server.data / "releases" / "kasir-0.2.0.bundle"
    kept = stored_file.read_bytes()
    stored_file.unlink()
    try:
        with server.oms.client(token=server.token) as http:
            gone = http.get("/api/v1/sync/releases/0.2.0")
        assert gone.status_code == 404
        assert gone.json()["detail"] == "release 0.2.0: its file is missing on the OMS"
        assert "release 0.2.0 cannot be served: file " in server.oms.log()
    finally:
        stored_file.write_bytes(kept)


def test_the_schema_allows_one_row_per_version(server):
    with bound(server.url), pytest.raises(IntegrityError):
        Release.create(version="0.2.0", filename="x.bundle", sha256="0" * 64, size=1)


def test_serve_hands_its_data_dir_to_the_web_workers(oms, capsys, tmp_path, key, monkeypatch):
    """`kasir-oms --data-dir DIR serve`: the workers serve the bundles `release add` put in
    DIR, though nothing else names it."""
    bundle = bundle_file(tmp_path, "0.2.0", key)
    assert kasir_oms(oms, capsys, "release", "add", str(bundle))[0] == 0
    port = free_port()
    script = Path(sys.executable).with_name("kasir-oms")
    env = {**os.environ, "DATABASE_URL": oms.url, "KASIR_OMS_SECRET": TEST_SECRET}
    env.pop("KASIR_OMS_DATA_DIR", None)
    proc = subprocess.Popen(
        [str(script), "--data-dir", str(oms.data), "serve", "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        server = OmsServer(oms.url, oms.backend, tmp_path)
        server.port, server.url = port, f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(server.url + "/health", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "kasir-oms serve did not answer"
                time.sleep(0.1)
        token = server.enrol("JKT1", "Kasir")["token"]
        with server.client(token=token) as http:
            got = http.get("/api/v1/sync/releases/0.2.0")
        assert got.status_code == 200, got.text
        assert got.content == bundle.read_bytes()
    finally:
        proc.terminate()
        proc.wait(10)
