"""The tills' API against a real uvicorn, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from oms_events import FakeTill

from retail.ids import iso, utcnow, uuid7
from retail.pins import hash_secret
from retail.schema import StoreSale


def post_events(http, *built):
    answer = http.post("/api/v1/sync/events", json={"events": [b.text for b in built]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def outcomes(result):
    return [r["outcome"] for r in result["results"]]


# --- enrolment --------------------------------------------------------------------------------


def test_enrol_returns_identity_and_counters_and_the_code_works_once(oms_server):
    from cloud_oms import admin

    with oms_server.bind():
        admin.add_store("ENR", "Toko Enrol")
        terminal, code = admin.add_terminal("ENR", "Kasir depan")
    with oms_server.client() as http:
        first = http.post("/api/v1/terminals/enrol", json={"code": code, "name": "Kasir 1"})
        again = http.post("/api/v1/terminals/enrol", json={"code": code, "name": "Kasir 1"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["terminal_id"] == terminal.id
    assert (body["terminal_code"], body["store_code"], body["store_name"]) == (
        "T01",
        "ENR",
        "Toko Enrol",
    )
    assert (body["last_seq"], body["last_receipt_seq"]) == (0, 0)
    assert body["token"].startswith("kt_") and len(body["token"]) > 40
    assert again.status_code == 401
    assert "code" in again.json()["detail"] and "already used" in again.json()["detail"]
    with oms_server.bind():
        from cloud_oms.models.core import Terminal

        stored = Terminal.get_by_id(terminal.id)
        assert stored.token_digest != body["token"]  # only the digest is kept
        assert len(stored.token_digest) == 64 and stored.enrol_code_digest is None


def test_enrol_code_is_typed_loosely_but_expires(oms_server):
    from cloud_oms import admin
    from cloud_oms.models.core import Terminal

    with oms_server.bind():
        _, code = admin.add_terminal(_ensure(oms_server, "LOOSE"), "K")
        expired, code2 = admin.add_terminal("LOOSE", "K2")
        Terminal.update(enrol_expires_at=utcnow() - timedelta(seconds=1)).where(
            Terminal.id == expired.id
        ).execute()
    with oms_server.client() as http:
        loose = http.post(
            "/api/v1/terminals/enrol", json={"code": code.lower().replace("-", " "), "name": "K"}
        )
        late = http.post("/api/v1/terminals/enrol", json={"code": code2, "name": "K2"})
    assert loose.status_code == 200, loose.text
    assert late.status_code == 401
    assert "expired" in late.json()["detail"] and "--replace T" in late.json()["detail"]


def test_enrol_body_errors_name_the_field(oms_server):
    with oms_server.client() as http:
        short = http.post("/api/v1/terminals/enrol", json={"code": "abc", "name": "K"})
        missing = http.post("/api/v1/terminals/enrol", json={"code": "ABCD-EFGH-JKMN"})
        extra = http.post(
            "/api/v1/terminals/enrol", json={"code": "ABCD-EFGH-JKMN", "name": "K", "store": "X"}
        )
    for answer, field in ((short, "code"), (missing, "name"), (extra, "store")):
        assert answer.status_code == 422
        assert any(err["loc"][-1] == field for err in answer.json()["detail"]), answer.text


def test_enrol_is_rate_limited_per_address(oms_server):
    from cloud_oms import admin
    from cloud_oms.models.core import EnrolAttempt

    with oms_server.bind():
        _, good = admin.add_terminal(_ensure(oms_server, "RATE"), "K")
        EnrolAttempt.delete().execute()  # earlier tests' failures
    try:
        with oms_server.client() as http:
            for _ in range(10):
                bad = http.post(
                    "/api/v1/terminals/enrol", json={"code": "ZZZZ-ZZZZ-ZZZZ", "name": "K"}
                )
                assert bad.status_code == 401
            limited = http.post("/api/v1/terminals/enrol", json={"code": good, "name": "K"})
        assert limited.status_code == 429
        assert "too many failed enrolments from 127.0.0.1" in limited.json()["detail"]
        assert int(limited.headers["retry-after"]) > 0
    finally:
        with oms_server.bind():
            EnrolAttempt.delete().execute()
    with oms_server.client() as http:
        assert http.post("/api/v1/terminals/enrol", json={"code": good, "name": "K"}).is_success


def _ensure(server, code):
    from cloud_oms import admin
    from cloud_oms.models.core import Store

    if Store.get_or_none(Store.code == code) is None:
        admin.add_store(code, f"Toko {code}")
    return code


def test_replacement_till_continues_above_the_accepted_numbers(oms_server):
    from cloud_oms import admin

    first = oms_server.enrol("REPL", "Kasir")
    till = FakeTill("T01")
    with oms_server.client(token=first["token"]) as http:
        result = post_events(http, till.sale([("A", 1000, 1)]), till.sale([("B", 2000, 2)]))
        assert outcomes(result) == ["accepted", "accepted"]
        result = post_events(http, till.envelope(_shift_opened(till)))
        assert result["last_accepted_seq"] == 3
    with oms_server.bind():
        _, code = admin.add_terminal("REPL", "", replace=first["terminal_code"])
    with oms_server.client() as http:
        second = http.post("/api/v1/terminals/enrol", json={"code": code, "name": "Kasir baru"})
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["terminal_id"] == first["terminal_id"]
    assert (body["last_seq"], body["last_receipt_seq"]) == (3, 2)
    with oms_server.client(token=first["token"]) as http:
        old = http.post("/api/v1/sync/heartbeat", json=_heartbeat())
    assert old.status_code == 401
    replacement = FakeTill("T01", seq=body["last_seq"], receipt_seq=body["last_receipt_seq"])
    with oms_server.client(token=body["token"]) as http:
        result = post_events(http, replacement.sale([("A", 1000, 1)]))
    assert outcomes(result) == ["accepted"] and result["last_accepted_seq"] == 4


def _shift_opened(till):
    from retail.schema import ShiftOpened

    return ShiftOpened(shift_id=till.shift_id, staff_id=till.staff_id, opening_float=100000)


def _heartbeat(**overrides):
    body = {"version": "kasir 1.0", "outbox_depth": 0, "last_seq": 0, "clock": iso(utcnow())}
    body.update(overrides)
    return body


def test_revoked_token_is_refused_at_once(oms_server):
    from cloud_oms import admin

    enrolled = oms_server.enrol("REV", "Kasir")
    with oms_server.client(token=enrolled["token"]) as http:
        assert http.post("/api/v1/sync/heartbeat", json=_heartbeat()).status_code == 200
        with oms_server.bind():
            admin.revoke_terminal("REV", enrolled["terminal_code"])
        refused = http.post("/api/v1/sync/heartbeat", json=_heartbeat())
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


@pytest.mark.parametrize(
    "header, reason",
    [
        (None, "header is missing"),
        ("Bearer kt_not-a-real-token", "unknown or revoked"),
        ("Bearer kak_an-api-key", "not a terminal token"),
        ("Basic dXNlcjpwYXNz", "header is missing"),
    ],
)
def test_terminal_routes_need_a_terminal_token(oms_server, header, reason):
    headers = {"Authorization": header} if header else {}
    with oms_server.client(headers=headers) as http:
        for method, path in (
            ("GET", "/api/v1/sync/catalog"),
            ("GET", "/api/v1/sync/orders"),
            ("GET", "/api/v1/sync/receipts/T01-000001"),
        ):
            answer = http.request(method, path)
            assert answer.status_code == 401, (path, answer.text)
            assert reason in answer.json()["detail"]


# --- catalog ----------------------------------------------------------------------------------


def _till_catalog(product_id, staff_id):
    return {
        "tax_codes": [
            {"code": "PPN", "name": "PPN", "rate_bp": 1200, "base_num": 11, "base_den": 12},
            {"code": "RESTO", "name": "Pajak restoran 10%", "rate_bp": 1000},
        ],
        "categories": [{"name": "Minuman", "sort": 2}],
        "products": [
            {
                "id": product_id,
                "sku": "KOPI-1",
                "name": "Kopi Susu Gula Aren",
                "price": 18000,
                "tax_code": "RESTO",
                "category": "Minuman",
                "barcodes": [{"code": "2000000000015", "pack_qty": 1}],
            },
            {
                "id": uuid7(),
                "sku": "TEH-1",
                "name": "Teh Botol",
                "price": 5000,
                "tax_code": "PPN",
                "category": "Minuman",
                "unit": "each",
                "plu": "42",
            },
        ],
        "promotions": [
            {
                "id": uuid7(),
                "name": "2 kopi 30rb",
                "kind": "multibuy",
                "product_id": product_id,
                "qty": 2,
                "price": 30000,
            }
        ],
        "staff": [
            {
                "id": staff_id,
                "name": "Ani",
                "role": "manager",
                "pin_hash": hash_secret("4821", n=2**4),
            }
        ],
        "stock": [{"product_id": product_id, "on_hand": 12}],
    }


def pull_all(http, since=None, limit=500):
    pages = []
    while True:
        params = {"limit": limit} | ({"since": since} if since else {})
        answer = http.get("/api/v1/sync/catalog", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page)
        since = page["next_cursor"]
        if not page["more"]:
            return pages, since


def test_till_catalog_is_merged_once_and_pulled_back(oms_server):
    enrolled = oms_server.enrol("CAT", "Kasir")
    product_id, staff_id = uuid7(), uuid7()
    with oms_server.client(token=enrolled["token"]) as http:
        merged = http.post("/api/v1/sync/catalog", json=_till_catalog(product_id, staff_id))
        again = http.post("/api/v1/sync/catalog", json=_till_catalog(uuid7(), uuid7()))
        pages, _ = pull_all(http)
    assert merged.status_code == 200, merged.text
    result = merged.json()
    assert result["already_merged"] is False
    assert result["created"]["products"] == 2 and result["created"]["staff"] == 1
    assert result["created"]["tax_codes"] == 1 and result["created"]["promotions"] == 1
    assert result["created"]["stock"] == 1
    assert again.json()["already_merged"] is True
    assert again.json()["created"] == result["created"]

    products = {p["sku"]: p for page in pages for p in page["products"]}
    assert products["KOPI-1"]["id"] == product_id  # the till's id is kept
    assert products["KOPI-1"]["category"] == "Minuman"
    assert products["KOPI-1"]["barcodes"] == [{"code": "2000000000015", "pack_qty": 1}]
    assert products["TEH-1"]["plu"] == "42"
    staff = {s["id"]: s for page in pages for s in page["staff"]}
    assert staff[staff_id]["pin_hash"].startswith("scrypt$16$")
    assert staff[staff_id]["role"] == "manager" and staff[staff_id]["active"] is True
    stock = {s["product_id"]: s for page in pages for s in page["stock"]}
    assert stock[product_id]["on_hand"] == 12 and stock[product_id]["reserved"] == 0
    assert {t["code"] for page in pages for t in page["tax_codes"]} >= {"PPN", "RESTO", "FREE"}
    assert [p["name"] for page in pages for p in page["promotions"]] == ["2 kopi 30rb"]


def test_catalog_merge_errors_name_the_field(oms_server):
    enrolled = oms_server.enrol("CATBAD", "Kasir")
    bad = _till_catalog(uuid7(), uuid7())
    bad["products"][0]["price"] = -5
    bad["staff"][0]["pin_hash"] = "1234"
    with oms_server.client(token=enrolled["token"]) as http:
        answer = http.post("/api/v1/sync/catalog", json=bad)
        pages, _ = pull_all(http)
    assert answer.status_code == 422
    locs = {tuple(err["loc"]) for err in answer.json()["detail"]}
    assert ("body", "products", 0, "price") in locs
    assert ("body", "staff", 0, "pin_hash") in locs
    assert not any(
        p["sku"] == "KOPI-1" and p["price"] == -5 for pg in pages for p in pg["products"]
    )


def test_catalog_pull_pages_changes_and_removals(oms_server):
    from cloud_oms import catalog, stock
    from cloud_oms.models.core import Store

    enrolled = oms_server.enrol("PULL", "Kasir")
    with oms_server.client(token=enrolled["token"]) as http:
        _, cursor = pull_all(http)
        with oms_server.bind():
            made = [
                catalog.save_product(
                    sku=f"P-{i:03d}",
                    name=f"Produk {i}",
                    price=1000 + i,
                    tax_code="PPN",
                    barcodes=[(f"P{i:03d}", 1)],
                )
                for i in range(25)
            ]
            ani = catalog.save_staff(name="Ani", pin_hash=hash_secret("1111", n=2**4))
            other_store = Store.create(code="ELSE", name="Elsewhere")
            budi = catalog.save_staff(
                name="Budi", pin_hash=hash_secret("2222", n=2**4), store=other_store
            )
        pages, cursor = pull_all(http, cursor, limit=10)
        assert len(pages) >= 3 and all(p["more"] for p in pages[:-1])
        skus = [p["sku"] for page in pages for p in page["products"]]
        assert sorted(skus) == [f"P-{i:03d}" for i in range(25)]
        staff_ids = {s["id"] for page in pages for s in page["staff"]}
        assert ani.id in staff_ids and budi.id not in staff_ids

        with oms_server.bind():
            catalog.delete_product(made[0].id)
            catalog.set_staff_active(ani.id, False)
            catalog.save_product(sku="P-001", name="Produk satu", price=999, tax_code="PPN")
            store = Store.get(Store.code == "PULL")
            stock.adjust(store, made[2].id, 7, "count", "test")
        pages, cursor = pull_all(http, cursor)
        removals = [r for page in pages for r in page["removals"]]
        assert {"kind": "product", "key": made[0].id} in removals
        assert [s["active"] for page in pages for s in page["staff"]] == [False]
        products = [p for page in pages for p in page["products"]]
        assert [(p["sku"], p["price"], p["name"]) for p in products] == [
            ("P-001", 999, "Produk satu")
        ]
        assert products[0]["barcodes"] == [{"code": "P001", "pack_qty": 1}]  # kept
        levels = {s["product_id"]: s["on_hand"] for page in pages for s in page["stock"]}
        assert levels == {made[2].id: 7}

        pages, _ = pull_all(http, cursor)
        assert not any(p["products"] or p["staff"] or p["removals"] for p in pages)


def test_catalog_cursor_must_be_one_the_oms_issued(oms_server):
    enrolled = oms_server.enrol("CUR", "Kasir")
    with oms_server.client(token=enrolled["token"]) as http:
        answer = http.get("/api/v1/sync/catalog", params={"since": "yesterday"})
        limit = http.get("/api/v1/sync/catalog", params={"limit": 0})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "since"]
    assert "not one this OMS issued" in answer.json()["detail"][0]["msg"]
    assert limit.status_code == 422 and limit.json()["detail"][0]["loc"] == ["query", "limit"]


# --- heartbeat, pickup orders, receipts -------------------------------------------------------


def test_heartbeat_records_skew_gaps_and_devices(oms_server):
    from cloud_oms.models.core import Terminal, TerminalHeartbeat

    enrolled = oms_server.enrol("HB", "Kasir")
    till = FakeTill("T01")
    s1, s2, s3 = till.sale([("A", 1, 1)]), till.sale([("A", 1, 1)]), till.sale([("A", 1, 1)])
    till.seq += 2
    s6 = till.sale([("A", 1, 1)])
    ahead = utcnow() + timedelta(minutes=5)
    with oms_server.client(token=enrolled["token"]) as http:
        post_events(http, s1, s3, s6)
        answer = http.post(
            "/api/v1/sync/heartbeat",
            json=_heartbeat(
                outbox_depth=1,
                last_seq=6,
                clock=iso(ahead),
                devices=[{"name": "printer", "state": "offline", "detail": "paper out"}],
            ),
        )
        bad = http.post("/api/v1/sync/heartbeat", json=_heartbeat(outbox_depth=-1))
        naive = http.post("/api/v1/sync/heartbeat", json=_heartbeat(clock="2026-01-01T00:00:00"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert 290_000 < body["clock_skew_ms"] < 310_000
    assert body["sequence_gaps"] == [[2, 2], [4, 5]]
    assert (body["last_seq"], body["last_accepted_seq"], body["last_receipt_seq"]) == (6, 6, 4)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "outbox_depth"]
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["body", "clock"]
    assert s2.event.seq == 2
    with oms_server.bind():
        terminal = Terminal.get_by_id(enrolled["terminal_id"])
        assert terminal.outbox_depth == 1 and terminal.reported_last_seq == 6
        assert terminal.devices == [{"name": "printer", "state": "offline", "detail": "paper out"}]
        assert terminal.last_seen_at is not None
        assert (
            TerminalHeartbeat.select().where(TerminalHeartbeat.terminal == terminal.id).count() == 1
        )


def test_pickup_orders_and_collection_by_till_events(oms_server):
    from cloud_oms import catalog, orders
    from cloud_oms.models.core import Store
    from cloud_oms.models.orders import Order
    from retail.schema import OrderCollected, OrderPaid, PaymentWire

    enrolled = oms_server.enrol("PICK", "Kasir")
    other = oms_server.enrol("PICK2", "Kasir")
    with oms_server.bind():
        store = Store.get(Store.code == "PICK")
        product = catalog.save_product(sku="PICK-1", name="Beras 5kg", price=75000, tax_code="FREE")
        from cloud_oms import stock

        stock.adjust(store, product, 10, "count", "test")
        order = orders.create_order(
            orders.OrderSpec(
                kind="phone",
                store=store,
                customer_name="Citra",
                phone="0812-1111-2222",
                delivery="pickup",
                lines=[orders.LineSpec(qty=2, product_id=product.id)],
            ),
            actor="test",
        )
        orders.confirm(order, "test")
        orders.fulfil(Order.get_by_id(order.id), None, "test")
        orders.ready_for_pickup(Order.get_by_id(order.id), "test")
    with oms_server.client(token=enrolled["token"]) as http:
        listed = http.get("/api/v1/sync/orders").json()["orders"]
    with oms_server.client(token=other["token"]) as http:
        assert http.get("/api/v1/sync/orders").json()["orders"] == []
        foreign = FakeTill("T01")
        stolen = foreign.envelope(OrderCollected(order_id=order.id, staff_id=foreign.staff_id))
        result = post_events(http, stolen)
    assert outcomes(result) == ["rejected"]
    assert [o["order_id"] for o in listed] == [order.id]
    assert listed[0]["due"] == 150000 and listed[0]["lines"][0]["qty"] == 2

    till = FakeTill("T01")
    paid = till.envelope(
        OrderPaid(
            order_id=order.id,
            shift_id=till.shift_id,
            staff_id=till.staff_id,
            total=150000,
            payments=[PaymentWire(payment_id=uuid7(), tender="qris", amount=150000)],
        )
    )
    collected = till.envelope(OrderCollected(order_id=order.id, staff_id=till.staff_id))
    with oms_server.client(token=enrolled["token"]) as http:
        result = post_events(http, paid, collected)
        assert outcomes(result) == ["accepted", "accepted"], result
        assert http.get("/api/v1/sync/orders").json()["orders"] == []
    with oms_server.bind():
        done = Order.get_by_id(order.id)
        assert (done.status, done.payment_status, done.paid_total) == ("collected", "paid", 150000)


def test_past_receipt_of_any_till_of_the_store(oms_server):
    a = oms_server.enrol("RCPT", "Kasir A")
    b = oms_server.enrol("RCPT", "Kasir B")
    elsewhere = oms_server.enrol("RCPT2", "Kasir C")
    till = FakeTill(a["terminal_code"])
    sale = till.sale([("KOPI-1", 18000, 2), ("TEH-1", 5000, 1)])
    with oms_server.client(token=a["token"]) as http:
        assert outcomes(post_events(http, sale)) == ["accepted"]
    with oms_server.client(token=b["token"]) as http:
        found = http.get(f"/api/v1/sync/receipts/{sale.payload.receipt_no}")
        missing = http.get("/api/v1/sync/receipts/T09-000001")
    with oms_server.client(token=elsewhere["token"]) as http:
        foreign = http.get(f"/api/v1/sync/receipts/{sale.payload.receipt_no}")
    assert found.status_code == 200, found.text
    body = StoreSale.model_validate(found.json())
    assert body.sale == sale.event.payload
    assert body.event_id == sale.id
    assert body.terminal == a["terminal_code"]
    assert body.occurred_at == sale.event.occurred_at
    assert body.refunds == []
    assert missing.status_code == 404 and "T09-000001" in missing.json()["detail"]
    assert foreign.status_code == 404

    # till B refunds till A's sale: the refund depends on the sale's event
    other = FakeTill(b["terminal_code"])
    refund = other.refund(sale, {0: 1})
    with oms_server.client(token=b["token"]) as http:
        assert outcomes(post_events(http, refund)) == ["accepted"]
        again = StoreSale.model_validate(
            http.get(f"/api/v1/sync/receipts/{sale.payload.receipt_no}").json()
        )
    # ...and any till asking afterwards sees what went back, by line and by tender
    booked = refund.payload
    assert [r.refund_id for r in again.refunds] == [booked.refund_id]
    assert again.refunds[0].receipt_no == booked.receipt_no
    assert [(u.sale_line_id, u.qty) for u in again.refunds[0].lines] == [
        (ln.sale_line_id, ln.qty) for ln in booked.lines
    ]
    assert sorted((m.tender, m.amount) for m in again.refunds[0].payments) == sorted(
        (p.tender, p.amount) for p in booked.payments
    )
    # a till of another store cannot refund it: the sale is unknown there
    third = FakeTill(elsewhere["terminal_code"])
    with oms_server.client(token=elsewhere["token"]) as http:
        result = post_events(http, third.refund(sale, {1: 1}))
    assert outcomes(result) == ["rejected"]
    assert "has not accepted" in result["results"][0]["reason"]


# --- service routes ---------------------------------------------------------------------------


def test_health_docs_and_metrics(oms_server):
    from cloud_oms.models.core import Terminal

    enrolled = oms_server.enrol("MET", "Kasir")
    till = FakeTill("T01")
    with oms_server.client(token=enrolled["token"]) as http:
        post_events(http, till.sale([("A", 100, 1)]))
    with oms_server.bind():
        Terminal.update(last_seen_at=utcnow() - timedelta(days=1)).where(
            Terminal.id == enrolled["terminal_id"]
        ).execute()
    with oms_server.client() as http:
        health = http.get("/health").json()
        spec = http.get("/openapi.json").json()
        docs = http.get("/docs")
        metrics = http.get("/metrics").text
    assert health["status"] == "ok" and health["schema_version"] >= 2
    assert {"/api/v1/terminals/enrol", "/api/v1/sync/events", "/api/v1/sync/catalog"} <= set(
        spec["paths"]
    )
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert (
        'kasir_oms_request_seconds_count{method="POST",route="/api/v1/sync/events",status="200"}'
        in metrics
    )
    assert 'kasir_oms_events_ingested_total{outcome="accepted",type="sale.completed"}' in metrics
    assert "kasir_oms_notification_outbox_depth" in metrics
    stale = [ln for ln in metrics.splitlines() if ln.startswith("kasir_oms_tills_not_seen ")]
    assert stale and float(stale[0].split()[1]) >= 1
