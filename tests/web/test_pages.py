"""The back-office pages in the browser: catalog import with progress and errors, stock
adjustments and transfers, purchase orders sent and received in part, unmatched lines mapped,
the fleet, the owner's admin pages, pickup orders, returns, a refused stale action, every report,
and every main page on a phone without sideways scrolling."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from orders_factory import sale_event
from playwright.sync_api import expect
from web_helpers import OWNER, shot, sign_in

from cloud_oms import db, orders
from cloud_oms.models.core import Product, Store, SyncEvent, Terminal, User
from cloud_oms.models.orders import Order, OrderLine
from cloud_oms.models.stock import StockLevel
from cloud_oms.reports import KINDS
from retail.ids import utcnow

ACTOR = "user:" + OWNER


def level(web, store_code: str, sku: str) -> StockLevel | None:
    with web.bind():
        store = Store.get(Store.code == store_code)
        product = Product.get(Product.sku == sku)
        return StockLevel.get_or_none(
            (StockLevel.store == store.id) & (StockLevel.product == product.id)
        )


def till_sale(web, items, receipt_no: str, store_code: str = "JKT1", code: str = "T05"):
    with web.bind():
        store = Store.get(Store.code == store_code)
        terminal = Terminal.get_or_none((Terminal.store == store.id) & (Terminal.code == code))
        terminal = terminal or Terminal.create(store=store.id, code=code, name=f"Till {code}")
        event = sale_event(terminal, items, receipt_no=receipt_no)
        with db.atomic():
            return orders.book_store_sale(store, terminal, event.payload, event)


def test_catalog_import_reports_every_bad_row_then_imports_with_progress(web, page):
    sign_in(page, web.url)
    page.goto(web.url + "/catalog/import")
    bad = "sku,name,price,barcode\nA-1,Apel,12.500,\nB-1,Beras,abc,\nA-1,Apel lagi,1.000,\nC-1,,5.000,\n"
    page.set_input_files(
        "input[name=file]", {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.click("button:has-text('Check and import')")
    report = page.locator("#import-errors")
    expect(report).to_contain_text("3 problems in bad.csv — nothing was imported")
    rows = report.locator("tbody tr, table tr:not(:first-child)")
    cells = [
        [c.strip() for c in row.split("\t")]
        for row in report.locator("table tr").all_inner_texts()[1:]
    ]
    assert cells == [
        ["3", "price", "amount 'abc' is not a number as written in id_ID"],
        ["4", "sku", "sku 'A-1' is already on line 2"],
        ["5", "name", "name is empty"],
    ]
    assert rows.count() >= 3
    shot(page, "catalog-import-errors")
    with web.bind():
        assert Product.get_or_none(Product.sku == "A-1") is None

    lines = ["sku,name,price,category,stock"]
    lines += [f"IMP-{i:04d},Barang {i},{1000 + i},Impor,{i % 7}" for i in range(300)]
    page.set_input_files(
        "input[name=file]",
        {"name": "good.csv", "mimeType": "text/csv", "buffer": ("\n".join(lines) + "\n").encode()},
    )
    page.select_option("select[name=store]", "JKT1")
    page.click("button:has-text('Check and import')")
    # The bar moves while the chunks commit (each chunk is one transaction).
    page.wait_for_function(
        "() => { const p = document.querySelector('progress');"
        " return p && p.value > 0 && p.value < p.max; }",
        polling="raf",
        timeout=30_000,
    )
    expect(page.locator(".progress-text")).to_contain_text("of 300 rows")
    expect(page.locator("#import-done")).to_contain_text(
        "Imported: 300 new, 0 updated, stock counted for 300", timeout=30_000
    )
    expect(page.locator("progress")).to_have_attribute("value", "300")
    shot(page, "catalog-import-done")
    with web.bind():
        assert Product.select().where(Product.sku.startswith("IMP-")).count() == 300
    assert level(web, "JKT1", "IMP-0299").on_hand == 299 % 7
    page.goto(web.url + "/catalog?q=IMP-000")
    expect(page.locator("table.list tbody tr")).to_have_count(10)
    shot(page, "catalog-products")


def test_stock_adjust_transfer_ledger_low_and_oversold(web, page):
    with web.bind():
        teh = Product.get(Product.sku == "TEH-1")
    sign_in(page, web.url)
    page.goto(f"{web.url}/stock/JKT1/{teh.id}")
    adjust = page.locator("form[action$='/adjust']")
    adjust.locator("input[name=qty]").fill("10")
    adjust.locator("input[name=reason]").fill("")
    adjust.locator("input[name=unit_cost]").fill("7000")
    adjust.locator("input[name=reason]").evaluate("e => e.removeAttribute('required')")
    adjust.locator("button").click()
    expect(page.locator(".flash.error")).to_contain_text("a stock adjustment needs a reason")
    adjust = page.locator("form[action$='/adjust']")
    adjust.locator("input[name=qty]").fill("10")
    adjust.locator("input[name=reason]").fill("delivery counted")
    adjust.locator("input[name=unit_cost]").fill("7000")
    adjust.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Stock adjusted")
    transfer = page.locator("form[action$='/transfer']")
    transfer.locator("select[name=to_store]").select_option("BDG1")
    transfer.locator("input[name=qty]").fill("11")
    transfer.locator("input[name=reason]").fill("Bandung ran out")
    transfer.locator("button").click()
    expect(page.locator(".flash.error")).to_contain_text("JKT1 has 10 of TEH-1 available, 11 asked")
    transfer = page.locator("form[action$='/transfer']")
    transfer.locator("select[name=to_store]").select_option("BDG1")
    transfer.locator("input[name=qty]").fill("5")
    transfer.locator("input[name=reason]").fill("Bandung ran out")
    transfer.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Transferred to BDG1")
    ledger = page.locator("table.list").last
    expect(ledger).to_contain_text("transfer out")
    expect(ledger).to_contain_text("to BDG1: Bandung ran out")
    expect(ledger).to_contain_text("adjustment")
    shot(page, "stock-ledger")
    assert level(web, "JKT1", "TEH-1").on_hand == 5
    bdg = level(web, "BDG1", "TEH-1")
    assert bdg.on_hand == 5 and bdg.avg_cost == 7000

    page.goto(web.url + "/stock/low")  # JKT1's threshold for TEH-1 is 5
    expect(page.locator("table.list")).to_contain_text("TEH-1")
    till_sale(web, [(teh, 7)], "T05-000001")  # the till sells what the OMS thinks is not there
    page.goto(web.url + "/stock/oversold")
    expect(page.locator("table.list").first).to_contain_text("TEH-1")
    expect(page.locator("table.list").last).to_contain_text("T05-000001")
    shot(page, "stock-oversold")
    page.goto(web.url + "/stock?store=JKT1&q=o")
    expect(page.locator("table.list")).to_contain_text("Kopi Toraja")
    shot(page, "stock-levels")


def test_purchase_order_sent_to_the_supplier_and_received_in_part(web, page, smtp):
    sign_in(page, web.url)
    page.goto(web.url + "/purchasing")
    supplier = page.locator("form[action='/purchasing/suppliers']")
    supplier.locator("input[name=name]").fill("CV Kopi Nusantara")
    supplier.locator("input[name=email]").fill("order@kopi-nusantara.example")
    supplier.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Supplier CV Kopi Nusantara added")
    page.goto(web.url + "/purchasing/orders/new")
    page.select_option("select[name=store]", "JKT1")
    page.select_option("select[name=supplier]", label="CV Kopi Nusantara")
    items = page.locator("input[name=item]")
    qtys = page.locator("input[name=qty]")
    costs = page.locator("input[name=unit_cost]")
    items.nth(0).fill("KOPI-250")
    qtys.nth(0).fill("10")
    costs.nth(0).fill("60000")
    items.nth(1).fill("8997777000017")  # by barcode
    qtys.nth(1).fill("24")
    costs.nth(1).fill("10000")
    page.click("button:has-text('Create purchase order')")
    expect(page.locator("h1")).to_contain_text("open")
    number = re.search(r"PO-JKT1-\d+", page.locator("h1").inner_text()).group(0)
    before = level(web, "JKT1", "KOPI-250")

    sent_before = len(smtp.messages)
    page.click("form[action$='/send'] button")
    expect(page.locator(".flash")).to_contain_text(f"Sent {number} to the supplier")
    expect(page.locator("h1")).to_contain_text("sent")
    mail = smtp.wait_for(sent_before + 1)[-1]
    assert mail["To"] == "order@kopi-nusantara.example"
    assert mail["Subject"] == f"Purchase order {number} — Toko Kopi Jakarta"
    parts = list(mail.iter_attachments())
    assert parts[0].get_filename() == f"{number}.csv"
    assert "KOPI-250,Kopi Toraja 250 g,10,60000" in parts[0].get_content()
    assert "10 x Kopi Toraja 250 g [KOPI-250] @ 60000" in mail.get_body().get_content()

    page.locator("tr", has_text="KOPI-250").locator("input.qty").fill("4")
    page.click("button:has-text('Receive into stock')")
    expect(page.locator(".flash")).to_contain_text("Received 4 unit(s) into stock")
    expect(page.locator("h1")).to_contain_text("partially received")
    shot(page, "purchase-order")
    after = level(web, "JKT1", "KOPI-250")
    assert after.on_hand == before.on_hand + 4
    held = max(before.on_hand, 0)
    expected_cost = (held * before.avg_cost + 4 * 60000 + (held + 4) // 2) // (held + 4)
    assert abs(after.avg_cost - expected_cost) <= 1
    too_many = page.locator("tr", has_text="KOPI-250").locator("input.qty")
    too_many.evaluate("e => e.removeAttribute('max')")  # what the browser would stop
    too_many.fill("7")
    page.click("button:has-text('Receive into stock')")
    expect(page.locator(".flash.error")).to_contain_text("received 7 but 6 outstanding")
    page.locator("tr", has_text="KOPI-250").locator("input.qty").fill("6")
    page.locator("tr", has_text="ROTI-1").locator("input.qty").fill("24")
    page.click("button:has-text('Receive into stock')")
    expect(page.locator("h1")).to_contain_text("received")
    page.goto(web.url + "/purchasing")
    expect(page.locator("table.list").first).to_contain_text(number)
    shot(page, "purchasing")


def test_mapping_unmatched_lines_books_their_stock_and_reports_follow(web, page):
    till_sale(
        web, [({"sku": "GULA-1", "name": "Gula Aren 500 g", "price": 22_000}, 2)], "T05-000101"
    )
    roti_before = level(web, "JKT1", "ROTI-1").on_hand
    sign_in(page, web.url)
    page.goto(web.url + "/unmatched")
    row = page.locator("tr", has_text="GULA-1")
    expect(row).to_contain_text("Gula Aren 500 g")
    shot(page, "unmatched")
    row.locator("input[name=product]").fill("NOPE-9")
    row.locator("button").click()
    expect(page.locator("main")).to_contain_text("product: no product with sku or barcode 'NOPE-9'")
    page.goto(web.url + "/unmatched")
    row = page.locator("tr", has_text="GULA-1")
    row.locator("input[name=product]").fill("ROTI-1")
    row.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Mapped 1 line(s) of GULA-1 to ROTI-1")
    expect(page.locator("main")).not_to_contain_text("GULA-1 ·")
    assert level(web, "JKT1", "ROTI-1").on_hand == roti_before - 2
    with web.bind():
        line = OrderLine.get(OrderLine.sku == "GULA-1")
        assert line.match == "mapped" and not Order.get_by_id(line.order_id).has_unmatched
    page.goto(web.url + "/reports/products")
    expect(page.locator("table.report")).not_to_contain_text("GULA-1")


def test_fleet_lists_every_till_and_highlights_the_stale_one(web, page):
    now = utcnow()
    with web.bind():
        store = Store.get(Store.code == "JKT1")
        fresh = Terminal.create(
            store=store.id, code="T21", name="Depan", enrolled_at=now - timedelta(days=3),
            last_seen_at=now - timedelta(seconds=20), version="1.4.2", outbox_depth=3,
            clock_skew_ms=1500, devices=[{"name": "printer", "state": "ok", "detail": ""},
                                         {"name": "scanner", "state": "offline", "detail": "unplugged"}],
        )  # fmt: skip
        stale = Terminal.create(
            store=store.id, code="T22", name="Belakang", enrolled_at=now - timedelta(days=3),
            last_seen_at=now - timedelta(hours=2), version="1.3.0", outbox_depth=41,
            quarantined=2, clock_skew_ms=-305_000,
        )  # fmt: skip
        for seq in (1, 2, 5, 6):
            SyncEvent.create(
                event_id=f"e-{seq}", digest="d" * 64, store=store.id, terminal=stale.id, seq=seq,
                type="sale.completed", body=b"{}", outcome="accepted",
            )  # fmt: skip
        SyncEvent.create(
            event_id="e-2", digest="e" * 64, store=store.id, terminal=stale.id, seq=2,
            type="sale.completed", ref="T22-000002", body=b"{}", outcome="rejected",
            reason="same id with other bytes",
        )  # fmt: skip
    sign_in(page, web.url)
    page.goto(web.url + "/fleet")
    fresh_row = page.locator("tr[data-terminal='JKT1/T21']")
    stale_row = page.locator("tr[data-terminal='JKT1/T22']")
    expect(fresh_row).not_to_have_class("stale")
    expect(stale_row).to_have_class("stale")
    expect(fresh_row).to_contain_text("ok")
    expect(fresh_row).to_contain_text("scanner: offline")
    expect(fresh_row).to_contain_text("+1.5 s")
    expect(stale_row).to_contain_text("stale")
    expect(stale_row).to_contain_text("2 missing")
    expect(stale_row).to_contain_text("-305.0 s")
    expect(stale_row.locator("td").nth(6)).to_have_text("1")  # rejected
    expect(page.locator("h1")).to_contain_text("not seen for over 10 min")
    shot(page, "fleet")
    stale_row.locator("a").first.click()
    expect(page.locator("#rejected")).to_contain_text("same id with other bytes")
    expect(page.locator("main")).to_contain_text("2 event(s) missing: 3–4")
    assert fresh.id != stale.id


def test_owner_adds_a_user_a_till_and_an_api_key(web, page):
    sign_in(page, web.url)
    page.goto(web.url + "/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.locator("input[name=email]").fill("dewi@toko.example")
    form.locator("input[name=name]").fill("Dewi")
    form.locator("select[name=store]").select_option("BDG1")
    form.locator("input[name=password]").fill("short")
    form.locator("input[name=password]").evaluate("e => e.removeAttribute('minlength')")
    form.locator("button").click()
    expect(page.locator("main")).to_contain_text("password: password must be at least 8 characters")
    page.goto(web.url + "/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.locator("input[name=email]").fill("dewi@toko.example")
    form.locator("select[name=store]").select_option("BDG1")
    form.locator("input[name=password]").fill("dewi-password-1")
    form.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("User dewi@toko.example (staff) added")
    shot(page, "admin-users")
    with web.bind():
        assert User.get(User.email == "dewi@toko.example").store_id is not None

    page.goto(web.url + "/admin/terminals")
    form = page.locator("form[action='/admin/terminals']")
    form.locator("select[name=store]").select_option("BDG1")
    form.locator("input[name=name]").fill("Kasir Bandung")
    form.locator("button").click()
    code = page.locator("#secret").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    shot(page, "admin-enrolment-code")
    enrolled = httpx.post(
        web.url + "/api/v1/terminals/enrol", json={"code": code, "name": "Kasir Bandung"}
    )
    assert enrolled.status_code == 200 and enrolled.json()["store_code"] == "BDG1"
    page.goto(web.url + "/admin/terminals")
    expect(page.locator("tr", has_text="Kasir Bandung")).to_contain_text("enrolled")

    page.goto(web.url + "/admin/channels")
    form = page.locator("form[action='/admin/channels']")
    form.locator("input[name=code]").fill("tokoku")
    form.locator("input[name=name]").fill("Tokoku online")
    form.locator("select[name=store]").select_option("JKT1")
    form.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Channel tokoku added")
    page.click("form[action='/admin/channels/tokoku/keys'] button")
    key = page.locator("#secret").inner_text()
    assert key.startswith("kak_")
    body = {
        "external_id": "W-1",
        "status": "pending",
        "customer": {"name": "Online"},
        "lines": [{"sku": "ROTI-1", "qty": 1}],
    }
    placed = httpx.post(web.url + "/api/v1/orders", json=body, headers={"X-Api-Key": key})
    assert placed.status_code == 201, placed.text
    page.goto(web.url + "/admin/channels")
    expect(page.locator("section", has_text="Tokoku online")).to_contain_text("1 orders")
    page.locator("form[action^='/admin/keys/'] button").first.click()
    expect(page.locator(".flash")).to_contain_text("revoked")
    again = httpx.post(web.url + "/api/v1/orders", json=body, headers={"X-Api-Key": key})
    assert again.status_code == 401
    shot(page, "admin-channels")

    page.goto(web.url + "/admin/stores/JKT1")
    page.fill("input[name=hours]", "Senin–Sabtu 08:00–21:00")
    page.click("button:has-text('Save')")
    expect(page.locator(".flash")).to_contain_text("Store saved")
    page.fill("input[name=tz]", "Mars/Olympus")
    page.click("button:has-text('Save')")
    expect(page.locator("main")).to_contain_text(
        "tz: time zone 'Mars/Olympus' is not a known IANA zone"
    )


def test_pickup_return_and_a_refused_stale_action(web, page, phone):
    with web.bind():
        store = Store.get(Store.code == "JKT1")
        spec = orders.OrderSpec(
            kind="phone", store=store, lines=[orders.LineSpec(sku="ROTI-1", qty=2)],
            customer_name="Ayu", phone="0815 1234 5678", delivery="pickup",
        )  # fmt: skip
        pickup = orders.create_order(spec, ACTOR)
        shipped = orders.create_order(
            orders.OrderSpec(
                kind="phone", store=store, lines=[orders.LineSpec(sku="KOPI-250", qty=2)],
                customer_name="Rudi", shipping_address="Jl. Merdeka 1",
            ),
            ACTOR,
        )  # fmt: skip
        orders.confirm(shipped, ACTOR)
        orders.add_payment(shipped, orders.PaymentSpec("bank_transfer"), ACTOR)
        orders.fulfil(orders.get_order(shipped.id), None, ACTOR)
        orders.ship(orders.get_order(shipped.id), "JNE", "JNE42", ACTOR)
        orders.deliver(orders.get_order(shipped.id), ACTOR)
    sign_in(page, web.url)
    page.goto(f"{web.url}/orders/{pickup.id}")
    with web.bind():  # someone else confirms it meanwhile
        orders.confirm(orders.get_order(pickup.id), ACTOR)
    page.click("button:has-text('Confirm order')")
    expect(page.locator(".flash.error")).to_contain_text(
        f"order {pickup.number} is confirmed; cannot confirm"
    )
    page.click("form[action$='/fulfil'] button[name=all]")
    page.click("button:has-text('Ready for pickup')")
    expect(page.locator("h1")).to_contain_text("ready for pickup")
    phone.goto(f"{web.url}/t/{pickup.tracking_token}")
    expect(phone.locator("#state")).to_have_text("Pesanan siap diambil")
    expect(phone.locator("#pickup")).to_contain_text("Jl. Sabang 12, Jakarta Pusat")
    expect(phone.locator("#pickup")).to_contain_text("08:00–21:00")
    shot(phone, "tracking-pickup-phone")
    page.click("button:has-text('Mark collected')")
    expect(page.locator("h1")).to_contain_text("collected")

    page.goto(f"{web.url}/orders/{shipped.id}")
    form = page.locator("form[action$='/return']")
    form.locator("input.qty").fill("1")
    form.locator("select[name^=disp_]").select_option("write_off")
    form.locator("input[name=reason]").fill("rusak")
    form.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Return RMA-JKT1-")
    expect(page.locator("h1")).to_contain_text("partially returned")
    expect(page.locator("h1")).to_contain_text("partially refunded")
    expect(page.locator("main")).to_contain_text("(write off)")
    with web.bind():
        order = orders.get_order(shipped.id)
        assert order.refunded_total == 85_000  # one of two at 85.000
    shot(page, "order-returned")


def test_every_report_renders_with_a_chart_and_a_csv(web, page):
    till_sale(web, [(_product(web, "KOPI-250"), 1), (_product(web, "ROTI-1"), 2)], "T05-000201")
    sign_in(page, web.url)
    for name in KINDS:
        page.goto(f"{web.url}/reports/{name}")
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("svg.chart")).to_have_count(1)
        assert page.locator("table.report tbody tr").count() >= 1, name
        answer = page.request.get(f"{web.url}/reports/{name}.csv")
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv"), name
        if name in ("channels", "fulfilment", "trends", "tax", "margins"):
            shot(page, f"report-{name}")
    page.goto(f"{web.url}/reports/sales?since=2026-03-02&until=2026-03-01")
    expect(page.locator("main")).to_contain_text("until 2026-03-01 is before since 2026-03-02")


def _product(web, sku: str) -> Product:
    with web.bind():
        return Product.get(Product.sku == sku)


PHONE_PAGES = (
    "/",
    "/orders",
    "/orders/new",
    "/catalog",
    "/stock",
    "/stock/low",
    "/purchasing",
    "/reports",
    "/reports/sales",
    "/fleet",
    "/unmatched",
    "/admin",
    "/admin/users",
    "/admin/settings",
    "/account",
)


def test_the_pages_fit_a_phone(web, phone):
    sign_in(phone, web.url)
    with web.bind():
        store = Store.get(Store.code == "JKT1")
        spec = orders.OrderSpec(
            kind="phone", store=store, lines=[orders.LineSpec(sku="ROTI-1", qty=1)],
            customer_name="Wulan Sari", phone="0817 2222 3333", shipping_address="Jl. Anggrek 7",
        )  # fmt: skip
        some_order = orders.create_order(spec, ACTOR)
        orders.confirm(some_order, ACTOR)
    for path in (*PHONE_PAGES, f"/orders/{some_order.id}"):
        phone.goto(web.url + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    for path, name in (
        ("/", "phone-dashboard"),
        ("/orders", "phone-orders"),
        ("/orders/new", "phone-new-order"),
    ):
        phone.goto(web.url + path)
        shot(phone, name)
    phone.goto(f"{web.url}/orders/{some_order.id}")
    shot(phone, "phone-order-detail")


def test_goods_refunded_at_two_tills_show_on_home_and_the_order(web, page):
    from orders_factory import refund_event

    with web.bind():
        store = Store.get(Store.code == "JKT1")
        product = Product.select().first()
        terminal = Terminal.create(store=store.id, code="T07", name="Till T07")
        other = Terminal.create(store=store.id, code="T08", name="Till T08")
        sale = sale_event(terminal, [(product, 1)], receipt_no="T07-000001")
        with db.atomic():
            order = orders.book_store_sale(store, terminal, sale.payload, sale)
        for till, number in ((terminal, "T07-R00001"), (other, "T08-R00001")):
            refund = refund_event(sale, [(1, 1, True)], receipt_no=number, seq=2)
            with db.atomic():
                orders.book_store_refund(store, till, refund.payload, refund)
    sign_in(page, web.url)
    page.goto(web.url + "/")
    tile = page.locator("a.tile.warn", has_text="sales refunded more than sold")
    expect(tile).to_contain_text("1")
    tile.click()
    expect(page.locator("main")).to_contain_text("T07-000001")
    page.goto(web.url + f"/orders/{order.id}")
    expect(page.locator("main")).to_contain_text(
        f"OVER-REFUNDED by refund T08-R00001: line 1 {product.name}: 2 refunded of 1 sold"
    )
    shot(page, "order-over-refunded")
