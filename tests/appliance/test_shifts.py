"""Shifts, cash movements, X/Z reports and the clock check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance import reports, shifts
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.refunds import refund
from appliance.staff import AuthError
from appliance.store.models import Outbox, Shift
from retail.ids import utcnow
from retail.pricing import Discount, TenderInput
from retail.schema import Event
from tests.appliance.tillkit import count, ean

INDOMIE, AQUA, BERAS = ean("899100110001"), ean("899100220001"), ean("899100330001")


def test_open_twice_is_refused(config, people, shift):
    with pytest.raises(shifts.ShiftError, match="already open"):
        shifts.open_shift(people[0], 0, config)


def test_clock_earlier_than_seen_refuses_shift(config, people, catalog):
    manager, _ = people
    now = utcnow()
    s = shifts.open_shift(manager, 0, config, now=now)
    shifts.close_shift(manager, 0, config, now=now + timedelta(hours=8))
    with pytest.raises(shifts.ShiftError, match="earlier than"):
        shifts.open_shift(manager, 0, config, now=now + timedelta(hours=1))
    assert Shift.select().count() == 1 and s.id
    shifts.open_shift(manager, 0, config, now=now + timedelta(hours=9))


def test_cash_moves_need_reason_and_shift(config, people, catalog):
    manager, _ = people
    with pytest.raises(shifts.ShiftError, match="no shift is open"):
        shifts.cash_move(manager, 1000, "modal", config)
    shifts.open_shift(manager, 0, config)
    with pytest.raises(shifts.ShiftError, match="reason"):
        shifts.cash_move(manager, 1000, "  ", config)
    with pytest.raises(shifts.ShiftError, match="amount"):
        shifts.cash_move(manager, 0, "x", config)


def test_z_report_arithmetic(config, people, catalog):
    manager, cashier = people
    shifts.open_shift(cashier, 150_000, config)
    cart = Cart(config, staff=cashier)
    cart.scan(INDOMIE, 3)  # 10.500
    cart.scan(BERAS)  # 75.000 (tax free)
    s1 = complete_sale(cart, [TenderInput("cash", 100_000)], staff=cashier, config=config)
    cart = Cart(config, staff=manager)
    cart.scan(AQUA, 2)  # 8.000
    cart.discount_cart(Discount("percent", 1000), manager)  # -800
    complete_sale(cart, [TenderInput("qris", 7200, "Q1")], staff=manager, config=config)
    shifts.cash_move(cashier, 50_000, "tukar uang kecil", config)
    shifts.cash_move(cashier, -20_000, "beli galon", config)
    refund(s1.receipt_no, config=config, staff=manager, approver=manager, lines={1: 1}, to="cash")
    x = reports.shift_report(shifts.current().id)
    assert x.kind == "X" and x.sales_count == 2
    assert x.sales_total == 85_500 + 7_200
    assert x.cash_taken == 100_000 and x.change_given == 14_500
    assert x.cash_refunds == 3_500 and x.cash_in == 50_000 and x.cash_out == 20_000
    assert x.expected_cash == 150_000 + 100_000 - 14_500 - 3_500 + 50_000 - 20_000
    assert x.cart_discount == 800
    assert {t.tender: t.amount for t in x.tenders} == {"cash": 85_500, "qris": 7_200}
    assert {t.code: t.tax for t in x.taxes} == {
        "FREE": 0,
        "PPN": 1041 + 714,
    }  # 7200 x 0.11 / 1.11 = 713.5
    assert x.best_sellers[0].name == "Beras Premium 5kg"
    with pytest.raises(AuthError, match="manager"):
        shifts.close_shift(cashier, 262_000, config)
    z = shifts.close_shift(cashier, 262_000, config, approver=manager)
    assert z.kind == "Z" and z.z_number == 1 and z.over_short == 262_000 - x.expected_cash
    assert Shift.get_by_id(z.shift_id).expected_cash == x.expected_cash
    events = [Event.model_validate_json(bytes(o.payload)) for o in Outbox.select()]
    closed = [e.payload for e in events if e.type == "shift.closed"]
    assert len(closed) == 1 and closed[0].over_short == z.over_short
    assert {e.type for e in events} >= {
        "shift.opened",
        "cash.moved",
        "sale.completed",
        "sale.refunded",
        "shift.closed",
    }


def test_z_numbers_are_sequential(config, people, catalog):
    manager, _ = people
    numbers = []
    for _ in range(3):
        shifts.open_shift(manager, 0, config)
        numbers.append(shifts.close_shift(manager, 0, config).z_number)
    assert numbers == [1, 2, 3]


def test_training_sales_are_left_out_of_reports(config, people, catalog, shift):
    from appliance import identity

    manager, _ = people
    identity.set_training_mode(True)
    cart = Cart(config, staff=manager)
    cart.scan(BERAS)
    complete_sale(cart, [TenderInput("cash", 100_000)], staff=manager, config=config)
    identity.set_training_mode(False)
    r = reports.shift_report(shift.id)
    assert r.sales_count == 0 and r.cash_taken == 0 and r.expected_cash == 200_000


def test_close_without_shift(config, people):
    with pytest.raises(shifts.ShiftError, match="no shift is open"):
        shifts.close_shift(people[0], 0, config)
    assert count("shift") == 0
