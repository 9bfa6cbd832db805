"""Settings a manager may change on the till. Each row says where its value comes from: the
config file on the SD card, a change made here, the environment or command line, or the
built-in default. Changes are kept in the till's own store (`Config.set`), never written to the
file."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import audit
from ..config import KEYS, ConfigError
from ..i18n import LANGUAGE_NAMES, _, explain, f_
from . import load_kv
from .dialogs import ChoiceDialog, ask_amount, ask_text
from .login import TillScreen
from .widgets import TLabel

GROUPS = (
    ("Language", ("display.language", "store.locale")),
    (
        "Store",
        (
            "store.name",
            "store.address",
            "store.npwp",
            "store.footer",
            "store.qris_payload",
            "store.ereceipt_base_url",
        ),
    ),
    (
        "Printer",
        ("printer.type", "printer.width", "printer.host", "printer.port", "printer.print_qr"),
    ),
    (
        "Cash drawer",
        ("drawer.type", "drawer.pin", "drawer.pulse_ms", "drawer.kick_pin", "drawer.sensor_pin"),
    ),
    ("Scanner", ("scanner.type", "scanner.port")),
    ("Till", ("till.name", "till.blind_close", "display.sound", "display.customer_display")),
)
LABELS = {
    "display.language": "Screen language",
    "store.locale": "Receipt language and number format",
    "store.name": "Store name",
    "store.address": "Address",
    "store.npwp": "Tax number (NPWP)",
    "store.footer": "Receipt footer",
    "store.qris_payload": "QRIS code (static)",
    "store.ereceipt_base_url": "E-receipt address",
    "printer.type": "Printer connection",
    "printer.width": "Paper width (characters)",
    "printer.host": "Network printer address",
    "printer.port": "Serial printer port",
    "printer.print_qr": "Print the e-receipt QR code",
    "drawer.type": "Drawer wiring",
    "drawer.pin": "Drawer GPIO pin",
    "drawer.pulse_ms": "Drawer pulse (ms)",
    "drawer.kick_pin": "Printer drawer pin",
    "drawer.sensor_pin": "Drawer sensor GPIO (-1: none)",
    "scanner.type": "Scanner type",
    "scanner.port": "Serial scanner port",
    "till.name": "Till name",
    "till.blind_close": "Blind count at shift close",
    "display.sound": "Beep on scan",
    "display.customer_display": "Customer display",
}
SOURCES = {
    "file": "from the config file",
    "till": "changed on this till",
    "default": "built-in default",
    "environment": "set by the environment",
    "command line": "set on the command line",
}
RESTART = ("printer.", "drawer.", "scanner.", "display.customer_display")


def shown(name: str, value) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, list):
        return " | ".join(str(v) for v in value) or "\u2014"
    if name in ("display.language", "store.locale"):
        return LANGUAGE_NAMES.get(value, value)
    if value == "":
        return "\u2014"
    text = str(value)
    return text if len(text) <= 48 else text[:45] + "…"


class SettingRow(BoxLayout):
    name = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    source = StringProperty("")
    overridden = BooleanProperty(False)
    local = BooleanProperty(False)
    screen = ObjectProperty(None)


class SettingsScreen(TillScreen):
    approver = ObjectProperty(None, allownone=True)
    message = StringProperty("")

    def enter(self, approver=None, **_kwargs) -> None:
        if approver is not None:
            self.approver = approver
        self.message = ""
        self.show()

    def refresh(self) -> None:
        self.show()

    def show(self) -> None:
        config = self.till.config
        box = self.ids.rows
        box.clear_widgets()
        for group, names in GROUPS:
            box.add_widget(TLabel(text=_(group), bold=True))
            for name in names:
                source = config.source(name)
                box.add_widget(
                    SettingRow(
                        name=name,
                        label=_(LABELS[name]),
                        value=shown(name, config[name]),
                        source=_(SOURCES[source]),
                        overridden=source in ("environment", "command line"),
                        local=source == "till",
                        screen=self,
                    )
                )

    @property
    def by(self):
        return self.approver or self.till.staff

    def change(self, name: str) -> None:
        spec = KEYS[name]
        config = self.till.config
        current = config[name]
        title = _(LABELS[name])
        if spec.type is bool:
            self.save(name, not current)
        elif spec.choices:
            labels = {v: LANGUAGE_NAMES.get(v, str(v)) for v in spec.choices}
            ChoiceDialog(
                title=title,
                choices=[(v, labels[v]) for v in spec.choices],
                then=lambda value: self.save(name, value),
            ).open()
        elif spec.type is int:
            dialog = ask_amount(
                title,
                lambda value: self.save(name, value, strict=True),
                message=f_("Now {value}", value=current),
            )
            dialog.mode = "plain"
        elif spec.type is list:
            ask_text(
                title,
                lambda text: self.save(
                    name, [p.strip() for p in text.split("|") if p.strip()], strict=True
                ),
                text=" | ".join(current),
                hint=_("Lines separated by |"),
            )
        else:
            ask_text(title, lambda text: self.save(name, text, strict=True), text=current)

    def save(self, name: str, value, strict: bool = False) -> None:
        config = self.till.config
        try:
            config.set(name, value, self.by.id if self.by else None)
        except ConfigError as exc:
            if strict:
                raise ValueError(explain(exc)) from None
            self.message = explain(exc)
            return
        audit.record(
            "setting_changed",
            staff_id=self.by.id if self.by else None,
            detail={"key": name, "value": value},
            tz=config["store.timezone"],
            send=False,
        )
        self.after(name)

    def reset(self, name: str) -> None:
        config = self.till.config
        config.reset(name)
        audit.record(
            "setting_changed",
            staff_id=self.by.id if self.by else None,
            detail={"key": name, "reset": True},
            tz=config["store.timezone"],
            send=False,
        )
        self.after(name)

    def after(self, name: str) -> None:
        config = self.till.config
        if config.source(name) in ("environment", "command line"):
            self.message = _("Saved, but the environment or command line still decides this value")
        elif name.startswith(RESTART):
            self.message = _("Saved: it applies when the till restarts")
        else:
            self.message = _("Saved")
        if name == "display.language":
            self.app.set_language(config[name])
        self.show()


load_kv("settings.kv")
