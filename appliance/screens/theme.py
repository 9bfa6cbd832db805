"""Colours of the till's screens (RGBA, 0-1), chosen for a 7" screen under shop lighting:
dark text on light panels, one strong colour per kind of action."""

from __future__ import annotations


def hex_rgba(text: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    text = text.lstrip("#")
    r, g, b = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


def pressed(colour) -> tuple[float, float, float, float]:
    """The same colour a little darker: the look of a button held down."""
    r, g, b, a = colour
    return (r * 0.75, g * 0.75, b * 0.75, a)


BACKGROUND = hex_rgba("eceff1")
PANEL = hex_rgba("ffffff")
TEXT = hex_rgba("212121")
MUTED = hex_rgba("546e7a")
LINE = hex_rgba("cfd8dc")
SELECTED = hex_rgba("bbdefb")
FLASH = hex_rgba("c8e6c9")

STATUS_BAR = hex_rgba("263238")
STATUS_TEXT = hex_rgba("eceff1")
OK = hex_rgba("43a047")
WARN = hex_rgba("ffb300")
BAD = hex_rgba("e53935")
OFF = hex_rgba("90a4ae")

PRIMARY = hex_rgba("1565c0")  # ordinary actions
GO = hex_rgba("2e7d32")  # pay, confirm, finish
DANGER = hex_rgba("c62828")  # void, cancel, close shift
NEUTRAL = hex_rgba("607d8b")  # back, secondary
KEY = hex_rgba("455a64")  # keypad and keyboard keys
CATEGORY = hex_rgba("00838f")
PRODUCT = hex_rgba("ffffff")
TRAINING = hex_rgba("ef6c00")
