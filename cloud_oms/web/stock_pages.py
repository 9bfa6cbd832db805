"""Stock pages: levels per store, a product's movement ledger, adjustments and transfers with
reasons, thresholds, the low-stock and oversell lists.

    GET  /stock?store=JKT1&q=kopi
    GET  /stock/{store}/{product}                 level, ledger, forms
    POST /stock/{store}/{product}/adjust          qty (signed), reason, unit cost   (owner)
    POST /stock/{store}/{product}/threshold       low-stock threshold               (owner)
    POST /stock/{store}/{product}/transfer        to store, qty, reason             (owner)
    GET  /stock/low, /stock/oversold

Quantities are units, or grams for goods sold by weight. Every change is a ledger movement
with its cause, written by `cloud_oms.stock` (transfers by `services.transfer`).
"""

from __future__ import annotations

import math

from fastapi import Depends, Form, Path, Query, Request

from .. import db as dbmod
from .. import stock
from ..models.core import Product, Store, User
from ..models.orders import Order, OrderLine, Return
from ..models.stock import StockLevel, StockMovement
from . import core, services
from .core import WebError, owner, render, signed_in

router = core.web_router()

UUID = r"^[0-9a-fA-F-]{36}$"
CODE = r"^[A-Za-z0-9_-]{1,16}$"
PAGE_SIZE = 100


def _store(user: User, code: str | None) -> Store:
    stores = core.visible_stores(user)
    if not stores:
        raise WebError("there is no store yet: the owner adds one under Admin → Stores")
    if not code:
        return next((s for s in stores if s.id == user.store_id), stores[0])
    for s in stores:
        if s.code == code:
            return s
    raise core.NotFound(f"store {code!r} not found")


@router.get("/stock")
def levels(
    request: Request,
    store: str = Query("", max_length=16),
    q: str = Query("", max_length=100),
    page: int = Query(1, ge=1, le=100_000),
    user: User = Depends(signed_in),
):
    with dbmod.session():
        shop = _store(user, store)
        rows = stock.levels(shop)
        if q.strip():
            needle = q.strip().lower()
            rows = [r for r in rows if needle in r.sku.lower() or needle in r.name.lower()]
        total = len(rows)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        params = {"store": shop.code, "q": q}
        stores = core.visible_stores(user)
    return render(
        request,
        "stock/levels.html",
        title=f"Stock · {shop.code}",
        store=shop,
        stores=stores,
        rows=shown,
        total=total,
        value=sum(r.value for r in rows),
        page=page,
        pages=pages,
        params=params,
        qs=lambda **kw: core.query_string(params, **kw),
        currency=core.currency_of(shop),
    )


def _reference(m: StockMovement, stores: dict[str, Store]) -> tuple[str, str | None]:
    """(text, link) for what caused a movement."""
    if m.ref_type == "order" and m.ref_id:
        order = Order.get_or_none(Order.id == m.ref_id)
        return (f"order {order.number}" if order else "order", f"/orders/{m.ref_id}")
    if m.ref_type == "return" and m.ref_id:
        ret = Return.get_or_none(Return.id == m.ref_id)
        if ret is not None:
            return f"return {ret.number}", f"/orders/{ret.order_id}"
    if m.ref_type == "purchase_order" and m.ref_id:
        return "purchase order", f"/purchasing/orders/{m.ref_id}"
    if m.ref_type == "store" and m.ref_id in stores:
        return f"store {stores[m.ref_id].code}", None
    return m.ref_type, None


def _ledger_page(request, user, store_code, product_id, *, error=None, status=200):
    with dbmod.session():
        shop = _store(user, store_code)
        product = Product.get_or_none(Product.id == product_id)
        if product is None:
            raise core.NotFound(f"product {product_id} not found")
        level = StockLevel.get_or_none(
            (StockLevel.store == shop.id) & (StockLevel.product == product.id)
        )
        moves = list(
            StockMovement.select()
            .where((StockMovement.store == shop.id) & (StockMovement.product == product.id))
            .order_by(StockMovement.at.desc(), StockMovement.id.desc())
            .limit(200)
        )
        stores = {s.id: s for s in Store.select()}
        refs = {m.id: _reference(m, stores) for m in moves}
        held = list(
            OrderLine.select(OrderLine, Order)
            .join(Order)
            .where(
                (Order.store == shop.id)
                & (OrderLine.product == product.id)
                & ((OrderLine.reserved_qty > 0) | (OrderLine.backordered_qty > 0))
            )
            .order_by(Order.placed_at)
        )
        others = [s for s in core.visible_stores(user) if s.id != shop.id]
        all_stores = [s for s in stores.values() if s.id != shop.id]
    return render(
        request,
        "stock/ledger.html",
        status=status,
        title=f"{product.sku} · {shop.code}",
        store=shop,
        product=product,
        level=level,
        moves=moves,
        refs=refs,
        held=held,
        others=others or all_stores,
        currency=core.currency_of(shop),
        error=error,
    )


@router.get("/stock/{store_code}/{product_id}")
def ledger(
    request: Request,
    store_code: str = Path(pattern=CODE),
    product_id: str = Path(pattern=UUID),
    user: User = Depends(signed_in),
):
    return _ledger_page(request, user, store_code, product_id)


def _stock_write(request, user, store_code, product_id, action, message):
    try:
        with dbmod.session():
            shop = _store(user, store_code)
            product = Product.get_or_none(Product.id == product_id)
            if product is None:
                raise core.NotFound(f"product {product_id} not found")
            action(shop, product)
    except (stock.StockError, services.ServiceError) as exc:
        return _ledger_page(request, user, store_code, product_id, error=str(exc), status=422)
    except WebError as exc:
        if isinstance(exc, core.NotFound):
            raise
        return _ledger_page(
            request, user, store_code, product_id, error=exc.message, status=exc.status
        )
    return core.redirect(request, f"/stock/{store_code}/{product_id}", message)


@router.post("/stock/{store_code}/{product_id}/adjust")
def adjust(
    request: Request,
    store_code: str = Path(pattern=CODE),
    product_id: str = Path(pattern=UUID),
    qty: str = Form("", max_length=12),
    reason: str = Form("", max_length=500),
    unit_cost: str = Form("", max_length=20),
    user: User = Depends(owner),
):
    def run(shop, product):
        change = core.parse_int(qty, "qty", minimum=-(10**9), maximum=10**9)
        cost = core.parse_int(unit_cost, "unit_cost", minimum=0) if unit_cost.strip() else None
        stock.adjust(shop, product, change, reason, core.actor(user), unit_cost=cost)

    return _stock_write(request, user, store_code, product_id, run, "Stock adjusted.")


@router.post("/stock/{store_code}/{product_id}/threshold")
def threshold(
    request: Request,
    store_code: str = Path(pattern=CODE),
    product_id: str = Path(pattern=UUID),
    value: str = Form("", max_length=12),
    user: User = Depends(owner),
):
    def run(shop, product):
        limit = core.parse_int(value, "threshold", minimum=0) if value.strip() else None
        stock.set_threshold(shop, product, limit)

    return _stock_write(request, user, store_code, product_id, run, "Low-stock threshold saved.")


@router.post("/stock/{store_code}/{product_id}/transfer")
def transfer(
    request: Request,
    store_code: str = Path(pattern=CODE),
    product_id: str = Path(pattern=UUID),
    to_store: str = Form("", max_length=16),
    qty: str = Form("", max_length=12),
    reason: str = Form("", max_length=500),
    user: User = Depends(owner),
):
    def run(shop, product):
        target = Store.get_or_none(Store.code == to_store)
        if target is None:
            raise WebError(f"to_store: no store {to_store!r}", status=422)
        n = core.parse_int(qty, "qty", minimum=1, maximum=10**9)
        services.transfer(shop, target, product, n, reason, core.actor(user))

    return _stock_write(request, user, store_code, product_id, run, f"Transferred to {to_store}.")


@router.get("/stock/low")
def low(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        stores = core.visible_stores(user)
        rows = [(s, r) for s in stores for r in stock.levels(s, low_only=True)]
    return render(request, "stock/low.html", title="Low stock", rows=rows)


@router.get("/stock/oversold")
def oversold(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        stores = core.visible_stores(user)
        ids = [s.id for s in stores]
        levels_ = services.oversold_levels(ids)
        moves = list(
            StockMovement.select(StockMovement, Product, Store)
            .join(Product, on=(StockMovement.product == Product.id))
            .switch(StockMovement)
            .join(Store, on=(StockMovement.store == Store.id))
            .where(StockMovement.oversold & StockMovement.store.in_(ids))
            .order_by(StockMovement.at.desc())
            .limit(100)
        )
        refs = {m.id: _reference(m, {s.id: s for s in stores}) for m in moves}
    return render(
        request, "stock/oversold.html", title="Oversold", levels=levels_, moves=moves, refs=refs
    )
