"""Unmatched sale lines: sold on a till under a sku the OMS did not know. Map each to a product
and its stock is booked and the reports count it under that product from then on.

    GET  /unmatched                      lines grouped by what the till sent (sku and name)
    POST /unmatched/map                  sku, name, product (sku / barcode)      (owner)

Mapping a group maps every line in it, in one transaction, through `orders.map_line`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Depends, Form, Request
from peewee import fn

from .. import db as dbmod
from .. import orders
from ..models.core import Store, User
from ..models.orders import Order, OrderLine
from . import core
from .core import WebError, owner, render, signed_in
from .phone import find_product

router = core.web_router()


def _aware(value) -> datetime | None:
    """An aggregate over a time column comes back raw (text on SQLite): as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _group_filter(sku: str, name: str):
    same_sku = OrderLine.sku.is_null() if sku == "" else (OrderLine.sku == sku)
    return OrderLine.product.is_null() & same_sku & (OrderLine.name == name)


@router.get("/unmatched")
def unmatched(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        stores = core.visible_stores(user)
        ids = [s.id for s in stores]
        groups = list(
            OrderLine.select(
                fn.COALESCE(OrderLine.sku, "").alias("sku"),
                OrderLine.name,
                fn.COUNT(OrderLine.id).alias("lines"),
                fn.SUM(OrderLine.qty).alias("qty"),
                fn.SUM(OrderLine.total).alias("total"),
                fn.MIN(Order.placed_at).alias("first"),
                fn.MAX(Order.placed_at).alias("last"),
            )
            .join(Order)
            .where(OrderLine.product.is_null() & Order.store.in_(ids))
            .group_by(fn.COALESCE(OrderLine.sku, ""), OrderLine.name)
            .order_by(fn.SUM(OrderLine.total).desc())
            .limit(300)
            .dicts()
        )
        for g in groups:
            examples = (
                Order.select(Order.id, Order.number)
                .join(OrderLine)
                .where(_group_filter(g["sku"], g["name"]) & Order.store.in_(ids))
                .order_by(Order.placed_at.desc())
                .limit(3)
            )
            g["orders"] = [(o.id, o.number) for o in examples]
            g["first"], g["last"] = _aware(g["first"]), _aware(g["last"])
        tz = stores[0].tz if stores else "Asia/Jakarta"
        store = Store.get_or_none(Store.id == ids[0]) if ids else None
    return render(
        request,
        "unmatched.html",
        title="Unmatched sale lines",
        groups=groups,
        tz=tz,
        currency=core.currency_of(store),
        store_code=store.code if store else "",
    )


@router.post("/unmatched/map")
def map_group(
    request: Request,
    sku: str = Form("", max_length=64),
    name: str = Form("", max_length=200),
    product: str = Form("", max_length=64),
    user: User = Depends(owner),
):
    with dbmod.session():
        target = find_product(product)
        if target is None:
            raise WebError(f"product: no product with sku or barcode {product!r}", status=422)
        lines = list(
            OrderLine.select(OrderLine.id, OrderLine.order).where(_group_filter(sku, name))
        )
        if not lines:
            raise core.NotFound(f"no unmatched lines for {sku or name!r}")
        try:
            with dbmod.atomic():
                for line in lines:
                    order = orders.get_order(line.order_id)
                    orders.map_line(order, line.id, target, core.actor(user))
        except (orders.Conflict, orders.NotFound) as exc:
            raise WebError(str(exc), status=409) from None
    return core.redirect(
        request,
        "/unmatched",
        f"Mapped {len(lines)} line(s) of {sku or name} to {target.sku} — stock and reports follow.",
    )
