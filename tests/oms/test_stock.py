"""The stock ledger, till sales and refunds, reservations, purchasing, valuation and the finance
journal, in process against both backends."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from orders_factory import make_product, make_store, make_terminal, refund_event, sale_event

from cloud_oms import db, finance, orders, stock
from cloud_oms.models.orders import Order, OrderLine, Payment
from cloud_oms.models.stock import StockLevel, StockMovement
from retail.ids import zone

ACTOR = "user:owner@toko.id"


def level(store, product) -> StockLevel:
    return StockLevel.get((StockLevel.store == store.id) & (StockLevel.product == product.id))


def ledger_sum(store, product) -> int:
    return sum(
        m.qty
        for m in StockMovement.select().where(
            (StockMovement.store == store.id) & (StockMovement.product == product.id)
        )
    )


def book(store, term, event):
    with db.atomic():
        return orders.book_store_sale(store, term, event.payload, event)


def test_till_sale_books_stock_and_flags_oversell_and_unmatched(oms_db):
    store = make_store()
    term = make_terminal(store)
    kopi, teh = make_product("KOPI", 45_000), make_product("TEH", 20_000)
    stock.adjust(store, kopi, 3, "opening stock", ACTOR, unit_cost=30_000)
    event = sale_event(
        term, [(kopi, 2), (teh, 1), ({"sku": "MISC", "name": "Es batu", "price": 2_000}, 1)]
    )
    order = book(store, term, event)
    assert (order.kind, order.number, order.status, order.payment_status) == (
        "store",
        "T01-000001",
        "collected",
        "paid",
    )
    assert order.has_unmatched and order.oversold
    lines = {ln.sku: ln for ln in OrderLine.select().where(OrderLine.order == order.id)}
    assert (lines["KOPI"].match, lines["KOPI"].oversold, lines["KOPI"].cost_price) == (
        "id",
        False,
        30_000,
    )
    assert (lines["TEH"].match, lines["TEH"].oversold) == ("id", True)
    assert (lines["MISC"].match, lines["MISC"].product_id) == ("unmatched", None)
    assert (level(store, kopi).on_hand, level(store, teh).on_hand) == (1, -1)
    for product in (kopi, teh):
        assert ledger_sum(store, product) == level(store, product).on_hand
    sale_moves = StockMovement.select().where(StockMovement.ref_id == order.id)
    assert sorted((m.cause, m.qty, m.oversold) for m in sale_moves) == [
        ("sale", -2, False),
        ("sale", -1, True),
    ]
    # the same sale again (a redelivery) is not booked twice
    assert book(store, term, event).id == order.id
    assert level(store, kopi).on_hand == 1


def test_sku_match_when_the_till_id_differs(oms_db):
    store = make_store()
    term = make_terminal(store)
    kopi = make_product("KOPI", 45_000)
    event = sale_event(term, [({"sku": "KOPI", "name": "Kopi (till name)", "price": 45_000}, 1)])
    order = book(store, term, event)
    line = OrderLine.get(OrderLine.order == order.id)
    assert (line.match, line.product_id, line.name) == ("sku", kopi.id, "Kopi (till name)")
    assert not order.has_unmatched


def test_till_refund_is_a_return_with_restock_and_write_off(oms_db):
    store = make_store()
    term = make_terminal(store)
    kopi, teh = make_product("KOPI", 45_000), make_product("TEH", 20_000)
    stock.adjust(store, kopi, 10, "opening", ACTOR)
    stock.adjust(store, teh, 10, "opening", ACTOR)
    sale = sale_event(term, [(kopi, 3), (teh, 2)])
    order = book(store, term, sale)
    refund = refund_event(sale, [(1, 1, True), (2, 2, False)])
    with db.atomic():
        ret = orders.book_store_refund(store, term, refund.payload, refund)
    order = Order.get_by_id(order.id)
    assert (ret.number, ret.amount) == ("T01-R00001", 45_000 + 40_000)
    assert (order.status, order.payment_status, order.refunded_total) == (
        "partially_returned",
        "partially_refunded",
        85_000,
    )
    assert level(store, kopi).on_hand == 10 - 3 + 1
    assert level(store, teh).on_hand == 10 - 2
    causes = [
        (m.cause, m.qty)
        for m in StockMovement.select()
        .where(StockMovement.ref_id == ret.id)
        .order_by(StockMovement.at, StockMovement.id)
    ]
    assert causes == [("return_restock", 1), ("return_restock", 2), ("write_off", -2)]
    refund_payment = Payment.get(Payment.kind == "refund")
    assert refund_payment.refund_of_id == Payment.get(Payment.kind == "payment").id
    # the same refund again is the same return
    with db.atomic():
        assert orders.book_store_refund(store, term, refund.payload, refund).id == ret.id
    rest = refund_event(sale, [(1, 2, True)], receipt_no="T01-R00002", seq=3)
    with db.atomic():
        orders.book_store_refund(store, term, rest.payload, rest)
    order = Order.get_by_id(order.id)
    assert (order.status, order.payment_status) == ("returned", "refunded")


def test_goods_refunded_at_two_tills_are_booked_and_flagged(oms_db):
    from cloud_oms.models.orders import OrderTransition

    store = make_store()
    term, other = make_terminal(store), make_terminal(store, "T02")
    kopi = make_product("KOPI", 45_000)
    stock.adjust(store, kopi, 10, "opening", ACTOR)
    sale = sale_event(term, [(kopi, 2)])
    order = book(store, term, sale)
    first = refund_event(sale, [(1, 2, True)])
    # the selling till, offline, refunds the same goods as another till did
    second = refund_event(sale, [(1, 1, True)], receipt_no="T02-R00001", seq=3)
    with db.atomic():
        orders.book_store_refund(store, term, first.payload, first)
    assert orders.over_refunded_lines(Order.get_by_id(order.id)) == []
    with db.atomic():
        orders.book_store_refund(store, other, second.payload, second)
    order = Order.get_by_id(order.id)
    assert order.refunded_total == 3 * 45_000  # what really went back across the counters
    assert orders.over_refunded_lines(order) == ["line 1 Product KOPI: 3 refunded of 2 sold"]
    flagged = [o.id for o in Order.select().where(Order.id.in_(orders.over_refunded_orders()))]
    assert flagged == [order.id]
    notes = [t.note for t in OrderTransition.select().where(OrderTransition.order == order.id)]
    assert any(
        "OVER-REFUNDED by refund T02-R00001: line 1 Product KOPI: 3 refunded of 2 sold" in n
        for n in notes
    ), notes
    assert level(store, kopi).on_hand == 10 - 2 + 3


def test_refund_of_an_unknown_or_foreign_sale_cannot_be_booked(oms_db):
    store, other = make_store(), make_store("SBY1")
    term, far = make_terminal(store), make_terminal(other, "T02")
    kopi = make_product("KOPI", 45_000)
    sale = sale_event(term, [(kopi, 1)])
    refund = refund_event(sale, [(1, 1, True)])
    with pytest.raises(orders.BookingError, match=r"sale T01-000001 .* is not booked"), db.atomic():
        orders.book_store_refund(store, term, refund.payload, refund)
    book(store, term, sale)
    with pytest.raises(orders.BookingError, match="belongs to another store"), db.atomic():
        orders.book_store_refund(other, far, refund.payload, refund)


def test_reservations_available_and_release_on_cancel(oms_db):
    store = make_store()
    kopi = make_product("KOPI", 45_000)
    stock.adjust(store, kopi, 5, "opening", ACTOR)
    spec = orders.OrderSpec(kind="phone", store=store, lines=[orders.LineSpec(sku="KOPI", qty=4)])
    order = orders.create_order(spec, ACTOR)
    assert (level(store, kopi).on_hand, level(store, kopi).reserved) == (5, 4)
    assert stock.available(store, kopi) == 1
    with pytest.raises(stock.OutOfStock, match="product KOPI: 1 available, 2 wanted"):
        orders.create_order(
            orders.OrderSpec(kind="phone", store=store, lines=[orders.LineSpec(sku="KOPI", qty=2)]),
            ACTOR,
        )
    orders.cancel(order, ACTOR, "no longer wanted")
    assert (level(store, kopi).on_hand, level(store, kopi).reserved) == (5, 0)
    # a till sale that eats into reserved stock is booked and flagged
    again = orders.create_order(spec, ACTOR)
    term = make_terminal(store)
    sale = book(store, term, sale_event(term, [(kopi, 2)]))
    assert sale.oversold and level(store, kopi).available == -1
    orders.confirm(again, ACTOR)
    orders.fulfil(Order.get_by_id(again.id), None, ACTOR)
    taken = StockMovement.get(
        (StockMovement.ref_id == again.id) & (StockMovement.cause == "fulfilment")
    )
    assert (taken.qty, taken.on_hand_after, taken.oversold) == (-4, -1, True)
    assert (level(store, kopi).on_hand, level(store, kopi).reserved) == (-1, 0)
    assert ledger_sum(store, kopi) == -1


def test_low_stock_thresholds(oms_db):
    store = make_store()
    kopi, teh = make_product("KOPI", 45_000), make_product("TEH", 20_000)
    stock.adjust(store, kopi, 3, "opening", ACTOR)
    stock.adjust(store, teh, 30, "opening", ACTOR)
    stock.set_threshold(store, kopi, 5)
    stock.set_threshold(store, teh, 5)
    assert [row.sku for row in stock.levels(store, low_only=True)] == ["KOPI"]
    with pytest.raises(stock.StockError, match="threshold -1 is negative"):
        stock.set_threshold(store, kopi, -1)
    with pytest.raises(stock.StockError, match="needs a reason"):
        stock.adjust(store, kopi, 1, "  ", ACTOR)


def test_purchase_orders_costs_value_and_margins(oms_db):
    store = make_store()
    kopi = make_product("KOPI", 45_000)
    supplier = stock.create_supplier("CV Kopi Nusantara", "po@kopi.example")
    with pytest.raises(stock.StockError, match="exists already"):
        stock.create_supplier("CV Kopi Nusantara")
    po = stock.create_purchase_order(store, supplier, [(kopi, 10, 20_000)], ACTOR)
    line = po.lines[0]
    po, moves = stock.receive(po, ACTOR, {line.id: 4})
    assert po.status == "partially_received" and moves[0].unit_cost == 20_000
    with pytest.raises(stock.StockError, match="received 7 but 6 outstanding"):
        stock.receive(po, ACTOR, {line.id: 7})
    po2 = stock.create_purchase_order(store, supplier, [(kopi, 4, 26_000)], ACTOR)
    stock.receive(po2, ACTOR)
    assert level(store, kopi).avg_cost == 23_000  # (4 x 20.000 + 4 x 26.000) / 8
    po, _ = stock.receive(po, ACTOR)
    assert po.status == "received"
    with pytest.raises(stock.StockError, match="is received"):
        stock.receive(po, ACTOR)
    # 8 at 23.000 and 6 at 20.000 → 14 at 21.714,28… rounded half up
    assert level(store, kopi).avg_cost == 21_714
    assert stock.stock_value(store) == 14 * 21_714
    term = make_terminal(store)
    sold_at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    book(store, term, sale_event(term, [(kopi, 2)], occurred_at=sold_at))
    rows = stock.margins(store, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    net = 90_000 - 8_919
    assert rows == [
        {
            "product_id": kopi.id,
            "sku": "KOPI",
            "qty": 2,
            "revenue": net,
            "cost": 2 * 21_714,
            "margin": net - 2 * 21_714,
        }
    ]


def _journal_rows(store, day: date) -> list[dict]:
    return list(csv.DictReader(io.StringIO(finance.journal_csv(store, day, day))))


def test_finance_journal_balances_per_day(oms_db):
    store = make_store()
    term = make_terminal(store)
    kopi, teh = make_product("KOPI", 45_000), make_product("TEH", 20_000)
    day = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
    sale = sale_event(
        term, [(kopi, 2), (teh, 1)], occurred_at=day, cart_discount=10_000, tender="qris"
    )
    book(store, term, sale)
    refund = refund_event(sale, [(2, 1, True)])
    refund = refund.model_copy(update={"occurred_at": day})
    with db.atomic():
        orders.book_store_refund(store, term, refund.payload, refund)
    rows = _journal_rows(store, date(2026, 3, 2))
    totals = defaultdict(int)
    for row in rows:
        assert row["store"] == "JKT1" and row["currency"] == "IDR" and row["date"] == "2026-03-02"
        totals["debit"] += int(row["debit"])
        totals["credit"] += int(row["credit"])
    assert totals["debit"] == totals["credit"]
    by = {row["account"]: (int(row["debit"]), int(row["credit"])) for row in rows}
    s = sale.payload
    assert by["discounts"] == (10_000, 0)
    assert by["tax_output"] == (refund.payload.tax_total, s.tax_total)
    assert by["sales"] == (0, s.subtotal - s.tax_total)
    assert by["sales_returns"] == (refund.payload.total - refund.payload.tax_total, 0)
    assert by["tender:qris"] == (s.total, refund.payload.total)
    assert "receivable" not in by  # a till sale is paid at the counter
    assert _journal_rows(store, date(2026, 3, 3)) == []
    # money given back later without a return (a goodwill refund) is journalled on its day
    order = Order.get(Order.sale_id == s.sale_id)
    orders.refund(order, 1_000, ACTOR, method="qris")
    today = datetime.now(UTC).astimezone(zone("Asia/Jakarta")).date()
    later = {
        row["account"]: (int(row["debit"]), int(row["credit"]))
        for row in _journal_rows(store, today)
    }
    assert later == {"sales_allowances": (1_000, 0), "tender:qris": (0, 1_000)}


def test_click_and_collect_paid_and_collected_at_the_till(oms_db):
    from datetime import UTC, datetime

    from retail.ids import uuid7
    from retail.schema import Event, OrderPaid, PaymentWire

    store, other = make_store(), make_store("SBY1")
    term = make_terminal(store)
    kopi = make_product("KOPI", 45_000)
    stock.adjust(store, kopi, 2, "opening", ACTOR)
    spec = orders.OrderSpec(kind="phone", store=store, delivery="pickup", customer_name="Rina",
                            phone="0811000111", lines=[orders.LineSpec(sku="KOPI", qty=2)])  # fmt: skip
    order = orders.create_order(spec, ACTOR)
    orders.confirm(order, ACTOR)
    orders.fulfil(order, None, ACTOR)
    orders.ready_for_pickup(order, ACTOR)
    waiting = orders.pickup_orders(store)
    assert [(w["number"], w["due"], w["lines"][0]["qty"]) for w in waiting] == [
        (order.number, 90_000, 2)
    ]
    assert orders.pickup_orders(other) == []
    paid = OrderPaid(order_id=order.id, shift_id=uuid7(), staff_id=uuid7(), total=90_000,
                     payments=[PaymentWire(payment_id=uuid7(), tender="cash", amount=90_000)])  # fmt: skip
    event = Event(id=uuid7(), type="order.paid", seq=1, occurred_at=datetime.now(UTC),
                  tz="Asia/Jakarta", payload=paid)  # fmt: skip
    with pytest.raises(orders.BookingError, match="not found"), db.atomic():
        orders.record_till_payment(other, term, paid, event)
    with db.atomic():
        orders.record_till_payment(store, term, paid, event)
        orders.record_till_payment(store, term, paid, event)  # a redelivery pays nothing twice
    assert Order.get_by_id(order.id).paid_total == 90_000
    with db.atomic():
        orders.mark_collected(order.id, "terminal:T01", store=store)
    order = Order.get_by_id(order.id)
    assert (order.status, order.payment_status) == ("collected", "paid")
    assert orders.pickup_orders(store) == []
    with (
        pytest.raises(orders.state.IllegalTransition, match="is collected; cannot collect"),
        db.atomic(),
    ):
        orders.mark_collected(order.id, "terminal:T01", store=store)
