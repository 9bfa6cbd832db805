"""Taking payment: cash with quick-cash buttons, card and QRIS with their references, split
over several tenders; then the change, large, and the receipt's print state.

The sale commits on the UI thread (one short SQLite transaction); the receipt is rendered and
queued on a worker, and the drawer pulses on the drawer service's thread, only for cash. A
printer that is offline never holds the sale up: the receipt waits in the queue.

The same screen takes the balance of a pickup order (`app.go("payment", order=...)`), with the
same tenders, but in one of them for the whole balance (the OMS link records one tender per
`order.paid` event) and without cash rounding (the OMS settles the order only once it has been
paid its total: a balance rounded down for cash would leave it open). The cashier then goes
back to the pickup orders, which show what was paid and the change; a slip for the customer is
printed (`receipts.pickup_receipt`)."""

from __future__ import annotations

from dataclasses import dataclass

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from .. import receipts, shifts
from ..cart import CartError
from ..checkout import CheckoutError, TenderError, TenderInput, complete_sale
from ..i18n import _, explain, f_
from ..receipts import tender_label
from . import load_kv
from .dialogs import QrDialog, ask_amount, qr_texture, tell
from .login import TillScreen
from .widgets import TButton

QUICK_STEPS = (5_000, 10_000, 50_000, 100_000)


@dataclass(frozen=True)
class OrderPayment:
    """A pickup order's balance just paid here, for the pickup screen to tell."""

    number: str
    tender: str
    amount: int
    change: int = 0


class TenderRow(BoxLayout):
    index = NumericProperty(0)
    label = StringProperty("")
    amount = StringProperty("")
    reference = StringProperty("")


def quick_cash(due: int, unit: int = 1) -> list[int]:
    """Exact, then the next multiple of Rp5.000, 10.000, 50.000 and 100.000 above it."""
    amounts = [due]
    for step in QUICK_STEPS:
        step *= unit
        above = (due // step + 1) * step if due % step else due + step
        if above not in amounts and above > due:
            amounts.append(above)
    return sorted(amounts)


class PaymentScreen(TillScreen):
    tab = StringProperty("cash")
    total = NumericProperty(0)
    due = NumericProperty(0)  # still to pay (cash rounding applied once cash is involved)
    tenders = ListProperty([])  # [TenderInput]
    tender_rows = ListProperty([])
    quick = ListProperty([])
    message = StringProperty("")
    qris_ready = BooleanProperty(False)
    qris_texture = ObjectProperty(None, allownone=True)
    qris_payload = StringProperty("")  # what the code on the screen holds
    card_amount = NumericProperty(0)
    order = ObjectProperty(None, allownone=True)  # a pickup order (oms_link.PickupOrder)
    order_text = StringProperty("")
    paying = BooleanProperty(False)  # a pickup payment is being recorded on the worker

    def enter(self, order=None, **_kwargs) -> None:
        self.order = order
        self.paying = False
        self.tenders = []
        self.message = ""
        self.tab = "cash"
        self.ids.tabs.current = "cash"
        self.ids.cash.value = ""
        self.ids.card_ref.text = ""
        self.ids.qris_ref.text = ""
        self.total = order.due if order is not None else self.till.cart.priced().total
        self.recompute()

    def refresh(self) -> None:
        self.recompute()

    # -- arithmetic -----------------------------------------------------------------------------

    def _split(self) -> tuple[int, int]:
        external = sum(t.amount for t in self.tenders if t.tender != "cash")
        cash = sum(t.amount for t in self.tenders if t.tender == "cash")
        return external, cash

    def _rounded(self, amount: int) -> int:
        # A pickup order's balance is owed to the OMS to the rupiah: no cash rounding.
        return amount if self.order is not None else self.app.round_cash(amount)

    def cash_due(self) -> int:
        """What cash still has to settle: the rest after card/QRIS, rounded to the cash step."""
        external, cash = self._split()
        return max(0, self._rounded(self.total - external) - cash)

    def recompute(self) -> None:
        external, cash = self._split()
        rest = self.total - external - cash
        self.due = max(0, rest)
        money = self.app.money
        self.order_text = self._order_text()
        self.tender_rows = [
            (i, tender_label(t.tender, self.app.lang), money(t.amount), t.reference or "")
            for i, t in enumerate(self.tenders)
        ]
        cash_due = self.cash_due()
        unit = 10 ** self.till.config["store.currency_exponent"]
        self.quick = quick_cash(cash_due, unit) if cash_due else []
        self.card_amount = self.due
        self._fill_quick()
        self._update_qris()
        self.app.show_customer(
            {
                "view": "pay",
                "total_label": _("Total"),
                "total": money(self.total),
                "paid_label": _("Paid"),
                "paid": money(external + cash),
                "due_label": _("Still to pay"),
                "due": money(self.due),
            }
        )

    def _order_text(self) -> str:
        order = self.order
        if order is None:
            return ""
        parts = [f_("Pickup order {no}", no=order.number)]
        if order.customer:
            parts.append(order.customer)
        if order.paid:
            parts.append(f_("paid online {amount}", amount=self.app.money(order.paid)))
        return " \u00b7 ".join(parts)

    def on_tender_rows(self, _instance, rows) -> None:
        box = self.ids.tender_list
        box.clear_widgets()
        for index, label, amount, reference in rows:
            box.add_widget(TenderRow(index=index, label=label, amount=amount, reference=reference))

    def _fill_quick(self) -> None:
        box = self.ids.quick
        box.clear_widgets()
        for i, amount in enumerate(self.quick):
            label = _("Exact") + "\n" + self.app.money(amount) if i == 0 else self.app.money(amount)
            button = TButton(text=label, small=True)
            button.bind(on_release=lambda _b, a=amount: self.take_cash(a))
            box.add_widget(button)

    def _update_qris(self) -> None:
        try:
            payload = self.app.qris_for(self.due) if self.tab == "qris" else None
        except ValueError as exc:
            self.message = explain(exc)
            payload = None
        self.qris_ready = payload is not None
        self.qris_payload = payload or ""
        self.qris_texture = qr_texture(payload) if payload else None
        if payload:
            self.app.show_customer(
                {
                    "view": "qris",
                    "payload": payload,
                    "total_label": _("Scan to pay with QRIS"),
                    "total": self.app.money(self.due),
                }
            )

    def on_tab(self, *_args) -> None:
        self.ids.tabs.current = self.tab
        self.message = ""
        self._update_qris()

    # -- tenders --------------------------------------------------------------------------------

    def take_cash(self, amount: int | None = None) -> None:
        if amount is None:
            try:
                amount = self.app.amount(self.ids.cash.value)
            except ValueError as exc:
                self.message = explain(exc)
                return
        if amount <= 0:
            self.message = _("Type the cash the customer gives, or touch a quick-cash amount")
            return
        if self.order is not None:
            self.pay_order("cash", amount)
            return
        self.ids.cash.value = ""
        self.tenders = [*self.tenders, TenderInput("cash", amount)]
        self.settle_if_paid()

    def take_external(self, tender: str) -> None:
        field = self.ids.card_ref if tender == "card" else self.ids.qris_ref
        reference = field.text.strip()
        amount = self.card_amount if tender == "card" else self.due
        if not reference:
            self.message = _("Type the payment's reference (approval code)")
            self.app.beep("error")
            return
        if amount <= 0 or amount > self.due:
            self.message = f_(
                "The amount should be between {a} and {b}",
                a=self.app.money(1),
                b=self.app.money(self.due),
            )
            return
        self.app.hide_keyboard()
        if self.order is not None:
            self.pay_order(tender, amount, reference)
            return
        field.text = ""
        self.tenders = [*self.tenders, TenderInput(tender, amount, reference)]
        self.settle_if_paid()

    def change_card_amount(self) -> None:
        def chosen(amount: int):
            if not 0 < amount <= self.due:
                raise ValueError(
                    f_(
                        "The amount should be between {a} and {b}",
                        a=self.app.money(1),
                        b=self.app.money(self.due),
                    )
                )
            self.card_amount = amount

        ask_amount(_("Amount on the card"), chosen)

    def remove_tender(self, index: int) -> None:
        tenders = list(self.tenders)
        del tenders[index]
        self.tenders = tenders
        self.recompute()

    def settle_if_paid(self) -> None:
        external, cash = self._split()
        if cash:
            paid = cash >= self._rounded(self.total - external)
        else:
            paid = external >= self.total
        self.recompute()
        if paid:
            self.complete()

    def complete(self) -> None:
        till = self.till
        try:
            done = complete_sale(till.cart, self.tenders, staff=till.staff, config=till.config)
        except (TenderError, CartError, CheckoutError, shifts.ShiftError) as exc:
            # Nothing was stored: take the last tender back so the cashier can correct it.
            self.tenders = self.tenders[:-1]
            self.recompute()
            self.message = explain(exc)
            self.app.error(exc)
            return
        till.last_sale = done
        self.app.new_cart()
        if done.opens_drawer and till.drawer is not None:
            self.app.open_drawer("cash_sale", ref=done.receipt_no, training=done.training)
        self.app.go("done", sale=done)

    # -- a pickup order's balance ---------------------------------------------------------------

    def pay_order(self, tender: str, given: int, reference: str | None = None) -> None:
        """Record the whole balance of the pickup order in one tender (`given`: the cash handed
        over, or the amount charged), through the OMS link on its worker."""
        if self.paying:
            return  # a second touch while the first payment is being recorded
        order, due = self.order, self.total
        if given < due:
            self.message = f_("Not enough: {amount} is due", amount=self.app.money(due))
            self.app.beep("error")
            return
        self.paying = True
        self.message = _("Recording the payment…")
        link, staff_id = self.till.oms, self.till.staff.id
        tendered = given if tender == "cash" else due
        self.app.net.submit(
            lambda: link.take_payment(
                order.order_id, tender, due, reference, staff_id, tendered=tendered
            ),
            lambda shown: self._order_paid(
                OrderPayment(order.number, tender, due, given - due), shown, reference
            ),
            self._order_not_paid,
        )

    def _order_paid(self, paid: OrderPayment, order, reference: str | None) -> None:
        self.paying = False
        if paid.tender == "cash":
            self.app.open_drawer("pickup_cash", ref=paid.number)
        till = self.till
        slip = dict(
            tender=paid.tender,
            amount=paid.amount,
            tendered=paid.amount + paid.change,
            reference=reference,
        )
        self.app.local.submit(lambda: till.print_pickup(order, **slip))
        self.app.show_customer(
            {
                "view": "done",
                "total_label": _("Total"),
                "total": self.app.money(paid.amount),
                "change_label": _("Change"),
                "change": self.app.money(paid.change),
                "thanks": _("Thank you!"),
            }
        )
        self.app.go("pickup", paid=paid)

    def _order_not_paid(self, exc) -> None:
        self.paying = False
        self.message = explain(exc)
        self.app.beep("error")

    def back(self) -> None:
        if self.paying:
            return
        if self.order is not None:
            self.app.go("pickup")
            return
        if self.tenders:
            self.message = _("Remove the payments taken first (✕), or finish the payment")
            return
        self.app.go("sale")

    def on_scan(self, _code: str) -> None:
        self.message = _("Finish the payment first: the scan was not used")
        self.app.beep("error")


class DoneScreen(TillScreen):
    change_text = StringProperty("")
    total_text = StringProperty("")
    receipt_no = StringProperty("")
    print_text = StringProperty("")
    print_state = StringProperty("")
    training = BooleanProperty(False)

    def enter(self, sale=None, **_kwargs) -> None:
        self.sale = sale
        self.job_id = None
        self._polls = 0
        self.receipt_no = sale.receipt_no
        self.training = sale.training
        self.refresh()
        self.print_state = "queued"
        self.print_text = _("Printing the receipt…")
        till = self.till
        self.app.local.submit(
            lambda: till.print_receipt("sale", sale.receipt_no), self._queued, self._not_queued
        )
        self.app.show_customer(
            {
                "view": "done",
                "total_label": _("Total"),
                "total": self.app.money(sale.total),
                "change_label": _("Change"),
                "change": self.app.money(sale.change),
                "thanks": _("Thank you!"),
            }
        )

    def refresh(self) -> None:
        sale = getattr(self, "sale", None)
        if sale is None:
            return
        money = self.app.money
        self.change_text = money(sale.change)
        paid = ", ".join(
            f"{tender_label(t, self.app.lang)} {money(a)}" for t, a, _r in sale.payments
        )
        self.total_text = f_("Total {total} · paid {paid}", total=money(sale.total), paid=paid)

    def _queued(self, job_id) -> None:
        self.job_id = job_id
        self._poll()

    def _not_queued(self, exc) -> None:
        self.print_state = "failed"
        self.print_text = f_("Receipt not queued: {reason}", reason=explain(exc))

    def _poll(self, *_args) -> None:
        till = self.till
        self.app.local.submit(lambda: till.job_state(self.job_id), self._polled)

    def _polled(self, result) -> None:
        state, error = result
        printer = self.till.devices["printer"]
        self.print_state = state
        if state == "done":
            self.print_text = _("Receipt printed")
            return
        if state == "failed":
            self.print_text = f_("Receipt not printed: {reason}", reason=explain(error or ""))
            return
        if state == "none":
            self.print_text = f_("No printer: {reason}", reason=explain(error or printer.message))
            return
        if error or printer.state == "bad":
            self.print_state = "offline"
            reason = explain(error or printer.message)
            self.print_text = (
                _("Printer offline — receipt queued: it prints when the printer is back")
                + f" ({reason})"
            )
        else:
            self.print_text = _("Printing the receipt…")
        self._polls += 1
        if self.manager is not None and self.manager.current == self.name and self._polls < 240:
            Clock.schedule_once(self._poll, 0.5)

    def reprint(self) -> None:
        till = self.till
        no = self.receipt_no
        self.app.local.submit(
            lambda: till.print_receipt("sale", no, copy=True),
            lambda _job: self.app.notify(_("Copy queued for printing"), "ok"),
            self.app.error,
        )

    def ereceipt(self) -> None:
        receipt = receipts.sale_receipt(self.receipt_no, self.till.config)
        if not receipt.ereceipt_url:
            tell(
                _("E-receipt"),
                _(
                    "E-receipts need the address of the OMS's e-receipt pages: a manager sets store.ereceipt_base_url in the till's config."
                ),
            )
            return
        QrDialog(
            title=_("E-receipt"),
            message=_("The customer scans this code to keep the receipt on their phone."),
            payload=receipt.ereceipt_url,
        ).open()

    def new_sale(self) -> None:
        self.app.go("sale")
        self.app.show_customer({"view": "idle"})

    def on_scan(self, code: str) -> None:
        self.new_sale()
        self.app.current.on_scan(code)


load_kv("payment.kv")
