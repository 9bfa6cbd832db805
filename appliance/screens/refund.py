"""Refunds by receipt number (scanned from the receipt's barcode or typed): this till's sales
from its own store, another till's through the OMS when it can be reached."""

from __future__ import annotations

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from .. import refunds, shifts
from ..i18n import _, explain, f_
from ..oms_link import OmsUnavailable
from ..receipts import local_time, tender_label
from ..staff import AuthError
from . import load_kv
from .dialogs import with_manager
from .login import TillScreen

REASONS = ("Damaged", "Wrong item", "Changed mind")


def _quiet(_exc) -> None:
    """An own sale needs no answer from the OMS: offline, the till's own knowledge stands."""


class RefundLineRow(BoxLayout):
    line_no = NumericProperty(0)
    name = StringProperty("")
    detail = StringProperty("")
    qty = NumericProperty(0)
    left = NumericProperty(0)
    amount = StringProperty("")

    def step(self, by: int) -> None:
        from kivy.app import App

        App.get_running_app().current.set_qty(self.line_no, self.qty + by)


class RefundScreen(TillScreen):
    sale = ObjectProperty(None, allownone=True)
    chosen = ObjectProperty({})  # line_no -> qty
    rows = ListProperty([])
    to = StringProperty("original")
    reason = StringProperty("")
    total = NumericProperty(0)
    message = StringProperty("")
    good = BooleanProperty(False)
    looking = BooleanProperty(False)
    info = StringProperty("")
    reasons = ListProperty(REASONS)

    def enter(self, **_kwargs) -> None:
        self.clear()

    def clear(self) -> None:
        self.sale = None
        self.chosen = {}
        self.rows = []
        self.total = 0
        self.info = ""
        self.reason = ""
        self.to = "original"
        self.ids.receipt.text = ""

    def refresh(self) -> None:
        self._show()

    # -- finding the sale -----------------------------------------------------------------------

    def on_scan(self, code: str) -> None:
        self.ids.receipt.text = code
        self.find()

    def find(self) -> None:
        self.app.hide_keyboard()
        number = self.ids.receipt.text.strip()
        self.message = ""
        self.good = False
        if not number:
            self.message = _("Scan the barcode on the receipt, or type its number")
            return
        try:
            sale = refunds.refundable(number)
        except refunds.RefundError:
            self._ask_oms(number)
            return
        if sale.origin is not None:
            # another till's sale refunded here before: what was refunded of it since (there
            # or at a third till) is known only to the OMS
            self._ask_oms(number)
            return
        self._choose(sale)
        # Our own sale is refunded with what this till knows, online or not; when the OMS
        # answers, refunds other tills made of it are taken in before the refund is booked.
        if self.till.oms.status().enrolled:
            link = self.till.oms
            self.app.net.submit(lambda: link.remote_sale(number), self._refreshed, _quiet)

    def _choose(self, sale) -> None:
        self.sale = sale
        self.chosen = {line.line_no: 0 for line in sale.lines}
        self.to = "original"
        self._show()

    def _ask_oms(self, number: str) -> None:
        self.sale = None
        self.rows = []
        self.looking = True
        self.message = _("Looking for the receipt at the OMS…")
        link = self.till.oms
        self.app.net.submit(lambda: link.remote_sale(number), self._remote, self._no_remote)

    def _remote(self, remote) -> None:
        self.looking = False
        try:
            sale = refunds.adopt_remote(remote)
        except refunds.RefundError as exc:
            self.message = explain(exc)
            self.app.beep("error")
            return
        self.message = ""
        self._choose(sale)

    def _refreshed(self, remote) -> None:
        if self.sale is None or self.sale.receipt_no != remote.sale.receipt_no:
            return  # the cashier moved on
        try:
            sale = refunds.adopt_remote(remote)
        except refunds.RefundError:
            return
        left = {line.line_no: line.left for line in sale.lines}
        self.sale = sale
        self.chosen = {no: min(qty, left.get(no, 0)) for no, qty in self.chosen.items()}
        self._show()

    def _no_remote(self, exc) -> None:
        self.looking = False
        number = self.ids.receipt.text.strip()
        text = f_("Receipt {no} is not a sale of this till.", no=number)
        if isinstance(exc, OmsUnavailable):
            text += (
                " "
                + _("Sales of other tills can be refunded only while the OMS can be reached:")
                + " "
                + explain(exc)
            )
        else:
            text += " " + explain(exc)
        self.message = text
        self.app.beep("error")

    # -- choosing -------------------------------------------------------------------------------

    def set_qty(self, line_no: int, qty: int) -> None:
        line = next(line for line in self.sale.lines if line.line_no == line_no)
        qty = max(0, min(line.left, qty))
        chosen = dict(self.chosen)
        chosen[line_no] = qty
        self.chosen = chosen
        self._show()

    def everything(self) -> None:
        if self.sale is None:
            return
        self.chosen = {line.line_no: line.left for line in self.sale.lines}
        self._show()

    def pick_reason(self, reason: str) -> None:
        self.reason = "" if self.reason == reason else reason

    def _show(self) -> None:
        sale = self.sale
        if sale is None:
            return
        money = self.app.money
        when = local_time(sale.created_at, self.till.config)
        tenders = ", ".join(tender_label(t, self.app.lang) for t in sale.tenders)
        self.info = f_(
            "Receipt {no} · {when} · {total} · {tenders}",
            no=sale.receipt_no,
            when=when,
            total=money(sale.total),
            tenders=tenders,
        )
        if sale.origin is not None:
            self.info += " · " + f_("sold at till {till}", till=sale.origin)
        rows, total = [], 0
        for line in sale.lines:
            qty = self.chosen.get(line.line_no, 0)
            amount = line.amount_for(qty) if qty else 0
            total += amount
            if line.left:
                detail = f_("sold {qty}, {left} can be refunded", qty=line.qty, left=line.left)
            else:
                detail = _("already refunded")
            rows.append(
                {
                    "line_no": line.line_no,
                    "name": line.name,
                    "detail": detail,
                    "qty": qty,
                    "left": line.left,
                    "amount": money(amount) if qty else "",
                }
            )
        self.rows = rows
        self.total = total
        if sale.training:
            self.message = _("This is a training sale: its refund is a training refund")

    def on_rows(self, _instance, rows) -> None:
        box = self.ids.lines
        box.clear_widgets()
        for row in rows:
            box.add_widget(RefundLineRow(**row))

    # -- refunding ------------------------------------------------------------------------------

    def refund(self) -> None:
        if self.sale is None:
            return
        lines = {no: qty for no, qty in self.chosen.items() if qty}
        if not lines:
            self.message = _("Choose what comes back: + on a line, or Everything")
            return
        with_manager(
            f_(
                "Refund {amount} of receipt {no}",
                amount=self.app.money(self.total),
                no=self.sale.receipt_no,
            ),
            lambda approver: self._refund(lines, approver),
        )

    def _refund(self, lines: dict[int, int], approver) -> None:
        till = self.till
        reason = _(self.reason) if self.reason else ""
        try:
            done = refunds.refund(
                self.sale.receipt_no,
                config=till.config,
                staff=till.staff,
                approver=approver,
                lines=lines,
                to=self.to,
                reason=reason,
            )
        except (refunds.RefundError, shifts.ShiftError, AuthError) as exc:
            self.message = explain(exc)
            self.app.beep("error")
            return
        if done.opens_drawer:
            self.app.open_drawer(
                "cash_refund", ref=done.receipt_no, training=done.training, approved_by=approver.id
            )
        self.app.local.submit(lambda: till.print_receipt("refund", done.receipt_no))
        paid = ", ".join(
            f"{tender_label(t, self.app.lang)} {self.app.money(a)}" for t, a in done.payments
        )
        self.clear()
        self.good = True
        self.message = f_(
            "Refund {no} done: give back {paid}", no=done.receipt_no, paid=paid or self.app.money(0)
        )
        self.app.beep("ok")
        self.app.refresh_status()


load_kv("refund.kv")
