"""Report pages: each report as a chart, a table and a CSV download.

    GET /reports                                   the list
    GET /reports/sales?since=2026-03-01&until=2026-03-31&store=JKT1&grain=week
    GET /reports/sales.csv?…                       the same rows as CSV (money in minor units)

The figures come from `cloud_oms.reports` (SQL aggregates); charts are drawn here as SVG.
Staff with a home store see that store only; stock value and margins are the owner's.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from .. import db as dbmod
from .. import reports
from ..models.core import Store, User
from . import charts, core, services
from .core import WebError, render, signed_in
from .home import today

router = core.web_router()

NAME = r"^[a-z-]{2,20}$"


def _kind(name: str, user: User) -> reports.ReportKind:
    kind = reports.KINDS.get(name)
    if kind is None:
        raise core.NotFound(f"no report {name!r}")
    if kind.owner_only and user.role != "owner":
        raise core.Forbidden(f"the {kind.title.lower()} report is for the owner")
    return kind


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WebError(f"{field}: {value!r} is not a date (YYYY-MM-DD)", status=422) from None


def _build(kind: reports.ReportKind, user: User, since: str, until: str, store: str, grain: str):
    stores = core.visible_stores(user)
    if store:
        stores = [s for s in stores if s.code == store]
        if not stores:
            raise WebError(f"store: no store {store!r}", status=422)
    day = today(stores)
    first = _date(since, "since") if since else day.replace(day=1)
    last = _date(until, "until") if until else day
    try:
        kwargs: dict = {"stores": stores}
        if kind.name == "fulfilment":
            kwargs["late_after_hours"] = services.late_after_hours()
        if kind.grains:
            kwargs["grain"] = grain or "day"
        if kind.periodic:
            period = reports.Period(first, last)
            return kind.build(period, **kwargs), period
        return kind.build(**kwargs), None
    except reports.ReportError as exc:
        raise WebError(str(exc), status=422) from None


def chart_svg(report: reports.Report):
    spec = report.chart
    if spec is None:
        return None
    rows = spec.rows if spec.rows is not None else report.rows
    labels = [str(r.get(spec.label_key, "")) for r in rows]
    if spec.value_kind == "money":

        def fmt(v):
            return core.fmt_money(int(v), report.currency)
    else:

        def fmt(v):
            return core.fmt_number(int(v))

    if spec.kind == "hbar":
        key, name = spec.series[0]
        return charts.hbar_chart(labels, [r.get(key) or 0 for r in rows], title=name, fmt=fmt)
    series = [(name, [r.get(key) or 0 for r in rows]) for key, name in spec.series]
    counts = spec.value_kind == "int"
    if spec.kind == "line":
        return charts.line_chart(
            [lb[5:] for lb in labels], series, title=report.title, fmt=fmt, integer=counts
        )
    return charts.bar_chart(labels, series, title=report.title, fmt=fmt, integer=counts)


@router.get("/reports")
def index(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        day = today(core.visible_stores(user))
    kinds = [k for k in reports.KINDS.values() if not k.owner_only or user.role == "owner"]
    periods = [
        ("Today", day, day),
        ("Last 7 days", day - timedelta(days=6), day),
        ("This month", day.replace(day=1), day),
        ("Last 30 days", day - timedelta(days=29), day),
        ("This year", day.replace(month=1, day=1), day),
    ]
    return render(request, "reports/index.html", title="Reports", kinds=kinds, periods=periods)


@router.get("/reports/{name}.csv")
def report_csv(
    request: Request,
    name: str = Path(pattern=NAME),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    store: str = Query("", max_length=16),
    grain: str = Query("", max_length=5),
    user: User = Depends(signed_in),
):
    kind = _kind(name, user)
    with dbmod.session():
        report, period = _build(kind, user, since, until, store, grain)
    suffix = f"-{period.since}-{period.until}" if period else ""
    return Response(
        report.csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="kasir-{name}{suffix}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/reports/{name}")
def report_page(
    request: Request,
    name: str = Path(pattern=NAME),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    store: str = Query("", max_length=16),
    grain: str = Query("", max_length=5),
    user: User = Depends(signed_in),
):
    kind = _kind(name, user)
    with dbmod.session():
        report, period = _build(kind, user, since, until, store, grain)
        stores = core.visible_stores(user)
        late = []
        if kind.name == "fulfilment":
            chosen = [s for s in stores if not store or s.code == store]
            late = reports.late_orders(stores=chosen, late_after_hours=services.late_after_hours())
        chart = chart_svg(report)
        store_tz = {s.id: s.tz for s in Store.select()} if late else {}
    params = {
        "since": period.since.isoformat() if period else "",
        "until": period.until.isoformat() if period else "",
        "store": store,
        "grain": grain,
    }
    return render(
        request,
        "reports/report.html",
        title=report.title,
        kind=kind,
        report=report,
        period=period,
        params=params,
        csv_url=f"/reports/{name}.csv?{core.query_string(params)}",
        chart=chart,
        stores=stores,
        late=late,
        store_tz=store_tz,
    )
