"""Phone order entry: the customer by phone number, items by search or barcode, delivery or
pickup, stock shown while typing.

    GET  /orders/new                         the form
    POST /orders/new                         books the order (and, if asked, payment + confirm)
    GET  /orders/new/customers?phone=0812…   JSON: customers with that number
    GET  /orders/new/products?store=JKT1&q=  JSON: products by name, sku or barcode, with stock
    GET  /orders/new/stock?store=JKT1&product=<id>&product=<id>   JSON: {id: available}

The form works without JavaScript (items typed as sku or barcode); `kasir.js` adds the
look-ups. Each line is `line_item` (a product id, sku or barcode) and `line_qty`. Stock is held
for the order when it is booked; if there is not enough, the order is refused with what is
available — unless "backorder" is ticked.
"""

from __future__ import annotations

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from retail.barcodes import BarcodeError, parse

from .. import db as dbmod
from .. import orders, state, stock
from ..models.core import Barcode, Product, Store, User
from ..models.stock import StockLevel
from . import core, notify_templates
from .core import WebError, render, signed_in

router = core.web_router()

DELIVERIES = ("ship", "pickup")


def _stores(user: User) -> list[Store]:
    stores = core.visible_stores(user)
    if not stores:
        raise WebError("there is no store yet: the owner adds one under Admin → Stores")
    return stores


def _store(user: User, code: str) -> Store:
    for s in _stores(user):
        if s.code == code:
            return s
    raise WebError(f"store: no store {code!r}", status=422)


def find_product(text: str) -> Product | None:
    """A product by id, sku or barcode (a GTIN in any of its spellings)."""
    text = text.strip()
    if not text:
        return None
    found = Product.get_or_none((Product.id == text) | (Product.sku == text))
    if found is not None:
        return found
    codes = {text}
    try:
        parsed = parse(text)
        if parsed.kind == "gtin":
            codes.add(parsed.gtin)
    except (BarcodeError, ValueError, AttributeError):
        pass
    barcode = Barcode.get_or_none(Barcode.code.in_(list(codes)))
    return Product.get_by_id(barcode.product_id) if barcode else None


def _available(store: Store, product_ids: list[str]) -> dict[str, int]:
    if not product_ids:
        return {}
    levels = StockLevel.select().where(
        (StockLevel.store == store.id) & StockLevel.product.in_(product_ids)
    )
    found = {lv.product_id: lv.on_hand - lv.reserved for lv in levels}
    return {pid: found.get(pid, 0) for pid in product_ids}


def _form(request, user, *, values=None, error=None, status=200):
    with dbmod.session():
        stores = _stores(user)
        values = values or {}
        store_code = values.get("store") or (
            next((s.code for s in stores if s.id == user.store_id), stores[0].code)
        )
        store = next((s for s in stores if s.code == store_code), stores[0])
        lines = []
        for item, qty in values.get("lines", []):
            product = find_product(item)
            lines.append(
                {
                    "item": product.id if product else item,
                    "name": product.name if product else item,
                    "sku": product.sku if product else "",
                    "qty": qty,
                    "price": product.price if product else None,
                    "available": _available(store, [product.id])[product.id] if product else None,
                }
            )
        currency = core.currency_of(store)
    return render(
        request,
        "orders/new.html",
        status=status,
        title="New phone order",
        stores=stores,
        store_code=store.code,
        values=values,
        lines=lines,
        error=error,
        currency=currency,
        methods=("", "cash", "bank_transfer", "qris", "e_wallet", "cod", "card"),
    )


@router.get("/orders/new")
def new_order(request: Request, user: User = Depends(signed_in)):
    return _form(request, user)


@router.post("/orders/new")
async def create(request: Request, user: User = Depends(signed_in)):
    form = await request.form()
    items = [str(v) for v in form.getlist("line_item")]
    qtys = [str(v) for v in form.getlist("line_qty")]
    values = {
        k: str(form.get(k) or "").strip()
        for k in (
            "store", "phone", "name", "email", "delivery", "shipping_address", "shipping",
            "note", "payment_method", "payment_amount", "confirm", "backorder",
        )
    }  # fmt: skip
    values["lines"] = [(i, q) for i, q in zip(items, qtys, strict=False) if i.strip()]
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_book, request, user, values)


def _book(request: Request, user: User, values: dict):
    who = core.actor(user)
    try:
        with dbmod.session():
            store = _store(user, values["store"])
            specs = []
            for i, (item, qty) in enumerate(values["lines"]):
                product = find_product(item)
                if product is None:
                    raise WebError(
                        f"lines[{i}]: no product with id, sku or barcode {item!r}", status=422
                    )
                if not product.active:
                    raise WebError(f"lines[{i}]: {product.sku} is not sold any more", status=422)
                n = core.parse_int(qty, f"lines[{i}].qty", minimum=1, maximum=orders.MAX_QTY)
                specs.append(orders.LineSpec(product_id=product.id, sku=product.sku, qty=n))
            if not specs:
                raise WebError("lines: add at least one item", status=422)
            if values["delivery"] not in DELIVERIES:
                raise WebError("delivery: choose ship or pickup", status=422)
            if values["delivery"] == "ship" and not values["shipping_address"]:
                raise WebError("shipping_address: where should it be shipped?", status=422)
            if not values["phone"] and not values["name"]:
                raise WebError(
                    "phone: a phone order needs the customer's phone or name", status=422
                )
            currency = core.currency_of(store)
            shipping = _money(values["shipping"], "shipping", currency, store.locale) or 0
            with dbmod.atomic():
                customer = None
                if values["phone"]:
                    customer = orders.customer_for_phone(
                        values["phone"], values["name"], values["email"] or None
                    )
                spec = orders.OrderSpec(
                    kind="phone",
                    store=store,
                    lines=specs,
                    customer=customer,
                    customer_name=values["name"],
                    email=values["email"] or None,
                    phone=values["phone"] or None,
                    shipping_address=values["shipping_address"]
                    if values["delivery"] == "ship"
                    else "",
                    delivery=values["delivery"],
                    shipping_total=shipping,
                    note=values["note"][:2000],
                )
                policy = "backorder" if values["backorder"] else "refuse"
                order = orders.create_order(spec, who, policy)
                before = notify_templates.queued_ids(order)
                if values["payment_method"]:
                    amount = _money(
                        values["payment_amount"], "payment_amount", currency, store.locale
                    )
                    orders.add_payment(
                        order, orders.PaymentSpec(values["payment_method"], amount), who
                    )
                if values["confirm"]:
                    orders.confirm(orders.get_order(order.id), who)
                notify_templates.apply_to_new(order.id, before)
    except stock.OutOfStock as exc:
        return _form(request, user, values=values, error=f"not enough stock: {exc}", status=409)
    except (orders.OrderError, stock.StockError) as exc:
        return _form(request, user, values=values, error=f"{exc.field}: {exc}", status=422)
    except state.IllegalTransition as exc:
        return _form(request, user, values=values, error=str(exc), status=409)
    except WebError as exc:
        return _form(request, user, values=values, error=exc.message, status=exc.status)
    return core.redirect(request, f"/orders/{order.id}", f"Order {order.number} booked.")


def _money(text: str, field: str, currency, locale: str) -> int | None:
    if not text:
        return None
    from retail.money import MoneyError, parse_money

    try:
        amount = parse_money(text, currency, locale)
    except MoneyError as exc:
        raise WebError(f"{field}: {exc}", status=422) from None
    if amount < 0:
        raise WebError(f"{field}: {text} is negative", status=422)
    return amount


# --- look-ups for the page's script -----------------------------------------------------------


@router.get("/orders/new/customers")
def customers(phone: str = Query(min_length=3, max_length=32), user: User = Depends(signed_in)):
    with dbmod.session():
        try:
            found = orders.find_customers(phone)
        except orders.OrderError:
            found = []
        return JSONResponse(
            [{"id": c.id, "name": c.name, "phone": c.phone, "email": c.email} for c in found[:10]],
            headers={"Cache-Control": "no-store"},
        )


@router.get("/orders/new/products")
def products(
    store: str = Query(max_length=16),
    q: str = Query(min_length=1, max_length=64),
    user: User = Depends(signed_in),
):
    with dbmod.session():
        shop = _store(user, store)
        exact = find_product(q)
        query = (
            Product.select()
            .where(Product.active & (Product.name.contains(q) | Product.sku.contains(q)))
            .order_by(Product.name)
            .limit(10)
        )
        found = ([exact] if exact and exact.active else []) + [
            p for p in query if not exact or p.id != exact.id
        ]
        available = _available(shop, [p.id for p in found])
        currency = core.currency_of(shop)
        return JSONResponse(
            [
                {
                    "id": p.id,
                    "sku": p.sku,
                    "name": p.name,
                    "price": p.price,
                    "price_text": core.fmt_money(p.price, currency),
                    "available": available[p.id],
                    "exact": bool(exact and p.id == exact.id),
                }
                for p in found[:10]
            ],
            headers={"Cache-Control": "no-store"},
        )


@router.get("/orders/new/stock")
def availability(
    store: str = Query(max_length=16),
    product: list[str] = Query(default=[], max_length=200),
    user: User = Depends(signed_in),
):
    with dbmod.session():
        shop = _store(user, store)
        return JSONResponse(_available(shop, product[:200]), headers={"Cache-Control": "no-store"})
