"""Barcode numbers: GTIN check digits, normalisation, in-store variable-measure codes.

    >>> parse("4006381333931").gtin
    '4006381333931'
    >>> parse("036000291452").gtin          # UPC-A is keyed in its EAN-13 form
    '0036000291452'
    >>> code = parse("2000042012502")         # in-store weight label, default layouts
    >>> (code.kind, code.plu, code.weight_g)
    ('variable', '00042', 1250)
    >>> parse("T01-000123").kind              # anything else is looked up as-is
    'internal'

What a scanned string becomes (``parse``)
-----------------------------------------
Surrounding spaces, tabs, CR and LF are stripped (scanners in keyboard-wedge mode end with a
newline). Nothing else is stripped: a control character anywhere, including the GS separator
``\\x1d`` of GS1-128/DataMatrix, is an error naming it as ``\\xNN``, and so is any non-ASCII
character. Then:

* an all-digit code of a GTIN length (8, 12, 13, 14) must pass its check digit, else it is an
  error — a misread must never be looked up as some other product. It becomes ``"variable"``
  when its EAN-13 form starts with a prefix of a configured layout, else ``"gtin"``;
* an all-digit code of 6–14 digits that is not a GTIN length is an error: it is almost
  certainly a GTIN with a digit lost or added (or typed wrongly), not an internal code;
* everything else of 1–48 printable ASCII characters (Code128 shelf codes with letters, receipt
  numbers, short PLUs typed by hand, long digit strings) is ``"internal"``: the caller looks
  ``raw`` up as it is. Longer strings are errors.

Canonical GTIN form (``normalize``) — the catalog's lookup key
--------------------------------------------------------------
GS1 defines one GTIN per product however it is printed (all are the same 14-digit number with
leading zeros), so the key is chosen to be the same whatever the scanner transmits:

* UPC-A (12) → 13 digits with a leading 0; UPC-E (8) → expanded to UPC-A → 13 digits, so a
  scanner set to expand UPC-E and one that is not give the same key;
* EAN-13 stays 13 digits; GTIN-14 with indicator 0 → 13 digits, other indicators stay 14;
* EAN-8 stays 8 digits, and a GTIN-8 padded to 12–14 digits (GS1 prefix 00000) goes back to 8.

An 8-digit code starting with 0 or 1 can be read as EAN-8 or as UPC-E; only the symbology
(which a keyboard wedge does not send) tells them apart. Kasir reads it as UPC-E whenever its
UPC-E check digit is right, because EAN-8 numbers starting with 0 are restricted-circulation
numbers that no manufacturer prints, while UPC-E is common on imported goods. A padded GTIN-8
that would read back as UPC-E therefore keeps its 13-digit form, so ``normalize`` is idempotent.

Positions in messages and in layouts are 1-based, counted from the left, as in GS1's tables.

Variable-measure layouts
------------------------
Scales print EAN-13 codes with a restricted-circulation prefix (20–29, or 02/04 for UPC-A
labels) holding an item reference (the PLU) and a price or a weight. ``DEFAULT_LAYOUTS``:

* prefixes 20, 21: ``2x PPPPP WWWWW C`` — 5-digit PLU, weight in grams (max 99.999 kg);
* prefixes 22, 23: ``2x PPPPP VVVVV C`` — 5-digit PLU, price in minor units (max Rp 99.999).

Prefixes 24–29 are left as ordinary GTINs unless configured (``layout_from_config``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_LAYOUTS",
    "GTIN_LENGTHS",
    "BarcodeError",
    "ParsedCode",
    "VariableMeasureLayout",
    "check_digit",
    "compress_upca",
    "expand_upce",
    "is_valid",
    "layout_from_config",
    "layouts_from_config",
    "make_variable",
    "normalize",
    "parse",
    "price_check_digit",
    "validate",
]

GTIN_LENGTHS = (8, 12, 13, 14)
MAX_INTERNAL_LENGTH = 48
# Digit counts that are a mangled GTIN rather than an internal code (see the module docstring).
_SUSPECT_DIGIT_LENGTHS = range(6, 15)
# GS1 restricted-circulation prefixes in EAN-13 form: 20–29, and UPC-A number systems 2 and 4.
IN_STORE_PREFIXES = frozenset({"02", "04", *(f"2{d}" for d in range(10))})
_STRIP = " \t\r\n"

Symbology = Literal["ean13", "ean8", "upca", "upce", "gtin14"]


class BarcodeError(ValueError):
    """A code that cannot be used; the message says exactly why."""


# --- characters --------------------------------------------------------------------------


def _check_characters(code: str) -> None:
    """Reject control and non-ASCII characters, naming the first one and where it is."""
    for pos, ch in enumerate(code, start=1):
        n = ord(ch)
        if n < 0x20 or 0x7F <= n <= 0x9F:
            raise BarcodeError(f"contains control character \\x{n:02x} at position {pos}")
        if n > 0x7E:
            raise BarcodeError(f"contains non-ASCII character {ch!r} (U+{n:04X}) at position {pos}")


def _require_digits(code: str) -> None:
    if not code:
        raise BarcodeError("empty code")
    _check_characters(code)
    for pos, ch in enumerate(code, start=1):
        if not "0" <= ch <= "9":
            raise BarcodeError(f"contains non-digit {ch!r} at position {pos}")


def _require_str(code: object) -> None:
    if not isinstance(code, str):
        raise TypeError(f"a barcode is a str, got {type(code).__name__}")


# --- GTIN check digits -------------------------------------------------------------------


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (weights 3, 1, 3, … from the right).

    >>> check_digit("400638133393")
    1
    """
    _require_str(body)
    _require_digits(body)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return -total % 10


def _verify_check(code: str) -> None:
    expected = check_digit(code[:-1])
    if expected != int(code[-1]):
        raise BarcodeError(f"check digit should be {expected}, got {code[-1]}")


# --- UPC-E -------------------------------------------------------------------------------


def _upce_to_upca_body(code: str) -> str:
    """The 11-digit UPC-A body of an 8-digit UPC-E (number system, 6 digits, check)."""
    ns, d = code[0], code[1:7]
    last = d[5]
    if last in "012":
        return ns + d[0:2] + last + "0000" + d[2:5]
    if last == "3":
        return ns + d[0:3] + "00000" + d[3:5]
    if last == "4":
        return ns + d[0:4] + "00000" + d[4]
    return ns + d[0:5] + "0000" + last


def _upce_check_problem(code: str) -> tuple[int, str] | None:
    """(expected, got) when the UPC-E check digit is wrong, else None."""
    expected = check_digit(_upce_to_upca_body(code))
    return None if expected == int(code[7]) else (expected, code[7])


def expand_upce(code: str) -> str:
    """Expand an 8-digit UPC-E code to its 12-digit UPC-A, checking the check digit.

    >>> expand_upce("04252614")
    '042100005264'

    UPC-E codes that GS1 would have compressed by an earlier rule (e.g. last digit 3 with a
    third digit 0–2) are expanded by the rule their last digit names, as scanners do.
    """
    _require_str(code)
    _require_digits(code)
    if len(code) != 8:
        raise BarcodeError(f"UPC-E must be 8 digits, got {len(code)}")
    if code[0] not in "01":
        raise BarcodeError("UPC-E must start with 0 or 1")
    problem = _upce_check_problem(code)
    if problem:
        raise BarcodeError(f"check digit should be {problem[0]}, got {problem[1]}")
    return _upce_to_upca_body(code) + code[7]


def compress_upca(code: str) -> str | None:
    """The UPC-E form of a 12-digit UPC-A code, or None when it has none.

    >>> compress_upca("042100005264")
    '04252614'
    """
    _require_str(code)
    _require_digits(code)
    if len(code) != 12:
        raise BarcodeError(f"UPC-A must be 12 digits, got {len(code)}")
    _verify_check(code)
    ns, m, p, c = code[0], code[1:6], code[6:11], code[11]
    if ns not in "01":
        return None
    # GS1's rules, tried in this order so that every UPC-A has at most one UPC-E.
    if m[2] in "012" and m[3:] == "00" and p[:2] == "00":
        digits = m[:2] + p[2:] + m[2]
    elif m[3:] == "00" and p[:3] == "000":
        digits = m[:3] + p[3:] + "3"
    elif m[4] == "0" and p[:4] == "0000":
        digits = m[:4] + p[4] + "4"
    elif p[:4] == "0000" and p[4] in "56789":
        digits = m + p[4]
    else:
        return None
    return ns + digits + c


# --- validation and normalisation --------------------------------------------------------


def validate(code: str) -> Symbology:
    """Check a GTIN and say which symbology it is: ean13, ean8, upca, upce or gtin14.

    Raises BarcodeError saying why it is not a valid GTIN. An 8-digit code starting with 0
    or 1 is UPC-E when its UPC-E check digit fits, else EAN-8 (see the module docstring).
    """
    _require_str(code)
    _require_digits(code)
    n = len(code)
    if n not in GTIN_LENGTHS:
        raise BarcodeError(f"length {n} is not a GTIN length (8, 12, 13 or 14)")
    if n == 8 and code[0] in "01":
        upce_problem = _upce_check_problem(code)
        if upce_problem is None:
            return "upce"
        ean8_expected = check_digit(code[:7])
        if ean8_expected == int(code[7]):
            return "ean8"
        if ean8_expected == upce_problem[0]:
            raise BarcodeError(f"check digit should be {ean8_expected}, got {code[7]}")
        raise BarcodeError(
            f"check digit should be {upce_problem[0]} (as UPC-E) or {ean8_expected} "
            f"(as EAN-8), got {code[7]}"
        )
    _verify_check(code)
    return {8: "ean8", 12: "upca", 13: "ean13", 14: "gtin14"}[n]


def is_valid(code: str) -> bool:
    """True when ``validate`` accepts ``code``."""
    try:
        validate(code)
    except (BarcodeError, TypeError):
        return False
    return True


def _reads_as_upce(eight: str) -> bool:
    return eight[0] in "01" and _upce_check_problem(eight) is None


def normalize(code: str) -> str:
    """The canonical form of a GTIN, used as the catalog's lookup key.

    >>> normalize("036000291452"), normalize("04252614"), normalize("96385074")
    ('0036000291452', '0042100005264', '96385074')
    """
    symbology = validate(code)
    gtin14 = ("00" + expand_upce(code)) if symbology == "upce" else code.zfill(14)
    if gtin14.startswith("000000") and not _reads_as_upce(gtin14[6:]):
        return gtin14[6:]
    if gtin14.startswith("0"):
        return gtin14[1:]
    return gtin14


# --- GS1 price/weight verifier digit -----------------------------------------------------

# Products of each digit 0–9 under GS1's special weighting factors (General Specifications
# 7.9.3): 2- and 5- subtract the tens digit from the units digit, 5+ adds them, 3 keeps units.
_W2_MINUS = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)
_W5_PLUS = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)
_W5_MINUS = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)


def price_check_digit(value: str) -> int:
    """GS1's verifier digit for a 4- or 5-digit price (or weight) field.

    >>> price_check_digit("2875"), price_check_digit("14685")
    (9, 6)
    """
    _require_str(value)
    _require_digits(value)
    digits = [int(d) for d in value]
    if len(digits) == 4:
        weights = (_W2_MINUS, _W2_MINUS, _W3, _W5_MINUS)
        return sum(w[d] for w, d in zip(weights, digits, strict=True)) * 3 % 10
    if len(digits) == 5:
        weights = (_W5_PLUS, _W2_MINUS, _W5_MINUS, _W5_PLUS, _W2_MINUS)
        target = -sum(w[d] for w, d in zip(weights, digits, strict=True)) % 10
        # The verifier digit is the one whose own 5- product brings the sum to a multiple of 10.
        return _W5_MINUS.index(target)
    raise BarcodeError(f"a price check digit needs 4 or 5 digits, got {len(digits)}")


# --- variable-measure layouts ------------------------------------------------------------


@dataclass(frozen=True)
class VariableMeasureLayout:
    """Where an in-store EAN-13 keeps its item reference and its price or weight.

    Positions are 1-based over the 13 digits: 1–2 are the prefix, 13 the EAN check digit, so
    every field lies within 3–12. Unused positions are printed as 0.

    kind "price": price in minor units = value × 10**-decimals. ``decimals`` is 0 (the value
    is the price in minor units, right for IDR) or negative when the scale prints tens or
    hundreds (−2: value 1250 is Rp 125.000); a price finer than the minor unit cannot be an int.
    kind "weight": grams = value × weight_unit_g (10 for a scale that counts 10 g steps).
    price_check_pos: position of GS1's verifier digit for a 4- or 5-digit value field; when
    set it is checked on every scan.
    """

    prefixes: frozenset[str]
    kind: Literal["price", "weight"]
    item_start: int
    item_length: int
    value_start: int
    value_length: int
    price_check_pos: int | None = None
    decimals: int = 0
    weight_unit_g: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.prefixes, str) or not isinstance(self.prefixes, Iterable):
            raise ValueError("prefixes: must be a set of 2-digit strings, e.g. {'20', '21'}")
        prefixes = frozenset(self.prefixes)
        if not prefixes:
            raise ValueError("prefixes: must name at least one 2-digit prefix")
        for p in sorted(prefixes, key=str):
            if p not in IN_STORE_PREFIXES:
                raise ValueError(
                    f"prefixes: {p!r} is not a GS1 in-store prefix (20–29, or 02/04 for UPC-A)"
                )
        object.__setattr__(self, "prefixes", prefixes)
        if self.kind not in ("price", "weight"):
            raise ValueError(f"kind: must be 'price' or 'weight', got {self.kind!r}")
        for name in ("item_start", "item_length", "value_start", "value_length"):
            _require_int(name, getattr(self, name))
        for name in ("item_length", "value_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be at least 1, got {getattr(self, name)}")
        cells = [
            ("item reference", self.item_start, self.item_length),
            ("value", self.value_start, self.value_length),
        ]
        if self.price_check_pos is not None:
            _require_int("price_check_pos", self.price_check_pos)
            if self.value_length not in (4, 5):
                raise ValueError(
                    "price_check_pos: a price check digit needs a 4- or 5-digit value, "
                    f"this layout's value has {self.value_length}"
                )
            cells.append(("price check digit", self.price_check_pos, 1))
        starts = {"item reference": "item_start", "value": "value_start"}
        for label, start, length in cells:
            key = starts.get(label, "price_check_pos")
            end = start + length - 1
            if start < 3 or end > 12:
                raise ValueError(
                    f"{key}: the {label} at positions {start}–{end} must lie within 3–12 "
                    "(1–2 are the prefix, 13 the check digit)"
                )
        for i, (label, start, length) in enumerate(cells):
            for other, o_start, o_length in cells[:i]:
                if start < o_start + o_length and o_start < start + length:
                    key = starts.get(label, "price_check_pos")
                    raise ValueError(
                        f"{key}: the {label} at {start}–{start + length - 1} overlaps the "
                        f"{other} at {o_start}–{o_start + o_length - 1}"
                    )
        _require_int("decimals", self.decimals)
        _require_int("weight_unit_g", self.weight_unit_g)
        if self.kind == "price":
            if not -6 <= self.decimals <= 0:
                raise ValueError(
                    f"decimals: must be between -6 and 0, got {self.decimals} "
                    "(prices are whole minor units)"
                )
            if self.weight_unit_g != 1:
                raise ValueError("weight_unit_g: only applies to weight layouts")
        else:
            if self.decimals != 0:
                raise ValueError("decimals: only applies to price layouts (use weight_unit_g)")
            if self.weight_unit_g < 1:
                raise ValueError(f"weight_unit_g: must be at least 1, got {self.weight_unit_g}")

    def _value_of(self, encoded: int) -> int:
        if self.kind == "price":
            return encoded * 10**-self.decimals
        return encoded * self.weight_unit_g


def _require_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name}: must be an integer, got {value!r}")


DEFAULT_LAYOUTS: tuple[VariableMeasureLayout, ...] = (
    VariableMeasureLayout(
        prefixes=frozenset({"20", "21"}),
        kind="weight",
        item_start=3,
        item_length=5,
        value_start=8,
        value_length=5,
    ),
    VariableMeasureLayout(
        prefixes=frozenset({"22", "23"}),
        kind="price",
        item_start=3,
        item_length=5,
        value_start=8,
        value_length=5,
    ),
)

_REQUIRED_KEYS = ("prefixes", "kind", "item_start", "item_length", "value_start", "value_length")
_OPTIONAL_KEYS = ("price_check_pos", "decimals", "weight_unit_g")


def layout_from_config(d: Mapping[str, object]) -> VariableMeasureLayout:
    """Build a layout from a config table, e.g. one ``[[barcodes.layouts]]`` entry of TOML.

    >>> layout_from_config({"prefixes": ["24"], "kind": "price", "item_start": 3,
    ...     "item_length": 4, "price_check_pos": 7, "value_start": 8, "value_length": 5}).kind
    'price'

    Raises ValueError naming the key that is unknown, missing or wrong.
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"a layout must be a table of keys, got {type(d).__name__}")
    known = _REQUIRED_KEYS + _OPTIONAL_KEYS
    for key in d:
        if key not in known:
            raise ValueError(f"unknown key {key!r} (known keys: {', '.join(known)})")
    for key in _REQUIRED_KEYS:
        if key not in d:
            raise ValueError(f"missing key {key!r}")
    raw_prefixes = d["prefixes"]
    if isinstance(raw_prefixes, str) or not isinstance(raw_prefixes, list | tuple | set):
        raise ValueError(f"prefixes: must be a list of 2-digit strings, got {raw_prefixes!r}")
    prefixes = set()
    for p in raw_prefixes:
        # TOML users naturally write [20, 21]; 2 for "02" would be a guess, so only 20–29.
        if isinstance(p, int) and not isinstance(p, bool) and 20 <= p <= 29:
            p = str(p)
        if not isinstance(p, str):
            raise ValueError(f'prefixes: {p!r} must be written as a string, e.g. "20"')
        prefixes.add(p)
    kwargs: dict[str, object] = {k: d[k] for k in known if k in d and k != "prefixes"}
    for key, value in kwargs.items():
        if key == "kind":
            continue
        if key == "price_check_pos" and value is None:
            continue
        _require_int(key, value)
    return VariableMeasureLayout(prefixes=frozenset(prefixes), **kwargs)  # type: ignore[arg-type]


def layouts_from_config(items: Sequence[Mapping[str, object]]) -> tuple[VariableMeasureLayout, ...]:
    """Build every layout of a config list; a prefix claimed by two layouts is an error."""
    layouts: list[VariableMeasureLayout] = []
    owner: dict[str, int] = {}
    for i, d in enumerate(items):
        try:
            layout = layout_from_config(d)
        except ValueError as exc:
            raise ValueError(f"layout {i + 1}: {exc}") from None
        for p in sorted(layout.prefixes):
            if p in owner:
                raise ValueError(
                    f"layout {i + 1}: prefixes: {p!r} is already used by layout {owner[p] + 1}"
                )
            owner[p] = i
        layouts.append(layout)
    return tuple(layouts)


def make_variable(
    layout: VariableMeasureLayout, plu: str, value: int, *, prefix: str | None = None
) -> str:
    """The 13-digit in-store code for ``plu`` and a price (minor units) or weight (grams).

    >>> make_variable(DEFAULT_LAYOUTS[0], "42", 1250)
    '2000042012502'

    A PLU shorter than the layout's field is padded with leading zeros; ``prefix`` defaults
    to the layout's lowest. Raises ValueError when the PLU or value does not fit the layout.
    """
    if prefix is None:
        prefix = min(layout.prefixes)
    elif prefix not in layout.prefixes:
        raise ValueError(f"prefix: {prefix!r} is not one of the layout's {sorted(layout.prefixes)}")
    if not isinstance(plu, str) or not plu.isascii() or not plu.isdigit():
        raise ValueError(f"plu: must be a string of digits, got {plu!r}")
    if len(plu) > layout.item_length:
        raise ValueError(f"plu: {plu!r} is longer than the layout's {layout.item_length} digits")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{layout.kind}: must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{layout.kind}: must not be negative, got {value}")
    step = layout._value_of(1)
    if value % step:
        raise ValueError(f"{layout.kind}: {value} is not a multiple of the layout's step {step}")
    encoded = str(value // step).zfill(layout.value_length)
    if len(encoded) > layout.value_length:
        raise ValueError(
            f"{layout.kind}: {value} does not fit the layout's {layout.value_length}-digit field"
        )
    digits = ["0"] * 12
    digits[0:2] = prefix
    start = layout.item_start - 1
    digits[start : start + layout.item_length] = plu.zfill(layout.item_length)
    start = layout.value_start - 1
    digits[start : start + layout.value_length] = encoded
    if layout.price_check_pos is not None:
        digits[layout.price_check_pos - 1] = str(price_check_digit(encoded))
    body = "".join(digits)
    return body + str(check_digit(body))


# --- parsing a scan ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedCode:
    """What a scanned code means.

    kind "gtin": ``gtin`` is the canonical key (``normalize``).
    kind "variable": ``plu`` is the item reference as printed (leading zeros kept) and one of
    ``price`` (minor units) / ``weight_g`` is set.
    kind "internal": look ``raw`` up as it is.
    ``raw`` is the code with surrounding whitespace stripped.
    """

    raw: str
    kind: Literal["gtin", "variable", "internal"]
    gtin: str | None = None
    plu: str | None = None
    price: int | None = None
    weight_g: int | None = None


def _parse_variable(raw: str, ean13: str, layout: VariableMeasureLayout) -> ParsedCode:
    start = layout.item_start - 1
    plu = ean13[start : start + layout.item_length]
    start = layout.value_start - 1
    value_digits = ean13[start : start + layout.value_length]
    if layout.price_check_pos is not None:
        expected = price_check_digit(value_digits)
        got = ean13[layout.price_check_pos - 1]
        if expected != int(got):
            raise BarcodeError(
                f"price check digit at position {layout.price_check_pos} should be "
                f"{expected}, got {got}"
            )
    value = layout._value_of(int(value_digits))
    if layout.kind == "price":
        return ParsedCode(raw=raw, kind="variable", plu=plu, price=value)
    return ParsedCode(raw=raw, kind="variable", plu=plu, weight_g=value)


def parse(code: str, layouts: Iterable[VariableMeasureLayout] = DEFAULT_LAYOUTS) -> ParsedCode:
    """Read a scanned or typed code; see the module docstring for the rules.

    The first layout whose prefixes include the code's is used. Raises BarcodeError.
    """
    _require_str(code)
    raw = code.strip(_STRIP)
    if not raw:
        raise BarcodeError("empty code")
    _check_characters(raw)
    if raw.isdigit():
        n = len(raw)
        if n in GTIN_LENGTHS:
            gtin = normalize(raw)
            if len(gtin) == 13:
                for layout in layouts:
                    if gtin[:2] in layout.prefixes:
                        return _parse_variable(raw, gtin, layout)
            return ParsedCode(raw=raw, kind="gtin", gtin=gtin)
        if n in _SUSPECT_DIGIT_LENGTHS:
            raise BarcodeError(f"length {n} is not a GTIN length (8, 12, 13 or 14)")
    if len(raw) > MAX_INTERNAL_LENGTH:
        raise BarcodeError(
            f"length {len(raw)} is too long for a code (at most {MAX_INTERNAL_LENGTH} characters)"
        )
    return ParsedCode(raw=raw, kind="internal")
