"""The store's schema: upgrades from the first version, agreement with the models."""

from __future__ import annotations

import sqlite3

import pytest
from peewee import SqliteDatabase

from appliance.store import migrations
from appliance.store.db import PRAGMAS, StoreError, open_store
from appliance.store.models import ALL_MODELS


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def test_upgrade_from_v1_keeps_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = SqliteDatabase(str(path), pragmas=PRAGMAS)
    assert migrations.migrate(old, target=1) == [1]
    old.execute_sql("INSERT INTO tax_code VALUES ('PPN', 'PPN', 1200, 11, 12, 1)")
    old.execute_sql(
        "INSERT INTO product (id, sku, name, price, tax_code, unit, active, updated_at) "
        "VALUES ('p1', 'SKU1', 'Teh', 5000, 'PPN', 'each', 1, '2026-01-01T00:00:00Z')"
    )
    assert "print_job" not in old.get_tables()
    old.close()

    database = open_store(path)
    assert migrations.current_version(database) == migrations.LATEST
    assert "print_job" in database.get_tables()
    row = database.execute_sql("SELECT sku, price FROM product").fetchone()
    assert row == ("SKU1", 5000)
    indexes = {i.name for i in database.get_indexes("payment")}
    assert "payment_shift_tender" in indexes
    database.close()


def test_migrated_schema_matches_models(tmp_path):
    database = open_store(tmp_path / "k.sqlite3")
    conn = sqlite3.connect(tmp_path / "k.sqlite3")
    for model in ALL_MODELS:
        table = model._meta.table_name
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns(conn, table) == expected, table
    conn.close()
    database.close()


def test_reopening_is_idempotent(tmp_path):
    for _ in range(2):
        database = open_store(tmp_path / "k.sqlite3")
        assert database.execute_sql("SELECT COUNT(*) FROM tax_code").fetchone()[0] == 3
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        database.close()


def test_newer_store_is_refused(tmp_path):
    path = tmp_path / "k.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this Kasir knows"):
        open_store(path)


def test_missing_data_dir(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "nope" / "k.sqlite3")


def test_v4_rebuilds_sales_keeping_them_and_their_references(tmp_path):
    path = tmp_path / "v3.sqlite3"
    old = SqliteDatabase(str(path), pragmas=PRAGMAS)
    assert migrations.migrate(old, target=3) == [1, 2, 3]
    old.execute_sql(
        "INSERT INTO staff VALUES ('st1', 'Ani', 'cashier', 'x', 1, 0, NULL)",
    )
    old.execute_sql(
        "INSERT INTO shift (id, staff_id, opened_at, opening_float) "
        "VALUES ('sh1', 'st1', '2026-01-01T00:00:00Z', 0)"
    )
    old.execute_sql(
        "INSERT INTO sale VALUES ('s1', 'T01-000001', 1, 'sh1', 'st1', NULL, "
        "'2026-01-01T01:00:00Z', 5000, 0, 0, NULL, 0, 5000, 535, 1, 0, 'tok')"
    )
    old.execute_sql(
        "INSERT INTO payment (id, shift_id, sale_id, tender, amount, change, training) "
        "VALUES ('p1', 'sh1', 's1', 'cash', 5000, 0, 0)"
    )
    old.close()

    database = open_store(path)
    assert migrations.current_version(database) == migrations.LATEST
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    row = database.execute_sql(
        "SELECT receipt_no, shift_id, total, origin FROM sale WHERE id = 's1'"
    ).fetchone()
    assert row == ("T01-000001", "sh1", 5000, None)
    assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    # the payment still refers to the rebuilt table: deleting the sale cascades to it
    database.execute_sql("DELETE FROM sale WHERE id = 's1'")
    assert database.execute_sql("SELECT COUNT(*) FROM payment").fetchone()[0] == 0
    # another till's sale: no shift, no staff of ours
    database.execute_sql(
        "INSERT INTO sale (id, receipt_no, receipt_seq, created_at, subtotal, discount_total, "
        "cart_discount, rounding, total, tax_total, prices_include_tax, training, "
        "ereceipt_token, origin) VALUES ('s2', 'T02-000009', 9, '2026-01-01T02:00:00Z', "
        "100, 0, 0, 0, 100, 0, 1, 0, 'tok2', 'T02')"
    )
    indexes = {i.name for i in database.get_indexes("sale")}
    assert {"sale_receipt_no", "sale_shift_id", "sale_created_at"} <= indexes
    database.close()


def test_a_rebuild_that_would_break_references_is_refused_and_rolled_back(tmp_path):
    path = tmp_path / "v3.sqlite3"
    old = SqliteDatabase(str(path), pragmas=PRAGMAS)
    assert migrations.migrate(old, target=3) == [1, 2, 3]
    # a payment pointing at a sale that is not there (possible only with keys off)
    old.execute_sql("PRAGMA foreign_keys = OFF")
    old.execute_sql(
        "INSERT INTO payment (id, shift_id, sale_id, tender, amount, change, training) "
        "VALUES ('p1', 'nosuchshift', 'nosuchsale', 'cash', 5000, 0, 0)"
    )
    old.execute_sql("PRAGMA foreign_keys = ON")
    with pytest.raises(RuntimeError, match="would break references"):
        migrations.migrate(old)
    assert migrations.current_version(old) == 3
    assert "sale_v4" not in old.get_tables()
    assert old.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    old.close()
