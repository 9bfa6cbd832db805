"""Customer notifications as an outbox: e-mail over SMTP and signed webhooks, with retries.

    >>> enqueue(order, "shipped", shipment=shipment)              # doctest: +SKIP
    >>> stop = threading.Event()
    >>> run_worker(stop, settings=Settings.from_env())            # doctest: +SKIP

`enqueue` writes `Notification` rows in the caller's transaction, so a notification exists if
and only if the change it reports was committed. The worker (`kasir-oms worker`) claims due
rows, delivers them outside any transaction and records the outcome; a failure is retried with
exponential backoff up to `max_attempts`, then the row is `failed` for the owner to see. A
claim is a lease: a worker that dies mid-delivery leaves the row to be retried after the lease,
so a notification is delivered at least once (receivers dedupe by `X-Kasir-Delivery`).

Webhooks are POSTed as JSON with `X-Kasir-Signature: t=<unix time>,v1=<hex>`, where v1 is
HMAC-SHA256 over `"<t>." + body` with the endpoint's secret (`verify_signature` checks it).
Every notification links the order's public tracking page `<base url>/t/<token>`; the token is
24 random bytes, so the page cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from retail.ids import iso, utcnow
from retail.money import Currency, format_money

from . import db as dbmod
from .config import Settings
from .db import atomic, is_postgres
from .models.core import Store
from .models.orders import Notification, Order, WebhookEndpoint

EVENTS = ("confirmed", "shipped", "ready_for_pickup", "delivered", "refunded")

_TEXT = {
    "confirmed": ("Pesanan {number} sudah kami terima", "Your order {number} is confirmed"),
    "shipped": ("Pesanan {number} sudah dikirim", "Your order {number} has shipped"),
    "ready_for_pickup": (
        "Pesanan {number} siap diambil",
        "Your order {number} is ready for pickup",
    ),
    "delivered": ("Pesanan {number} sudah sampai", "Your order {number} was delivered"),
    "refunded": ("Dana pesanan {number} dikembalikan", "A refund for your order {number}"),
}

SIGNATURE_HEADER = "X-Kasir-Signature"


def _settings(settings: Settings | None = None) -> Settings:
    return settings or Settings.from_env()


def tracking_url(order: Order, base_url: str | None = None) -> str:
    base = (base_url or _settings().base_url).rstrip("/")
    return f"{base}/t/{order.tracking_token}"


def enqueue(order: Order, event: str, *, amount: int | None = None, shipment=None) -> list:
    """Outbox rows for `event` of `order`: an e-mail if the order has an address, and one per
    active webhook endpoint of its store (or of every store). Till sales notify nobody: the
    customer stood at the counter."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    if order.kind == "store":
        return []
    store = Store.get_by_id(order.store_id)
    url = tracking_url(order)
    payload = {
        "event": f"order.{event}",
        "order_id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "total": order.total,
        "store": store.code,
        "tracking_url": url,
        "at": iso(utcnow()),
    }
    if amount is not None:
        payload["amount"] = amount
    if shipment is not None:
        payload["carrier"] = shipment.carrier
        payload["tracking_number"] = shipment.tracking_number
    rows = []
    if order.email:
        # The owner's wording (edited at /admin/notifications) when there is one.
        from .web.notify_templates import render_email

        custom = render_email(order, store, event, url, amount, shipment)
        if custom is not None:
            subject, body = custom
        else:
            subject_id, subject_en = (t.format(number=order.number) for t in _TEXT[event])
            subject = f"{subject_id} / {subject_en}"
            body = _email_body(order, store, subject_id, subject_en, url, amount, shipment)
        rows.append(
            {
                "transport": "email",
                "target": order.email,
                "endpoint": None,
                "subject": subject,
                "body": body,
            }
        )
    endpoints = WebhookEndpoint.select().where(
        WebhookEndpoint.active
        & (WebhookEndpoint.store.is_null() | (WebhookEndpoint.store == order.store_id))
    )
    for ep in endpoints:
        rows.append(
            {
                "transport": "webhook",
                "target": ep.url,
                "endpoint": ep.id,
                "subject": payload["event"],
                "body": json.dumps(payload, separators=(",", ":")),
            }
        )
    now = utcnow()
    created = []
    for row in rows:
        created.append(Notification.create(order=order.id, event=event, next_attempt_at=now, **row))
    return created


def _email_body(order, store, subject_id, subject_en, url, amount, shipment) -> str:
    currency = Currency(store.currency, store.currency_exponent)
    name = order.customer_name or "Pelanggan"
    lines = [f"Halo {name},", "", f"{subject_id}.", f"{subject_en}.", ""]
    if shipment is not None:
        lines.append(
            f"Kurir / Carrier: {shipment.carrier}, resi / tracking: {shipment.tracking_number}"
        )
    if amount is not None:
        lines.append(f"Jumlah / Amount: {format_money(amount, currency, store.locale)}")
    lines.append(f"Total: {format_money(order.total, currency, store.locale)}")
    lines += ["", f"Lacak pesanan / Track your order: {url}", "", store.name]
    return "\n".join(lines) + "\n"


# --- signatures -------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True if `header` is a valid signature of `body`, made within `tolerance_s` seconds."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerConfig:
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    lease_s: float = 120.0
    batch: int = 20
    timeout_s: float = 10.0


class DeliveryError(Exception):
    pass


def backoff(attempts: int, config: WorkerConfig) -> float:
    """Seconds before the next try after `attempts` failed ones: base x 2^(n-1), capped."""
    return min(config.backoff_base_s * 2 ** max(attempts - 1, 0), config.backoff_max_s)


def claim(config: WorkerConfig) -> list[Notification]:
    """Due rows, leased to this worker (their next attempt moved past the lease)."""
    now = utcnow()
    with atomic():
        query = (
            Notification.select()
            .where((Notification.status == "pending") & (Notification.next_attempt_at <= now))
            .order_by(Notification.next_attempt_at)
            .limit(config.batch)
        )
        if is_postgres():
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        rows = list(query)
        if rows:
            Notification.update(
                attempts=Notification.attempts + 1,
                next_attempt_at=now + timedelta(seconds=config.lease_s),
            ).where(Notification.id.in_([r.id for r in rows])).execute()
        for row in rows:
            row.attempts += 1
        return rows


def send_email(note: Notification, settings: Settings, timeout: float) -> None:
    if not settings.smtp_host:
        raise DeliveryError("SMTP_HOST is not set")
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = note.target
    msg["Subject"] = note.subject
    msg["Message-ID"] = make_msgid(idstring=note.id)
    msg["X-Kasir-Delivery"] = note.id
    msg.set_content(note.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls and smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc


def post_webhook(note: Notification, timeout: float) -> None:
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == note.endpoint_id)
    if endpoint is None or not endpoint.active:
        raise DeliveryError("the webhook endpoint was removed or disabled")
    body = note.body.encode()
    request = urllib.request.Request(
        note.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Kasir-OMS",
            SIGNATURE_HEADER: sign(endpoint.secret, body),
            "X-Kasir-Event": note.subject,
            "X-Kasir-Delivery": note.id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{note.target} answered {exc.code}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise DeliveryError(f"{note.target}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"{note.target} answered {status}")


def deliver(note: Notification, settings: Settings, config: WorkerConfig) -> None:
    if note.transport == "email":
        send_email(note, settings, config.timeout_s)
    elif note.transport == "webhook":
        post_webhook(note, config.timeout_s)
    else:
        raise DeliveryError(f"unknown transport {note.transport!r}")


def run_once(settings: Settings | None = None, config: WorkerConfig | None = None) -> int:
    """Claim and deliver one batch; returns how many rows were tried."""
    settings = _settings(settings)
    config = config or WorkerConfig()
    rows = claim(config)
    for note in rows:
        try:
            deliver(note, settings, config)
        except DeliveryError as exc:
            now = utcnow()
            if note.attempts >= config.max_attempts:
                fields = {"status": "failed", "last_error": str(exc)[:2000]}
            else:
                delay = timedelta(seconds=backoff(note.attempts, config))
                fields = {"next_attempt_at": now + delay, "last_error": str(exc)[:2000]}
            Notification.update(**fields).where(Notification.id == note.id).execute()
        else:
            Notification.update(status="sent", sent_at=utcnow(), last_error="").where(
                Notification.id == note.id
            ).execute()
    return len(rows)


def run_worker(
    stop_event: threading.Event,
    *,
    settings: Settings | None = None,
    poll_interval: float = 1.0,
    config: WorkerConfig | None = None,
) -> None:
    """Deliver notifications until `stop_event` is set. The database must be connected
    (`cloud_oms.db.connect`) before calling."""
    settings = _settings(settings)
    config = config or WorkerConfig()
    while not stop_event.is_set():
        with dbmod.session():
            tried = run_once(settings, config)
        if not tried:
            stop_event.wait(poll_interval)


def add_webhook(url: str, secret: str, store: Store | None = None) -> WebhookEndpoint:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook url {url!r} must start with http:// or https://")
    if len(secret) < 16:
        raise ValueError("webhook secret must be at least 16 characters")
    return WebhookEndpoint.create(url=url, secret=secret, store=store.id if store else None)
