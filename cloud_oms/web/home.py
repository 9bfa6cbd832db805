"""The start page: today's sales, the last two weeks, and what needs attention.

GET /            figures for the stores the user may see
GET /static/...  the stylesheet and the one small script (no build step)
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Request
from fastapi.responses import Response
from peewee import fn

from retail.ids import to_local, utcnow

from .. import db as dbmod
from .. import orders, reports, stock
from ..models.core import Store, Terminal, User
from ..models.orders import Notification, Order, OrderLine
from . import charts, core, services
from .core import render, signed_in

router = core.web_router()


def today(stores: list[Store]):
    tz = stores[0].tz if stores else "Asia/Jakarta"
    return to_local(utcnow(), tz).date()


def stale_cutoff(request: Request):
    return utcnow() - timedelta(seconds=request.app.state.settings.stale_after_s)


@router.get("/")
def dashboard(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        stores = core.visible_stores(user)
        day = today(stores)
        store_ids = [s.id for s in stores]
        period = reports.Period(day - timedelta(days=13), day)
        recent = reports.sales(period, stores=stores)
        this_day = recent.rows[-1] if recent.rows else {}
        open_counts = dict(
            Order.select(Order.status, fn.COUNT(Order.id))
            .where(
                Order.store.in_(store_ids)
                & Order.status.in_(
                    ("pending", "confirmed", "processing", "partially_fulfilled", "fulfilled",
                     "ready_for_pickup")
                )
            )
            .group_by(Order.status)
            .tuples()
        )  # fmt: skip
        late = reports.late_orders(
            stores=stores, late_after_hours=services.late_after_hours(), limit=500
        )
        low = sum(len(stock.levels(s, low_only=True)) for s in stores)
        oversold = len(services.oversold_levels(store_ids))
        stale = (
            Terminal.select()
            .where(
                Terminal.store.in_(store_ids)
                & Terminal.enrolled_at.is_null(False)
                & Terminal.revoked_at.is_null()
                & (
                    Terminal.last_seen_at.is_null()
                    | (Terminal.last_seen_at < stale_cutoff(request))
                )
            )
            .count()
        )
        unmatched = (
            OrderLine.select()
            .join(Order)
            .where(OrderLine.product.is_null() & Order.store.in_(store_ids))
            .count()
        )
        failed_mail = Notification.select().where(Notification.status == "failed").count()
        over_refunded = (
            Order.select()
            .where(Order.store.in_(store_ids) & Order.id.in_(orders.over_refunded_orders()))
            .count()
        )
        chart = charts.bar_chart(
            [r["start"][5:] for r in recent.rows],
            [("Net sales", [r["net_sales"] for r in recent.rows])],
            title="Net sales, last 14 days",
            fmt=lambda v: core.fmt_money(int(v), recent.currency),
        )
    return render(
        request,
        "home.html",
        title="Today",
        day=day,
        today_row=this_day,
        currency=recent.currency,
        open_counts=open_counts,
        late=len(late),
        low=low,
        oversold=oversold,
        stale=stale,
        unmatched=unmatched,
        failed_mail=failed_mail,
        over_refunded=over_refunded,
        chart=chart,
        stores=stores,
    )


@router.get("/static/{name}")
def static(name: str):
    path = core.STATIC_DIR / name
    if name not in core.STATIC_VERSIONS or not path.is_file():
        raise core.NotFound("no such file")
    response = Response(path.read_bytes(), media_type=core.STATIC_TYPES[path.suffix])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
