"""Refunding another till's sale: two real tills of one store, each with its own SQLite file,
enrolled with a real OMS server; the second till refunds the first's sale through the OMS, and
neither till can give back more than was sold."""

from __future__ import annotations

import json

import pytest

from appliance import identity, refunds, sync
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.oms_link import OmsLink, OmsUnavailable
from appliance.receipts import sale_receipt
from appliance.store.models import Outbox, Sale
from retail.pricing import TenderInput
from tests.appliance.tillkit import ean
from tests.sync.inprocess import InProcessTill, close_store

STORE = "XTR"


@pytest.fixture
def tills(oms_server, tmp_path):
    a = InProcessTill(tmp_path, "Kasir A").setup(oms_server, STORE, "Ani")
    b = InProcessTill(tmp_path, "Kasir B").setup(oms_server, STORE, "Budi")
    yield a, b
    close_store()


def booked(server, sale_id):
    from cloud_oms.models.orders import Order, OrderLine, Return

    with server.bind():
        order = Order.get(Order.sale_id == sale_id)
        lines = {
            ln.source_line_id: ln.returned_qty
            for ln in OrderLine.select().where(OrderLine.order == order.id)
        }
        returns = {r.number for r in Return.select().where(Return.order == order.id)}
        return lines, returns, order.refunded_total


def test_a_sale_of_one_till_is_refunded_at_another(oms_server, tills):
    a, b = tills
    a.use()
    cart = Cart(a.config, staff=a.manager)
    cart.scan(ean("899100110001"), 3)  # Indomie 3 x 3.500
    cart.scan(ean("899100330001"))  # Beras 75.000
    sold = complete_sale(
        cart,
        [TenderInput("card", 60_000, "APV-1"), TenderInput("cash", 30_000)],
        staff=a.manager,
        config=a.config,
    )
    a.sync()
    a_code = identity.load().terminal_code

    b.use()
    stock_before = b.stock("IDM")
    with pytest.raises(refunds.RefundError, match="not a sale of this till"):
        refunds.refundable(sold.receipt_no)
    remote = OmsLink().remote_sale(sold.receipt_no)
    assert remote.terminal == a_code and remote.refunds == []
    found = refunds.adopt_remote(remote)
    assert found.origin == a_code
    assert [(ln.name, ln.qty, ln.left) for ln in found.lines] == [
        ("Indomie Goreng", 3, 3),
        ("Beras 5kg", 1, 1),
    ]
    assert found.tenders == ("card", "cash")
    # it is that till's receipt, not one this till can reprint as its own
    with pytest.raises(LookupError):
        sale_receipt(sold.receipt_no, b.config)

    done = refunds.refund(
        sold.receipt_no,
        config=b.config,
        staff=b.manager,
        approver=b.manager,
        lines={1: 2},
        to="original",
    )
    assert done.receipt_no.startswith(f"{STORE}-")
    # over both tenders in proportion, the cash part rounded to the cash step
    assert done.total == 7000 + done.rounding and abs(done.rounding) < 100
    assert sum(a for _t, a in done.payments) == done.total
    assert {t for t, _a in done.payments} == {"card", "cash"}
    assert b.stock("IDM") == stock_before + 2  # back on this shop's shelf
    event = json.loads(bytes(Outbox.get(Outbox.id == done.refund_id).payload))
    assert event["depends_on"] == [remote.event_id]
    assert event["payload"]["sale_id"] == sold.sale_id
    b.sync()
    returned, returns, refunded_total = booked(oms_server, sold.sale_id)
    assert sorted(returned.values()) == [0, 2] and returns == {done.receipt_no}
    assert refunded_total == done.total

    # this till's sales and shift reports never count the other till's sale
    assert Sale.get(Sale.receipt_no == sold.receipt_no).shift_id is None

    # asked again, the OMS and this till agree on what is left; more than that is refused
    again = refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    assert [ln.left for ln in again.lines] == [1, 1]
    with pytest.raises(refunds.RefundError, match="only 1 of 3 left"):
        refunds.refund(
            sold.receipt_no,
            config=b.config,
            staff=b.manager,
            approver=b.manager,
            lines={1: 2},
        )

    # the till that sold it learns of the refund made elsewhere before refunding its own sale
    a.use()
    assert [ln.left for ln in refunds.refundable(sold.receipt_no).lines] == [3, 1]
    mine = refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    assert mine.origin is None
    assert [ln.left for ln in mine.lines] == [1, 1]
    rest = refunds.refund(sold.receipt_no, config=a.config, staff=a.manager, approver=a.manager)
    assert rest.total == 3500 + 75000 + rest.rounding  # the last Indomie and the rice
    # back over the tenders as paid, never more on one than it still held after B's refund
    paid = {tender: amount for tender, amount, _ref in sold.payments}
    back = {
        tender: dict(done.payments).get(tender, 0) + dict(rest.payments).get(tender, 0)
        for tender in paid
    }
    assert back["card"] == paid["card"]  # cards are never rounded: given back to the rupiah
    assert abs(back["cash"] - paid["cash"]) < 100  # cash: up to the rounding step
    a.sync()

    # back at B, a refund booked there but not yet sent still counts after a fresh look
    b.use()
    last = refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    assert [ln.left for ln in last.lines] == [0, 0]
    with pytest.raises(refunds.RefundError, match="already been refunded"):
        refunds.refund(sold.receipt_no, config=b.config, staff=b.manager, approver=b.manager)
    returned, returns, refunded_total = booked(oms_server, sold.sale_id)
    assert sorted(returned.values()) == [1, 3]
    assert refunded_total == done.total + rest.total


def test_unsent_refunds_here_count_with_those_the_oms_knows(oms_server, tills):
    a, b = tills
    a.use()
    cart = Cart(a.config, staff=a.manager)
    cart.scan(ean("899100220001"), 4)
    sold = complete_sale(cart, [TenderInput("cash", 20_000)], staff=a.manager, config=a.config)
    a.sync()
    b.use()
    refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    refunds.refund(
        sold.receipt_no, config=b.config, staff=b.manager, approver=b.manager, lines={1: 1}
    )
    # not synced yet: the OMS knows nothing of it, this till does
    fresh = refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    assert [ln.left for ln in fresh.lines] == [3]
    b.sync()
    synced = refunds.adopt_remote(OmsLink().remote_sale(sold.receipt_no))
    assert [ln.left for ln in synced.lines] == [3]  # counted once, not twice


def test_a_receipt_the_oms_does_not_know_and_an_unreachable_oms(oms_server, tills):
    a, b = tills
    a.use()
    cart = Cart(a.config, staff=a.manager)
    cart.scan(ean("899100220001"))
    unsent = complete_sale(cart, [TenderInput("cash", 5_000)], staff=a.manager, config=a.config)
    b.use()
    with pytest.raises(LookupError, match="OMS knows no sale of this store"):
        OmsLink().remote_sale(unsent.receipt_no)
    sync.put_state("oms_url", "http://127.0.0.1:9")
    with pytest.raises(OmsUnavailable, match="cannot be reached"):
        OmsLink().remote_sale(unsent.receipt_no)
