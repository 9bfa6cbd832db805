"""Helpers for the till's tests: a small catalog, staff with fast PIN hashes."""

from __future__ import annotations

from appliance.store.models import Barcode, Category, Product, StockLevel, db
from retail.barcodes import check_digit
from retail.ids import iso, utcnow, uuid7

# Fast hashes in tests: the format carries its parameters, so verification is unchanged.
FAST = {"n": 2**8, "r": 8, "p": 1}
MANAGER_PIN = "246810"
CASHIER_PIN = "1357"


def ean(body12: str) -> str:
    return body12 + str(check_digit(body12))


def add_product(
    sku,
    name,
    price,
    tax="PPN",
    barcode=None,
    unit="each",
    plu=None,
    category=None,
    stock=None,
    pack=None,
):
    pid = uuid7()
    cat = None
    if category:
        cat, _ = Category.get_or_create(name=category)
    Product.create(
        id=pid,
        sku=sku,
        name=name,
        price=price,
        tax_code=tax,
        category=cat,
        unit=unit,
        plu=plu,
        updated_at=iso(utcnow()),
    )
    if barcode:
        Barcode.create(code=barcode, product=pid, pack_qty=1)
    if pack:
        Barcode.create(code=pack[0], product=pid, pack_qty=pack[1])
    if stock is not None:
        StockLevel.create(product=pid, on_hand=stock, updated_at=iso(utcnow()))
    return pid


def count(table: str) -> int:
    return db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
