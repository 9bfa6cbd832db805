"""Completing a sale: the one transaction that makes it real.

    >>> done = complete_sale(cart, [TenderInput("cash", 50000)], staff=ani, config=config)
    >>> done.receipt_no, done.change                    # doctest: +SKIP
    ('000042', 1500)

The sale, its lines, its payments, its stock movements, the next receipt number and its outbox
event commit together (`BEGIN IMMEDIATE`, `synchronous=FULL`): after a power cut the sale is
wholly there, with its event, or wholly absent, and no receipt number or outbox sequence is
skipped. This is the till's hot path, so it writes with prepared statements and `executemany`
rather than one ORM object per row (see bench/sale_commit.py).

Training sales take the `TRN-` series and touch neither stock nor the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from retail.ids import iso, token, utcnow, uuid7
from retail.pricing import (
    PricedCart,
    Settlement,
    TenderError,
    TenderInput,
    settle,
    stock_quantity,
)
from retail.schema import SaleCompleted

from . import identity, outbox, shifts
from .cart import Cart, CartError
from .staff import StaffInfo
from .store.db import next_number
from .store.models import db

TENDERS = ("cash", "card", "qris", "voucher", "other")

_SALE_SQL = (
    'INSERT INTO "sale" ("id", "receipt_no", "receipt_seq", "shift_id", "staff_id", '
    '"customer_id", "created_at", "subtotal", "discount_total", "cart_discount", '
    '"cart_discount_label", "rounding", "total", "tax_total", "prices_include_tax", '
    '"training", "ereceipt_token") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)'
)
_LINE_SQL = (
    'INSERT INTO "sale_line" ("id", "sale_id", "line_no", "product_id", "sku", "barcode", '
    '"name", "unit", "qty", "weight_g", "unit_price", "price_overridden", "gross", '
    '"promo_discount", "line_discount", "cart_discount", "total", "tax_code", "tax_rate_bp", '
    '"tax_base_num", "tax_base_den", "tax_amount", "tax_base", "net", "promotion", '
    '"refunded_qty") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)'
)
_PAYMENT_SQL = (
    'INSERT INTO "payment" ("id", "shift_id", "sale_id", "tender", "amount", "tendered", '
    '"change", "reference", "training") VALUES (?,?,?,?,?,?,?,?,?)'
)
_STOCK_SQL = (
    'INSERT INTO "stock_level" ("product_id", "on_hand", "reserved", "updated_at") '
    'VALUES (?, ?, 0, ?) ON CONFLICT ("product_id") DO UPDATE SET '
    '"on_hand" = "on_hand" + excluded."on_hand", "updated_at" = excluded."updated_at"'
)
_MOVE_SQL = (
    'INSERT INTO "stock_movement" ("product_id", "qty", "cause", "ref", "created_at") '
    "VALUES (?, ?, ?, ?, ?)"
)
_CLOCK_SQL = "UPDATE counter SET value = MAX(value, ?) WHERE name = 'clock_high_ms'"


class CheckoutError(ValueError):
    pass


@dataclass(frozen=True)
class CompletedSale:
    sale_id: str
    receipt_no: str
    total: int  # after cash rounding
    rounding: int
    change: int
    cash_due: int
    cash_tendered: int
    training: bool
    event_seq: int | None
    payments: tuple[tuple[str, int, str | None], ...]

    @property
    def opens_drawer(self) -> bool:
        """Cash changed hands, so the drawer opens; card and QRIS alone never open it."""
        return self.cash_tendered > 0


def stock_grams(line) -> int:
    """Stock moves in grams for items sold by weight; a price label implies its weight."""
    gross = line.embedded_price if line.embedded_price is not None else 0
    return stock_quantity("kg", line.qty, line.weight_g, gross, line.unit_price)


def complete_sale(
    cart: Cart,
    tenders: Sequence[TenderInput],
    *,
    staff: StaffInfo,
    config,
    now: datetime | None = None,
) -> CompletedSale:
    if cart.empty:
        raise CartError("the cart is empty")
    for t in tenders:
        if t.tender not in TENDERS:
            raise TenderError(f"tender {t.tender!r} is not one of {', '.join(TENDERS)}")
        if t.tender in ("card", "qris") and not (t.reference or "").strip():
            raise TenderError(f"a {t.tender} payment needs its reference (approval code)")
    shift = shifts.current()
    if shift is None:
        raise shifts.ShiftError("no shift is open: open a shift before selling")
    priced = cart.priced()
    settlement = settle(priced.total, tenders, config["store.cash_rounding"])
    now = now or utcnow()
    ident, training = identity.for_sale()
    sale_id = uuid7()
    with db.atomic("IMMEDIATE"):
        # Again under the write lock: a `kasir shift close` from another process between the
        # first look and here must not get this sale after its Z report.
        shift = shifts.current()
        if shift is None:
            raise shifts.ShiftError("no shift is open: open a shift before selling")
        if training:
            seq = next_number("training_receipt_seq")
            receipt_no = identity.training_receipt_no(seq)
        else:
            seq = next_number("receipt_seq")
            receipt_no = ident.receipt_no(seq)
        event_seq = _write_sale(
            cart,
            priced,
            settlement,
            tenders,
            sale_id,
            seq,
            receipt_no,
            shift.id,
            staff,
            config,
            now,
            training,
        )
    return CompletedSale(
        sale_id=sale_id,
        receipt_no=receipt_no,
        total=settlement.due,
        rounding=settlement.rounding,
        change=settlement.change,
        cash_due=settlement.cash_due,
        cash_tendered=settlement.cash_tendered,
        training=training,
        event_seq=event_seq,
        payments=settlement.payments,
    )


def _write_sale(
    cart,
    priced: PricedCart,
    settlement: Settlement,
    tenders,
    sale_id,
    seq,
    receipt_no,
    shift_id,
    staff,
    config,
    now,
    training,
) -> int | None:
    created = iso(now)
    ereceipt = token(16)
    inclusive = config["store.prices_include_tax"]
    cart_label = cart.cart_discount.describe() if cart.cart_discount else None
    cursor = db.cursor()
    cursor.execute(
        _SALE_SQL,
        (
            sale_id,
            receipt_no,
            seq,
            shift_id,
            staff.id,
            cart.customer_id,
            created,
            priced.subtotal,
            priced.discount_total,
            priced.cart_discount,
            cart_label,
            settlement.rounding,
            settlement.due,
            priced.tax_total,
            inclusive,
            training,
            ereceipt,
        ),
    )
    line_rows, stock_rows, move_rows, wire_lines = [], [], [], []
    for no, (line, p) in enumerate(zip(cart.lines, priced.lines, strict=True), 1):
        tax = line.tax
        line_rows.append(
            (
                line.key,
                sale_id,
                no,
                line.product_id,
                line.sku,
                line.barcode,
                line.name,
                line.unit,
                line.qty,
                line.weight_g,
                line.unit_price,
                line.price_overridden,
                p.gross,
                p.promo_discount,
                p.line_discount,
                p.cart_discount,
                p.total,
                tax.code,
                tax.rate_bp,
                tax.base_num,
                tax.base_den,
                p.tax.tax,
                p.tax.base,
                p.tax.net,
                p.promotion,
            )
        )
        if line.product_id is not None and not training:
            moved = stock_grams(line) if line.unit == "kg" else line.qty
            stock_rows.append((line.product_id, -moved, created))
            move_rows.append((line.product_id, -moved, "sale", receipt_no, created))
        if not training:
            wire_lines.append(
                {
                    "line_id": line.key,
                    "line_no": no,
                    "product_id": line.product_id,
                    "sku": line.sku,
                    "barcode": line.barcode,
                    "name": line.name,
                    "unit": line.unit,
                    "qty": line.qty,
                    "weight_g": line.weight_g,
                    "unit_price": line.unit_price,
                    "price_overridden": line.price_overridden,
                    "gross": p.gross,
                    "promo_discount": p.promo_discount,
                    "line_discount": p.line_discount,
                    "cart_discount": p.cart_discount,
                    "total": p.total,
                    "tax": {
                        "code": tax.code,
                        "rate_bp": tax.rate_bp,
                        "base_num": tax.base_num,
                        "base_den": tax.base_den,
                    },
                    "tax_amount": p.tax.tax,
                    "tax_base": p.tax.base,
                    "net": p.tax.net,
                    "promotion": p.promotion,
                }
            )
    cursor.executemany(_LINE_SQL, line_rows)
    payment_rows, wire_payments = [], []
    for tender, amount, reference in settlement.payments:
        payment_id = uuid7()
        is_cash = tender == "cash"
        tendered = settlement.cash_tendered if is_cash else None
        change = settlement.change if is_cash else 0
        payment_rows.append(
            (payment_id, shift_id, sale_id, tender, amount, tendered, change, reference, training)
        )
        if not training:
            wire_payments.append(
                {
                    "payment_id": payment_id,
                    "tender": tender,
                    "amount": amount,
                    "tendered": tendered,
                    "change": change,
                    "reference": reference,
                }
            )
    cursor.executemany(_PAYMENT_SQL, payment_rows)
    cursor.execute(_CLOCK_SQL, (int(now.timestamp() * 1000),))
    if training:
        return None
    if stock_rows:
        cursor.executemany(_STOCK_SQL, stock_rows)
        cursor.executemany(_MOVE_SQL, move_rows)
    # The event is validated from plain data in one pydantic call: the same model and bytes as
    # building each line's model in Python, at half the cost (bench/sale_commit.py).
    event = outbox.enqueue(
        SaleCompleted.model_validate(
            {
                "sale_id": sale_id,
                "receipt_no": receipt_no,
                "receipt_seq": seq,
                "shift_id": shift_id,
                "staff_id": staff.id,
                "staff_name": staff.name,
                "customer_id": cart.customer_id,
                "currency": config["store.currency"],
                "prices_include_tax": inclusive,
                "lines": wire_lines,
                "payments": wire_payments,
                "subtotal": priced.subtotal,
                "discount_total": priced.discount_total,
                "rounding": settlement.rounding,
                "total": settlement.due,
                "tax_total": priced.tax_total,
                "ereceipt_token": ereceipt,
            }
        ),
        tz=config["store.timezone"],
        occurred_at=now,
        event_id=sale_id,
    )
    return event.seq
