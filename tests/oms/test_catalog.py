"""The catalog in-process, on both backends: edits, the change log, the merge, the pull."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cloud_oms import admin, catalog
from cloud_oms.catalog import CatalogError, TillCatalog
from cloud_oms.models.core import Barcode, CatalogChange, Product, Terminal
from retail.ids import utcnow, uuid7
from retail.pins import hash_secret


@pytest.fixture
def store(oms_db):
    return admin.add_store("CAT", "Toko Katalog")


def till_product(sku, **extra):
    return {
        "id": uuid7(),
        "sku": sku,
        "name": f"Produk {sku}",
        "price": 1000,
        "tax_code": "PPN",
        **extra,
    }


def test_change_versions_are_gap_free_and_ordered(store):
    before = catalog.catalog_version()
    catalog.save_product(sku="A", name="A", price=1, tax_code="PPN")
    catalog.save_staff(name="Ani", pin_hash=hash_secret("1234", n=16))
    catalog.save_tax_code("RESTO", "Resto", 1000)
    versions = [c.version for c in CatalogChange.select().order_by(CatalogChange.version)]
    assert versions == list(range(1, len(versions) + 1))
    assert catalog.catalog_version() == before + 3 == versions[-1]


def test_edits_refuse_bad_values_naming_the_field(store):
    catalog.save_product(sku="A", name="A", price=1, tax_code="PPN", barcodes=[("111", 1)], plu="7")
    cases = [
        (dict(sku="", name="x", price=1, tax_code="PPN"), "sku"),
        (dict(sku="B", name="x", price=-1, tax_code="PPN"), "price"),
        (dict(sku="B", name="x", price=1.5, tax_code="PPN"), "price"),
        (dict(sku="B", name="x", price=1, tax_code="NOPE"), "tax_code"),
        (dict(sku="B", name="x", price=1, tax_code="PPN", unit="box"), "unit"),
        (dict(sku="B", name="x", price=1, tax_code="PPN", barcodes=[("111", 1)]), "barcode"),
        (dict(sku="B", name="x", price=1, tax_code="PPN", plu="7"), "plu"),
    ]
    for kwargs, field in cases:
        with pytest.raises(CatalogError) as raised:
            catalog.save_product(**kwargs)
        assert raised.value.field == field, kwargs
    assert Product.select().count() == 1
    with pytest.raises(CatalogError, match="pin_hash"):
        catalog.save_staff(name="x", pin_hash="1234")
    with pytest.raises(CatalogError, match="tax_code: tax code RESTO: rate 20000"):
        catalog.save_tax_code("RESTO", "Resto", 20000)
    with pytest.raises(CatalogError, match="one product or one category"):
        catalog.save_promotion(name="p", kind="price", price=1)


def test_merge_keeps_the_oms_catalog_and_reports_conflicts(store):
    terminal, _ = admin.add_terminal("CAT", "Kasir")
    oms = catalog.save_product(
        sku="MIE",
        name="Indomie (OMS)",
        price=3500,
        tax_code="PPN",
        barcodes=[("899001", 1)],
        plu="5",
    )
    taken_id = oms.id
    till = TillCatalog.model_validate(
        {
            "products": [
                till_product(
                    "MIE",
                    name="Indomie (till)",
                    price=3000,
                    barcodes=[{"code": "899001"}, {"code": "899002", "pack_qty": 12}],
                ),
                till_product("TEH", barcodes=[{"code": "899001"}], plu="5"),
                {**till_product("KOPI"), "id": taken_id},
                till_product("ODD", tax_code="UNKNOWN"),
            ],
            "stock": [],
        }
    )
    result = catalog.merge_till_catalog(terminal, till, actor="test")
    assert result.created["products"] == 2 and result.matched["products"] == 1
    mie = Product.get(Product.sku == "MIE")
    assert (mie.name, mie.price) == ("Indomie (OMS)", 3500)  # the OMS keeps its fields
    assert {b.code: b.pack_qty for b in Barcode.select().where(Barcode.product == mie.id)} == {
        "899001": 1,
        "899002": 12,
    }
    text = "\n".join(result.conflicts)
    assert "barcode 899001 of TEH belongs to MIE; kept there" in text
    assert "product TEH: plu 5 is taken" in text
    assert f"product KOPI: id {taken_id} is another sku's; new id given" in text
    assert "product ODD: unknown tax code UNKNOWN; not added" in text
    assert Product.get(Product.sku == "KOPI").id != taken_id
    assert Terminal.get_by_id(terminal.id).catalog_merged_at is not None


def test_import_rolls_back_when_a_row_conflicts_with_the_stored_catalog(store):
    catalog.save_product(
        sku="OLD", name="Old", price=1, tax_code="PPN", barcodes=[("8998866200301", 1)]
    )
    text = "sku,name,price,barcode\nNEW-1,Baru,1000,\nNEW-2,Baru 2,2000,8998866200301\n"
    result = catalog.import_csv(text, store=store)
    assert result.errors == ["line 3, barcode: barcode 8998866200301 belongs to sku OLD, not NEW-2"]
    assert Product.select().where(Product.sku.startswith("NEW")).count() == 0


def test_pull_sees_a_stock_write_that_committed_late(store):
    """A stock row written (updated_at) before the till's last pull but committed after it is
    still sent: the last cursor of a pull steps back by STOCK_OVERLAP."""
    from cloud_oms import stock
    from cloud_oms.models.stock import StockLevel

    a = catalog.save_product(sku="A", name="A", price=1, tax_code="PPN")
    b = catalog.save_product(sku="B", name="B", price=1, tax_code="PPN")
    stock.adjust(store, a, 5, "count", "test")
    page = catalog.pull(store, None)
    assert [s.product_id for s in page.stock] == [a.id] and not page.more
    # b's level carries a time just before a's, as if its transaction had been slower
    stock.adjust(store, b, 3, "count", "test")
    a_time = StockLevel.get(StockLevel.product == a.id).updated_at
    StockLevel.update(updated_at=a_time - timedelta(seconds=1)).where(
        StockLevel.product == b.id
    ).execute()
    later = catalog.pull(store, page.next_cursor)
    assert {s.product_id: s.on_hand for s in later.stock}[b.id] == 3


def test_pull_pages_stock_by_time_and_product(store):
    from cloud_oms import stock
    from cloud_oms.models.stock import StockLevel

    products = [
        catalog.save_product(sku=f"S{i}", name="s", price=1, tax_code="PPN") for i in range(7)
    ]
    for p in products:
        stock.adjust(store, p, 1, "count", "test")
    same = utcnow()
    StockLevel.update(updated_at=same).execute()  # ties on time: the product id breaks them
    cursor, seen = None, []
    while True:
        page = catalog.pull(store, cursor, limit=3)
        seen += [s.product_id for s in page.stock]
        cursor = page.next_cursor
        if not page.more:
            break
    assert sorted(seen) == sorted(p.id for p in products) and len(seen) == len(set(seen))


@pytest.mark.parametrize("cursor", ["abc", "1.2", "1.2.3.4", "-1.0.", "1.0.XYZ"])
def test_cursor_format(store, cursor):
    with pytest.raises(CatalogError, match="since: cursor"):
        catalog.parse_cursor(cursor)
