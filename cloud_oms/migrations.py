"""Versioned schema migrations, recorded in a `schema_version` table.

    $ kasir-oms migrate
    schema version 0 -> 4

    >>> migrate(database)                                         # doctest: +SKIP
    4

Version 1 is frozen SQL (`cloud_oms/sql/v1.<dialect>.sql`), never `create_tables()` of the
current models: an old database and a new one must end up with the same schema whatever the
models say today. Each later version is a function run in its own transaction with the
version bump; one that creates tables runs frozen SQL too (`v4.<dialect>.sql`: till
releases). `tests/oms/test_migrations.py` checks that a migrated database has every column the
models declare, so a model change without a migration fails the suite.

Until the first release the frozen SQL may be regenerated from the models
(`python -m cloud_oms.migrations freeze`); it leaves out the columns later versions add
(`ADDED_COLUMNS`), so those versions still apply to a new database. A new column on an
existing table is always a new version (the till's rule), and after the release every change
is.

Several workers starting at once are safe: PostgreSQL takes an advisory lock and SQLite an
IMMEDIATE transaction before reading the version.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from peewee import Database, PostgresqlDatabase, SqliteDatabase

SQL_DIR = Path(__file__).parent / "sql"
ADVISORY_LOCK = 0x4B41534952  # "KASIR"


def _dialect(database: Database) -> str:
    if isinstance(database, PostgresqlDatabase):
        return "postgresql"
    if isinstance(database, SqliteDatabase):
        return "sqlite"
    raise TypeError(f"unsupported database {type(database).__name__}")


def _statements(text: str) -> list[str]:
    return [s.strip() for s in text.split(";\n") if s.strip()]


def _run_frozen(database: Database, version: int) -> None:
    path = SQL_DIR / f"v{version}.{_dialect(database)}.sql"
    for statement in _statements(path.read_text()):
        database.execute_sql(statement)


def _v1(database: Database) -> None:
    _run_frozen(database, 1)


def _v2(database: Database) -> None:
    """Heartbeat history."""
    from .models.core import TerminalHeartbeat

    for statement in schema_sql(database, [TerminalHeartbeat]):
        database.execute_sql(statement)


def _v4(database: Database) -> None:
    """Till releases the OMS offers (`kasir-oms release add`)."""
    _run_frozen(database, 4)


# Columns later versions add to tables of version 1: (version, table, column, SQL type). The
# SQL is written out, not taken from the models, so that it never changes; `freeze` leaves
# these columns out of version 1.
ADDED_COLUMNS = [
    (3, "store", "address", "TEXT NOT NULL DEFAULT ''"),
    (3, "store", "npwp", "VARCHAR(32) NOT NULL DEFAULT ''"),
]


def _add_columns(version: int) -> Callable[[Database], None]:
    def step(database: Database) -> None:
        for number, table, column, sql_type in ADDED_COLUMNS:
            if number == version:
                database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql_type}')

    step.__doc__ = f"Columns added by version {version}: " + ", ".join(
        f"{t}.{c}" for n, t, c, _ in ADDED_COLUMNS if n == version
    )
    return step


MIGRATIONS: list[tuple[int, Callable[[Database], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _add_columns(3)),  # Store.address, Store.npwp: the seller on invoices
    (4, _v4),
]
LATEST = MIGRATIONS[-1][0]


def models_of_v1() -> list:
    """The models version 1 creates: all of them but those later versions add."""
    from .models import ALL_MODELS
    from .models.core import TerminalHeartbeat
    from .models.releases import Release

    return [m for m in ALL_MODELS if m not in (TerminalHeartbeat, Release)]


@contextlib.contextmanager
def _without_added_columns(models: list):
    """The models as version 1 knew them: the fields of `ADDED_COLUMNS` taken off for the
    block (for `freeze`), put back afterwards."""
    by_table = {m._meta.table_name: m for m in models}
    removed = []
    try:
        for _, table, column, _ in ADDED_COLUMNS:
            model = by_table[table]
            field = next(f for f in model._meta.sorted_fields if f.column_name == column)
            model._meta.remove_field(field.name)
            removed.append((model, field))
        yield
    finally:
        for model, field in reversed(removed):
            model._meta.add_field(field.name, field)


def schema_sql(database: Database, models: list) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements for `models` in `database`'s dialect."""
    out = []
    with database.bind_ctx(models, bind_refs=False, bind_backrefs=False):
        for model in models:
            ctx = database.get_sql_context()
            sql, params = ctx.sql(model._schema._create_table(safe=False)).query()
            assert not params, params
            out.append(sql)
            for index in model._schema._create_indexes(safe=False):
                sql, params = database.get_sql_context().sql(index).query()
                out.append(_inline(sql, params))
    return out


def _inline(sql: str, params: list) -> str:
    """Partial indexes carry their WHERE values as parameters; frozen SQL needs literals."""
    for value in params:
        if not isinstance(value, str) or "'" in value:
            raise ValueError(f"cannot inline index parameter {value!r}")
        sql = sql.replace("?" if "?" in sql else "%s", f"'{value}'", 1)
    return sql


def current_version(database: Database) -> int:
    if not database.table_exists("schema_version"):
        return 0
    row = database.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return row[0] or 0


def migrate(database: Database, target: int = LATEST) -> int:
    """Bring `database` up to `target`; returns the version it is at afterwards."""
    if target > LATEST:
        raise ValueError(f"migration target {target} is above the latest version {LATEST}")
    database.connect(reuse_if_open=True)
    postgres = isinstance(database, PostgresqlDatabase)
    if postgres:
        database.execute_sql("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK,))
    try:
        with database.atomic() if postgres else database.atomic("IMMEDIATE"):
            database.execute_sql(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at VARCHAR(32) NOT NULL)"
            )
        version = current_version(database)
        for number, step in MIGRATIONS:
            if number <= version or number > target:
                continue
            with database.atomic() if postgres else database.atomic("IMMEDIATE"):
                if current_version(database) >= number:  # another process got here first
                    continue
                step(database)
                database.execute_sql(
                    "INSERT INTO schema_version (version, applied_at) VALUES "
                    + ("(%s, %s)" if postgres else "(?, ?)"),
                    (number, _now()),
                )
        return current_version(database)
    finally:
        if postgres:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK,))


def _now() -> str:
    from retail.ids import iso, utcnow

    return iso(utcnow())


def freeze(directory: Path = SQL_DIR) -> list[Path]:
    """Write v1's SQL for both dialects from the current models (before the first release),
    without the columns later versions add."""
    directory.mkdir(exist_ok=True)
    written = []
    models = models_of_v1()
    for database in (SqliteDatabase(":memory:"), PostgresqlDatabase("kasir")):
        path = directory / f"v1.{_dialect(database)}.sql"
        header = "-- Kasir OMS schema version 1. Frozen: later changes are new migrations.\n"
        with _without_added_columns(models):
            statements = schema_sql(database, models)
        path.write_text(header + ";\n".join(statements) + ";\n")
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["freeze"]:
        for p in freeze():
            print(f"wrote {p}")
    else:
        sys.exit("usage: python -m cloud_oms.migrations freeze")
