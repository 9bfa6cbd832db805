"""Orders, stock, purchasing and finance over HTTP.

    POST /api/v1/orders                      X-Api-Key      an online shop's order (idempotent)
    POST /api/v1/orders/phone                Bearer (staff) a phone order
    GET  /api/v1/orders?status=shipped       Bearer         the order list
    POST /api/v1/orders/{id}/fulfilments     Bearer         {"lines": [{"line_id", "qty"}]}
    POST /api/v1/orders/{id}/shipments       Bearer         {"carrier", "tracking_number"}

Every write is one transaction. Errors: 422 names the field (`detail[0].loc`) and the reason;
an illegal state move, a stock shortage under a refusing channel, or a changed re-delivery is
409 with a sentence naming the current state; an order of another store is 404 to a staff
member of a store. Store sales arrive through the terminal sync API, not here.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retail.ids import to_local, zone

from .. import db as dbmod
from .. import finance, invoices, notifications, orders, state, stock
from ..models.core import Channel, Product, Store, User
from ..models.orders import Invoice, Order, WebhookEndpoint
from ..models.stock import PurchaseOrder, StockMovement, Supplier
from .deps import current_channel, current_owner, current_user

router = APIRouter(tags=["orders"])

Money = Annotated[int, Field(ge=0, le=10**15)]
Qty = Annotated[int, Field(ge=1, le=10**6)]
Id = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$", description="a UUID")]
StoreCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="a store code")]


def _no_nul(value, path: str) -> None:
    """PostgreSQL text cannot hold NUL: refuse it up front, naming the field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path or 'body'} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{path}[{i}]")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _text_without_nul(cls, data):
        _no_nul(data, "")
        return data


# --- errors -----------------------------------------------------------------------------------


def _field_error(field: str, message: str) -> HTTPException:
    loc = ["body", *[p for p in field.replace("]", "").replace("[", ".").split(".") if p]]
    return HTTPException(422, detail=[{"loc": loc, "msg": message, "type": "value_error"}])


@contextlib.contextmanager
def _errors():
    """Service errors as HTTP answers; the transaction around has rolled back already."""
    try:
        yield
    except (orders.OrderError, stock.StockError) as exc:
        raise _field_error(exc.field, str(exc)) from None
    except orders.NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except (orders.Conflict, stock.OutOfStock, state.IllegalTransition) as exc:
        raise HTTPException(409, detail=str(exc)) from None


@contextlib.contextmanager
def _write():
    """A request's connection and its one transaction, with service errors mapped."""
    with dbmod.session(), _errors(), dbmod.atomic():
        yield


def _actor(user: User) -> str:
    return f"user:{user.email}"


def _order_for(order_id: str, user: User, *, lock: bool = False) -> Order:
    """The order, if this user may see it (owners all; staff their own store's)."""
    order = orders.get_order(order_id, lock=lock)
    if user.role != "owner" and user.store_id and order.store_id != user.store_id:
        raise orders.NotFound(f"order {order_id} not found")
    return order


def _store(code: str, user: User | None = None) -> Store:
    store = Store.get_or_none(Store.code == code)
    if store is None:
        raise HTTPException(404, detail=f"store {code!r} not found")
    if user is not None and user.role != "owner" and user.store_id and user.store_id != store.id:
        raise HTTPException(404, detail=f"store {code!r} not found")
    return store


def _product(product_id: str | None, sku: str | None, field: str = "product") -> Product:
    product = None
    if product_id:
        product = Product.get_or_none(Product.id == product_id)
    elif sku:
        product = Product.get_or_none(Product.sku == sku)
    else:
        raise _field_error(field, "give a product_id or a sku")
    if product is None:
        raise _field_error(field, f"product {product_id or sku!r} is not in the catalog")
    return product


# --- request bodies ---------------------------------------------------------------------------


class CustomerIn(Body):
    name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, max_length=32)


class LineIn(Body):
    sku: str | None = Field(None, max_length=64)
    product_id: str | None = Field(None, max_length=36)
    name: str = Field("", max_length=200)
    qty: Qty
    unit_price: Money | None = None
    discount: Money = 0
    tax_code: str | None = Field(None, max_length=16)
    external_line_id: str | None = Field(None, max_length=100)

    def spec(self) -> orders.LineSpec:
        return orders.LineSpec(
            qty=self.qty,
            product_id=self.product_id,
            sku=self.sku,
            name=self.name,
            unit_price=self.unit_price,
            discount=self.discount,
            tax_code=self.tax_code,
            source_line_id=self.external_line_id,
        )


class PaymentIn(Body):
    method: str = Field(min_length=1, max_length=40)
    amount: Money | None = Field(None, description="omitted: whatever is still due")
    reference: str | None = Field(None, max_length=200)


class OnlineOrderIn(Body):
    """An online shop's order. Send it again whenever its status changes."""

    external_id: str = Field(min_length=1, max_length=100, description="the shop's order id")
    status: Literal["pending", "paid", "cancelled", "refunded"] = "pending"
    currency: str | None = Field(None, min_length=3, max_length=3)
    customer: CustomerIn = CustomerIn()
    billing_address: str = Field("", max_length=2000)
    shipping_address: str = Field("", max_length=2000)
    delivery: Literal["ship", "pickup"] = "ship"
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    shipping_total: Money = 0
    shipping_tax: Money = 0
    payment: PaymentIn | None = None
    placed_at: datetime | None = None
    note: str = Field("", max_length=2000)

    @field_validator("placed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("placed_at needs a UTC offset, e.g. 2026-01-31T10:00:00Z")
        return value


class PhoneOrderIn(Body):
    store: str | None = Field(None, max_length=16, description="store code; default the user's")
    customer: CustomerIn
    company: str = Field("", max_length=200)
    npwp: str = Field("", max_length=32)
    billing_address: str = Field("", max_length=2000)
    shipping_address: str = Field("", max_length=2000)
    delivery: Literal["ship", "pickup"] = "pickup"
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    shipping_total: Money = 0
    note: str = Field("", max_length=2000)
    confirm: bool = True
    payment: PaymentIn | None = None


class ReasonIn(Body):
    reason: str = Field("", max_length=500)


class FulfilLineIn(Body):
    line_id: str = Field(min_length=1, max_length=36)
    qty: Qty


class FulfilIn(Body):
    lines: list[FulfilLineIn] | None = Field(None, description="omitted: everything left")


class ShipIn(Body):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str = Field(min_length=1, max_length=100)
    fulfilment_id: str | None = Field(None, max_length=36)


class RefundIn(Body):
    amount: Money | None = Field(None, description="omitted: everything paid and not refunded")
    method: str | None = Field(None, max_length=40)
    payment_id: str | None = Field(None, max_length=36)
    reference: str | None = Field(None, max_length=200)


class ReturnLineIn(Body):
    line_id: str = Field(min_length=1, max_length=36)
    qty: Qty
    disposition: Literal["restock", "write_off"] = "restock"


class ReturnIn(Body):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    reason: str = Field("", max_length=500)
    refund: bool = True
    method: str | None = Field(None, max_length=40)


class MapLineIn(Body):
    product_id: str | None = Field(None, max_length=36)
    sku: str | None = Field(None, max_length=64)


class InvoiceIn(Body):
    customer_name: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=200)
    npwp: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=2000)


# --- online orders (API key) ------------------------------------------------------------------


@router.post(
    "/api/v1/orders",
    status_code=201,
    responses={
        200: {"description": "already booked: unchanged or updated"},
        409: {"description": "illegal status change, changed content or out of stock"},
    },
)
def post_online_order(
    body: OnlineOrderIn, response: Response, channel: Channel = Depends(current_channel)
) -> dict:
    """Book a shop's order, or apply its new status. `outcome` is created, unchanged or
    updated; the same body twice is a no-op."""
    with _write():
        if channel.store_id is None:
            raise HTTPException(409, detail=f"channel {channel.code} has no fulfilling store")
        store = Store.get_by_id(channel.store_id)
        spec = orders.OrderSpec(
            kind="online",
            store=store,
            channel=channel,
            external_id=body.external_id,
            lines=[ln.spec() for ln in body.lines],
            customer_name=body.customer.name,
            email=body.customer.email,
            phone=body.customer.phone,
            billing_address=body.billing_address,
            shipping_address=body.shipping_address,
            delivery=body.delivery,
            currency=body.currency,
            shipping_total=body.shipping_total,
            shipping_tax=body.shipping_tax,
            note=body.note,
            placed_at=body.placed_at.astimezone(UTC) if body.placed_at else None,
        )
        pay = (
            orders.PaymentSpec(body.payment.method, None, body.payment.reference)
            if body.payment
            else None
        )
        order, outcome = orders.upsert_channel_order(
            channel, spec, body.status, f"channel:{channel.code}", pay
        )
        if outcome != "created":
            response.status_code = 200
        return {"outcome": outcome, "order": orders.order_as_dict(order)}


# --- phone orders and customers (staff) -------------------------------------------------------


@router.post("/api/v1/orders/phone", status_code=201)
def post_phone_order(body: PhoneOrderIn, user: User = Depends(current_user)) -> dict:
    """A phone order taken by staff; the customer is found (or created) by phone number."""
    actor = _actor(user)
    with _write():
        if body.store:
            store = _store(body.store, user)
        elif user.store_id:
            store = Store.get_by_id(user.store_id)
        else:
            raise _field_error("store", "give the store code (this user has no home store)")
        customer = None
        if body.customer.phone:
            customer = orders.customer_for_phone(
                body.customer.phone, body.customer.name, body.customer.email
            )
        elif not body.customer.name:
            raise _field_error("customer.phone", "a phone order needs the customer's phone or name")
        spec = orders.OrderSpec(
            kind="phone",
            store=store,
            lines=[ln.spec() for ln in body.lines],
            customer=customer,
            customer_name=body.customer.name,
            email=body.customer.email,
            phone=body.customer.phone,
            company=body.company,
            npwp=body.npwp,
            billing_address=body.billing_address,
            shipping_address=body.shipping_address,
            delivery=body.delivery,
            shipping_total=body.shipping_total,
            note=body.note,
        )
        order = orders.create_order(spec, actor, "refuse")
        if body.payment:
            p = body.payment
            orders.add_payment(order, orders.PaymentSpec(p.method, p.amount, p.reference), actor)
        if body.confirm:
            orders.confirm(order, actor)
        return orders.order_as_dict(orders.get_order(order.id))


@router.get("/api/v1/customers")
def find_customers(
    phone: str = Query(min_length=3, max_length=32, pattern=r"^[0-9+() .-]+$"),
    user: User = Depends(current_user),
) -> list[dict]:
    """Customers by phone number (any way of writing it: 0812…, +62 812…, 62812…)."""
    with dbmod.session(), _errors():
        return [
            {"id": c.id, "name": c.name, "phone": c.phone, "email": c.email}
            for c in orders.find_customers(phone)
        ]


@router.post("/api/v1/customers", status_code=201)
def create_customer(body: CustomerIn, user: User = Depends(current_user)) -> dict:
    if not body.phone:
        raise _field_error("phone", "a customer needs a phone number")
    with _write():
        c = orders.customer_for_phone(body.phone, body.name, body.email)
        return {"id": c.id, "name": c.name, "phone": c.phone, "email": c.email}


# --- reading orders ---------------------------------------------------------------------------

Status = Literal[
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
]


@router.get("/api/v1/orders")
def list_orders(
    status: Status | None = None,
    kind: Literal["store", "online", "phone"] | None = None,
    store: str | None = Query(None, pattern=r"^[A-Za-z0-9_-]{1,16}$"),
    unmatched: bool | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10**9),
    user: User = Depends(current_user),
) -> dict:
    with dbmod.session():
        query = Order.select().order_by(Order.placed_at.desc(), Order.id.desc())
        if status:
            query = query.where(Order.status == status)
        if kind:
            query = query.where(Order.kind == kind)
        if store:
            query = query.where(Order.store == _store(store, user).id)
        elif user.role != "owner" and user.store_id:
            query = query.where(Order.store == user.store_id)
        if unmatched is not None:
            query = query.where(Order.has_unmatched == unmatched)
        total = query.count()
        rows = [orders.order_as_dict(o, full=False) for o in query.limit(limit).offset(offset)]
        return {"total": total, "orders": rows}


@router.get("/api/v1/orders/{order_id}", responses={404: {"description": "no such order"}})
def get_order(order_id: Id, user: User = Depends(current_user)) -> dict:
    with dbmod.session(), _errors():
        return orders.order_as_dict(_order_for(order_id, user))


# --- actions ----------------------------------------------------------------------------------

_CONFLICT = {404: {"description": "no such order"}, 409: {"description": "illegal transition"}}


def _simple_action(name: str, func):
    def endpoint(order_id: Id, user: User = Depends(current_user)) -> dict:
        with _write():
            order = _order_for(order_id, user)
            func(order, _actor(user))
            return orders.order_as_dict(orders.get_order(order_id))

    endpoint.__name__ = f"order_{name}"
    router.add_api_route(
        f"/api/v1/orders/{{order_id}}/{name}",
        endpoint,
        methods=["POST"],
        responses=_CONFLICT,
        summary=f"{name.replace('-', ' ').capitalize()} the order",
    )


_simple_action("confirm", orders.confirm)
_simple_action("process", orders.start_processing)
_simple_action("ready", orders.ready_for_pickup)
_simple_action("deliver", orders.deliver)
_simple_action("collect", orders.collect)


@router.post("/api/v1/orders/{order_id}/cancel", responses=_CONFLICT)
def cancel_order(order_id: Id, body: ReasonIn, user: User = Depends(current_user)) -> dict:
    with _write():
        orders.cancel(_order_for(order_id, user), _actor(user), body.reason)
        return orders.order_as_dict(orders.get_order(order_id))


@router.post("/api/v1/orders/{order_id}/fulfilments", status_code=201, responses=_CONFLICT)
def fulfil_order(order_id: Id, body: FulfilIn, user: User = Depends(current_user)) -> dict:
    with _write():
        order = _order_for(order_id, user)
        wanted = None
        if body.lines is not None:
            wanted = {}
            for i, ln in enumerate(body.lines):
                if ln.line_id in wanted:
                    raise _field_error(f"lines[{i}].line_id", f"line {ln.line_id} is listed twice")
                wanted[ln.line_id] = ln.qty
        fulfilment = orders.fulfil(order, wanted, _actor(user))
        return {
            "fulfilment_id": fulfilment.id,
            "order": orders.order_as_dict(orders.get_order(order_id)),
        }


@router.post("/api/v1/orders/{order_id}/shipments", status_code=201, responses=_CONFLICT)
def ship_order(order_id: Id, body: ShipIn, user: User = Depends(current_user)) -> dict:
    with _write():
        order = _order_for(order_id, user)
        shipment = orders.ship(
            order, body.carrier, body.tracking_number, _actor(user), body.fulfilment_id
        )
        return {
            "shipment_id": shipment.id,
            "order": orders.order_as_dict(orders.get_order(order_id)),
        }


@router.post("/api/v1/orders/{order_id}/payments", status_code=201, responses=_CONFLICT)
def pay_order(order_id: Id, body: PaymentIn, user: User = Depends(current_user)) -> dict:
    with _write():
        order = _order_for(order_id, user)
        payment = orders.add_payment(
            order, orders.PaymentSpec(body.method, body.amount, body.reference), _actor(user)
        )
        return {"payment_id": payment.id, "order": orders.order_as_dict(orders.get_order(order_id))}


@router.post("/api/v1/orders/{order_id}/refunds", status_code=201, responses=_CONFLICT)
def refund_order(order_id: Id, body: RefundIn, user: User = Depends(current_user)) -> dict:
    with _write():
        order = _order_for(order_id, user)
        payment = orders.refund(
            order,
            body.amount,
            _actor(user),
            method=body.method,
            payment_id=body.payment_id,
            reference=body.reference,
        )
        return {"payment_id": payment.id, "order": orders.order_as_dict(orders.get_order(order_id))}


@router.post("/api/v1/orders/{order_id}/returns", status_code=201, responses=_CONFLICT)
def return_order(order_id: Id, body: ReturnIn, user: User = Depends(current_user)) -> dict:
    with _write():
        order = _order_for(order_id, user)
        ret = orders.create_return(
            order,
            [(ln.line_id, ln.qty, ln.disposition) for ln in body.lines],
            _actor(user),
            reason=body.reason,
            refund_money=body.refund,
            method=body.method,
        )
        return {
            "return_id": ret.id,
            "number": ret.number,
            "amount": ret.amount,
            "order": orders.order_as_dict(orders.get_order(order_id)),
        }


@router.post("/api/v1/orders/{order_id}/lines/{line_id}/map", responses=_CONFLICT)
def map_line(
    order_id: Id, line_id: Id, body: MapLineIn, user: User = Depends(current_owner)
) -> dict:
    """Point an unmatched line at a catalog product (owners)."""
    with _write():
        order = _order_for(order_id, user)
        product = _product(body.product_id, body.sku)
        orders.map_line(order, line_id, product, _actor(user))
        return orders.order_as_dict(orders.get_order(order_id))


# --- invoices ---------------------------------------------------------------------------------


@router.post("/api/v1/orders/{order_id}/invoice", status_code=201, responses=_CONFLICT)
def invoice_order(order_id: Id, body: InvoiceIn, user: User = Depends(current_user)) -> dict:
    """The order's invoice (issued once; asking again returns it). A store sale gets one on
    request, e.g. for a business customer with an NPWP."""
    with _write():
        order = _order_for(order_id, user)
        inv = invoices.issue(
            order,
            _actor(user),
            customer_name=body.customer_name,
            company=body.company,
            npwp=body.npwp,
            address=body.address,
        )
        return invoices.as_dict(inv)


def _invoice_for(invoice_id: str, user: User) -> Invoice:
    inv = Invoice.get_or_none(Invoice.id == invoice_id)
    if inv is None:
        raise HTTPException(404, detail=f"invoice {invoice_id} not found")
    _order_for(inv.order_id, user)
    return inv


@router.get("/api/v1/invoices/{invoice_id}", responses={404: {"description": "no such invoice"}})
def get_invoice(invoice_id: Id, user: User = Depends(current_user)) -> dict:
    with dbmod.session(), _errors():
        return invoices.as_dict(_invoice_for(invoice_id, user))


@router.get(
    "/api/v1/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "no such invoice"}},
)
def invoice_pdf(invoice_id: Id, user: User = Depends(current_user)) -> Response:
    with dbmod.session(), _errors():
        inv = _invoice_for(invoice_id, user)
        pdf = invoices.render_pdf(inv)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{inv.number}.pdf"'},
    )


@router.post("/api/v1/invoices/{invoice_id}/credit-note", status_code=201, responses=_CONFLICT)
def credit_invoice(invoice_id: Id, body: ReasonIn, user: User = Depends(current_owner)) -> dict:
    """Cancel an invoice by a credit note (owners). The invoice's number is never reused."""
    with _write():
        inv = _invoice_for(invoice_id, user)
        if inv.kind != "invoice":
            raise HTTPException(409, detail=f"{inv.number} is a credit note; it cannot be credited")
        return invoices.as_dict(invoices.credit_note(inv, _actor(user), reason=body.reason))


# --- stock ------------------------------------------------------------------------------------


class AdjustIn(Body):
    sku: str | None = Field(None, max_length=64)
    product_id: str | None = Field(None, max_length=36)
    qty: int = Field(description="signed change of on-hand stock", ge=-(10**7), le=10**7)
    reason: str = Field(min_length=1, max_length=500)
    unit_cost: Money | None = None


class ThresholdIn(Body):
    threshold: int | None = Field(None, ge=0, le=10**7)


def _level_dict(row: stock.LevelRow) -> dict:
    return row.__dict__.copy()


@router.get("/api/v1/stores/{store_code}/stock", tags=["stock"])
def get_stock(store_code: StoreCode, low: bool = False, user: User = Depends(current_user)) -> dict:
    """On hand, reserved, available per product; `low=true` lists only those at or below their
    low-stock threshold."""
    with dbmod.session():
        store = _store(store_code, user)
        rows = [_level_dict(r) for r in stock.levels(store, low_only=low)]
        return {"store": store.code, "levels": rows}


@router.post("/api/v1/stores/{store_code}/stock/adjustments", status_code=201, tags=["stock"])
def adjust_stock(
    store_code: StoreCode, body: AdjustIn, user: User = Depends(current_owner)
) -> dict:
    with _write():
        store = _store(store_code, user)
        product = _product(body.product_id, body.sku)
        mv = stock.adjust(
            store, product, body.qty, body.reason, _actor(user), unit_cost=body.unit_cost
        )
        return {
            "movement_id": mv.id,
            "on_hand": mv.on_hand_after,
            "available": stock.available(store, product),
        }


@router.put("/api/v1/stores/{store_code}/stock/{sku}/threshold", tags=["stock"])
def set_threshold(
    store_code: StoreCode,
    sku: Annotated[str, Path(pattern=r"^[^\x00/]{1,64}$")],
    body: ThresholdIn,
    user: User = Depends(current_owner),
) -> dict:
    with _write():
        store = _store(store_code, user)
        product = _product(None, sku, "sku")
        level = stock.set_threshold(store, product, body.threshold)
        return {"sku": sku, "low_stock_threshold": level.low_stock_threshold}


@router.get("/api/v1/stores/{store_code}/stock/movements", tags=["stock"])
def stock_movements(
    store_code: StoreCode,
    sku: str | None = Query(None, max_length=64, pattern=r"^[^\x00]*$"),
    limit: int = Query(100, ge=1, le=1000),
    user: User = Depends(current_user),
) -> list[dict]:
    with dbmod.session():
        store = _store(store_code, user)
        query = (
            StockMovement.select(StockMovement, Product)
            .join(Product, on=(StockMovement.product == Product.id))
            .where(StockMovement.store == store.id)
        )
        if sku:
            query = query.where(Product.sku == sku)
        query = query.order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit)
        return [
            {
                "id": m.id,
                "sku": m.product.sku,
                "qty": m.qty,
                "cause": m.cause,
                "ref_type": m.ref_type,
                "ref_id": m.ref_id,
                "unit_cost": m.unit_cost,
                "on_hand_after": m.on_hand_after,
                "oversold": m.oversold,
                "note": m.note,
                "actor": m.actor,
                "at": m.at.isoformat(),
            }
            for m in query
        ]


def _day_range(store: Store, since: date, until: date) -> tuple[datetime, datetime]:
    """[since, until] as local days of the store, in UTC."""
    tz = zone(store.tz)
    start = datetime.combine(since, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    return start, end


def _dates(since: date | None, until: date | None, store: Store) -> tuple[date, date]:
    today = to_local(datetime.now(UTC), store.tz).date()
    since = since or today.replace(day=1)
    until = until or today
    if until < since:
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["query", "until"],
                    "type": "value_error",
                    "msg": f"until {until} is before since {since}",
                }
            ],
        )
    if (until - since).days > 366:
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["query", "until"],
                    "type": "value_error",
                    "msg": "a report covers at most 366 days",
                }
            ],
        )
    return since, until


@router.get("/api/v1/stores/{store_code}/stock/value", tags=["stock"])
def stock_value(store_code: StoreCode, user: User = Depends(current_owner)) -> dict:
    with dbmod.session():
        store = _store(store_code, user)
        return {"store": store.code, "currency": store.currency, "value": stock.stock_value(store)}


@router.get("/api/v1/stores/{store_code}/margins", tags=["stock"])
def margins(
    store_code: StoreCode,
    since: date | None = None,
    until: date | None = None,
    user: User = Depends(current_owner),
) -> dict:
    """Units sold, net revenue, cost of goods and margin per product over local days."""
    with dbmod.session():
        store = _store(store_code, user)
        since, until = _dates(since, until, store)
        start, end = _day_range(store, since, until)
        rows = stock.margins(store, start, end)
        return {
            "store": store.code,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "products": rows,
            "revenue": sum(r["revenue"] for r in rows),
            "cost": sum(r["cost"] for r in rows),
            "margin": sum(r["margin"] for r in rows),
        }


# --- suppliers and purchase orders -----------------------------------------------------------


class SupplierIn(Body):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)


class PoLineIn(Body):
    sku: str | None = Field(None, max_length=64)
    product_id: str | None = Field(None, max_length=36)
    qty: Qty
    unit_cost: Money


class PurchaseOrderIn(Body):
    store: str = Field(min_length=1, max_length=16)
    supplier_id: str = Field(min_length=1, max_length=36)
    lines: list[PoLineIn] = Field(min_length=1, max_length=500)
    note: str = Field("", max_length=2000)


class ReceiveLineIn(Body):
    line_id: str = Field(min_length=1, max_length=36)
    qty: int = Field(ge=0, le=10**7)


class ReceiveIn(Body):
    lines: list[ReceiveLineIn] | None = Field(None, description="omitted: everything outstanding")


def _po_dict(po: PurchaseOrder) -> dict:
    return {
        "id": po.id,
        "number": po.number,
        "status": po.status,
        "store": po.store.code,
        "supplier": {"id": po.supplier_id, "name": po.supplier.name},
        "note": po.note,
        "lines": [
            {
                "id": ln.id,
                "sku": ln.product.sku,
                "qty_ordered": ln.qty_ordered,
                "qty_received": ln.qty_received,
                "unit_cost": ln.unit_cost,
            }
            for ln in po.lines
        ],
    }


@router.post("/api/v1/suppliers", status_code=201, tags=["stock"])
def create_supplier(body: SupplierIn, user: User = Depends(current_owner)) -> dict:
    with _write():
        s = stock.create_supplier(body.name, body.email, body.phone)
        return {"id": s.id, "name": s.name, "email": s.email, "phone": s.phone}


@router.get("/api/v1/suppliers", tags=["stock"])
def list_suppliers(user: User = Depends(current_user)) -> list[dict]:
    with dbmod.session():
        return [
            {"id": s.id, "name": s.name, "email": s.email, "phone": s.phone}
            for s in Supplier.select().order_by(Supplier.name)
        ]


@router.post("/api/v1/purchase-orders", status_code=201, tags=["stock"])
def create_purchase_order(body: PurchaseOrderIn, user: User = Depends(current_owner)) -> dict:
    with _write():
        store = _store(body.store, user)
        supplier = Supplier.get_or_none(Supplier.id == body.supplier_id)
        if supplier is None:
            raise _field_error("supplier_id", f"supplier {body.supplier_id} not found")
        lines = [
            (_product(ln.product_id, ln.sku, f"lines[{i}].sku"), ln.qty, ln.unit_cost)
            for i, ln in enumerate(body.lines)
        ]
        po = stock.create_purchase_order(store, supplier, lines, _actor(user), body.note)
        return _po_dict(po)


def _po(po_id: str) -> PurchaseOrder:
    po = PurchaseOrder.get_or_none(PurchaseOrder.id == po_id)
    if po is None:
        raise HTTPException(404, detail=f"purchase order {po_id} not found")
    return po


@router.get("/api/v1/purchase-orders/{po_id}", tags=["stock"])
def get_purchase_order(po_id: Id, user: User = Depends(current_user)) -> dict:
    with dbmod.session():
        return _po_dict(_po(po_id))


@router.post(
    "/api/v1/purchase-orders/{po_id}/receive",
    tags=["stock"],
    responses={409: {"description": "received or cancelled already"}},
)
def receive_purchase_order(po_id: Id, body: ReceiveIn, user: User = Depends(current_owner)) -> dict:
    """Book goods in (all outstanding, or the given quantities) at the lines' cost prices."""
    with _write():
        po = _po(po_id)
        wanted = None if body.lines is None else {ln.line_id: ln.qty for ln in body.lines}
        try:
            po, movements = stock.receive(po, _actor(user), wanted)
        except stock.StockError as exc:
            if exc.field == "status":
                raise HTTPException(409, detail=str(exc)) from None
            raise
        return {**_po_dict(PurchaseOrder.get_by_id(po.id)), "movements": len(movements)}


# --- finance ----------------------------------------------------------------------------------


@router.get(
    "/api/v1/stores/{store_code}/journal.csv",
    tags=["finance"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def journal(
    store_code: StoreCode,
    since: date | None = None,
    until: date | None = None,
    user: User = Depends(current_owner),
) -> Response:
    """Double-entry journal of sales, tax, discounts, refunds and tenders per local day."""
    with dbmod.session():
        store = _store(store_code, user)
        since, until = _dates(since, until, store)
        text = finance.journal_csv(store, since, until)
    name = f"journal-{store.code}-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- webhooks and tracking --------------------------------------------------------------------


class WebhookIn(Body):
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://")
    secret: str = Field(min_length=16, max_length=200)
    store: str | None = Field(None, max_length=16, description="omitted: every store")


@router.post("/api/v1/webhooks", status_code=201, tags=["notifications"])
def add_webhook(body: WebhookIn, user: User = Depends(current_owner)) -> dict:
    """Where signed order notifications go (X-Kasir-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>." + body>)."""
    with _write():
        store = _store(body.store) if body.store else None
        ep = notifications.add_webhook(body.url, body.secret, store)
        return {"id": ep.id, "url": ep.url, "store": body.store}


@router.get("/api/v1/webhooks", tags=["notifications"])
def list_webhooks(user: User = Depends(current_owner)) -> list[dict]:
    with dbmod.session():
        return [
            {
                "id": ep.id,
                "url": ep.url,
                "active": ep.active,
                "store": ep.store.code if ep.store_id else None,
            }
            for ep in WebhookEndpoint.select()
        ]


@router.get(
    "/api/v1/track/{tracking_token}",
    tags=["notifications"],
    responses={404: {"description": "no such order"}},
)
def track(tracking_token: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]) -> dict:
    """What the customer's tracking page shows: no personal data beyond the order itself."""
    with dbmod.session():
        order = Order.get_or_none(Order.tracking_token == tracking_token)
        if order is None:
            raise HTTPException(404, detail="no order has this tracking link")
        full = orders.order_as_dict(order)
        return {
            "number": order.number,
            "status": order.status,
            "payment_status": order.payment_status,
            "delivery": order.delivery,
            "total": order.total,
            "currency": order.currency,
            "lines": [{"name": ln["name"], "qty": ln["qty"]} for ln in full["lines"]],
            "shipments": full["shipments"],
            "history": [
                {"status": t["to"], "at": t["at"]}
                for t in full["transitions"]
                if t["machine"] == "status"
            ],
        }
