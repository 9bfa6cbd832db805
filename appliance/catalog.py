"""The catalog as the till sells from it: barcode, sku and name lookups.

    >>> match = lookup_barcode("8998866200301")              # doctest: +SKIP
    >>> match.product.name, match.qty, match.product.tax.code  # doctest: +SKIP
    ('Indomie Goreng', 1, 'PPN')
    >>> lookup_barcode("2000042012502").weight_g             # doctest: +SKIP
    1250

Scanning is the till's hot path, so a lookup is one prepared SQL join through `db.execute_sql`
that brings the product, its tax code and its category in one row, and builds two small frozen
objects from it: no ORM model is instantiated. `retail.tax.TaxCode` objects are cached and
checked against the row each time, so an edited tax code is never served stale.

Only active products sell: an inactive product's barcode is an unknown barcode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from retail.barcodes import (
    DEFAULT_LAYOUTS,
    BarcodeError,
    VariableMeasureLayout,
    layouts_from_config,
    parse,
)
from retail.tax import TaxCode

from .store.models import db

__all__ = [
    "BarcodeError",
    "CategoryInfo",
    "ProductInfo",
    "ScanMatch",
    "UnknownBarcode",
    "UnknownProduct",
    "categories",
    "configured_layouts",
    "lookup_barcode",
    "lookup_sku",
    "products_in_category",
    "search",
]


# slots: no per-object __dict__, so a scan allocates less (fewer garbage collections).
@dataclass(frozen=True, slots=True)
class ProductInfo:
    id: str
    sku: str
    name: str
    price: int  # minor units, per unit or per kg
    tax: TaxCode
    category_id: int | None
    category: str | None
    unit: str  # each | kg
    plu: str | None


@dataclass(frozen=True, slots=True)
class ScanMatch:
    """What one scan adds: `qty` units (a pack barcode's count), or a scale label's weight or
    price. `barcode` is the code as the sale line records it: the canonical GTIN, or the scale
    label / internal code as scanned."""

    product: ProductInfo
    qty: int
    weight_g: int | None
    embedded_price: int | None
    barcode: str


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    name: str
    sort: int
    products: int  # active products in it


class UnknownBarcode(LookupError):
    """A valid code that names nothing the till sells."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or f"barcode {code} is not in the catalog")
        self.code = code

    def __str__(self) -> str:
        return self.args[0]


class UnknownProduct(LookupError):
    def __init__(self, sku: str):
        super().__init__(f"sku {sku!r} is not in the catalog")
        self.sku = sku

    def __str__(self) -> str:
        return self.args[0]


_COLUMNS = (
    "p.id, p.sku, p.name, p.price, p.tax_code, t.name, t.rate_bp, t.base_num, t.base_den, "
    "p.category_id, c.name, p.unit, p.plu"
)
_FROM = (
    "FROM product p JOIN tax_code t ON t.code = p.tax_code "
    "LEFT JOIN category c ON c.id = p.category_id"
)
_BY_BARCODE = (
    f"SELECT {_COLUMNS}, b.pack_qty FROM barcode b JOIN product p ON p.id = b.product_id "
    "JOIN tax_code t ON t.code = p.tax_code LEFT JOIN category c ON c.id = p.category_id "
    "WHERE b.code = ? AND p.active"
)
_BY_PLU = f"SELECT {_COLUMNS} {_FROM} WHERE p.plu = ? AND p.active"
_BY_SKU = f"SELECT {_COLUMNS} {_FROM} WHERE p.sku = ? AND p.active"
_SEARCH = (
    f"SELECT {_COLUMNS} {_FROM} "
    "WHERE p.active AND (p.name LIKE ?1 ESCAPE '\\' OR p.sku LIKE ?2 ESCAPE '\\') "
    "ORDER BY p.sku = ?3 DESC, p.sku LIKE ?2 ESCAPE '\\' DESC, "
    "p.name LIKE ?4 ESCAPE '\\' DESC, p.name, p.sku LIMIT ?5"
)
_IN_CATEGORY = f"SELECT {_COLUMNS} {_FROM} WHERE p.category_id = ? AND p.active ORDER BY p.name"
_CATEGORIES = (
    "SELECT c.id, c.name, c.sort, COUNT(p.id) FROM category c "
    "LEFT JOIN product p ON p.category_id = c.id AND p.active "
    "GROUP BY c.id ORDER BY c.sort, c.name"
)

# Tax codes by code. Every lookup reads the code's row in the same join and compares it with
# the cached object, so an edited code (by this process or another) is never served stale.
_tax_cache: dict[str, TaxCode] = {}


def _tax(row: Sequence) -> TaxCode:
    tax = _tax_cache.get(row[4])
    if (
        tax is None
        or tax.rate_bp != row[6]
        or tax.base_num != row[7]
        or tax.base_den != row[8]
        or tax.name != row[5]
    ):
        tax = _tax_cache[row[4]] = TaxCode(row[4], row[5], row[6], row[7], row[8])
    return tax


def _product(row: Sequence) -> ProductInfo:
    return ProductInfo(row[0], row[1], row[2], row[3], _tax(row), row[9], row[10], row[11], row[12])


def configured_layouts(config: Mapping) -> tuple[VariableMeasureLayout, ...]:
    """The store's variable-measure layouts (`barcodes.variable_layouts`), or GS1's defaults."""
    configured = config["barcodes.variable_layouts"]
    if not configured:
        return DEFAULT_LAYOUTS
    return layouts_from_config(configured)


def _fast_gtin(code: str, layouts: Sequence[VariableMeasureLayout]) -> str | None:
    """The lookup key of the common scan — a valid EAN-13 not starting with 0 and not a scale
    label — without the general parser, which is several times slower. Such a code is its own
    canonical form (`retail.barcodes.normalize`). Anything else returns None and goes through
    `retail.barcodes.parse`; `tests/appliance/test_catalog_lookup.py` checks that both agree."""
    if len(code) != 13 or not code.isdigit() or not code.isascii() or code[0] == "0":
        return None
    prefix = code[:2]
    for layout in layouts:
        if prefix in layout.prefixes:
            return None
    # GS1 mod 10 over ASCII bytes (weights 1,3,1,3… from the left; 24 digits' '0' removed).
    digits = code.encode()
    if (3 * sum(digits[1:12:2]) + sum(digits[0:12:2]) - 1152 + digits[12] - 48) % 10:
        return None
    return code


def lookup_barcode(
    code: str, layouts: Sequence[VariableMeasureLayout] = DEFAULT_LAYOUTS
) -> ScanMatch:
    """What a scanned code sells.

    Raises `BarcodeError` (from retail.barcodes) for a malformed code and `UnknownBarcode` for a
    valid code that names no active product: an unknown GTIN or internal code, a scale label
    whose PLU is unknown, or a weight label on an item sold by the piece.
    """
    key = _fast_gtin(code, layouts)
    if key is not None:
        row = db.execute_sql(_BY_BARCODE, (key,)).fetchone()
        if row is None:
            raise UnknownBarcode(key)
        return ScanMatch(_product(row), row[13], None, None, key)
    parsed = parse(code, layouts)
    if parsed.kind == "variable":
        plu = parsed.plu.lstrip("0")
        row = db.execute_sql(_BY_PLU, (plu,)).fetchone() if plu else None
        if row is None:
            raise UnknownBarcode(
                parsed.raw,
                f"barcode {parsed.raw} is a scale label for PLU {parsed.plu}, "
                "which is not in the catalog",
            )
        product = _product(row)
        if parsed.weight_g is not None and product.unit != "kg":
            raise UnknownBarcode(
                parsed.raw,
                f"barcode {parsed.raw} carries a weight, but PLU {parsed.plu} "
                f"({product.name}) is sold by the piece",
            )
        return ScanMatch(product, 1, parsed.weight_g, parsed.price, parsed.raw)
    key = parsed.gtin if parsed.kind == "gtin" else parsed.raw
    row = db.execute_sql(_BY_BARCODE, (key,)).fetchone()
    if row is None:
        raise UnknownBarcode(key)
    return ScanMatch(_product(row), row[13], None, None, key)


def lookup_sku(sku: str) -> ProductInfo:
    """The active product with this sku (exact, as stored); raises `UnknownProduct`."""
    row = db.execute_sql(_BY_SKU, (sku.strip(),)).fetchone()
    if row is None:
        raise UnknownProduct(sku)
    return _product(row)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(text: str, limit: int = 50) -> list[ProductInfo]:
    """Active products whose name contains `text` or whose sku starts with it, ignoring case
    (ASCII letters). An exact sku comes first, then sku prefixes, then names that start with
    the text, then the rest by name. Empty text lists every active product (up to `limit`)."""
    text = text.strip()
    if limit <= 0:
        return []
    escaped = _like_escape(text)
    cursor = db.execute_sql(_SEARCH, (f"%{escaped}%", f"{escaped}%", text, f"{escaped}%", limit))
    return [_product(row) for row in cursor.fetchall()]


def categories() -> list[CategoryInfo]:
    """Every category, in display order, with its count of active products."""
    return [CategoryInfo(*row) for row in db.execute_sql(_CATEGORIES).fetchall()]


def products_in_category(category_id: int) -> list[ProductInfo]:
    """The active products of a category, by name."""
    return [_product(row) for row in db.execute_sql(_IN_CATEGORY, (category_id,)).fetchall()]
