"""Versioned migrations: a fresh database, an upgrade from version 1, and model drift."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from conftest import pg_create, pg_drop

from cloud_oms import db as dbmod
from cloud_oms import migrations
from cloud_oms.models import ALL_MODELS


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """An empty database (no schema at all)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"kasir_t_mig_{uuid.uuid4().hex[:10]}"
    url = pg_create(name)
    try:
        yield url
    finally:
        pg_drop(name)


@contextlib.contextmanager
def opened(url):
    database = dbmod.connect(url)
    try:
        yield database
    finally:
        dbmod.disconnect()


def test_a_database_at_version_1_upgrades_and_keeps_its_rows(empty_database):
    from cloud_oms import admin
    from cloud_oms.models.core import Terminal, TerminalHeartbeat

    with opened(empty_database) as database:
        assert migrations.migrate(database, target=1) == 1
        assert not database.table_exists("terminal_heartbeat")
        store = admin.add_store("OLD", "Toko Lama")
        terminal, _ = admin.add_terminal("OLD", "Kasir")

        assert migrations.migrate(database) == migrations.LATEST == 2
        assert database.table_exists("terminal_heartbeat")
        assert Terminal.get_by_id(terminal.id).store_id == store.id
        TerminalHeartbeat.create(
            terminal=terminal.id, version="1", outbox_depth=0, last_seq=0, clock_skew_ms=0
        )
        rows = database.execute_sql("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in rows.fetchall()] == [1, 2]
        assert migrations.migrate(database) == 2  # nothing left to do


def test_migrated_schema_has_every_column_the_models_declare(empty_database):
    with opened(empty_database) as database:
        migrations.migrate(database)
        problems = []
        for model in ALL_MODELS:
            table = model._meta.table_name
            if not database.table_exists(table):
                problems.append(f"table {table} is missing")
                continue
            columns = {c.name for c in database.get_columns(table)}
            wanted = {f.column_name for f in model._meta.sorted_fields}
            if wanted != columns:
                problems.append(
                    f"{table}: models want {sorted(wanted - columns)}, "
                    f"database has extra {sorted(columns - wanted)}"
                )
    assert not problems, (
        "models and migrations disagree (add a migration; before the first release "
        "`python -m cloud_oms.migrations freeze` regenerates version 1):\n" + "\n".join(problems)
    )


def test_the_app_refuses_a_database_that_is_behind(empty_database):
    from cloud_oms.api.app import create_app

    with opened(empty_database) as database:
        migrations.migrate(database, target=1)
    with pytest.raises(RuntimeError, match=r"schema is at version 1.*run `kasir-oms migrate`"):
        create_app(empty_database)
    dbmod.disconnect()


def test_migration_targets_are_checked(empty_database):
    with opened(empty_database) as database, pytest.raises(ValueError, match="above the latest"):
        migrations.migrate(database, target=99)
