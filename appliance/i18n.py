"""The till's screens in Bahasa Indonesia and English, switchable while the till runs.

    >>> set_language("id_ID")
    >>> _("Pay")
    'Bayar'
    >>> set_language("en")
    >>> _("Pay"), money(12500)
    ('Pay', 'Rp12,500')

Messages are written in English in the code and translated by the gettext catalogs in
`appliance/locale/<language>.po` (plain .po files, read with Babel, so a translator edits them
with any gettext tool and nothing needs compiling). Money and times are formatted by Babel for
the screen language, money with the store's currency and exponent (`retail.money`).

Kivy screens write `_("Pay", app.lang)`: the second argument is ignored here, but it makes the
kv binding depend on `app.lang`, so every label changes when the language does.

Services raise errors in English. `explain()` turns the ones a cashier sees every day (wrong
PIN, unknown barcode, printer out of paper...) into the screen language; others are shown as
they are rather than hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources

from retail.money import IDR, SUPPORTED_LOCALES, Currency, format_money

LANGUAGES = SUPPORTED_LOCALES  # ("id_ID", "en")
LANGUAGE_NAMES = {"id_ID": "Bahasa Indonesia", "en": "English"}

_state = {"language": "id_ID", "currency": IDR}
_listeners: list[Callable[[str], None]] = []


@cache
def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of one language (empty translations left out)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    from babel.messages.pofile import read_po

    source = resources.files("appliance") / "locale" / f"{language}.po"
    with source.open("rb") as handle:
        po = read_po(handle, locale=language.replace("_", "-").split("-")[0])
    return {m.id: m.string for m in po if m.id and isinstance(m.id, str) and m.string}


def language() -> str:
    return _state["language"]


def set_language(value: str) -> None:
    """Switch the screens' language; listeners (the app) refresh what they show."""
    catalog(value)  # raises for an unknown language, before anything changes
    if value == _state["language"]:
        return
    _state["language"] = value
    for listener in list(_listeners):
        listener(value)


def set_currency(currency: Currency) -> None:
    _state["currency"] = currency


def on_change(listener: Callable[[str], None]) -> None:
    _listeners.append(listener)


def _(message: str, *_depends) -> str:
    """The translation of `message` in the current language (itself when there is none)."""
    return catalog(_state["language"]).get(message, message)


def f_(message: str, **values) -> str:
    """Translate, then fill in `{name}` fields: f_("Receipt {no}", no="000012")."""
    return _(message).format(**values)


def money(amount: int) -> str:
    return format_money(amount, _state["currency"], _state["language"])


def clock(moment: datetime) -> str:
    from babel.dates import format_time

    return format_time(moment, "HH:mm", locale=_state["language"])


def date_time(moment: datetime) -> str:
    from babel.dates import format_datetime

    return format_datetime(moment, "d MMM yyyy HH:mm", locale=_state["language"])


# Service errors a cashier meets often: pattern of the English text → message to translate.
# The patterns follow the wording in appliance/*.py and appliance/hw/*.py.
_ERRORS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"wrong PIN \((?P<n>\d+) tries left\)"), "Wrong PIN ({n} tries left)"),
    (
        re.compile(r"wrong PIN; (?P<name>.+) is now locked for a while"),
        "Wrong PIN: {name} is now locked for a while",
    ),
    (
        re.compile(r"(?P<name>.+) is locked after too many wrong PINs; try again in (?P<s>\d+) s"),
        "{name} is locked after too many wrong PINs: try again in {s} s",
    ),
    (re.compile(r"that PIN is not a manager's PIN"), "That PIN is not a manager's PIN"),
    (re.compile(r"(?P<name>.+) is not a manager"), "{name} is not a manager"),
    (
        re.compile(r"barcode (?P<code>\S+) is not in the catalog"),
        "Barcode {code} is not in the catalog",
    ),
    (
        re.compile(
            r"barcode (?P<code>\S+) is a scale label for PLU (?P<plu>\S+), which is not in "
            r"the catalog"
        ),
        "Scale label {code}: PLU {plu} is not in the catalog",
    ),
    (
        re.compile(r"check digit should be (?P<d>\d)"),
        "Misread barcode: the check digit should be {d}. Scan it again.",
    ),
    (
        re.compile(r"(?P<name>.+) is sold by weight: scan its scale label"),
        "{name} is sold by weight: scan its scale label or type its weight",
    ),
    (re.compile(r"no shift is open.*"), "No shift is open: open a shift first"),
    (re.compile(r"the cart is empty"), "The cart is empty"),
    (
        re.compile(r"receipt (?P<no>\S+) is not a sale of this till"),
        "Receipt {no} is not a sale of this till",
    ),
    (
        re.compile(r"everything on this receipt has already been refunded"),
        "Everything on this receipt has already been refunded",
    ),
    (re.compile(r"there is nothing to park: the cart is empty"), "The cart is empty"),
    (
        re.compile(r"a shift is already open on this till: close it first"),
        "A shift is already open on this till",
    ),
    (re.compile(r".*out of paper — put in a new roll"), "Printer out of paper: put in a new roll"),
    (
        re.compile(r".*paper nearly out — change the roll soon"),
        "Paper nearly out: change the roll soon",
    ),
    (re.compile(r".*cover open — close the printer cover"), "Printer cover open: close it"),
    (
        re.compile(r".*the drawer is already open — close it first.*"),
        "The drawer is already open: close it first",
    ),
    (
        re.compile(r"drawer left open for (?P<s>\d+) s — close it"),
        "Drawer open for {s} s: close it",
    ),
    (
        re.compile(r".*pulsed twice but the sensor still reads closed.*"),
        "The drawer did not open: is it locked with its key?",
    ),
    (
        re.compile(r"a (?P<t>card|qris) payment needs its reference \(approval code\)"),
        "Type the payment's reference (approval code)",
    ),
    (re.compile(r"cash (?P<a>\d+) is less than the (?P<b>\d+) due"), "Not enough cash"),
    (re.compile(r".*needs a manager's approval"), "A manager must approve this"),
    (re.compile(r"a discount above 10% needs a manager's approval"), "A manager must approve this"),
    # Device states (appliance/hw), as the status bar and its pop-up show them.
    (re.compile(r"ready"), "Ready"),
    (re.compile(r"closed"), "Closed"),
    (re.compile(r"open"), "Open"),
    (re.compile(r"ready \(no sensor\)"), "Ready (no sensor)"),
    (re.compile(r"ready \(simulated scanner\)"), "Ready (simulated scanner)"),
    (
        re.compile(r"ready \(simulated scanner: write codes to (?P<path>\S+)\)"),
        "Ready (simulated scanner: write codes to {path})",
    ),
    (re.compile(r"ready on (?P<port>\S+)"), "Ready on {port}"),
    (re.compile(r"ready \(keyboard scanner.*\)"), "Ready (keyboard scanner)"),
    (
        re.compile(r"ready \(this printer does not report paper or cover state\)"),
        "Ready (this printer does not report paper or cover)",
    ),
    (re.compile(r".*: not checked yet"), "Not checked yet"),
    (
        re.compile(r".*: not found — is the (?P<what>\w+) plugged in and switched on\?.*"),
        "The {what} is not found: is it plugged in and switched on?",
    ),
    (
        re.compile(r".*: the (?P<what>\w+) stopped answering.*"),
        "The {what} stopped answering: was it unplugged or switched off?",
    ),
    (
        re.compile(r".*: connection refused.*"),
        "The printer refuses the connection: check its address",
    ),
    (
        re.compile(r".*: no answer — is the (?P<what>\w+) switched on.*"),
        "The {what} does not answer: is it switched on and on the network?",
    ),
    (
        re.compile(r".*printer offline — .*"),
        "Printer offline: is the paper feed button held, or the cover open?",
    ),
    (re.compile(r"simulated printer switched off"), "Printer switched off"),
]


def explain(error: BaseException | str) -> str:
    """A service error in the screen language."""
    text = str(error).strip()
    for pattern, message in _ERRORS:
        match = pattern.fullmatch(text)
        if match:
            values = {key: _(value) for key, value in match.groupdict().items()}
            return _(message).format(**values)
    return text[:1].upper() + text[1:]
