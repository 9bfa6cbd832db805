"""The catalog as it travels between the OMS and its tills (part of the wire contract).

    GET  /api/v1/sync/catalog?since=CURSOR  -> CatalogPage (changes since the cursor, paged)
    POST /api/v1/sync/catalog               <- TillCatalog (a standalone till's own catalog,
                                               once after enrolment) -> MergeResult

Money in minor units; stock of items sold by weight in grams; ids UUIDv7.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .ids import is_uuid7
from .pins import is_secret_hash


def _pin_hash(value: str) -> str:
    if not is_secret_hash(value):
        raise ValueError("pin_hash is not scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>")
    return value


# A staff member's PIN as it travels: its slow hash (retail.pins), never the PIN.
PinHash = Annotated[
    str,
    Field(min_length=1, max_length=200, description="scrypt$n$r$p$salt$hash"),
    AfterValidator(_pin_hash),
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaxCodeWire(_Wire):
    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$")
    name: str = Field(min_length=1, max_length=120)
    rate_bp: int = Field(ge=0, le=10000)
    base_num: int = Field(1, ge=1)
    base_den: int = Field(1, ge=1)
    active: bool = True

    @field_validator("base_num")
    @classmethod
    def _fraction(cls, value: int, info) -> int:
        den = info.data.get("base_den")
        if den is not None and value > den:
            raise ValueError(f"base {value}/{den} is more than the whole price")
        return value


class CategoryWire(_Wire):
    name: str = Field(min_length=1, max_length=120)
    sort: int = 0


class BarcodeWire(_Wire):
    code: str = Field(min_length=1, max_length=64)
    pack_qty: int = Field(1, ge=1, le=9999)


class ProductWire(_Wire):
    id: str = Field(min_length=36, max_length=36)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price: int = Field(ge=0, le=10**15, description="minor units, per unit or per kg")
    tax_code: str = Field(min_length=1, max_length=16)
    category: str | None = Field(None, max_length=120)
    unit: Literal["each", "kg"] = "each"
    plu: str | None = Field(None, max_length=8, pattern=r"^[1-9][0-9]*$")
    active: bool = True
    barcodes: list[BarcodeWire] = Field(default_factory=list, max_length=50)

    @field_validator("id")
    @classmethod
    def _uuid7(cls, value: str) -> str:
        if not is_uuid7(value):
            raise ValueError(f"{value!r} is not a UUIDv7")
        return value


class PromotionWire(_Wire):
    id: str = Field(min_length=36, max_length=36)
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["multibuy", "bxgy", "price"]
    product_id: str | None = Field(None, min_length=36, max_length=36)
    category: str | None = Field(None, max_length=120)
    qty: int = Field(1, ge=1, le=10**6)
    get_qty: int = Field(0, ge=0, le=10**6)
    price: int | None = Field(None, ge=0, le=10**15)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


class StaffWire(_Wire):
    id: str = Field(min_length=36, max_length=36)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["cashier", "manager"] = "cashier"
    pin_hash: PinHash
    active: bool = True


class StockWire(_Wire):
    product_id: str
    on_hand: int = Field(description="units, or grams for items sold by weight")
    reserved: int = 0


class TillStockWire(_Wire):
    product_id: str = Field(min_length=36, max_length=36)
    on_hand: int = Field(ge=0, le=10**12)


class Removal(_Wire):
    kind: Literal["product", "tax_code", "category", "promotion", "staff"]
    key: str = Field(description="product/promotion/staff id, tax code, or category name")


class CatalogPage(_Wire):
    cursor: str
    next_cursor: str
    more: bool
    tax_codes: list[TaxCodeWire] = Field(default_factory=list)
    categories: list[CategoryWire] = Field(default_factory=list)
    products: list[ProductWire] = Field(default_factory=list)
    promotions: list[PromotionWire] = Field(default_factory=list)
    staff: list[StaffWire] = Field(default_factory=list)
    stock: list[StockWire] = Field(default_factory=list)
    removals: list[Removal] = Field(default_factory=list)


class TillCatalog(_Wire):
    """What a till that ran standalone sends once after enrolment."""

    tax_codes: list[TaxCodeWire] = Field(default_factory=list, max_length=100)
    categories: list[CategoryWire] = Field(default_factory=list, max_length=5000)
    products: list[ProductWire] = Field(default_factory=list, max_length=100_000)
    promotions: list[PromotionWire] = Field(default_factory=list, max_length=10_000)
    staff: list[StaffWire] = Field(default_factory=list, max_length=1000)
    stock: list[TillStockWire] = Field(default_factory=list, max_length=100_000)


class MergeResult(_Wire):
    already_merged: bool = False
    merged_at: datetime
    created: dict[str, int]
    matched: dict[str, int]
    conflicts: list[str]
