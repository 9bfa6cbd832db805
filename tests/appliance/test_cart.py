"""The cart: scanning, promotions, approvals, parking, customers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance import customers, parking
from appliance.cart import Cart, CartError
from appliance.catalog import UnknownBarcode, UnknownProduct
from appliance.staff import AuthError
from appliance.store.models import Audit, Promotion
from retail.barcodes import DEFAULT_LAYOUTS, BarcodeError, make_variable
from retail.ids import iso, utcnow, uuid7
from retail.pricing import Discount
from tests.appliance.tillkit import ean

INDOMIE, INDOMIE_CARTON, AQUA = ean("899100110001"), ean("899100110002"), ean("899100220001")


def test_scans_merge_and_pack_barcodes_add_units(config, people, catalog):
    cart = Cart(config, staff=people[1])
    cart.scan(INDOMIE)
    cart.scan(INDOMIE, 2)
    cart.scan(INDOMIE_CARTON)
    assert len(cart.lines) == 1 and cart.lines[0].qty == 43
    assert cart.priced().total == 43 * 3500


def test_weighed_items_stay_separate_lines(config, people, catalog):
    cart = Cart(config, staff=people[1])
    cart.scan(make_variable(DEFAULT_LAYOUTS[0], "00123", 500))
    cart.scan(make_variable(DEFAULT_LAYOUTS[0], "00123", 250))
    assert [line.weight_g for line in cart.lines] == [500, 250]
    assert cart.priced().total == 22500 + 11250
    with pytest.raises(CartError, match="weighed"):
        cart.set_qty(1, 2)


def test_price_label_fixes_the_gross(config, people, catalog):
    cart = Cart(config, staff=people[1])
    cart.scan(make_variable(DEFAULT_LAYOUTS[1], "00123", 17350))
    assert cart.priced().total == 17350


def test_kg_item_by_sku_needs_its_label(config, people, catalog):
    with pytest.raises(CartError, match="sold by weight"):
        Cart(config).add_sku("APL")


def test_unknown_and_malformed_codes(config, people, catalog):
    cart = Cart(config, staff=people[1])
    with pytest.raises(UnknownBarcode, match="not in the catalog"):
        cart.scan(ean("899199999999"))
    with pytest.raises(BarcodeError, match="check digit"):
        cart.scan("8991001100019")
    with pytest.raises(UnknownProduct):
        cart.add_sku("NOPE")
    assert cart.empty


def test_open_price_item_needs_manager(config, people, catalog):
    manager, cashier = people
    cart = Cart(config, staff=cashier)
    with pytest.raises(AuthError, match="manager"):
        cart.add_open_price("Barang", 5000, cashier)
    line = cart.add_open_price("Barang", 5000, manager, barcode=ean("899199999999"))
    assert line.product_id is None and line.tax.code == "PPN"
    assert Audit.select().where(Audit.action == "open_price_item").count() == 1


def test_void_and_override_need_manager_and_are_audited(config, people, catalog):
    manager, cashier = people
    cart = Cart(config, staff=cashier)
    cart.scan(INDOMIE, 2)
    cart.scan(AQUA)
    with pytest.raises(AuthError):
        cart.void(2, cashier)
    with pytest.raises(AuthError):
        cart.override_price(1, 3000, None)
    cart.override_price(1, 3000, manager)
    cart.void(2, manager)
    assert cart.priced().total == 6000
    actions = [a.action for a in Audit.select().order_by(Audit.at)]
    assert actions == ["price_override", "line_void"]
    with pytest.raises(AuthError):
        cart.set_qty(1, 1)  # a cashier taking items off is a void
    cart.set_qty(1, 1, manager)
    assert cart.lines[0].qty == 1


def test_discount_limits(config, people, catalog):
    manager, cashier = people
    cart = Cart(config, staff=cashier)
    cart.scan(AQUA, 5)
    cart.discount_line(1, Discount("percent", 1000))  # 10% is the cashier's own call
    with pytest.raises(AuthError):
        cart.discount_cart(Discount("percent", 2000))
    cart.discount_cart(Discount("amount", 1000), manager)
    priced = cart.priced()
    assert priced.line_discount == 2000 and priced.cart_discount == 1000
    assert priced.total == 17000


def test_promotions_apply_automatically(config, people, catalog):
    Promotion.create(
        id=uuid7(),
        name="3 for 10.000",
        kind="multibuy",
        product=catalog["indomie"],
        qty=3,
        price=10000,
    )
    Promotion.create(
        id=uuid7(),
        name="Expired",
        kind="price",
        product=catalog["aqua"],
        price=1,
        ends_at=iso(utcnow() - timedelta(days=1)),
    )
    cart = Cart(config, staff=people[1])
    cart.scan(INDOMIE, 7)
    cart.scan(AQUA)
    priced = cart.priced()
    assert priced.lines[0].promo_discount == 2 * 500
    assert priced.lines[0].promotion == "3 for 10.000"
    assert priced.lines[1].promo_discount == 0


def test_quantity_limits(config, people, catalog):
    cart = Cart(config, staff=people[1])
    with pytest.raises(CartError, match="at least 1"):
        cart.scan(INDOMIE, 0)
    with pytest.raises(CartError, match="more than one line takes"):
        cart.scan(INDOMIE, 10_000)
    with pytest.raises(CartError, match="no line 3"):
        cart.set_qty(3, 1)


def test_park_and_resume_keep_prices(config, people, catalog):
    from appliance.store.models import Product

    _, cashier = people
    cart = Cart(config, staff=cashier)
    cart.scan(INDOMIE, 2)
    cart.discount_line(1, Discount("percent", 500))
    parked_id = parking.park(cart, cashier, "Ibu baju merah")
    assert cart.empty and [p.label for p in parking.parked()] == ["Ibu baju merah"]
    Product.update(price=9999).where(Product.id == catalog["indomie"]).execute()
    back = parking.resume(parked_id, config, cashier)
    assert back.lines[0].unit_price == 3500 and back.priced().line_discount == 350
    assert parking.parked() == []
    with pytest.raises(CartError, match="already resumed"):
        parking.resume(parked_id, config, cashier)
    with pytest.raises(CartError, match="nothing to park"):
        parking.park(Cart(config), cashier)


def test_customers(config, people, catalog):
    c = customers.create("Siti", "0812-3456-7890", "siti@example.id")
    assert c.phone == "+6281234567890"
    assert customers.by_phone("+62 812 3456 7890").id == c.id
    with pytest.raises(customers.CustomerError, match="already exists"):
        customers.create("Siti 2", "081234567890")
    with pytest.raises(customers.CustomerError, match="not a phone number"):
        customers.create("X", "12ab")
    with pytest.raises(customers.CustomerError, match="not an e-mail"):
        customers.create("X", None, "nope")
    cart = Cart(config, staff=people[1])
    cart.attach_customer(c.id)
    with pytest.raises(CartError, match="not in this till"):
        cart.attach_customer(uuid7())
