"""Shared OMS fixtures: real databases (SQLite file and PostgreSQL) and a real uvicorn server.

    def test_health(oms_server):                 # once per backend: sqlite, postgres
        with oms_server.client() as http:
            assert http.get("/health").json()["status"] == "ok"

    def test_model(oms_db):                      # fresh migrated database, bound to cloud_oms.db.db
        Store.create(...)

Fixtures
- `oms_backend` (module): "sqlite" or "postgres"; every fixture below is parametrised by it, so a
  module's tests run once against each backend. PostgreSQL tests carry the `postgres` marker.
- `oms_server` (module): a fresh migrated database and `uvicorn cloud_oms.api.app:create_app`
  in a subprocess on a free 127.0.0.1 port. Its `.url`, `.database_url`, `.client()` (httpx) and
  `.bind()` (binds `cloud_oms.db.db` in this process to the server's database, for seeding and
  for checking rows) serve the tests. One server per test module; the database is dropped after.
  `.enrol(store_code)` makes a store (if missing) and an enrolled terminal, returning the
  enrolment answer with its `token`.
- `oms_url` (module): `oms_server.url`.
- `oms_db` (function): a fresh migrated database per test, bound to `cloud_oms.db.db` for the
  test's duration. Cheap: copied from a template migrated once per session (a file copy on
  SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL).
- `fresh_database(backend)` (function, also importable): a context manager yielding the URL of
  a new migrated database that is dropped on exit — for tests that need more than one.

PostgreSQL is `postgresql://postgres@127.0.0.1:5432/` unless `KASIR_TEST_PG` names another
server (any database on it; the fixtures create `kasir_t_<random>` databases next to it).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
REPO = Path(__file__).resolve().parents[2]
# pytest runs with --import-mode=importlib: put the repo and this directory's helper modules
# (oms_events, ...) on the path for the test modules to import.
for _path in (str(REPO), str(Path(__file__).parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# importable once tests/oms is on the path; test modules import these from here too
from oms_process import (  # noqa: E402, F401
    TEST_SECRET,
    OmsProcess,
    free_port,
    pg_create,
    pg_drop,
)

# --- databases --------------------------------------------------------------------------------


def migrate_url(database_url: str) -> None:
    """Apply every migration to the database at `database_url` (in this process)."""
    from cloud_oms import db as oms_db
    from cloud_oms import migrations

    database = oms_db.open_database(database_url)
    try:
        migrations.migrate(database)
    finally:
        database.close()


class _Templates:
    """One migrated database per backend per session; fresh ones are copies of it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kasir-oms-test-"))
        self.sqlite: Path | None = None
        self.pg: str | None = None

    def fresh(self, backend: str) -> tuple[str, callable]:
        """(database_url, drop) for a new migrated database."""
        if backend == "sqlite":
            if self.sqlite is None:
                path = self.dir / "template.sqlite3"
                migrate_url(f"sqlite:///{path}")
                self.sqlite = path
            target = self.dir / f"oms-{uuid.uuid4().hex[:12]}.sqlite3"
            shutil.copyfile(self.sqlite, target)

            def drop() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)

            return f"sqlite:///{target}", drop
        if backend == "postgres":
            if self.pg is None:
                name = f"kasir_t_tmpl_{uuid.uuid4().hex[:10]}"
                migrate_url(pg_create(name))
                self.pg = name
            name = f"kasir_t_{uuid.uuid4().hex[:12]}"
            url = pg_create(name, template=self.pg)
            return url, lambda: pg_drop(name)
        raise ValueError(f"unknown backend {backend!r}")

    def close(self) -> None:
        if self.pg:
            pg_drop(self.pg)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def _oms_templates() -> Iterator[_Templates]:
    templates = _Templates()
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def fresh_database(_oms_templates):
    """`with fresh_database("postgres") as url:` a new migrated database, dropped on exit."""

    @contextlib.contextmanager
    def make(backend: str) -> Iterator[str]:
        url, drop = _oms_templates.fresh(backend)
        try:
            yield url
        finally:
            drop()

    return make


@pytest.fixture(scope="module", params=BACKENDS)
def oms_backend(request) -> str:
    return request.param


@contextlib.contextmanager
def bound(database_url: str) -> Iterator[object]:
    """Bind `cloud_oms.db.db` in this process to `database_url` for the block."""
    from cloud_oms import db as oms_db

    database = oms_db.connect(database_url)
    try:
        yield database
    finally:
        oms_db.disconnect()


@pytest.fixture
def oms_db(oms_backend, fresh_database) -> Iterator[object]:
    """A fresh migrated database bound to `cloud_oms.db.db` (the peewee Database is yielded)."""
    with fresh_database(oms_backend) as url, bound(url) as database:
        database.url = url
        yield database


# --- a real server ----------------------------------------------------------------------------


class OmsServer(OmsProcess):
    """The OMS web service on a fresh database of `backend`, with what tests do to it."""

    def __init__(self, database_url: str, backend: str, log_dir: Path, workers: int = 1) -> None:
        port = free_port()
        log_path = Path(log_dir) / f"uvicorn-{port}.log"
        super().__init__(database_url, log_path, workers=workers, port=port)
        self.backend = backend

    def bind(self):
        """Context manager: `cloud_oms.db.db` bound to the server's database in this process."""
        return bound(self.database_url)

    def enrol(self, store_code: str = "JKT1", name: str = "Kasir") -> dict:
        """A new enrolled terminal of `store_code` (the store is created when missing): the
        enrolment answer, with `token` for `client(token=...)`."""
        from cloud_oms import admin
        from cloud_oms.models.core import Store

        with self.bind():
            if Store.get_or_none(Store.code == store_code) is None:
                admin.add_store(store_code, f"Toko {store_code}")
            _, code = admin.add_terminal(store_code, name)
        with self.client() as http:
            answer = http.post("/api/v1/terminals/enrol", json={"code": code, "name": name})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def oms_server(oms_backend, fresh_database, tmp_path_factory) -> Iterator[OmsServer]:
    with fresh_database(oms_backend) as url:
        server = OmsServer(url, oms_backend, tmp_path_factory.mktemp("oms-server")).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def oms_url(oms_server) -> str:
    return oms_server.url
