"""The till's screens in Bahasa Indonesia and English, switchable while the till runs.

    >>> set_language("id_ID")
    >>> _("Pay")
    'Bayar'
    >>> set_language("en")
    >>> _("Pay"), money(12500)
    ('Pay', 'Rp12,500')

Messages are written in English in the code and translated by the gettext catalogs in
`appliance/locale/<language>.po` (plain .po files that a translator edits with any gettext
tool; they are read as they are, nothing needs compiling). Money and times are formatted by Babel for
the screen language, money with the store's currency and exponent (`retail.money`).

Kivy screens write `_("Pay", app.lang)`: the second argument is ignored here, but it makes the
kv binding depend on `app.lang`, so every label changes when the language does.

Services raise errors in English. `explain()` turns the ones a cashier sees every day (wrong
PIN, unknown barcode, printer out of paper...) into the screen language; others are shown as
they are rather than hidden.
"""

from __future__ import annotations

import json
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


def read_po(text: str) -> dict[str, str]:
    """msgid → msgstr of a .po file's entries (the header and empty translations left out).

    A small reader, because Babel's takes a good part of the till's start-up: it knows
    comments, msgctxt-free entries and strings continued over several lines, which is all the
    catalogs here use."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def finish() -> None:
        if msgid is not None and msgstr is not None:
            key, value = "".join(msgid), "".join(msgstr)
            if key and value:
                entries[key] = value

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            finish()
            msgid, msgstr = [], None
            current, line = msgid, line[6:]
        elif line.startswith("msgstr "):
            msgstr = []
            current, line = msgstr, line[7:]
        if current is None or not (line.startswith('"') and line.endswith('"')):
            raise ValueError(f"line {number} of the catalog is not a .po line: {raw!r}")
        current.append(json.loads(line))
    finish()
    return entries


@cache
def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of one language (empty translations left out)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    source = resources.files("appliance") / "locale" / f"{language}.po"
    return read_po(source.read_text(encoding="utf-8"))


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


def kilograms(grams: int) -> str:
    """A weight as the screen language writes it: "1.250 kg" in English, "1,250 kg" in id."""
    from decimal import Decimal

    from babel.numbers import format_decimal

    value = Decimal(grams).scaleb(-3)
    return format_decimal(value, format="0.000", locale=_state["language"]) + " kg"


def clock(moment: datetime) -> str:
    from babel.dates import format_time

    return format_time(moment, "HH:mm", locale=_state["language"])


# Service errors a cashier meets often: pattern of the English text → message to translate.
# The patterns follow the wording in appliance/*.py and appliance/hw/*.py.
_ERRORS: list[tuple[str, str]] = [
    (r"wrong PIN \((?P<n>\d+) tries left\)", "Wrong PIN ({n} tries left)"),
    (
        r"wrong PIN; (?P<name>.+) is now locked for a while",
        "Wrong PIN: {name} is now locked for a while",
    ),
    (
        r"(?P<name>.+) is locked after too many wrong PINs; try again in (?P<s>\d+) s",
        "{name} is locked after too many wrong PINs: try again in {s} s",
    ),
    (r"that PIN is not a manager's PIN", "That PIN is not a manager's PIN"),
    (r"(?P<name>.+) is not a manager", "{name} is not a manager"),
    (
        r"barcode (?P<code>\S+) is not in the catalog",
        "Barcode {code} is not in the catalog",
    ),
    (
        r"barcode (?P<code>\S+) is a scale label for PLU (?P<plu>\S+), which is not in "
        r"the catalog",
        "Scale label {code}: PLU {plu} is not in the catalog",
    ),
    (
        r"check digit should be (?P<d>\d)",
        "Misread barcode: the check digit should be {d}. Scan it again.",
    ),
    (
        r"(?P<name>.+) is sold by weight: scan its scale label",
        "{name} is sold by weight: scan its scale label or type its weight",
    ),
    (r"no shift is open.*", "No shift is open: open a shift first"),
    (r"the cart is empty", "The cart is empty"),
    (
        r"receipt (?P<no>\S+) is not a sale of this till",
        "Receipt {no} is not a sale of this till",
    ),
    (
        r"everything on this receipt has already been refunded",
        "Everything on this receipt has already been refunded",
    ),
    (r"there is nothing to park: the cart is empty", "The cart is empty"),
    (
        r"a shift is already open on this till: close it first",
        "A shift is already open on this till",
    ),
    (r".*out of paper — put in a new roll", "Printer out of paper: put in a new roll"),
    (
        r".*paper nearly out — change the roll soon",
        "Paper nearly out: change the roll soon",
    ),
    (r".*cover open — close the printer cover", "Printer cover open: close it"),
    (
        r".*the drawer is already open — close it first.*",
        "The drawer is already open: close it first",
    ),
    (
        r"drawer left open for (?P<s>\d+) s — close it",
        "Drawer open for {s} s: close it",
    ),
    (
        r".*pulsed twice but the sensor still reads closed.*",
        "The drawer did not open: is it locked with its key?",
    ),
    (
        r"a (?P<t>card|qris) payment needs its reference \(approval code\)",
        "Type the payment's reference (approval code)",
    ),
    (r"cash (?P<a>\d+) is less than the (?P<b>\d+) due", "Not enough cash"),
    (r".*needs a manager's approval", "A manager must approve this"),
    (r"a discount above 10% needs a manager's approval", "A manager must approve this"),
    # The OMS link (appliance/oms_link.py).
    (
        r"this till is not enrolled with an OMS.*",
        "This till is not enrolled with an OMS: it knows only its own sales and has no pickup orders. A manager can enrol it (kasir enrol).",
    ),
    (
        r"the OMS cannot be reached from this till right now \((?P<n>\d+) events waiting to be sent\).*",
        "The OMS cannot be reached right now ({n} events waiting to be sent): try again when it is back.",
    ),
    (
        r"the OMS knows no sale of this store with that number.*",
        "The OMS does not know this receipt: the till that sold it may not have sent it yet.",
    ),
    # Device states (appliance/hw), as the status bar and its pop-up show them.
    (r"ready", "Ready"),
    (r"closed", "Closed"),
    (r"open", "Open"),
    (r"ready \(no sensor\)", "Ready (no sensor)"),
    (r"ready \(simulated scanner\)", "Ready (simulated scanner)"),
    (
        r"ready \(simulated scanner: write codes to (?P<path>\S+)\)",
        "Ready (simulated scanner: write codes to {path})",
    ),
    (r"ready on (?P<port>\S+)", "Ready on {port}"),
    (r"ready \(keyboard scanner.*\)", "Ready (keyboard scanner)"),
    (
        r"ready \(this printer does not report paper or cover state\)",
        "Ready (this printer does not report paper or cover)",
    ),
    (r".*: not checked yet", "Not checked yet"),
    (
        r".*: not found — is the (?P<what>\w+) plugged in and switched on\?.*",
        "The {what} is not found: is it plugged in and switched on?",
    ),
    (
        r".*: the (?P<what>\w+) stopped answering.*",
        "The {what} stopped answering: was it unplugged or switched off?",
    ),
    (
        r".*: connection refused.*",
        "The printer refuses the connection: check its address",
    ),
    (
        r".*: no answer — is the (?P<what>\w+) switched on.*",
        "The {what} does not answer: is it switched on and on the network?",
    ),
    (
        r".*printer offline — .*",
        "Printer offline: is the paper feed button held, or the cover open?",
    ),
    (r"simulated printer switched off", "Printer switched off"),
    # Pickup orders (appliance/oms_link.py).
    (
        r"that order is no longer waiting for pickup",
        "That order is no longer waiting for pickup",
    ),
    # What first boot could not apply (image/firstboot.py, through appliance/setup_report.py),
    # said for a shop owner rather than for the person who wrote the file's schema.
    (
        r"unknown key",
        "Kasir has no setting by this name: check its spelling and the [section] it is in",
    ),
    (
        r".+ is missing: the built-in defaults apply",
        "kasir.toml is not on the SD card: the till uses its built-in settings",
    ),
    (
        r".+ is not UTF-8 text: the built-in defaults apply",
        "kasir.toml is not saved as UTF-8 text: the till uses its built-in settings",
    ),
    (
        r"not valid TOML \((?P<detail>.+)\): nothing in it was applied",
        "kasir.toml has a writing mistake, so nothing in it was applied ({detail})",
    ),
    (
        r"expected a \[(?P<section>[^\]]+)\] section",
        "{section} should be a section heading, written [{section}]",
    ),
    (
        r"time zone '(?P<zone>.+)' is not installed on this till",
        "This till does not know the time zone {zone}: use Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)",
    ),
    (
        r"a Wi-Fi password without wifi\.ssid: no network to join",
        "There is a Wi-Fi password but no Wi-Fi network name (wifi.ssid), so no Wi-Fi network was joined",
    ),
    (
        r"not enrolled: (?P<reason>.+)",
        "The till has not joined the OMS yet ({reason}); it keeps trying",
    ),
    (r"`kasir init` failed: (?P<reason>.*)", "The till's store could not be created ({reason})"),
    (
        r"ssh host keys: (?P<reason>.*)",
        "Remote access (SSH) could not be switched on ({reason})",
    ),
    (r"should be a whole number, not (?P<value>.+)", "This should be a whole number, not {value}"),
    (r"should be text, not (?P<value>.+)", "This should be text in quotes, not {value}"),
    (r"should be true or false, not (?P<value>.+)", "This should be true or false, not {value}"),
    (r"should be a list, not (?P<value>.+)", "This should be a list in [ ], not {value}"),
    (
        r"(?P<value>['\"].*['\"]|-?\d+) is not one of (?P<choices>.+)",
        "{value} is not one of the choices: {choices}",
    ),
    (
        r"a Wi-Fi password has 8 to 63 characters \(or is 64 hex digits\)",
        "A Wi-Fi password has 8 to 63 characters (or is 64 hex digits)",
    ),
    (
        r"(?P<value>['\"].*['\"]) is not a time of day such as 03:30",
        "{value} is not a time of day such as 03:30",
    ),
    (r"(?P<value>['\"].*['\"]) should start with https://", "{value} should start with https://"),
    (
        r"(?P<value>['\"].*['\"]) is not a 2-letter country code such as ID",
        "{value} is not a 2-letter country code such as ID",
    ),
    # Staff and PINs (appliance/staff.py).
    (r"staff name is empty", "Type the name"),
    (r"staff name is longer than (?P<n>\d+) characters", "A name has at most {n} characters"),
    (
        r"there is already a staff member called (?P<name>.+)",
        "There is already someone called {name}",
    ),
    (r"a PIN is (?P<a>\d+) to (?P<b>\d+) digits", "A PIN is {a} to {b} digits"),
    (r"the two new PINs differ.*", "The two new PINs differ: type the new PIN again"),
    (r"the new PIN is the same as the current one", "The new PIN is the same as the current one"),
    (r"your own PIN is changed with Change my PIN.*", "Change your own PIN with Change my PIN"),
    (r"(?P<name>.+)'s account is disabled", "{name}'s account is deactivated"),
    (r"(?P<name>.+) is already active", "{name} is already active"),
    (r"(?P<name>.+) is already deactivated", "{name} is already deactivated"),
    (
        r"you cannot deactivate yourself while you are logged in",
        "You cannot deactivate yourself while you are logged in",
    ),
    (
        r"(?P<name>.+) is logged in on this till: log them out first",
        "{name} is logged in on this till: log them out first",
    ),
    (
        r"(?P<name>.+) is the last active manager: add another first",
        "{name} is the last active manager: add another manager first",
    ),
]


@cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    # Compiled on first use: the till starts faster without compiling forty patterns.
    return [(re.compile(pattern), message) for pattern, message in _ERRORS]


def explain(error: BaseException | str) -> str:
    """A service error in the screen language."""
    text = str(error).strip()
    for pattern, message in _patterns():
        match = pattern.fullmatch(text)
        if match:
            values = {key: _(value) for key, value in match.groupdict().items()}
            return _(message).format(**values)
    return text[:1].upper() + text[1:]
