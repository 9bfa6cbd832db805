"""Online shops: WooCommerce's order webhook mapped onto the OMS's channel order upsert.

    >>> verify_woocommerce(secret, raw_body, request.headers["X-WC-Webhook-Signature"])
    ...                                                             # doctest: +SKIP
    True
    >>> spec, status, payment = woocommerce_order(channel, store, json.loads(raw_body))
    ...                                                             # doctest: +SKIP

WooCommerce signs each delivery with `X-WC-Webhook-Signature`: base64 of HMAC-SHA256 over the
raw body with the webhook's secret (the channel's `webhook_secret`). Its payload is the REST v3
order. Amounts there are decimal strings ("15000" or "6.00"); they are rounded half-up to the
store currency's minor unit. A line's total and tax are booked as the shop charged them
(`total + total_tax`), matched to the catalog by sku.

WooCommerce's statuses map to the channel statuses of `orders.upsert_channel_order`:
pending, on-hold and failed are unpaid (`pending`); processing and completed are `paid`
(shipping is the OMS's job, so "completed" in the shop does not ship anything here);
cancelled and refunded map to themselves; drafts and trash are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from retail.ids import parse_iso

from .models.core import Channel, Store
from .orders import LineSpec, OrderError, OrderSpec, PaymentSpec

WOO_STATUS = {
    "pending": "pending",
    "on-hold": "pending",
    "failed": "pending",
    "processing": "paid",
    "completed": "paid",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
WOO_IGNORED = {"checkout-draft", "draft", "trash", "auto-draft"}
PICKUP_METHODS = {"local_pickup", "pickup_location"}


def verify_woocommerce(secret: str, body: bytes, signature: str | None) -> bool:
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def woocommerce_signature(secret: str, body: bytes) -> str:
    """What WooCommerce sends for `body` (used by tests and by anyone replaying a delivery)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _amount(value, exponent: int, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise OrderError(field, f"amount {value!r} is not a number") from None
    if not number.is_finite():
        raise OrderError(field, f"amount {value!r} is not a finite number")
    minor = (number.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor)


def _address(part: dict) -> str:
    name = " ".join(x for x in (part.get("first_name"), part.get("last_name")) if x)
    city = " ".join(x for x in (part.get("postcode"), part.get("city")) if x)
    lines = [
        name,
        part.get("company"),
        part.get("address_1"),
        part.get("address_2"),
        city,
        ", ".join(x for x in (part.get("state"), part.get("country")) if x),
    ]
    return "\n".join(str(x) for x in lines if x)


def woocommerce_order(
    channel: Channel, store: Store, payload: dict
) -> tuple[OrderSpec, str, PaymentSpec | None] | None:
    """The order spec, channel status and payment of a WooCommerce order; None when the
    status is one the OMS ignores (drafts, trash)."""
    if not isinstance(payload, dict):
        raise OrderError("body", "a WooCommerce order must be a JSON object")
    if payload.get("id") in (None, ""):
        raise OrderError("id", "the WooCommerce order has no id")
    status = payload.get("status")
    if status in WOO_IGNORED:
        return None
    if status not in WOO_STATUS:
        raise OrderError("status", f"WooCommerce status {status!r} is not one the OMS knows")
    exp = store.currency_exponent
    currency = payload.get("currency") or store.currency
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise OrderError("line_items", "the WooCommerce order has no line items")
    lines = []
    for i, item in enumerate(items):
        where = f"line_items[{i}]"
        if not isinstance(item, dict):
            raise OrderError(where, "a line item must be an object")
        qty = item.get("quantity")
        if not isinstance(qty, int) or qty < 1:
            raise OrderError(f"{where}.quantity", f"quantity {qty!r} must be a whole number ≥ 1")
        total = _amount(item.get("total"), exp, f"{where}.total")
        tax = _amount(item.get("total_tax"), exp, f"{where}.total_tax")
        sub = _amount(item.get("subtotal"), exp, f"{where}.subtotal")
        sub_tax = _amount(item.get("subtotal_tax"), exp, f"{where}.subtotal_tax")
        gross = max(sub + sub_tax, total + tax)
        unit = -(-gross // qty)  # round up so that the discount is never negative
        lines.append(
            LineSpec(
                qty=qty,
                sku=(item.get("sku") or None),
                name=str(item.get("name") or "")[:200],
                unit_price=unit,
                discount=unit * qty - (total + tax),
                tax_code=None if tax else "FREE",
                source_line_id=str(item.get("id", i)),
                total=total + tax,
                tax_amount=tax,
            )
        )
    for j, fee in enumerate(payload.get("fee_lines") or []):
        total = _amount(fee.get("total"), exp, f"fee_lines[{j}].total")
        tax = _amount(fee.get("total_tax"), exp, f"fee_lines[{j}].total_tax")
        if total + tax <= 0:
            continue  # a negative fee is a discount WooCommerce has already spread over lines
        lines.append(
            LineSpec(
                qty=1,
                name=str(fee.get("name") or "fee")[:200],
                unit_price=total + tax,
                tax_code=None if tax else "FREE",
                source_line_id=f"fee-{fee.get('id', j)}",
                total=total + tax,
                tax_amount=tax,
            )
        )
    shipping_lines = payload.get("shipping_lines") or []
    ship_total = ship_tax = 0
    pickup = False
    for k, sl in enumerate(shipping_lines):
        ship_total += _amount(sl.get("total"), exp, f"shipping_lines[{k}].total")
        ship_tax += _amount(sl.get("total_tax"), exp, f"shipping_lines[{k}].total_tax")
        pickup = pickup or sl.get("method_id") in PICKUP_METHODS
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    placed = payload.get("date_created_gmt")
    try:
        placed_at = (
            parse_iso(placed + "Z" if placed and not placed.endswith("Z") else placed)
            if placed
            else None
        )
    except ValueError:
        raise OrderError("date_created_gmt", f"date {placed!r} is not an ISO date") from None
    name = " ".join(x for x in (billing.get("first_name"), billing.get("last_name")) if x)
    spec = OrderSpec(
        kind="online",
        store=store,
        channel=channel,
        external_id=str(payload["id"]),
        lines=lines,
        customer_name=name,
        email=billing.get("email") or None,
        phone=billing.get("phone") or None,
        company=billing.get("company") or "",
        billing_address=_address(billing),
        shipping_address=_address(shipping) if any(shipping.values()) else _address(billing),
        delivery="pickup" if pickup else "ship",
        currency=currency,
        shipping_total=ship_total + ship_tax,
        shipping_tax=ship_tax,
        note=str(payload.get("customer_note") or "")[:2000],
        placed_at=placed_at,
    )
    method = payload.get("payment_method_title") or payload.get("payment_method") or "online"
    payment = PaymentSpec(method=str(method)[:40], reference=payload.get("transaction_id") or None)
    return spec, WOO_STATUS[status], payment
