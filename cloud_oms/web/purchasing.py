"""Suppliers and purchase orders: create, send to the supplier, receive (partly), which books
the goods into stock at the order's cost.

    GET  /purchasing                          suppliers and purchase orders
    POST /purchasing/suppliers                                                   (owner)
    GET  /purchasing/orders/new; POST /purchasing/orders/new                     (owner)
    GET  /purchasing/orders/{id}; GET /purchasing/orders/{id}.csv
    POST /purchasing/orders/{id}/send         e-mail to the supplier, then "sent" (owner)
    POST /purchasing/orders/{id}/receive      qty_<line id> per line                (owner)

Receiving goes through `cloud_oms.stock.receive`: a `receipt` movement per line at its cost,
the average cost updated, backorders filled from what came in.
"""

from __future__ import annotations

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import Response

from .. import db as dbmod
from .. import stock
from ..models.core import Product, Store, User
from ..models.stock import PurchaseOrder, PurchaseOrderLine, Supplier
from . import core, services
from .core import WebError, owner, render, signed_in
from .phone import find_product

router = core.web_router()

UUID = r"^[0-9a-fA-F-]{36}$"
LINE_ROWS = 8


@router.get("/purchasing")
def overview(
    request: Request,
    status: str = Query("", max_length=20),
    user: User = Depends(signed_in),
):
    with dbmod.session():
        stores = core.visible_stores(user)
        suppliers = list(Supplier.select().order_by(Supplier.name))
        query = (
            PurchaseOrder.select(PurchaseOrder, Supplier, Store)
            .join(Supplier, on=(PurchaseOrder.supplier == Supplier.id))
            .switch(PurchaseOrder)
            .join(Store, on=(PurchaseOrder.store == Store.id))
            .where(PurchaseOrder.store.in_([s.id for s in stores]))
            .order_by(PurchaseOrder.created_at.desc())
            .limit(200)
        )
        if status:
            query = query.where(PurchaseOrder.status == status)
        pos = list(query)
        totals = {po.id: sum(ln.qty_ordered * ln.unit_cost for ln in po.lines) for po in pos}
    return render(
        request,
        "purchasing/overview.html",
        title="Purchasing",
        suppliers=suppliers,
        pos=pos,
        totals=totals,
        status_filter=status,
        currency=core.currency_of(stores[0] if stores else None),
    )


@router.post("/purchasing/suppliers")
def add_supplier(
    request: Request,
    name: str = Form("", max_length=200),
    email: str = Form("", max_length=254),
    phone: str = Form("", max_length=32),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            supplier = stock.create_supplier(name, email.strip(), phone.strip())
        except stock.StockError as exc:
            raise WebError(f"{exc.field}: {exc}", status=422) from None
    return core.redirect(request, "/purchasing", f"Supplier {supplier.name} added.")


def _new_form(request, user, *, values=None, error=None, status=200):
    with dbmod.session():
        stores = core.visible_stores(user)
        suppliers = list(Supplier.select().order_by(Supplier.name))
    values = values or {}
    lines = list(values.get("lines", []))
    lines += [("", "", "")] * max(LINE_ROWS - len(lines), 0)
    return render(
        request,
        "purchasing/new.html",
        status=status,
        title="New purchase order",
        stores=stores,
        suppliers=suppliers,
        values=values,
        lines=lines,
        error=error,
    )


@router.get("/purchasing/orders/new")
def new_po(request: Request, user: User = Depends(owner)):
    return _new_form(request, user)


@router.post("/purchasing/orders/new")
async def create_po(request: Request, user: User = Depends(owner)):
    form = await request.form()
    items = [str(v) for v in form.getlist("item")]
    qtys = [str(v) for v in form.getlist("qty")]
    costs = [str(v) for v in form.getlist("unit_cost")]
    values = {
        "store": str(form.get("store") or ""),
        "supplier": str(form.get("supplier") or ""),
        "note": str(form.get("note") or "")[:2000],
        "lines": [
            (i.strip(), q, c) for i, q, c in zip(items, qtys, costs, strict=False) if i.strip()
        ],
    }
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_create_po, request, user, values)


def _create_po(request, user, values):
    try:
        with dbmod.session():
            store = next((s for s in core.visible_stores(user) if s.code == values["store"]), None)
            if store is None:
                raise WebError(f"store: no store {values['store']!r}", status=422)
            supplier = Supplier.get_or_none(Supplier.id == values["supplier"])
            if supplier is None:
                raise WebError("supplier: choose a supplier (add one first)", status=422)
            lines = []
            for i, (item, qty, cost) in enumerate(values["lines"]):
                product = find_product(item)
                if product is None:
                    raise WebError(
                        f"lines[{i}]: no product with sku or barcode {item!r}", status=422
                    )
                lines.append(
                    (
                        product,
                        core.parse_int(qty, f"lines[{i}].qty", minimum=1, maximum=10**9),
                        core.parse_int(cost, f"lines[{i}].unit_cost", minimum=0, maximum=10**15),
                    )
                )
            if not lines:
                raise WebError("lines: add at least one product", status=422)
            po = stock.create_purchase_order(
                store, supplier, lines, core.actor(user), values["note"]
            )
    except stock.StockError as exc:
        return _new_form(request, user, values=values, error=f"{exc.field}: {exc}", status=422)
    except WebError as exc:
        return _new_form(request, user, values=values, error=exc.message, status=exc.status)
    return core.redirect(
        request, f"/purchasing/orders/{po.id}", f"Purchase order {po.number} created."
    )


def _po_for(user: User, po_id: str) -> PurchaseOrder:
    po = PurchaseOrder.get_or_none(PurchaseOrder.id == po_id)
    if po is None or (core.home_store(user) and po.store_id != user.store_id):
        raise core.NotFound(f"purchase order {po_id} not found")
    return po


def _po_page(request, user, po_id, *, error=None, status=200):
    with dbmod.session():
        po = _po_for(user, po_id)
        store = Store.get_by_id(po.store_id)
        supplier = Supplier.get_by_id(po.supplier_id)
        lines = list(
            PurchaseOrderLine.select(PurchaseOrderLine, Product)
            .join(Product, on=(PurchaseOrderLine.product == Product.id))
            .where(PurchaseOrderLine.purchase_order == po.id)
        )
    return render(
        request,
        "purchasing/po.html",
        status=status,
        title=f"Purchase order {po.number}",
        po=po,
        store=store,
        supplier=supplier,
        lines=lines,
        total=sum(ln.qty_ordered * ln.unit_cost for ln in lines),
        currency=core.currency_of(store),
        error=error,
        can_mail=bool(request.app.state.settings.smtp_host),
    )


@router.get("/purchasing/orders/{po_id}.csv")
def po_csv(request: Request, po_id: str = Path(pattern=UUID), user: User = Depends(signed_in)):
    with dbmod.session():
        po = _po_for(user, po_id)
        text = services.purchase_order_csv(po)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{po.number}.csv"'},
    )


@router.get("/purchasing/orders/{po_id}")
def po_page(request: Request, po_id: str = Path(pattern=UUID), user: User = Depends(signed_in)):
    return _po_page(request, user, po_id)


@router.post("/purchasing/orders/{po_id}/send")
def send(request: Request, po_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    try:
        with dbmod.session():
            po = _po_for(user, po_id)
            po = services.send_purchase_order(po, request.app.state.settings, core.actor(user))
    except services.ServiceError as exc:
        return _po_page(request, user, po_id, error=str(exc), status=422)
    return core.redirect(
        request, f"/purchasing/orders/{po_id}", f"Sent {po.number} to the supplier."
    )


@router.post("/purchasing/orders/{po_id}/receive")
async def receive(request: Request, po_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    form = await request.form()
    wanted = {
        key[4:]: str(value)
        for key, value in form.multi_items()
        if key.startswith("qty_") and str(value).strip() not in ("", "0")
    }
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_receive, request, user, po_id, wanted)


def _receive(request, user, po_id, wanted):
    try:
        quantities = {
            lid: core.parse_int(q, f"lines[{lid}].qty", minimum=0, maximum=10**9)
            for lid, q in wanted.items()
        }
        if not quantities:
            raise WebError("lines: enter what arrived for at least one line", status=422)
        with dbmod.session():
            po = _po_for(user, po_id)
            po, moves = stock.receive(po, core.actor(user), quantities)
    except stock.StockError as exc:
        return _po_page(request, user, po_id, error=f"{exc.field}: {exc}", status=422)
    except WebError as exc:
        if isinstance(exc, core.NotFound):
            raise
        return _po_page(request, user, po_id, error=exc.message, status=exc.status)
    units = sum(m.qty for m in moves)
    return core.redirect(
        request, f"/purchasing/orders/{po_id}", f"Received {units} unit(s) into stock."
    )
