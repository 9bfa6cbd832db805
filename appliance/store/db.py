"""Opening the till's SQLite store.

    >>> from appliance.store.db import open_store
    >>> database = open_store("/var/lib/kasir/kasir.sqlite3")     # doctest: +SKIP

WAL with `synchronous=FULL`: a committed sale survives a power cut (NORMAL could lose the last
commits on a Pi whose SD card has no battery-backed cache); foreign keys on; a busy timeout so
that the uploader process and the till wait for each other instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path

from peewee import SqliteDatabase

from retail.tax import DEFAULT_TAX_CODES

from . import migrations
from .models import Counter, TaxCode, db

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -16000,
    "temp_store": "memory",
}

STORE_FILE = "kasir.sqlite3"


class StoreError(RuntimeError):
    pass


def store_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / STORE_FILE


def open_store(path: str | os.PathLike, *, migrate: bool = True) -> SqliteDatabase:
    """Open (creating if needed) the store, bring its schema up to date and bind the models."""
    path = Path(path)
    if not path.parent.is_dir():
        raise StoreError(f"data directory {path.parent} does not exist")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"{path}: permission denied — the till user must own its data directory")
    database = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    database.connect(reuse_if_open=True)
    db.initialize(database)
    if migrate:
        migrations.migrate(database)
        seed(database)
    return database


def seed(database: SqliteDatabase) -> None:
    """Rows every store needs: Indonesia's tax codes and the counters."""
    with database.atomic():
        for code in DEFAULT_TAX_CODES:
            TaxCode.insert(
                code=code.code,
                name=code.name,
                rate_bp=code.rate_bp,
                base_num=code.base_num,
                base_den=code.base_den,
                active=True,
            ).on_conflict_ignore().execute()
        for name in COUNTERS:
            Counter.insert(name=name, value=0).on_conflict_ignore().execute()


COUNTERS = ("outbox_seq", "receipt_seq", "training_receipt_seq", "z_number", "clock_high_ms")


def next_number(name: str) -> int:
    """The next value of a gap-free counter. Call inside the transaction that uses it: a
    rollback takes the number back with everything else."""
    cursor = db.execute_sql(
        "UPDATE counter SET value = value + 1 WHERE name = ? RETURNING value", (name,)
    )
    row = cursor.fetchone()
    if row is None:
        raise StoreError(f"counter {name!r} is missing from the store")
    return row[0]


def peek_number(name: str) -> int:
    row = db.execute_sql("SELECT value FROM counter WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


def raise_counter(name: str, at_least: int) -> None:
    """Continue a counter above a value (e.g. what the OMS accepted from a replaced till)."""
    db.execute_sql("UPDATE counter SET value = MAX(value, ?) WHERE name = ?", (at_least, name))
