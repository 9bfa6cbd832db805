"""The pages' own helpers in process: SVG charts, e-mail templates, transfers, user rules and
the chunked catalog import (line numbers of a failure in a later chunk)."""

from __future__ import annotations

import pytest

from cloud_oms import admin, catalog, notifications, orders, stock
from cloud_oms.models.core import Product, User
from cloud_oms.models.orders import Notification
from cloud_oms.models.stock import StockLevel
from cloud_oms.web import charts, notify_templates, services

ACTOR = "user:ani@toko.example"


def test_charts_scale_escape_and_handle_no_data():
    assert charts.nice_ticks(325_500) == [0, 100_000, 200_000, 300_000, 400_000]
    assert charts.nice_ticks(2, integer=True) == [0, 1, 2]
    assert charts.short(1_250_000) == "1.2 jt" and charts.short(250_000) == "250 rb"
    svg = charts.bar_chart(["<b>Senin</b>", "Selasa"], [("Sales", [120_000, 95_000])], fmt=str)
    assert svg.startswith('<svg class="chart"') and "&lt;b&gt;Senin&lt;/b&gt;" in svg
    assert "<b>" not in svg and svg.count("<rect") == 2
    assert "<title>Selasa — Sales: 95000</title>" in svg
    assert "No data for this period" in charts.bar_chart(["a"], [("s", [0])])
    assert "No data for this period" in charts.hbar_chart([], [])
    negative = charts.hbar_chart(["up", "down"], [10, -5], fmt=str)
    assert charts.PALETTE[3] in negative  # a loss is drawn in red
    two = charts.line_chart(["1", "2", "3"], [("now", [1, 2, 3]), ("before", [3, 2, 1])])
    assert two.count("<polyline") == 2 and 'stroke-dasharray="5 4"' in two


def _shop():
    store = admin.add_store("JKT1", "Toko Jakarta")
    other = admin.add_store("BDG1", "Toko Bandung")
    kopi = catalog.save_product(sku="KOPI", name="Kopi", price=45_000, tax_code="PPN")
    return store, other, kopi


def test_templates_refuse_typos_and_replace_only_new_mail(web_db):
    with pytest.raises(
        notify_templates.TemplateError, match=r"body: unknown placeholder \{\{ nomer \}\}"
    ):
        notify_templates.save("shipped", "ok", "Resi {{ nomer }}")
    with pytest.raises(
        notify_templates.TemplateError, match=r"subject: a '\{\{' or '\}\}' does not form"
    ):
        notify_templates.save("shipped", "Resi {{ number }", "ok")
    with pytest.raises(
        notify_templates.TemplateError, match="subject: the subject must be one line"
    ):
        notify_templates.save("shipped", "a\nb", "ok")
    with pytest.raises(notify_templates.TemplateError, match="event: unknown notification event"):
        notify_templates.save("lost", "a", "b")
    assert notify_templates.render_text("{{number}} / {{ carrier }}", {"number": "W1"}) == "W1 / "

    store, _, kopi = _shop()
    stock.adjust(store, kopi, 5, "opening", ACTOR)
    notifications.add_webhook("http://127.0.0.1:9/hook", "s" * 16)
    spec = orders.OrderSpec(
        kind="phone", store=store, lines=[orders.LineSpec(sku="KOPI", qty=1)],
        customer_name="Sinta", email="sinta@example.com",
    )  # fmt: skip
    order = orders.create_order(spec, ACTOR)
    orders.confirm(order, ACTOR)  # queued with the built-in wording
    notify_templates.save("confirmed", "Terima kasih, {{ customer_name }}", "Total {{ total }}")
    assert notify_templates.render_email(order, store, "shipped", "u") is None
    before = notify_templates.queued_ids(order)
    assert notify_templates.apply_to_new(order.id, before) == 0  # the old e-mail stays as sent
    mail = Notification.get((Notification.order == order.id) & (Notification.transport == "email"))
    assert mail.subject.startswith(f"Pesanan {order.number} sudah kami terima")
    assert notify_templates.apply_to_new(order.id, set()) == 1  # (as if it were new)
    mail = Notification.get_by_id(mail.id)
    assert (mail.subject, mail.body) == ("Terima kasih, Sinta", "Total Rp45.000")
    hook = Notification.get(
        (Notification.order == order.id) & (Notification.transport == "webhook")
    )
    assert hook.body.startswith('{"event":"order.confirmed"')  # webhooks are never rewritten
    notify_templates.reset("confirmed")
    assert notify_templates.template("confirmed")["custom"] is False
    subject, body = notify_templates.preview("refunded", "{{ amount }}", "{{ tracking_url }}")
    assert subject == "Rp50.000" and "/t/" in body


def test_transfers_check_their_input_and_carry_the_cost(web_db):
    store, other, kopi = _shop()
    stock.adjust(store, kopi, 6, "opening", ACTOR, unit_cost=30_000)
    for args, message in (
        ((store, store, kopi, 1, "x"), "to_store: a transfer goes to another store"),
        ((store, other, kopi, 0, "x"), "qty: quantity 0 must be at least 1"),
        ((store, other, kopi, 1, " "), "reason: a transfer needs a reason"),
        ((store, other, kopi, 7, "x"), "qty: JKT1 has 6 of KOPI available, 7 asked"),
    ):
        with pytest.raises(services.ServiceError, match=message):
            services.transfer(*args, ACTOR)
    out, into = services.transfer(store, other, kopi, 4, "restock", ACTOR)
    assert (out.qty, out.cause, into.qty, into.cause) == (-4, "transfer_out", 4, "transfer_in")
    there = StockLevel.get((StockLevel.store == other.id) & (StockLevel.product == kopi.id))
    assert there.on_hand == 4 and there.avg_cost == 30_000


def test_user_rules_keep_an_owner_and_end_sessions(web_db):
    _shop()
    ani = admin.create_user("ani@toko.example", "password-123", role="owner")
    budi = admin.create_user("budi@toko.example", "password-123", role="staff")
    with pytest.raises(
        services.ServiceError, match=r"role: ani@toko\.example is the last active owner"
    ):
        services.update_user(ani, name="", role="staff", store_code=None, active=True, by=ani)
    with pytest.raises(services.ServiceError, match="active: you cannot disable your own account"):
        services.update_user(budi, name="", role="staff", store_code=None, active=False, by=budi)
    with pytest.raises(services.ServiceError, match="store: no store 'XXX'"):
        services.update_user(budi, name="", role="staff", store_code="XXX", active=True, by=ani)
    services.update_user(budi, name="Budi", role="staff", store_code="BDG1", active=False, by=ani)
    budi = User.get_by_id(budi.id)
    assert not budi.active and budi.token_generation == 1 and budi.name == "Budi"
    with pytest.raises(services.ServiceError, match="password: password must be at least 8"):
        services.set_password(budi, "short")


def test_a_chunked_import_reports_a_late_failure_on_its_own_line(web_db):
    store, _, kopi = _shop()
    catalog.save_product(
        sku="OLD", name="Old", price=1, tax_code="PPN", barcodes=[("8991234500010", 1)]
    )
    rows = [f"N-{i:03d},Barang {i},1.000," for i in range(150)]
    rows[138] = "N-138,Barang 138,1.000,8991234500010"  # held by OLD: found only when written
    text = "sku,name,price,barcode\n\n" + "\n".join(rows) + "\n"
    assert services.check_import(text, store) == []
    job = services.start_import(text, store, ACTOR)
    assert job["total"] == 150
    job = services.import_step(job["id"])
    assert (job["status"], job["done"], job["created"]) == ("running", 100, 100)
    job = services.import_step(job["id"])
    assert job["status"] == "failed" and job["done"] == 100
    # Line 141 of the file: header, a blank line, then row 139.
    assert job["errors"] == [
        "line 141, barcode: barcode 8991234500010 belongs to sku OLD, not N-138"
    ]
    assert Product.select().where(Product.sku.startswith("N-")).count() == 100
    assert services.import_job(job["id"])["text"] == ""  # the file is not kept
    with pytest.raises(services.ServiceError, match="file: 1 problem"):
        services.start_import("sku,name,price\nA,,1\n", store, ACTOR)
    assert kopi.sku == "KOPI"
