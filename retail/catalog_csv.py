"""Catalog CSV: the text an owner exports from a spreadsheet, checked row by row.

    >>> rows, errors = parse_catalog("sku,name,price,barcode\\nMIE-1,Indomie Goreng,3.500,8998866200301\\n")
    >>> rows[0].price, rows[0].barcodes[0].code, errors
    (3500, '8998866200301', [])

Pure: no I/O. The till's import (`appliance.store.catalog_import`) and the OMS's both call it, so
a file is judged the same way wherever it is loaded.

Columns (header names are case-insensitive, in any order):

* required: ``sku``, ``name``, ``price`` — the price in major units as written on a shelf in the
  store's locale (``12500`` or ``12.500`` for IDR in id_ID), per kg for items sold by weight;
* ``barcode``: several separated by ``|``; ``CODE*12`` is a pack barcode that adds 12 units.
  GTINs are stored in their canonical form (``retail.barcodes.normalize``); other printable
  codes (shelf labels with letters) as written. A code that reads as a scale label (prefix of a
  variable-measure layout) is refused: give the item a ``plu`` instead;
* ``tax``: a tax code (case-insensitive); an empty cell takes the store's default code;
* ``category``, ``unit`` (``each`` or ``kg``), ``plu`` (item reference in scale barcodes,
  stored without leading zeros so that ``42`` matches the label's ``00042``);
* ``stock``: on hand. Units for ``each`` items. For ``kg`` items kilograms as written in the
  locale (``12,5``), or grams with a ``g`` suffix (``12500 g``); stored in whole grams.
  An empty cell means "not counted": the import leaves the stock alone.

A column that is absent from the header is reported in `CatalogRow.columns`, so an import can
leave that attribute of an existing product untouched (a price-only file must not reset tax
codes); a column that is present is the truth for every row, empty cells included.

Every problem is reported, each with the file line it is on (the header is line 1; a quoted
field that spans lines counts from the line it starts on), the column and the reason. Blank
lines are skipped; a UTF-8 byte-order mark, CRLF line ends and ``;`` as the delimiter (what
Excel writes in Indonesian and other comma-decimal locales) are handled.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal

from .barcodes import DEFAULT_LAYOUTS, BarcodeError, VariableMeasureLayout, parse
from .money import DEFAULT_LOCALE, IDR, Currency, MoneyError, parse_money
from .tax import DEFAULT_TAX_CODES

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "CatalogBarcode",
    "CatalogRow",
    "RowError",
    "parse_catalog",
]

REQUIRED_COLUMNS = ("sku", "name", "price")
COLUMNS = (*REQUIRED_COLUMNS, "barcode", "tax", "category", "unit", "stock", "plu")
UNITS = ("each", "kg")
MAX_SKU = 64
MAX_NAME = 200
MAX_CATEGORY = 100
MAX_PACK = 9999
# Far above any real shelf price or stock count, and far below SQLite's 64-bit integers.
MAX_PRICE_MAJOR = 10**12
MAX_STOCK = 10**12
_DELIMITERS = (",", ";", "\t")
# What Excel makes of a long number in a cell not formatted as text: "8,99123E+12".
_SCIENTIFIC = re.compile(r"^\d+([.,]\d+)?[eE]\+?\d+$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_GRAMS = re.compile(r"^(.*?)\s*(kg|g)$", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    """One problem: the file line it is on, the column (None for the whole row) and why."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return (
            f"line {self.line}" + (f", {self.column}" if self.column else "") + f": {self.reason}"
        )


@dataclass(frozen=True)
class CatalogBarcode:
    code: str  # the lookup key: canonical GTIN, or an internal code as written
    pack_qty: int = 1


@dataclass(frozen=True)
class CatalogRow:
    line: int
    sku: str
    name: str
    price: int  # minor units, per unit or per kg
    tax: str  # a known tax code, spelled as the store spells it
    barcodes: tuple[CatalogBarcode, ...] = ()
    category: str | None = None
    unit: str = "each"
    stock: int | None = None  # units, or grams for kg items; None: not counted
    plu: str | None = None
    columns: frozenset[str] = frozenset(REQUIRED_COLUMNS)  # the header's columns


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most columns (',' on a tie)."""
    best, best_count = ",", 0
    for delimiter in _DELIMITERS:
        fields = next(csv.reader([header_line], delimiter=delimiter), [])
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _parse_price(text: str, currency: Currency, locale: str) -> int:
    if not text:
        raise ValueError("price is empty")
    if text.isascii() and text.isdigit():
        # The common case, exact in every locale; parse_money is the authority for the rest.
        value = int(text) * currency.unit
    else:
        try:
            value = parse_money(text, currency, locale)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
    if value < 0:
        raise ValueError(f"price {text!r} is negative")
    if value >= MAX_PRICE_MAJOR * currency.unit:
        raise ValueError(f"price {text!r} is too large")
    return value


def _parse_number(text: str, written: str, locale: str) -> Decimal:
    if text.isascii() and text.isdigit():
        return Decimal(int(text))
    negative = text.startswith("-")
    try:
        value = parse_decimal(text[1:] if negative else text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise ValueError(f"stock {written!r} is not a number as written in {locale}") from None
    if not value.is_finite():
        raise ValueError(f"stock {written!r} is not a number as written in {locale}")
    return -value if negative else value


def _parse_stock(written: str, unit: str, locale: str) -> int:
    if unit == "kg":
        text, scale = written, 1000
        match = _GRAMS.match(written)
        if match:
            text = match.group(1)
            scale = 1 if match.group(2).lower() == "g" else 1000
        value = _parse_number(text, written, locale) * scale
        if value != value.to_integral_value():
            raise ValueError(
                f"stock {written!r} is finer than a gram "
                "(stock of items sold by weight is kept in whole grams)"
            )
    else:
        if _GRAMS.match(written):
            raise ValueError(
                f"stock {written!r} has a weight unit but the item is sold by the piece "
                "(unit each): write the number of pieces"
            )
        value = _parse_number(written, written, locale)
        if value != value.to_integral_value():
            raise ValueError(f"stock {written!r} is not a whole number of pieces")
    if value < 0:
        raise ValueError(f"stock {written!r} is negative")
    if value > MAX_STOCK:
        raise ValueError(f"stock {written!r} is too large")
    return int(value)


def _parse_plu(text: str, max_len: int) -> str:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"plu {text!r} is not a number (scale labels carry digits only)")
    plu = text.lstrip("0")
    if not plu:
        raise ValueError(f"plu {text!r} is zero, which no scale label can name")
    if len(plu) > max_len:
        raise ValueError(
            f"plu {text!r} does not fit the {max_len}-digit item field of the scale barcodes"
        )
    return plu


def _parse_barcode(
    item: str, layouts: Sequence[VariableMeasureLayout]
) -> tuple[CatalogBarcode, str]:
    """The barcode and how it was written (for messages)."""
    code, star, qty_text = item.partition("*")
    code = code.strip()
    pack_qty = 1
    if star:
        qty_text = qty_text.strip()
        if not (qty_text.isascii() and qty_text.isdigit()):
            raise ValueError(f"barcode {item!r}: pack quantity {qty_text!r} is not a whole number")
        pack_qty = int(qty_text)
        if not 1 <= pack_qty <= MAX_PACK:
            raise ValueError(f"barcode {item!r}: pack quantity {pack_qty} is not in 1..{MAX_PACK}")
    if not code:
        raise ValueError(f"barcode {item!r} has no code before the '*'")
    if _SCIENTIFIC.match(code):
        raise ValueError(
            f"barcode {code!r} is a number the spreadsheet shortened to scientific notation: "
            "format the barcode column as text and export again"
        )
    try:
        parsed = parse(code, layouts)
    except BarcodeError as exc:
        raise ValueError(f"barcode {code!r} is invalid: {exc}") from None
    if parsed.kind == "variable":
        raise ValueError(
            f"barcode {code!r} starts with {code[:2]!r}, the prefix of scale labels: "
            "give the item a plu instead"
        )
    key = parsed.gtin if parsed.kind == "gtin" else parsed.raw
    return CatalogBarcode(key, pack_qty), code


def parse_catalog(
    text: str,
    *,
    currency: Currency = IDR,
    locale: str = DEFAULT_LOCALE,
    tax_codes: Collection[str] = tuple(code.code for code in DEFAULT_TAX_CODES),
    default_tax: str = "PPN",
    layouts: Sequence[VariableMeasureLayout] = DEFAULT_LAYOUTS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[CatalogRow], list[RowError]]:
    """Read catalog CSV text into good rows and the errors of every bad row.

    A row with any error is left out of `rows`. `tax_codes` are the codes the store knows;
    `layouts` the variable-measure layouts (a barcode that reads as a scale label is refused,
    and a plu must fit their item field). `progress(done_lines, total_lines)` is called now and
    then for big files.
    """
    if not isinstance(text, str):
        raise TypeError(f"catalog text must be str, not {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    # Universal newlines: CRLF and lone CR become LF, so line numbers match an editor's.
    text = io.StringIO(text, newline=None).read()
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return [], [
            RowError(1, None, "the file is empty: it needs a header line with sku,name,price")
        ]
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows_reader: _Rows | None = None
    errors: list[RowError] = []
    rows: list[CatalogRow] = []
    end = 0
    while True:
        start = end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            hint = " (a quote that is never closed?)" if "end of data" in str(exc) else ""
            errors.append(RowError(start, None, f"not valid CSV: {exc}{hint}"))
            end = reader.line_num
            continue
        end = reader.line_num
        if progress is not None and start % 5000 == 0:
            progress(start, len(lines))
        if not any(field.strip() for field in record):
            continue
        if rows_reader is None:
            header = [field.strip().lower() for field in record]
            header_errors = _check_header(header, start)
            if header_errors:
                return [], header_errors
            rows_reader = _Rows(
                header, delimiter, currency, locale, tax_codes, default_tax, layouts
            )
            header_line = start
            continue
        result = rows_reader.read(record, start)
        if isinstance(result, CatalogRow):
            rows.append(result)
        else:
            errors.extend(result)
    if rows_reader is None:
        errors.append(RowError(1, None, "the file has no header line with sku,name,price"))
    elif not rows and not errors:
        errors.append(RowError(header_line, None, "the file has a header but no products"))
    if progress is not None:
        progress(len(lines), len(lines))
    return rows, errors


class _Rows:
    """Reads the rows under one header, remembering what earlier rows claimed."""

    def __init__(
        self,
        header: list[str],
        delimiter: str,
        currency: Currency,
        locale: str,
        tax_codes: Collection[str],
        default_tax: str,
        layouts: Sequence[VariableMeasureLayout],
    ):
        self.header = header
        self.columns = frozenset(header)
        self.index = {name: i for i, name in enumerate(header)}
        self.delimiter = delimiter
        self.currency = currency
        self.locale = locale
        self.known_tax = {code.upper(): code for code in tax_codes}
        self.default_tax = default_tax
        self.layouts = tuple(layouts)
        self.plu_width = max((layout.item_length for layout in self.layouts), default=5)
        self.sku_lines: dict[str, int] = {}
        self.barcode_lines: dict[str, tuple[int, str]] = {}
        self.plu_lines: dict[str, int] = {}

    def read(self, record: list[str], line: int) -> CatalogRow | list[RowError]:
        errors: list[RowError] = []

        def problem(column: str | None, reason: str) -> None:
            errors.append(RowError(line, column, reason))

        width = len(self.header)
        if len(record) > width and any(f.strip() for f in record[width:]):
            problem(
                None,
                f"the row has {len(record)} fields but the header has {width} "
                f"(a '{self.delimiter}' inside a name or price that is not in quotes?)",
            )
            return errors
        if len(record) < width:
            record = record + [""] * (width - len(record))
        # str.strip also strips the no-break spaces spreadsheets leave around numbers.
        cells = {name: record[i].strip() for name, i in self.index.items()}

        sku = cells["sku"]
        if not sku:
            problem("sku", "sku is empty")
        elif len(sku) > MAX_SKU:
            problem("sku", f"sku {sku[:20]!r}... is longer than {MAX_SKU} characters")
        elif _has_control(sku):
            problem("sku", f"sku {sku!r} contains a control character")
        elif sku in self.sku_lines:
            problem("sku", f"sku {sku!r} is already on line {self.sku_lines[sku]}")
        else:
            self.sku_lines[sku] = line

        name = cells["name"]
        if not name:
            problem("name", "name is empty")
        elif len(name) > MAX_NAME:
            problem("name", f"name is longer than {MAX_NAME} characters")
        elif _has_control(name):
            problem("name", f"name {name!r} contains a control character")

        price = 0
        try:
            price = _parse_price(cells["price"], self.currency, self.locale)
        except ValueError as exc:
            problem("price", str(exc))

        tax_text = cells.get("tax", "")
        tax = self.known_tax.get((tax_text or self.default_tax).upper())
        if tax is None:
            known = ", ".join(sorted(self.known_tax.values()))
            if tax_text:
                problem("tax", f"unknown tax code {tax_text!r} (known: {known})")
            else:
                problem(
                    "tax",
                    f"no tax code given and the store's default {self.default_tax!r} is not "
                    f"a known code (known: {known})",
                )

        unit_text = cells.get("unit", "")
        unit = unit_text.lower() or "each"
        unit_ok = unit in UNITS
        if not unit_ok:
            problem("unit", f"unit {unit_text!r} is not 'each' or 'kg'")

        category = cells.get("category") or None
        if category is not None and len(category) > MAX_CATEGORY:
            problem("category", f"category is longer than {MAX_CATEGORY} characters")
        elif category is not None and _has_control(category):
            problem("category", f"category {category!r} contains a control character")

        stock = None
        if cells.get("stock") and unit_ok:
            try:
                stock = _parse_stock(cells["stock"], unit, self.locale)
            except ValueError as exc:
                problem("stock", str(exc))

        plu = None
        plu_text = cells.get("plu", "")
        if plu_text:
            try:
                plu = _parse_plu(plu_text, self.plu_width)
            except ValueError as exc:
                problem("plu", str(exc))
            else:
                if plu in self.plu_lines:
                    problem("plu", f"plu {plu_text!r} is already on line {self.plu_lines[plu]}")
                else:
                    self.plu_lines[plu] = line

        barcodes: list[CatalogBarcode] = []
        for item in cells.get("barcode", "").split("|"):
            item = item.strip()
            if not item:
                continue
            try:
                barcode, written = _parse_barcode(item, self.layouts)
            except ValueError as exc:
                problem("barcode", str(exc))
                continue
            if barcode.pack_qty > 1 and unit == "kg":
                problem("barcode", f"pack barcode {item!r} on an item sold by weight (unit kg)")
            elif any(barcode.code == b.code for b in barcodes):
                problem("barcode", f"barcode {written!r} is listed twice in this row")
            elif barcode.code in self.barcode_lines:
                other_line, other_sku = self.barcode_lines[barcode.code]
                problem(
                    "barcode",
                    f"barcode {written!r} is also on line {other_line} (sku {other_sku!r})",
                )
            else:
                barcodes.append(barcode)
        # Claimed even when the row is bad, so that every clash is reported in one pass.
        for barcode in barcodes:
            self.barcode_lines[barcode.code] = (line, sku)

        if errors:
            return errors
        return CatalogRow(
            line=line,
            sku=sku,
            name=name,
            price=price,
            tax=tax,
            barcodes=tuple(barcodes),
            category=category,
            unit=unit,
            stock=stock,
            plu=plu,
            columns=self.columns,
        )


def _check_header(header: list[str], line: int) -> list[RowError]:
    errors = []
    for name in REQUIRED_COLUMNS:
        if name not in header:
            errors.append(
                RowError(
                    line, name, f"the header has no {name!r} column (found: {', '.join(header)})"
                )
            )
    seen: set[str] = set()
    for name in header:
        if not name:
            errors.append(RowError(line, None, "the header has a column without a name"))
        elif name not in COLUMNS:
            errors.append(
                RowError(line, name, f"unknown column {name!r} (known: {', '.join(COLUMNS)})")
            )
        elif name in seen:
            errors.append(RowError(line, name, f"column {name!r} appears twice in the header"))
        seen.add(name)
    return errors
