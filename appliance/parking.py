"""Parked sales: put a cart aside (a customer fetching one more thing) and take it back.

The parked cart keeps its prices; it is stored in the store, so a restart does not lose it.
"""

from __future__ import annotations

from dataclasses import dataclass

from retail.ids import iso, utcnow, uuid7

from .cart import Cart, CartError
from .staff import StaffInfo
from .store.models import ParkedSale, db


@dataclass(frozen=True)
class Parked:
    id: str
    label: str
    staff: str
    created_at: str
    lines: int


def park(cart: Cart, staff: StaffInfo, label: str = "") -> str:
    if cart.empty:
        raise CartError("there is nothing to park: the cart is empty")
    parked_id = uuid7()
    ParkedSale.insert(
        id=parked_id,
        staff=staff.id,
        label=(label or "").strip() or f"{len(cart.lines)} item(s)",
        cart=cart.to_json(),
        created_at=iso(utcnow()),
    ).execute()
    cart.clear()
    return parked_id


def parked() -> list[Parked]:
    import json

    out = []
    for row in ParkedSale.select().order_by(ParkedSale.created_at):
        out.append(
            Parked(
                row.id,
                row.label,
                row.staff.name,
                row.created_at,
                len(json.loads(row.cart)["lines"]),
            )
        )
    return out


def resume(parked_id: str, config, staff: StaffInfo) -> Cart:
    """Take a parked cart back (and off the parked list) in one transaction."""
    with db.atomic():
        row = ParkedSale.get_or_none(ParkedSale.id == parked_id)
        if row is None:
            raise CartError("that parked sale was already resumed or no longer exists")
        cart = Cart.from_json(row.cart, config, staff=staff)
        row.delete_instance()
    return cart
