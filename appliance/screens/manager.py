"""Manager functions: no-sale, cash in and out, X report, closing the shift with a blind count
and its Z report, training mode, reprints and the print queue (staff: `staff_admin`)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from .. import audit, identity, receipts, reports, shifts
from ..i18n import _, explain, f_
from ..staff import AuthError
from . import load_kv
from .dialogs import ask_text, confirm
from .lists import ListRow
from .login import TillScreen

CASH_REASONS = {
    "in": ("Change for the drawer", "Float top-up"),
    "out": ("Supplier paid", "Bank deposit", "Expenses"),
}


class ManagerScreen(TillScreen):
    approver = ObjectProperty(None, allownone=True)
    message = StringProperty("")

    def enter(self, approver=None, **_kwargs) -> None:
        if approver is not None:
            self.approver = approver
        self.message = ""
        self.app.training = identity.training_mode()

    @property
    def by(self):
        return self.approver or self.till.staff

    def no_sale(self) -> None:
        if shifts.current() is None:
            self.message = _("No shift is open: open a shift first")
            return
        if self.app.open_drawer("no_sale", approved_by=self.by.id, training=self.app.training):
            self.message = _("Drawer opening (no sale): recorded in the audit log")

    def training(self) -> None:
        on = not identity.training_mode()
        if self.till.cart is not None and not self.till.cart.empty:
            self.message = _("Finish or park the sale in progress first")
            return
        identity.set_training_mode(on)
        audit.record(
            "training_on" if on else "training_off",
            staff_id=self.by.id,
            tz=self.till.config["store.timezone"],
        )
        self.app.training = on
        self.message = (
            _("Training mode is on: sales are practice only")
            if on
            else _("Training mode is off: sales are real again")
        )

    def x_report(self) -> None:
        shift = shifts.current()
        if shift is None:
            self.message = _("No shift is open: an X report covers the open shift")
            return
        self.app.go("report", report=reports.shift_report(shift.id), back="manager")

    def close_shift(self) -> None:
        if shifts.current() is None:
            self.message = _("No shift is open")
            return
        if self.till.cart is not None and not self.till.cart.empty:
            self.message = _("Finish or park the sale in progress first")
            return
        self.app.go("close_shift", approver=self.by)

    def reprint(self) -> None:
        till = self.till
        config = till.config

        def number(no: str):
            receipt = receipts.any_receipt(no, config, copy=True)
            self.app.local.submit(
                lambda: (
                    till.printing.reprint(
                        receipt, staff_id=till.staff.id, tz=config["store.timezone"]
                    )
                    if till.printing
                    else None
                ),
                lambda _job: self.app.notify(f_("Copy of {no} queued for printing", no=no), "ok"),
                self.app.error,
            )

        def checked(no: str):
            try:
                number(no)
            except LookupError as exc:
                raise ValueError(str(exc)) from None

        last = till.last_sale.receipt_no if till.last_sale else ""
        ask_text(_("Reprint which receipt?"), checked, text=last, hint=_("Receipt number"))


class CashMoveScreen(TillScreen):
    direction = StringProperty("in")
    reason = StringProperty("")
    message = StringProperty("")
    choices = ListProperty(CASH_REASONS["in"])

    def enter(self, direction: str = "in", **_kwargs) -> None:
        self.direction = direction
        self.choices = list(CASH_REASONS[direction])
        self.reason = ""
        self.message = ""
        self.ids.amount.value = ""

    def pick(self, reason: str) -> None:
        self.reason = reason

    def other(self) -> None:
        ask_text(_("Reason"), lambda text: setattr(self, "reason", text) if text else False)

    def submit(self) -> None:
        try:
            amount = self.app.amount(self.ids.amount.value)
        except ValueError as exc:
            self.message = explain(exc)
            return
        if amount <= 0:
            self.message = _("Type the amount")
            return
        if not self.reason:
            self.message = _("Choose a reason")
            return
        sign = 1 if self.direction == "in" else -1
        reason = _(self.reason)
        try:
            shifts.cash_move(self.till.staff, sign * amount, reason, self.till.config)
        except shifts.ShiftError as exc:
            self.message = explain(exc)
            return
        self.app.open_drawer("cash_in" if sign > 0 else "cash_out", training=self.app.training)
        self.app.notify(
            f_("Cash in: {amount}", amount=self.app.money(amount))
            if sign > 0
            else f_("Cash out: {amount}", amount=self.app.money(amount)),
            "ok",
        )
        self.app.go("manager")


class ReportScreen(TillScreen):
    text = StringProperty("")
    title = StringProperty("")
    back = StringProperty("manager")
    closing = BooleanProperty(False)
    report = ObjectProperty(None, allownone=True)

    def enter(self, report=None, back: str = "manager", closing: bool = False, **_kwargs):
        self.report = report
        self.back = back
        self.closing = closing
        self.refresh()

    def refresh(self) -> None:
        if self.report is None:
            return
        config = self.till.config
        receipt = receipts.report_receipt(self.report, config)
        self.title = receipt.receipt_no
        self.text = receipts.as_text(receipt, config["printer.width"])

    def print(self) -> None:
        till, report = self.till, self.report
        self.app.local.submit(
            lambda: till.print_report(report),
            lambda _job: self.app.notify(_("Report queued for printing"), "ok"),
            self.app.error,
        )

    def done(self) -> None:
        if self.closing:
            self.app.logout()
        else:
            self.app.go(self.back)


class CloseShiftScreen(TillScreen):
    approver = ObjectProperty(None, allownone=True)
    blind = BooleanProperty(True)
    expected_text = StringProperty("")
    message = StringProperty("")

    def enter(self, approver=None, **_kwargs) -> None:
        self.approver = approver
        self.message = ""
        self.ids.counted.value = ""
        self.blind = self.till.config["till.blind_close"]
        self.expected_text = ""
        shift = shifts.current()
        if shift is not None and not self.blind:
            expected = reports.shift_report(shift.id).expected_cash
            self.expected_text = f_(
                "Expected in the drawer: {amount}", amount=self.app.money(expected)
            )

    def submit(self) -> None:
        typed = self.ids.counted.value
        if not typed:
            self.message = _("Count the cash in the drawer and type the total")
            return
        try:
            counted = self.app.amount(typed)
        except ValueError as exc:
            self.message = explain(exc)
            return
        confirm(
            _("Close the shift"),
            f_(
                "Close the shift with {amount} counted? The Z report prints and everyone is logged out.",
                amount=self.app.money(counted),
            ),
            lambda: self._close(counted),
            ok_text=_("Close shift"),
            danger=True,
        )

    def _close(self, counted: int) -> None:
        till = self.till
        try:
            report = shifts.close_shift(till.staff, counted, till.config, approver=self.approver)
        except (shifts.ShiftError, AuthError) as exc:
            self.message = explain(exc)
            self.app.beep("error")
            return
        self.app.local.submit(lambda: till.print_report(report), None, self.app.error)
        self.app.refresh_status()
        self.app.go("report", report=report, back="login", closing=True)


class PrintQueueScreen(TillScreen):
    message = StringProperty("")

    def enter(self, **_kwargs) -> None:
        self.load()

    def refresh(self) -> None:
        self.load()

    def load(self) -> None:
        printing = self.till.printing
        if printing is None:
            self.message = _("No printer: ") + explain(self.till.devices["printer"].message)
            return
        self.app.local.submit(lambda: printing.jobs(limit=30), self._show, self.app.error)

    def _show(self, jobs) -> None:
        box = self.ids.rows
        box.clear_widgets()
        states = {"queued": _("waiting"), "done": _("printed"), "failed": _("not printed")}
        kinds = {
            "sale": _("Receipt"),
            "refund": _("Refund"),
            "report": _("Report"),
            "test": _("Test page"),
        }
        for job in jobs:
            detail = states.get(job.state, job.state)
            if job.copy:
                detail += " \u00b7 " + _("copy")
            if job.last_error and job.state != "done":
                detail += " \u00b7 " + explain(job.last_error)
            action = (
                _("Retry")
                if job.state == "failed"
                else (_("Cancel") if job.state == "queued" else "")
            )
            box.add_widget(
                ListRow(
                    title=f"{kinds.get(job.kind, job.kind)} {job.ref or ''}",
                    detail=detail,
                    action=action,
                    then1=lambda j=job: self.act(j),
                )
            )
        self.message = "" if jobs else _("Nothing has been printed yet")

    def act(self, job) -> None:
        printing = self.till.printing
        try:
            if job.state == "failed":
                printing.retry(job.id)
            else:
                printing.cancel(job.id)
        except ValueError as exc:
            self.message = explain(exc)
        self.load()


load_kv("manager.kv")
