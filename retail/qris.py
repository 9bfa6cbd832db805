"""QRIS: Indonesia's EMVCo merchant-presented QR payload — parse, check, make dynamic.

    qr = parse(static_payload)      # the merchant's printed code, from the till's config
    qr.merchant_name, qr.nmid       # ('TOKO MAJU JAYA', 'ID1020012345678')
    to_show = make_dynamic(static_payload, 12500)   # parse(to_show).amount == 12500

A payload is a run of fields ``TT LL value``: a 2-digit tag, a 2-digit decimal length counted
in characters, and the value. Merchant account templates (26–51), additional data (62) and the
language template (64) hold fields of their own; they are parsed one level down, and every
field keeps its exact text so that ``to_string()`` gives back the payload it was parsed from.
Other tags, including the unreserved templates 80–99, are kept as opaque strings.

What ``parse`` insists on (``QrisError`` names the tag and the reason): 00 = "01" first;
01 = "11" (static) or "12" (dynamic); at least one merchant account template in 26–51 (QRIS
issues 51 with ``ID.CO.QRIS.WWW``, wallets add their own, e.g. 26 — the spec asks for no more);
53 = "360"; 58 = "ID"; 59 merchant name and 60 city present and not blank; a positive whole
amount in 54 when present; each tag at most once; 63 last, as 4 uppercase hex digits equal to
CRC-16/CCITT-FALSE over the payload up to and including "6304". Control characters anywhere
are rejected. Positions in messages are 1-based.

``make_dynamic`` turns the merchant's printed static code into one for a single sale. It takes
a static code only: a dynamic code from an acquirer belongs to one transaction and carries its
references, so re-pricing it would be wrong. Tip fields 55–57 (tip prompt, fixed or percentage
convenience fee) are kept: they are the merchant's choice, and the payer's app adds them on top
of the amount, so the till should tell the customer when its static code has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_AMOUNT",
    "QrisError",
    "QrisPayload",
    "TlvField",
    "crc16_ccitt",
    "make_dynamic",
    "parse",
]

# Tag 54 holds at most 13 characters; IDR has no minor unit, so 13 digits.
MAX_AMOUNT = 10**13 - 1

_TEMPLATE_TAGS = frozenset({*(f"{t:02d}" for t in range(26, 52)), "62", "64"})
_NAMES = {
    "00": "payload format indicator",
    "01": "point of initiation",
    "52": "merchant category code",
    "53": "currency",
    "54": "amount",
    "55": "tip indicator",
    "56": "convenience fee",
    "57": "convenience fee percentage",
    "58": "country",
    "59": "merchant name",
    "60": "merchant city",
    "61": "postal code",
    "62": "additional data",
    "63": "CRC",
    "64": "language template",
}
_AMOUNT_RE = re.compile(r"(\d+)(?:\.(\d*))?", re.ASCII)
_HEX4_RE = re.compile(r"[0-9A-F]{4}")
QRIS_GUID = "ID.CO.QRIS.WWW"


class QrisError(ValueError):
    """A payload that is not a usable QRIS code; the message names the tag and the reason."""


def _label(tag: str) -> str:
    name = _NAMES.get(tag)
    return f"tag {tag} ({name})" if name else f"tag {tag}"


# --- CRC -------------------------------------------------------------------------------


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.

    >>> hex(crc16_ccitt(b"123456789"))
    '0x29b1'
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"crc16_ccitt takes bytes, got {type(data).__name__}")
    crc = 0xFFFF
    for b in bytes(data):
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ b]
    return crc


def _crc_text(payload_before_crc: str) -> str:
    return f"{crc16_ccitt(payload_before_crc.encode('utf-8')):04X}"


# --- TLV ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlvField:
    """One field. ``children`` holds a template's own fields (None for plain values)."""

    tag: str
    value: str
    children: tuple[TlvField, ...] | None = None

    def to_string(self) -> str:
        return f"{self.tag}{len(self.value):02d}{self.value}"

    def get(self, tag: str) -> TlvField | None:
        """The sub-field ``tag`` of a template, or None."""
        for child in self.children or ():
            if child.tag == tag:
                return child
        return None


def _parse_fields(text: str, offset: int, parent: str | None) -> tuple[TlvField, ...]:
    """Split ``text`` into fields; ``offset`` is its 0-based start within the payload."""
    where = "the payload" if parent is None else f"tag {parent}"
    prefix = "" if parent is None else f"{parent}."
    inside = "" if parent is None else f" (inside tag {parent})"
    fields: list[TlvField] = []
    i = 0
    while i < len(text):
        pos = offset + i + 1
        if len(text) - i < 4:
            raise QrisError(f"{where} ends inside a field header at position {pos}: {text[i:]!r}")
        tag, length = text[i : i + 2], text[i + 2 : i + 4]
        if not (tag.isascii() and tag.isdigit()):
            raise QrisError(f"tag {tag!r} at position {pos}{inside} is not two digits")
        if not (length.isascii() and length.isdigit()):
            raise QrisError(f"length of tag {prefix}{tag} is {length!r}, not two digits")
        start, end = i + 4, i + 4 + int(length)
        if end > len(text):
            raise QrisError(f"length of tag {prefix}{tag} runs past the end of {where}")
        value = text[start:end]
        children = None
        if parent is None and tag in _TEMPLATE_TAGS:
            children = _parse_fields(value, offset + start, tag)
        fields.append(TlvField(tag, value, children))
        i = end
    return tuple(fields)


def _amount_of(value: str) -> int:
    label = _label("54")
    if len(value) > 13:
        raise QrisError(f"{label}: {value!r} has {len(value)} characters, at most 13")
    match = _AMOUNT_RE.fullmatch(value)
    if not match:
        raise QrisError(f"{label}: {value!r} is not a number")
    whole, fraction = match.group(1), match.group(2) or ""
    if fraction.strip("0"):
        raise QrisError(f"{label}: {value!r} has a fraction, but IDR has no minor unit")
    amount = int(whole)
    if amount <= 0:
        raise QrisError(f"{label}: must be more than 0, got {value!r}")
    return amount


# --- the payload -------------------------------------------------------------------------


@dataclass(frozen=True)
class QrisPayload:
    """A parsed payload: its fields in order. Make one with ``parse``, which checks it."""

    fields: tuple[TlvField, ...]

    def get(self, tag: str) -> TlvField | None:
        for f in self.fields:
            if f.tag == tag:
                return f
        return None

    def _value(self, tag: str) -> str | None:
        f = self.get(tag)
        return None if f is None else f.value

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(f.tag for f in self.fields)

    @property
    def merchant_name(self) -> str:
        return self._value("59") or ""

    @property
    def merchant_city(self) -> str:
        return self._value("60") or ""

    @property
    def is_dynamic(self) -> bool:
        return self._value("01") == "12"

    @property
    def amount(self) -> int | None:
        value = self._value("54")
        return None if value is None else _amount_of(value)

    @property
    def merchant_accounts(self) -> tuple[TlvField, ...]:
        """The merchant account templates 26–51, in payload order."""
        return tuple(f for f in self.fields if 26 <= int(f.tag) <= 51)

    @property
    def nmid(self) -> str | None:
        """The QRIS National Merchant ID (sub-field 02 of the ID.CO.QRIS.WWW template)."""
        for account in self.merchant_accounts:
            guid = account.get("00")
            if guid is not None and guid.value == QRIS_GUID:
                nmid = account.get("02")
                return None if nmid is None else nmid.value
        return None

    def to_string(self) -> str:
        return "".join(f.to_string() for f in self.fields)


def parse(payload: str) -> QrisPayload:
    """Parse and check a QRIS payload. Raises QrisError naming the tag and the reason."""
    if not isinstance(payload, str):
        raise TypeError(f"a QRIS payload is a str, got {type(payload).__name__}")
    if not payload:
        raise QrisError("empty payload")
    for pos, ch in enumerate(payload, start=1):
        n = ord(ch)
        if n < 0x20 or 0x7F <= n <= 0x9F:
            raise QrisError(f"contains control character \\x{n:02x} at position {pos}")
    qr = QrisPayload(_parse_fields(payload, 0, None))
    tags = qr.tags

    seen: set[str] = set()
    for tag in tags:
        if tag in seen:
            raise QrisError(f"{_label(tag)} appears more than once")
        seen.add(tag)

    if tags[0] != "00":
        raise QrisError(f"{_label('00')} must come first, found tag {tags[0]}")
    if qr.fields[0].value != "01":
        raise QrisError(f"{_label('00')} is {qr.fields[0].value!r}, must be 01")

    crc_label = _label("63")
    if "63" not in seen:
        raise QrisError(f"{crc_label} is missing")
    if tags[-1] != "63":
        raise QrisError(f"{crc_label} must be the last field, found tag {tags[-1]} after it")
    crc = qr.fields[-1].value
    if not _HEX4_RE.fullmatch(crc):
        raise QrisError(f"{crc_label}: {crc!r} is not 4 uppercase hex digits")
    expected = _crc_text(payload[:-4])
    if crc != expected:
        raise QrisError(f"{crc_label}: should be {expected}, got {crc}")

    def required(tag: str) -> str:
        value = qr._value(tag)
        if value is None:
            raise QrisError(f"{_label(tag)} is missing")
        return value

    initiation = required("01")
    if initiation not in ("11", "12"):
        raise QrisError(f"{_label('01')} is {initiation!r}, must be 11 (static) or 12 (dynamic)")
    if not qr.merchant_accounts:
        raise QrisError("no merchant account information (tags 26–51)")
    category = qr._value("52")
    if category is not None and not (
        len(category) == 4 and category.isascii() and category.isdigit()
    ):
        raise QrisError(f"{_label('52')} is {category!r}, must be 4 digits")
    currency = required("53")
    if currency != "360":
        raise QrisError(f"{_label('53')} is {currency}, QRIS needs 360")
    amount_text = qr._value("54")
    if amount_text is not None:
        _amount_of(amount_text)  # checked here so that a parsed payload's .amount never raises
    country = required("58")
    if country != "ID":
        raise QrisError(f"{_label('58')} is {country}, QRIS needs ID")
    for tag in ("59", "60"):
        if not required(tag).strip():
            raise QrisError(f"{_label(tag)} is empty")
    return qr


def make_dynamic(static_payload: str, amount: int) -> str:
    """The payload for one sale of ``amount`` rupiah, made from the merchant's static code.

    Sets 01 to "12", puts the amount in 54 (replacing one a static code may carry) right
    before the first tag above 54, keeps everything else, and recomputes the CRC.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"amount must be an int of rupiah, got {type(amount).__name__}")
    if amount <= 0:
        raise QrisError(f"amount must be more than 0, got {amount}")
    if amount > MAX_AMOUNT:
        raise QrisError(f"amount {amount} has {len(str(amount))} digits, tag 54 holds 13")
    qr = parse(static_payload)
    if qr.is_dynamic:
        raise QrisError(f"{_label('01')} is 12: make_dynamic needs a static code (11)")
    # parse() guarantees 58–60, all above 54, so the amount always finds its place.
    amount_field = TlvField("54", str(amount))
    fields: list[TlvField] = []
    for f in qr.fields:
        if f.tag in ("54", "63"):
            continue
        if f.tag == "01":
            f = TlvField("01", "12")
        if amount_field not in fields and int(f.tag) > 54:
            fields.append(amount_field)
        fields.append(f)
    body = "".join(f.to_string() for f in fields) + "6304"
    out = body + _crc_text(body)
    parse(out)
    return out
