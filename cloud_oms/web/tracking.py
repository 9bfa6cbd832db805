"""The customer's tracking page, `/t/<token>`: no sign-in, Indonesian or English.

    GET /t/Zk3…?lang=en

It shows the order's state as steps, its shipments (carrier, tracking number), pickup details
(the store's address and hours) and the items — nothing personal: no name, address, phone or
e-mail, since anyone holding the link sees the page. An unknown or malformed token gets the
same 404 page whatever it was, naming nothing. The page is never cached and sends no referrer,
so the token does not leak to a carrier's site through a link.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import HTMLResponse

from .. import db as dbmod
from ..models.core import Store
from ..models.orders import Order, OrderLine, OrderTransition, Shipment
from . import core, services

router = core.web_router()

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
LANGS = ("id", "en")

TEXT = {
    "id": {
        "title": "Lacak pesanan",
        "order": "Pesanan",
        "placed": "Dipesan",
        "items": "Barang",
        "total": "Total",
        "paid": "sudah dibayar",
        "unpaid": "belum dibayar",
        "shipments": "Pengiriman",
        "carrier": "Kurir",
        "tracking": "No. resi",
        "shipped_at": "Dikirim",
        "delivered_at": "Diterima",
        "pickup": "Ambil di toko",
        "store": "Toko",
        "address": "Alamat",
        "phone": "Telepon",
        "hours": "Jam buka",
        "bring": "Sebutkan nomor pesanan saat mengambil.",
        "not_found": "Halaman tidak ditemukan",
        "not_found_text": "Tautan pelacakan ini tidak dikenal. Periksa tautan di e-mail Anda.",
        "steps_ship": ["Pesanan diterima", "Dikonfirmasi", "Dikemas", "Dikirim", "Sampai"],
        "steps_pickup": [
            "Pesanan diterima",
            "Dikonfirmasi",
            "Dikemas",
            "Siap diambil",
            "Sudah diambil",
        ],
        "state": {
            "pending": "Pesanan diterima, menunggu konfirmasi",
            "confirmed": "Pesanan dikonfirmasi",
            "processing": "Pesanan sedang disiapkan",
            "partially_fulfilled": "Sebagian pesanan sudah dikemas",
            "fulfilled": "Pesanan sudah dikemas",
            "shipped": "Pesanan dalam pengiriman",
            "ready_for_pickup": "Pesanan siap diambil",
            "delivered": "Pesanan sudah sampai",
            "collected": "Pesanan sudah diambil",
            "partially_returned": "Sebagian barang dikembalikan",
            "returned": "Pesanan dikembalikan",
            "cancelled": "Pesanan dibatalkan",
        },
        "partial_shipped": "Sebagian sudah dikirim",
    },
    "en": {
        "title": "Track your order",
        "order": "Order",
        "placed": "Placed",
        "items": "Items",
        "total": "Total",
        "paid": "paid",
        "unpaid": "not paid yet",
        "shipments": "Shipments",
        "carrier": "Carrier",
        "tracking": "Tracking no.",
        "shipped_at": "Shipped",
        "delivered_at": "Delivered",
        "pickup": "Pickup at the store",
        "store": "Store",
        "address": "Address",
        "phone": "Phone",
        "hours": "Opening hours",
        "bring": "Give the order number when you collect it.",
        "not_found": "Page not found",
        "not_found_text": "This tracking link is not known. Check the link in your e-mail.",
        "steps_ship": ["Order received", "Confirmed", "Packed", "Shipped", "Delivered"],
        "steps_pickup": ["Order received", "Confirmed", "Packed", "Ready for pickup", "Collected"],
        "state": {
            "pending": "Order received, waiting for confirmation",
            "confirmed": "Order confirmed",
            "processing": "Your order is being prepared",
            "partially_fulfilled": "Part of your order is packed",
            "fulfilled": "Your order is packed",
            "shipped": "Your order is on its way",
            "ready_for_pickup": "Your order is ready for pickup",
            "delivered": "Your order was delivered",
            "collected": "Your order was collected",
            "partially_returned": "Some items were returned",
            "returned": "Your order was returned",
            "cancelled": "Your order was cancelled",
        },
        "partial_shipped": "Partly shipped",
    },
}

# Which step each state has reached (0-based), per delivery method.
STEP = {
    "pending": 0,
    "confirmed": 1,
    "processing": 1,
    "partially_fulfilled": 1,
    "fulfilled": 2,
    "shipped": 3,
    "ready_for_pickup": 3,
    "delivered": 4,
    "collected": 4,
    "partially_returned": 4,
    "returned": 4,
}
STEP_STATES = {
    0: ("pending",),
    1: ("confirmed",),
    2: ("fulfilled",),
    3: ("shipped", "ready_for_pickup"),
    4: ("delivered", "collected"),
}


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang")
    if wanted in LANGS:
        return wanted
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "id"


def _not_found(request: Request, lang: str) -> HTMLResponse:
    t = TEXT[lang]
    response = core.render(
        request,
        "tracking.html",
        status=404,
        public=True,
        referrer="no-referrer",
        lang=lang,
        t=t,
        order=None,
        title=t["not_found"],
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@router.get("/t/{token}")
def tracking_page(request: Request, token: str):
    lang = _lang(request)
    if not TOKEN.match(token):
        return _not_found(request, lang)
    with dbmod.session():
        order = Order.get_or_none(Order.tracking_token == token)
        if order is None:
            return _not_found(request, lang)
        store = Store.get_by_id(order.store_id)
        lines = list(
            OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.line_no)
        )
        shipments = list(
            Shipment.select().where(Shipment.order == order.id).order_by(Shipment.shipped_at)
        )
        reached = {
            t.to_state: t.at
            for t in OrderTransition.select()
            .where((OrderTransition.order == order.id) & (OrderTransition.machine == "status"))
            .order_by(OrderTransition.at.desc())
        }
        info = services.store_info(store)
    t = TEXT[lang]
    names = t["steps_pickup"] if order.delivery == "pickup" else t["steps_ship"]
    current = STEP.get(order.status)
    steps = []
    for i, name in enumerate(names):
        when = next((reached[s] for s in STEP_STATES[i] if s in reached), None)
        if i == 0:
            when = order.placed_at
        done = current is not None and i <= current
        steps.append(
            {"name": name, "at": when if done else None, "done": done, "now": i == current}
        )
    response = core.render(
        request,
        "tracking.html",
        public=True,
        referrer="no-referrer",
        lang=lang,
        t=t,
        order=order,
        store=store,
        info=info,
        lines=lines,
        shipments=shipments,
        steps=steps if order.status != "cancelled" else [],
        state_text=t["state"].get(order.status, order.status),
        partly_shipped=bool(shipments) and order.status in ("partially_fulfilled", "fulfilled"),
        currency=core.currency_of(store, order.currency),
        title=f"{t['order']} {order.number}",
        token=token,
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
