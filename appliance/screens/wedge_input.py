"""Keys from the window to the keyboard-wedge scanner's burst detector, and back.

A USB scanner in keyboard mode types into whatever has focus. Every key the window receives
goes first to `WedgeScanner.key()` (appliance/hw/scanner.py), which holds keys while they come
a few milliseconds apart: a burst ending in Enter is a scan (delivered like any scanner's
code), anything else is handed back here and replayed, in order, to the focused text field.

Characters come from SDL's text events (they carry the shifted character: "T", not "t"), Enter
and Backspace from key events; modifier keys pass straight through, and any other key first
releases what is held so the order of typing is kept.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.core.window import Keyboard, Window

HELD_KEYS = {"enter": 13, "numpadenter": 271, "backspace": 8, "tab": 9}
MODIFIERS = {
    "shift",
    "rshift",
    "lshift",
    "ctrl",
    "lctrl",
    "rctrl",
    "alt",
    "alt-gr",
    "ralt",
    "lmeta",
    "rmeta",
    "super",
    "capslock",
    "numlock",
}
KEY_NAMES = {code: name for name, code in Keyboard.keycodes.items()}


class WedgeKeys:
    def __init__(self, scanner) -> None:
        self.scanner = scanner
        self._replaying = False
        self._poll = None

    def install(self) -> None:
        # Bound after the window's own keyboard handlers, so these run first (Kivy calls
        # handlers newest first) and can keep a key from reaching the text field.
        Window.bind(on_key_down=self._key_down, on_textinput=self._text)
        self._poll = Clock.schedule_interval(self._tick, self.scanner.detector.max_gap)

    def uninstall(self) -> None:
        Window.unbind(on_key_down=self._key_down, on_textinput=self._text)
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _key_down(self, _window, key, _scancode, codepoint, modifiers) -> bool:
        if self._replaying:
            return False
        name = KEY_NAMES.get(key, "")
        if name in MODIFIERS:
            return False
        if (
            codepoint
            and len(codepoint) == 1
            and codepoint.isprintable()
            and not ({"ctrl", "alt", "meta"} & set(modifiers))
        ):
            return False  # the character itself comes as a text event
        if name in HELD_KEYS:
            self._replay(self.scanner.key("enter" if name == "numpadenter" else name))
            return True
        self._replay(self.scanner.poll(float("inf")))
        return False

    def _text(self, _window, text: str) -> bool:
        if self._replaying:
            return False
        typed: list[str] = []
        for char in text:
            typed.extend(self.scanner.key(char))
        self._replay(tuple(typed))
        return True

    def _tick(self, _dt) -> None:
        self._replay(self.scanner.poll())

    def _replay(self, keys: tuple[str, ...]) -> None:
        if not keys:
            return
        self._replaying = True
        try:
            for key in keys:
                if key in HELD_KEYS:
                    Window.dispatch("on_key_down", HELD_KEYS[key], 0, None, [])
                    Window.dispatch("on_key_up", HELD_KEYS[key], 0)
                else:
                    Window.dispatch("on_textinput", key)
        finally:
            self._replaying = False
