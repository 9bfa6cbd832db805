"""Versioned migrations: a fresh database, an upgrade from version 1, and model drift."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from conftest import pg_create, pg_drop

from cloud_oms import db as dbmod
from cloud_oms import migrations
from cloud_oms.models import ALL_MODELS
from retail.ids import uuid7


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
    from cloud_oms.models.core import Store, Terminal, TerminalHeartbeat

    with opened(empty_database) as database:
        assert migrations.migrate(database, target=1) == 1
        assert not database.table_exists("terminal_heartbeat")
        # rows written as version 1 wrote them (today's models have columns it lacks)
        store_id, terminal_id, now = uuid7(), uuid7(), "2025-01-01 00:00:00"
        p = database.param
        database.execute_sql(
            "INSERT INTO store (id, code, name, tz, currency, currency_exponent, locale, "
            f"prices_include_tax, created_at) VALUES ({p}, 'OLD', 'Toko Lama', 'Asia/Jakarta', "
            f"'IDR', 0, 'id_ID', {p}, {p})",
            (store_id, True, now),
        )
        database.execute_sql(
            "INSERT INTO terminal (id, store_id, code, name, last_seq, last_accepted_seq, "
            "last_receipt_seq, outbox_depth, quarantined, reported_last_seq, created_at) "
            f"VALUES ({p}, {p}, 'T01', 'Kasir', 0, 0, 0, 0, 0, 0, {p})",
            (terminal_id, store_id, now),
        )

        assert migrations.migrate(database) == migrations.LATEST == 4
        assert database.table_exists("terminal_heartbeat")
        assert database.table_exists("release")
        assert Terminal.get_by_id(terminal_id).store_id == store_id
        TerminalHeartbeat.create(
            terminal=terminal_id, version="1", outbox_depth=0, last_seq=0, clock_skew_ms=0
        )
        rows = database.execute_sql("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in rows.fetchall()] == [1, 2, 3, 4]
        assert migrations.migrate(database) == 4  # nothing left to do
        old = Store.get_by_id(store_id)  # a store from before version 3: no address yet
        assert (old.name, old.address, old.npwp) == ("Toko Lama", "", "")
        added = admin.add_store("NEW", "Toko Baru", address="Jl. Baru 1", npwp="0" * 16)
        assert (Store.get_by_id(added.id).address, Store.get_by_id(added.id).npwp) == (
            "Jl. Baru 1",
            "0" * 16,
        )


def test_frozen_version_1_is_what_freeze_writes_without_later_columns(tmp_path):
    """`freeze` regenerates version 1 byte for byte, leaving out the columns later versions
    add: re-freezing before the release cannot make those versions fail on a new database."""
    written = migrations.freeze(tmp_path)
    for path in written:
        text = path.read_text()
        assert text == (migrations.SQL_DIR / path.name).read_text(), path.name
        store_table = next(s for s in text.split(";\n") if s.startswith('CREATE TABLE "store"'))
        for _, table, column, _ in migrations.ADDED_COLUMNS:
            assert table != "store" or f'"{column}"' not in store_table
    from cloud_oms.models.core import Store

    assert {"address", "npwp"} <= set(Store._meta.fields)  # put back afterwards


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
