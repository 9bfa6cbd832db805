"""The order state machine, one for every channel, with payment state kept apart.

    >>> transition(order, "confirmed", "user:ana@example.com")   # doctest: +SKIP
    >>> transition(order, "pending", "system")                    # doctest: +SKIP
    Traceback (most recent call last):
    IllegalTransition: order W-1001 is confirmed; cannot return to pending

Fulfilment runs pending → confirmed → processing → partially_fulfilled / fulfilled → shipped /
ready_for_pickup → delivered / collected, with cancelled (before anything has left the shelf)
and partially_returned / returned branches. A store sale is born `collected`: the customer
carried it out of the shop. Payment runs unpaid → partially_paid → paid → partially_refunded →
refunded on its own track, because a shop can be paid before it ships and refund after it
delivers. Every change leaves an `OrderTransition` row naming the actor and the time.
"""

from __future__ import annotations

from retail.ids import utcnow

from .models.orders import Order, OrderTransition

STATUSES = (
    "pending",
    "confirmed",
    "processing",
    "partially_fulfilled",
    "fulfilled",
    "shipped",
    "ready_for_pickup",
    "delivered",
    "collected",
    "partially_returned",
    "returned",
    "cancelled",
)

_RETURNABLE = {"partially_returned", "returned"}

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"processing", "partially_fulfilled", "fulfilled", "cancelled"}),
    "processing": frozenset({"partially_fulfilled", "fulfilled", "cancelled"}),
    "partially_fulfilled": frozenset({"partially_fulfilled", "fulfilled"}),
    "fulfilled": frozenset({"shipped", "ready_for_pickup"}),
    "shipped": frozenset({"delivered"} | _RETURNABLE),
    "ready_for_pickup": frozenset({"collected", "cancelled"}),
    "delivered": frozenset(_RETURNABLE),
    "collected": frozenset(_RETURNABLE),
    "partially_returned": frozenset(_RETURNABLE),
    "returned": frozenset(),
    "cancelled": frozenset(),
}

PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "partially_refunded", "refunded")

PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "unpaid": frozenset({"partially_paid", "paid"}),
    "partially_paid": frozenset({"partially_paid", "paid", "partially_refunded", "refunded"}),
    "paid": frozenset({"partially_refunded", "refunded"}),
    "partially_refunded": frozenset({"partially_refunded", "refunded"}),
    "refunded": frozenset(),
}

# How an attempted move reads in an error: "cannot <verb>".
VERBS = {
    "pending": "return to pending",
    "confirmed": "confirm",
    "processing": "start processing",
    "partially_fulfilled": "fulfil",
    "fulfilled": "fulfil",
    "shipped": "ship",
    "ready_for_pickup": "make ready for pickup",
    "delivered": "deliver",
    "collected": "collect",
    "partially_returned": "return",
    "returned": "return",
    "cancelled": "cancel",
    "unpaid": "mark unpaid",
    "partially_paid": "take a payment",
    "paid": "take a payment",
    "partially_refunded": "refund",
    "refunded": "refund",
}

OPEN_STATUSES = frozenset({"pending", "confirmed", "processing", "partially_fulfilled"})


class IllegalTransition(Exception):
    """A move the state machine does not allow; the API answers 409 with `str(exc)`."""

    def __init__(self, current: str, wanted: str, order: str = "", action: str = "") -> None:
        self.current = current
        self.wanted = wanted
        self.order = order
        self.action = action or VERBS.get(wanted, wanted)
        super().__init__(f"order {order or '?'} is {current}; cannot {self.action}")


def allowed(current: str, wanted: str) -> bool:
    return wanted in TRANSITIONS.get(current, ())


def payment_allowed(current: str, wanted: str) -> bool:
    return wanted in PAYMENT_TRANSITIONS.get(current, ())


def check(order: Order, wanted: str, action: str = "") -> None:
    """Raise IllegalTransition unless `order` may move to `wanted` now."""
    if wanted not in TRANSITIONS:
        raise ValueError(f"unknown order status {wanted!r}")
    if not allowed(order.status, wanted):
        raise IllegalTransition(order.status, wanted, order.number, action)


def transition(order: Order, wanted: str, actor: str, note: str = "", action: str = "") -> None:
    """Move the order's fulfilment state and record who did it; saves the order."""
    check(order, wanted, action)
    _record(order, "status", order.status, wanted, actor, note)
    order.status = wanted
    order.updated_at = utcnow()
    order.save(only=[Order.status, Order.updated_at])


def start(order: Order, actor: str, note: str = "") -> None:
    """Record the states a just-saved order is born in (no predecessor)."""
    if order.status not in TRANSITIONS:
        raise ValueError(f"unknown order status {order.status!r}")
    _record(order, "status", None, order.status, actor, note)
    _record(order, "payment", None, order.payment_status, actor, note)


def payment_state_for(total: int, paid: int, refunded: int) -> str:
    """The payment state that the amounts describe."""
    if refunded > 0:
        return "refunded" if refunded >= paid else "partially_refunded"
    if paid <= 0:
        return "unpaid"
    return "paid" if paid >= total else "partially_paid"


def settle_payment(order: Order, actor: str, note: str = "") -> str:
    """Move the payment state to what `paid_total`/`refunded_total` now say; records the move
    unless nothing changed. Raises IllegalTransition for a move the machine does not allow."""
    wanted = payment_state_for(order.total, order.paid_total, order.refunded_total)
    current = order.payment_status
    if wanted == current and wanted not in ("partially_paid", "partially_refunded"):
        return wanted
    if wanted != current and not payment_allowed(current, wanted):
        raise IllegalTransition(current, wanted, order.number)
    _record(order, "payment", current, wanted, actor, note)
    order.payment_status = wanted
    order.updated_at = utcnow()
    order.save(only=[Order.payment_status, Order.updated_at])
    return wanted


def remark(order: Order, actor: str, note: str) -> None:
    """Put a note on the order's timeline without moving it (e.g. an over-refund)."""
    _record(order, "status", order.status, order.status, actor, note)


def _record(order: Order, machine: str, old: str | None, new: str, actor: str, note: str) -> None:
    OrderTransition.create(
        order=order.id, machine=machine, from_state=old, to_state=new, actor=actor, note=note
    )
