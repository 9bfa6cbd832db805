"""A real OMS for tests and benchmarks: PostgreSQL databases made and dropped by name, and
`uvicorn cloud_oms.api.app:create_app --factory` in a subprocess on a loopback port.

    url = pg_create("kasir_t_x")                        # on KASIR_TEST_PG's server
    oms = OmsProcess(url, tmp / "oms.log").start()      # waits for /health
    with oms.client() as http: ...
    oms.stop(); oms.start()                             # restarts on the same port

A plain module (no pytest): the OMS fixtures (tests/oms/conftest.py) and bench/ both use it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
from psycopg import sql

PG_URL = os.environ.get("KASIR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = "test-secret-not-for-production-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def pg_url(name: str, server: str = PG_URL) -> str:
    """The URL of database `name` on the PostgreSQL server that `server` points at."""
    return urlunparse(urlparse(server)._replace(path="/" + name))


def _admin(statement: sql.Composable, server: str) -> None:
    with psycopg.connect(pg_url("postgres", server), autocommit=True) as conn:
        conn.execute(statement)


def pg_create(name: str, template: str | None = None, server: str = PG_URL) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    _admin(statement, server)
    return pg_url(name, server)


def pg_drop(name: str, server: str = PG_URL) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)), server)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OmsProcess:
    """The OMS web service (or another app factory, `app`) on a free 127.0.0.1 port,
    restartable on that port; its output is appended to `log_path`. `env` adds to or overrides
    the server's environment."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 1,
        secret: str = TEST_SECRET,
        port: int | None = None,
        app: str = "cloud_oms.api.app:create_app",
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_path = Path(log_path)
        self.workers = workers
        self.app = app  # an app factory, "module:function"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KASIR_OMS_SECRET": secret,
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0):
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, env=self.env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"OMS server did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)
