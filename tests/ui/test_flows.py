"""The till's other flows through the touchscreen: split tender, printer offline, refund, shift
close, park and resume, lockout, settings, training mode and the keyboard-wedge scanner."""

from __future__ import annotations

import time

import pytest
from kivy.core.window import Window

from appliance import identity, shifts
from appliance.hw.preview import decode, to_text
from appliance.store.models import Payment, PrintJob, Refund, Sale, Shift
from tests.ui.driver import AQUA, CASHIER, MANAGER, MANAGER_PIN

CHITATO = "8991006100011"  # Chitato Sapi Panggang 68g, Rp11.000, in the demo catalog


def last_print(ui) -> str:
    return to_text(decode(ui.app.till.printer.jobs[-1].read_bytes()), 42)


def sell_cash(ui, *codes: str) -> str:
    """Scan, pay with the first quick-cash amount above the total; the receipt number."""
    app = ui.app
    for code in codes:
        ui.scan(code)
    ui.tap(ui.screen.ids.pay)
    ui.tap(ui.find(app.money(ui.screen.quick[-1])))
    ui.wait(lambda: app.sm.current == "done", what="the change screen")
    return app.till.last_sale.receipt_no


def test_split_tender_card_then_cash(ui):
    app = ui.app
    ui.login()
    ui.open_shift("100000")
    ui.scan(AQUA)
    ui.scan(AQUA)
    ui.scan(AQUA)
    ui.tap(ui.screen.ids.pay)
    pay = ui.screen
    assert pay.total == 10_500
    ui.tap("Card")
    ui.tap("Card paid")
    assert "reference" in pay.message  # no approval code typed: refused, nothing taken
    assert pay.tenders == []
    ui.tap("Change amount")
    ui.keys(ui.dialog(), "6000")
    ui.tap("OK", within=ui.dialog())
    ui.tap(pay.ids.card_ref)
    ui.type_text("778899")
    ui.tap("OK", within=app.keyboard)  # the keyboard's OK submits the field
    assert [(t.tender, t.amount, t.reference) for t in pay.tenders] == [("card", 6000, "778899")]
    assert pay.due == 4_500
    ui.tap("Cash")
    assert pay.quick[0] == 4_500  # exact, already rounded to Rp100
    ui.keys(pay, "5000")
    ui.tap("Take cash")
    ui.wait(lambda: app.sm.current == "done", what="the change screen")
    assert ui.screen.change_text == app.money(500)

    sale = Sale.get(Sale.receipt_no == app.till.last_sale.receipt_no)
    payments = {
        p.tender: (p.amount, p.reference, p.tendered, p.change)
        for p in Payment.select().where(Payment.sale == sale.id)
    }
    assert payments == {"card": (6000, "778899", None, 0), "cash": (4500, None, 5000, 500)}
    ui.wait(lambda: ui.screen.print_state == "done", what="the receipt")
    text = last_print(ui)
    assert "778899" in text and "Kartu" in text and "Tunai" in text


def test_a_sale_goes_through_with_the_printer_offline(ui):
    app = ui.app
    printer = app.till.printer
    ui.login()
    ui.open_shift("0")
    printer.online = False
    receipt_no = sell_cash(ui, AQUA, CHITATO)
    done = ui.screen
    ui.wait(lambda: done.print_state == "offline", what="the offline message")
    assert "Printer offline — receipt queued" in done.print_text
    assert Sale.select().where(Sale.receipt_no == receipt_no).exists()
    job = PrintJob.get(PrintJob.ref == receipt_no)
    assert job.state == "queued" and "stopped answering" in job.last_error
    # The cashier carries on: a new sale while the receipt waits.
    ui.tap("New sale")
    ui.scan(AQUA)
    assert len(app.till.cart.lines) == 1
    app.refresh_status()
    ui.wait(lambda: app.printer_state == "bad", what="the status bar")
    assert app.printer_text == "Printer: offline"
    assert any(
        kind == "error" and text.startswith("Printer: The printer stopped answering")
        for kind, text in app.messages
    )
    printer.online = True
    app.till.printing.wake()
    ui.wait(lambda: PrintJob.get(PrintJob.ref == receipt_no).state == "done", what="the reprint")
    assert receipt_no in last_print(ui)


def test_refund_by_scanning_the_receipt(ui):
    app = ui.app
    ui.login()
    ui.open_shift("50000")
    receipt_no = sell_cash(ui, AQUA, AQUA, CHITATO)
    ui.wait(lambda: len(app.till.drawer.drawer.pulses) == 1, what="the drawer for the sale")
    app.till.drawer.drawer.push_closed()  # the cashier closes it
    ui.tap("New sale")
    ui.tap("Refund")
    ui.scan(receipt_no)  # the barcode printed on the receipt
    refund = ui.screen
    assert [r["name"] for r in refund.rows] == [
        "Aqua Air Mineral 600ml",
        "Chitato Sapi Panggang 68g",
    ]
    aqua_row = next(w for w in ui.find_all() if getattr(w, "name", "") == "Aqua Air Mineral 600ml")
    ui.tap(next(w for w in ui.find_all(within=aqua_row) if getattr(w, "text", "") == "+"))
    assert refund.total == 3_500
    ui.tap("In cash")
    ui.tap("Damaged")
    ui.tap(ui.find("Refund  " + app.money(3_500)))
    pin = ui.dialog()
    ui.keys(pin, "111111")
    ui.tap("Approve", within=pin)
    ui.wait(lambda: pin.error_text, what="the refusal")
    assert pin.error_text == "That PIN is not a manager's PIN"
    ui.keys(pin, MANAGER_PIN)
    ui.tap("Approve", within=pin)
    ui.wait(lambda: refund.good, what="the refund")
    stored = Refund.get()
    assert (stored.total, stored.reason) == (3_500, "Damaged")
    assert "give back Cash " + app.money(3_500) in refund.message
    ui.wait(lambda: len(app.till.drawer.drawer.pulses) == 2, what="the drawer (sale, refund)")
    ui.wait(
        lambda: (
            PrintJob.select()
            .where(PrintJob.ref == stored.receipt_no, PrintJob.state == "done")
            .exists()
        )
    )
    assert "REFUND" in last_print(ui) and receipt_no in last_print(ui)
    # Refunding the same unit twice is refused with the reason.
    ui.scan(receipt_no)
    assert refund.rows[0]["left"] == 1


def test_a_receipt_of_another_till_needs_the_oms(ui):
    ui.login()
    ui.open_shift("0")
    ui.tap("Refund")
    ui.tap(ui.screen.ids.receipt)
    ui.type_text("s01-t2-000017")
    ui.tap("Find")
    ui.idle()
    message = ui.screen.message
    assert message.startswith("Receipt s01-t2-000017 is not a sale of this till.")
    assert "This till is not enrolled with an OMS: it knows only its own sales" in message


def test_shift_close_with_a_blind_count_prints_the_z_report(ui):
    app = ui.app
    ui.login(MANAGER, MANAGER_PIN)
    ui.open_shift("100000")
    sell_cash(ui, AQUA)  # Rp3.500, paid with Rp5.000: the drawer should hold Rp103.500
    ui.tap("New sale")
    ui.tap("Manager")  # a manager is logged in: no PIN asked
    assert app.sm.current == "manager"
    ui.tap("Close shift (Z report)")
    close = ui.screen
    assert close.blind and close.expected_text == ""  # nothing to copy from
    ui.keys(close, "103000")
    ui.tap("Close shift")
    ui.tap("Close shift", within=ui.dialog())
    ui.wait(lambda: app.sm.current == "report", what="the Z report")
    shift = Shift.get()
    assert (shift.counted_cash, shift.expected_cash, shift.z_number) == (103_000, 103_500, 1)
    assert "Over/short" not in ui.screen.text  # the report is in the store's language
    assert "Selisih" in ui.screen.text and "-500" in ui.screen.text
    ui.wait(lambda: PrintJob.select().where(PrintJob.kind == "report").exists())
    ui.wait(lambda: PrintJob.get(PrintJob.kind == "report").state == "done")
    assert "LAPORAN Z #1" in last_print(ui)
    ui.tap("Done: log out")
    assert app.sm.current == "login" and shifts.current() is None


def test_park_and_resume(ui):
    app = ui.app
    ui.login()
    ui.open_shift("0")
    ui.scan(AQUA)
    ui.scan(CHITATO)
    ui.tap("Park")
    assert app.till.cart.empty
    ui.scan(AQUA)
    ui.tap("Parked (1)")
    ui.tap("Resume")
    assert ui.screen.message == "Park or finish the sale in progress first"
    ui.tap("Back to the sale")
    app.till.cart.clear()
    ui.tap("Parked (1)")
    ui.tap("Resume")
    assert app.sm.current == "sale"
    assert [line.name for line in app.till.cart.lines] == [
        "Aqua Air Mineral 600ml",
        "Chitato Sapi Panggang 68g",
    ]


def test_wrong_pins_lock_the_account(ui):
    app = ui.app
    ui.tap(CASHIER)
    for left in (4, 3, 2, 1):
        ui.keys(ui.screen, "9999")
        ui.tap("Log in")
        ui.wait(lambda: not ui.screen.checking)
        assert ui.screen.message == f"Wrong PIN ({left} tries left)"
    ui.keys(ui.screen, "9999")
    ui.tap("Log in")
    ui.wait(lambda: not ui.screen.checking)
    assert ui.screen.message == "Wrong PIN: Ani is now locked for a while"
    ui.keys(ui.screen, "1357")  # the right PIN no longer opens it
    ui.tap("Log in")
    ui.wait(lambda: not ui.screen.checking)
    assert ui.screen.message.startswith("Ani is locked after too many wrong PINs")
    assert app.sm.current == "login"


def test_settings_are_kept_on_the_till_and_say_where_they_come_from(ui):
    app = ui.app
    config = app.till.config
    ui.login(MANAGER, MANAGER_PIN)
    ui.open_shift("0")
    ui.tap("Manager")
    ui.tap("Settings")
    rows = {row.name: row for row in ui.find_all() if type(row).__name__ == "SettingRow"}
    assert rows["store.name"].source == "from the config file"
    assert rows["display.language"].source == "from the config file"
    ui.tap(
        next(
            w
            for w in ui.find_all(within=rows["display.language"])
            if getattr(w, "text", "") == "Edit"
        )
    )
    ui.tap("Bahasa Indonesia")
    assert app.lang == "id_ID" and config["display.language"] == "id_ID"
    assert config.source("display.language") == "till"
    rows = {row.name: row for row in ui.find_all() if type(row).__name__ == "SettingRow"}
    assert rows["display.language"].source == "diubah di kasir ini"
    ui.tap(
        next(
            w
            for w in ui.find_all(within=rows["display.language"])
            if getattr(w, "text", "") == "Reset"
        )
    )
    assert config.source("display.language") == "file" and app.lang == "en"
    rows = {row.name: row for row in ui.find_all() if type(row).__name__ == "SettingRow"}
    ui.screen.ids.rows.parent.scroll_to(rows["printer.width"], animate=False)
    ui.pump(3)
    ui.tap(
        next(
            w for w in ui.find_all(within=rows["printer.width"]) if getattr(w, "text", "") == "Edit"
        )
    )
    ui.tap("32")
    assert config["printer.width"] == 32 and config.source("printer.width") == "till"
    assert ui.screen.message == "Saved: it applies when the till restarts"


def test_training_mode_shows_a_banner_and_sells_in_its_own_series(ui):
    app = ui.app
    ui.login(MANAGER, MANAGER_PIN)
    ui.open_shift("0")
    ui.tap("Manager")
    ui.tap("Training mode: off")
    assert identity.training_mode() and app.training
    ui.tap("Back to the sale")
    banner = app.root.ids.training
    assert banner.height > 0 and "TRAINING MODE" in banner.text
    receipt_no = sell_cash(ui, AQUA)
    assert receipt_no.startswith("TRN-")
    ui.wait(lambda: ui.screen.print_state == "done")
    assert "LATIHAN" in last_print(ui)


@pytest.mark.parametrize(
    "ui",
    [{"simulate": False, "scanner.type": "wedge"}],
    indirect=True,
)
def test_a_keyboard_wedge_scan_goes_to_the_cart_and_typing_to_the_field(ui):
    app = ui.app
    ui.wait(lambda: app.wedge is not None, what="the wedge scanner")
    ui.login()
    ui.open_shift("0")
    sale = ui.screen

    def key(char: str) -> None:
        if char == "\n":
            Window.dispatch("on_key_down", 13, 40, None, [])
            Window.dispatch("on_key_up", 13, 40)
        else:
            Window.dispatch("on_key_down", ord(char), 0, char, [])
            Window.dispatch("on_textinput", char)
            Window.dispatch("on_key_up", ord(char), 0)

    for char in AQUA + "\n":  # a scanner: all keys in one burst
        key(char)
    ui.pump(3)
    assert [line.name for line in app.till.cart.lines] == ["Aqua Air Mineral 600ml"]
    assert sale.ids.search.text == ""

    ui.tap(sale.ids.search)
    ui.tap("Hide")
    sale.ids.search.focus = True
    for char in "teh":  # a person: keys far apart go to the focused field
        key(char)
        time.sleep(0.04)
        ui.pump(2)
    ui.pump(3)
    assert sale.ids.search.text == "teh"
    assert len(app.till.cart.lines) == 1


@pytest.mark.parametrize("ui", [{"display.customer_display": True}], indirect=True)
def test_the_customer_display_follows_the_sale(ui, tmp_path):
    app = ui.app
    ui.wait(lambda: app.till.display is not None and app.till.display.alive(), what="the display")
    ui.login()
    ui.open_shift("0")
    ui.scan(AQUA)
    ui.scan(CHITATO)
    display = app.till.display
    display.send({"screenshot": str(tmp_path / "cart.png")})
    answer = display.read_line(timeout=30)
    assert answer and answer.startswith("screenshot ")
    # What the till sent last: the cart, with its lines and total, in the till's words.
    sale = ui.screen
    assert sale.total_text == app.money(14_500)
    ui.tap(sale.ids.pay)
    ui.tap(ui.find(app.money(ui.screen.quick[-1])))
    ui.wait(lambda: app.sm.current == "done")
    display.send({"screenshot": str(tmp_path / "done.png")})
    assert display.read_line(timeout=30).startswith("screenshot ")


def test_weighed_items_from_a_scale_label_or_typed_grams(ui):
    app = ui.app
    ui.login()
    ui.open_shift("0")
    ui.scan("2000101012504")  # scale label: PLU 101 (Bawang Merah, Rp40.000/kg), 1250 g
    line = app.till.cart.lines[0]
    assert (line.name, line.weight_g) == ("Bawang Merah", 1250)
    sale = ui.screen
    assert sale.lines[0]["detail"] == "1.250 kg × Rp40,000/kg"
    assert sale.lines[0]["amount"] == app.money(50_000)
    # A scale without labels: touch the product, type the grams.
    category = ui.find_all(text="Sayur & Buah")[0]
    sale.ids.categories.parent.scroll_to(category, animate=False)
    ui.tap(category)
    ui.tap(ui.find("Bawang Putih"))
    dialog = ui.dialog()
    assert dialog.title == "Weight of Bawang Putih in grams"
    ui.keys(dialog, "500")
    ui.tap("OK", within=dialog)
    weighed = app.till.cart.lines[1]
    assert (weighed.name, weighed.weight_g) == ("Bawang Putih", 500)
    assert app.till.cart.priced().total == 50_000 + 19_000


@pytest.mark.parametrize(
    "ui", [{"store.ereceipt_base_url": "https://oms.example.co.id"}], indirect=True
)
def test_the_e_receipt_qr_carries_the_token_born_on_the_till(ui):
    app = ui.app
    ui.login()
    ui.open_shift("0")
    receipt_no = sell_cash(ui, AQUA)
    ui.tap("E-receipt (QR)")
    dialog = ui.dialog()
    sale = Sale.get(Sale.receipt_no == receipt_no)
    assert dialog.payload == f"https://oms.example.co.id/r/{sale.ereceipt_token}"
    assert dialog.texture is not None and dialog.texture.width > 100
    ui.tap("Close", within=dialog)
    assert ui.dialog() is None and app.sm.current == "done"
