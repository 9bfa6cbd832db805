"""The OMS database: one peewee `DatabaseProxy` bound at start-up to SQLite or PostgreSQL.

    >>> from cloud_oms.db import connect, atomic, db
    >>> connect("sqlite:///kasir-oms.sqlite3")                  # doctest: +SKIP
    >>> with atomic():                                          # doctest: +SKIP
    ...     row = locked(Counter, Counter.name == "invoice").get()

Every model binds to `db`. `connect(url)` opens the database named by a URL
(`sqlite:///path`, `postgresql://user@host:port/name`) and binds the proxy to it.

SQLite: WAL, foreign keys on, `synchronous=FULL`, a busy timeout, and every write transaction
begins IMMEDIATE — a deferred transaction that reads and then writes cannot wait for another
writer (SQLite answers "database is locked" at once), an immediate one queues behind it.

Connections are per thread (peewee's default): each web worker thread keeps one open between
requests (`session()`), and the app caps its thread pool, so a process holds at most
`KASIR_OMS_THREADS` connections. A transaction never spans threads: it begins and ends inside
one function call.
`locked(model, where)` reads rows with SELECT ... FOR UPDATE there; on SQLite the IMMEDIATE
transaction has already serialised writers, so a plain SELECT is as good.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from peewee import Database, DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 15000,
    "cache_size": -32000,
}


class DatabaseUrlError(ValueError):
    pass


def open_database(url: str) -> Database:
    """A peewee Database for `url`, not yet bound to the proxy."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise DatabaseUrlError(f"database URL {url!r}: expected sqlite:///path/to/file")
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise DatabaseUrlError(f"database URL {url!r}: directory {Path(path).parent} missing")
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    if scheme in ("postgres", "postgresql"):
        database = db_url.connect(url)
        if not isinstance(database, PostgresqlDatabase):
            raise DatabaseUrlError(f"database URL {url!r} did not open PostgreSQL")
        return database
    raise DatabaseUrlError(f"database URL {url!r}: scheme {scheme!r} is not sqlite or postgresql")


def connect(url: str) -> Database:
    """Open `url` and bind the proxy (and so every model) to it."""
    database = open_database(url)
    database.url = url
    db.initialize(database)
    return database


def disconnect() -> None:
    """Close this thread's connection and unbind the proxy."""
    if db.obj is not None:
        db.obj.close()
    db.initialize(None)


def is_postgres(database: Database | None = None) -> bool:
    database = database or db.obj
    return isinstance(database, PostgresqlDatabase)


def atomic():
    """A write transaction: BEGIN IMMEDIATE on SQLite (see module doc), plain on PostgreSQL.
    Nested calls become savepoints."""
    database = db.obj
    if isinstance(database, SqliteDatabase) and not database.in_transaction():
        return database.atomic("IMMEDIATE")
    return database.atomic()


def locked(model: type[Model], where):
    """`model` rows matching `where`, locked for the rest of the transaction on PostgreSQL."""
    query = model.select().where(where)
    if is_postgres():
        query = query.for_update()
    return query


@contextlib.contextmanager
def session() -> Iterator[Database]:
    """This thread's connection for the block: opened if needed, replaced if the server has
    dropped it (a PostgreSQL restart), and kept open afterwards for the thread's next request."""
    database = db.obj
    if not database.is_closed():
        conn = database.connection()
        if getattr(conn, "broken", False) or getattr(conn, "closed", False):
            database.close()
    database.connect(reuse_if_open=True)
    yield database
