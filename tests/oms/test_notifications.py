"""The notification outbox delivered by the worker to a real SMTP server and a real HTTP
receiver that checks the signature; retries with backoff; failures recorded."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from orders_factory import make_product, make_store

from cloud_oms import notifications, orders
from cloud_oms.config import Settings
from cloud_oms.models.orders import Notification
from cloud_oms.stock import adjust

BASE = "https://oms.toko.example"
HOOK_SECRET = "hook-secret-5a4b3c2d1e0f"
FAST = notifications.WorkerConfig(backoff_base_s=0.05, backoff_max_s=0.2, lease_s=30, timeout_s=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


class Receiver:
    """An HTTP endpoint that verifies X-Kasir-Signature and can fail its first requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict] = []
        self.deliveries: Counter = Counter()
        self.bad_signatures = 0
        self.fail_left = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(notifications.SIGNATURE_HEADER, "")
                if not notifications.verify_signature(HOOK_SECRET, signature, body):
                    outer.bad_signatures += 1
                    self.send_response(401)
                elif outer.fail_left > 0:
                    outer.fail_left -= 1
                    self.send_response(500)
                else:
                    outer.deliveries[self.headers["X-Kasir-Delivery"]] += 1
                    outer.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kasir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def settings(smtp, monkeypatch):
    monkeypatch.setenv("KASIR_OMS_BASE_URL", BASE)
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,
        smtp_from="toko@toko.example",
        base_url=BASE,
    )


def run_until_done(settings, config=FAST, workers: int = 1, timeout: float = 20.0) -> None:
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=notifications.run_worker,
            args=(stop,),
            kwargs={"settings": settings, "poll_interval": 0.02, "config": config},
        )
        for _ in range(workers)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not Notification.select().where(Notification.status == "pending").exists():
                break
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()


def make_order(store, product, *, delivery="ship", email_address="sinta@example.com"):
    spec = orders.OrderSpec(
        kind="phone",
        store=store,
        lines=[orders.LineSpec(sku=product.sku, qty=1)],
        customer_name="Sinta",
        email=email_address,
        delivery=delivery,
    )
    return orders.create_order(spec, "user:staff@toko.id", "backorder")


def test_life_cycle_notifies_by_email_and_signed_webhook(oms_db, smtp, settings):
    box, _ = smtp
    receiver = Receiver()
    try:
        store = make_store()
        kopi = make_product("KOPI", 45_000)
        adjust(store, kopi, 5, "opening", "system")
        notifications.add_webhook(receiver.url, HOOK_SECRET, store)
        actor = "user:staff@toko.id"
        order = make_order(store, kopi)
        orders.confirm(order, actor)
        orders.add_payment(order, orders.PaymentSpec("bank_transfer"), actor)
        orders.fulfil(order, None, actor)
        orders.ship(order, "JNE", "JNE123", actor)
        orders.deliver(order, actor)
        orders.refund(order, 5_000, actor)
        pickup = make_order(store, kopi, delivery="pickup", email_address=None)
        orders.confirm(pickup, actor)
        orders.fulfil(pickup, None, actor)
        orders.ready_for_pickup(pickup, actor)
        run_until_done(settings)
    finally:
        receiver.close()

    url = f"{BASE}/t/{order.tracking_token}"
    assert len(order.tracking_token) >= 32
    subjects = [m["Subject"] for m in box.messages]
    assert [s.split(" / ")[1] for s in subjects] == [
        f"Your order {order.number} is confirmed",
        f"Your order {order.number} has shipped",
        f"Your order {order.number} was delivered",
        f"A refund for your order {order.number}",
    ]
    for message in box.messages:
        assert message["To"] == "sinta@example.com" and message["From"] == "toko@toko.example"
        assert url in message.get_content()
    assert "JNE123" in box.messages[1].get_content()
    assert "Rp5.000" in box.messages[3].get_content()
    events = [(r["number"], r["event"]) for r in receiver.received]
    assert sorted(events) == sorted(
        [
            (order.number, "order.confirmed"),
            (order.number, "order.shipped"),
            (order.number, "order.delivered"),
            (order.number, "order.refunded"),
            (pickup.number, "order.confirmed"),
            (pickup.number, "order.ready_for_pickup"),
        ]
    )
    shipped = next(r for r in receiver.received if r["event"] == "order.shipped")
    assert (shipped["carrier"], shipped["tracking_number"], shipped["tracking_url"]) == (
        "JNE",
        "JNE123",
        url,
    )
    assert receiver.bad_signatures == 0
    assert all(n.status == "sent" and n.attempts == 1 for n in Notification.select())


def test_failed_deliveries_are_retried_then_given_up(oms_db, settings):
    flaky = Receiver(fail_first=2)
    try:
        store = make_store()
        kopi = make_product("KOPI", 45_000)
        notifications.add_webhook(flaky.url, HOOK_SECRET)
        dead_port = free_port()
        gone = notifications.add_webhook(f"http://127.0.0.1:{dead_port}/nothing", HOOK_SECRET)
        order = make_order(store, kopi, email_address=None)
        orders.confirm(order, "system")
        run_until_done(
            settings,
            notifications.WorkerConfig(
                max_attempts=4, backoff_base_s=0.02, backoff_max_s=0.1, lease_s=30, timeout_s=2
            ),
        )
    finally:
        flaky.close()
    ok = Notification.get(Notification.target == flaky.url)
    assert (ok.status, ok.attempts) == ("sent", 3)
    dead = Notification.get(Notification.endpoint == gone.id)
    assert (dead.status, dead.attempts) == ("failed", 4)
    assert f"127.0.0.1:{dead_port}" in dead.last_error
    assert len(flaky.received) == 1


def test_two_workers_deliver_each_notification_once(oms_db, settings):
    receiver = Receiver()
    try:
        store = make_store()
        kopi = make_product("KOPI", 45_000)
        notifications.add_webhook(receiver.url, HOOK_SECRET)
        for _ in range(12):
            orders.confirm(make_order(store, kopi, email_address=None), "system")
        run_until_done(settings, workers=2)
    finally:
        receiver.close()
    assert len(receiver.deliveries) == 12
    assert set(receiver.deliveries.values()) == {1}


def test_signature_checks(oms_db):
    body = b'{"event":"order.shipped"}'
    header = notifications.sign(HOOK_SECRET, body, timestamp=1_700_000_000)
    assert notifications.verify_signature(HOOK_SECRET, header, body, now=1_700_000_010)
    assert not notifications.verify_signature(HOOK_SECRET, header, body + b" ", now=1_700_000_010)
    assert not notifications.verify_signature(
        "other-secret-xxxxxxxx", header, body, now=1_700_000_010
    )
    assert not notifications.verify_signature(
        HOOK_SECRET, header, body, now=1_700_001_000
    )  # too old
    assert not notifications.verify_signature(HOOK_SECRET, "garbage", body)
    with pytest.raises(ValueError, match="must start with http"):
        notifications.add_webhook("ftp://x", HOOK_SECRET)
    with pytest.raises(ValueError, match="at least 16 characters"):
        notifications.add_webhook("https://x.example", "short")


def test_store_sales_and_missing_smtp(oms_db, monkeypatch):
    store = make_store()
    kopi = make_product("KOPI", 45_000)
    order = make_order(store, kopi)
    orders.confirm(order, "system")
    # No SMTP host configured: the e-mail waits and says why.
    notifications.run_once(Settings(smtp_host=None), FAST)
    note = Notification.get()
    assert (note.status, note.attempts, note.last_error) == ("pending", 1, "SMTP_HOST is not set")
