"""WooCommerce's order webhook against a real server: signature, mapping, redelivery, status
changes. The payload is a REST v3 order as WooCommerce sends it (tests/oms/data)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from orders_factory import make_channel, make_product, make_store

from cloud_oms.channels import woocommerce_signature
from cloud_oms.models.orders import Order
from cloud_oms.models.stock import StockLevel
from cloud_oms.stock import adjust

SAMPLE = json.loads((Path(__file__).parent / "data" / "woocommerce_order.json").read_text())
SECRET = "wc-secret-0f8e7d6c5b4a39281706"
URL = "/api/v1/channels/woocommerce/woo"


@pytest.fixture(scope="module")
def woo(oms_server):
    with oms_server.bind():
        store = make_store("JKT1")
        kopi = make_product("KOPI-250", 45_000)
        teh = make_product("TEH-100", 20_000)
        adjust(store, kopi, 10, "opening", "system")
        adjust(store, teh, 10, "opening", "system")
        make_channel(store, "woo", kind="woocommerce", secret=SECRET)
        make_channel(store, "api-only", kind="online")
    return oms_server


def deliver(server, payload, *, secret=SECRET, topic="order.updated", url=URL, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Source": "https://toko.example.co.id/",
        "X-WC-Webhook-Signature": woocommerce_signature(secret, body),
    }
    with server.client() as http:
        return http.post(url, content=body, headers=headers)


def order_727(server) -> Order:
    with server.bind():
        return Order.get(Order.external_id == "727")


def test_signed_order_is_booked_as_woocommerce_charged_it(woo):
    r = deliver(woo, SAMPLE, topic="order.created")
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "created"
    o = r.json()["order"]
    assert (o["number"], o["status"], o["payment_status"]) == ("WOO-727", "confirmed", "paid")
    assert o["total"] == 119_000 and o["paid_total"] == 119_000
    assert o["tax_total"] == 8_027 + 1_982
    assert o["shipping_total"] == 18_000 and o["discount_total"] == 9_000
    assert [(ln["sku"], ln["qty"], ln["total"], ln["match"]) for ln in o["lines"]] == [
        ("KOPI-250", 2, 81_000, "sku"),
        ("TEH-100", 1, 20_000, "sku"),
    ]
    assert o["customer"] == {
        "id": None,
        "name": "Dewi Lestari",
        "email": "dewi.lestari@example.co.id",
        "phone": "6281587654321",
        "company": "CV Kopi Lestari",
        "npwp": "",
    }
    assert "Jl. Cempaka Putih Raya No. 12" in o["shipping_address"]
    assert o["payments"][0]["method"] == "Midtrans QRIS"
    assert o["payments"][0]["reference"] == SAMPLE["transaction_id"]
    assert o["placed_at"] == "2026-03-14T02:12:44.000Z"
    assert [i["kind"] for i in o["invoices"]] == ["invoice"]


def test_redelivery_is_a_no_op(woo):
    r = deliver(woo, SAMPLE)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "unchanged"
    with woo.bind():
        assert Order.select().where(Order.external_id == "727").count() == 1


def test_bad_signature_is_refused_and_nothing_changes(woo):
    cancelled = {**SAMPLE, "status": "cancelled"}
    r = deliver(woo, cancelled, secret="not-the-secret")
    assert r.status_code == 401
    assert "X-WC-Webhook-Signature" in r.json()["detail"]
    body = json.dumps(cancelled).encode()
    with woo.client() as http:
        r = http.post(URL, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        # the signature of other bytes does not cover these
        r = http.post(
            URL,
            content=body + b" ",
            headers={"X-WC-Webhook-Signature": woocommerce_signature(SECRET, body)},
        )
        assert r.status_code == 401
    assert order_727(woo).status == "confirmed"


def test_unknown_channel_ping_and_ignored_statuses(woo):
    assert deliver(woo, SAMPLE, url="/api/v1/channels/woocommerce/nope").status_code == 404
    # an API channel is not a WooCommerce channel
    assert deliver(woo, SAMPLE, url="/api/v1/channels/woocommerce/api-only").status_code == 404
    with woo.client() as http:
        r = http.post(
            URL,
            content=b"webhook_id=12",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200 and r.json()["outcome"] == "ping"
    draft = {**SAMPLE, "id": 900, "status": "checkout-draft"}
    r = deliver(woo, draft)
    assert r.status_code == 200 and r.json()["outcome"] == "ignored"
    with woo.bind():
        assert not Order.select().where(Order.external_id == "900").exists()


def test_bad_payloads_name_the_field(woo):
    r = deliver(woo, None, raw=b"{not json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]
    bad = copy.deepcopy(SAMPLE)
    bad["id"] = 901
    bad["line_items"][1]["quantity"] = 0
    r = deliver(woo, bad)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "line_items", "1", "quantity"]
    bad = {**SAMPLE, "id": 902, "status": "wc-custom"}
    r = deliver(woo, bad)
    assert r.status_code == 422 and "wc-custom" in r.json()["detail"][0]["msg"]
    bad = copy.deepcopy(SAMPLE)
    bad["id"] = 903
    bad["line_items"][0]["total"] = "12,5x"
    r = deliver(woo, bad)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "line_items", "0", "total"]


def test_changed_content_is_a_conflict(woo):
    changed = copy.deepcopy(SAMPLE)
    changed["line_items"][1]["quantity"] = 3
    r = deliver(woo, changed)
    assert r.status_code == 409
    assert "WOO-727" in r.json()["detail"]


def test_status_updates_become_transitions(woo):
    with woo.bind():
        kopi = (
            StockLevel.select()
            .join_from(StockLevel, StockLevel.product.rel_model)
            .where(StockLevel.product.rel_model.sku == "KOPI-250")
            .get()
        )
        assert kopi.reserved == 2
    r = deliver(woo, {**SAMPLE, "status": "cancelled"})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "updated"
    o = r.json()["order"]
    assert o["status"] == "cancelled" and o["refund_due"] == 119_000
    r = deliver(woo, {**SAMPLE, "status": "refunded"})
    assert r.json()["order"]["payment_status"] == "refunded"
    r = deliver(woo, {**SAMPLE, "status": "processing"})
    assert r.status_code == 409
    assert r.json()["detail"] == "order WOO-727 is refunded; cannot mark it paid again"
    with woo.bind():
        level = StockLevel.get_by_id((kopi.store_id, kopi.product_id))
        assert level.reserved == 0


def test_pending_then_paid_on_hold_order(woo):
    pending = {
        **SAMPLE,
        "id": 728,
        "status": "on-hold",
        "payment_method": "bacs",
        "payment_method_title": "Transfer Bank",
        "transaction_id": "",
    }
    r = deliver(woo, pending, topic="order.created")
    assert r.status_code == 201
    assert (r.json()["order"]["status"], r.json()["order"]["payment_status"]) == (
        "pending",
        "unpaid",
    )
    r = deliver(woo, {**pending, "status": "completed"})
    assert r.status_code == 200
    o = r.json()["order"]
    assert (o["status"], o["payment_status"]) == ("confirmed", "paid")
    assert o["payments"][0]["method"] == "Transfer Bank"
