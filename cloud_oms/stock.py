"""Stock authority: the per-store ledger, reservations, low stock, purchase orders, valuation.

    >>> move(store, product, -2, "sale", "terminal:T01", ref_type="order", ref_id=order.id)
    ...                                                             # doctest: +SKIP
    >>> available(store, product)                                  # doctest: +SKIP
    1

Every change of on-hand stock is a `StockMovement` with its cause, written in the same
transaction as the `StockLevel` it changes; the level row is read FOR UPDATE on PostgreSQL (on
SQLite the IMMEDIATE transaction already serialises writers), which is what stops two orders
from both reserving the last unit. Available = on hand − reserved. A till sale is never
refused: if it leaves less on hand than is reserved or nothing at all, the movement and the
order line are flagged `oversold` for the owner. An online order that wants more than is
available is refused (`OutOfStock`) or backordered, as its channel's policy says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from retail.ids import utcnow
from retail.money import round_half_up

from .db import atomic, locked
from .models.core import Product, Store
from .models.orders import Order, OrderLine
from .models.stock import (
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
    Supplier,
)
from .state import OPEN_STATUSES

POLICIES = ("refuse", "backorder")


class StockError(ValueError):
    """Bad stock input; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class OutOfStock(Exception):
    """An online or phone order wants more than is available and its channel refuses."""

    def __init__(self, sku: str, available: int, wanted: int) -> None:
        self.sku, self.available, self.wanted = sku, available, wanted
        super().__init__(f"product {sku}: {max(available, 0)} available, {wanted} wanted")


def _key(obj) -> str:
    return obj if isinstance(obj, str) else obj.id


def lock_level(store, product) -> StockLevel:
    """The level row of (store, product), created if missing, locked for the transaction."""
    store_id, product_id = _key(store), _key(product)
    StockLevel.insert(
        store=store_id, product=product_id, updated_at=utcnow()
    ).on_conflict_ignore().execute()
    where = (StockLevel.store == store_id) & (StockLevel.product == product_id)
    return locked(StockLevel, where).get()


def lock_levels(store, products: Iterable) -> dict[str, StockLevel]:
    """Lock several levels in one fixed order (by product id), so two orders that want the
    same products in another order cannot deadlock."""
    return {pid: lock_level(store, pid) for pid in sorted({_key(p) for p in products})}


def _save_level(level: StockLevel) -> None:
    level.updated_at = utcnow()
    StockLevel.update(
        on_hand=level.on_hand,
        reserved=level.reserved,
        avg_cost=level.avg_cost,
        low_stock_threshold=level.low_stock_threshold,
        updated_at=level.updated_at,
    ).where(
        (StockLevel.store == level.store_id) & (StockLevel.product == level.product_id)
    ).execute()


def move(
    store,
    product,
    qty: int,
    cause: str,
    actor: str,
    *,
    ref_type: str = "",
    ref_id: str = "",
    unit_cost: int | None = None,
    note: str = "",
    consume_reserved: int = 0,
    at: datetime | None = None,
) -> StockMovement:
    """Book a signed change of on-hand stock; `consume_reserved` units of the reservation are
    used up by the same movement (a fulfilment takes reserved goods off the shelf)."""
    if qty == 0 and cause != "adjustment":
        raise StockError("qty", "a stock movement must change the quantity")
    with atomic():
        level = lock_level(store, product)
        if qty > 0 and unit_cost is not None:
            if unit_cost < 0:
                raise StockError("unit_cost", f"unit cost {unit_cost} is negative")
            held = max(level.on_hand, 0)
            level.avg_cost = round_half_up(held * level.avg_cost + qty * unit_cost, held + qty)
        level.on_hand += qty
        level.reserved = max(level.reserved - consume_reserved, 0)
        oversold = qty < 0 and (level.on_hand < 0 or level.on_hand < level.reserved)
        _save_level(level)
        return StockMovement.create(
            store=_key(store),
            product=_key(product),
            qty=qty,
            cause=cause,
            ref_type=ref_type,
            ref_id=ref_id,
            unit_cost=unit_cost if unit_cost is not None else (level.avg_cost or None),
            on_hand_after=level.on_hand,
            oversold=oversold,
            note=note,
            actor=actor,
            at=at or utcnow(),
        )


def available(store, product) -> int:
    level = StockLevel.get_or_none(
        (StockLevel.store == _key(store)) & (StockLevel.product == _key(product))
    )
    return level.on_hand - level.reserved if level else 0


def levels_for_store(store) -> dict[str, tuple[int, int]]:
    """{product_id: (on_hand, reserved)} for the till's catalog pull."""
    rows = StockLevel.select().where(StockLevel.store == _key(store))
    return {row.product_id: (row.on_hand, row.reserved) for row in rows}


# --- reservations -----------------------------------------------------------------------------


def reserve_line(line: OrderLine, store, policy: str) -> None:
    """Hold stock for an open order's line: all of it, or what there is plus a backorder, or
    refuse with OutOfStock. The caller has locked the level (see `lock_levels`)."""
    if policy not in POLICIES:
        raise StockError("stock_policy", f"stock policy {policy!r} is not refuse or backorder")
    if line.product_id is None:
        return  # an unmatched line has no stock to hold; it is flagged for mapping instead
    level = lock_level(store, line.product_id)
    wanted = line.stock_qty
    free = max(level.on_hand - level.reserved, 0)
    if free >= wanted:
        take = wanted
    elif policy == "refuse":
        raise OutOfStock(line.sku or line.name, level.on_hand - level.reserved, wanted)
    else:
        take = free
    if take:
        Reservation.create(store=_key(store), product=line.product_id, order_line=line.id, qty=take)
        level.reserved += take
        _save_level(level)
    line.reserved_qty = take
    line.backordered_qty = wanted - take
    line.save(only=[OrderLine.reserved_qty, OrderLine.backordered_qty])


def release_line(line: OrderLine) -> int:
    """Give back whatever the line still holds; returns how much."""
    active = list(
        Reservation.select().where(
            (Reservation.order_line == line.id) & (Reservation.status == "active")
        )
    )
    total = sum(r.qty for r in active)
    if active:
        level = lock_level(active[0].store_id, line.product_id)
        level.reserved = max(level.reserved - total, 0)
        _save_level(level)
        now = utcnow()
        Reservation.update(status="released", closed_at=now).where(
            Reservation.id.in_([r.id for r in active])
        ).execute()
    line.reserved_qty = 0
    line.backordered_qty = 0
    line.save(only=[OrderLine.reserved_qty, OrderLine.backordered_qty])
    return total


def consume_line(line: OrderLine, qty: int) -> int:
    """Mark `qty` of the line's reservations used (goods fulfilled); returns how many were
    reserved. The level's reserved figure is lowered by the movement that takes the goods."""
    left = qty
    used = 0
    rows = (
        Reservation.select()
        .where((Reservation.order_line == line.id) & (Reservation.status == "active"))
        .order_by(Reservation.created_at)
    )
    for res in rows:
        if left <= 0:
            break
        take = min(res.qty, left)
        if take == res.qty:
            res.status = "consumed"
            res.closed_at = utcnow()
        else:
            Reservation.create(
                store=res.store_id,
                product=res.product_id,
                order_line=line.id,
                qty=take,
                status="consumed",
                closed_at=utcnow(),
            )
            res.qty -= take
        res.save()
        left -= take
        used += take
    line.reserved_qty -= used
    return used


def fill_backorders(store, product, actor: str) -> int:
    """After goods came in: reserve them for open backordered lines, oldest order first."""
    level = lock_level(store, product)
    free = level.on_hand - level.reserved
    filled = 0
    if free <= 0:
        return 0
    lines = (
        OrderLine.select()
        .join(Order)
        .where(
            (Order.store == _key(store))
            & (OrderLine.product == _key(product))
            & (OrderLine.backordered_qty > 0)
            & (Order.status.in_(OPEN_STATUSES))
        )
        .order_by(Order.placed_at, OrderLine.line_no)
    )
    for line in lines:
        take = min(free, line.backordered_qty)
        if take <= 0:
            break
        Reservation.create(store=_key(store), product=_key(product), order_line=line.id, qty=take)
        line.reserved_qty += take
        line.backordered_qty -= take
        line.save(only=[OrderLine.reserved_qty, OrderLine.backordered_qty])
        level.reserved += take
        free -= take
        filled += take
        if (
            line.backordered_qty == 0
            and not OrderLine.select()
            .where((OrderLine.order == line.order_id) & (OrderLine.backordered_qty > 0))
            .exists()
        ):
            Order.update(backordered=False).where(Order.id == line.order_id).execute()
    _save_level(level)
    return filled


# --- thresholds, adjustments, reports ---------------------------------------------------------


def set_threshold(store, product, threshold: int | None) -> StockLevel:
    if threshold is not None and threshold < 0:
        raise StockError("threshold", f"low-stock threshold {threshold} is negative")
    with atomic():
        level = lock_level(store, product)
        level.low_stock_threshold = threshold
        _save_level(level)
        return level


def adjust(store, product, qty: int, reason: str, actor: str, unit_cost: int | None = None):
    """A counted correction or an opening balance: qty is the signed change."""
    if not reason.strip():
        raise StockError("reason", "a stock adjustment needs a reason")
    if qty == 0:
        raise StockError("qty", "an adjustment of 0 changes nothing")
    with atomic():
        movement = move(store, product, qty, "adjustment", actor, note=reason, unit_cost=unit_cost)
        if qty > 0:
            fill_backorders(store, product, actor)
        return movement


@dataclass(frozen=True)
class LevelRow:
    product_id: str
    sku: str
    name: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None
    low: bool
    avg_cost: int
    value: int


def levels(store, *, low_only: bool = False) -> list[LevelRow]:
    query = (
        StockLevel.select(StockLevel, Product)
        .join(Product, on=(StockLevel.product == Product.id))
        .where(StockLevel.store == _key(store))
        .order_by(Product.sku)
    )
    rows = []
    for lv in query:
        avail = lv.on_hand - lv.reserved
        low = lv.low_stock_threshold is not None and avail <= lv.low_stock_threshold
        if low_only and not low:
            continue
        rows.append(
            LevelRow(
                lv.product_id,
                lv.product.sku,
                lv.product.name,
                lv.on_hand,
                lv.reserved,
                avail,
                lv.low_stock_threshold,
                low,
                lv.avg_cost,
                max(lv.on_hand, 0) * lv.avg_cost,
            )
        )
    return rows


def stock_value(store) -> int:
    """What the goods on hand cost, at weighted average cost."""
    return sum(row.value for row in levels(store))


def margins(store, since: datetime, until: datetime) -> list[dict]:
    """Per product: units sold, net revenue (tax excluded), cost of goods and margin, from lines
    of orders booked in [since, until) less what was returned."""
    query = (
        OrderLine.select(OrderLine, Order)
        .join(Order)
        .where(
            (Order.store == _key(store))
            & Order.booked_at.is_null(False)
            & (Order.booked_at >= since)
            & (Order.booked_at < until)
            & (Order.status != "cancelled")
            & OrderLine.product.is_null(False)
        )
    )
    per: dict[str, dict] = {}
    for line in query:
        kept = line.qty - line.returned_qty
        if kept <= 0:
            continue
        row = per.setdefault(
            line.product_id,
            {"product_id": line.product_id, "sku": line.sku, "qty": 0, "revenue": 0, "cost": 0},
        )
        row["qty"] += kept
        row["revenue"] += line.net * kept // line.qty
        unit_cost = line.cost_price or 0
        row["cost"] += unit_cost * (line.stock_qty * kept // line.qty)
    for row in per.values():
        row["margin"] = row["revenue"] - row["cost"]
    return sorted(per.values(), key=lambda r: r["sku"] or "")


def unit_cost(store, product) -> int | None:
    level = StockLevel.get_or_none(
        (StockLevel.store == _key(store)) & (StockLevel.product == _key(product))
    )
    return level.avg_cost if level and level.avg_cost else None


# --- suppliers and purchase orders -----------------------------------------------------------


def create_supplier(name: str, email: str = "", phone: str = "") -> Supplier:
    name = name.strip()
    if not name:
        raise StockError("name", "a supplier needs a name")
    with atomic():
        if Supplier.select().where(Supplier.name == name).exists():
            raise StockError("name", f"supplier {name!r} exists already")
        return Supplier.create(name=name, email=email, phone=phone)


def create_purchase_order(
    store: Store, supplier: Supplier, lines: list[tuple[Product, int, int]], actor: str, note=""
) -> PurchaseOrder:
    """lines: (product, qty, unit_cost)."""
    if not lines:
        raise StockError("lines", "a purchase order needs at least one line")
    for i, (product, qty, cost) in enumerate(lines):
        if qty <= 0:
            raise StockError(f"lines[{i}].qty", f"quantity {qty} of {product.sku} must be > 0")
        if cost < 0:
            raise StockError(f"lines[{i}].unit_cost", f"unit cost {cost} is negative")
    with atomic():
        count = PurchaseOrder.select().where(PurchaseOrder.store == store.id).count()
        po = PurchaseOrder.create(
            store=store.id,
            supplier=supplier.id,
            number=f"PO-{store.code}-{count + 1:05d}",
            note=note,
            actor=actor,
        )
        for product, qty, cost in lines:
            PurchaseOrderLine.create(
                purchase_order=po.id, product=product.id, qty_ordered=qty, unit_cost=cost
            )
        return po


def receive(po: PurchaseOrder, actor: str, quantities: dict[str, int] | None = None):
    """Book goods in: every outstanding unit when `quantities` is None, else {line id: qty}.
    Each received quantity is a `receipt` movement at the line's cost price."""
    with atomic():
        po = locked(PurchaseOrder, PurchaseOrder.id == po.id).get()
        if po.status in ("received", "cancelled"):
            raise StockError("status", f"purchase order {po.number} is {po.status}")
        lines = {line.id: line for line in po.lines}
        wanted = quantities
        if wanted is None:
            wanted = {lid: ln.qty_ordered - ln.qty_received for lid, ln in lines.items()}
        for lid, qty in wanted.items():
            if lid not in lines:
                raise StockError("lines", f"line {lid} is not on purchase order {po.number}")
            line = lines[lid]
            outstanding = line.qty_ordered - line.qty_received
            if qty < 0 or qty > outstanding:
                raise StockError(
                    f"lines[{lid}].qty", f"received {qty} but {outstanding} outstanding"
                )
        movements = []
        for lid, qty in wanted.items():
            if qty == 0:
                continue
            line = lines[lid]
            movements.append(
                move(
                    po.store_id,
                    line.product_id,
                    qty,
                    "receipt",
                    actor,
                    ref_type="purchase_order",
                    ref_id=po.id,
                    unit_cost=line.unit_cost,
                )
            )
            line.qty_received += qty
            line.save(only=[PurchaseOrderLine.qty_received])
            fill_backorders(po.store_id, line.product_id, actor)
        if not movements:
            raise StockError("lines", "nothing to receive")
        done = all(ln.qty_received >= ln.qty_ordered for ln in lines.values())
        po.status = "received" if done else "partially_received"
        po.save(only=[PurchaseOrder.status])
        return po, movements
