"""Pop-up dialogs: manager approval by PIN, amounts, text, choices, confirmations, QR codes."""

from __future__ import annotations

import io
from collections.abc import Callable

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from .. import staff
from ..i18n import _, explain
from . import load_kv, theme
from .widgets import TButton


class Dialog(ModalView):
    title = StringProperty("")
    message = StringProperty("")
    error_text = StringProperty("")

    def __init__(self, **kwargs):
        kwargs.setdefault("auto_dismiss", False)
        super().__init__(**kwargs)

    # No fading: a dialog that is still fading out would swallow the cashier's next touch.
    def open(self, *args, **kwargs):
        kwargs.setdefault("animation", False)
        super().open(*args, **kwargs)

    def dismiss(self, *args, **kwargs):
        kwargs.setdefault("animation", False)
        super().dismiss(*args, **kwargs)

    @property
    def app(self):
        return App.get_running_app()


class ManagerPinDialog(Dialog):
    """Asks for a manager's PIN; `then(approver)` runs once a manager's PIN was accepted. The
    PIN is checked on a worker thread (it is a slow hash on purpose)."""

    what = StringProperty("")
    checking = BooleanProperty(False)
    then = ObjectProperty(None)

    def submit(self) -> None:
        pin = self.ids.pin.value
        if not pin:
            self.error_text = _("Type a manager's PIN")
            return
        self.checking = True
        self.error_text = ""
        config = self.app.till.config
        self.app.local.submit(lambda: staff.approve(pin, config), self._approved, self._refused)

    def _approved(self, approver) -> None:
        self.checking = False
        self.dismiss()
        if self.then is not None:
            self.then(approver)

    def _refused(self, exc) -> None:
        self.checking = False
        self.ids.pin.value = ""
        self.error_text = explain(exc)
        self.app.beep("error")


def with_manager(what: str, then: Callable) -> None:
    """Run `then(approver)` at once for a manager who is logged in, else after a manager's PIN."""
    app = App.get_running_app()
    current = app.till.staff
    if current is not None and current.is_manager:
        then(current)
        return
    ManagerPinDialog(what=what, then=then).open()


class ConfirmDialog(Dialog):
    ok_text = StringProperty("")
    danger = BooleanProperty(False)
    then = ObjectProperty(None)

    def confirm(self) -> None:
        self.dismiss()
        if self.then is not None:
            self.then()


class MessageDialog(Dialog):
    pass


class AmountDialog(Dialog):
    """An amount (or a plain number, `mode` "plain") typed on a keypad."""

    mode = StringProperty("money")
    hint = StringProperty("")
    then = ObjectProperty(None)

    def submit(self) -> None:
        typed = self.ids.entry.value
        try:
            value = self.app.amount(typed) if self.mode == "money" else int(typed or "0")
        except ValueError as exc:
            self.error_text = explain(exc)
            return
        try:
            if self.then is not None and self.then(value) is False:
                return
        except Exception as exc:
            self.error_text = explain(exc)
            self.app.beep("error")
            return
        self.dismiss()


class TextDialog(Dialog):
    """Text typed on the on-screen keyboard; the dialog sits above the keyboard."""

    text = StringProperty("")
    hint = StringProperty("")
    then = ObjectProperty(None)
    keyboard_layout = StringProperty("alpha")

    def on_open(self) -> None:
        self.ids.field.focus = True
        self.app.show_keyboard(self.ids.field)

    def submit(self) -> None:
        try:
            if self.then is not None and self.then(self.ids.field.text.strip()) is False:
                return
        except Exception as exc:
            self.error_text = explain(exc)
            self.app.beep("error")
            return
        self.app.hide_keyboard()
        self.dismiss()

    def cancel(self) -> None:
        self.app.hide_keyboard()
        self.dismiss()


class ChoiceDialog(Dialog):
    """One of several values, as big buttons."""

    choices = ListProperty([])  # [(value, label)]
    then = ObjectProperty(None)

    def on_pre_open(self) -> None:
        box = self.ids.choices
        box.clear_widgets()
        for value, label in self.choices:
            button = TButton(text=label, size_hint_y=None, height=self.app.bh)
            button.bind(on_release=lambda _b, v=value: self.pick(v))
            box.add_widget(button)

    def pick(self, value) -> None:
        self.dismiss()
        if self.then is not None:
            self.then(value)


class StatusRow(BoxLayout):
    what = StringProperty("")
    state = StringProperty("off")
    message = StringProperty("")
    colour = ColorProperty(theme.OFF)


class StatusPopup(Dialog):
    rows = ListProperty([])  # [(what, state, message)]

    def on_pre_open(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        for what, state, message in self.rows:
            colour = {"ok": theme.OK, "warn": theme.WARN, "bad": theme.BAD}.get(state, theme.OFF)
            box.add_widget(StatusRow(what=what, state=state, message=message, colour=colour))


def qr_texture(payload: str):
    """A texture of the QR code of `payload`, black on white with a quiet zone."""
    import qrcode

    code = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    data = io.BytesIO()
    image.save(data, format="png")
    data.seek(0)
    texture = CoreImage(data, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class QrDialog(Dialog):
    payload = StringProperty("")
    texture = ObjectProperty(None, allownone=True)

    def on_payload(self, _instance, payload) -> None:
        self.texture = qr_texture(payload) if payload else None


def ask_amount(title: str, then: Callable[[int], object], *, message: str = "") -> AmountDialog:
    dialog = AmountDialog(title=title, message=message, then=then)
    dialog.open()
    return dialog


def ask_text(
    title: str,
    then: Callable[[str], object],
    *,
    text: str = "",
    hint: str = "",
    layout: str = "alpha",
) -> TextDialog:
    dialog = TextDialog(title=title, text=text, hint=hint, then=then, keyboard_layout=layout)
    dialog.open()
    return dialog


def confirm(
    title: str, message: str, then: Callable[[], None], *, ok_text: str = "", danger: bool = False
) -> ConfirmDialog:
    dialog = ConfirmDialog(
        title=title, message=message, then=then, danger=danger, ok_text=ok_text or _("OK")
    )
    dialog.open()
    return dialog


def tell(title: str, message: str) -> MessageDialog:
    dialog = MessageDialog(title=title, message=message)
    dialog.open()
    return dialog


load_kv("dialogs.kv")
