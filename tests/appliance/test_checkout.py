"""Completing sales against a real SQLite store."""

from __future__ import annotations

import json

import pytest

from appliance import identity
from appliance.cart import Cart, CartError
from appliance.checkout import complete_sale
from appliance.shifts import ShiftError
from appliance.store.models import Outbox, Payment, Sale, SaleLine, StockLevel, StockMovement
from retail.barcodes import DEFAULT_LAYOUTS, make_variable
from retail.pricing import TenderError, TenderInput
from retail.schema import Event
from tests.appliance.tillkit import add_product, count, ean


def sell(config, staff, *items, tenders=None):
    cart = Cart(config, staff=staff)
    for code, qty in items:
        cart.scan(code, qty)
    tenders = tenders or [TenderInput("cash", 1_000_000)]
    return complete_sale(cart, tenders, staff=staff, config=config)


def test_cash_sale_writes_sale_lines_payment_stock_and_event(config, people, catalog, shift):
    _, cashier = people
    done = sell(config, cashier, (ean("899100110001"), 3), (ean("899100330001"), 1))
    sale = Sale.get_by_id(done.sale_id)
    assert sale.receipt_no == "000001" and done.receipt_no == "000001"
    assert sale.total == 3 * 3500 + 75000  # 85.500: already a multiple of Rp100
    assert done.change == 1_000_000 - 85_500
    lines = list(SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no))
    assert [(ln.name, ln.qty, ln.total) for ln in lines] == [
        ("Indomie Goreng", 3, 10500),
        ("Beras Premium 5kg", 1, 75000),
    ]
    # PPN on Rp10.500 inclusive: 10500 * 0.11 / 1.11 = 1040.5 -> 1041 (half up)
    assert lines[0].tax_amount == 1041 and lines[1].tax_amount == 0
    assert sale.tax_total == 1041
    pay = Payment.get(Payment.sale == sale.id)
    assert (pay.tender, pay.amount, pay.tendered, pay.change) == (
        "cash", 85_500, 1_000_000, 914_500,
    )  # fmt: skip
    assert StockLevel.get_by_id(catalog["indomie"]).on_hand == 97
    assert StockLevel.get_by_id(catalog["beras"]).on_hand == 9
    moves = list(StockMovement.select().where(StockMovement.ref == "000001"))
    assert sorted(m.qty for m in moves) == [-3, -1]
    event_row = Outbox.get(Outbox.id == sale.id)
    event = Event.model_validate_json(bytes(event_row.payload))
    assert event.type == "sale.completed" and event.payload.receipt_no == "000001"
    assert event.payload.total == sale.total
    assert [ln.sku for ln in event.payload.lines] == ["IDM-GR", "BRS-5"]
    assert (
        event.payload.lines[0].tax.base_num == 11 and event.payload.lines[0].tax_base == 8671
    )  # 9459 x 11/12
    assert event_row.state == "pending"


def test_receipt_numbers_and_outbox_sequences_are_gap_free(config, people, catalog, shift):
    _, cashier = people
    for _ in range(5):
        sell(config, cashier, (ean("899100220001"), 1))
    assert [s.receipt_seq for s in Sale.select().order_by(Sale.receipt_seq)] == [1, 2, 3, 4, 5]
    seqs = [o.seq for o in Outbox.select().order_by(Outbox.seq)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_cash_rounding_is_its_own_figure(config, people, catalog, shift):
    _, cashier = people
    weighed = make_variable(DEFAULT_LAYOUTS[0], "00123", 333)  # 333 g of Rp45.000/kg
    done = sell(config, cashier, (weighed, 1), tenders=[TenderInput("cash", 20000)])
    sale = Sale.get_by_id(done.sale_id)
    # 45000 * 0.333 = 14.985 -> cash due 15.000, rounding +15
    assert sale.subtotal == 14985 and sale.rounding == 15 and sale.total == 15000
    assert done.change == 5000
    line = SaleLine.get(SaleLine.sale == sale.id)
    assert line.weight_g == 333 and line.unit == "kg"
    assert StockLevel.get_by_id(catalog["apel"]).on_hand == 20000 - 333


def test_card_pays_exact_and_never_rounds(config, people, catalog, shift):
    _, cashier = people
    weighed = make_variable(DEFAULT_LAYOUTS[0], "00123", 333)
    done = sell(config, cashier, (weighed, 1), tenders=[TenderInput("card", 14985, "APV123")])
    assert done.rounding == 0 and done.total == 14985 and not done.opens_drawer


def test_split_tender(config, people, catalog, shift):
    _, cashier = people
    done = sell(
        config, cashier, (ean("899100440001"), 1),
        tenders=[TenderInput("qris", 300_000, "QR-77"), TenderInput("cash", 250_000)],
    )  # fmt: skip
    pays = {p.tender: p for p in Payment.select().where(Payment.sale == done.sale_id)}
    assert pays["qris"].amount == 300_000 and pays["qris"].reference == "QR-77"
    assert pays["cash"].amount == 200_000 and pays["cash"].change == 50_000
    assert done.opens_drawer


@pytest.mark.parametrize(
    "tenders, message",
    [
        ([TenderInput("cash", 1000)], "less than"),
        ([TenderInput("card", 999_999, "X")], "more than"),
        ([TenderInput("card", 3500, "")], "needs its reference"),
        ([TenderInput("bitcoin", 3500)], "not one of"),
        ([], "no payment"),
    ],
)
def test_bad_tenders_store_nothing(config, people, catalog, shift, tenders, message):
    _, cashier = people
    before = {t: count(t) for t in ("sale", "sale_line", "payment", "outbox", "stock_movement")}
    cart = Cart(config, staff=cashier)
    cart.scan(ean("899100110001"))
    with pytest.raises(TenderError, match=message):
        complete_sale(cart, tenders, staff=cashier, config=config)
    assert {t: count(t) for t in before} == before
    # the next good sale takes receipt 1: nothing was used up
    done = complete_sale(cart, [TenderInput("cash", 5000)], staff=cashier, config=config)
    assert done.receipt_no == "000001"


def test_sale_without_open_shift_is_refused(config, people, catalog):
    _, cashier = people
    cart = Cart(config, staff=cashier)
    cart.scan(ean("899100110001"))
    with pytest.raises(ShiftError, match="no shift is open"):
        complete_sale(cart, [TenderInput("cash", 5000)], staff=cashier, config=config)
    assert count("sale") == 0


def test_empty_cart_is_refused(config, people, shift):
    with pytest.raises(CartError, match="empty"):
        complete_sale(Cart(config), [TenderInput("cash", 1)], staff=people[1], config=config)


def test_oversell_is_recorded_not_refused(config, people, catalog, shift):
    _, cashier = people
    sell(config, cashier, (ean("899100440001"), 5), tenders=[TenderInput("cash", 2_500_000)])
    assert StockLevel.get_by_id(catalog["parfum"]).on_hand == -3


def test_product_without_stock_row_gets_one(config, people, store, shift):

    pid = add_product("NEW", "Barang Baru", 1000, barcode=ean("899100550001"))
    sell(config, people[1], (ean("899100550001"), 2))
    assert StockLevel.get_by_id(pid).on_hand == -2


def test_training_sale_has_own_series_no_stock_no_outbox(config, people, catalog, shift):
    _, cashier = people
    identity.set_training_mode(True)
    before_outbox = count("outbox")
    done = sell(config, cashier, (ean("899100110001"), 2))
    assert done.receipt_no == "TRN-000001" and done.training
    assert count("outbox") == before_outbox
    assert StockLevel.get_by_id(catalog["indomie"]).on_hand == 100
    identity.set_training_mode(False)
    real = sell(config, cashier, (ean("899100110001"), 1))
    assert real.receipt_no == "000001"


def test_enrolled_receipt_numbers_carry_store_and_terminal(config, people, catalog, shift):
    ident = identity.load()
    identity.save(identity.Identity(ident.terminal_id, "T02", "JKT01", "Toko", True))
    done = sell(config, people[1], (ean("899100110001"), 1))
    assert done.receipt_no == "JKT01-T02-000001"


def test_event_payload_matches_rows_for_discounted_sale(config, people, catalog, shift):
    from retail.pricing import Discount

    manager, _ = people
    cart = Cart(config, staff=manager)
    cart.scan(ean("899100110001"), 3)
    cart.scan(ean("899100220001"), 2)
    cart.discount_cart(Discount("amount", 1001), manager)
    done = complete_sale(cart, [TenderInput("cash", 50000)], staff=manager, config=config)
    event = Event.model_validate_json(bytes(Outbox.get(Outbox.id == done.sale_id).payload))
    p = event.payload
    assert sum(ln.cart_discount for ln in p.lines) == 1001
    assert sum(ln.total for ln in p.lines) + p.rounding == p.total
    assert json.loads(event.to_bytes())["payload"]["discount_total"] == 1001
