"""Refunds: shares of what was paid, never more than sold, stock and events."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.refunds import RefundError, refund
from appliance.staff import AuthError
from appliance.store.models import Outbox, Payment, SaleLine, StockLevel
from retail.pricing import Discount, TenderInput
from retail.schema import Event
from tests.appliance.tillkit import count, ean

INDOMIE, AQUA, BERAS = ean("899100110001"), ean("899100220001"), ean("899100330001")


def discounted_sale(config, manager, cash=200_000):
    cart = Cart(config, staff=manager)
    cart.scan(INDOMIE, 7)
    cart.scan(AQUA, 3)
    cart.scan(BERAS, 1)
    cart.discount_line(2, Discount("percent", 1500), manager)
    cart.discount_cart(Discount("amount", 3333), manager)
    return complete_sale(cart, [TenderInput("cash", cash)], staff=manager, config=config)


def test_partial_refunds_add_up_exactly_to_the_sale(config, people, catalog, shift):
    manager, _ = people
    sale = discounted_sale(config, manager)
    lines = {ln.line_no: ln for ln in SaleLine.select().where(SaleLine.sale == sale.sale_id)}
    got_amount = {n: 0 for n in lines}
    got_tax = {n: 0 for n in lines}
    for selection in ({1: 2}, {1: 1, 2: 1}, {1: 4}, {2: 2, 3: 1}):
        done = refund(
            sale.receipt_no,
            config=config,
            staff=manager,
            approver=manager,
            lines=selection,
            to="original",
        )
        for r in done.lines:
            got_amount[r.line_no] += r.amount
            got_tax[r.line_no] += r.tax
    for n, line in lines.items():
        assert got_amount[n] == line.total, n
        assert got_tax[n] == line.tax_amount, n
    with pytest.raises(RefundError, match="already been refunded"):
        refund(sale.receipt_no, config=config, staff=manager, approver=manager)


def test_cannot_refund_more_than_sold(config, people, catalog, shift):
    manager, _ = people
    sale = discounted_sale(config, manager)
    refund(sale.receipt_no, config=config, staff=manager, approver=manager, lines={1: 5})
    with pytest.raises(RefundError, match=r"line 1 \(Indomie Goreng\): 3 asked but only 2 of 7"):
        refund(sale.receipt_no, config=config, staff=manager, approver=manager, lines={1: 3})
    with pytest.raises(RefundError, match="has no line 9"):
        refund(sale.receipt_no, config=config, staff=manager, approver=manager, lines={9: 1})
    with pytest.raises(RefundError, match="not a sale of this till"):
        refund("999999", config=config, staff=manager, approver=manager)


def test_refund_needs_a_manager(config, people, catalog, shift):
    manager, cashier = people
    sale = discounted_sale(config, manager)
    before = count("refund")
    with pytest.raises(AuthError, match="manager"):
        refund(sale.receipt_no, config=config, staff=cashier, approver=cashier)
    assert count("refund") == before


def test_refund_restocks_books_cash_and_depends_on_sale(config, people, catalog, shift):
    manager, _ = people
    sale = discounted_sale(config, manager)
    done = refund(
        sale.receipt_no,
        config=config,
        staff=manager,
        approver=manager,
        lines={1: 2},
        to="cash",
        reason="rusak",
    )
    assert StockLevel.get_by_id(catalog["indomie"]).on_hand == 100 - 7 + 2
    pay = Payment.get(Payment.refund == done.refund_id)
    assert pay.tender == "cash" and pay.amount == -done.total
    assert done.total % 100 == 0  # cash refunds round to the cash step again
    event = Event.model_validate_json(bytes(Outbox.get(Outbox.id == done.refund_id).payload))
    assert event.type == "sale.refunded" and event.depends_on == [sale.sale_id]
    assert event.payload.rounding == done.rounding
    assert sum(ln.amount for ln in event.payload.lines) + done.rounding == done.total


def test_refund_to_original_tenders_splits_by_what_each_paid(config, people, catalog, shift):
    manager, _ = people
    cart = Cart(config, staff=manager)
    cart.scan(BERAS, 2)  # 150.000, tax free
    sale = complete_sale(
        cart,
        [TenderInput("card", 100_000, "C1"), TenderInput("cash", 50_000)],
        staff=manager,
        config=config,
    )
    done = refund(
        sale.receipt_no, config=config, staff=manager, approver=manager, lines={1: 1}, to="original"
    )
    assert dict(done.payments) == {"card": 50_000, "cash": 25_000}
    assert done.opens_drawer  # part of it goes back in cash


def test_no_restock_leaves_stock(config, people, catalog, shift):
    manager, _ = people
    sale = discounted_sale(config, manager)
    refund(
        sale.receipt_no, config=config, staff=manager, approver=manager, lines={3: 1}, restock=False
    )
    assert StockLevel.get_by_id(catalog["beras"]).on_hand == 9


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_refund_sequence_sums_to_the_line(config, people, catalog, shift, data):
    manager, _ = people
    cart = Cart(config, staff=manager)
    qty = data.draw(st.integers(1, 12))
    cart.scan(AQUA, qty)
    cart.discount_cart(Discount("amount", data.draw(st.integers(0, 3999 * qty // 2))), manager)
    sale = complete_sale(
        cart, [TenderInput("card", cart.priced().total, "R")], staff=manager, config=config
    )
    line = SaleLine.get(SaleLine.sale == sale.sale_id)
    left, refunded, tax = qty, 0, 0
    while left:
        k = data.draw(st.integers(1, left))
        done = refund(sale.receipt_no, config=config, staff=manager, approver=manager, lines={1: k})
        refunded += done.lines[0].amount
        tax += done.lines[0].tax
        left -= k
    assert refunded == line.total and tax == line.tax_amount


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_split_tender_refunds_never_give_back_more_card_than_was_charged(
    config, people, catalog, shift, data
):
    """Cash refunds are rounded to the cash step each time, so the tenders' shares drift by a
    few rupiah over partial refunds: the card never gives back more than it was charged, and
    everything given back ends within one cash step of what was paid."""
    manager, _ = people
    cart = Cart(config, staff=manager)
    qty = data.draw(st.integers(2, 9))
    cart.scan(INDOMIE, qty)
    cart.scan(AQUA, data.draw(st.integers(1, 5)))
    total = cart.priced().total
    card = data.draw(st.integers(1, total - 1))
    sale = complete_sale(
        cart,
        [TenderInput("card", card, "R"), TenderInput("cash", total)],
        staff=manager,
        config=config,
    )
    paid = {tender: amount for tender, amount, _ref in sale.payments}
    back = {"card": 0, "cash": 0}
    while True:
        left = {
            ln.line_no: ln.qty - ln.refunded_qty
            for ln in SaleLine.select().where(SaleLine.sale == sale.sale_id)
        }
        left = {no: n for no, n in left.items() if n}
        if not left:
            break
        no = data.draw(st.sampled_from(sorted(left)))
        done = refund(
            sale.receipt_no,
            config=config,
            staff=manager,
            approver=manager,
            lines={no: data.draw(st.integers(1, left[no]))},
            to="original",
        )
        for tender, amount in done.payments:
            back[tender] += amount
        assert back["card"] <= paid["card"]
    assert back["card"] <= paid["card"]
    assert abs(back["card"] + back["cash"] - sale.total) < config["store.cash_rounding"]
