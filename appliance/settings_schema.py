"""Every key the till's TOML config knows, with its type, default and check.

One list, so that a wrong key or value is reported by name at start-up, `kasir status` can say
where each value came from, and the example config documents every key. Device sections
(`scanner`, `printer`, `drawer`) live beside their drivers in `appliance/hw/settings.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from retail.ids import zone
from retail.money import SUPPORTED_LOCALES


@dataclass(frozen=True)
class Key:
    name: str  # "section.key"
    type: type  # str, int, bool, list or dict
    default: Any
    help: str
    choices: tuple | None = None
    check: Callable[[Any], None] | None = None  # raises ValueError with the reason
    secret: bool = False  # removed from the file by first boot once used
    editable_on_till: bool = True

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def env(self) -> str:
        return "KASIR_" + self.name.replace(".", "_").upper()

    def validate(self, value: Any) -> Any:
        if self.type is int and isinstance(value, bool):
            raise ValueError(f"should be a whole number, not {value!r}")
        if self.type is list and isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, self.type):
            kind = {
                str: "text",
                int: "a whole number",
                bool: "true or false",
                list: "a list",
                dict: "a table",
            }[self.type]
            raise ValueError(f"should be {kind}, not {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, self.choices))}")
        if self.check is not None:
            self.check(value)
        return value

    def from_text(self, text: str) -> Any:
        """A value given as text (environment variable or command line)."""
        if self.type is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{text!r} is not true or false")
        if self.type is int:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None
        if self.type is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        if self.type is dict:
            raise ValueError("a table cannot be given as text")
        return text


def _positive(value: int) -> None:
    if value <= 0:
        raise ValueError(f"{value} should be above zero")


def _non_negative(value: int) -> None:
    if value < 0:
        raise ValueError(f"{value} should not be negative")


def _zone(value: str) -> None:
    zone(value)


def _currency_code(value: str) -> None:
    if not (len(value) == 3 and value.isalpha() and value.isupper()):
        raise ValueError(f"{value!r} is not a 3-letter currency code such as IDR")


def _npwp(value: str) -> None:
    digits = "".join(ch for ch in value if ch.isdigit())
    if value and len(digits) not in (15, 16):
        raise ValueError(f"{value!r} is not an NPWP (15 or 16 digits)")


def _url(value: str) -> None:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} should start with https://")


CORE_KEYS: list[Key] = [
    Key("store.name", str, "Toko Kasir", "Store name printed at the top of receipts"),
    Key("store.address", str, "", "Address printed under the name"),
    Key("store.npwp", str, "", "Tax number (NPWP) so receipts serve as tax invoices", check=_npwp),
    Key("store.footer", list, ["Terima kasih"], "Lines printed at the foot of each receipt"),
    Key("store.currency", str, "IDR", "ISO 4217 currency code", check=_currency_code),
    Key(
        "store.currency_exponent",
        int,
        0,
        "Decimals of the currency's minor unit (IDR: 0)",
        choices=(0, 1, 2, 3),
    ),
    Key("store.currency_symbol", str, "Rp", "Symbol printed before amounts"),
    Key("store.locale", str, "id_ID", "Language and number format", choices=SUPPORTED_LOCALES),
    Key(
        "store.timezone",
        str,
        "Asia/Jakarta",
        "IANA zone: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)",
        check=_zone,
    ),
    Key("store.prices_include_tax", bool, True, "Shelf prices include tax (PPN)"),
    Key("store.default_tax", str, "PPN", "Tax code for products that name none"),
    Key(
        "store.cash_rounding", int, 100, "Cash totals round to this step (1 = off)", check=_positive
    ),
    Key(
        "store.ereceipt_base_url",
        str,
        "",
        "Public address of e-receipts (OMS) for the receipt's QR code",
        check=_url,
    ),
    Key(
        "till.data_dir",
        str,
        "/var/lib/kasir",
        "Where the till keeps its store and queues",
        editable_on_till=False,
    ),
    Key("till.name", str, "Till 1", "This till's name, sent when enrolling"),
    Key(
        "till.pin_attempts", int, 5, "Wrong PINs in a row before the account locks", check=_positive
    ),
    Key(
        "till.pin_lockout_seconds",
        int,
        300,
        "How long a locked account stays locked",
        check=_non_negative,
    ),
    Key(
        "till.blind_close",
        bool,
        False,
        "Cashiers count the drawer before seeing the expected figure",
    ),
    Key("till.max_line_qty", int, 9999, "Largest quantity one line accepts", check=_positive),
    Key(
        "oms.url",
        str,
        "",
        "Address of the order management service",
        check=_url,
        editable_on_till=False,
    ),
    Key(
        "oms.enrolment_code",
        str,
        "",
        "One-time code from the OMS; removed after first boot",
        secret=True,
        editable_on_till=False,
    ),
    Key(
        "oms.ca_file", str, "", "Extra CA certificate for a self-hosted OMS", editable_on_till=False
    ),
    Key(
        "oms.allow_http",
        bool,
        False,
        "Allow plain HTTP to a LAN address (never the internet)",
        editable_on_till=False,
    ),
    Key("oms.sync_interval", int, 10, "Seconds between sync rounds", check=_positive),
    Key(
        "barcodes.variable_layouts",
        list,
        [],
        "Variable-measure (scale) barcode layouts; "
        "empty = GS1 defaults (20-21 weight, 22-23 price)",
    ),
]
