"""Owner reports: sales, channels, stores, products, categories, cashiers, best sellers, trends,
tax, tenders, stock value, margins and fulfilment — SQL aggregates that run on SQLite and
PostgreSQL alike.

    >>> period = Period(date(2026, 3, 1), date(2026, 3, 31))
    >>> report = sales(period, grain="week")                        # doctest: +SKIP
    >>> report.totals["sales"], report.csv().splitlines()[0]          # doctest: +SKIP
    (1250000, 'period,orders,sales,discounts,tax,net_of_tax,returns,net_sales,currency')

What counts, and when
- A sale counts on the local day of the store it was booked (`Order.booked_at`: a till sale when
  it happened, an online or phone order when it was confirmed); a cancelled order does not
  count at all. A return counts on the day it was made (`Return.created_at`), a payment or a
  refund on the day it was taken (`Payment.at`).
- Days are the store's own local days. Each store's period is turned into UTC bounds, split
  where its zone's UTC offset changes (Indonesia's zones never do; others may), and the local
  date of a row is computed in SQL with that offset — one query for every store together.
- Money is summed as integers of the currency's minor unit; a report across stores with
  different currencies is refused (pick one store). Durations are hours (floats).

Every report is a `Report`: columns, rows, totals, a chart description and `csv()`, where money
is written in minor units, one row per table row (no totals row, so the column sums are the
totals).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from retail.ids import utcnow, zone
from retail.money import Currency

from .db import db, is_postgres
from .models.core import Store

MAX_DAYS = 3660
GRAINS = ("day", "week", "month")
DEFAULT_LATE_AFTER_HOURS = 48


class ReportError(ValueError):
    """A report that cannot be made as asked; `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class Period:
    """Local days `since` to `until`, both included."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ReportError("until", f"until {self.until} is before since {self.since}")
        if self.days > MAX_DAYS:
            raise ReportError("until", f"a report covers at most {MAX_DAYS} days")

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.since - timedelta(days=self.days), self.since - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range(self.days)]

    def __str__(self) -> str:
        return f"{self.since.isoformat()} – {self.until.isoformat()}"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | money | percent | hours


@dataclass(frozen=True)
class Chart:
    """What to draw: `kind` bar | hbar | line, labels from `label_key`, one bar/line per series
    (key, label). `rows` when the chart shows other rows than the table."""

    kind: str
    label_key: str
    series: tuple[tuple[str, str], ...]
    value_kind: str = "money"
    rows: list[dict] | None = None


@dataclass
class Report:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    currency: Currency
    totals: dict | None = None
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        money = any(c.kind == "money" for c in self.columns)
        writer.writerow([c.key for c in self.columns] + (["currency"] if money else []))
        for row in self.rows:
            cells = [_csv_cell(row.get(c.key), c.kind) for c in self.columns]
            writer.writerow(cells + ([self.currency.code] if money else []))
        return out.getvalue()


def _csv_cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("percent", "hours"):
        return f"{value:.1f}"
    return str(value)


# --- scope: stores, UTC bounds, local days ----------------------------------------------------


def _offset(tz: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(tz).utcoffset().total_seconds())


def offset_segments(tz_name: str, start: datetime, end: datetime) -> list[tuple]:
    """[(from, to, utc offset seconds)] covering [start, end) in pieces of constant offset."""
    tz = zone(tz_name)
    out = []
    lo = start
    tiny = timedelta(microseconds=1)
    while lo < end:
        current = _offset(tz, lo)
        probe = lo
        while True:
            nxt = min(probe + timedelta(days=1), end)
            last = nxt if nxt < end else end - tiny
            if _offset(tz, last) == current:
                if nxt >= end:
                    boundary = end
                    break
                probe = nxt
                continue
            a, b = probe, last  # offset(a) == current != offset(b): bisect to the microsecond
            while b - a > tiny:
                mid = a + (b - a) / 2
                if _offset(tz, mid) == current:
                    a = mid
                else:
                    b = mid
            boundary = b
            break
        out.append((lo, boundary, current))
        lo = boundary
    return out


@dataclass
class Scope:
    """The stores a report covers and, per store, the UTC bounds of the period."""

    stores: list[Store]
    period: Period | None
    currency: Currency
    segments: list[tuple[str, datetime, datetime, int]] = field(default_factory=list)

    def bounds(self, store: Store) -> tuple[datetime, datetime]:
        tz = zone(store.tz)
        start = datetime.combine(self.period.since, time(), tz).astimezone(UTC)
        end = datetime.combine(self.period.until + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end


def scope(period: Period | None, stores: Sequence[Store] | None = None) -> Scope:
    """The report's stores (all when None) with one currency, and their period bounds."""
    chosen = list(stores) if stores else list(Store.select().order_by(Store.code))
    currencies = sorted({(s.currency, s.currency_exponent) for s in chosen})
    if len(currencies) > 1:
        codes = ", ".join(c for c, _ in currencies)
        raise ReportError("store", f"the stores use different currencies ({codes}); pick one store")
    code, exponent = currencies[0] if currencies else ("IDR", 0)
    currency = Currency(code, exponent, "Rp" if code == "IDR" else f"{code} ")
    sc = Scope(chosen, period, currency)
    if period is not None:
        for store in chosen:
            start, end = sc.bounds(store)
            for lo, hi, off in offset_segments(store.tz, start, end):
                sc.segments.append((store.id, lo, hi, off))
    return sc


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class _Sql:
    """Builds one statement's text and parameters in the connected database's dialect."""

    def __init__(self) -> None:
        self.pg = is_postgres()
        self.p = db.obj.param
        self.params: list = []

    def param(self, value) -> str:
        self.params.append(value)
        return self.p

    def in_period(self, sc: Scope, store_col: str, time_col: str) -> str:
        """Rows of the scope's stores whose `time_col` lies in each store's period."""
        if not sc.stores:
            return "1 = 0"
        clauses = []
        for store in sc.stores:
            start, end = sc.bounds(store)
            clauses.append(
                f"({store_col} = {self.param(store.id)} AND {time_col} >= "
                f"{self.param(_naive(start))} AND {time_col} < {self.param(_naive(end))})"
            )
        return "(" + " OR ".join(clauses) + ")"

    def in_stores(self, sc: Scope, store_col: str) -> str:
        if not sc.stores:
            return "1 = 0"
        marks = ", ".join(self.param(s.id) for s in sc.stores)
        return f"{store_col} IN ({marks})"

    def shifted_day(self, col: str, offset_s: int) -> str:
        offset_s = int(offset_s)
        if self.pg:
            return f"to_char({col} + interval '{offset_s} seconds', 'YYYY-MM-DD')"
        return f"date({col}, '{offset_s:+d} seconds')"

    def local_day(self, sc: Scope, store_col: str, time_col: str) -> str:
        """The row's local date as 'YYYY-MM-DD' text, by its store's offset at that time."""
        offsets = {off for *_, off in sc.segments}
        if len(offsets) == 1:
            return self.shifted_day(time_col, offsets.pop())
        whens = []
        for store_id, lo, hi, off in sc.segments:
            whens.append(
                f"WHEN {store_col} = {self.param(store_id)} AND {time_col} >= "
                f"{self.param(_naive(lo))} AND {time_col} < {self.param(_naive(hi))} "
                f"THEN {self.shifted_day(time_col, off)}"
            )
        return "CASE " + " ".join(whens) + " END"

    def hours(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"
        return f"((julianday({later}) - julianday({earlier})) * 24.0)"

    def run(self, text: str) -> list[tuple]:
        return list(db.obj.execute_sql(text, tuple(self.params)).fetchall())


BOOKED = "o.booked_at IS NOT NULL AND o.status <> 'cancelled'"


def _int(value) -> int:
    return int(value or 0)


# --- sales over time --------------------------------------------------------------------------


SALES_COLUMNS = [
    Column("orders", "Orders", "int"),
    Column("sales", "Sales", "money"),
    Column("discounts", "Discounts", "money"),
    Column("tax", "Tax", "money"),
    Column("net_of_tax", "Sales excl. tax", "money"),
    Column("returns", "Returns", "money"),
    Column("net_sales", "Net sales", "money"),
]


def _daily(sc: Scope) -> dict[str, dict]:
    """{local date: measures} for every day with sales or returns."""
    days: dict[str, dict] = defaultdict(lambda: dict.fromkeys(k.key for k in SALES_COLUMNS))
    q = _Sql()
    day = q.local_day(sc, "o.store_id", "o.booked_at")
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    rows = q.run(
        f"SELECT {day}, COUNT(*), SUM(o.total), SUM(o.discount_total), SUM(o.tax_total) "
        f'FROM "order" o WHERE {BOOKED} AND {where} GROUP BY 1'
    )
    for d, n, total, discount, tax in rows:
        days[d].update(orders=_int(n), sales=_int(total), discounts=_int(discount), tax=_int(tax))
    q = _Sql()
    day = q.local_day(sc, "o.store_id", "r.created_at")
    where = q.in_period(sc, "o.store_id", "r.created_at")
    rows = q.run(
        f'SELECT {day}, SUM(r.amount) FROM "return" r JOIN "order" o ON o.id = r.order_id '
        f"WHERE {where} GROUP BY 1"
    )
    for d, amount in rows:
        days[d]["returns"] = _int(amount)
    return days


def _bucket(day: date, grain: str) -> tuple[date, str]:
    if grain == "day":
        return day, day.isoformat()
    if grain == "week":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return monday, f"{year}-W{week:02d} ({monday.isoformat()})"
    first = day.replace(day=1)
    return first, first.strftime("%Y-%m")


def _finish(row: dict) -> dict:
    for key in ("orders", "sales", "discounts", "tax", "returns"):
        row[key] = row.get(key) or 0
    row["net_of_tax"] = row["sales"] - row["tax"]
    row["net_sales"] = row["sales"] - row["returns"]
    return row


def _sum_rows(rows: Iterable[dict], keys: Iterable[str]) -> dict:
    rows = list(rows)
    return {k: sum(r.get(k) or 0 for r in rows) for k in keys}


def sales(period: Period, *, grain: str = "day", stores: Sequence[Store] | None = None) -> Report:
    """Orders, sales, discounts, tax, returns and net sales per day, week or month; every
    bucket of the period is listed, empty ones as zeros."""
    if grain not in GRAINS:
        raise ReportError("grain", f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    sc = scope(period, stores)
    daily = _daily(sc)
    buckets: dict[date, dict] = {}
    for day in period.dates():
        start, label = _bucket(day, grain)
        row = buckets.setdefault(start, {"period": label, "start": start.isoformat()})
        for key, value in daily.get(day.isoformat(), {}).items():
            row[key] = (row.get(key) or 0) + (value or 0)
    rows = [_finish(buckets[k]) for k in sorted(buckets)]
    keys = [c.key for c in SALES_COLUMNS]
    return Report(
        name="sales",
        title=f"Sales by {grain}",
        columns=[Column("period", grain.capitalize()), *SALES_COLUMNS],
        rows=rows,
        currency=sc.currency,
        totals={"period": "Total", **_sum_rows(rows, keys)},
        chart=Chart("bar", "period", (("net_sales", "Net sales"),)),
    )


# --- by channel / store -----------------------------------------------------------------------


def _grouped_sales(sc: Scope, key_sql: str, joins: str) -> tuple[dict, dict]:
    """({key: (orders, sales, discounts, tax)}, {key: returns}) grouped by `key_sql`."""
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    sold = {
        tuple(r[:-4]): r[-4:]
        for r in q.run(
            f"SELECT {key_sql}, COUNT(*), SUM(o.total), SUM(o.discount_total), SUM(o.tax_total) "
            f'FROM "order" o {joins} WHERE {BOOKED} AND {where} GROUP BY {key_sql}'
        )
    }
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "r.created_at")
    returned = {
        tuple(r[:-1]): r[-1]
        for r in q.run(
            f'SELECT {key_sql}, SUM(r.amount) FROM "return" r JOIN "order" o ON o.id = r.order_id '
            f"{joins} WHERE {where} GROUP BY {key_sql}"
        )
    }
    return sold, returned


GROUP_COLUMNS = [
    Column("orders", "Orders", "int"),
    Column("sales", "Sales", "money"),
    Column("share", "Share", "percent"),
    Column("average", "Avg. order", "money"),
    Column("returns", "Returns", "money"),
    Column("net_sales", "Net sales", "money"),
]


def _group_rows(sold: dict, returned: dict, label: Callable[[tuple], dict]) -> list[dict]:
    total_sales = sum(_int(v[1]) for v in sold.values())
    rows = []
    for key in sorted(set(sold) | set(returned), key=lambda k: tuple(str(x) for x in k)):
        n, amount, _discount, _tax = sold.get(key, (0, 0, 0, 0))
        n, amount = _int(n), _int(amount)
        back = _int(returned.get(key))
        rows.append(
            {
                **label(key),
                "orders": n,
                "sales": amount,
                "share": 100.0 * amount / total_sales if total_sales else 0.0,
                "average": amount // n if n else 0,
                "returns": back,
                "net_sales": amount - back,
            }
        )
    rows.sort(key=lambda r: -r["sales"])
    return rows


def _group_totals(rows: list[dict], first: str) -> dict:
    totals = _sum_rows(rows, ("orders", "sales", "returns", "net_sales"))
    totals["average"] = totals["sales"] // totals["orders"] if totals["orders"] else 0
    totals["share"] = 100.0 if totals["sales"] else 0.0
    return {first: "Total", **totals}


def channel_label(kind: str, code: str | None) -> str:
    if kind == "store":
        return "Store (tills)"
    if kind == "phone":
        return "Phone"
    return f"Online: {code}" if code else "Online"


def by_channel(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    sc = scope(period, stores)
    sold, returned = _grouped_sales(
        sc, "o.kind, c.code", "LEFT JOIN channel c ON c.id = o.channel_id"
    )
    rows = _group_rows(sold, returned, lambda k: {"channel": channel_label(k[0], k[1])})
    return Report(
        name="channels",
        title="Sales by channel",
        columns=[Column("channel", "Channel"), *GROUP_COLUMNS],
        rows=rows,
        currency=sc.currency,
        totals=_group_totals(rows, "channel"),
        chart=Chart("hbar", "channel", (("sales", "Sales"),)),
    )


def by_store(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    sc = scope(period, stores)
    sold, returned = _grouped_sales(sc, "s.code, s.name", "JOIN store s ON s.id = o.store_id")
    rows = _group_rows(sold, returned, lambda k: {"store": k[0], "name": k[1]})
    return Report(
        name="stores",
        title="Sales by store",
        columns=[Column("store", "Store"), Column("name", "Name"), *GROUP_COLUMNS],
        rows=rows,
        currency=sc.currency,
        totals=_group_totals(rows, "store"),
        chart=Chart("hbar", "store", (("sales", "Sales"),)),
    )


def by_cashier(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Till sales by the cashier on the receipt, phone orders by the user who took them."""
    sc = scope(period, stores)
    who = (
        "CASE WHEN o.staff_name <> '' THEN o.staff_name ELSE COALESCE(t.actor, '?') END, "
        "CASE WHEN o.kind = 'store' THEN 'till' ELSE 'phone' END"
    )
    joins = (
        "LEFT JOIN order_transition t ON t.order_id = o.id AND t.machine = 'status' "
        "AND t.from_state IS NULL"
    )
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    raw = q.run(
        f'SELECT {who}, COUNT(*), SUM(o.total), SUM(o.discount_total) FROM "order" o {joins} '
        f"WHERE {BOOKED} AND o.kind IN ('store', 'phone') AND {where} GROUP BY 1, 2"
    )
    rows = []
    for name, where_, n, total, discount in raw:
        name = name[5:] if name.startswith("user:") else name
        n, total = _int(n), _int(total)
        rows.append(
            {
                "cashier": name,
                "where": where_,
                "orders": n,
                "sales": total,
                "discounts": _int(discount),
                "average": total // n if n else 0,
            }
        )
    rows.sort(key=lambda r: (-r["sales"], r["cashier"]))
    totals = _sum_rows(rows, ("orders", "sales", "discounts"))
    totals["average"] = totals["sales"] // totals["orders"] if totals["orders"] else 0
    return Report(
        name="cashiers",
        title="Sales by cashier",
        columns=[
            Column("cashier", "Cashier"),
            Column("where", "Where"),
            Column("orders", "Orders", "int"),
            Column("sales", "Sales", "money"),
            Column("discounts", "Discounts", "money"),
            Column("average", "Avg. order", "money"),
        ],
        rows=rows,
        currency=sc.currency,
        totals={"cashier": "Total", **totals},
        chart=Chart("hbar", "cashier", (("sales", "Sales"),)),
    )


# --- products and categories ------------------------------------------------------------------


_LINE_RETURNS = (
    "LEFT JOIN (SELECT order_line_id, SUM(amount) AS amount FROM return_line "
    "GROUP BY order_line_id) rl ON rl.order_line_id = ol.id"
)


def _line_groups(sc: Scope, key_sql: str, joins: str) -> list[tuple]:
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    return q.run(
        f"SELECT {key_sql}, SUM(ol.qty), SUM(ol.total), SUM(ol.tax_amount), "
        f"SUM(ol.returned_qty), SUM(COALESCE(rl.amount, 0)) "
        f'FROM order_line ol JOIN "order" o ON o.id = ol.order_id {joins} {_LINE_RETURNS} '
        f"WHERE {BOOKED} AND {where} GROUP BY {key_sql}"
    )


LINE_COLUMNS = [
    Column("qty", "Sold", "int"),
    Column("sales", "Sales", "money"),
    Column("tax", "Tax", "money"),
    Column("returned_qty", "Returned", "int"),
    Column("returns", "Returns", "money"),
    Column("net_sales", "Net sales", "money"),
]


def _line_row(head: dict, qty, total, tax, returned_qty, returned) -> dict:
    return {
        **head,
        "qty": _int(qty),
        "sales": _int(total),
        "tax": _int(tax),
        "returned_qty": _int(returned_qty),
        "returns": _int(returned),
        "net_sales": _int(total) - _int(returned),
    }


def _product_rows(sc: Scope) -> list[dict]:
    raw = _line_groups(
        sc,
        "ol.product_id, COALESCE(p.sku, ol.sku, ''), COALESCE(p.name, ol.name)",
        "LEFT JOIN product p ON p.id = ol.product_id",
    )
    return [
        _line_row(
            {"product_id": pid, "sku": sku, "name": name, "matched": pid is not None}, *measures
        )
        for pid, sku, name, *measures in raw
    ]


def by_product(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Per product (unmatched till lines per sku and name until they are mapped)."""
    sc = scope(period, stores)
    rows = sorted(_product_rows(sc), key=lambda r: (-r["net_sales"], r["sku"]))
    keys = [c.key for c in LINE_COLUMNS]
    return Report(
        name="products",
        title="Sales by product",
        columns=[Column("sku", "SKU"), Column("name", "Product"), *LINE_COLUMNS],
        rows=rows,
        currency=sc.currency,
        totals={"sku": "Total", **_sum_rows(rows, keys)},
        chart=Chart("hbar", "name", (("net_sales", "Net sales"),), rows=rows[:15]),
        notes=["Unmatched till lines are listed by their sku until mapped to a product."],
    )


def by_category(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    sc = scope(period, stores)
    raw = _line_groups(
        sc,
        "COALESCE(cat.name, '')",
        "LEFT JOIN product p ON p.id = ol.product_id "
        "LEFT JOIN category cat ON cat.id = p.category_id",
    )
    rows = [_line_row({"category": name or "(none)"}, *measures) for name, *measures in raw]
    rows.sort(key=lambda r: (-r["net_sales"], r["category"]))
    keys = [c.key for c in LINE_COLUMNS]
    return Report(
        name="categories",
        title="Sales by category",
        columns=[Column("category", "Category"), *LINE_COLUMNS],
        rows=rows,
        currency=sc.currency,
        totals={"category": "Total", **_sum_rows(rows, keys)},
        chart=Chart("hbar", "category", (("net_sales", "Net sales"),)),
    )


def best_sellers(
    period: Period, *, stores: Sequence[Store] | None = None, limit: int = 20
) -> Report:
    """The top products by units sold (net of returns), revenue breaking ties."""
    if not 1 <= limit <= 500:
        raise ReportError("limit", f"limit {limit} is not within 1..500")
    sc = scope(period, stores)
    rows = _product_rows(sc)
    for row in rows:
        row["kept"] = row["qty"] - row["returned_qty"]
    rows.sort(key=lambda r: (-r["kept"], -r["net_sales"], r["sku"]))
    rows = rows[:limit]
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return Report(
        name="best-sellers",
        title="Best sellers",
        columns=[
            Column("rank", "#", "int"),
            Column("sku", "SKU"),
            Column("name", "Product"),
            Column("kept", "Units (net)", "int"),
            Column("net_sales", "Net sales", "money"),
        ],
        rows=rows,
        currency=sc.currency,
        chart=Chart("hbar", "name", (("kept", "Units"),), value_kind="int"),
    )


# --- trends -----------------------------------------------------------------------------------


def _summary(sc: Scope) -> dict:
    days = _daily(sc)
    total = _finish(_sum_rows(days.values(), ("orders", "sales", "discounts", "tax", "returns")))
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    (units,) = q.run(
        f'SELECT SUM(ol.qty) FROM order_line ol JOIN "order" o ON o.id = ol.order_id '
        f"WHERE {BOOKED} AND {where}"
    )[0]
    total["units"] = _int(units)
    total["average"] = total["sales"] // total["orders"] if total["orders"] else 0
    total["_days"] = days
    return total


TREND_METRICS = (
    ("orders", "Orders", "int"),
    ("units", "Units sold", "int"),
    ("sales", "Sales", "money"),
    ("average", "Avg. order", "money"),
    ("discounts", "Discounts", "money"),
    ("returns", "Returns", "money"),
    ("net_sales", "Net sales", "money"),
)


def trends(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Each measure against the period of the same length just before."""
    before = period.previous()
    now_sc, then_sc = scope(period, stores), scope(before, stores)
    now, then = _summary(now_sc), _summary(then_sc)
    rows = []
    for key, label, kind in TREND_METRICS:
        a, b = now[key], then[key]
        rows.append(
            {
                "metric": label,
                "kind": kind,
                "current": a,
                "previous": b,
                "change": a - b,
                "change_pct": (100.0 * (a - b) / b) if b else None,
            }
        )
    daily = []
    for i, day in enumerate(period.dates()):
        prev_day = before.since + timedelta(days=i)
        cur = now["_days"].get(day.isoformat(), {})
        old = then["_days"].get(prev_day.isoformat(), {})
        daily.append(
            {
                "day": day.isoformat(),
                "current": (cur.get("sales") or 0) - (cur.get("returns") or 0),
                "previous": (old.get("sales") or 0) - (old.get("returns") or 0),
            }
        )
    return Report(
        name="trends",
        title="Trends against the previous period",
        columns=[
            Column("metric", "Measure"),
            Column("current", str(period), "value"),
            Column("previous", str(before), "value"),
            Column("change", "Change", "value"),
            Column("change_pct", "Change %", "percent"),
        ],
        rows=rows,
        currency=now_sc.currency,
        chart=Chart(
            "line",
            "day",
            (("current", "This period"), ("previous", "Previous period")),
            rows=daily,
        ),
        extra={"previous": before},
    )


# --- tax and tenders --------------------------------------------------------------------------


def tax_summary(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Output tax per tax code: on sales booked in the period, less the tax of returns made in
    it; shipping tax as its own row."""
    sc = scope(period, stores)
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    key = "ol.tax_code, ol.tax_rate_bp, ol.tax_base_num, ol.tax_base_den"
    sold = q.run(
        f"SELECT {key}, SUM(ol.total), SUM(ol.tax_base), SUM(ol.tax_amount) "
        f'FROM order_line ol JOIN "order" o ON o.id = ol.order_id WHERE {BOOKED} AND {where} '
        f"GROUP BY {key}"
    )
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "r.created_at")
    back = q.run(
        f"SELECT {key}, SUM(rl.amount), SUM(rl.tax_amount) FROM return_line rl "
        f'JOIN "return" r ON r.id = rl.return_id JOIN order_line ol ON ol.id = rl.order_line_id '
        f'JOIN "order" o ON o.id = r.order_id WHERE {where} GROUP BY {key}'
    )
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    (ship_total, ship_tax) = q.run(
        f'SELECT SUM(o.shipping_total), SUM(o.shipping_tax) FROM "order" o '
        f"WHERE {BOOKED} AND {where}"
    )[0]
    rows: dict[tuple, dict] = {}

    def row(k: tuple) -> dict:
        code, rate, num, den = k
        base = "" if num == den else f" on {num}/{den}"
        return rows.setdefault(
            k,
            {
                "tax_code": code or "(none)",
                "rate": f"{rate / 100:g}%{base}",
                "sales": 0,
                "base": 0,
                "tax": 0,
                "returns": 0,
                "returns_tax": 0,
            },
        )

    for *k, total, base, tax in sold:
        r = row(tuple(k))
        r.update(sales=_int(total), base=_int(base), tax=_int(tax))
    for *k, amount, tax in back:
        r = row(tuple(k))
        r.update(returns=_int(amount), returns_tax=_int(tax))
    out = sorted(rows.values(), key=lambda r: r["tax_code"])
    if ship_total:
        out.append(
            {
                "tax_code": "shipping",
                "rate": "",
                "sales": _int(ship_total),
                "base": _int(ship_total) - _int(ship_tax),
                "tax": _int(ship_tax),
                "returns": 0,
                "returns_tax": 0,
            }
        )
    for r in out:
        r["net_tax"] = r["tax"] - r["returns_tax"]
    keys = ("sales", "base", "tax", "returns", "returns_tax", "net_tax")
    return Report(
        name="tax",
        title="Tax summary",
        columns=[
            Column("tax_code", "Tax code"),
            Column("rate", "Rate"),
            Column("sales", "Sales incl. tax", "money"),
            Column("base", "Tax base (DPP)", "money"),
            Column("tax", "Output tax", "money"),
            Column("returns", "Returns incl. tax", "money"),
            Column("returns_tax", "Tax on returns", "money"),
            Column("net_tax", "Net output tax", "money"),
        ],
        rows=out,
        currency=sc.currency,
        totals={"tax_code": "Total", "rate": "", **_sum_rows(out, keys)},
        chart=Chart("hbar", "tax_code", (("net_tax", "Net output tax"),)),
    )


def tenders(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Money taken and paid back per tender (cash, card, QRIS, transfer…), by payment date."""
    sc = scope(period, stores)
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "pm.at")
    raw = q.run(
        "SELECT pm.method, "
        "SUM(CASE WHEN pm.kind = 'payment' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN pm.kind = 'payment' THEN pm.amount ELSE 0 END), "
        "SUM(CASE WHEN pm.kind = 'refund' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN pm.kind = 'refund' THEN pm.amount ELSE 0 END) "
        f'FROM payment pm JOIN "order" o ON o.id = pm.order_id WHERE {where} GROUP BY pm.method'
    )
    rows = [
        {
            "method": method,
            "payments": _int(n),
            "taken": _int(taken),
            "refunds": _int(rn),
            "refunded": _int(refunded),
            "net": _int(taken) - _int(refunded),
        }
        for method, n, taken, rn, refunded in raw
    ]
    rows.sort(key=lambda r: -r["net"])
    keys = ("payments", "taken", "refunds", "refunded", "net")
    return Report(
        name="tenders",
        title="Tenders",
        columns=[
            Column("method", "Tender"),
            Column("payments", "Payments", "int"),
            Column("taken", "Taken", "money"),
            Column("refunds", "Refunds", "int"),
            Column("refunded", "Paid back", "money"),
            Column("net", "Net", "money"),
        ],
        rows=rows,
        currency=sc.currency,
        totals={"method": "Total", **_sum_rows(rows, keys)},
        chart=Chart("hbar", "method", (("net", "Net"),)),
    )


# --- stock value and margins ------------------------------------------------------------------


def stock_value(*, stores: Sequence[Store] | None = None) -> Report:
    """Goods on hand now per store and category: at weighted average cost and at shelf price.
    Negative on-hand figures (oversold) count as zero, as in `stock.stock_value`."""
    sc = scope(None, stores)
    q = _Sql()
    where = q.in_stores(sc, "sl.store_id")
    held = "CASE WHEN sl.on_hand > 0 THEN sl.on_hand ELSE 0 END"
    retail_value = f"CASE WHEN p.unit = 'kg' THEN {held} * p.price / 1000 ELSE {held} * p.price END"
    raw = q.run(
        f"SELECT s.code, COALESCE(cat.name, ''), COUNT(*), SUM({held}), "
        f"SUM({held} * sl.avg_cost), SUM({retail_value}) "
        "FROM stock_level sl JOIN product p ON p.id = sl.product_id "
        "JOIN store s ON s.id = sl.store_id LEFT JOIN category cat ON cat.id = p.category_id "
        f"WHERE {where} GROUP BY s.code, COALESCE(cat.name, '')"
    )
    rows = []
    for code, category, products, units, cost, retail in raw:
        cost, retail = _int(cost), _int(retail)
        rows.append(
            {
                "store": code,
                "category": category or "(none)",
                "products": _int(products),
                "on_hand": _int(units),
                "cost_value": cost,
                "retail_value": retail,
                "potential_margin": retail - cost,
            }
        )
    rows.sort(key=lambda r: (r["store"], -r["cost_value"]))
    keys = ("products", "on_hand", "cost_value", "retail_value", "potential_margin")
    chart_rows = []
    by_cat: dict[str, int] = defaultdict(int)
    for r in rows:
        by_cat[r["category"]] += r["cost_value"]
    chart_rows = [{"category": k, "cost_value": v} for k, v in sorted(by_cat.items())]
    return Report(
        name="stock-value",
        title="Stock value",
        columns=[
            Column("store", "Store"),
            Column("category", "Category"),
            Column("products", "Products", "int"),
            Column("on_hand", "On hand", "int"),
            Column("cost_value", "At cost", "money"),
            Column("retail_value", "At shelf price", "money"),
            Column("potential_margin", "Potential margin", "money"),
        ],
        rows=rows,
        currency=sc.currency,
        totals={"store": "Total", "category": "", **_sum_rows(rows, keys)},
        chart=Chart("hbar", "category", (("cost_value", "At cost"),), rows=chart_rows),
        notes=["On hand counts units, and grams for goods sold by weight."],
    )


def margins(period: Period, *, stores: Sequence[Store] | None = None) -> Report:
    """Per product: units kept (sold less returned), net revenue (excl. tax), cost of goods at
    the cost when they left stock, margin. The same figures as `stock.margins`, in SQL."""
    sc = scope(period, stores)
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    kept = "(ol.qty - ol.returned_qty)"
    stock_qty = (
        "(CASE WHEN ol.unit = 'kg' AND ol.weight_g IS NOT NULL AND ol.weight_g <> 0 "
        "THEN ol.weight_g ELSE ol.qty END)"
    )
    raw = q.run(
        f"SELECT ol.product_id, p.sku, p.name, SUM({kept}), SUM(ol.net * {kept} / ol.qty), "
        f"SUM(COALESCE(ol.cost_price, 0) * ({stock_qty} * {kept} / ol.qty)) "
        f'FROM order_line ol JOIN "order" o ON o.id = ol.order_id '
        f"JOIN product p ON p.id = ol.product_id "
        f"WHERE o.booked_at IS NOT NULL AND o.status <> 'cancelled' AND {kept} > 0 AND {where} "
        f"GROUP BY ol.product_id, p.sku, p.name"
    )
    rows = []
    for pid, sku, name, units, revenue, cost in raw:
        revenue, cost = _int(revenue), _int(cost)
        rows.append(
            {
                "product_id": pid,
                "sku": sku,
                "name": name,
                "qty": _int(units),
                "revenue": revenue,
                "cost": cost,
                "margin": revenue - cost,
                "margin_pct": 100.0 * (revenue - cost) / revenue if revenue else None,
            }
        )
    rows.sort(key=lambda r: (-r["margin"], r["sku"]))
    totals = _sum_rows(rows, ("qty", "revenue", "cost", "margin"))
    totals["margin_pct"] = (
        100.0 * totals["margin"] / totals["revenue"] if totals["revenue"] else None
    )
    return Report(
        name="margins",
        title="Margins",
        columns=[
            Column("sku", "SKU"),
            Column("name", "Product"),
            Column("qty", "Units (net)", "int"),
            Column("revenue", "Revenue excl. tax", "money"),
            Column("cost", "Cost of goods", "money"),
            Column("margin", "Margin", "money"),
            Column("margin_pct", "Margin %", "percent"),
        ],
        rows=rows,
        currency=sc.currency,
        totals={"sku": "Total", "name": "", **totals},
        chart=Chart("hbar", "name", (("margin", "Margin"),), rows=rows[:15]),
        notes=["Goods without a recorded cost (never received at a cost) count at zero cost."],
    )


# --- fulfilment -------------------------------------------------------------------------------

_DISPATCH_JOINS = (
    "LEFT JOIN channel c ON c.id = o.channel_id "
    "LEFT JOIN (SELECT order_id, MIN(shipped_at) AS at FROM shipment GROUP BY order_id) fs "
    "ON fs.order_id = o.id "
    "LEFT JOIN (SELECT order_id, MIN(at) AS at FROM order_transition WHERE machine = 'status' "
    "AND to_state = 'ready_for_pickup' GROUP BY order_id) rp ON rp.order_id = o.id"
)
_DISPATCHED = "COALESCE(fs.at, rp.at)"
_WAITING = "('pending', 'confirmed', 'processing', 'partially_fulfilled', 'fulfilled')"
BUCKETS = ("under 24 h", "24–48 h", "48–72 h", "over 72 h", "not yet")


def fulfilment(
    period: Period,
    *,
    stores: Sequence[Store] | None = None,
    late_after_hours: int = DEFAULT_LATE_AFTER_HOURS,
    now: datetime | None = None,
) -> Report:
    """Online and phone orders placed in the period, per channel: how long from order to
    dispatch (first shipment, or ready for pickup), how many were late (dispatched after
    `late_after_hours`, or still waiting longer than that), and the return rate (units
    returned of units sold, every channel)."""
    if not 1 <= late_after_hours <= 24 * 60:
        raise ReportError("late_after_hours", f"{late_after_hours} is not within 1..1440 hours")
    sc = scope(period, stores)
    now = now or utcnow()
    q = _Sql()
    hours = q.hours(_DISPATCHED, "o.placed_at")
    waited = q.hours(q.param(_naive(now)), "o.placed_at")
    limit = float(late_after_hours)
    late = (
        f"CASE WHEN ({_DISPATCHED} IS NOT NULL AND {hours} > {limit}) OR "
        f"({_DISPATCHED} IS NULL AND o.status IN {_WAITING} AND {waited} > {limit}) "
        "THEN 1 ELSE 0 END"
    )
    where = q.in_period(sc, "o.store_id", "o.placed_at")
    raw = q.run(
        f"SELECT o.kind, c.code, COUNT(*), "
        f"SUM(CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END), "
        f"COUNT({_DISPATCHED}), AVG({hours}), MAX({hours}), SUM({late}) "
        f'FROM "order" o {_DISPATCH_JOINS} '
        f"WHERE o.kind IN ('online', 'phone') AND {where} GROUP BY o.kind, c.code"
    )
    per: dict[tuple, dict] = {}
    for kind, code, n, cancelled, dispatched, avg_h, max_h, n_late in raw:
        per[(kind, code)] = {
            "channel": channel_label(kind, code),
            "orders": _int(n),
            "cancelled": _int(cancelled),
            "dispatched": _int(dispatched),
            "avg_hours": float(avg_h) if avg_h is not None else None,
            "max_hours": float(max_h) if max_h is not None else None,
            "late": _int(n_late),
        }
    q = _Sql()
    where = q.in_period(sc, "o.store_id", "o.booked_at")
    for kind, code, sold, returned in q.run(
        f"SELECT o.kind, c.code, SUM(ol.qty), SUM(ol.returned_qty) FROM order_line ol "
        f'JOIN "order" o ON o.id = ol.order_id LEFT JOIN channel c ON c.id = o.channel_id '
        f"WHERE {BOOKED} AND {where} GROUP BY o.kind, c.code"
    ):
        row = per.setdefault(
            (kind, code),
            {
                "channel": channel_label(kind, code),
                "orders": None,
                "cancelled": None,
                "dispatched": None,
                "avg_hours": None,
                "max_hours": None,
                "late": None,
            },
        )
        row["units_sold"] = _int(sold)
        row["units_returned"] = _int(returned)
        row["return_rate"] = 100.0 * _int(returned) / _int(sold) if _int(sold) else 0.0
    rows = sorted(per.values(), key=lambda r: r["channel"])
    for r in rows:
        r.setdefault("units_sold", 0)
        r.setdefault("units_returned", 0)
        r.setdefault("return_rate", 0.0)
        if r["orders"]:
            r["late_pct"] = 100.0 * r["late"] / r["orders"]
        else:
            r["late_pct"] = None

    q = _Sql()
    hours = q.hours(_DISPATCHED, "o.placed_at")
    bucket = (
        f"CASE WHEN {_DISPATCHED} IS NULL THEN 4 WHEN {hours} < 24 THEN 0 "
        f"WHEN {hours} < 48 THEN 1 WHEN {hours} < 72 THEN 2 ELSE 3 END"
    )
    where = q.in_period(sc, "o.store_id", "o.placed_at")
    counts = dict(
        q.run(
            f'SELECT {bucket}, COUNT(*) FROM "order" o {_DISPATCH_JOINS} '
            f"WHERE o.kind IN ('online', 'phone') AND o.status <> 'cancelled' AND {where} "
            "GROUP BY 1"
        )
    )
    histogram = [
        {"bucket": label, "orders": _int(counts.get(i))} for i, label in enumerate(BUCKETS)
    ]
    return Report(
        name="fulfilment",
        title="Fulfilment performance",
        columns=[
            Column("channel", "Channel"),
            Column("orders", "Orders", "int"),
            Column("cancelled", "Cancelled", "int"),
            Column("dispatched", "Dispatched", "int"),
            Column("avg_hours", "Avg. hours to dispatch", "hours"),
            Column("max_hours", "Longest (h)", "hours"),
            Column("late", f"Late (> {late_after_hours} h)", "int"),
            Column("late_pct", "Late %", "percent"),
            Column("units_sold", "Units sold", "int"),
            Column("units_returned", "Units returned", "int"),
            Column("return_rate", "Return rate", "percent"),
        ],
        rows=rows,
        currency=sc.currency,
        chart=Chart("bar", "bucket", (("orders", "Orders"),), value_kind="int", rows=histogram),
        notes=[
            "Dispatch: the first shipment, or ready for pickup. Late: dispatched after the "
            "limit, or still waiting longer than it.",
            "Chart: online and phone orders by time from order to dispatch.",
        ],
        extra={"late_after_hours": late_after_hours},
    )


def late_orders(
    *,
    stores: Sequence[Store] | None = None,
    late_after_hours: int = DEFAULT_LATE_AFTER_HOURS,
    now: datetime | None = None,
    limit: int = 100,
) -> list[dict]:
    """Online and phone orders still waiting for dispatch longer than the limit, oldest first."""
    sc = scope(None, stores)
    now = now or utcnow()
    q = _Sql()
    cutoff = q.param(_naive(now - timedelta(hours=late_after_hours)))
    where = q.in_stores(sc, "o.store_id")
    raw = q.run(
        f'SELECT o.id, o.number, o.kind, o.status, o.placed_at, o.customer_name FROM "order" o '
        f"{_DISPATCH_JOINS} WHERE o.kind IN ('online', 'phone') AND o.status IN {_WAITING} "
        f"AND {_DISPATCHED} IS NULL AND o.placed_at < {cutoff} AND {where} "
        f"ORDER BY o.placed_at LIMIT {int(limit)}"
    )
    out = []
    for oid, number, kind, status, placed, name in raw:
        if isinstance(placed, str):
            placed = datetime.fromisoformat(placed)
        placed = placed.replace(tzinfo=UTC) if placed.tzinfo is None else placed
        out.append(
            {
                "id": oid,
                "number": number,
                "kind": kind,
                "status": status,
                "placed_at": placed,
                "customer_name": name,
                "waiting_hours": (now - placed).total_seconds() / 3600,
            }
        )
    return out


# --- the catalogue of reports -----------------------------------------------------------------


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str
    build: Callable[..., Report]
    periodic: bool = True  # takes a period
    owner_only: bool = False
    grains: bool = False


KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind("sales", "Sales by day / week / month", sales, grains=True),
        ReportKind("trends", "Trends vs previous period", trends),
        ReportKind("channels", "Sales by channel", by_channel),
        ReportKind("stores", "Sales by store", by_store),
        ReportKind("products", "Sales by product", by_product),
        ReportKind("categories", "Sales by category", by_category),
        ReportKind("cashiers", "Sales by cashier", by_cashier),
        ReportKind("best-sellers", "Best sellers", best_sellers),
        ReportKind("tax", "Tax summary", tax_summary),
        ReportKind("tenders", "Tenders", tenders),
        ReportKind("stock-value", "Stock value", stock_value, periodic=False, owner_only=True),
        ReportKind("margins", "Margins", margins, owner_only=True),
        ReportKind("fulfilment", "Fulfilment performance", fulfilment),
    )
}
