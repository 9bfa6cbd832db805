"""Whole sales through the touchscreen: touches, the simulated scanner, the simulated printer's
ESC/POS bytes and what the store holds afterwards."""

from __future__ import annotations

from appliance import receipts
from appliance.hw.preview import decode, to_text
from tests.ui.driver import AQUA, MANAGER_PIN


def printed_jobs(ui) -> list[bytes]:
    return [path.read_bytes() for path in ui.app.till.printer.jobs]


def receipt_text(data: bytes, columns: int = 42) -> str:
    return to_text(decode(data), columns)


def test_full_sale_from_login_to_printed_receipt(ui):
    app = ui.app
    ui.login()
    ui.open_shift("200000")
    assert app.sm.current == "sale"

    ui.scan(AQUA)
    ui.scan(AQUA)
    sale = ui.screen
    assert [r["name"] for r in sale.lines] == ["Aqua Air Mineral 600ml"]
    assert app.till.cart.lines[0].qty == 2
    assert app.sounds_played.count("ok") == 2
    assert sale.lines[0]["flash"] or sale.lines[0]["selected"]

    # A product by touch: the Mi Instan category is shown first.
    ui.tap(ui.find("Indomie Goreng 85g"))
    assert len(app.till.cart.lines) == 2
    total = app.till.cart.priced().total
    assert total == 3 * 3500

    ui.tap(sale.ids.pay)
    assert app.sm.current == "payment"
    pay = ui.screen
    assert pay.quick[0] == 10_500  # exact
    assert 20_000 in pay.quick and 50_000 in pay.quick
    ui.tap(ui.find(app.money(20_000)))
    ui.wait(lambda: app.sm.current == "done", what="the change screen")
    done = ui.screen
    assert done.change_text == app.money(9_500)
    ui.wait(lambda: done.print_state == "done", what="the receipt to print")

    receipt_no = app.till.last_sale.receipt_no
    stored = receipts.sale_receipt(receipt_no, app.till.config)
    assert [(line.name, line.amount) for line in stored.lines] == [
        ("Aqua Air Mineral 600ml", 7000),
        ("Indomie Goreng 85g", 3500),
    ]
    assert stored.total == 10_500 and stored.change == 9_500
    # Receipts are in the store's language (id_ID here), whatever the screens show.
    assert [(t.label, t.amount) for t in stored.tenders] == [("Tunai", 20_000)]

    data = printed_jobs(ui)[-1]
    assert data.startswith(b"\x1b@")
    assert b"\x1dV" in data  # cut
    text = receipt_text(data)
    assert "Toko Maju Jaya" in text
    assert receipt_no in text
    assert "Aqua Air Mineral 600ml" in text and "Indomie Goreng 85g" in text
    assert "10.500" in text and "9.500" in text
    # Cash was taken, so the drawer opened once, through the drawer service.
    ui.wait(lambda: len(app.till.drawer.drawer.pulses) == 1, what="the drawer pulse")

    ui.tap(ui.find("New sale"))
    assert app.sm.current == "sale" and app.till.cart.empty


def test_unknown_barcode_sells_at_an_open_price_with_a_manager(ui):
    app = ui.app
    ui.login()
    ui.open_shift("0")
    unknown = "8990000000006"  # a valid EAN-13 that the catalog lacks
    ui.scan(unknown)
    assert app.sounds_played[-1] == "error"
    dialog = ui.dialog()
    assert "8990000000006 is not in the catalog" in dialog.message
    ui.tap("Sell at open price")
    ui.keys(ui.dialog(), "12500")
    ui.tap("OK", within=ui.dialog())
    ui.tap("OK", within=ui.dialog())  # the name, as offered
    pin = ui.dialog()
    ui.keys(pin, MANAGER_PIN)
    ui.tap("Approve", within=pin)
    ui.wait(lambda: not app.till.cart.empty, what="the open-price line")
    line = app.till.cart.lines[0]
    assert (line.name, line.unit_price, line.barcode) == ("Miscellaneous", 12500, unknown)
