"""Click & collect at the counter: the balance of a pickup order paid here, and the hand-over.

Both are till events that reach the OMS through the outbox (`order.paid`, `order.collected`),
so they work while the OMS is unreachable. Cash taken for a pickup order counts in the drawer:
the shift report adds it to the expected cash.
"""

from __future__ import annotations

from retail.ids import utcnow, uuid7
from retail.schema import OrderCollected, OrderPaid, PaymentWire

from . import outbox, shifts
from .store.models import Payment, db

TENDERS = ("cash", "card", "qris")


def pay_order(
    order_id: str,
    number: str,
    tender: str,
    amount: int,
    reference: str | None,
    *,
    staff_id: str | None,
    tendered: int | None = None,
    tz: str = "Asia/Jakarta",
) -> str:
    """Record `amount` paid for the order here; `tendered`: the cash handed over (the change
    is the difference), for the drawer count and the slip."""
    if tender not in TENDERS:
        raise ValueError(f"tender {tender!r} is not one of {', '.join(TENDERS)}")
    if amount <= 0:
        raise ValueError("the amount must be above zero")
    if tender != "cash" and not (reference or "").strip():
        raise ValueError(f"a {tender} payment needs its reference")
    tendered = amount if tendered is None or tender != "cash" else tendered
    if tendered < amount:
        raise ValueError(f"cash {tendered} is less than the {amount} due")
    with db.atomic("IMMEDIATE"):
        shift = shifts.require_open()
        staff_id = staff_id or shift.staff_id
        payment_id = uuid7()
        Payment.insert(
            id=payment_id,
            shift=shift.id,
            order_id=order_id,
            tender=tender,
            amount=amount,
            tendered=tendered if tender == "cash" else None,
            change=tendered - amount,
            reference=reference,
        ).execute()
        outbox.enqueue(
            OrderPaid(
                order_id=order_id,
                shift_id=shift.id,
                staff_id=staff_id,
                total=amount,
                payments=[
                    PaymentWire(
                        payment_id=payment_id, tender=tender, amount=amount, reference=reference
                    )
                ],
            ),
            tz=tz,
            occurred_at=utcnow(),
        )
    return payment_id


def collected(order_id: str, staff_id: str, *, tz: str = "Asia/Jakarta") -> None:
    with db.atomic():
        outbox.enqueue(
            OrderCollected(order_id=order_id, staff_id=staff_id), tz=tz, occurred_at=utcnow()
        )


__all__ = ["collected", "pay_order"]
