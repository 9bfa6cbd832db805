"""The sale screen: the cart on one side, products by category or search on the other.

Scanned codes arrive through `on_scan` (from the scanner's thread via the app, one frame
later) and go into the cart with a beep and the line lit up; an unknown code says so and
offers a manager the open price."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from .. import catalog, customers, parking
from ..cart import BarcodeError, CartError, Discount, UnknownBarcode
from ..catalog import UnknownProduct
from ..i18n import _, explain, f_, kilograms
from ..staff import AuthError
from . import load_kv
from .dialogs import ChoiceDialog, ConfirmDialog, ask_amount, ask_text, confirm, with_manager
from .login import TillScreen
from .widgets import FlatButton, fit_lines


class CartRow(ButtonBehavior, BoxLayout):
    key = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    selected = BooleanProperty(False)
    flash = BooleanProperty(False)

    def on_release(self):
        from kivy.app import App

        current = App.get_running_app().current
        if hasattr(current, "select_line"):
            current.select_line(self.key)


class ProductButton(FlatButton):
    index = NumericProperty(0)
    name = StringProperty("")
    price = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(name=self._fit, width=self._fit, font_size=self._fit)

    def _fit(self, *_args) -> None:
        self.text = fit_lines(self.name, self.width - dp(10), self.font_size, 2)

    def on_release(self):
        from kivy.app import App

        current = App.get_running_app().current
        if hasattr(current, "tap_product"):
            current.tap_product(self.index)


class CategoryButton(FlatButton):
    category_id = NumericProperty(0)


def qty_text(line, money) -> str:
    if line.weight_g is not None:
        return f"{kilograms(line.weight_g)} \u00d7 {money(line.unit_price)}/kg"
    if line.embedded_price is not None:
        return _("price from scale label")
    if line.qty == 1 and not line.price_overridden:
        return money(line.unit_price)
    text = f"{line.qty} \u00d7 {money(line.unit_price)}"
    if line.price_overridden:
        text += " " + _("(price changed)")
    return text


class SaleScreen(TillScreen):
    lines = ListProperty([])
    products = ListProperty([])
    categories = ListProperty([])
    selected_key = StringProperty("")
    category_id = NumericProperty(0)
    searching = BooleanProperty(False)
    total_text = StringProperty("")
    summary_text = StringProperty("")
    customer_text = StringProperty("")
    parked_count = NumericProperty(0)
    item_count = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._search = Clock.create_trigger(self._run_search, 0.15)
        self._products: list = []
        self._flash_key = ""

    # -- life cycle ---------------------------------------------------------------------------

    def enter(self, **_kwargs) -> None:
        if self.till.cart is None:
            self.app.new_cart()
        if not self.categories:
            self.load_categories()
        self.parked_count = len(parking.parked())
        self.refresh()

    def refresh(self) -> None:
        self.show_cart()
        self._show_products()

    def load_categories(self) -> None:
        cats = [c for c in catalog.categories() if c.products]
        self.categories = [(c.id, c.name) for c in cats]
        if cats and not self.category_id:
            self.pick_category(cats[0].id)

    def on_categories(self, _instance, categories) -> None:
        box = self.ids.categories
        box.clear_widgets()
        for cat_id, name in categories:
            button = CategoryButton(category_id=cat_id, text=name)
            button.bind(on_release=lambda b: self.pick_category(b.category_id))
            box.add_widget(button)
        self._mark_category()

    def on_category_id(self, *_args) -> None:
        self._mark_category()

    def _mark_category(self) -> None:
        from . import theme

        for button in self.ids.categories.children:
            selected = button.category_id == self.category_id and not self.searching
            button.tint = theme.PRIMARY if selected else theme.CATEGORY

    def pick_category(self, category_id: int) -> None:
        self.ids.search.text = ""
        self.searching = False
        self.category_id = category_id
        self._products = catalog.products_in_category(category_id)
        self._show_products()
        self._mark_category()

    # -- products -----------------------------------------------------------------------------

    def search_changed(self, text: str) -> None:
        self._search()

    def _run_search(self, *_args) -> None:
        text = self.ids.search.text.strip()
        if not text:
            self.searching = False
            if self.category_id:
                self.pick_category(self.category_id)
            return
        self.searching = True
        self._products = catalog.search(text, limit=60)
        self._show_products()
        self._mark_category()

    def search_entered(self) -> None:
        text = self.ids.search.text.strip()
        if not text:
            return
        if text.isdigit() and len(text) >= 8:
            self.ids.search.text = ""
            self.on_scan(text)
            return
        self._run_search()
        if len(self._products) == 1:
            self.tap_product(0)

    def clear_search(self) -> None:
        self.ids.search.text = ""
        self.app.hide_keyboard()
        self._run_search()

    def _show_products(self) -> None:
        money = self.app.money
        self.products = [
            {
                "index": i,
                "name": p.name,
                "price": money(p.price) + ("/kg" if p.unit == "kg" else ""),
            }
            for i, p in enumerate(self._products)
        ]

    def tap_product(self, index: int) -> None:
        product = self._products[index]
        if product.unit == "kg":
            ask_amount(
                f_("Weight of {name} in grams", name=product.name),
                lambda grams: self._weighed(product, grams),
                message=_("Or scan the scale label."),
            ).mode = "plain"
            return
        self._add(lambda: self.till.cart.add_product(product))

    def _weighed(self, product, grams: int):
        self._add(lambda: self.till.cart.add_weighed(product, grams))

    # -- scanning -----------------------------------------------------------------------------

    def on_scan(self, code: str) -> None:
        try:
            line = self.till.cart.scan(code)
        except UnknownBarcode as exc:
            self.app.beep("error")
            self.unknown_barcode(exc.code, explain(exc))
            return
        except (BarcodeError, CartError, UnknownProduct) as exc:
            self.app.error(exc)
            return
        self._added(line)

    def _add(self, fn) -> None:
        try:
            line = fn()
        except (CartError, UnknownProduct) as exc:
            self.app.error(exc)
            return
        self._added(line)

    def _added(self, line) -> None:
        self.selected_key = line.key
        self._flash_key = line.key
        self.show_cart(scroll_to=line.key)
        self.app.beep("ok")
        self.app.notify(f_("Added: {name}", name=line.name), "ok", 1.5)
        Clock.schedule_once(self._unflash, 0.8)

    def _unflash(self, *_args) -> None:
        self._flash_key = ""
        self.show_cart()

    def unknown_barcode(self, code: str, message: str) -> None:
        dialog = ConfirmDialog(
            title=_("Unknown barcode"),
            message=message + "\n" + _("Check the item. A manager can sell it at an open price."),
            ok_text=_("Sell at open price"),
            then=lambda: self._open_price(code),
        )
        dialog.open()

    def _open_price(self, code: str) -> None:
        def priced(price: int):
            if price <= 0:
                raise CartError("an open-price item needs a price above zero")

            def named(name: str):
                def approved(approver):
                    self._add(
                        lambda: self.till.cart.add_open_price(
                            name or _("Miscellaneous"), price, approver, barcode=code
                        )
                    )

                with_manager(_("Sell an unknown item at an open price"), approved)

            ask_text(_("Name on the receipt"), named, text=_("Miscellaneous"))

        ask_amount(f_("Open price for barcode {code}", code=code), priced)

    # -- the cart -------------------------------------------------------------------------------

    def show_cart(self, scroll_to: str | None = None) -> None:
        cart = self.till.cart
        if cart is None:
            return
        money = self.app.money
        priced = cart.priced()
        keys = {line.key for line in cart.lines}
        if self.selected_key not in keys:
            self.selected_key = ""
        rows = []
        for line, p in zip(cart.lines, priced.lines, strict=True):
            detail = qty_text(line, money)
            if p.discount:
                label = p.promotion or _("discount")
                detail += f"  \u00b7 {label} -{money(p.discount)}"
            rows.append(
                {
                    "key": line.key,
                    "name": line.name,
                    "detail": detail,
                    "amount": money(p.total),
                    "selected": line.key == self.selected_key,
                    "flash": line.key == self._flash_key,
                }
            )
        self.lines = rows
        self.item_count = sum(1 if line.weight_g else line.qty for line in cart.lines)
        self.total_text = money(priced.total)
        count = self.item_count
        parts = [f_("1 item") if count == 1 else f_("{n} items", n=count)]
        if priced.discount_total:
            parts.append(f_("saved {amount}", amount=money(priced.discount_total)))
        if priced.tax_total:
            tax = money(priced.tax_total)
            if cart.config["store.prices_include_tax"]:
                parts.append(f_("incl. tax {amount}", amount=tax))
            else:
                parts.append(f_("tax {amount}", amount=tax))
        self.summary_text = "  \u00b7  ".join(parts)
        self.customer_text = ""
        if cart.customer_id:
            info = customers.get(cart.customer_id)
            self.customer_text = info.name if info else ""
        if scroll_to is not None:
            Clock.schedule_once(lambda _dt: self._scroll(scroll_to))
        self.app.show_customer(
            {
                "view": "cart" if rows else "idle",
                "lines": [[r["name"], r["detail"], r["amount"]] for r in rows[-12:]],
                "total_label": _("Total"),
                "total": self.total_text,
                "note": self.summary_text,
            }
        )

    def _scroll(self, key: str) -> None:
        rv = self.ids.cart_rv
        index = next((i for i, r in enumerate(self.lines) if r["key"] == key), None)
        content = rv.children[0] if rv.children else None
        if content is None or content.height <= rv.height:
            rv.scroll_y = 1  # all of it fits: keep it at the top
            return
        if index is None or len(self.lines) < 2:
            return
        rv.scroll_y = max(0.0, min(1.0, 1 - index / (len(self.lines) - 1)))

    def select_line(self, key: str) -> None:
        self.selected_key = "" if key == self.selected_key else key
        self.show_cart()

    def _guarded(self, what: str, fn) -> None:
        """Run fn(approver=None); if it needs a manager, ask for one and run it again."""
        try:
            fn(None)
        except AuthError:
            with_manager(what, lambda approver: self._run(fn, approver))
            return
        except (CartError, ValueError) as exc:
            self.app.error(exc)
            return
        self.show_cart()

    def _run(self, fn, approver) -> None:
        try:
            fn(approver)
        except (CartError, AuthError, ValueError) as exc:
            self.app.error(exc)
        self.show_cart()

    def change_qty(self, step: int) -> None:
        if not self.selected_key:
            return
        cart = self.till.cart
        line = cart.line(self.selected_key)
        if line.qty + step < 1:
            self.void_line()
            return
        self._guarded(
            _("Take an item off the sale"),
            lambda approver: cart.set_qty(line.key, line.qty + step, approver),
        )

    def void_line(self) -> None:
        if not self.selected_key:
            return
        cart = self.till.cart
        key = self.selected_key
        name = cart.line(key).name

        def approved(approver):
            self._run(lambda a: cart.void(key, a), approver)

        confirm(
            _("Void line"),
            f_("Remove {name} from the sale?", name=name),
            lambda: with_manager(f_("Void {name}", name=name), approved),
            ok_text=_("Void"),
            danger=True,
        )

    def change_price(self) -> None:
        if not self.selected_key:
            return
        cart = self.till.cart
        key = self.selected_key
        line = cart.line(key)

        def priced(price: int):
            with_manager(
                f_("Change the price of {name}", name=line.name),
                lambda approver: self._run(lambda a: cart.override_price(key, price, a), approver),
            )

        ask_amount(
            f_("New price of {name}", name=line.name),
            priced,
            message=f_("Now {price}", price=self.app.money(line.unit_price)),
        )

    def discount(self, whole_sale: bool) -> None:
        cart = self.till.cart
        key = None if whole_sale else self.selected_key
        if not whole_sale and not key:
            return
        if cart.empty:
            return

        def apply(discount):
            if whole_sale:
                self._guarded(_("A discount above 10%"), lambda a: cart.discount_cart(discount, a))
            else:
                self._guarded(
                    _("A discount above 10%"), lambda a: cart.discount_line(key, discount, a)
                )

        def picked(value):
            if value == "amount":
                ask_amount(_("Discount amount"), lambda amount: apply(Discount("amount", amount)))
            elif value == "none":
                apply(None)
            else:
                apply(Discount("percent", int(value) * 100))

        title = _("Discount on the whole sale") if whole_sale else _("Discount on this line")
        choices = [(str(p), f"{p}%") for p in (5, 10, 15, 20, 50)]
        choices += [("amount", _("Amount…")), ("none", _("No discount"))]
        ChoiceDialog(title=title, choices=choices, then=picked).open()

    # -- actions --------------------------------------------------------------------------------

    def pay(self) -> None:
        if self.till.cart.empty:
            self.app.error(_("The cart is empty"))
            return
        self.app.go("payment")

    def park(self) -> None:
        cart = self.till.cart
        if cart.empty:
            self.app.error(_("The cart is empty"))
            return
        try:
            parking.park(cart, self.till.staff, self._park_label())
        except CartError as exc:
            self.app.error(exc)
            return
        self.parked_count = len(parking.parked())
        self.app.notify(_("Sale parked: resume it from Parked"), "ok")
        self.show_cart()

    def _park_label(self) -> str:
        cart = self.till.cart
        first = cart.lines[0].name
        more = len(cart.lines) - 1
        label = f"{first} +{more}" if more else first
        return f"{self.customer_text}: {label}" if self.customer_text else label

    def open_manager(self) -> None:
        with_manager(
            _("Manager functions"), lambda approver: self.app.go("manager", approver=approver)
        )

    def change_pin(self) -> None:
        from .staff_admin import change_my_pin  # its kv only when someone asks

        change_my_pin()

    def logout(self) -> None:
        cart = self.till.cart
        if cart.empty:
            self.app.logout()
            return

        def park_and_go():
            parking.park(cart, self.till.staff, self._park_label())
            self.app.logout()

        confirm(
            _("Log out"),
            _("Park the sale in progress and log out?"),
            park_and_go,
            ok_text=_("Park and log out"),
        )

    def customer(self) -> None:
        self.app.go("customer")


load_kv("sale.kv")
