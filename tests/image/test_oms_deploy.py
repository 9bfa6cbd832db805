"""docs/oms-deploy.md, followed by a script: the project's wheel with the oms extra installed
into a fresh venv, migrated, served on a loopback port, answering /health; then a backup with
deploy/backup.sh. On SQLite and on the local PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from image import make_bundle

pytestmark = pytest.mark.slow
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PG = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="module")
def oms_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("oms-deploy")
    wheel = make_bundle.build_project_wheel(work / "dist")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", f"{wheel}[oms]"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_check(venv: Path, database_url: str, workdir: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "KASIR_OMS_SECRET": "s" * 40}
    migrated = subprocess.run(
        [str(venv / "bin/kasir-oms"), "migrate"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "schema version" in migrated.stdout
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin/kasir-oms"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    return json.loads(r.read())
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.poll() is not None else ""
                    pytest.fail(f"kasir-oms serve did not answer /health: {output[-2000:]}")
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_fresh_venv_serves_health_on_sqlite_and_backs_up(oms_venv, tmp_path):
    database = tmp_path / "oms.sqlite3"
    health = serve_and_check(oms_venv, f"sqlite:///{database}", tmp_path)
    assert health["status"] == "ok" and health["schema_version"] >= 1
    # The kasir-oms CLI in the venv is the one the systemd unit runs.
    assert (oms_venv / "bin/kasir-oms").exists()
    backups = tmp_path / "backups"
    done = subprocess.run(
        [str(DEPLOY / "backup.sh"), str(backups)],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (copy,) = backups.glob("kasir-oms-*.sqlite3")
    import sqlite3

    with sqlite3.connect(copy) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 5


@pytest.mark.postgres
def test_fresh_venv_serves_health_on_postgresql_and_backs_up(oms_venv, tmp_path):
    name = f"kasir_deploy_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        url = f"{PG}/{name}"
        health = serve_and_check(oms_venv, url, tmp_path)
        assert health["status"] == "ok"
        done = subprocess.run(
            [str(DEPLOY / "backup.sh"), str(tmp_path / "backups")],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        (dump,) = (tmp_path / "backups").glob("kasir-oms-*.dump")
        listing = subprocess.run(
            ["pg_restore", "--list", str(dump)], capture_output=True, text=True
        )
        assert "TABLE" in listing.stdout
    finally:
        subprocess.run(
            ["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
            check=False,
        )


def test_backup_refuses_an_unknown_database_url(tmp_path):
    done = subprocess.run(
        [str(DEPLOY / "backup.sh"), str(tmp_path)],
        env={**os.environ, "DATABASE_URL": "mysql://x"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "not a postgresql:// or sqlite:///" in done.stderr
