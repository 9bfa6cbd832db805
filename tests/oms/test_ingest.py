"""POST /api/v1/sync/events: outcomes, stored rows, bookings and concurrent deliveries."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from oms_events import FakeTill

from retail.ids import uuid7
from retail.schema import AuditRecorded, CashMoved, event_digest


@pytest.fixture(scope="module")
def till_token(oms_server):
    return oms_server.enrol("ING", "Kasir")


def post(server, token, texts):
    # json.dumps escapes every non-ASCII character (\uXXXX): the envelope's encoding differs
    # from the event text's, and the OMS must still recover each event's exact bytes.
    body = json.dumps({"events": texts}).encode("ascii")
    with server.client(token=token) as http:
        answer = http.post(
            "/api/v1/sync/events", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


def outcomes(result):
    return [(r["outcome"], r["reason"]) for r in result["results"]]


def rows(server, event_id):
    from cloud_oms.models.core import SyncEvent

    with server.bind():
        return list(
            SyncEvent.select().where(SyncEvent.event_id == event_id).order_by(SyncEvent.id).dicts()
        )


def test_accepted_then_duplicate_then_conflict(oms_server, till_token):
    till = FakeTill()
    sale = till.sale([("MIE-1", 3500, 2)])
    first = post(oms_server, till_token["token"], [sale.text])
    again = post(oms_server, till_token["token"], [sale.text, sale.text])
    other = sale.text.replace('"staff_name":"Ani"', '"staff_name":"Budi"')
    conflict = post(oms_server, till_token["token"], [other])
    assert outcomes(first) == [("accepted", None)]
    assert first["results"][0]["id"] == sale.id and first["results"][0]["seq"] == 1
    assert outcomes(again) == [("duplicate", None), ("duplicate", None)]
    assert conflict["results"][0]["outcome"] == "rejected"
    assert "already accepted with other content" in conflict["results"][0]["reason"]
    stored = rows(oms_server, sale.id)
    assert [r["outcome"] for r in stored] == ["accepted", "rejected"]
    assert bytes(stored[0]["body"]) == sale.text.encode()
    assert stored[0]["digest"] == event_digest(sale.text.encode())
    assert bytes(stored[1]["body"]) == other.encode()


def test_event_bytes_are_kept_exactly_even_with_unusual_text(oms_server, till_token):
    """The batch carries each event as a JSON string: non-ASCII text, escapes and spacing the
    till chose survive, so the digest is the till's."""
    till = FakeTill()
    sale = till.sale([("KOPI", 18000, 1)])
    text = sale.text.replace('"name":"Item KOPI"', '"name":"Kopi \\"Susu\\" ☕ Gula Aren"')
    text = text.replace('"seq":', '"seq" :   ')
    result = post(oms_server, till_token["token"], [text])
    assert outcomes(result) == [("accepted", None)]
    stored = rows(oms_server, sale.id)[0]
    assert bytes(stored["body"]) == text.encode("utf-8")
    assert stored["digest"] == event_digest(text.encode("utf-8"))
    from cloud_oms.models.orders import OrderLine

    with oms_server.bind():
        assert OrderLine.get(OrderLine.source_line_id == sale.payload.lines[0].line_id).name == (
            'Kopi "Susu" ☕ Gula Aren'
        )


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda e: e | {"schema_version": 99}, "schema_version 99 is not supported"),
        (lambda e: e | {"schema_version": "1"}, "schema_version '1' is not supported"),
        (lambda e: e | {"seq": 0}, "seq: Input should be greater than or equal to 1"),
        (lambda e: e | {"type": "sale.voided"}, "type: Value error, unknown event type"),
        (
            lambda e: {**e, "payload": {**e["payload"], "total": "lots"}},
            "payload.sale.completed.total",
        ),
        (lambda e: {**e, "payload": {**e["payload"], "lines": []}}, "payload.sale.completed.lines"),
        (lambda e: e | {"extra": 1}, "extra: Extra inputs are not permitted"),
        (lambda e: {k: v for k, v in e.items() if k != "id"}, "id: missing"),
    ],
)
def test_bad_events_are_rejected_with_the_field_and_stored(oms_server, till_token, mutate, reason):
    till = FakeTill()
    sale = till.sale([("A", 1000, 1)])
    obj = mutate(json.loads(sale.text))
    text = json.dumps(obj)
    result = post(oms_server, till_token["token"], [text])
    ((outcome, why),) = outcomes(result)
    assert outcome == "rejected" and reason in why, why
    from cloud_oms.models.core import SyncEvent

    with oms_server.bind():
        stored = SyncEvent.get(SyncEvent.digest == event_digest(text.encode()))
    assert stored.outcome == "rejected" and reason in stored.reason
    again = post(oms_server, till_token["token"], [text])
    assert outcomes(again) == outcomes(result)
    with oms_server.bind():
        assert SyncEvent.select().where(SyncEvent.digest == stored.digest).count() == 1


@pytest.mark.parametrize(
    "text, reason",
    [
        ("not json", "event is not JSON"),
        ("[1, 2]", "event is not a JSON object"),
        ('{"id": 5}', "id: missing or not a string"),
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_unreadable_events_are_rejected(oms_server, till_token, text, reason):
    result = post(oms_server, till_token["token"], [text])
    ((outcome, why),) = outcomes(result)
    assert outcome == "rejected" and reason in why


def test_batch_body_errors_name_the_field(oms_server, till_token):
    with oms_server.client(token=till_token["token"]) as http:
        empty = http.post("/api/v1/sync/events", json={"events": []})
        objects = http.post("/api/v1/sync/events", json={"events": [{"id": "x"}]})
        bare = http.post("/api/v1/sync/events", json=["{}"])
        huge = http.post("/api/v1/sync/events", json={"events": ["{}"] * 1001})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "events"]
    assert objects.status_code == 422 and objects.json()["detail"][0]["loc"] == [
        "body",
        "events",
        0,
    ]
    assert bare.status_code == 422 and bare.json()["detail"][0]["loc"] == ["body"]
    assert huge.status_code == 422 and "at most 1000" in huge.json()["detail"][0]["msg"]


def test_dependencies_on_rejected_or_unknown_events(oms_server, till_token):
    till = FakeTill()
    sale = till.sale([("A", 1000, 2)])
    bad_sale = json.loads(sale.text)
    bad_sale["schema_version"] = 7
    bad_text = json.dumps(bad_sale)
    refund = till.refund(sale, {0: 1})
    result = post(oms_server, till_token["token"], [bad_text, refund.text])
    (o1, _), (o2, r2) = outcomes(result)
    assert o1 == "rejected" and o2 == "rejected"
    assert f"depends on rejected event {sale.id} (schema_version 7" in r2

    ghost = FakeTill()
    orphan = ghost.refund(ghost.sale([("B", 100, 1)]), {0: 1})
    result = post(oms_server, till_token["token"], [orphan.text])
    assert "which this OMS has not accepted" in result["results"][0]["reason"]

    # the till sends the real sale later and retries the refund: now it is accepted
    result = post(oms_server, till_token["token"], [sale.text, refund.text])
    assert outcomes(result) == [("accepted", None), ("accepted", None)]
    assert [r["outcome"] for r in rows(oms_server, refund.id)] == ["accepted"]


def test_a_refund_rejected_early_in_a_batch_is_accepted_later_in_it(oms_server, till_token):
    till = FakeTill()
    sale = till.sale([("A", 1000, 2)])
    refund = till.refund(sale, {0: 1})
    result = post(oms_server, till_token["token"], [refund.text, sale.text, refund.text])
    assert [o for o, _ in outcomes(result)] == ["rejected", "accepted", "accepted"]
    assert [r["outcome"] for r in rows(oms_server, refund.id)] == ["accepted"]
    again = post(oms_server, till_token["token"], [refund.text])
    assert outcomes(again) == [("duplicate", None)]


def test_booking_failure_rejects_only_that_event(oms_server, till_token):
    till = FakeTill()
    good = till.sale([("A", 1000, 1)])
    ghost = FakeTill()
    lost_sale = ghost.sale([("B", 100, 1)])
    refund = ghost.refund(lost_sale, {0: 1}, depends=False)
    after = till.sale([("C", 500, 3)])
    result = post(oms_server, till_token["token"], [good.text, refund.text, after.text])
    assert [o for o, _ in outcomes(result)] == ["accepted", "rejected", "accepted"]
    assert "is not booked" in result["results"][1]["reason"]
    from cloud_oms.models.orders import Order, Return

    with oms_server.bind():
        assert (
            Order.select()
            .where(Order.sale_id.in_([good.payload.sale_id, after.payload.sale_id]))
            .count()
            == 2
        )
        assert (
            Return.select().where(Return.source_refund_id == refund.payload.refund_id).count() == 0
        )


def test_sales_become_store_orders_and_refunds_returns(oms_server, till_token):
    from cloud_oms import catalog, stock
    from cloud_oms.models.core import Store
    from cloud_oms.models.orders import Order, OrderLine, Return
    from cloud_oms.models.stock import StockLevel

    with oms_server.bind():
        store = Store.get(Store.code == "ING")
        product = catalog.save_product(sku="SUSU-1", name="Susu", price=7000, tax_code="PPN")
        stock.adjust(store, product, 5, "count", "test")
    till = FakeTill()
    sale = till.sale(
        [("SUSU-1", 7000, 3), ("NEW-SKU", 1500, 1)], product_ids={"SUSU-1": product.id}
    )
    refund = till.refund(sale, {0: 1})
    result = post(oms_server, till_token["token"], [sale.text, refund.text])
    assert [o for o, _ in outcomes(result)] == ["accepted", "accepted"]
    with oms_server.bind():
        order = Order.get(Order.sale_id == sale.payload.sale_id)
        assert (order.kind, order.number, order.total) == ("store", sale.payload.receipt_no, 22500)
        assert order.status == "partially_returned" and order.has_unmatched
        lines = {ln.sku: ln for ln in OrderLine.select().where(OrderLine.order == order.id)}
        assert lines["SUSU-1"].match == "id" and lines["NEW-SKU"].match == "unmatched"
        assert Return.get(Return.source_refund_id == refund.payload.refund_id).number == (
            refund.payload.receipt_no
        )
        level = StockLevel.get((StockLevel.store == store.id) & (StockLevel.product == product.id))
        assert level.on_hand == 5 - 3 + 1


def test_other_events_are_kept_as_received(oms_server, till_token):
    till = FakeTill()
    cash = till.envelope(
        CashMoved(
            movement_id=uuid7(),
            shift_id=till.shift_id,
            staff_id=till.staff_id,
            amount=-50000,
            reason="beli es batu",
        )
    )
    audit = till.envelope(AuditRecorded(audit_id=uuid7(), action="drawer.opened", detail={"n": 1}))
    result = post(oms_server, till_token["token"], [cash.text, audit.text])
    assert [o for o, _ in outcomes(result)] == ["accepted", "accepted"]
    assert json.loads(bytes(rows(oms_server, cash.id)[0]["body"]))["payload"]["amount"] == -50000


def test_event_id_of_another_terminal_is_rejected(oms_server, till_token):
    other = oms_server.enrol("ING", "Kasir 2")
    till = FakeTill()
    sale = till.sale([("A", 1000, 1)])
    assert outcomes(post(oms_server, till_token["token"], [sale.text])) == [("accepted", None)]
    result = post(oms_server, other["token"], [sale.text])
    assert result["results"][0]["outcome"] == "rejected"
    assert "already used by another terminal" in result["results"][0]["reason"]


def test_concurrent_duplicate_deliveries_book_each_event_once(oms_server):
    from cloud_oms.models.core import SyncEvent
    from cloud_oms.models.orders import Order

    enrolled = oms_server.enrol("CONC", "Kasir")
    till = FakeTill()
    batch = [till.sale([("A", 1000, 1), ("B", 2000, 2)]).text for _ in range(20)]

    def deliver(_):
        return post(oms_server, enrolled["token"], batch)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(deliver, range(6)))
    per_event = list(zip(*[[r["outcome"] for r in res["results"]] for res in results], strict=True))
    for delivered in per_event:
        assert sorted(delivered) == ["accepted"] + ["duplicate"] * 5, delivered
    with oms_server.bind():
        ids = [json.loads(t)["id"] for t in batch]
        assert SyncEvent.select().where(SyncEvent.event_id.in_(ids)).count() == 20
        sale_ids = [json.loads(t)["payload"]["sale_id"] for t in batch]
        assert Order.select().where(Order.sale_id.in_(sale_ids)).count() == 20


def test_concurrent_batches_of_several_terminals(oms_server):
    from cloud_oms.models.orders import Order

    tills = [(oms_server.enrol("MANY", f"Kasir {i}"), FakeTill(f"T{i:02d}")) for i in range(4)]
    batches = [
        (enrolled["token"], [till.sale([("A", 1000, 1), ("B", 500, 2)]).text for _ in range(15)])
        for enrolled, till in tills
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: post(oms_server, *b), batches + batches))
    assert all(r["results"][0]["outcome"] in ("accepted", "duplicate") for r in results)
    for i in range(4):
        merged = [
            sorted((results[i]["results"][k]["outcome"], results[i + 4]["results"][k]["outcome"]))
            for k in range(15)
        ]
        assert all(m == ["accepted", "duplicate"] for m in merged)
    with oms_server.bind():
        from cloud_oms.models.core import Store

        store = Store.get(Store.code == "MANY")
        assert Order.select().where(Order.store == store.id).count() == 60
