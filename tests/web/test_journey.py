"""A working day in the browser: the owner words the "shipped" e-mail and adds a webhook,
takes a phone order, fulfils part of it and ships it, the customer watches the tracking page
change, the invoice PDF downloads, the customer's e-mails arrive over SMTP and the webhooks
with valid signatures, and the sales report's CSV adds up to the orders."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect
from web_helpers import HOOK_SECRET, OWNER, shot, sign_in

from retail.ids import to_local

UUID_URL = re.compile(r".*/orders/[0-9a-f-]{36}$")


def test_phone_order_to_shipped_with_tracking_mail_invoice_and_report(
    web, page, phone, smtp, receiver
):
    sign_in(page, web.url)
    expect(page.locator("h1")).to_contain_text("Today")
    shot(page, "dashboard")

    # --- the owner words the "shipped" e-mail, with a preview, and refuses a typo -------------
    page.goto(web.url + "/admin/notifications/shipped")
    page.fill("input[name=subject]", "Dikirim: {{ number }} lewat {{ carrier }}")
    page.fill(
        "textarea[name=body]",
        "Halo {{ customer_name }},\n\nPaket {{ number }} dibawa {{ carrier }}, resi "
        "{{ tracking_number }}.\nLacak: {{ tracking_url }}\n\n{{ store_name }}\n",
    )
    page.click("button[value=preview]")
    expect(page.locator("#preview")).to_contain_text("Dikirim: PH-JKT1-2026-00042 lewat JNE")
    expect(page.locator("#preview pre")).to_contain_text("resi JNE0123456789")
    page.fill("input[name=subject]", "Dikirim: {{ nomor }}")
    page.click("button[value=save]")
    expect(page.locator(".flash.error")).to_contain_text("unknown placeholder {{ nomor }}")
    page.fill("input[name=subject]", "Dikirim: {{ number }} lewat {{ carrier }}")
    page.click("button[value=save]")
    expect(page.locator(".flash")).to_contain_text("Template saved")
    shot(page, "admin-notification-template")

    # --- and adds a webhook for order events --------------------------------------------------
    page.goto(web.url + "/admin/settings")
    page.fill("form[action='/admin/webhooks'] input[name=url]", receiver.url)
    page.fill("form[action='/admin/webhooks'] input[name=secret]", HOOK_SECRET)
    page.click("button:has-text('Add webhook')")
    expect(page.locator("table")).to_contain_text(receiver.url)

    # --- a phone order: new customer, items by search and by barcode, stock while typing ------
    page.goto(web.url + "/orders/new")
    page.fill("#phone", "0812-7777-8888")
    page.select_option("#store", "BDG1")
    expect(page.locator("#customer-matches")).to_contain_text("New customer")
    page.fill("#cust-name", "Sinta Dewi")
    page.fill("#cust-email", "sinta@example.com")
    page.fill("#item-search", "toraja")
    result = page.locator("#item-results button", has_text="Kopi Toraja")
    expect(result).to_contain_text("3 available")  # in Bandung
    shot(page, "phone-order-search")
    result.click()
    kopi_row = page.locator("#lines tr", has_text="Kopi Toraja")
    expect(kopi_row.locator(".avail")).to_have_text("3 available")
    page.select_option("#store", "JKT1")  # the lines' stock follows the store
    expect(kopi_row.locator(".avail")).to_have_text("8 available")
    kopi_row.locator("input.qty").fill("9")
    expect(kopi_row.locator(".avail")).to_contain_text("short by 1")
    kopi_row.locator("input.qty").fill("2")
    expect(kopi_row.locator(".avail")).to_have_text("8 available")
    page.fill("#item-search", "8997777000017")  # what a scanner types, then Enter
    page.press("#item-search", "Enter")
    roti_row = page.locator("#lines tr", has_text="Roti Sobek")
    expect(roti_row).to_be_visible()
    roti_row.locator("input.qty").fill("3")
    page.fill("textarea[name=shipping_address]", "Jl. Kemang Raya 5\nJakarta Selatan 12730")
    page.fill("input[name=shipping]", "15.000")
    shot(page, "phone-order-form")
    page.click("#submit-order")
    page.wait_for_url(UUID_URL)
    expect(page.locator(".flash")).to_contain_text("booked")
    number = re.search(r"PH-JKT1-\d{4}-\d{5}", page.locator("h1").inner_text()).group(0)
    order_url = page.url
    expect(page.locator("h1")).to_contain_text("confirmed")
    total_text = page.locator("dl.money dd strong").inner_text()
    assert total_text == "Rp240.500"  # 2 x 85.000 + 3 x 18.500 + 15.000 shipping
    tracking_url = page.locator("a[href*='/t/']").get_attribute("href")
    assert tracking_url.startswith(web.url + "/t/")

    # --- fulfil part of it --------------------------------------------------------------------
    fulfil = page.locator("form[action$='/fulfil']")
    fulfil.locator("tr", has_text="Kopi Toraja").locator("input.qty").fill("1")
    fulfil.locator("button[name=lines]").click()
    expect(page.locator(".flash")).to_contain_text("Fulfilled 1 item")
    expect(page.locator("h1")).to_contain_text("partially fulfilled")

    phone.goto(tracking_url)
    expect(phone.locator("#state")).to_have_text("Sebagian pesanan sudah dikemas")
    expect(phone.locator("#shipments")).to_have_count(0)

    # --- ship what is packed; the customer sees the carrier and number ------------------------
    page.fill("form[action$='/ship'] input[name=carrier]", "JNE")
    page.fill("form[action$='/ship'] input[name=tracking_number]", "JNE0001234567")
    page.click("form[action$='/ship'] button")
    expect(page.locator(".flash")).to_contain_text("Shipped with JNE, tracking JNE0001234567")
    phone.reload()
    expect(phone.locator("#shipments")).to_contain_text("JNE0001234567")
    expect(phone.locator("main")).to_contain_text("Sebagian sudah dikirim")

    # --- the rest, and the order is shipped ---------------------------------------------------
    page.click("form[action$='/fulfil'] button[name=all]")
    expect(page.locator("h1")).to_contain_text("fulfilled")
    page.fill("form[action$='/ship'] input[name=carrier]", "SiCepat")
    page.fill("form[action$='/ship'] input[name=tracking_number]", "SCP998877")
    page.click("form[action$='/ship'] button")
    expect(page.locator("h1")).to_contain_text("shipped")
    shot(page, "order-detail")
    phone.reload()
    expect(phone.locator("#state")).to_have_text("Pesanan dalam pengiriman")
    expect(phone.locator("#shipments")).to_contain_text("SCP998877")
    shot(phone, "tracking-id-phone")
    phone.goto(tracking_url + "?lang=en")
    expect(phone.locator("#state")).to_have_text("Your order is on its way")
    expect(phone.locator("body")).not_to_contain_text("Sinta")  # nothing personal
    expect(phone.locator("body")).not_to_contain_text("Kemang")
    shot(phone, "tracking-en-phone")

    # --- the invoice PDF ----------------------------------------------------------------------
    page.goto(order_url)
    link = page.locator("a[href$='.pdf']").first
    invoice_number = link.inner_text().removesuffix(".pdf")
    with page.expect_download() as download:
        link.click()
    pdf_path = download.value.path()
    data = Path(pdf_path).read_bytes()
    assert data.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert invoice_number in text and number in text and "Rp240.500" in text

    # --- the customer's e-mails and the signed webhooks ---------------------------------------
    web.deliver_notifications()
    mails = smtp.wait_for(2)
    to_sinta = [m for m in mails if m["To"] == "sinta@example.com"]
    subjects = [m["Subject"] for m in to_sinta]
    assert subjects == [
        f"Pesanan {number} sudah kami terima / Your order {number} is confirmed",
        f"Dikirim: {number} lewat SiCepat",
    ]
    shipped_mail = to_sinta[1].get_content()
    assert f"Paket {number} dibawa SiCepat, resi SCP998877." in shipped_mail
    assert f"Lacak: {tracking_url}" in shipped_mail
    assert shipped_mail.startswith("Halo Sinta Dewi,") and "Toko Kopi Jakarta" in shipped_mail
    assert tracking_url in to_sinta[0].get_content()
    assert to_sinta[0]["From"] == "toko@toko.example"
    events = [(h["event"], h["number"]) for h in receiver.received]
    assert events == [("order.confirmed", number), ("order.shipped", number)]
    assert receiver.received[1]["tracking_number"] == "SCP998877"
    assert receiver.received[1]["tracking_url"] == tracking_url
    assert receiver.bad_signatures == 0

    # --- a till sale and a cancelled phone order too; the report's CSV adds up ----------------
    from orders_factory import sale_event

    from cloud_oms import db, orders
    from cloud_oms.models.core import Product, Store, Terminal
    from cloud_oms.models.orders import Order

    with web.bind():
        store = Store.get(Store.code == "JKT1")
        terminal = Terminal.create(store=store.id, code="T09", name="Report till")
        kopi = Product.get(Product.sku == "KOPI-250")
        event = sale_event(terminal, [(kopi, 1)], receipt_no="T09-000001")
        with db.atomic():
            orders.book_store_sale(store, terminal, event.payload, event)
        spec = orders.OrderSpec(
            kind="phone",
            store=store,
            lines=[orders.LineSpec(sku="TEH-1", qty=1)],
            customer_name="X",
        )
        gone = orders.create_order(spec, "user:" + OWNER, "backorder")
        orders.confirm(gone, "user:" + OWNER)
        orders.cancel(orders.get_order(gone.id), "user:" + OWNER, "test")
        today = to_local(datetime.now(UTC), store.tz).date()
        booked = [
            o
            for o in Order.select().where(
                Order.booked_at.is_null(False) & (Order.status != "cancelled")
            )
            if to_local(o.booked_at, store.tz).date() == today
        ]
        expected_sales = sum(o.total for o in booked)
        expected_tax = sum(o.tax_total for o in booked)
    page.goto(f"{web.url}/reports/sales?since={today}&until={today}")
    expect(page.locator("svg.chart")).to_be_visible()
    shot(page, "report-sales")
    with page.expect_download() as download:
        page.click("#csv-link")
    assert download.value.suggested_filename == f"kasir-sales-{today}-{today}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sum(int(r["sales"]) for r in rows) == expected_sales
    assert sum(int(r["tax"]) for r in rows) == expected_tax
    assert sum(int(r["orders"]) for r in rows) == len(booked) >= 2
    footer = page.locator("table.report tfoot").inner_text()
    assert f"Rp{expected_sales:,}".replace(",", ".") in footer

    page.goto(f"{web.url}/orders?q={number}")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.goto(f"{web.url}/orders?channel=phone&state=cancelled")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.goto(f"{web.url}/orders?customer=0812-7777-8888")
    expect(page.locator("table.list tbody")).to_contain_text(number)
    page.goto(f"{web.url}/orders")
    shot(page, "orders-list")
