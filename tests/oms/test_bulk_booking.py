"""Runs of till sales booked together write exactly the rows of booking them one at a time.

The same sales go into two fresh databases seeded alike (same ids), once through the bulk path
and once sale by sale, and every row of the orders, lines, payments, transitions, stock
movements, stock levels (and, through ingest, the stored events) is compared, leaving out only
generated ids, timestamps and tracking tokens. Both backends.
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from orders_factory import sale_event, seed_tax_codes

from cloud_oms import db as oms_db
from cloud_oms import ingest, orders, stock
from cloud_oms.models.core import Customer, Product, Store, SyncEvent, Terminal
from cloud_oms.models.orders import Order, OrderLine, OrderTransition, Payment
from cloud_oms.models.stock import StockLevel, StockMovement
from retail.ids import uuid7
from retail.schema import AuditRecorded, CashMoved, Event, PaymentWire, SaleLineWire, TaxWire
from retail.tax import PPN, line_tax

STORE_ID, OTHER_STORE_ID, TERMINAL_ID, OTHER_TERMINAL_ID = (uuid7() for _ in range(4))
CUSTOMER_ID = uuid7()
# sku: (id, price, unit, opening stock, reserved, unit cost); ids fixed so both databases agree
PRODUCTS = {
    "KOPI": (uuid7(), 45_000, "each", 5, 0, 30_000),
    "TEH": (uuid7(), 20_000, "each", 1, 0, None),  # oversold by the second sale
    "GULA": (uuid7(), 15_000, "each", 8, 8, 9_000),  # sold below what is reserved
    "BERAS": (uuid7(), 14_000, "kg", 5_000, 0, 10_000),  # grams
    "SUSU": (uuid7(), 7_000, "each", None, 0, None),  # no stock level yet
}
IGNORED = {"id", "created_at", "updated_at", "tracking_token", "received_at"}
T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


@contextlib.contextmanager
def bound(url: str):
    oms_db.connect(url)
    try:
        yield
    finally:
        oms_db.disconnect()


def seed() -> tuple[Store, Terminal]:
    """The same store, tills, customer, products and stock in whichever database is bound."""
    seed_tax_codes()
    store = Store.create(id=STORE_ID, code="BULK", name="Toko Bulk")
    Store.create(id=OTHER_STORE_ID, code="LAIN", name="Toko Lain")
    term = Terminal.create(id=TERMINAL_ID, store=store.id, code="T01", name="Kasir 1")
    Terminal.create(id=OTHER_TERMINAL_ID, store=OTHER_STORE_ID, code="T01", name="Kasir Lain")
    Customer.create(id=CUSTOMER_ID, name="Budi", phone="628123456789", email="budi@toko.id")
    for sku, (pid, price, unit, opening, reserved, cost) in PRODUCTS.items():
        Product.create(
            id=pid, sku=sku, name=f"Produk {sku}", price=price, tax_code="PPN", unit=unit
        )
        if opening is not None:
            stock.adjust(store, pid, opening, "opening stock", "test", unit_cost=cost)
        if reserved:
            StockLevel.update(reserved=reserved).where(StockLevel.product == pid).execute()
    return store, term


def till() -> Terminal:
    return Terminal(id=TERMINAL_ID, store=STORE_ID, code="T01")


def product(sku: str) -> Product:
    pid, price, unit, *_ = PRODUCTS[sku]
    return Product(id=pid, sku=sku, name=f"Produk {sku}", price=price, unit=unit)


def weighed_sale(n: int, grams: int) -> Event:
    """A sale of loose rice by weight, paid with two tenders, by a known customer."""
    pid, price_per_kg, *_ = PRODUCTS["BERAS"]
    gross = price_per_kg * grams // 1000
    lt = line_tax(gross, PPN)
    line = SaleLineWire(
        line_id=uuid7(),
        line_no=1,
        product_id=pid,
        sku="BERAS",
        name="Beras curah",
        unit="kg",
        qty=1,
        weight_g=grams,
        unit_price=price_per_kg,
        gross=gross,
        total=lt.gross,
        tax=TaxWire(code="PPN", rate_bp=1200, base_num=11, base_den=12),
        tax_amount=lt.tax,
        tax_base=lt.base,
        net=lt.net,
    )
    base = sale_event(till(), [(product("KOPI"), 1)], receipt_no=f"T01-{n:06d}", seq=n)
    sale = base.payload.model_copy(
        update={
            "lines": [line],
            "customer_id": CUSTOMER_ID,
            "subtotal": gross,
            "total": lt.gross,
            "tax_total": lt.tax,
            "payments": [
                PaymentWire(payment_id=uuid7(), tender="cash", amount=lt.gross - 1000),
                PaymentWire(payment_id=uuid7(), tender="qris", amount=1000, reference="QR-1"),
            ],
        }
    )
    return base.model_copy(update={"payload": sale})


def sales() -> list[Event]:
    """Sales that exercise every branch: match by id, by sku, unmatched, a product sold twice
    in one sale, weighed goods, a customer, two tenders, a partial payment, oversells (below
    zero and below the reserved figure), a level created by the sale."""
    kopi, teh, gula, susu = (product(s) for s in ("KOPI", "TEH", "GULA", "SUSU"))
    by_sku = Product(id=uuid7(), sku="TEH", name="Teh (till's own id)", price=20_000)
    unknown = {"sku": "ES-BATU", "name": "Es batu", "price": 2_000}
    specs = [
        [(kopi, 2), (teh, 1)],
        [(teh, 1), (unknown, 3)],  # TEH oversold: 1 - 1 - 1
        [(kopi, 1), (kopi, 2), (gula, 1)],  # KOPI twice; GULA now below its reservation
        [(by_sku, 2), (susu, 4)],  # matched by sku; SUSU's level is created here
        [(gula, 1)],
    ]
    events = []
    for n, items in enumerate(specs, start=1):
        at = T0 + timedelta(minutes=n)
        events.append(sale_event(till(), items, receipt_no=f"T01-{n:06d}", seq=n, occurred_at=at))
    events.append(weighed_sale(len(events) + 1, 750))
    partial = sale_event(till(), [(kopi, 1)], receipt_no="T01-000007", seq=7)
    paid = partial.payload.payments[0].model_copy(update={"amount": 10_000})
    events.append(
        partial.model_copy(
            update={"payload": partial.payload.model_copy(update={"payments": [paid]})}
        )
    )
    return events


def snapshot() -> dict[str, list[dict]]:
    """Every row the bookings wrote, generated ids and times left out, order ids as sale ids."""
    sale_of = {
        o.id: o.sale_id or o.number for o in Order.select(Order.id, Order.sale_id, Order.number)
    }
    out = {}
    for model in (
        Order,
        OrderLine,
        Payment,
        OrderTransition,
        StockMovement,
        StockLevel,
        SyncEvent,
    ):
        rows = []
        for row in model.select().dicts():
            row = {k: v for k, v in row.items() if k not in IGNORED}
            for key in ("order", "ref_id"):
                if key in row:
                    row[key] = sale_of.get(row[key], row[key])
            if "body" in row:
                row["body"] = bytes(row["body"])
            if row.get("cause") == "adjustment":
                del row["at"]  # the seeded opening stock: booked at the time of seeding
            rows.append(row)
        out[model._meta.table_name] = sorted(rows, key=repr)
    return out


def assert_same(a: dict, b: dict) -> None:
    """Table by table, so a failure shows the rows that differ."""
    assert a.keys() == b.keys()
    for table in a:
        extra = [r for r in a[table] if r not in b[table]]
        missing = [r for r in b[table] if r not in a[table]]
        assert (table, extra[:3], missing[:3]) == (table, [], [])
        assert len(a[table]) == len(b[table]), table


def book_one_by_one(store, term, events) -> list[Order]:
    made = []
    for event in events:
        with oms_db.atomic():
            made.append(orders.book_store_sale(store, term, event.payload, event))
    return made


def book_together(store, term, events) -> list[Order]:
    with oms_db.atomic():
        return orders.book_store_sales(store, term, [(e.payload, e) for e in events])


def both_ways(fresh_database, backend, per_sale, together, prepare=None):
    """Seed two databases, run `per_sale` on one and `together` on the other (each given
    store and terminal), and return (their results, their snapshots)."""
    results, snaps = [], []
    for booker in (per_sale, together):
        with fresh_database(backend) as url, bound(url):
            store, term = seed()
            if prepare:
                prepare(store, term)
            results.append(booker(store, term))
            snaps.append(snapshot())
    return results, snaps


def test_a_run_books_the_rows_of_sale_by_sale_booking(oms_backend, fresh_database):
    events = sales()
    (one, many), (a, b) = both_ways(
        fresh_database,
        oms_backend,
        lambda s, t: book_one_by_one(s, t, events),
        lambda s, t: book_together(s, t, events),
    )
    assert_same(a, b)
    assert (
        [o.number for o in many]
        == [o.number for o in one]
        == [e.payload.receipt_no for e in events]
    )
    # the cases the sales were built for really happened
    lines = {(r["order"], r["sku"]): r for r in a["order_line"]}
    sale = [e.payload.sale_id for e in events]
    assert lines[(sale[1], "TEH")]["oversold"] and not lines[(sale[0], "TEH")]["oversold"]
    assert lines[(sale[2], "GULA")]["oversold"] and lines[(sale[3], "TEH")]["match"] == "sku"
    assert lines[(sale[1], "ES-BATU")]["match"] == "unmatched"
    moves = [m for m in a["stock_movement"] if m["cause"] == "sale"]
    kopi_after = sorted(m["on_hand_after"] for m in moves if m["product"] == PRODUCTS["KOPI"][0])
    assert kopi_after == [-1, 0, 3]  # 5 - 2, then 3 - (1 + 2) in one movement, then 0 - 1
    assert [m["qty"] for m in moves if m["product"] == PRODUCTS["BERAS"][0]] == [-750]
    by_sale = {r["sale_id"]: r for r in a["order"]}
    assert by_sale[sale[5]]["customer"] == CUSTOMER_ID and by_sale[sale[5]]["phone"]
    assert by_sale[sale[6]]["payment_status"] == "partially_paid"
    levels = {r["product"]: r for r in a["stock_level"]}
    assert levels[PRODUCTS["SUSU"][0]]["on_hand"] == -4


def test_a_run_returns_booked_sales_as_they_are_and_books_a_repeat_once(
    oms_backend, fresh_database
):
    events = sales()
    before, rest = events[:2], events[2:]
    again = rest[0].model_copy(update={"id": uuid7()})  # the same sale under a new event id
    run = [*before, *rest, again]

    def prepare(store, term):
        book_one_by_one(store, term, before)

    (one, many), (a, b) = both_ways(
        fresh_database,
        oms_backend,
        lambda s, t: book_one_by_one(s, t, run),
        lambda s, t: book_together(s, t, run),
        prepare,
    )
    assert_same(a, b)
    assert len(a["order"]) == len(events)
    assert many[-1].id == many[2].id and one[-1].id == one[2].id
    assert [o.number for o in many] == [o.number for o in one]


def test_a_sale_of_another_store_fails_the_run(oms_backend, fresh_database):
    events = sales()[:2]

    with fresh_database(oms_backend) as url, bound(url):
        store, term = seed()
        other = Store.get_by_id(OTHER_STORE_ID)
        book_one_by_one(other, Terminal.get_by_id(OTHER_TERMINAL_ID), events[1:])
        with pytest.raises(orders.BookingError, match="booked for another store"):
            book_together(store, term, events)
        assert Order.select().where(Order.store == store.id).count() == 0


# --- through ingest ---------------------------------------------------------------------------


def texts_of(events: list[Event]) -> list[str]:
    return [e.to_bytes().decode() for e in events]


def ingest_both_ways(fresh_database, backend, texts, prepare=None):
    """The same texts as one batch (runs) and as one batch per event (the per-event path)."""
    outcomes, snaps = [], []
    for batches in ([texts], [[t] for t in texts]):
        with fresh_database(backend) as url, bound(url):
            store, term = seed()
            if prepare:
                prepare(store, term)
            got = []
            for batch in batches:
                result = ingest.ingest(Terminal.get_by_id(term.id), batch)
                got += [(r.outcome, r.reason) for r in result.results]
            gaps = ingest.sequence_gaps(term.id)
            counters = (
                Terminal.select(
                    Terminal.last_seq, Terminal.last_accepted_seq, Terminal.last_receipt_seq
                )
                .where(Terminal.id == term.id)
                .tuples()
                .get()
            )
            outcomes.append((got, gaps, counters))
            snaps.append(snapshot())
    return outcomes, snaps


def kept(seq: int, depends_on=()) -> Event:
    payload = AuditRecorded(audit_id=uuid7(), action="drawer.opened", detail={"seq": seq})
    return Event(
        id=uuid7(),
        type=payload.type,
        seq=seq,
        occurred_at=T0,
        tz="Asia/Jakarta",
        depends_on=list(depends_on),
        payload=payload,
    )


def test_ingest_of_a_batch_writes_the_rows_of_event_by_event_ingest(oms_backend, fresh_database):
    events = sales()
    # kept events join runs; one depending on a sale of the run ends it; seq 9 is missing
    audit = kept(8)
    cash = Event(
        id=uuid7(),
        type="cash.moved",
        seq=10,
        occurred_at=T0,
        tz="Asia/Jakarta",
        depends_on=[events[5].id],  # a sale of the run before it: ends that run
        payload=CashMoved(
            movement_id=uuid7(), shift_id=uuid7(), staff_id=uuid7(), amount=-5_000, reason="es"
        ),
    )
    later = [e.model_copy(update={"seq": e.seq + 10}) for e in sale_copies(events[:2], start=11)]
    batch = [*events, audit, cash, *later]
    texts = texts_of(batch)
    texts.insert(3, texts[1])  # a duplicate inside the batch
    (runs, single), (a, b) = ingest_both_ways(fresh_database, oms_backend, texts)
    assert runs == single
    got, gaps, counters = runs
    assert [o for o, _ in got] == ["accepted"] * 3 + ["duplicate"] + ["accepted"] * (len(batch) - 3)
    assert gaps == [(9, 9)]
    assert counters == (batch[-1].seq, batch[-1].seq, later[-1].payload.receipt_seq)
    assert_same(a, b)


def sale_copies(events: list[Event], start: int) -> list[Event]:
    """New sales (new ids and receipts) with the same lines as `events`."""
    out = []
    for n, event in enumerate(events, start=start):
        payload = event.payload.model_copy(
            update={
                "sale_id": uuid7(),
                "receipt_no": f"T01-{n:06d}",
                "receipt_seq": n,
                "payments": [
                    p.model_copy(update={"payment_id": uuid7()}) for p in event.payload.payments
                ],
            }
        )
        out.append(event.model_copy(update={"id": uuid7(), "payload": payload}))
    return out


def test_a_failing_sale_rejects_only_itself_with_the_per_event_reason(oms_backend, fresh_database):
    events = sales()[:4]
    # sale 2 reuses sale 1's payment id: the database refuses it (payment.external_id unique)
    bad = events[1].payload.model_copy(
        update={
            "payments": [
                events[0].payload.payments[0].model_copy(update={"amount": events[1].payload.total})
            ]
        }
    )
    events[1] = events[1].model_copy(update={"payload": bad})
    # sale 4 was booked by another store's till first
    foreign = events[3]

    def prepare(store, term):
        other = Store.get_by_id(OTHER_STORE_ID)
        book_one_by_one(other, Terminal.get_by_id(OTHER_TERMINAL_ID), [foreign])

    (runs, single), (a, b) = ingest_both_ways(
        fresh_database, oms_backend, texts_of(events), prepare
    )
    assert runs == single
    got = runs[0]
    assert [o for o, _ in got] == ["accepted", "rejected", "accepted", "rejected"]
    assert "external_id" in got[1][1] and "booked for another store" in got[3][1]
    assert_same(a, b)
    # a re-send of the whole batch changes nothing and answers the same way
    with fresh_database(oms_backend) as url, bound(url):
        store, term = seed()
        prepare(store, term)
        first = ingest.ingest(Terminal.get_by_id(term.id), texts_of(events))
        before = snapshot()
        second = ingest.ingest(Terminal.get_by_id(term.id), texts_of(events))
        assert [r.outcome for r in second.results] == [
            "duplicate",
            "rejected",
            "duplicate",
            "rejected",
        ]
        assert [r.reason for r in second.results][1::2] == [r.reason for r in first.results][1::2]
        assert snapshot() == before


def test_concurrent_overlapping_batches_book_each_sale_once(oms_backend, fresh_database):
    """Six deliveries of two overlapping batches at once: every event accepted exactly once,
    the rest duplicates, and the stock ledger adds up to the levels."""
    kopi, teh, gula = (product(s) for s in ("KOPI", "TEH", "GULA"))
    events = [
        sale_event(till(), [(kopi, 1), (teh, 1), (gula, 2)], receipt_no=f"T01-{n:06d}", seq=n)
        for n in range(1, 31)
    ]
    texts = texts_of(events)
    batches = [texts[:20], texts[10:], texts[:20], texts[10:], list(reversed(texts)), texts]
    with fresh_database(oms_backend) as url:
        with bound(url):
            store, _ = seed()

        def deliver(batch):
            try:
                with oms_db.session():
                    result = ingest.ingest(Terminal.get_by_id(TERMINAL_ID), batch)
            finally:
                oms_db.db.obj.close()  # this thread's connection
            return dict(zip(batch, (r.outcome for r in result.results), strict=True))

        with bound(url), ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(deliver, batches))
        with bound(url):
            for text in texts:
                seen = sorted(a[text] for a in answers if text in a)
                assert seen.count("accepted") == 1 and set(seen) <= {"accepted", "duplicate"}
            ids = [json.loads(t)["payload"]["sale_id"] for t in texts]
            assert Order.select().where(Order.sale_id.in_(ids)).count() == 30
            for lv in StockLevel.select().where(StockLevel.store == store.id):
                moved = sum(
                    m.qty
                    for m in StockMovement.select().where(StockMovement.product == lv.product_id)
                )
                assert lv.on_hand == moved
            teh_after = sorted(
                m.on_hand_after
                for m in StockMovement.select().where(
                    (StockMovement.product == teh.id) & (StockMovement.cause == "sale")
                )
            )
            assert teh_after == list(range(-29, 1))  # 1 on hand, 30 sold, each step once
