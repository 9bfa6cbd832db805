"""Pickup orders through the touchscreen: the balance paid on the payment screen in cash, by
card or by QRIS, what the store and the outbox hold afterwards, the drawer (cash only) and the
slip printed for the customer (ESC/POS bytes)."""

from __future__ import annotations

import json
import re

from appliance import identity, staff, sync
from appliance.hw.preview import decode, to_text
from appliance.store.models import Outbox, Payment, PrintJob, Shift
from retail import qris
from tests.ui.driver import CASHIER, QRIS_STATIC

ORDER_ID = "01934f6e-7a1b-7c3d-8e4f-5a6b7c8d9e0f"
OTHER_ID = "01934f6e-7a1b-7c3d-8e4f-5a6b7c8d9e10"


def waiting_orders() -> None:
    """The till enrolled, and two orders as the sync service last fetched them: one with a
    balance (part was paid online), one paid in full."""
    ident = identity.load()
    identity.save(
        identity.Identity(
            terminal_id=ident.terminal_id,
            terminal_code="T1",
            store_code="S01",
            store_name="Toko Maju Jaya",
            enrolled=True,
        )
    )
    sync.put_state(
        "pickup_orders",
        [
            {
                "order_id": ORDER_ID,
                "number": "W-1001",
                "customer_name": "Sari",
                "total": 120_000,
                "due": 85_000,
                "lines": [{"name": "Kopi Kapal Api 165g", "qty": 4}],
            },
            {
                "order_id": OTHER_ID,
                "number": "W-1002",
                "customer_name": "Dewi",
                "total": 40_000,
                "due": 0,
                "lines": [],
            },
        ],
    )


def open_payment(ui):
    """Log in, open the shift, open the pickup orders and touch W-1001's "Take payment"."""
    app = ui.app
    waiting_orders()
    ui.login()
    ui.open_shift("100000")
    ui.tap("Pickup")
    ui.idle()
    pickup = ui.screen
    rows = {row.title: row for row in ui.find_all() if type(row).__name__ == "ListRow"}
    assert rows["W-1001"].detail == f"Sari · {app.money(120_000)} · to pay {app.money(85_000)}"
    assert rows["W-1002"].detail == f"Dewi · {app.money(40_000)} · paid"
    assert not ui.find_all("Take payment", within=rows["W-1002"])
    ui.tap(ui.find("Take payment", within=rows["W-1001"]))
    assert app.sm.current == "payment"
    pay = ui.screen
    assert pay.order_text == f"Pickup order W-1001 · Sari · paid online {app.money(35_000)}"
    assert (pay.total, pay.due) == (85_000, 85_000)
    return pickup, pay


def printed_slip(ui) -> str:
    """The pickup slip as the printer received it (ESC/POS bytes decoded)."""
    ui.wait(
        lambda: [j.state for j in PrintJob.select()] == ["done"], what="the pickup slip printed"
    )
    (job,) = PrintJob.select()
    assert (job.kind, job.ref) == ("pickup", "W-1001")
    return to_text(decode(ui.app.till.printer.jobs[-1].read_bytes()), 42)


def events_since(seq: int) -> list[dict]:
    rows = Outbox.select().where(Outbox.seq > seq).order_by(Outbox.seq)
    return [json.loads(bytes(row.payload)) for row in rows]


def last_seq() -> int:
    row = Outbox.select().order_by(Outbox.seq.desc()).first()
    return row.seq if row else 0


def order_payments() -> list[tuple]:
    return [
        (p.order_id, p.tender, p.amount, p.reference, p.tendered, p.change, p.sale_id)
        for p in Payment.select().where(Payment.order_id.is_null(False))
    ]


def test_a_pickup_order_paid_in_cash_opens_the_drawer_and_shows_the_change(ui):
    app = ui.app
    pickup, pay = open_payment(ui)
    before = last_seq()
    assert pay.quick[0] == 85_000  # exact, not rounded: the OMS is owed it to the rupiah
    ui.keys(pay, "50000")
    ui.tap("Take cash")
    assert pay.message == f"Not enough: {app.money(85_000)} is due"
    assert order_payments() == [] and events_since(before) == []

    ui.tap(ui.find(app.money(100_000)))
    ui.wait(lambda: app.sm.current == "pickup", what="back to the pickup orders")
    ui.idle()
    assert pickup.paid_text == (
        f"Order W-1001 paid: Cash {app.money(85_000)}\nChange: {app.money(15_000)}"
    )
    assert order_payments() == [(ORDER_ID, "cash", 85_000, None, 100_000, 15_000, None)]
    cashier = staff.find(CASHIER)
    shift = Shift.get()
    paid, drawer = events_since(before)
    assert paid["type"] == "order.paid"
    body = paid["payload"]
    assert (body["order_id"], body["shift_id"], body["staff_id"], body["total"]) == (
        ORDER_ID,
        shift.id,
        cashier.id,
        85_000,
    )
    assert [(p["tender"], p["amount"], p["reference"]) for p in body["payments"]] == [
        ("cash", 85_000, None)
    ]
    assert drawer["type"] == "audit.recorded"
    assert drawer["payload"]["detail"] == {"reason": "pickup_cash", "ref": "W-1001"}
    ui.wait(lambda: len(app.till.drawer.drawer.pulses) == 1, what="the drawer pulse")
    slip = printed_slip(ui)
    assert "W-1001" in slip and "Sari" in slip and "4 x Kopi Kapal Api 165g" in slip
    assert re.search(r"Total pesanan +120\.000", slip)
    assert re.search(r"Sudah dibayar +35\.000", slip)
    assert re.search(r"DIBAYAR +Rp\s?85\.000", slip)
    assert re.search(r"Tunai +100\.000", slip) and re.search(r"Kembali +15\.000", slip)
    # Paid here, not yet sent to the OMS: the list (as last fetched) must not ask again.
    rows = {row.title: row for row in ui.find_all() if type(row).__name__ == "ListRow"}
    assert rows["W-1001"].detail == f"Sari · {app.money(120_000)} · paid"
    assert not ui.find_all("Take payment", within=rows["W-1001"])


def test_a_pickup_order_paid_by_card_keeps_the_drawer_shut(ui):
    app = ui.app
    pickup, pay = open_payment(ui)
    before = last_seq()
    ui.tap("Card")
    # The balance is paid whole: no other amount can be put on the card.
    assert ui.find_all("Change amount") == []
    assert pay.card_amount == 85_000
    ui.tap("Card paid")
    assert pay.message == "Type the payment's reference (approval code)"
    assert order_payments() == []
    ui.tap(pay.ids.card_ref)
    ui.type_text("778899")
    ui.tap("Hide")
    # A second touch while the first is being recorded must not pay the order twice.
    pay.take_external("card")
    pay.take_external("card")
    assert pay.paying and pay.message == "Recording the payment…"
    ui.wait(lambda: app.sm.current == "pickup", what="back to the pickup orders")
    ui.idle()
    assert pickup.paid_text == f"Order W-1001 paid: Card {app.money(85_000)}"
    assert order_payments() == [(ORDER_ID, "card", 85_000, "778899", None, 0, None)]
    (paid,) = events_since(before)  # no audit.recorded: the drawer was not opened
    assert paid["type"] == "order.paid"
    assert [(p["tender"], p["amount"], p["reference"]) for p in paid["payload"]["payments"]] == [
        ("card", 85_000, "778899")
    ]
    assert paid["payload"]["total"] == 85_000
    assert app.till.drawer.drawer.pulses == []
    slip = printed_slip(ui)
    assert re.search(r"Kartu \(778899\) +85\.000", slip) and "Kembali" not in slip


def test_a_pickup_order_paid_by_qris_shows_a_code_for_its_balance(ui):
    app = ui.app
    pickup, pay = open_payment(ui)
    before = last_seq()
    ui.tap("QRIS")
    assert pay.qris_ready and pay.qris_texture is not None
    shown = qris.parse(pay.qris_payload)
    assert shown.is_dynamic and shown.amount == 85_000
    assert pay.qris_payload == qris.make_dynamic(QRIS_STATIC, 85_000)
    assert ui.find_all(
        "The customer scans the code and pays "
        f"{app.money(85_000)}. Check the payment arrived, then type its reference."
    )
    ui.tap(pay.ids.qris_ref)
    ui.type_text("QR5521")
    ui.tap("Hide")
    ui.tap("QRIS paid")
    ui.wait(lambda: app.sm.current == "pickup", what="back to the pickup orders")
    ui.idle()
    assert pickup.paid_text == f"Order W-1001 paid: QRIS {app.money(85_000)}"
    assert order_payments() == [(ORDER_ID, "qris", 85_000, "QR5521", None, 0, None)]
    (paid,) = events_since(before)
    assert paid["type"] == "order.paid"
    assert [(p["tender"], p["amount"], p["reference"]) for p in paid["payload"]["payments"]] == [
        ("qris", 85_000, "QR5521")
    ]
    assert app.till.drawer.drawer.pulses == []
    assert re.search(r"QRIS \(QR5521\) +85\.000", printed_slip(ui))


def test_an_order_no_longer_waiting_is_refused_with_the_reason_and_nothing_stored(ui):
    app = ui.app
    _pickup, pay = open_payment(ui)
    before = last_seq()
    # Collected at another till meanwhile: the sync service's next fetch no longer lists it.
    sync.put_state("pickup_orders", [])
    ui.tap("Card")
    pay.ids.card_ref.text = "778899"
    ui.tap("Card paid")
    ui.idle()
    assert app.sm.current == "payment" and not pay.paying
    assert pay.message == "That order is no longer waiting for pickup"
    assert order_payments() == [] and events_since(before) == []
    ui.tap("Back to pickup orders")
    ui.idle()
    assert app.sm.current == "pickup"
    assert ui.screen.message == "No orders are waiting to be collected"
