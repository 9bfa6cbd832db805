"""Catalog import into a real SQLite store: all or nothing, updates by sku, moves, stock."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.catalog import lookup_barcode, lookup_sku
from appliance.config import Config
from appliance.store.catalog_import import (
    CatalogImportError,
    ImportResult,
    Move,
    import_catalog,
    progress_bar,
    read_source,
)
from appliance.store.models import TaxCode, db
from retail.barcodes import check_digit
from retail.catalog_csv import RowError
from retail.money import MoneyError, parse_money

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "appliance" / "data" / "demo_catalog.csv"


def ean(body12: str) -> str:
    return body12 + str(check_digit(body12))


A1, A2, B1, C1 = ean("899100000001"), ean("899100000002"), ean("899100000003"), ean("899100000004")

FIRST = (
    "sku,name,price,barcode,tax,category,unit,stock,plu\n"
    f"MIE-1,Indomie Goreng,3.500,{A1}|{A2}*40,PPN,Mi Instan,each,100,\n"
    f"AQ-1,Aqua 600ml,3.500,{B1},,Minuman,each,24,\n"
    'BRS,Beras Curah,13.000,,FREE,Sembako,kg,"25,5",302\n'
    "PRF,Parfum,450.000,,LUX,,,,\n"
)


def money_error(text: str) -> str:
    with pytest.raises(MoneyError) as caught:
        parse_money(text, locale="id_ID")
    return str(caught.value)


def rows(sql: str, *params):
    return db.execute_sql(sql, params).fetchall()


def products():
    return {
        sku: (name, price, tax, cat, unit, plu, active)
        for sku, name, price, tax, cat, unit, plu, active in rows(
            "SELECT p.sku, p.name, p.price, p.tax_code, c.name, p.unit, p.plu, p.active "
            "FROM product p LEFT JOIN category c ON c.id = p.category_id"
        )
    }


def barcodes():
    return {
        code: (sku, qty)
        for code, sku, qty in rows(
            "SELECT b.code, p.sku, b.pack_qty FROM barcode b JOIN product p ON p.id = b.product_id"
        )
    }


def stock():
    return dict(
        rows("SELECT p.sku, s.on_hand FROM stock_level s JOIN product p ON p.id = s.product_id")
    )


def movements():
    return rows(
        "SELECT p.sku, m.qty, m.cause FROM stock_movement m JOIN product p ON p.id = m.product_id "
        "ORDER BY m.id"
    )


def snapshot():
    return products(), barcodes(), stock(), movements(), rows("SELECT * FROM category")


def test_a_first_import_creates_products_barcodes_categories_and_stock(store, config):
    result = import_catalog(FIRST, config)
    assert (result.created, result.updated, result.unchanged, result.skipped) == (4, 0, 0, 0)
    assert result.categories_created == 3 and result.stock_set == 3
    assert products() == {
        "MIE-1": ("Indomie Goreng", 3500, "PPN", "Mi Instan", "each", None, 1),
        "AQ-1": ("Aqua 600ml", 3500, "PPN", "Minuman", "each", None, 1),
        "BRS": ("Beras Curah", 13000, "FREE", "Sembako", "kg", "302", 1),
        "PRF": ("Parfum", 450000, "LUX", None, "each", None, 1),
    }
    assert barcodes() == {A1: ("MIE-1", 1), A2: ("MIE-1", 40), B1: ("AQ-1", 1)}
    assert stock() == {"MIE-1": 100, "AQ-1": 24, "BRS": 25500}
    assert movements() == [
        ("MIE-1", 100, "import"),
        ("AQ-1", 24, "import"),
        ("BRS", 25500, "import"),
    ]
    assert {ref for (ref,) in rows("SELECT DISTINCT ref FROM stock_movement")} == {result.ref}
    # New categories follow the file's order.
    assert [n for (n,) in rows("SELECT name FROM category ORDER BY sort")] == [
        "Mi Instan",
        "Minuman",
        "Sembako",
    ]
    assert "4 created, 0 updated, 0 unchanged, 0 skipped" in str(result)


def test_a_file_with_a_bad_row_imports_nothing_and_lists_every_bad_row(store, config):
    import_catalog(FIRST, config)
    before = snapshot()
    text = (
        "sku,name,price,barcode,tax\n"
        "MIE-1,Indomie Goreng,4.000,,\n"
        "NEW,Teh,abc,,\n"
        "NEW2,Kopi,2.000,,VAT\n"
        "NEW3,Gula,17.000,,FREE\n"
    )
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(text, config)
    assert caught.value.errors == [
        RowError(3, "price", money_error("abc")),
        RowError(4, "tax", "unknown tax code 'VAT' (known: FREE, LUX, PPN)"),
    ]
    message = str(caught.value)
    assert message.startswith("catalog not imported: 2 bad row(s)")
    assert "line 3, price: amount 'abc'" in message and "line 4, tax: unknown tax code" in message
    assert snapshot() == before


def test_skip_bad_imports_the_good_rows_and_reports_the_bad(store, config):
    text = "sku,name,price\nA,Teh,5.000\nB,,x\nC,Kopi,2.000\n"
    result = import_catalog(text, config, skip_bad=True)
    assert (result.created, result.skipped) == (2, 1)
    assert result.errors == [
        RowError(3, "name", "name is empty"),
        RowError(3, "price", money_error("x")),
    ]
    assert set(products()) == {"A", "C"}


def test_skip_bad_with_no_good_row_is_still_an_error(store, config):
    with pytest.raises(CatalogImportError, match="no good rows") as caught:
        import_catalog("sku,name,price\nA,Teh,x\n", config, skip_bad=True)
    assert [e.line for e in caught.value.errors] == [2]


def test_a_bad_header_imports_nothing(store, config):
    with pytest.raises(CatalogImportError) as caught:
        import_catalog("sku,name\nA,Teh\n", config)
    assert caught.value.errors == [
        RowError(1, "price", "the header has no 'price' column (found: sku, name)")
    ]


def test_re_importing_updates_by_sku_and_counts_unchanged(store, config):
    import_catalog(FIRST, config)
    ids = dict(rows("SELECT sku, id FROM product"))
    again = import_catalog(FIRST, config)
    assert (again.created, again.updated, again.unchanged, again.stock_set) == (0, 0, 4, 0)
    changed = FIRST.replace("Indomie Goreng,3.500", "Indomie Goreng Baru,3.700").replace(
        "Parfum,450.000,,LUX,,,,", "Parfum,450.000,,PPN,Kosmetik,,,"
    )
    result = import_catalog(changed, config)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 2)
    assert products()["MIE-1"][:2] == ("Indomie Goreng Baru", 3700)
    assert products()["PRF"][2:4] == ("PPN", "Kosmetik")
    assert dict(rows("SELECT sku, id FROM product")) == ids


def test_columns_the_file_lacks_are_left_alone(store, config):
    import_catalog(FIRST, config)
    result = import_catalog("sku,name,price\nPRF,Parfum,500.000\nBRS,Beras Curah,14.000\n", config)
    assert result.updated == 2
    assert products()["PRF"] == ("Parfum", 500000, "LUX", None, "each", None, 1)
    assert products()["BRS"] == ("Beras Curah", 14000, "FREE", "Sembako", "kg", "302", 1)
    assert barcodes()[A2] == ("MIE-1", 40) and stock()["BRS"] == 25500


def test_a_present_column_is_the_truth_even_when_empty(store, config):
    import_catalog(FIRST, config)
    import_catalog(
        "sku,name,price,barcode,tax,category,unit,plu\n"
        "MIE-1,Indomie Goreng,3.500,,,,,\nBRS,Beras Curah,13.000,,,,,\n",
        config,
    )
    assert products()["MIE-1"] == ("Indomie Goreng", 3500, "PPN", None, "each", None, 1)
    assert products()["BRS"] == ("Beras Curah", 13000, "PPN", None, "each", None, 1)
    assert set(barcodes()) == {B1}


def test_barcodes_follow_the_file_and_a_moved_barcode_is_reported(store, config):
    import_catalog(FIRST, config)
    text = f"sku,name,price,barcode\nAQ-1,Aqua 600ml,3.500,{B1}|{A2}*24\nMIE-1,Indomie,3.500,{A1}|{C1}\n"
    result = import_catalog(text, config)
    assert result.moves == [Move("barcode", A2, "MIE-1", "AQ-1")]
    assert str(result.moves[0]) == f"barcode {A2} moved from MIE-1 to AQ-1"
    assert barcodes() == {
        A1: ("MIE-1", 1),
        C1: ("MIE-1", 1),
        B1: ("AQ-1", 1),
        A2: ("AQ-1", 24),
    }
    match = lookup_barcode(A2)
    assert (match.product.sku, match.qty) == ("AQ-1", 24)


def test_a_barcode_moves_from_a_product_the_file_does_not_list(store, config):
    import_catalog(FIRST, config)
    result = import_catalog(f"sku,name,price,barcode\nNEW,Teh Pucuk,4.000,{B1}\n", config)
    assert result.moves == [Move("barcode", B1, "AQ-1", "NEW")]
    assert barcodes()[B1] == ("NEW", 1)
    assert "AQ-1" in products()


def test_a_plu_moves_and_plus_may_swap(store, config):
    import_catalog(FIRST + "APL,Apel,45.000,,FREE,,kg,,101\n", config)
    text = "sku,name,price,unit,plu\nBRS,Beras Curah,13.000,kg,101\nAPL,Apel,45.000,kg,302\n"
    result = import_catalog(text, config)
    assert sorted(result.moves, key=str) == [
        Move("plu", "101", "APL", "BRS"),
        Move("plu", "302", "BRS", "APL"),
    ]
    assert (products()["BRS"][5], products()["APL"][5]) == ("101", "302")
    result = import_catalog("sku,name,price,plu\nNEW,Jeruk,25.000,101\n", config)
    assert result.moves == [Move("plu", "101", "BRS", "NEW")]
    assert products()["BRS"][5] is None and products()["NEW"][5] == "101"


def test_stock_sets_the_level_and_books_the_difference(store, config):
    import_catalog(FIRST, config)
    text = (
        "sku,name,price,unit,stock\n"
        "MIE-1,Indomie Goreng,3.500,,90\n"
        "AQ-1,Aqua 600ml,3.500,,24\n"
        "BRS,Beras Curah,13.000,kg,30000 g\n"
        "PRF,Parfum,450.000,,\n"
    )
    result = import_catalog(text, config)
    assert result.stock_set == 2
    assert stock() == {"MIE-1": 90, "AQ-1": 24, "BRS": 30000}
    assert movements()[3:] == [("MIE-1", -10, "import"), ("BRS", 4500, "import")]


def test_a_zero_count_creates_the_level_without_a_movement(store, config):
    result = import_catalog("sku,name,price,stock\nA,Teh,5.000,0\n", config)
    assert result.stock_set == 1 and stock() == {"A": 0} and movements() == []


def test_an_inactive_product_in_the_file_sells_again(store, config):
    import_catalog(FIRST, config)
    db.execute_sql("UPDATE product SET active = 0 WHERE sku = 'PRF'")
    result = import_catalog("sku,name,price\nPRF,Parfum,450.000\n", config)
    assert result.updated == 1 and lookup_sku("PRF").price == 450000


def test_a_tax_code_the_store_added_is_known_and_an_inactive_one_is_not(store, config):
    TaxCode.create(code="PB1", name="Pajak restoran 10%", rate_bp=1000)
    TaxCode.update(active=False).where(TaxCode.code == "LUX").execute()
    with pytest.raises(CatalogImportError) as caught:
        import_catalog("sku,name,price,tax\nA,Nasi,20.000,PB1\nB,Parfum,1,LUX\n", config)
    assert caught.value.errors == [
        RowError(3, "tax", "unknown tax code 'LUX' (known: FREE, PB1, PPN)")
    ]


def test_the_default_tax_code_comes_from_the_config(store, tmp_path):
    config = Config({"store.default_tax": "FREE"}, env={})
    import_catalog("sku,name,price\nA,Telur,2.000\n", config)
    assert products()["A"][2] == "FREE"


def test_the_locale_comes_from_the_config(store):
    config = Config({"store.locale": "en"}, env={})
    import_catalog('sku,name,price\nA,Tea,"12,500"\n', config)
    assert products()["A"][1] == 12500
    with pytest.raises(CatalogImportError, match="not a number as written in en"):
        import_catalog('sku,name,price\nB,Tea,"12,5"\n', config)


def test_scale_layouts_come_from_the_config(store):
    layout = {
        "prefixes": ["24"],
        "kind": "price",
        "item_start": 3,
        "item_length": 4,
        "value_start": 8,
        "value_length": 5,
    }
    config = Config({"barcodes.variable_layouts": [layout]}, env={})
    code = ean("240000000001")
    with pytest.raises(CatalogImportError, match="prefix of scale labels"):
        import_catalog(f"sku,name,price,barcode\nA,Kue,1,{code}\n", config)
    with pytest.raises(CatalogImportError, match="does not fit the 4-digit item field"):
        import_catalog("sku,name,price,plu\nA,Kue,1,12345\n", config)


def test_an_error_while_writing_rolls_the_whole_import_back(store, config, monkeypatch):
    import_catalog(FIRST, config)
    before = snapshot()
    # A trigger that fails on a row of the second chunk: the first chunk was already written.
    db.execute_sql(
        "CREATE TRIGGER boom BEFORE INSERT ON product WHEN NEW.sku = 'X-00007' "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    monkeypatch.setattr("appliance.store.catalog_import.CHUNK", 5)
    lines = ["sku,name,price,stock"] + [f"X-{i:05d},Barang {i},1.000,5" for i in range(10)]
    text = "\n".join([*lines, "MIE-1,Indomie Goreng,9.999,1"]) + "\n"
    with pytest.raises(Exception, match="disk trouble"):
        import_catalog(text, config)
    assert snapshot() == before


def test_paths_bytes_and_text_are_all_sources(store, config, tmp_path):
    path = tmp_path / "katalog.csv"
    path.write_bytes(b"\xef\xbb\xbfsku;name;price\r\nA;Teh;5.000\r\n")
    assert import_catalog(path, config).created == 1
    assert import_catalog(str(path), config).unchanged == 1
    assert import_catalog(b"sku,name,price\nB,Kopi,2.000\n", config).created == 1
    assert read_source("sku,name,price\r\n") == "sku,name,price\r\n"


def test_a_file_that_is_not_utf8_names_the_line(store, config, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("sku,name,price\nA,Teh,5000\nB,Caf\u00e9,2000\n".encode("cp1252"))
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(path, config)
    assert str(caught.value).startswith(f"{path} is not UTF-8 text")
    assert caught.value.errors == [
        RowError(3, None, "byte 0xE9 is not UTF-8: save the file as 'CSV UTF-8' in the spreadsheet")
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.csv", "does not exist"),
        (lambda p: p, "is a directory"),
    ],
)
def test_a_path_that_cannot_be_read(store, config, tmp_path, make, message):
    with pytest.raises(CatalogImportError, match=message):
        import_catalog(make(tmp_path), config)


def test_progress_goes_up_to_its_total_and_draws_a_bar(store, config):
    calls = []
    lines = ["sku,name,price"] + [f"S{i},N{i},{i + 1}" for i in range(12000)]
    text = "\n".join(lines) + "\n"
    import_catalog(text, config, progress=lambda done, total: calls.append((done, total)))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and len(calls) >= 5
    assert calls[-1][0] == calls[-1][1] == 2 * (len(lines) + 1)
    out = io.StringIO()
    with progress_bar(file=out) as update:
        import_catalog(text.replace(",N", ",Nama "), config, progress=update)
    assert "Importing" in out.getvalue() and "100%" in out.getvalue()


def test_a_hundred_thousand_rows_import(store, config, tmp_path):
    lines = ["sku,name,price,barcode,tax,category,stock"]
    for i in range(100_000):
        body = f"899{5_000_000 + i:09d}"
        lines.append(
            f"SKU{i:06d},Produk {i},{1000 + i % 5000},{body}{check_digit(body)},"
            f"{'FREE' if i % 7 == 0 else 'PPN'},Kategori {i % 40},{i % 100}"
        )
    result = import_catalog("\n".join(lines) + "\n", config)
    assert (result.created, result.stock_set) == (100_000, 100_000)
    assert rows("SELECT COUNT(*) FROM stock_movement") == [(99_000,)]
    assert rows("SELECT COUNT(*) FROM barcode") == [(100_000,)]
    # A big import folds its write-ahead log back into the database file.
    assert (tmp_path / "kasir.sqlite3-wal").stat().st_size == 0
    body = f"899{5_000_000 + 77_777:09d}"
    match = lookup_barcode(body + str(check_digit(body)))
    assert (match.product.sku, match.product.price, match.product.tax.code) == (
        "SKU077777",
        1000 + 77_777 % 5000,
        "FREE",
    )


# -- the bundled demo catalog --------------------------------------------------------------------


def test_the_demo_catalog_imports_cleanly(store, config):
    result = import_catalog(DEMO, config)
    assert result.errors == [] and result.created >= 190
    counts = dict(rows("SELECT tax_code, COUNT(*) FROM product GROUP BY tax_code"))
    assert counts["PPN"] > counts["FREE"] > counts["LUX"] > 0
    weighed = rows("SELECT sku, plu FROM product WHERE unit = 'kg'")
    assert len(weighed) >= 10 and all(plu for _, plu in weighed)
    assert rows("SELECT COUNT(*) FROM barcode WHERE pack_qty > 1")[0][0] >= 5
    carton = lookup_barcode("18991001100013")
    assert (carton.product.name, carton.qty) == ("Indomie Goreng 85g", 40)
    assert lookup_sku("BERAS-5").tax.code == "FREE"


def test_the_demo_catalog_is_what_its_generator_writes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_catalog.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_the_import_result_prints_its_moves():
    result = ImportResult(created=1, moves=[Move("plu", "42", "A", "B")])
    assert str(result).splitlines() == [
        "1 created, 0 updated, 0 unchanged, 0 skipped; stock set for 0 products",
        "plu 42 moved from A to B",
    ]
