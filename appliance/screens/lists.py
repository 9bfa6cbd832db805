"""Parked sales, pickup orders from the OMS, and customers to attach to the sale."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import customers, parking
from ..cart import CartError
from ..customers import CustomerError
from ..i18n import _, explain, f_
from ..receipts import local_time, tender_label
from . import load_kv
from .login import TillScreen


class ListRow(BoxLayout):
    """A row of a list: a title, a line of detail, and one or two buttons."""

    title = StringProperty("")
    detail = StringProperty("")
    action = StringProperty("")
    action2 = StringProperty("")
    then1 = ObjectProperty(None)
    then2 = ObjectProperty(None)


class ParkedScreen(TillScreen):
    message = StringProperty("")

    def enter(self, **_kwargs) -> None:
        self.message = ""
        self.show()

    def refresh(self) -> None:
        self.show()

    def show(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        items = parking.parked()
        for item in items:
            when = local_time(item.created_at, self.till.config)
            count = _("1 item") if item.lines == 1 else f_("{n} items", n=item.lines)
            box.add_widget(
                ListRow(
                    title=item.label,
                    detail=f"{when} \u00b7 {item.staff} \u00b7 {count}",
                    action=_("Resume"),
                    then1=lambda parked_id=item.id: self.resume(parked_id),
                )
            )
        if not items:
            self.message = _("No parked sales")

    def resume(self, parked_id: str) -> None:
        till = self.till
        if till.cart is not None and not till.cart.empty:
            self.message = _("Park or finish the sale in progress first")
            self.app.beep("error")
            return
        try:
            till.cart = parking.resume(parked_id, till.config, till.staff)
        except CartError as exc:
            self.message = explain(exc)
            self.show()
            return
        self.app.go("sale")


class PickupScreen(TillScreen):
    """Orders placed online or by phone, waiting to be collected here. They come from the OMS
    (through `appliance.oms_link`), on a worker thread. Their balance is paid on the payment
    screen, which comes back here with what it took (`paid`)."""

    message = StringProperty("")
    loading = BooleanProperty(False)
    orders = ListProperty([])
    paid_text = StringProperty("")

    def enter(self, paid=None, **_kwargs) -> None:
        self.paid = paid
        self.refresh()
        self.load()

    def refresh(self) -> None:
        paid = getattr(self, "paid", None)
        if paid is None:
            self.paid_text = ""
            return
        money = self.app.money
        text = f_(
            "Order {no} paid: {tender} {amount}",
            no=paid.number,
            tender=tender_label(paid.tender, self.app.lang),
            amount=money(paid.amount),
        )
        if paid.tender == "cash":
            text += "\n" + f_("Change: {amount}", amount=money(paid.change))
        self.paid_text = text

    def load(self) -> None:
        self.orders = []
        self.loading = True
        self.message = _("Asking the OMS for pickup orders…")
        link = self.till.oms
        self.app.net.submit(link.pickup_orders, self._loaded, self._failed)

    def _loaded(self, orders) -> None:
        self.loading = False
        self.orders = orders
        self.message = "" if orders else _("No orders are waiting to be collected")

    def _failed(self, exc) -> None:
        self.loading = False
        self.message = _("Pickup orders are not available:") + " " + explain(exc)

    def on_orders(self, _instance, orders) -> None:
        box = self.ids.rows
        box.clear_widgets()
        money = self.app.money
        for order in orders:
            due = order.due
            detail = f"{order.customer} \u00b7 {money(order.total)}"
            detail += " \u00b7 " + (f_("to pay {amount}", amount=money(due)) if due else _("paid"))
            box.add_widget(
                ListRow(
                    title=order.number,
                    detail=detail,
                    action=_("Take payment") if due else "",
                    then1=lambda o=order: self.take_payment(o),
                    action2=_("Collected"),
                    then2=lambda o=order: self.collected(o),
                )
            )

    def take_payment(self, order) -> None:
        self.app.go("payment", order=order)

    def collected(self, order) -> None:
        link, staff_id = self.till.oms, self.till.staff.id
        self.app.net.submit(
            lambda: link.mark_collected(order.order_id, staff_id),
            lambda _r: self.load(),
            self._failed,
        )

    def on_scan(self, _code: str) -> None:
        self.message = _("Pickup orders are chosen from the list: the scan was not used")
        self.app.beep("error")


class CustomerScreen(TillScreen):
    message = StringProperty("")
    good = BooleanProperty(False)
    results = ListProperty([])

    def enter(self, **_kwargs) -> None:
        self.message = ""
        self.good = False
        self.ids.search.text = ""
        self.ids.name.text = ""
        self.ids.phone.text = ""
        self.search("")

    def search(self, text: str) -> None:
        self.results = customers.search(text, limit=30)

    def on_results(self, _instance, results) -> None:
        box = self.ids.rows
        box.clear_widgets()
        for info in results:
            box.add_widget(
                ListRow(
                    title=info.name,
                    detail=info.phone or info.email or "",
                    action=_("Attach"),
                    then1=lambda i=info: self.attach(i),
                )
            )

    def attach(self, info) -> None:
        try:
            self.till.cart.attach_customer(info.id)
        except CartError as exc:
            self.message = explain(exc)
            return
        self.app.notify(f_("Customer: {name}", name=info.name), "ok")
        self.app.go("sale")

    def create(self) -> None:
        try:
            info = customers.create(self.ids.name.text, self.ids.phone.text or None)
        except CustomerError as exc:
            self.message = explain(exc)
            self.good = False
            self.app.beep("error")
            return
        self.app.hide_keyboard()
        self.attach(info)

    def detach(self) -> None:
        self.till.cart.attach_customer(None)
        self.app.go("sale")


load_kv("lists.kv")
