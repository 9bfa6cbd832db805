"""The order list for every channel, the order page and its actions, invoice PDFs.

    GET  /orders?channel=phone&state=open&store=JKT1&since=2026-03-01&customer=budi&q=PH-
    GET  /orders/{id}                      lines, payments, shipments, returns, history, actions
    POST /orders/{id}/{action}             confirm | process | fulfil | ship | ready | deliver |
                                           collect | cancel | pay | refund | return | invoice
    GET  /invoices/{id}.pdf                an invoice or credit note

The page offers only the actions the state machine allows now; the services decide anyway, and
an action that is no longer allowed (someone else moved the order meanwhile) re-renders the
page with the reason and HTTP 409. Every action is one transaction. E-mails it queues get the
owner's templates in the same transaction (`notify_templates`). Staff with a home store see
that store's orders only; another store's order is a 404 to them.
"""

from __future__ import annotations

import math
from datetime import date

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from .. import db as dbmod
from .. import invoices, notifications, orders, reports, state, stock
from ..models.core import Channel, Customer, Store, User
from ..models.orders import (
    Fulfilment,
    FulfilmentLine,
    Invoice,
    Notification,
    Order,
    OrderLine,
    OrderTransition,
    Payment,
    Return,
    ReturnLine,
    Shipment,
)
from . import core, notify_templates
from .core import WebError, render, signed_in

router = core.web_router()

UUID = r"^[0-9a-fA-F-]{36}$"
PAGE_SIZE = 50
METHODS = ("cash", "card", "qris", "bank_transfer", "cod", "e_wallet", "other")
WAITING = ("pending", "confirmed", "processing", "partially_fulfilled", "fulfilled")


def order_for(order_id: str, user: User) -> Order:
    order = Order.get_or_none(Order.id == order_id)
    if order is None or (core.home_store(user) and order.store_id != user.store_id):
        raise core.NotFound(f"order {order_id} not found")
    return order


# --- the list ---------------------------------------------------------------------------------


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WebError(f"{field}: {value!r} is not a date (YYYY-MM-DD)", status=422) from None


def _filtered(user: User, params: dict):
    stores = core.visible_stores(user)
    query = Order.select(Order, Store).join(Store, on=(Order.store == Store.id))
    query = query.where(Order.store.in_([s.id for s in stores]))
    if params["store"]:
        chosen = [s for s in stores if s.code == params["store"]]
        if not chosen:
            raise WebError(f"store: no store {params['store']!r}", status=422)
        stores = chosen
        query = query.where(Order.store == chosen[0].id)
    channel = params["channel"]
    if channel in ("store", "phone", "online"):
        query = query.where(Order.kind == channel)
    elif channel.startswith("ch:"):
        found = Channel.get_or_none(Channel.code == channel[3:])
        query = query.where(Order.channel == (found.id if found else None))
    elif channel:
        raise WebError(f"channel: {channel!r} is not store, phone, online or a shop", status=422)
    wanted = params["state"]
    if wanted == "open":
        query = query.where(Order.status.in_(WAITING))
    elif wanted == "over_refunded":
        query = query.where(Order.id.in_(orders.over_refunded_orders()))
    elif wanted in state.STATUSES:
        query = query.where(Order.status == wanted)
    elif wanted:
        raise WebError(f"state: {wanted!r} is not an order state", status=422)
    since, until = _date(params["since"], "since"), _date(params["until"], "until")
    if since or until:
        try:
            period = reports.Period(since or date(2000, 1, 1), until or date(2999, 12, 31))
        except reports.ReportError:
            raise WebError(f"until: {until} is before since {since}", status=422) from None
        sc = reports.Scope(stores, period, core.currency_of(None))
        clause = None
        for s in stores:
            start, end = sc.bounds(s)
            part = (Order.store == s.id) & (Order.placed_at >= start) & (Order.placed_at < end)
            clause = part if clause is None else clause | part
        query = query.where(clause) if clause is not None else query
    customer = params["customer"].strip()
    if customer:
        digits = orders.normalize_phone(customer) if any(c.isdigit() for c in customer) else None
        cond = Order.customer_name.contains(customer)
        if digits and len(digits) >= 4:
            cond |= Order.phone.contains(digits[-8:])
        query = query.where(cond)
    q = params["q"].strip()
    if q:
        shipped = Shipment.select(Shipment.order).where(Shipment.tracking_number == q)
        query = query.where(
            Order.number.contains(q)
            | (Order.external_id == q)
            | Order.email.contains(q.lower())
            | Order.id.in_(shipped)
        )
    return query


@router.get("/orders")
def order_list(
    request: Request,
    q: str = Query("", max_length=100),
    channel: str = Query("", max_length=40),
    state_: str = Query("", alias="state", max_length=30),
    store: str = Query("", max_length=16),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    customer: str = Query("", max_length=100),
    page: int = Query(1, ge=1, le=100_000),
    user: User = Depends(signed_in),
):
    params = {
        "q": q,
        "channel": channel,
        "state": state_,
        "store": store,
        "since": since,
        "until": until,
        "customer": customer,
    }
    with dbmod.session():
        query = _filtered(user, params)
        total = query.count()
        pages = max(1, math.ceil(total / PAGE_SIZE))
        rows = list(
            query.order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(PAGE_SIZE)
            .offset((min(page, pages) - 1) * PAGE_SIZE)
        )
        channels = {c.id: c for c in Channel.select()}
        stores = core.visible_stores(user)
    return render(
        request,
        "orders/list.html",
        title="Orders",
        rows=rows,
        total=total,
        page=min(page, pages),
        pages=pages,
        params=params,
        qs=lambda **kw: core.query_string(params, **kw),
        channels=channels,
        stores=stores,
        states=state.STATUSES,
        currency_of=core.currency_of,
    )


# --- one order --------------------------------------------------------------------------------


def allowed_actions(order: Order, lines: list[OrderLine]) -> dict[str, bool]:
    """Which forms the order page shows now (the services check again)."""
    status = order.status
    open_lines = any(ln.qty > ln.fulfilled_qty for ln in lines)
    unshipped = (
        Fulfilment.select()
        .where((Fulfilment.order == order.id) & Fulfilment.shipment.is_null())
        .exists()
    )
    returnable = any(ln.fulfilled_qty > ln.returned_qty for ln in lines)
    due = order.total - order.paid_total
    refundable = order.paid_total - order.refunded_total
    return {
        "confirm": state.allowed(status, "confirmed"),
        "process": status == "confirmed",
        "fulfil": status in ("confirmed", "processing", "partially_fulfilled") and open_lines,
        "ship": order.delivery == "ship"
        and status in ("partially_fulfilled", "fulfilled")
        and unshipped,
        "ready": order.delivery == "pickup" and state.allowed(status, "ready_for_pickup"),
        "deliver": state.allowed(status, "delivered"),
        "collect": status == "ready_for_pickup",
        "cancel": state.allowed(status, "cancelled"),
        "return": status in ("shipped", "delivered", "collected", "partially_returned")
        and returnable,
        "pay": status != "cancelled" and due > 0,
        "refund": refundable > 0,
        "invoice": status != "cancelled" and invoices.current_invoice(order) is None,
    }


def _detail_context(order: Order) -> dict:
    store = Store.get_by_id(order.store_id)
    lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.line_no))
    shipments = list(
        Shipment.select().where(Shipment.order == order.id).order_by(Shipment.shipped_at)
    )
    fulfilments = list(
        Fulfilment.select().where(Fulfilment.order == order.id).order_by(Fulfilment.created_at)
    )
    names = {ln.id: ln.name for ln in lines}
    fulfilled_lines = {
        f.id: [
            (names.get(fl.order_line_id, "?"), fl.qty)
            for fl in FulfilmentLine.select().where(FulfilmentLine.fulfilment == f.id)
        ]
        for f in fulfilments
    }
    returns = list(Return.select().where(Return.order == order.id).order_by(Return.created_at))
    return_lines = {
        r.id: [
            (names.get(rl.order_line_id, "?"), rl.qty, rl.amount, rl.disposition)
            for rl in ReturnLine.select().where(ReturnLine.ret == r.id)
        ]
        for r in returns
    }
    return {
        "order": order,
        "store": store,
        "channel": Channel.get_by_id(order.channel_id) if order.channel_id else None,
        "customer": Customer.get_or_none(Customer.id == order.customer_id)
        if order.customer_id
        else None,
        "lines": lines,
        "payments": list(
            Payment.select().where(Payment.order == order.id).order_by(Payment.at, Payment.id)
        ),
        "shipments": shipments,
        "fulfilments": fulfilments,
        "fulfilled_lines": fulfilled_lines,
        "returns": returns,
        "return_lines": return_lines,
        "invoices": list(
            Invoice.select().where(Invoice.order == order.id).order_by(Invoice.issued_at)
        ),
        "transitions": list(
            OrderTransition.select()
            .where(OrderTransition.order == order.id)
            .order_by(OrderTransition.at, OrderTransition.id)
        ),
        "notifications": list(
            Notification.select()
            .where(Notification.order == order.id)
            .order_by(Notification.created_at)
        ),
        "actions": allowed_actions(order, lines),
        "tracking_url": notifications.tracking_url(order),
        "currency": core.currency_of(store, order.currency),
        "methods": METHODS,
        "due": max(order.total - order.paid_total, 0),
        "refundable": max(order.paid_total - order.refunded_total, 0),
    }


def _detail(request: Request, user: User, order_id: str, *, error=None, status=200):
    with dbmod.session():
        order = order_for(order_id, user)
        context = _detail_context(order)
    return render(
        request,
        "orders/detail.html",
        status=status,
        title=f"Order {context['order'].number}",
        error=error,
        **context,
    )


@router.get("/orders/{order_id}")
def order_page(
    request: Request, order_id: str = Path(pattern=UUID), user: User = Depends(signed_in)
):
    return _detail(request, user, order_id)


def _act(request: Request, user: User, order_id: str, action, message) -> Response:
    """Run `action(order)` in one transaction, then back to the order page: with a message, or
    with the reason it was refused."""
    try:
        with dbmod.session():
            order = order_for(order_id, user)
            with dbmod.atomic():
                before = notify_templates.queued_ids(order)
                result = action(order)
                notify_templates.apply_to_new(order.id, before)
    except state.IllegalTransition as exc:
        return _detail(request, user, order_id, error=str(exc), status=409)
    except (orders.OrderError, stock.StockError) as exc:
        return _detail(request, user, order_id, error=f"{exc.field}: {exc}", status=422)
    except (orders.Conflict, stock.OutOfStock) as exc:
        return _detail(request, user, order_id, error=str(exc), status=409)
    except WebError as exc:
        if isinstance(exc, core.NotFound):
            raise
        return _detail(request, user, order_id, error=exc.message, status=exc.status)
    text = message(result) if callable(message) else message
    return core.redirect(request, f"/orders/{order_id}", text)


def _amount(form: FormData, field: str, order: Order) -> int | None:
    """An amount typed in the store's locale ("12.500" in id_ID), in minor units."""
    raw = str(form.get(field) or "").strip()
    if not raw:
        return None
    from retail.money import MoneyError, parse_money

    store = Store.get_by_id(order.store_id)
    try:
        return parse_money(raw, core.currency_of(store, order.currency), store.locale)
    except MoneyError as exc:
        raise WebError(f"{field}: {exc}", status=422) from None


def _line_quantities(form: FormData, prefix: str) -> dict[str, int]:
    out = {}
    for key, value in form.multi_items():
        if key.startswith(prefix) and str(value).strip() not in ("", "0"):
            out[key[len(prefix) :]] = core.parse_int(str(value), key, minimum=0, maximum=10**6)
    return {k: v for k, v in out.items() if v}


@router.post("/orders/{order_id}/{action}")
async def order_action(
    request: Request,
    order_id: str = Path(pattern=UUID),
    action: str = Path(pattern=r"^[a-z]{3,10}$"),
    user: User = Depends(signed_in),
):
    form = await request.form()
    who = core.actor(user)
    from starlette.concurrency import run_in_threadpool

    if action == "confirm":
        job = (lambda o: orders.confirm(o, who)), "Order confirmed."
    elif action == "process":
        job = (lambda o: orders.start_processing(o, who)), "Processing started."
    elif action == "fulfil":

        def fulfil(o):
            if form.get("all"):
                wanted = None
            else:
                wanted = _line_quantities(form, "qty_")
                if not wanted:
                    raise WebError("lines: enter a quantity for at least one line", status=422)
            return orders.fulfil(o, wanted, who)

        job = fulfil, lambda f: f"Fulfilled {sum(fl.qty for fl in f.lines)} item(s)."
    elif action == "ship":
        carrier = str(form.get("carrier") or "")
        tracking = str(form.get("tracking_number") or "")
        job = (
            lambda o: orders.ship(o, carrier, tracking, who),
            lambda s: f"Shipped with {s.carrier}, tracking {s.tracking_number}.",
        )
    elif action == "ready":
        job = (lambda o: orders.ready_for_pickup(o, who)), "Ready for pickup; the customer is told."
    elif action == "deliver":
        job = (lambda o: orders.deliver(o, who)), "Marked delivered."
    elif action == "collect":
        job = (lambda o: orders.collect(o, who)), "Marked collected."
    elif action == "cancel":
        reason = str(form.get("reason") or "").strip()[:500]
        job = (lambda o: orders.cancel(o, who, reason)), "Order cancelled."
    elif action == "pay":
        method = str(form.get("method") or "")
        reference = str(form.get("reference") or "").strip()[:200] or None

        def pay(o):
            spec = orders.PaymentSpec(method, _amount(form, "amount", o), reference)
            return orders.add_payment(o, spec, who)

        job = pay, lambda p: f"Payment of {core.fmt_money(p.amount)} recorded."
    elif action == "refund":
        method = str(form.get("method") or "") or None
        reference = str(form.get("reference") or "").strip()[:200] or None

        def pay_back(o):
            amount = _amount(form, "amount", o)
            return orders.refund(o, amount, who, method=method, reference=reference)

        job = pay_back, lambda p: f"Refund of {core.fmt_money(p.amount)} recorded."
    elif action == "return":

        def take_back(o):
            wanted = _line_quantities(form, "ret_")
            if not wanted:
                raise WebError(
                    "lines: enter a quantity to return for at least one line", status=422
                )
            items = [
                (lid, qty, str(form.get(f"disp_{lid}") or "restock")) for lid, qty in wanted.items()
            ]
            return orders.create_return(
                o,
                items,
                who,
                reason=str(form.get("reason") or "").strip()[:500],
                refund_money=bool(form.get("refund")),
                method=str(form.get("method") or "") or None,
            )

        job = take_back, lambda r: f"Return {r.number} booked."
    elif action == "invoice":

        def invoice(o):
            fields = {
                k: str(form.get(k) or "").strip()[:200] or None
                for k in ("customer_name", "company", "npwp", "address")
            }
            return invoices.issue(o, who, **fields)

        job = invoice, lambda inv: f"Invoice {inv.number} issued."
    else:
        raise core.NotFound(f"no order action {action!r}")
    run, message = job
    return await run_in_threadpool(_act, request, user, order_id, run, message)


@router.get("/invoices/{invoice_id}.pdf")
def invoice_pdf(
    request: Request, invoice_id: str = Path(pattern=UUID), user: User = Depends(signed_in)
):
    with dbmod.session():
        inv = Invoice.get_or_none(Invoice.id == invoice_id)
        if inv is None or (core.home_store(user) and inv.store_id != user.store_id):
            raise core.NotFound(f"invoice {invoice_id} not found")
        pdf = invoices.render_pdf(inv)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{inv.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
