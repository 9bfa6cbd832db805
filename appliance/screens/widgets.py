"""Widgets every screen uses: labels and buttons sized for touch, keypads, the on-screen
keyboard, the status bar. Layout is in widgets.kv; behaviour here."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput

from . import theme

SYMBOL_FONT = "DejaVuSans"  # Roboto has no ⌫ ✓ ● ←; Kivy ships DejaVu Sans with them


# Kivy keeps the bindings of a class rule active even where an instance rule sets the same
# property, so these rules bind only properties that users do not set: they choose a size with
# `small`/`big`/`font_scale` and collapse an empty label with `collapse`.


class TLabel(Label):
    """Dark text that wraps inside its width."""

    small = BooleanProperty(False)
    big = BooleanProperty(False)
    collapse = BooleanProperty(False)  # no height at all while there is no text


class FlatButton(Button):
    """A flat button in one colour, darker while held."""

    tint = ColorProperty(theme.PRIMARY)


class TButton(FlatButton):
    """A FlatButton with centred text that wraps to two lines and is cut short beyond."""

    small = BooleanProperty(False)
    font_scale = NumericProperty(1.0)


class KeyButton(TButton):
    """A key of a keypad or keyboard: `key` is what it types or the name of what it does."""

    key = StringProperty("")


class Panel(BoxLayout):
    """A white area with padding."""


class Field(TextInput):
    """A one-line text field; the on-screen keyboard opens when it is touched."""

    keyboard_layout = StringProperty("alpha")  # alpha | numeric

    def on_focus(self, _instance, focused):
        app = App.get_running_app()
        if focused and app is not None and hasattr(app, "show_keyboard"):
            app.show_keyboard(self)


class NumPad(BoxLayout):
    """Digit keys that type into `entry` (a NumberEntry). `kind` "pin": digits, clear and
    backspace; "money": also 000 (and the store's decimal sign when its currency has one)."""

    entry = ObjectProperty(None, allownone=True)
    kind = StringProperty("money")
    decimal = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(kind=self._build, decimal=self._build)
        Clock.schedule_once(lambda _dt: self._build())

    def rows(self) -> list[list[tuple[str, str, float]]]:
        back = ("back", "\u232b", 1)
        clear = ("clear", "C", 1)
        if self.kind == "pin":
            last = [clear, ("0", "0", 1), back]
            return [[(d, d, 1) for d in row] for row in ("789", "456", "123")] + [last]
        extra = (self.decimal, self.decimal, 1) if self.decimal else ("00", "00", 1)
        return [
            [("7", "7", 1), ("8", "8", 1), ("9", "9", 1), back],
            [("4", "4", 1), ("5", "5", 1), ("6", "6", 1), clear],
            [("1", "1", 1), ("2", "2", 1), ("3", "3", 1), extra],
            [("0", "0", 3), ("000", "000", 1)],
        ]

    def _build(self, *_args) -> None:
        self.clear_widgets()
        for row in self.rows():
            line = BoxLayout(spacing=self.spacing)
            for key, label, weight in row:
                button = KeyButton(key=key, text=label, size_hint_x=weight)
                if key in ("back", "clear"):
                    button.tint = theme.NEUTRAL
                if key == "back":
                    button.font_name = SYMBOL_FONT
                button.bind(on_release=lambda b: self.press(b.key))
                line.add_widget(button)
            self.add_widget(line)

    def press(self, key: str) -> None:
        if self.entry is not None:
            self.entry.press(key)


class KeyRow(BoxLayout):
    """One row of the on-screen keyboard."""

    keys = StringProperty("")
    shift = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(keys=self._build, shift=self._build)

    def _build(self, *_args) -> None:
        self.clear_widgets()
        for key in self.keys:
            shown = key.upper() if self.shift else key
            button = KeyButton(key=key, text=shown)
            button.bind(on_release=lambda b: self.parent.press(b.key))
            self.add_widget(button)


class NumberEntry(Label):
    """What a NumPad typed: digits (and a decimal sign), shown as money, a masked PIN or plain.

    `value` is the typed text; the screen turns it into money with the store's locale."""

    value = StringProperty("")
    mode = StringProperty("money")  # money | pin | plain
    max_length = NumericProperty(12)
    placeholder = StringProperty("")
    shown = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(value=self._refresh, mode=self._refresh, placeholder=self._refresh)
        Clock.schedule_once(lambda _dt: self._refresh())

    def press(self, key: str) -> None:
        if key == "back":
            self.value = self.value[:-1]
        elif key == "clear":
            self.value = ""
        elif len(self.value) + len(key) <= self.max_length:
            if key in (".", ",") and key in self.value:
                return
            if self.mode == "money" and not self.value and key in ("0", "00", "000"):
                return
            self.value += key

    def _refresh(self, *_args) -> None:
        app = App.get_running_app()
        if not self.value:
            self.shown = self.placeholder
        elif self.mode == "pin":
            self.shown = "\u25cf " * len(self.value)
        elif self.mode == "money" and app is not None and hasattr(app, "format_typed"):
            self.shown = app.format_typed(self.value)
        else:
            self.shown = self.value


class OnScreenKeyboard(BoxLayout):
    """A full-width keyboard that types into `target` (a TextInput). Keys are at least 48 px
    wide at 800x480: ten to a row across the whole screen."""

    target = ObjectProperty(None, allownone=True)
    layout = StringProperty("alpha")  # alpha | numeric
    shift = BooleanProperty(False)

    ROWS = {
        "alpha": ("1234567890", "qwertyuiop", "asdfghjkl-", "zxcvbnm,.@"),
        "numeric": ("123", "456", "789", "0-+"),
    }

    def press(self, key: str) -> None:
        target = self.target
        if key == "hide":
            App.get_running_app().hide_keyboard()
            return
        if key == "shift":
            self.shift = not self.shift
            return
        if key == "abc":
            self.layout = "numeric" if self.layout == "alpha" else "alpha"
            return
        if target is None:
            return
        if key == "back":
            target.do_backspace()
        elif key == "enter":
            App.get_running_app().hide_keyboard()
            target.dispatch("on_text_validate")
        elif key == "space":
            target.insert_text(" ")
        else:
            target.insert_text(key.upper() if self.shift else key)
            if self.shift:
                self.shift = False


class StatusDot(BoxLayout):
    """One device or link in the status bar: a coloured dot and a short word."""

    text = StringProperty("")
    state = StringProperty("off")  # ok | warn | bad | off

    def colour(self, state: str):
        return {"ok": theme.OK, "warn": theme.WARN, "bad": theme.BAD}.get(state, theme.OFF)


class Toast(Label):
    """A message that shows for a few seconds over the bottom of the screen."""

    kind = StringProperty("info")  # info | ok | error
    _event = None

    def show(self, text: str, kind: str = "info", seconds: float = 3.5) -> None:
        self.text = text
        self.kind = kind
        self.opacity = 1
        if self._event is not None:
            self._event.cancel()
        self._event = Clock.schedule_once(self._hide, seconds)

    def _hide(self, *_args) -> None:
        self.opacity = 0
        self.text = ""


def fit_lines(text: str, width: float, font_size: float, lines: int = 2) -> str:
    """`text` wrapped into at most `lines` lines of `width` pixels, the last one cut short
    with an ellipsis when the rest does not fit (Kivy's own max_lines does not cut)."""
    from kivy.core.text import Label as CoreLabel

    if width <= 0:
        return text
    measure = CoreLabel(font_size=font_size)

    def fits(candidate: str) -> bool:
        return measure.get_extents(candidate)[0] <= width

    words = text.split()
    rows: list[str] = []
    current = ""
    for index, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if fits(trial):
            current = trial
            continue
        if current:
            rows.append(current)
        current = word
        if len(rows) == lines - 1:
            rest = " ".join(words[index:])
            if fits(rest):
                return "\n".join([*rows, rest])
            while rest and not fits(rest + "\u2026"):
                rest = rest[:-1]
            return "\n".join([*rows, rest.rstrip() + "\u2026"])
    rows.append(current)
    return "\n".join(rows)
