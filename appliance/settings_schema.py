"""Every key the till's TOML config knows, with its type, default and check.

One list, so that a wrong key or value is reported by name at start-up, `kasir status` can say
where each value came from, and the example config documents every key. Device sections
(`scanner`, `printer`, `drawer`) live beside their drivers in `appliance/hw/settings.py`.
"""

from __future__ import annotations

import re
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


def _qris(value: str) -> None:
    if value:
        from retail.qris import QrisError, parse

        try:
            qr = parse(value)
        except QrisError as exc:
            raise ValueError(f"not a QRIS code: {exc}") from None
        if qr.is_dynamic:
            raise ValueError("this is a dynamic QRIS code (for one payment): use the static one")


def _window_size(value: str) -> None:
    if value and not re.fullmatch(r"[1-9]\d{2,4}x[1-9]\d{2,4}", value):
        raise ValueError(f"{value!r} is not a window size such as 800x480")


def _geometry(value: str) -> None:
    if value and not re.fullmatch(r"[1-9]\d{2,4}x[1-9]\d{2,4}[+-]\d{1,5}[+-]\d{1,5}", value):
        raise ValueError(f"{value!r} is not a window geometry such as 800x480+1920+0")


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
        "store.qris_payload",
        str,
        "",
        "The store's static QRIS code (the text inside the printed QR); the till shows it "
        "with each sale's amount",
        check=_qris,
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
        "oms.timeout",
        int,
        30,
        "Seconds to wait for an OMS answer before trying again later",
        check=_positive,
    ),
    Key(
        "barcodes.variable_layouts",
        list,
        [],
        "Variable-measure (scale) barcode layouts; "
        "empty = GS1 defaults (20-21 weight, 22-23 price)",
    ),
    Key(
        "display.language",
        str,
        "id_ID",
        "Language of the till's screens: id_ID (Bahasa Indonesia) or en (English)",
        choices=SUPPORTED_LOCALES,
    ),
    Key("display.fullscreen", bool, True, "Fill the whole screen (the till's touchscreen)"),
    Key(
        "display.size",
        str,
        "",
        "Window size when not full screen, e.g. 800x480 (empty: 800x480)",
        check=_window_size,
    ),
    Key("display.show_cursor", bool, False, "Show the mouse pointer (off for touchscreens)"),
    Key("display.sound", bool, True, "Beep when an item is scanned"),
    Key(
        "display.customer_display",
        bool,
        False,
        "Open a customer-facing window (cart, total, change, QRIS) on a second screen",
    ),
    Key(
        "display.customer_display_geometry",
        str,
        "",
        "Where the customer window goes: WIDTHxHEIGHT+X+Y, e.g. 800x480+1920+0 for a screen "
        "to the right of a 1920-wide one (empty: 800x480 at the top left)",
        check=_geometry,
    ),
]


# -- the SD image's first boot: [system], [wifi] and [update] -------------------------------
# Applied by image/firstboot.py on the till's first boot (hostname, Wi-Fi, SSH...) or read by
# the updater; the till itself does not use them. Secrets are removed from the file once used.

_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def _hostname(value: str) -> None:
    if value and not _HOSTNAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a host name: use 1-63 lower-case letters, digits and '-', "
            "not starting or ending with '-'"
        )


def _system_zone(value: str) -> None:
    if value:
        zone(value)


def _ssh_key(value: str) -> None:
    if not value:
        return
    import base64
    import binascii

    parts = value.split()
    if len(parts) < 2 or parts[0] not in _SSH_KEY_TYPES:
        raise ValueError(
            "should be one public key line such as 'ssh-ed25519 AAAA... you@laptop' "
            f"(types: {', '.join(_SSH_KEY_TYPES)})"
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the key after {parts[0]} is not base64") from None
    if len(blob) < 4 or blob[4 : 4 + len(parts[0])] != parts[0].encode():
        raise ValueError(f"the key data does not hold a {parts[0]} key")


def _ssid(value: str) -> None:
    if value and len(value.encode("utf-8")) > 32:
        raise ValueError(f"{value!r} is longer than 32 bytes, the most a Wi-Fi name can have")


def _psk(value: str) -> None:
    if not value:
        return
    if len(value) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in value):
        return
    if not 8 <= len(value) <= 63:
        raise ValueError("a Wi-Fi password has 8 to 63 characters (or is 64 hex digits)")
    if any(not 32 <= ord(ch) < 127 for ch in value):
        raise ValueError("a Wi-Fi password may only hold printable ASCII characters")


def _country(value: str) -> None:
    if not (len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError(f"{value!r} is not a 2-letter country code such as ID")


def _ed25519_keys(value: list) -> None:
    import base64
    import binascii

    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{item!r} should be text: a base64 ed25519 public key in quotes")
        try:
            raw = base64.b64decode(item.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{item!r} is not base64") from None
        if len(raw) != 32:
            raise ValueError(f"{item!r} is not an ed25519 public key (32 bytes, base64)")


def _clock_time(value: str) -> None:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day such as 03:30")


CORE_KEYS.extend(
    [
        Key(
            "system.hostname",
            str,
            "",
            "The till's network name (empty: kasir)",
            check=_hostname,
            editable_on_till=False,
        ),
        Key(
            "system.timezone",
            str,
            "",
            "Time zone of the till's clock (empty: the same as store.timezone)",
            check=_system_zone,
            editable_on_till=False,
        ),
        Key(
            "system.locale",
            str,
            "C.UTF-8",
            "Language of system messages",
            choices=("C.UTF-8", "en_US.UTF-8", "id_ID.UTF-8"),
            editable_on_till=False,
        ),
        Key(
            "system.ssh_authorized_key",
            str,
            "",
            "Public key allowed to log in as root over SSH (empty: SSH stays off)",
            check=_ssh_key,
            editable_on_till=False,
        ),
        Key(
            "wifi.ssid",
            str,
            "",
            "Wi-Fi network name (empty: wired network only)",
            check=_ssid,
            editable_on_till=False,
        ),
        Key(
            "wifi.psk",
            str,
            "",
            "Wi-Fi password; removed from this file after first boot",
            check=_psk,
            secret=True,
            editable_on_till=False,
        ),
        Key(
            "wifi.country",
            str,
            "ID",
            "Country whose Wi-Fi rules apply (2 letters)",
            check=_country,
            editable_on_till=False,
        ),
        Key(
            "wifi.hidden",
            bool,
            False,
            "The network does not announce its name",
            editable_on_till=False,
        ),
        Key(
            "update.extra_keys",
            list,
            [],
            "The owner's own release-signing public keys (base64 ed25519), trusted besides Kasir's",
            check=_ed25519_keys,
            editable_on_till=False,
        ),
        Key(
            "update.security_updates",
            bool,
            True,
            "Install Debian security updates every night",
            editable_on_till=False,
        ),
        Key(
            "update.security_time",
            str,
            "03:30",
            "When the nightly security updates run (local time, HH:MM)",
            check=_clock_time,
            editable_on_till=False,
        ),
    ]
)
