"""Report aggregates on both backends, checked against the same figures computed in Python
from the stored rows (a different path from the SQL under test)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from orders_factory import (
    make_channel,
    make_product,
    make_store,
    make_terminal,
    refund_event,
    sale_event,
)

from cloud_oms import catalog, db, orders, reports, stock
from cloud_oms.models.core import Category, Product, Store
from cloud_oms.models.orders import (
    Order,
    OrderLine,
    OrderTransition,
    Payment,
    Return,
    ReturnLine,
    Shipment,
)
from retail.ids import to_local

ACTOR = "user:ani@toko.id"
PERIOD = reports.Period(date(2026, 3, 1), date(2026, 3, 7))
NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def book(store, term, event):
    with db.atomic():
        return orders.book_store_sale(store, term, event.payload, event)


def phone_order(store, items, *, placed, email=None, delivery="ship", kind="phone", channel=None):
    spec = orders.OrderSpec(
        kind=kind,
        store=store,
        channel=channel,
        external_id=f"W{placed:%d%H%M}" if channel else None,
        lines=[orders.LineSpec(sku=p.sku, qty=q) for p, q in items],
        customer_name="Budi",
        phone="0812 1111 2222",
        email=email,
        delivery=delivery,
        placed_at=placed,
        shipping_total=10_000 if delivery == "ship" else 0,
        shipping_tax=991 if delivery == "ship" else 0,
    )
    return orders.create_order(spec, ACTOR, "backorder")


def confirm_at(order, moment):
    orders.confirm(order, ACTOR)
    Order.update(booked_at=moment).where(Order.id == order.id).execute()
    return orders.get_order(order.id)


@pytest.fixture
def shop(oms_db):
    """Two stores an hour apart (WIB, WITA), till sales across local midnight, phone and
    online orders shipped, picked up, returned, cancelled and left waiting."""
    jkt = make_store("JKT1", "Toko Jakarta")
    mks = make_store("MKS1", "Toko Makassar", tz="Asia/Makassar")
    catalog.save_category("Minuman")
    catalog.save_category("Roti")
    kopi = catalog.save_product(
        sku="KOPI", name="Kopi", price=45_000, tax_code="PPN", category="Minuman"
    )
    roti = catalog.save_product(
        sku="ROTI", name="Roti", price=15_000, tax_code="PPN", category="Roti"
    )
    teh = make_product("TEH", 10_000, name="Teh")
    supplier = stock.create_supplier("CV Nusantara")
    po = stock.create_purchase_order(jkt, supplier, [(kopi, 10, 30_000), (roti, 20, 9_000)], ACTOR)
    stock.receive(po, ACTOR)
    stock.adjust(mks, teh, 5, "opening", ACTOR, unit_cost=6_000)

    t1 = make_terminal(jkt)
    t2 = make_terminal(mks)
    # 18:30 UTC on 1 March is 01:30 on 2 March in Jakarta.
    book(jkt, t1, sale_event(t1, [(kopi, 2)], receipt_no="T01-000001", occurred_at=at(1, 18, 30)))
    s2 = sale_event(
        t1,
        [(roti, 3), ({"sku": "X-1", "name": "Mystery", "price": 5_000}, 1)],
        receipt_no="T01-000002",
        seq=2,
        tender="card",
        occurred_at=at(2, 3),
    )
    book(jkt, t1, s2)
    # 16:30 UTC on 1 March: 23:30 in Jakarta but 00:30 on 2 March in Makassar.
    book(mks, t2, sale_event(t2, [(teh, 1)], receipt_no="T01-000001", occurred_at=at(1, 16, 30)))
    refund = refund_event(s2, [(1, 1, True)], receipt_no="T01-R00001", seq=3)
    refund = refund.model_copy(update={"occurred_at": at(4, 5)})
    with db.atomic():
        orders.book_store_refund(jkt, t1, refund.payload, refund)

    shipped = phone_order(jkt, [(kopi, 1)], placed=at(3, 2), email="budi@example.com")
    shipped = confirm_at(shipped, at(3, 3))
    orders.add_payment(shipped, orders.PaymentSpec("bank_transfer"), ACTOR)
    orders.fulfil(shipped, None, ACTOR)
    orders.ship(shipped, "JNE", "JNE1", ACTOR)
    Shipment.update(shipped_at=at(4, 8)).where(Shipment.order == shipped.id).execute()  # 30 h
    orders.deliver(shipped, ACTOR)
    line = OrderLine.get(OrderLine.order == shipped.id)
    ret = orders.create_return(shipped, [(line.id, 1, "restock")], ACTOR, reason="rusak")
    Return.update(created_at=at(5, 9)).where(Return.id == ret.id).execute()
    Payment.update(at=at(5, 9)).where(
        (Payment.order == shipped.id) & (Payment.kind == "refund")
    ).execute()
    Payment.update(at=at(3, 4)).where(
        (Payment.order == shipped.id) & (Payment.kind == "payment")
    ).execute()

    pickup = phone_order(jkt, [(roti, 2)], placed=at(4, 1), delivery="pickup")
    pickup = confirm_at(pickup, at(4, 1))
    orders.fulfil(pickup, None, ACTOR)
    orders.ready_for_pickup(pickup, ACTOR)
    OrderTransition.update(at=at(4, 6)).where(
        (OrderTransition.order == pickup.id) & (OrderTransition.to_state == "ready_for_pickup")
    ).execute()  # 5 h

    cancelled = phone_order(jkt, [(kopi, 1)], placed=at(5, 1))
    cancelled = confirm_at(cancelled, at(5, 2))
    orders.cancel(cancelled, ACTOR, "customer changed mind")

    waiting = phone_order(jkt, [(roti, 1)], placed=at(6, 1))  # never confirmed: not booked

    channel, _ = make_channel(jkt, "shop")
    online = phone_order(jkt, [(roti, 1)], placed=at(6, 3), kind="online", channel=channel)
    online = confirm_at(online, at(6, 4))
    # Outside the period: must not count.
    book(jkt, t1, sale_event(t1, [(kopi, 1)], receipt_no="T01-000003", seq=4, occurred_at=at(8, 1)))
    return {
        "jkt": jkt,
        "mks": mks,
        "kopi": kopi,
        "roti": roti,
        "teh": teh,
        "shipped": shipped,
        "pickup": pickup,
        "cancelled": cancelled,
        "waiting": waiting,
        "online": online,
    }


def _local_day(order_or_time, store_id):
    store = Store.get_by_id(store_id)
    return to_local(order_or_time, store.tz).date()


def expected_daily() -> dict[date, dict]:
    """Sales and returns per local day, from the rows in Python."""
    days: dict[date, dict] = defaultdict(lambda: defaultdict(int))
    for o in Order.select().where(Order.booked_at.is_null(False) & (Order.status != "cancelled")):
        day = _local_day(o.booked_at, o.store_id)
        if PERIOD.since <= day <= PERIOD.until:
            days[day]["orders"] += 1
            days[day]["sales"] += o.total
            days[day]["tax"] += o.tax_total
            days[day]["discounts"] += o.discount_total
    for r in Return.select():
        order = Order.get_by_id(r.order_id)
        day = _local_day(r.created_at, order.store_id)
        if PERIOD.since <= day <= PERIOD.until:
            days[day]["returns"] += r.amount
    return days


def test_sales_per_local_day_week_and_month(shop):
    daily = expected_daily()
    report = reports.sales(PERIOD, grain="day")
    assert [r["period"] for r in report.rows] == [d.isoformat() for d in PERIOD.dates()]
    for row in report.rows:
        want = daily.get(date.fromisoformat(row["period"]), {})
        for key in ("orders", "sales", "tax", "discounts", "returns"):
            assert row[key] == want.get(key, 0), (row["period"], key)
        assert row["net_sales"] == row["sales"] - row["returns"]
        assert row["net_of_tax"] == row["sales"] - row["tax"]
    # The Jakarta sale at 18:30 UTC and the Makassar sale at 16:30 UTC both fall on 2 March.
    by_day = {r["period"]: r for r in report.rows}
    assert by_day["2026-03-01"]["orders"] == 0
    assert by_day["2026-03-02"]["orders"] == 3
    assert by_day["2026-03-05"]["returns"] > 0 and by_day["2026-03-05"]["orders"] == 0

    total_sales = sum(v["sales"] for v in daily.values())
    assert report.totals["sales"] == total_sales
    for grain in ("week", "month"):
        rolled = reports.sales(PERIOD, grain=grain)
        assert rolled.totals == {**report.totals}
    weeks = reports.sales(PERIOD, grain="week")
    assert [r["period"] for r in weeks.rows] == ["2026-W09 (2026-02-23)", "2026-W10 (2026-03-02)"]
    assert reports.sales(PERIOD, grain="month").rows[0]["period"] == "2026-03"

    only_mks = reports.sales(PERIOD, stores=[shop["mks"]])
    assert only_mks.totals["orders"] == 1 and only_mks.totals["sales"] == 10_000

    rows = list(csv.DictReader(io.StringIO(report.csv())))
    assert sum(int(r["sales"]) for r in rows) == total_sales
    assert rows[0].keys() >= {"period", "orders", "sales", "net_sales", "currency"}
    assert {r["currency"] for r in rows} == {"IDR"}


def test_channels_stores_products_categories_cashiers(shop):
    daily = expected_daily()
    total_sales = sum(v["sales"] for v in daily.values())
    total_returns = sum(v["returns"] for v in daily.values())

    channels = reports.by_channel(PERIOD)
    assert {r["channel"]: r["orders"] for r in channels.rows} == {
        "Store (tills)": 3,
        "Phone": 2,
        "Online: shop": 1,
    }
    assert channels.totals["sales"] == total_sales
    assert channels.totals["returns"] == total_returns
    assert sum(r["share"] for r in channels.rows) == pytest.approx(100.0)

    stores = reports.by_store(PERIOD)
    assert {r["store"]: r["orders"] for r in stores.rows} == {"JKT1": 5, "MKS1": 1}
    assert stores.totals["net_sales"] == total_sales - total_returns

    products = reports.by_product(PERIOD)
    by_sku = {r["sku"]: r for r in products.rows}
    assert by_sku["ROTI"]["qty"] == 3 + 2 + 1 and by_sku["ROTI"]["returned_qty"] == 1
    assert by_sku["KOPI"]["qty"] == 2 + 1 and by_sku["KOPI"]["returned_qty"] == 1
    assert by_sku["X-1"]["matched"] is False and by_sku["X-1"]["name"] == "Mystery"
    lines_total = sum(
        ln.total for ln in OrderLine.select().join(Order).where(Order.id.in_(_booked_ids()))
    )
    assert products.totals["sales"] == lines_total
    returned_lines = sum(rl.amount for rl in ReturnLine.select())
    assert products.totals["returns"] == returned_lines

    categories = reports.by_category(PERIOD)
    assert {r["category"] for r in categories.rows} == {"Minuman", "Roti", "(none)"}
    assert categories.totals["sales"] == lines_total

    cashiers = reports.by_cashier(PERIOD)
    assert {(r["cashier"], r["where"]): r["orders"] for r in cashiers.rows} == {
        ("Sari", "till"): 3,
        ("ani@toko.id", "phone"): 2,
    }

    best = reports.best_sellers(PERIOD, limit=2)
    assert [r["sku"] for r in best.rows] == ["ROTI", "KOPI"]
    assert best.rows[0]["kept"] == 5 and best.rows[0]["rank"] == 1

    # Mapping the unmatched line makes it count under the product.
    line = OrderLine.get(OrderLine.sku == "X-1")
    orders.map_line(orders.get_order(line.order_id), line.id, shop["teh"], ACTOR)
    after = {r["sku"]: r for r in reports.by_product(PERIOD).rows}
    assert "X-1" not in after and after["TEH"]["qty"] == 1 + 1


def _booked_ids() -> list[str]:
    ids = []
    for o in Order.select().where(Order.booked_at.is_null(False) & (Order.status != "cancelled")):
        if PERIOD.since <= _local_day(o.booked_at, o.store_id) <= PERIOD.until:
            ids.append(o.id)
    return ids


def test_trends_tax_and_tenders(shop):
    trend = reports.trends(PERIOD)
    rows = {r["metric"]: r for r in trend.rows}
    daily = expected_daily()
    assert rows["Sales"]["current"] == sum(v["sales"] for v in daily.values())
    assert rows["Sales"]["previous"] == 0 and rows["Sales"]["change_pct"] is None
    assert rows["Orders"]["current"] == 6
    assert len(trend.chart.rows) == PERIOD.days
    later = reports.trends(reports.Period(date(2026, 3, 8), date(2026, 3, 14)))
    later_rows = {r["metric"]: r for r in later.rows}
    assert later_rows["Sales"]["previous"] == rows["Sales"]["current"]
    assert later_rows["Orders"]["current"] == 1
    assert later_rows["Orders"]["change_pct"] == pytest.approx(100.0 * (1 - 6) / 6)

    tax = reports.tax_summary(PERIOD)
    booked = Order.select().where(Order.id.in_(_booked_ids()))
    assert tax.totals["tax"] == sum(o.tax_total for o in booked)
    assert tax.totals["returns_tax"] == sum(r.tax_amount for r in Return.select())
    ppn = next(r for r in tax.rows if r["tax_code"] == "PPN")
    assert ppn["rate"] == "12% on 11/12"
    assert (
        next(r for r in tax.rows if r["tax_code"] == "shipping")["tax"] == 2 * 991
    )  # shipped and online

    tenders = {r["method"]: r for r in reports.tenders(PERIOD).rows}
    payments = Payment.select().join(Order).where(Order.kind != "x")
    for method in ("cash", "card", "bank_transfer"):
        taken = sum(
            p.amount
            for p in payments
            if p.method == method
            and p.kind == "payment"
            and PERIOD.since <= _local_day(p.at, p.order.store_id) <= PERIOD.until
        )
        assert tenders[method]["taken"] == taken
    assert tenders["bank_transfer"]["refunded"] > 0
    assert tenders["card"]["refunded"] > 0


def test_stock_value_and_margins_match_the_stock_service(shop):
    value = reports.stock_value()
    per_store = defaultdict(int)
    for row in value.rows:
        per_store[row["store"]] += row["cost_value"]
    assert per_store["JKT1"] == stock.stock_value(shop["jkt"])
    assert per_store["MKS1"] == stock.stock_value(shop["mks"])
    kopi_row = next(r for r in value.rows if r["store"] == "JKT1" and r["category"] == "Minuman")
    on_hand = stock.levels(shop["jkt"])
    kopi_level = next(r for r in on_hand if r.sku == "KOPI")
    assert kopi_row["retail_value"] == kopi_level.on_hand * 45_000

    for store in (shop["jkt"], shop["mks"]):
        start = datetime(2026, 2, 28, 17, tzinfo=UTC) if store.tz == "Asia/Jakarta" else None
        start = start or datetime(2026, 2, 28, 16, tzinfo=UTC)
        end = start + timedelta(days=7)
        want = stock.margins(store, start, end)
        got = reports.margins(PERIOD, stores=[store]).rows
        assert (
            sorted(
                (
                    {k: r[k] for k in ("product_id", "sku", "qty", "revenue", "cost", "margin")}
                    for r in got
                ),
                key=lambda r: r["sku"],
            )
            == want
        )
    assert reports.margins(PERIOD).totals["cost"] > 0


def test_fulfilment_times_late_orders_and_return_rate(shop):
    report = reports.fulfilment(PERIOD, late_after_hours=24, now=NOW)
    rows = {r["channel"]: r for r in report.rows}
    phone = rows["Phone"]
    # shipped (30 h: late), pickup (5 h), cancelled, waiting (since 6 March: late)
    assert phone["orders"] == 4 and phone["cancelled"] == 1 and phone["dispatched"] == 2
    assert phone["avg_hours"] == pytest.approx((30 + 5) / 2, abs=0.01)
    assert phone["max_hours"] == pytest.approx(30, abs=0.01)
    assert phone["late"] == 2
    assert rows["Online: shop"]["late"] == 1  # confirmed 6 March, never dispatched
    assert phone["units_sold"] == 1 + 2 and phone["units_returned"] == 1
    assert rows["Store (tills)"]["return_rate"] == pytest.approx(100.0 * 1 / 7)
    histogram = {r["bucket"]: r["orders"] for r in report.chart.rows}
    assert histogram == {"under 24 h": 1, "24–48 h": 1, "48–72 h": 0, "over 72 h": 0, "not yet": 2}

    late = reports.late_orders(late_after_hours=24, now=NOW)
    assert [o["number"] for o in late] == [shop["waiting"].number, shop["online"].number]
    assert late[0]["waiting_hours"] == pytest.approx((NOW - at(6, 1)).total_seconds() / 3600)
    lenient = reports.fulfilment(PERIOD, late_after_hours=100, now=NOW)
    assert {r["channel"]: r["late"] for r in lenient.rows if r["orders"]}["Phone"] == 0


def test_days_follow_a_zone_with_daylight_saving(oms_db):
    """A store in Europe/Berlin: the offset changes on 29 March 2026 (+1 → +2)."""
    store = make_store("BER1", "Berlin", tz="Europe/Berlin")
    kopi = make_product("KOPI", 45_000)
    term = make_terminal(store)
    # 22:30 UTC on 29 March is 00:30 on 30 March in summer time (but 23:30 in winter time).
    book(
        store,
        term,
        sale_event(term, [(kopi, 1)], occurred_at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),
    )
    # 23:30 UTC on 27 March is 00:30 on 28 March in winter time.
    book(
        store,
        term,
        sale_event(
            term,
            [(kopi, 1)],
            receipt_no="T01-000002",
            seq=2,
            occurred_at=datetime(2026, 3, 27, 23, 30, tzinfo=UTC),
        ),
    )
    period = reports.Period(date(2026, 3, 27), date(2026, 3, 31))
    segments = reports.offset_segments("Europe/Berlin", *reports.scope(period).bounds(store))
    assert [s[2] for s in segments] == [3600, 7200]
    assert segments[0][1] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    days = {r["period"]: r["orders"] for r in reports.sales(period).rows}
    assert days == {
        "2026-03-27": 0,
        "2026-03-28": 1,
        "2026-03-29": 0,
        "2026-03-30": 1,
        "2026-03-31": 0,
    }


def test_bad_requests_name_the_parameter(oms_db):
    with pytest.raises(reports.ReportError, match="until 2026-03-01 is before since"):
        reports.Period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(reports.ReportError, match="until: a report covers at most"):
        reports.Period(date(2000, 1, 1), date(2026, 3, 1))
    make_store("JKT1")
    with pytest.raises(reports.ReportError, match="grain: grain 'hour' is not one of"):
        reports.sales(PERIOD, grain="hour")
    with pytest.raises(reports.ReportError, match="limit: limit 0"):
        reports.best_sellers(PERIOD, limit=0)
    with pytest.raises(reports.ReportError, match="late_after_hours"):
        reports.fulfilment(PERIOD, late_after_hours=0)
    Store.create(
        code="SGP1", name="Singapore", tz="Asia/Singapore", currency="SGD", currency_exponent=2
    )
    with pytest.raises(
        reports.ReportError, match=r"store: the stores use different currencies \(IDR, SGD\)"
    ):
        reports.sales(PERIOD)
    assert reports.sales(PERIOD, stores=[Store.get(Store.code == "SGP1")]).currency.code == "SGD"
    assert Category.select().count() == 0 and Product.select().count() == 0
