"""Customer e-mail templates the owner edits: a subject and a plain-text body per event, with
`{{ placeholders }}`, and a preview.

    >>> render_text("Halo {{ customer_name }}", {"customer_name": "Budi"})
    'Halo Budi'

A saved template replaces the built-in wording of `cloud_oms.notifications` for that event.
`render_email(order, store, event, url, amount, shipment)` gives the (subject, body) of an
owner's template, or None when the event has none; `notifications.enqueue` can call it where it
builds the e-mail. Until it does, the web actions apply the template to the e-mails their own
action queued, in the same transaction (`queued_ids` before, `apply_to_new` after).

Placeholders are plain names; an unknown one is refused when the template is saved, so a typo
cannot reach a customer. Values are inserted as text (the e-mail is plain text).

Needs no web framework (only `services` for the settings table), so the notification service
may import it.
"""

from __future__ import annotations

import re

from retail.money import Currency, format_money

from .. import notifications
from ..models.core import Store
from ..models.orders import Notification, Order, Payment, Shipment
from . import services

EVENTS = notifications.EVENTS
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
FIELDS = {
    "customer_name": "the customer's name (or 'Pelanggan')",
    "number": "the order number",
    "store_name": "the store's name",
    "status": "the order's state",
    "total": "the order total, formatted",
    "amount": "the amount refunded (refunded)",
    "carrier": "the carrier (shipped)",
    "tracking_number": "the carrier's tracking number (shipped)",
    "tracking_url": "the customer's tracking page",
    "pickup_address": "the store's address (ready for pickup)",
    "pickup_hours": "the store's opening hours (ready for pickup)",
}
MAX_SUBJECT = 250
MAX_BODY = 8000

_SIGNATURE = "\n\nLacak pesanan / Track your order: {{ tracking_url }}\n\n{{ store_name }}\n"
DEFAULTS = {
    "confirmed": (
        "Pesanan {{ number }} sudah kami terima / Your order {{ number }} is confirmed",
        "Halo {{ customer_name }},\n\nPesanan {{ number }} sudah kami terima.\n"
        "Your order {{ number }} is confirmed.\n\nTotal: {{ total }}" + _SIGNATURE,
    ),
    "shipped": (
        "Pesanan {{ number }} sudah dikirim / Your order {{ number }} has shipped",
        "Halo {{ customer_name }},\n\nPesanan {{ number }} sudah dikirim.\n"
        "Your order {{ number }} has shipped.\n\n"
        "Kurir / Carrier: {{ carrier }}, resi / tracking: {{ tracking_number }}" + _SIGNATURE,
    ),
    "ready_for_pickup": (
        "Pesanan {{ number }} siap diambil / Your order {{ number }} is ready for pickup",
        "Halo {{ customer_name }},\n\nPesanan {{ number }} siap diambil di {{ store_name }}.\n"
        "Your order {{ number }} is ready for pickup at {{ store_name }}.\n\n"
        "{{ pickup_address }}\n{{ pickup_hours }}" + _SIGNATURE,
    ),
    "delivered": (
        "Pesanan {{ number }} sudah sampai / Your order {{ number }} was delivered",
        "Halo {{ customer_name }},\n\nPesanan {{ number }} sudah sampai.\n"
        "Your order {{ number }} was delivered." + _SIGNATURE,
    ),
    "refunded": (
        "Dana pesanan {{ number }} dikembalikan / A refund for your order {{ number }}",
        "Halo {{ customer_name }},\n\nDana pesanan {{ number }} dikembalikan.\n"
        "A refund for your order {{ number }}.\n\nJumlah / Amount: {{ amount }}" + _SIGNATURE,
    ),
}


class TemplateError(services.ServiceError):
    pass


def _key(event: str) -> str:
    return f"notify.{event}"


def _check_event(event: str) -> None:
    if event not in EVENTS:
        raise TemplateError("event", f"unknown notification event {event!r}")


def template(event: str) -> dict:
    """{"subject", "body", "custom"}: the owner's template, else the built-in wording."""
    _check_event(event)
    saved = services.get_setting(_key(event))
    if saved:
        return {"subject": saved["subject"], "body": saved["body"], "custom": True}
    subject, body = DEFAULTS[event]
    return {"subject": subject, "body": body, "custom": False}


def validate(subject: str, body: str) -> None:
    for field, text, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        if not text.strip():
            raise TemplateError(field, f"the {field} is empty")
        if len(text) > limit:
            raise TemplateError(field, f"the {field} is {len(text)} characters; at most {limit}")
        unknown = sorted({m for m in PLACEHOLDER.findall(text) if m not in FIELDS})
        if unknown:
            names = ", ".join("{{ " + u + " }}" for u in unknown)
            raise TemplateError(field, f"unknown placeholder {names}; known: {', '.join(FIELDS)}")
        stray = PLACEHOLDER.sub("", text)
        if "{{" in stray or "}}" in stray:
            raise TemplateError(field, "a '{{' or '}}' does not form a {{ placeholder }}")
    if "\n" in subject or "\r" in subject:
        raise TemplateError("subject", "the subject must be one line")


def save(event: str, subject: str, body: str) -> None:
    _check_event(event)
    subject = subject.strip()
    body = body.replace("\r\n", "\n")
    validate(subject, body)
    services.set_setting(_key(event), {"subject": subject, "body": body})


def reset(event: str) -> None:
    _check_event(event)
    services.delete_setting(_key(event))


def render_text(text: str, context: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(context.get(m.group(1), "")), text)


def context_for(
    order: Order, store: Store, url: str, *, amount: int | None = None, shipment=None
) -> dict:
    code = order.currency or store.currency
    currency = Currency(code, store.currency_exponent, "Rp" if code == "IDR" else f"{code} ")
    info = services.store_info(store)
    return {
        "customer_name": order.customer_name or "Pelanggan",
        "number": order.number,
        "store_name": store.name,
        "status": order.status.replace("_", " "),
        "total": format_money(order.total, currency, store.locale),
        "amount": format_money(amount, currency, store.locale) if amount is not None else "",
        "carrier": shipment.carrier if shipment else "",
        "tracking_number": shipment.tracking_number if shipment else "",
        "tracking_url": url,
        "pickup_address": info["address"],
        "pickup_hours": info["hours"],
    }


def render_email(
    order: Order, store: Store, event: str, url: str, amount: int | None = None, shipment=None
) -> tuple[str, str] | None:
    """The owner's template for `event`, filled in; None when the built-in wording applies."""
    saved = services.get_setting(_key(event)) if event in EVENTS else None
    if not saved:
        return None
    context = context_for(order, store, url, amount=amount, shipment=shipment)
    return render_text(saved["subject"], context), render_text(saved["body"], context)


def preview(event: str, subject: str, body: str, order: Order | None = None) -> tuple[str, str]:
    """The template as a customer would get it: for `order`, else for a made-up one."""
    _check_event(event)
    validate(subject, body)
    if order is not None:
        store = Store.get_by_id(order.store_id)
        shipment = Shipment.select().where(Shipment.order == order.id).first()
        context = context_for(
            order, store, notifications.tracking_url(order), amount=order.refunded_total or None,
            shipment=shipment,
        )  # fmt: skip
    else:
        store = Store.select().order_by(Store.code).first()
        context = {
            "customer_name": "Budi Santoso",
            "number": "PH-JKT1-2026-00042",
            "store_name": store.name if store else "Toko Contoh",
            "status": event.replace("_", " "),
            "total": "Rp150.000",
            "amount": "Rp50.000",
            "carrier": "JNE",
            "tracking_number": "JNE0123456789",
            "tracking_url": notifications.tracking_url(
                Order(tracking_token="contoh-token-pelacakan")
            ),
            "pickup_address": services.store_info(store)["address"] if store else "",
            "pickup_hours": services.store_info(store)["hours"] if store else "",
        }
    return render_text(subject, context), render_text(body, context)


# --- applying templates to what a web action queued -------------------------------------------


def queued_ids(order: Order) -> set[str]:
    return {
        n.id for n in Notification.select(Notification.id).where(Notification.order == order.id)
    }


def apply_to_new(order_id: str, before: set[str]) -> int:
    """Re-render the e-mails queued for the order since `before` with the owner's templates;
    call in the transaction that queued them. Returns how many were changed."""
    order = Order.get_by_id(order_id)
    store = Store.get_by_id(order.store_id)
    url = notifications.tracking_url(order)
    changed = 0
    new = Notification.select().where(
        (Notification.order == order.id)
        & (Notification.transport == "email")
        & (Notification.status == "pending")
    )
    for note in new:
        if note.id in before:
            continue
        amount = shipment = None
        if note.event == "refunded":
            last = (
                Payment.select()
                .where((Payment.order == order.id) & (Payment.kind == "refund"))
                .order_by(Payment.at.desc(), Payment.id.desc())
                .first()
            )
            amount = last.amount if last else None
        if note.event == "shipped":
            shipment = (
                Shipment.select()
                .where(Shipment.order == order.id)
                .order_by(Shipment.shipped_at.desc(), Shipment.id.desc())
                .first()
            )
        rendered = render_email(order, store, note.event, url, amount, shipment)
        if rendered is None:
            continue
        subject, body = rendered
        Notification.update(subject=subject[:300], body=body).where(
            Notification.id == note.id
        ).execute()
        changed += 1
    return changed
