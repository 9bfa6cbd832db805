"""The cart of the sale in progress.

    >>> cart = Cart(config)
    >>> cart.scan("8991001100016")                  # doctest: +SKIP
    >>> cart.add_sku("BERAS-5", qty=2)               # doctest: +SKIP
    >>> cart.priced().total                          # doctest: +SKIP

Each line keeps the name, price, tax code and promotions it had when it was added, so a catalog
update arriving in the middle of a sale does not change what the customer was told. Pricing is
`retail.pricing.price_cart`, the same function the OMS uses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from retail.barcodes import BarcodeError
from retail.ids import iso, utcnow, uuid7
from retail.pricing import Discount, LineInput, PricedCart, Promo, price_cart
from retail.tax import TaxCode

from . import audit, catalog, identity
from .catalog import ProductInfo, UnknownBarcode
from .staff import StaffInfo, require_manager
from .store.models import Customer, db
from .store.models import TaxCode as TaxCodeRow


class CartError(ValueError):
    """Something the cashier asked of the cart that cannot be done; the message says why."""


@dataclass
class CartLine:
    key: str
    product_id: str | None
    sku: str | None
    barcode: str | None
    name: str
    unit: str
    unit_price: int
    tax: TaxCode
    qty: int = 1
    weight_g: int | None = None
    embedded_price: int | None = None
    promos: tuple[Promo, ...] = ()
    discount: Discount | None = None
    price_overridden: bool = False
    original_price: int | None = None

    def as_input(self) -> LineInput:
        return LineInput(
            key=self.key,
            unit_price=self.unit_price,
            qty=self.qty,
            weight_g=self.weight_g,
            tax=self.tax,
            promos=self.promos,
            discount=self.discount,
            embedded_price=self.embedded_price,
        )

    @property
    def mergeable(self) -> bool:
        return (
            self.weight_g is None
            and self.embedded_price is None
            and not self.price_overridden
            and self.discount is None
            and self.product_id is not None
        )


def tax_code_named(code: str) -> TaxCode:
    row = TaxCodeRow.get_or_none(TaxCodeRow.code == code)
    if row is None or not row.active:
        raise CartError(f"tax code {code!r} is not set up on this till")
    return TaxCode(row.code, row.name, row.rate_bp, row.base_num, row.base_den)


class _PromotionCache:
    """Active promotions, read once and kept until the store changes.

    Promotions are few and change rarely (a catalog pull, an import), while a scan happens every
    second: re-reading them per scan doubled the cost of a scan. The cache key is SQLite's
    `data_version` (bumped by commits of other connections: the sync process) together with this
    connection's own `total_changes`, so any write anywhere invalidates it."""

    def __init__(self) -> None:
        self.key = None
        self.by_product: dict[str, list[tuple]] = {}
        self.by_category: dict[int, list[tuple]] = {}

    def _current_key(self):
        connection = db.connection()
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        return (id(connection), version, connection.total_changes)

    def for_product(self, product: ProductInfo) -> tuple[Promo, ...]:
        key = self._current_key()
        if key != self.key:
            self.by_product, self.by_category = {}, {}
            for row in db.execute_sql(
                "SELECT id, name, kind, qty, get_qty, price, product_id, category_id, "
                "starts_at, ends_at FROM promotion WHERE active = 1"
            ):
                if row[6]:
                    self.by_product.setdefault(row[6], []).append(row)
                if row[7] is not None:
                    self.by_category.setdefault(row[7], []).append(row)
            self.key = key
        rows = self.by_product.get(product.id, [])
        if product.category_id is not None:
            rows = rows + self.by_category.get(product.category_id, [])
        if not rows:
            return ()
        now = iso(utcnow())
        return tuple(
            Promo(r[0], r[1], r[2], r[3], r[4], r[5])
            for r in rows
            if (r[8] is None or r[8] <= now) and (r[9] is None or r[9] > now)
        )


_promotions = _PromotionCache()


def _promos_for(product: ProductInfo) -> tuple[Promo, ...]:
    return _promotions.for_product(product)


@dataclass
class Cart:
    config: object
    lines: list[CartLine] = field(default_factory=list)
    cart_discount: Discount | None = None
    customer_id: str | None = None
    staff: StaffInfo | None = None
    _layouts: tuple | None = field(default=None, repr=False, compare=False)

    # -- adding -------------------------------------------------------------------------------

    def _max_qty(self) -> int:
        return self.config["till.max_line_qty"]

    def _add(
        self,
        product: ProductInfo,
        qty: int,
        barcode: str | None,
        weight_g=None,
        embedded_price=None,
    ) -> CartLine:
        if qty < 1:
            raise CartError(f"quantity {qty} must be at least 1")
        if qty > self._max_qty():
            raise CartError(f"quantity {qty} is more than one line takes ({self._max_qty()})")
        if product.unit == "kg" and weight_g is None and embedded_price is None:
            raise CartError(f"{product.name} is sold by weight: scan its scale label")
        if weight_g is None and embedded_price is None:
            for line in self.lines:
                if line.product_id == product.id and line.mergeable:
                    if line.qty + qty > self._max_qty():
                        raise CartError(
                            f"quantity {line.qty + qty} is more than one line takes "
                            f"({self._max_qty()})"
                        )
                    line.qty += qty
                    return line
        line = CartLine(
            key=uuid7(),
            product_id=product.id,
            sku=product.sku,
            barcode=barcode,
            name=product.name,
            unit=product.unit,
            unit_price=product.price,
            tax=product.tax,
            qty=qty,
            weight_g=weight_g,
            embedded_price=embedded_price,
            promos=_promos_for(product),
        )
        self.lines.append(line)
        return line

    def scan(self, code: str, qty: int = 1) -> CartLine:
        """Add what a barcode names. Raises BarcodeError for a malformed code and
        UnknownBarcode for a valid code the catalog lacks (the cashier may then sell it at an
        open price with a manager's approval)."""
        if self._layouts is None:
            self._layouts = catalog.configured_layouts(self.config)
        match = catalog.lookup_barcode(code, self._layouts)
        return self._add(
            match.product,
            qty * match.qty,
            match.barcode,
            weight_g=match.weight_g,
            embedded_price=match.embedded_price,
        )

    def add_sku(self, sku: str, qty: int = 1) -> CartLine:
        return self._add(catalog.lookup_sku(sku), qty, None)

    def add_product(self, product: ProductInfo, qty: int = 1) -> CartLine:
        return self._add(product, qty, None)

    def add_weighed(self, product: ProductInfo, weight_g: int) -> CartLine:
        """An item sold by weight, weighed on a scale that prints no label: the cashier types
        the grams."""
        if product.unit != "kg":
            raise CartError(f"{product.name} is sold by the piece, not by weight")
        if weight_g <= 0:
            raise CartError("the weight must be above zero grams")
        if weight_g > 1000 * self._max_qty():
            raise CartError(f"{weight_g} g is more than one line takes")
        return self._add(product, 1, None, weight_g=weight_g)

    def add_open_price(
        self,
        name: str,
        price: int,
        approver: StaffInfo | None,
        *,
        tax_code: str | None = None,
        barcode: str | None = None,
    ) -> CartLine:
        """A miscellaneous item at a price typed by the cashier, e.g. for an unknown barcode."""
        require_manager(approver, "selling an item at an open price")
        if price <= 0:
            raise CartError("an open-price item needs a price above zero")
        name = (name or "").strip() or "Lain-lain"
        tax = tax_code_named(tax_code or self.config["store.default_tax"])
        line = CartLine(
            key=uuid7(),
            product_id=None,
            sku=None,
            barcode=barcode,
            name=name,
            unit="each",
            unit_price=price,
            tax=tax,
        )
        self.lines.append(line)
        self._audit("open_price_item", approver, {"name": name, "price": price, "barcode": barcode})
        return line

    # -- changing -----------------------------------------------------------------------------

    def line(self, key_or_no: str | int) -> CartLine:
        if isinstance(key_or_no, int):
            if not 1 <= key_or_no <= len(self.lines):
                raise CartError(f"there is no line {key_or_no}")
            return self.lines[key_or_no - 1]
        for line in self.lines:
            if line.key == key_or_no:
                return line
        raise CartError("that line is no longer in the cart")

    def set_qty(self, key_or_no, qty: int, approver: StaffInfo | None = None) -> None:
        line = self.line(key_or_no)
        if line.weight_g is not None or line.embedded_price is not None:
            raise CartError(f"{line.name} is weighed: its quantity cannot change")
        if qty < 1:
            raise CartError("quantity must be at least 1 (void the line to remove it)")
        if qty > self._max_qty():
            raise CartError(f"quantity {qty} is more than one line takes ({self._max_qty()})")
        if qty < line.qty and self.staff is not None and not self.staff.is_manager:
            # Taking items off after they were rung up is a partial void.
            require_manager(approver, "reducing a quantity")
            self._audit("line_void", approver, {"name": line.name, "from": line.qty, "to": qty})
        line.qty = qty

    def void(self, key_or_no, approver: StaffInfo | None) -> CartLine:
        require_manager(approver, "voiding a line")
        line = self.line(key_or_no)
        self.lines.remove(line)
        self._audit("line_void", approver, {"name": line.name, "qty": line.qty, "sku": line.sku})
        return line

    def override_price(self, key_or_no, price: int, approver: StaffInfo | None) -> None:
        require_manager(approver, "changing a price")
        if price < 0:
            raise CartError("a price cannot be negative")
        line = self.line(key_or_no)
        if line.embedded_price is not None:
            raise CartError(f"{line.name}'s price comes from its scale label")
        self._audit(
            "price_override", approver, {"name": line.name, "from": line.unit_price, "to": price}
        )
        if line.original_price is None:
            line.original_price = line.unit_price
        line.unit_price = price
        line.price_overridden = True

    def discount_line(
        self, key_or_no, discount: Discount | None, approver: StaffInfo | None = None
    ) -> None:
        line = self.line(key_or_no)
        if discount is not None:
            self._check_discount(discount, approver)
        line.discount = discount

    def discount_cart(self, discount: Discount | None, approver: StaffInfo | None = None) -> None:
        if discount is not None:
            self._check_discount(discount, approver)
        self.cart_discount = discount

    def _check_discount(self, discount: Discount, approver: StaffInfo | None) -> None:
        # Cashiers may give up to 10% on their own; more needs a manager.
        small = discount.kind == "percent" and discount.value <= 1000
        if not small and not (self.staff and self.staff.is_manager):
            require_manager(approver, "a discount above 10%")
        if not small:
            self._audit(
                "discount", approver or self.staff, {"kind": discount.kind, "value": discount.value}
            )

    def attach_customer(self, customer_id: str | None) -> None:
        if (
            customer_id is not None
            and not Customer.select().where(Customer.id == customer_id).exists()
        ):
            raise CartError("that customer is not in this till's records")
        self.customer_id = customer_id

    def clear(self) -> None:
        self.lines.clear()
        self.cart_discount = None
        self.customer_id = None

    # -- reading ------------------------------------------------------------------------------

    def priced(self) -> PricedCart:
        return price_cart(
            [line.as_input() for line in self.lines],
            self.cart_discount,
            inclusive=self.config["store.prices_include_tax"],
        )

    @property
    def empty(self) -> bool:
        return not self.lines

    def _audit(self, action: str, approver: StaffInfo | None, detail: dict) -> None:
        audit.record(
            action,
            staff_id=self.staff.id if self.staff else (approver.id if approver else None),
            approved_by=approver.id if approver else None,
            detail=detail,
            tz=self.config["store.timezone"],
            send=not identity.training_mode(),
        )

    # -- parking ------------------------------------------------------------------------------

    def to_json(self) -> str:
        def line_dict(line: CartLine) -> dict:
            data = asdict(line)
            data["tax"] = asdict(line.tax)
            data["promos"] = [asdict(p) for p in line.promos]
            data["discount"] = asdict(line.discount) if line.discount else None
            return data

        return json.dumps(
            {
                "lines": [line_dict(line) for line in self.lines],
                "cart_discount": asdict(self.cart_discount) if self.cart_discount else None,
                "customer_id": self.customer_id,
            }
        )

    @classmethod
    def from_json(cls, text: str, config, staff: StaffInfo | None = None) -> Cart:
        data = json.loads(text)
        lines = []
        for item in data["lines"]:
            item = dict(item)
            item["tax"] = TaxCode(**item["tax"])
            item["promos"] = tuple(Promo(**p) for p in item["promos"])
            item["discount"] = Discount(**item["discount"]) if item["discount"] else None
            lines.append(CartLine(**item))
        cart = cls(config, lines=lines, staff=staff)
        if data.get("cart_discount"):
            cart.cart_discount = Discount(**data["cart_discount"])
        cart.customer_id = data.get("customer_id")
        return cart

    def copy(self) -> Cart:
        return replace(self, lines=[replace(line) for line in self.lines])


__all__ = ["BarcodeError", "Cart", "CartError", "CartLine", "UnknownBarcode"]
