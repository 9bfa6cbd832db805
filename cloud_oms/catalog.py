"""The catalog the OMS owns: edits, the change log, CSV import, the till merge and the pull.

    >>> save_product(sku="MIE-1", name="Indomie Goreng", price=3500, tax_code="PPN",
    ...              barcodes=[("8998866200301", 1)])                   # doctest: +SKIP
    >>> page = pull(store, since=None)                                  # doctest: +SKIP
    >>> page.products[0].sku, page.more                                 # doctest: +SKIP
    ('MIE-1', False)

Every write records a `CatalogChange` row whose version comes from a locked counter row in the
same transaction, so versions commit in order and a cursor never skips a late commit. A till
pulls `GET /api/v1/sync/catalog?since=CURSOR` page by page until `more` is false and keeps the
last `next_cursor`.

The cursor is `<catalog version>.<stock time µs>.<stock product id>`: catalog changes by
version, then the store's stock levels changed since the stock time (keyset by time and
product). Stock rows carry the time they were written, not the time their transaction
committed, so the last cursor of a pull is moved back by `STOCK_OVERLAP`: a stock change whose
transaction committed up to that long after it was written is still seen, at the price of
re-sending a few recent rows (the till's update is idempotent).

Categories travel by name (the till numbers its own), so a category's change key is its name.
The shapes below are the wire contract with the till (the till sends `TillCatalog` once after
enrolment; the OMS answers pulls with `CatalogPage`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from retail import catalog_csv
from retail.catalog_wire import (  # the wire shapes: shared with the till
    BarcodeWire,
    CatalogPage,
    CategoryWire,
    MergeResult,
    ProductWire,
    PromotionWire,
    Removal,
    StaffWire,
    StockWire,
    TaxCodeWire,
    TillCatalog,
    _Wire,
)
from retail.ids import utcnow, uuid7
from retail.money import Currency
from retail.pins import is_secret_hash
from retail.tax import DEFAULT_TAX_CODES
from retail.tax import TaxCode as DomainTaxCode

from .db import atomic, locked
from .models.core import (
    Barcode,
    CatalogChange,
    Category,
    Counter,
    Product,
    Promotion,
    Staff,
    Store,
    TaxCode,
    Terminal,
)
from .models.stock import StockLevel

STOCK_OVERLAP = timedelta(seconds=120)
MAX_PAGE = 2000
DEFAULT_PAGE = 500
KINDS = ("product", "tax_code", "category", "promotion", "staff")


class CatalogError(ValueError):
    """A catalog write that cannot be made; `field` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


# --- the wire shapes --------------------------------------------------------------------------


# --- the change log ---------------------------------------------------------------------------


def record_changes(changes: Iterable[tuple[str, str]]) -> int:
    """Append change rows with the next versions; call inside the writing transaction.
    Returns the last version written (0 when there was nothing)."""
    changes = list(dict.fromkeys(changes))
    if not changes:
        return 0
    Counter.insert(name="catalog", value=0).on_conflict_ignore().execute()
    counter = locked(Counter, Counter.name == "catalog").get()
    first = counter.value + 1
    now = utcnow()
    rows = [
        {"version": first + i, "kind": kind, "key": key, "at": now}
        for i, (kind, key) in enumerate(changes)
    ]
    for start in range(0, len(rows), 500):
        CatalogChange.insert_many(rows[start : start + 500]).execute()
    last = first + len(rows) - 1
    Counter.update(value=last).where(Counter.name == "catalog").execute()
    return last


def catalog_version() -> int:
    row = Counter.get_or_none(Counter.name == "catalog")
    return row.value if row else 0


# --- edits ------------------------------------------------------------------------------------


def ensure_default_tax_codes() -> None:
    """Indonesia's codes, present in every OMS (the owner may edit them)."""
    with atomic():
        missing = [
            c for c in DEFAULT_TAX_CODES if TaxCode.get_or_none(TaxCode.code == c.code) is None
        ]
        for c in missing:
            TaxCode.create(
                code=c.code,
                name=c.name,
                rate_bp=c.rate_bp,
                base_num=c.base_num,
                base_den=c.base_den,
            )
        record_changes(("tax_code", c.code) for c in missing)


def save_tax_code(
    code: str, name: str, rate_bp: int, base_num: int = 1, base_den: int = 1, active: bool = True
) -> TaxCode:
    try:
        DomainTaxCode(code, name, rate_bp, base_num, base_den)
    except ValueError as exc:
        raise CatalogError("tax_code", str(exc)) from None
    with atomic():
        fields = dict(
            name=name, rate_bp=rate_bp, base_num=base_num, base_den=base_den, active=active
        )
        if TaxCode.update(**fields).where(TaxCode.code == code).execute() == 0:
            TaxCode.create(code=code, **fields)
        record_changes([("tax_code", code)])
    return TaxCode.get_by_id(code)


def save_category(name: str, sort: int = 0) -> Category:
    name = name.strip()
    if not name or len(name) > 120:
        raise CatalogError("category", f"category name {name!r} must be 1-120 characters")
    with atomic():
        category = Category.get_or_none(Category.name == name)
        if category is None:
            category = Category.create(name=name, sort=sort)
        elif category.sort != sort:
            category.sort = sort
            category.save()
        record_changes([("category", name)])
    return category


def _category_id(name: str | None, create: bool = True) -> str | None:
    if not name:
        return None
    category = Category.get_or_none(Category.name == name)
    if category is None:
        if not create:
            raise CatalogError("category", f"unknown category {name!r}")
        category = Category.create(name=name)
        record_changes([("category", name)])
    return category.id


def save_product(
    *,
    sku: str,
    name: str,
    price: int,
    tax_code: str,
    category: str | None = None,
    unit: str = "each",
    plu: str | None = None,
    active: bool = True,
    barcodes: Sequence[tuple[str, int]] | None = None,
    id: str | None = None,
) -> Product:
    """Create or update the product with `sku`. `barcodes` (code, pack qty), when given,
    replace the product's barcodes; a barcode of another product is refused."""
    if not sku or len(sku) > 64:
        raise CatalogError("sku", f"sku {sku!r} must be 1-64 characters")
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise CatalogError("price", f"price {price!r} must be a whole number ≥ 0 of minor units")
    if unit not in ("each", "kg"):
        raise CatalogError("unit", f"unit {unit!r} is not 'each' or 'kg'")
    with atomic():
        if TaxCode.get_or_none(TaxCode.code == tax_code) is None:
            raise CatalogError("tax_code", f"unknown tax code {tax_code!r}")
        fields = dict(
            name=name,
            price=price,
            tax_code=tax_code,
            category=_category_id(category),
            unit=unit,
            plu=plu or None,
            active=active,
            updated_at=utcnow(),
        )
        if plu:
            holder = Product.get_or_none((Product.plu == plu) & (Product.sku != sku))
            if holder is not None:
                raise CatalogError("plu", f"plu {plu} belongs to sku {holder.sku}")
        product = Product.get_or_none(Product.sku == sku)
        if product is None:
            product = Product.create(id=id or uuid7(), sku=sku, **fields)
        else:
            Product.update(**fields).where(Product.id == product.id).execute()
        if barcodes is not None:
            _set_barcodes(product.id, sku, barcodes)
        record_changes([("product", product.id)])
    return Product.get_by_id(product.id)


def _set_barcodes(product_id: str, sku: str, barcodes: Sequence[tuple[str, int]]) -> None:
    wanted = {code: qty for code, qty in barcodes}
    for code in wanted:
        holder = Barcode.get_or_none(Barcode.code == code)
        if holder is not None and holder.product_id != product_id:
            other = Product.get_by_id(holder.product_id)
            raise CatalogError("barcode", f"barcode {code} belongs to sku {other.sku}, not {sku}")
    Barcode.delete().where(
        (Barcode.product == product_id) & Barcode.code.not_in(list(wanted) or [""])
    ).execute()
    for code, qty in wanted.items():
        if Barcode.update(pack_qty=qty).where(Barcode.code == code).execute() == 0:
            Barcode.create(code=code, product=product_id, pack_qty=qty)


def delete_product(product_id: str) -> None:
    """Remove a product; tills drop it. A product that was ever sold is better deactivated."""
    with atomic():
        if Product.delete().where(Product.id == product_id).execute() == 0:
            raise CatalogError("product", f"no product {product_id}")
        record_changes([("product", product_id)])


def save_staff(
    *,
    name: str,
    pin_hash: str,
    role: str = "cashier",
    store: Store | str | None = None,
    active: bool = True,
    id: str | None = None,
) -> Staff:
    if role not in ("cashier", "manager"):
        raise CatalogError("role", f"role {role!r} is not cashier or manager")
    if not is_secret_hash(pin_hash):
        raise CatalogError("pin_hash", "pin_hash is not scrypt$<n>$<r>$<p>$<salt>$<hash>")
    store_id = store if isinstance(store, str) or store is None else store.id
    with atomic():
        fields = dict(
            name=name,
            pin_hash=pin_hash,
            role=role,
            store=store_id,
            active=active,
            updated_at=utcnow(),
        )
        staff = Staff.get_or_none(Staff.id == id) if id else None
        if staff is None:
            staff = Staff.create(id=id or uuid7(), **fields)
        else:
            Staff.update(**fields).where(Staff.id == staff.id).execute()
        record_changes([("staff", staff.id)])
    return Staff.get_by_id(staff.id)


def set_staff_active(staff_id: str, active: bool) -> Staff:
    """Disable (or re-enable) a staff member on every till at their next pull."""
    with atomic():
        if (
            Staff.update(active=active, updated_at=utcnow()).where(Staff.id == staff_id).execute()
            == 0
        ):
            raise CatalogError("staff", f"no staff member {staff_id}")
        record_changes([("staff", staff_id)])
    return Staff.get_by_id(staff_id)


def book_till_staff(store: Store, change) -> Staff:
    """A staff change made on a till of `store` (a `retail.schema.StaffChanged`), saved as the
    till sent it; the other tills of the store get it at their next pull. A new id becomes a
    staff member of `store`. Refused: a staff member of another store, and one shared by every
    store (the owner's to change here, not one store's till)."""
    with atomic():
        current = locked(Staff, Staff.id == change.staff_id).first()
        if current is not None and current.store_id != store.id:
            if current.store_id is None:
                reason = "is shared by every store: change them at the OMS"
            else:
                reason = "belongs to another store"
            raise CatalogError("staff_id", f"staff member {change.staff_id} {reason}")
        return save_staff(
            id=change.staff_id,
            name=change.name,
            pin_hash=change.pin_hash,
            role=change.role,
            store=store,
            active=change.active,
        )


def save_promotion(
    *,
    name: str,
    kind: str,
    product_id: str | None = None,
    category: str | None = None,
    qty: int = 1,
    get_qty: int = 0,
    price: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    active: bool = True,
    id: str | None = None,
) -> Promotion:
    if kind not in ("multibuy", "bxgy", "price"):
        raise CatalogError("kind", f"promotion kind {kind!r} is not multibuy, bxgy or price")
    if (product_id is None) == (category is None):
        raise CatalogError("product_id", "a promotion is for one product or one category")
    if kind in ("multibuy", "price") and price is None:
        raise CatalogError("price", f"a {kind} promotion needs a price")
    if kind == "bxgy" and get_qty < 1:
        raise CatalogError("get_qty", "a buy-x-get-y promotion gives at least one unit")
    with atomic():
        if product_id and Product.get_or_none(Product.id == product_id) is None:
            raise CatalogError("product_id", f"unknown product {product_id}")
        fields = dict(
            name=name,
            kind=kind,
            product=product_id,
            category=_category_id(category, False),
            qty=qty,
            get_qty=get_qty,
            price=price,
            starts_at=starts_at,
            ends_at=ends_at,
            active=active,
        )
        promotion = Promotion.get_or_none(Promotion.id == id) if id else None
        if promotion is None:
            promotion = Promotion.create(id=id or uuid7(), **fields)
        else:
            Promotion.update(**fields).where(Promotion.id == promotion.id).execute()
        record_changes([("promotion", promotion.id)])
    return Promotion.get_by_id(promotion.id)


def delete_promotion(promotion_id: str) -> None:
    with atomic():
        if Promotion.delete().where(Promotion.id == promotion_id).execute() == 0:
            raise CatalogError("promotion", f"no promotion {promotion_id}")
        record_changes([("promotion", promotion_id)])


# --- CSV import -------------------------------------------------------------------------------


class ImportResult(_Wire):
    created: int
    updated: int
    stock_set: int
    errors: list[str]


def import_csv(
    text: str, *, store: Store | None = None, actor: str = "import", dry_run: bool = False
) -> ImportResult:
    """Import the till's catalog CSV (rules in `retail.catalog_csv`). Nothing is written when
    any row is bad: every error is returned with its line and column. A `stock` column sets
    on-hand stock in `store` (required then) by booking the difference as an adjustment."""
    from . import stock as stock_service

    currency = Currency(store.currency, store.currency_exponent) if store else Currency()
    locale = store.locale if store else "id_ID"
    codes = [t.code for t in TaxCode.select(TaxCode.code).where(TaxCode.active == True)]  # noqa: E712
    rows, errors = catalog_csv.parse_catalog(
        text, currency=currency, locale=locale, tax_codes=codes
    )
    if not errors and store is None and any(r.stock is not None for r in rows):
        errors = [catalog_csv.RowError(1, "stock", "a stock column needs --store to count it in")]
    if errors or dry_run:
        return ImportResult(created=0, updated=0, stock_set=0, errors=[str(e) for e in errors])
    created = updated = stock_set = 0
    problems: list[str] = []
    try:
        with atomic():
            for row in rows:
                outcome = _import_row(row, store, actor, stock_service)
                if isinstance(outcome, str):
                    problems.append(outcome)
                    continue
                created += outcome[0]
                updated += not outcome[0]
                stock_set += outcome[1]
            if problems:
                raise _Rollback(problems)
    except _Rollback as exc:
        return ImportResult(created=0, updated=0, stock_set=0, errors=exc.problems)
    return ImportResult(created=created, updated=updated, stock_set=stock_set, errors=[])


def _import_row(row, store, actor, stock_service) -> tuple[bool, bool] | str:
    """(created, stock set) for a written row, or the problem that stops the import."""
    existing = Product.get_or_none(Product.sku == row.sku)
    cols = row.columns
    kwargs = dict(sku=row.sku, name=row.name, price=row.price)
    kwargs["tax_code"] = row.tax if "tax" in cols or existing is None else existing.tax_code_id
    if "category" in cols:
        kwargs["category"] = row.category
    elif existing is not None and existing.category_id:
        kwargs["category"] = Category.get_by_id(existing.category_id).name
    kwargs["unit"] = row.unit if "unit" in cols or existing is None else existing.unit
    kwargs["plu"] = row.plu if "plu" in cols else (existing.plu if existing else None)
    kwargs["active"] = existing.active if existing is not None else True
    if "barcode" in cols:
        kwargs["barcodes"] = [(b.code, b.pack_qty) for b in row.barcodes]
    try:
        product = save_product(**kwargs)
    except CatalogError as exc:
        return f"line {row.line}, {exc.field}: {exc.reason}"
    if row.stock is None:
        return existing is None, False
    level = StockLevel.get_or_none(
        (StockLevel.store == store.id) & (StockLevel.product == product.id)
    )
    diff = row.stock - (level.on_hand if level else 0)
    if diff:
        stock_service.adjust(store, product, diff, "catalog import", actor)
    return existing is None, True


class _Rollback(Exception):
    """Carries the problems out of the rolled-back block."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- the till's catalog, merged once after enrolment -------------------------------------------


def merge_till_catalog(terminal: Terminal, catalog: TillCatalog, actor: str) -> MergeResult:
    """Merge a till's own catalog by sku, once per enrolment (a repeat returns the first
    result with `already_merged`). The OMS keeps what it already has: new tax codes,
    categories, products (with the till's ids), promotions and staff are added; a known sku
    keeps the OMS's fields and gains the till's barcodes that no other product holds. Stock
    counted on the till is booked for products the store has no stock level for yet."""
    from . import stock as stock_service

    with atomic():
        # One merge per store at a time: tills enrolling together would otherwise both find a
        # category or sku missing and both insert it (a unique-key clash on PostgreSQL).
        list(locked(Store, Store.id == terminal.store_id))
        term = locked(Terminal, Terminal.id == terminal.id).get()
        if term.catalog_merged_at is not None and term.catalog_merge_result:
            return MergeResult(**{**term.catalog_merge_result, "already_merged": True})
        created = dict.fromkeys(
            ("tax_codes", "categories", "products", "barcodes", "promotions", "staff", "stock"), 0
        )
        matched = dict.fromkeys(("tax_codes", "categories", "products", "promotions", "staff"), 0)
        conflicts: list[str] = []
        changes: list[tuple[str, str]] = []

        for tc in catalog.tax_codes:
            if TaxCode.get_or_none(TaxCode.code == tc.code) is None:
                TaxCode.create(**tc.model_dump())
                changes.append(("tax_code", tc.code))
                created["tax_codes"] += 1
            else:
                matched["tax_codes"] += 1
        known_tax = {t.code for t in TaxCode.select(TaxCode.code)}

        for cat in catalog.categories:
            if Category.get_or_none(Category.name == cat.name) is None:
                Category.create(name=cat.name, sort=cat.sort)
                changes.append(("category", cat.name))
                created["categories"] += 1
            else:
                matched["categories"] += 1

        id_map: dict[str, str] = {}  # till product id -> OMS product id
        new_products: set[str] = set()
        for p in catalog.products:
            existing = Product.get_or_none(Product.sku == p.sku)
            if existing is not None:
                matched["products"] += 1
                product_id = existing.id
            else:
                if p.tax_code not in known_tax:
                    conflicts.append(f"product {p.sku}: unknown tax code {p.tax_code}; not added")
                    continue
                product_id = p.id
                if Product.get_or_none(Product.id == p.id) is not None:
                    product_id = uuid7()
                    conflicts.append(f"product {p.sku}: id {p.id} is another sku's; new id given")
                plu = p.plu
                if plu and Product.get_or_none(Product.plu == plu) is not None:
                    conflicts.append(f"product {p.sku}: plu {plu} is taken; left without a plu")
                    plu = None
                category_id = None
                if p.category:
                    category = Category.get_or_none(Category.name == p.category)
                    if category is None:
                        category = Category.create(name=p.category)
                        changes.append(("category", p.category))
                        created["categories"] += 1
                    category_id = category.id
                Product.create(
                    id=product_id,
                    sku=p.sku,
                    name=p.name,
                    price=p.price,
                    tax_code=p.tax_code,
                    category=category_id,
                    unit=p.unit,
                    plu=plu,
                    active=p.active,
                )
                created["products"] += 1
                new_products.add(product_id)
            id_map[p.id] = product_id
            added = False
            for b in p.barcodes:
                holder = Barcode.get_or_none(Barcode.code == b.code)
                if holder is None:
                    Barcode.create(code=b.code, product=product_id, pack_qty=b.pack_qty)
                    created["barcodes"] += 1
                    added = True
                elif holder.product_id != product_id:
                    other = Product.get_by_id(holder.product_id).sku
                    conflicts.append(f"barcode {b.code} of {p.sku} belongs to {other}; kept there")
            if product_id in new_products or added:
                changes.append(("product", product_id))

        for promo in catalog.promotions:
            if Promotion.get_or_none(Promotion.id == promo.id) is not None:
                matched["promotions"] += 1
                continue
            product_id = id_map.get(promo.product_id) if promo.product_id else None
            category = (
                Category.get_or_none(Category.name == promo.category) if promo.category else None
            )
            if (promo.product_id and product_id is None) or (promo.category and category is None):
                conflicts.append(f"promotion {promo.name}: its product or category is unknown")
                continue
            Promotion.create(
                id=promo.id,
                name=promo.name,
                kind=promo.kind,
                product=product_id,
                category=category.id if category else None,
                qty=promo.qty,
                get_qty=promo.get_qty,
                price=promo.price,
                starts_at=promo.starts_at,
                ends_at=promo.ends_at,
                active=promo.active,
            )
            changes.append(("promotion", promo.id))
            created["promotions"] += 1

        for s in catalog.staff:
            if Staff.get_or_none(Staff.id == s.id) is not None:
                matched["staff"] += 1
                continue
            Staff.create(
                id=s.id,
                store=term.store_id,
                name=s.name,
                role=s.role,
                pin_hash=s.pin_hash,
                active=s.active,
            )
            changes.append(("staff", s.id))
            created["staff"] += 1

        for level in catalog.stock:
            product_id = id_map.get(level.product_id)
            if product_id is None or not level.on_hand:
                continue
            has_level = StockLevel.get_or_none(
                (StockLevel.store == term.store_id) & (StockLevel.product == product_id)
            )
            if has_level is None:
                stock_service.adjust(
                    term.store_id,
                    product_id,
                    level.on_hand,
                    "stock counted on the till before enrolment",
                    actor,
                )
                created["stock"] += 1

        record_changes(changes)
        now = utcnow()
        result = MergeResult(merged_at=now, created=created, matched=matched, conflicts=conflicts)
        Terminal.update(
            catalog_merged_at=now, catalog_merge_result=result.model_dump(mode="json")
        ).where(Terminal.id == term.id).execute()
    return result


# --- the pull ---------------------------------------------------------------------------------

_CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,18})\.([0-9a-f-]{0,36})$")


def parse_cursor(cursor: str | None) -> tuple[int, int, str]:
    if cursor in (None, "", "0"):
        return 0, 0, ""
    match = _CURSOR.match(cursor)
    if not match:
        raise CatalogError("since", f"cursor {cursor[:60]!r} is not one this OMS issued")
    return int(match.group(1)), int(match.group(2)), match.group(3)


def _cursor(version: int, stock_us: int, product_id: str) -> str:
    return f"{version}.{stock_us}.{product_id}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def product_wire(product: Product, barcodes: list[Barcode], category: str | None) -> ProductWire:
    return ProductWire(
        id=product.id,
        sku=product.sku,
        name=product.name,
        price=product.price,
        tax_code=product.tax_code_id,
        category=category,
        unit=product.unit,
        plu=product.plu,
        active=product.active,
        barcodes=[BarcodeWire(code=b.code, pack_qty=b.pack_qty) for b in barcodes],
    )


def pull(store: Store, since: str | None, limit: int = DEFAULT_PAGE) -> CatalogPage:
    """One page of what changed for `store` since the cursor (see the module docstring)."""
    version, stock_us, stock_pid = parse_cursor(since)
    limit = max(1, min(limit, MAX_PAGE))
    page = CatalogPage(cursor=since or "0", next_cursor="", more=False)
    changes = list(
        CatalogChange.select(CatalogChange.version, CatalogChange.kind, CatalogChange.key)
        .where(CatalogChange.version > version)
        .order_by(CatalogChange.version)
        .limit(limit + 1)
    )
    if len(changes) > limit:
        changes = changes[:limit]
        page.more = True
    if changes:
        version = changes[-1].version
    _fill(page, store, changes)
    if page.more:
        page.next_cursor = _cursor(version, stock_us, stock_pid)
        return page

    room = limit - len(changes) + 1
    start = _from_us(stock_us)
    query = StockLevel.select().where(StockLevel.store == store.id)
    if stock_us:
        query = query.where(
            (StockLevel.updated_at > start)
            | ((StockLevel.updated_at == start) & (StockLevel.product > stock_pid))
        )
    levels = list(query.order_by(StockLevel.updated_at, StockLevel.product).limit(room + 1))
    if len(levels) > room:
        levels = levels[:room]
        page.more = True
    page.stock = [
        StockWire(product_id=lv.product_id, on_hand=lv.on_hand, reserved=lv.reserved)
        for lv in levels
    ]
    if levels:
        stock_us, stock_pid = _us(levels[-1].updated_at), levels[-1].product_id
    if page.more:
        page.next_cursor = _cursor(version, stock_us, stock_pid)
    else:
        # The end of this pull: step back so a stock write committed late is not skipped.
        rewind = max(0, stock_us - int(STOCK_OVERLAP.total_seconds() * 1_000_000))
        page.next_cursor = _cursor(version, rewind if stock_us else 0, "")
    return page


def _fill(page: CatalogPage, store: Store, changes: list[CatalogChange]) -> None:
    keys: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for change in changes:
        if change.key not in keys[change.kind]:
            keys[change.kind].append(change.key)

    def chunks(values: list[str]):
        for i in range(0, len(values), 500):
            yield values[i : i + 500]

    found: set[tuple[str, str]] = set()
    for part in chunks(keys["tax_code"]):
        for t in TaxCode.select().where(TaxCode.code.in_(part)):
            page.tax_codes.append(
                TaxCodeWire(
                    code=t.code,
                    name=t.name,
                    rate_bp=t.rate_bp,
                    base_num=t.base_num,
                    base_den=t.base_den,
                    active=t.active,
                )
            )
            found.add(("tax_code", t.code))
    for part in chunks(keys["category"]):
        for c in Category.select().where(Category.name.in_(part)):
            page.categories.append(CategoryWire(name=c.name, sort=c.sort))
            found.add(("category", c.name))
    category_names = {c.id: c.name for c in Category.select(Category.id, Category.name)}
    for part in chunks(keys["product"]):
        products = list(Product.select().where(Product.id.in_(part)))
        codes: dict[str, list[Barcode]] = {}
        for b in Barcode.select().where(Barcode.product.in_(part)).order_by(Barcode.code):
            codes.setdefault(b.product_id, []).append(b)
        for p in products:
            page.products.append(
                product_wire(p, codes.get(p.id, []), category_names.get(p.category_id))
            )
            found.add(("product", p.id))
    for part in chunks(keys["promotion"]):
        for pr in Promotion.select().where(Promotion.id.in_(part)):
            page.promotions.append(
                PromotionWire(
                    id=pr.id,
                    name=pr.name,
                    kind=pr.kind,
                    product_id=pr.product_id,
                    category=category_names.get(pr.category_id),
                    qty=pr.qty,
                    get_qty=pr.get_qty,
                    price=pr.price,
                    starts_at=pr.starts_at,
                    ends_at=pr.ends_at,
                    active=pr.active,
                )
            )
            found.add(("promotion", pr.id))
    for part in chunks(keys["staff"]):
        for s in Staff.select().where(Staff.id.in_(part)):
            if s.store_id not in (None, store.id):
                continue  # another store's: a removal below
            page.staff.append(
                StaffWire(id=s.id, name=s.name, role=s.role, pin_hash=s.pin_hash, active=s.active)
            )
            found.add(("staff", s.id))
    for kind in KINDS:
        for key in keys[kind]:
            if (kind, key) not in found:
                page.removals.append(Removal(kind=kind, key=key))
