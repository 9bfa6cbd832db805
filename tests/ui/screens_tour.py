"""A walk through every screen and dialog of the till, saving a screenshot of each and
checking what can be checked by machine: no text spills out of its box, touch targets are
big enough, text is big enough. (Looking at the pictures is still a person's job.)"""

from __future__ import annotations

from pathlib import Path

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from tests.ui.driver import AQUA, CASHIER, MANAGER_PIN

MIN_TARGET = 48  # px, at 800x480
MIN_FONT = 14  # px, at 800x480


def _visible(widget) -> bool:
    node = widget
    while node is not None and node is not Window:
        if node.opacity == 0:
            return False
        node = node.parent
    return widget.width > 1 and widget.height > 1


def _in_scroll(widget) -> bool:
    node = widget.parent
    while node is not None and node is not Window:
        if isinstance(node, ScrollView):
            return True
        node = node.parent
    return False


def layout_problems(small_screen: bool) -> list[str]:
    """Labels whose text is bigger than their box (it would draw over its neighbours), and, on
    the 800x480 screen, touch targets under 48 px and text under 14 px."""
    problems = []
    for layer in Window.children:
        if layer.opacity == 0 or layer.disabled:
            continue
        for widget in layer.walk(restrict=True):
            if not _visible(widget):
                continue
            name = type(widget).__name__
            if (
                small_screen
                and isinstance(widget, ButtonBehavior)
                and not widget.disabled
                and min(widget.width, widget.height) < MIN_TARGET - 0.5
            ):
                problems.append(
                    f"{name} {widget.text!r}: {widget.width:.0f}x{widget.height:.0f} px target"
                )
            if isinstance(widget, Label) and widget.text.strip():
                if small_screen and widget.font_size < MIN_FONT - 0.5:
                    problems.append(f"{name} {widget.text[:30]!r}: font {widget.font_size:.0f} px")
                if widget.shorten or _in_scroll(widget):
                    continue
                tw, th = widget.texture_size
                if tw > widget.width + 2 or th > widget.height + 2:
                    problems.append(
                        f"{name} {widget.text[:40]!r}: text {tw:.0f}x{th:.0f} in a "
                        f"{widget.width:.0f}x{widget.height:.0f} box"
                    )
    return problems


class Tour:
    def __init__(self, ui, out: Path):
        self.ui = ui
        self.out = out
        self.small = tuple(Window.size) == (800, 480)
        self.problems: dict[str, list[str]] = {}
        self.shots: list[Path] = []

    def shot(self, name: str) -> None:
        self.shots.append(self.ui.shot(name, self.out))
        found = layout_problems(self.small)
        if found:
            self.problems[name] = found

    def t(self, text: str) -> str:
        from appliance.i18n import _

        return _(text)

    def run(self, short: bool = False) -> None:
        """Every screen; `short` keeps the main ones (for the extra screen sizes)."""
        ui, t = self.ui, self.t
        app = ui.app
        self.shot("01-login")
        ui.tap(CASHIER)
        if not short:
            self.shot("02-login-name-chosen")
        ui.login()
        self.shot("03-shift-open")
        ui.open_shift("200000")
        sale = ui.screen
        if not short:
            self.shot("04-sale-empty")
        ui.scan(AQUA)
        ui.scan(AQUA)
        products = [w for w in ui.find_all() if type(w).__name__ == "ProductButton"]
        ui.tap(products[0])
        ui.tap(products[3])
        ui.wait(lambda: len(app.till.cart.lines) == 3)
        self.shot("05-sale-cart")

        # Search with the on-screen keyboard.
        ui.tap(sale.ids.search)
        ui.type_text("kopi")
        ui.wait(lambda: sale.searching)
        self.shot("06-sale-search-keyboard")
        ui.tap(t("Hide"))
        sale.clear_search()

        if not short:
            self.line_dialogs(sale)
            self.customer()

        # Payment: a card part, then cash.
        ui.tap(sale.ids.pay)
        self.shot("15-payment-cash")
        ui.tap(t("Card"))
        if not short:
            self.shot("16-payment-card")
        ui.tap(t("Change amount"))
        ui.keys(ui.dialog(), "5000")
        if not short:
            self.shot("17-dialog-amount")
        ui.tap(t("OK"), within=ui.dialog())
        ui.screen.ids.card_ref.text = "A1B2C3"
        ui.tap(t("Card paid"))
        ui.tap("QRIS")
        self.shot("18-payment-qris-split")
        ui.tap(t("Cash"))
        if not short:
            self.shot("19-payment-cash-split")
        pay = ui.screen
        ui.tap(ui.find(app.money(pay.quick[-1])))
        ui.wait(lambda: app.sm.current == "done")
        ui.wait(lambda: ui.screen.print_state == "done")
        self.shot("20-done")
        receipt_no = app.till.last_sale.receipt_no
        if not short:
            ui.tap(t("E-receipt (QR)"))
            self.shot("21-dialog-ereceipt")
            ui.tap(t("OK"), within=ui.dialog())
        ui.tap(t("New sale"))

        if not short:
            ui.scan(AQUA)
            ui.tap(t("Park"))
            ui.tap(t("Parked") + " (1)")
            self.shot("22-parked")
            ui.tap(t("Back to the sale"))

        # Refund of the sale just made.
        ui.tap(t("Refund"))
        if not short:
            self.shot("23-refund-empty")
        ui.screen.ids.receipt.text = receipt_no
        ui.tap(t("Find"))
        ui.tap(t("Everything left"))
        self.shot("24-refund-chosen")
        ui.tap(t("Back to the sale"))

        if not short:
            # Pickup orders: this till is not enrolled.
            ui.tap(t("Pickup"))
            ui.idle()
            self.shot("25-pickup")
            ui.tap(t("Back to the sale"))

        # Manager functions (the cashier asks a manager).
        self.manager()
        self.shot("26-manager")
        if not short:
            self.manager_screens()
        ui.tap(t("Settings"))
        self.shot("31-settings")
        ui.tap(t("Back"))
        ui.tap(t("Training mode: off"))
        ui.tap(t("Back to the sale"))
        self.shot("33-sale-training")
        self.manager()
        ui.tap(t("Training mode: ON"))
        ui.tap(t("Close shift (Z report)"))
        self.shot("34-close-shift")
        ui.keys(ui.screen, "250000")
        ui.tap(t("Close shift"))
        if not short:
            self.shot("35-dialog-close-confirm")
        ui.tap(t("Close shift"), within=ui.dialog())
        ui.wait(lambda: app.sm.current == "report")
        self.shot("36-z-report")

    def manager(self) -> None:
        ui, t = self.ui, self.t
        ui.tap(t("Manager"))
        ui.keys(ui.dialog(), MANAGER_PIN)
        ui.tap(t("Approve"), within=ui.dialog())
        ui.wait(lambda: ui.app.sm.current == "manager")

    def line_dialogs(self, sale) -> None:
        ui, t = self.ui, self.t
        rows = [w for w in ui.find_all() if type(w).__name__ == "CartRow"]
        ui.tap(rows[0])
        ui.tap(t("Discount"))
        self.shot("07-dialog-discount")
        ui.tap("10%")
        ui.tap(t("Void"))
        self.shot("08-dialog-confirm-void")
        ui.tap(t("Void"), within=ui.dialog())
        self.shot("09-dialog-manager-pin")
        ui.tap(t("Cancel"), within=ui.dialog())
        ui.scan("8990000000006")
        self.shot("10-dialog-unknown-barcode")
        ui.tap(t("Cancel"), within=ui.dialog())
        ui.tap(ui.app.root.ids.status)
        self.shot("11-dialog-status")
        ui.tap(t("Close"), within=ui.dialog())

    def customer(self) -> None:
        ui, t = self.ui, self.t
        ui.tap(t("Customer"))
        self.shot("12-customer")
        ui.tap(ui.screen.ids.name)
        ui.type_text("Sari")
        self.shot("13-customer-keyboard")
        ui.tap(t("Hide"))
        ui.tap(ui.screen.ids.phone)
        ui.type_text("081234567890")
        ui.tap(t("Hide"))
        ui.tap(t("Save and attach"))
        assert ui.app.sm.current == "sale"
        self.shot("14-sale-with-customer")

    def manager_screens(self) -> None:
        ui, t = self.ui, self.t
        ui.tap(t("Cash in"))
        self.shot("27-cash-in")
        ui.tap(t("Back"))
        ui.tap(t("Cash out"))
        self.shot("28-cash-out")
        ui.tap(t("Back"))
        ui.tap(t("X report"))
        self.shot("29-x-report")
        ui.tap(t("Back"))
        ui.tap(t("Print queue"))
        ui.idle()
        self.shot("30-print-queue")
        ui.tap(t("Back"))
        ui.tap(t("Reprint a receipt"))
        self.shot("32-dialog-reprint-keyboard")
        ui.tap(t("Cancel"), within=ui.dialog())

    def pin_dialog(self, *pins: str) -> None:
        """Type PINs into the PIN dialog that is open, one step each (Next, then Save)."""
        ui, t = self.ui, self.t
        for pin in pins:
            dialog = ui.dialog()
            ui.keys(dialog, "C" + pin)
            ui.tap(t("Save") if dialog.last else t("Next"), within=dialog)
            ui.wait(lambda d=dialog: not d.checking, what="the PIN check")

    def staff_screens(self) -> None:
        """The first-boot PIN on the login screen, Change my PIN, the manager's staff list and
        its dialogs: adding someone (name, role, PIN), a refusal, deactivating, a reset."""
        import json

        from tests.ui.driver import MANAGER, write_setup_report

        ui, t = self.ui, self.t
        app = ui.app
        write_setup_report(ui.data)
        report = ui.data / "run" / "setup-report.json"
        report.write_text(json.dumps(json.loads(report.read_text()) | {"manager_pin": MANAGER_PIN}))
        app.go("login")
        login = ui.screen
        ui.wait(lambda: login.first_pin_text, what="the first-PIN banner")
        self.shot("01c-login-first-pin")
        ui.login(MANAGER, MANAGER_PIN)
        ui.open_shift("0")

        ui.tap(t("Change my PIN"))
        self.pin_dialog("0000")
        self.shot("37-dialog-change-my-pin-refused")
        ui.tap(t("Cancel"), within=ui.dialog())

        ui.tap(t("Manager"))
        ui.tap(t("Staff"))
        self.shot("38-staff")
        ui.tap(t("Add staff"))
        ui.type_text("Eko Saputra")
        self.shot("39-dialog-staff-name-keyboard")
        ui.tap(t("OK"), within=ui.dialog())
        self.shot("40-dialog-staff-role")
        ui.tap(t("Cashier"), within=ui.dialog())
        self.pin_dialog("4829", "4828")
        self.shot("41-dialog-staff-pin-mismatch")
        self.pin_dialog("4829", "4829")
        ui.wait(lambda: ui.dialog() is None, what="the PIN dialog to close")
        ani = next(r for r in ui.find_all() if type(r).__name__ == "ListRow" and r.title == CASHIER)
        ui.tap(t("Deactivate"), within=ani)
        self.shot("42-dialog-confirm-deactivate")
        ui.tap(t("Deactivate"), within=ui.dialog())
        self.shot("43-staff-changed")
        eko = next(
            r for r in ui.find_all() if type(r).__name__ == "ListRow" and r.title == "Eko Saputra"
        )
        ui.tap(t("Reset PIN"), within=eko)
        self.pin_dialog("55")
        self.shot("44-dialog-reset-pin-refused")
        ui.tap(t("Cancel"), within=ui.dialog())
