"""Orders from every channel and their life cycle: booking, payment, fulfilment, shipping,
pickup, cancellation, returns and refunds.

    >>> order = create_order(OrderSpec(kind="phone", store=store, lines=[LineSpec(sku="KOPI-1",
    ...     qty=2)], customer_name="Budi", phone="0812 3456 789"), "user:ana@toko.id")
    ...                                                             # doctest: +SKIP
    >>> confirm(order, "user:ana@toko.id"); fulfil(order, None, "user:ana@toko.id")
    ...                                                             # doctest: +SKIP

Till sales arrive through `book_store_sales` (a run of a batch's consecutive sales, booked
together) or `book_store_sale` (one; both called by ingest, inside its transaction, and both
writing the same rows) and become completed orders of kind `store` whose number is the receipt
number; their refunds become returns. Lines are matched to the catalog by product id, else
sku, else flagged `unmatched` for the owner to map — a sale is never refused for catalog
reasons, and never for lack of stock (an oversell is flagged instead). Online and phone orders
reserve stock when booked and follow the state machine in `cloud_oms.state`.

Every public function that writes runs in one transaction (`db.atomic()`, a savepoint when the
caller already has one). Errors: `OrderError` (bad input, names the field → 422),
`NotFound` (→ 404), `Conflict` (→ 409), `state.IllegalTransition` (→ 409), `stock.OutOfStock`
(→ 409), `BookingError` (a till event that cannot be booked: ingest rejects it with the reason).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from peewee import Case

from retail.ids import iso, token, utcnow
from retail.ids import uuid7 as _new_id
from retail.money import allocate
from retail.pricing import stock_quantity
from retail.schema import (
    Event,
    OrderPaid,
    RefundedMoney,
    RefundedUnits,
    RefundRecord,
    SaleCompleted,
    SaleRefunded,
)
from retail.tax import DEFAULT_TAX_CODES, TaxCode, line_tax

from . import invoices, notifications, state
from . import stock as stockmod
from .bulk import insert_rows
from .db import atomic, locked
from .models.core import Channel, Customer, Product, Store, Terminal
from .models.core import TaxCode as TaxCodeRow
from .models.orders import (
    Fulfilment,
    FulfilmentLine,
    Invoice,
    Order,
    OrderLine,
    OrderTransition,
    Payment,
    Return,
    ReturnLine,
    Shipment,
)
from .models.stock import StockLevel, StockMovement

# Bounds that keep every sum inside a 64-bit column: Rp1.000.000.000.000.000 per order.
MAX_AMOUNT = 10**15
MAX_QTY = 10**6

log = logging.getLogger(__name__)


class OrderError(ValueError):
    """Bad input for an order operation; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class NotFound(LookupError):
    pass


class Conflict(Exception):
    """The request contradicts what is stored (other than an illegal state move)."""


class BookingError(ValueError):
    """A till event that cannot be booked; the message is the reason ingest records."""


# --- helpers ----------------------------------------------------------------------------------


def normalize_phone(text: str | None) -> str | None:
    """Indonesian numbers as digits with the country code: '0812-3456-789' → '628123456789'."""
    if text is None:
        return None
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8") and not text.strip().startswith("+"):
        digits = "62" + digits
    return digits


def tax_code(code: str | None) -> TaxCode:
    """The tax code by name, from the catalog's table, else Indonesia's defaults (PPN)."""
    code = code or "PPN"
    row = TaxCodeRow.get_or_none(TaxCodeRow.code == code)
    if row is not None:
        return TaxCode(row.code, row.name, row.rate_bp, row.base_num, row.base_den)
    for default in DEFAULT_TAX_CODES:
        if default.code == code:
            return default
    raise OrderError("tax_code", f"tax code {code!r} is unknown")


IN_CHUNK = 500  # values per IN (...): far below SQLite's and PostgreSQL's parameter limits


def _chunked(values: list, size: int = IN_CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _match(product_id: str | None, sku: str | None, by_id: dict, by_sku: dict):
    if product_id and product_id in by_id:
        return by_id[product_id], "id"
    if sku and sku in by_sku:
        return by_sku[sku], "sku"
    return None, "unmatched"


def _catalog(product_ids, skus) -> tuple[dict, dict]:
    """Products by id and by sku for a batch of lines: two queries, not one per line."""
    ids = sorted({p for p in product_ids if p})
    sk = sorted({s for s in skus if s})
    by_id, by_sku = {}, {}
    for part in _chunked(ids):
        by_id.update({p.id: p for p in Product.select().where(Product.id.in_(part))})
    for part in _chunked(sk):
        by_sku.update({p.sku: p for p in Product.select().where(Product.sku.in_(part))})
    return by_id, by_sku


def get_order(order_id: str, *, lock: bool = False, store: Store | None = None) -> Order:
    query = (
        locked(Order, Order.id == order_id) if lock else Order.select().where(Order.id == order_id)
    )
    order = query.get_or_none()
    if order is None or (store is not None and order.store_id != store.id):
        raise NotFound(f"order {order_id} not found")
    return order


def _touch(order: Order, *fields) -> None:
    order.updated_at = utcnow()
    order.save(only=[Order.updated_at, *fields])


def _lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.line_no))


# --- store sales (called by ingest inside its transaction) ------------------------------------
#
# Two entry points book the same rows: `book_store_sale` one sale at a time, and
# `book_store_sales` a run of consecutive sales of one till with a handful of statements (one
# multi-row INSERT per table, one locked read and one UPDATE of the run's stock levels). The
# row builders below are shared, so the two cannot drift apart; tests/oms/test_bulk_booking.py
# books the same sales both ways and compares every row.


@dataclass
class _SalePlan:
    """One till sale prepared for booking: its order id and its lines matched to the catalog."""

    sale: SaleCompleted
    event: Event
    order_id: str
    matched: list[tuple[Product | None, str]]

    @property
    def items(self) -> list[tuple[str, int]]:
        """(product id, stock quantity) of the matched lines, in line order."""
        out = []
        for wire, (product, _) in zip(self.sale.lines, self.matched, strict=True):
            if product is not None:
                out.append(
                    (
                        product.id,
                        stock_quantity(
                            wire.unit, wire.qty, wire.weight_g, wire.gross, wire.unit_price
                        ),
                    )
                )
        return out


def _plan_sales(sales: list[tuple[SaleCompleted, Event]]) -> list[_SalePlan]:
    lines = [ln for sale, _ in sales for ln in sale.lines]
    by_id, by_sku = _catalog({ln.product_id for ln in lines}, {ln.sku for ln in lines})
    return [
        _SalePlan(
            sale,
            event,
            _new_id(),
            [_match(ln.product_id, ln.sku, by_id, by_sku) for ln in sale.lines],
        )
        for sale, event in sales
    ]


def _sell_stock_many(
    store_id: str,
    sales: list[tuple[str, list[tuple[str, int]], datetime]],
    actor: str,
    cause: str = "sale",
    positive: bool = False,
) -> list[dict[str, tuple[int | None, bool]]]:
    """Book till sales against stock as if one after the other, with a handful of queries:
    every level the sales touch is created if missing and locked once (in product order, so
    tills selling the same goods cannot deadlock), the running figures are kept here, each
    sale's movements carry the on-hand figure after that sale, and the levels are updated in
    one statement. `sales` are (order id, [(product id, qty)], when); returns, per sale,
    {product id: (unit cost, oversold)}. Never refuses."""
    wanted_per_sale = []
    for _, items, _ in sales:
        wanted: dict[str, int] = {}
        for product_id, qty in items:
            wanted[product_id] = wanted.get(product_id, 0) + qty
        wanted_per_sale.append(wanted)
    touched = sorted({pid for wanted in wanted_per_sale for pid in wanted})
    if not touched:
        return [{} for _ in sales]
    now = utcnow()
    for part in _chunked(touched):
        StockLevel.insert_many(
            [{"store": store_id, "product": pid, "updated_at": now} for pid in part]
        ).on_conflict_ignore().execute()
    levels = {}
    for part in _chunked(touched):
        query = locked(StockLevel, (StockLevel.store == store_id) & StockLevel.product.in_(part))
        levels.update({lv.product_id: lv for lv in query.order_by(StockLevel.product)})
    start = {pid: levels[pid].on_hand for pid in touched}
    movements, results = [], []
    for (order_id, _, at), wanted in zip(sales, wanted_per_sale, strict=True):
        result = {}
        for pid in sorted(wanted):
            lv = levels[pid]
            delta = wanted[pid] if positive else -wanted[pid]
            lv.on_hand += delta
            oversold = delta < 0 and (lv.on_hand < 0 or lv.on_hand < lv.reserved)
            cost = lv.avg_cost or None
            movements.append(
                {
                    "id": _new_id(),
                    "store": store_id,
                    "product": pid,
                    "qty": delta,
                    "cause": cause,
                    "ref_type": "order",
                    "ref_id": order_id,
                    "unit_cost": cost,
                    "on_hand_after": lv.on_hand,
                    "oversold": oversold,
                    "note": "",
                    "actor": actor,
                    "at": at,
                }
            )
            result[pid] = (cost, oversold)
        results.append(result)
    for part in _chunked(touched):
        change = Case(StockLevel.product, [(pid, levels[pid].on_hand - start[pid]) for pid in part])
        StockLevel.update(on_hand=StockLevel.on_hand + change, updated_at=now).where(
            (StockLevel.store == store_id) & StockLevel.product.in_(part)
        ).execute()
    insert_rows(StockMovement, movements)
    return results


def _sell_stock(
    store_id: str,
    items: list[tuple[str, int]],
    actor: str,
    order_id: str,
    at,
    cause: str = "sale",
    positive: bool = False,
) -> dict[str, tuple[int | None, bool]]:
    """One sale's lines against stock (see `_sell_stock_many`)."""
    return _sell_stock_many(store_id, [(order_id, items, at)], actor, cause, positive)[0]


def _store_order_row(
    store: Store, terminal: Terminal, plan: _SalePlan, customer, booked: dict
) -> dict:
    sale, at = plan.sale, plan.event.occurred_at
    paid = sum(p.amount for p in sale.payments)
    return {
        "id": plan.order_id,
        "store": store.id,
        "kind": "store",
        "number": sale.receipt_no,
        "terminal": terminal.id,
        "sale_id": sale.sale_id,
        "customer": customer.id if customer else None,
        "customer_name": customer.name if customer else "",
        "email": customer.email if customer else None,
        "phone": customer.phone if customer else None,
        "delivery": "counter",
        "status": "collected",
        "payment_status": state.payment_state_for(sale.total, paid, 0),
        "currency": sale.currency,
        "prices_include_tax": sale.prices_include_tax,
        "subtotal": sale.subtotal,
        "discount_total": sale.discount_total,
        "rounding": sale.rounding,
        "tax_total": sale.tax_total,
        "total": sale.total,
        "paid_total": paid,
        "staff_name": sale.staff_name,
        "tracking_token": token(24),
        "has_unmatched": any(how == "unmatched" for _, how in plan.matched),
        "oversold": any(flag for _, flag in booked.values()),
        "placed_at": at,
        "booked_at": at,
        "created_at": utcnow(),
    }


def _store_line_rows(plan: _SalePlan, booked: dict) -> list[dict]:
    rows = []
    for wire, (product, how) in zip(plan.sale.lines, plan.matched, strict=True):
        cost, over = booked.get(product.id, (None, False)) if product else (None, False)
        rows.append(
            {
                "id": _new_id(),
                "order": plan.order_id,
                "line_no": wire.line_no,
                "source_line_id": wire.line_id,
                "product": product.id if product else None,
                "match": how,
                "sku": wire.sku,
                "barcode": wire.barcode,
                "name": wire.name,
                "unit": wire.unit,
                "qty": wire.qty,
                "weight_g": wire.weight_g,
                "unit_price": wire.unit_price,
                "gross": wire.gross,
                "discount": wire.promo_discount + wire.line_discount + wire.cart_discount,
                "total": wire.total,
                "tax_code": wire.tax.code,
                "tax_rate_bp": wire.tax.rate_bp,
                "tax_base_num": wire.tax.base_num,
                "tax_base_den": wire.tax.base_den,
                "tax_amount": wire.tax_amount,
                "tax_base": wire.tax_base,
                "net": wire.net,
                "cost_price": cost,
                "fulfilled_qty": wire.qty,
                "oversold": over,
            }
        )
    return rows


def _store_payment_rows(plan: _SalePlan, actor: str) -> list[dict]:
    return [
        {
            "id": _new_id(),
            "order": plan.order_id,
            "kind": "payment",
            "method": p.tender,
            "amount": p.amount,
            "reference": p.reference,
            "external_id": p.payment_id,
            "actor": actor,
            "at": plan.event.occurred_at,
        }
        for p in plan.sale.payments
    ]


def _store_transition_rows(plan: _SalePlan, payment_status: str, actor: str) -> list[dict]:
    return [
        {
            "id": _new_id(),
            "order": plan.order_id,
            "machine": machine,
            "from_state": None,
            "to_state": to_state,
            "actor": actor,
            "note": "till sale",
            "at": plan.event.occurred_at,
        }
        for machine, to_state in (("status", "collected"), ("payment", payment_status))
    ]


def _customers(ids) -> dict[str, Customer]:
    wanted = sorted({i for i in ids if i})
    out = {}
    for part in _chunked(wanted):
        out.update({c.id: c for c in Customer.select().where(Customer.id.in_(part))})
    return out


def book_store_sale(store: Store, terminal: Terminal, sale: SaleCompleted, event: Event) -> Order:
    """A till sale as a completed order of kind `store` (status collected, payment as tendered),
    its stock movements booked. Idempotent by the sale id."""
    existing = Order.get_or_none(Order.sale_id == sale.sale_id)
    if existing is not None:
        if existing.store_id != store.id:
            raise BookingError(f"sale {sale.sale_id} was booked for another store")
        return existing
    actor = f"terminal:{terminal.code}"
    with atomic():
        (plan,) = _plan_sales([(sale, event)])
        booked = _sell_stock(store.id, plan.items, actor, plan.order_id, event.occurred_at)
        customer = _customers([sale.customer_id]).get(sale.customer_id)
        order = Order.create(**_store_order_row(store, terminal, plan, customer, booked))
        OrderLine.insert_many(_store_line_rows(plan, booked)).execute()
        Payment.insert_many(_store_payment_rows(plan, actor)).execute()
        OrderTransition.insert_many(
            _store_transition_rows(plan, order.payment_status, actor)
        ).execute()
        return order


def book_store_sales(
    store: Store, terminal: Terminal, sales: list[tuple[SaleCompleted, Event]]
) -> list[Order]:
    """A run of consecutive sales of one till, booked as `book_store_sale` would book them one
    after the other (the same rows, the same stock figures and oversell flags), with a handful
    of statements whatever the run's length. Returns their orders, in order.

        >>> book_store_sales(store, terminal, [(e.payload, e) for e in events])  # doctest: +SKIP

    All or nothing, inside the caller's transaction: a sale already booked (same sale id) is
    returned as is and a sale repeated in the run is booked once; a sale booked for another
    store raises `BookingError`, and a row the database refuses raises its error — the caller
    then books the sales one at a time, so that only the bad one is rejected."""
    if not sales:
        return []
    actor = f"terminal:{terminal.code}"
    with atomic():
        existing: dict[str, Order] = {}
        for part in _chunked(sorted({sale.sale_id for sale, _ in sales})):
            existing.update({o.sale_id: o for o in Order.select().where(Order.sale_id.in_(part))})
        for sale, _ in sales:
            order = existing.get(sale.sale_id)
            if order is not None and order.store_id != store.id:
                raise BookingError(f"sale {sale.sale_id} was booked for another store")
        fresh: dict[str, tuple[SaleCompleted, Event]] = {}
        for sale, event in sales:
            if sale.sale_id not in existing:
                fresh.setdefault(sale.sale_id, (sale, event))
        plans = _plan_sales(list(fresh.values()))
        booked = _sell_stock_many(
            store.id, [(p.order_id, p.items, p.event.occurred_at) for p in plans], actor
        )
        customers = _customers(p.sale.customer_id for p in plans)
        order_rows, lines, payments, transitions = [], [], [], []
        for plan, stock in zip(plans, booked, strict=True):
            row = _store_order_row(
                store, terminal, plan, customers.get(plan.sale.customer_id), stock
            )
            order_rows.append(row)
            lines += _store_line_rows(plan, stock)
            payments += _store_payment_rows(plan, actor)
            transitions += _store_transition_rows(plan, row["payment_status"], actor)
        insert_rows(Order, order_rows)
        insert_rows(OrderLine, lines)
        insert_rows(Payment, payments)
        insert_rows(OrderTransition, transitions)
    made = {row["sale_id"]: Order(**row) for row in order_rows}
    return [existing.get(sale.sale_id) or made[sale.sale_id] for sale, _ in sales]


def book_store_refund(
    store: Store, terminal: Terminal, refund: SaleRefunded, event: Event
) -> Return:
    """A till refund as a return of the sale's order: lines back (restocked or written off),
    the money paid back recorded as refund payments. Idempotent by the refund id."""
    existing = Return.get_or_none(Return.source_refund_id == refund.refund_id)
    if existing is not None:
        return existing
    actor = f"terminal:{terminal.code}"
    at = event.occurred_at
    with atomic():
        order = locked(Order, Order.sale_id == refund.sale_id).get_or_none()
        if order is None:
            raise BookingError(
                f"refund {refund.receipt_no}: sale {refund.sale_receipt_no} ({refund.sale_id}) "
                "is not booked"
            )
        if order.store_id != store.id:
            raise BookingError(
                f"refund {refund.receipt_no}: sale {refund.sale_receipt_no} belongs to another store"
            )
        lines = {ln.source_line_id: ln for ln in _lines(order)}
        ret = Return.create(
            order=order.id,
            number=refund.receipt_no,
            source_refund_id=refund.refund_id,
            reason=refund.reason,
            amount=refund.total,
            tax_amount=refund.tax_total,
            actor=actor,
            created_at=at,
        )
        for i, wire in enumerate(refund.lines):
            line = lines.get(wire.sale_line_id)
            if line is None:
                raise BookingError(
                    f"refund {refund.receipt_no}: lines[{i}] refers to line {wire.sale_line_id}, "
                    f"which sale {refund.sale_receipt_no} does not have"
                )
            disposition = "restock" if wire.restock else "write_off"
            ReturnLine.create(
                ret=ret.id,
                order_line=line.id,
                qty=wire.qty,
                amount=wire.amount,
                tax_amount=wire.tax_amount,
                disposition=disposition,
            )
            line.returned_qty += wire.qty
            line.save(only=[OrderLine.returned_qty])
            if line.product_id:
                _return_stock(order, line, wire.qty, disposition, actor, ret.id, at)
        for p in refund.payments:
            Payment.create(
                order=order.id,
                kind="refund",
                method=p.tender,
                amount=p.amount,
                reference=p.reference,
                external_id=p.payment_id,
                return_ref=ret.id,
                refund_of=_refundable_payment(order, p.tender),
                actor=actor,
                at=at,
            )
        order.refunded_total += sum(p.amount for p in refund.payments)
        order.save(only=[Order.refunded_total])
        _after_return(order, actor)
        state.settle_payment(order, actor, note=f"refund {refund.receipt_no}")
        over = over_refunded_lines(order)
        if over:
            # Two tills refunded the same goods (one offline, or both at once): the money
            # went back at the counter, so the refund is booked and the owner told.
            text = f"OVER-REFUNDED by refund {refund.receipt_no}: " + "; ".join(over)
            state.remark(order, actor, text)
            log.warning("order %s %s", order.number, text)
        return ret


def over_refunded_lines(order: Order) -> list[str]:
    """Lines of `order` refunded more times than sold, in words."""
    return [
        f"line {ln.line_no} {ln.name}: {ln.returned_qty} refunded of {ln.qty} sold"
        for ln in _lines(order)
        if ln.returned_qty > ln.qty
    ]


def over_refunded_orders():
    """A subquery of the ids of orders with a line refunded more than sold."""
    return OrderLine.select(OrderLine.order).where(OrderLine.returned_qty > OrderLine.qty)


def refunds_of_sale(sale_id: str) -> list[RefundRecord]:
    """Every refund and return booked against a till sale, for a till asked to refund it: the
    units per sale line and the money per tender that went back."""
    order = Order.get_or_none(Order.sale_id == sale_id)
    if order is None:
        return []
    records = []
    for ret in Return.select().where(Return.order == order.id).order_by(Return.created_at):
        units = [
            RefundedUnits(sale_line_id=rl.order_line.source_line_id, qty=rl.qty)
            for rl in ReturnLine.select(ReturnLine, OrderLine)
            .join(OrderLine)
            .where(ReturnLine.ret == ret.id)
            if rl.order_line.source_line_id and rl.qty > 0
        ]
        money = [
            RefundedMoney(tender=p.method, amount=p.amount)
            for p in Payment.select().where(
                (Payment.order == order.id)
                & (Payment.kind == "refund")
                & (Payment.return_ref == ret.id)
            )
        ]
        records.append(
            RefundRecord(
                refund_id=ret.source_refund_id or ret.id,
                receipt_no=ret.number,
                lines=units,
                payments=money,
            )
        )
    return records


def _refundable_payment(order: Order, method: str | None) -> str | None:
    query = Payment.select().where((Payment.order == order.id) & (Payment.kind == "payment"))
    if method:
        same = query.where(Payment.method == method).order_by(Payment.at.desc()).first()
        if same:
            return same.id
    last = query.order_by(Payment.at.desc()).first()
    return last.id if last else None


def _return_stock(order, line, qty, disposition, actor, return_id, at=None) -> None:
    if order.kind == "store":
        # the same figure the sale took out of stock (as the till's ledger has it)
        whole = stock_quantity(line.unit, line.qty, line.weight_g, line.gross, line.unit_price)
    else:
        whole = line.stock_qty
    units = whole * qty // line.qty if line.qty else qty
    if units <= 0:
        return
    cost = line.cost_price
    stockmod.move(
        order.store_id,
        line.product_id,
        units,
        "return_restock",
        actor,
        ref_type="return",
        ref_id=return_id,
        unit_cost=cost,
        at=at,
    )
    if disposition == "write_off":
        stockmod.move(
            order.store_id,
            line.product_id,
            -units,
            "write_off",
            actor,
            ref_type="return",
            ref_id=return_id,
            at=at,
        )


def _after_return(order: Order, actor: str) -> None:
    if order.status == "returned":
        return  # everything came back before: this return is an over-refund, flagged apart
    lines = _lines(order)
    done = all(ln.returned_qty >= ln.qty for ln in lines)
    state.transition(order, "returned" if done else "partially_returned", actor)


def mark_collected(order_id: str, actor: str, *, store: Store | None = None) -> Order:
    """A click & collect order handed over at the counter (the till's `order.collected`)."""
    with atomic():
        try:
            order = get_order(order_id, lock=True, store=store)
        except NotFound as exc:
            raise BookingError(str(exc)) from None
        state.transition(order, "collected", actor)
        return order


def record_till_payment(store: Store, terminal: Terminal, paid: OrderPaid, event: Event) -> Order:
    """Money taken at the till for an order (pay at pickup); idempotent by payment id."""
    actor = f"terminal:{terminal.code}"
    with atomic():
        try:
            order = get_order(paid.order_id, lock=True, store=store)
        except NotFound as exc:
            raise BookingError(str(exc)) from None
        taken = 0
        for p in paid.payments:
            if Payment.select().where(Payment.external_id == p.payment_id).exists():
                continue
            Payment.create(
                order=order.id,
                kind="payment",
                method=p.tender,
                amount=p.amount,
                reference=p.reference,
                external_id=p.payment_id,
                actor=actor,
                at=event.occurred_at,
            )
            taken += p.amount
        if taken:
            order.paid_total += taken
            order.save(only=[Order.paid_total])
            state.settle_payment(order, actor, note="paid at the till")
        return order


def store_sale_by_receipt(store: Store, number: str) -> Order | None:
    return Order.get_or_none(
        (Order.store == store.id) & (Order.kind == "store") & (Order.number == number)
    )


def pickup_orders(store: Store) -> list[dict]:
    """The store's orders waiting at the pickup counter, for the tills."""
    out = []
    query = (
        Order.select()
        .where((Order.store == store.id) & (Order.status == "ready_for_pickup"))
        .order_by(Order.placed_at)
    )
    for order in query:
        out.append(
            {
                "order_id": order.id,
                "number": order.number,
                "customer_name": order.customer_name,
                "phone": order.phone,
                "total": order.total,
                "paid_total": order.paid_total,
                "due": max(order.total - order.paid_total + order.refunded_total, 0),
                "lines": [{"sku": ln.sku, "name": ln.name, "qty": ln.qty} for ln in _lines(order)],
            }
        )
    return out


# --- online and phone orders ------------------------------------------------------------------


@dataclass
class LineSpec:
    qty: int
    product_id: str | None = None
    sku: str | None = None
    name: str = ""
    unit_price: int | None = None  # per unit; the product's price when None
    discount: int = 0
    tax_code: str | None = None
    source_line_id: str | None = None
    total: int | None = None  # a shop's own line total (tax included), booked as given
    tax_amount: int | None = None


@dataclass
class PaymentSpec:
    method: str
    amount: int | None = None  # None: whatever is still due
    reference: str | None = None
    external_id: str | None = None


@dataclass
class OrderSpec:
    kind: str  # online | phone
    store: Store
    lines: list[LineSpec]
    channel: Channel | None = None
    external_id: str | None = None
    customer: Customer | None = None
    customer_name: str = ""
    email: str | None = None
    phone: str | None = None
    company: str = ""
    npwp: str = ""
    billing_address: str = ""
    shipping_address: str = ""
    delivery: str = "ship"
    currency: str | None = None
    shipping_total: int = 0
    shipping_tax: int = 0
    note: str = ""
    placed_at: datetime | None = None
    number: str | None = None
    meta: dict = field(default_factory=dict)

    def digest(self) -> str:
        """What identifies the order's content: lines and amounts, not status or contacts."""
        content = {
            "currency": self.currency,
            "lines": [asdict(ln) for ln in self.lines],
            "shipping": [self.shipping_total, self.shipping_tax],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _priced_line(spec: LineSpec, product: Product | None, inclusive: bool, i: int) -> dict:
    where = f"lines[{i}]"
    if spec.qty is None or not 1 <= spec.qty <= MAX_QTY:
        raise OrderError(f"{where}.qty", f"quantity {spec.qty} must be within 1..{MAX_QTY}")
    price = spec.unit_price if spec.unit_price is not None else (product.price if product else None)
    if price is None:
        raise OrderError(
            f"{where}.unit_price",
            f"product {spec.sku or spec.product_id or spec.name!r} is not in the catalog, so the "
            "line needs a unit_price",
        )
    if not 0 <= price <= MAX_AMOUNT:
        raise OrderError(f"{where}.unit_price", f"unit price {price} is not within 0..{MAX_AMOUNT}")
    for name in ("total", "tax_amount"):
        value = getattr(spec, name)
        if value is not None and not 0 <= value <= MAX_AMOUNT:
            raise OrderError(f"{where}.{name}", f"{name} {value} is not within 0..{MAX_AMOUNT}")
    gross = price * spec.qty
    if spec.discount < 0 or spec.discount > gross:
        raise OrderError(f"{where}.discount", f"discount {spec.discount} is not within 0..{gross}")
    code_name = spec.tax_code or (product.tax_code_id if product else None)
    code = tax_code(code_name)
    if spec.total is not None:
        total = spec.total
        tax = spec.tax_amount if spec.tax_amount is not None else line_tax(total, code).tax
        base_lt = line_tax(total, code)
        base = base_lt.base if tax == base_lt.tax else total - tax
        net = total - tax
    else:
        lt = line_tax(gross - spec.discount, code, inclusive=inclusive)
        total, tax, base, net = lt.gross, lt.tax, lt.base, lt.net
    name = spec.name or (product.name if product else "") or spec.sku or "item"
    return {
        "unit_price": price,
        "gross": gross,
        "discount": spec.discount,
        "total": total,
        "tax_code": code.code,
        "tax_rate_bp": code.rate_bp,
        "tax_base_num": code.base_num,
        "tax_base_den": code.base_den,
        "tax_amount": tax,
        "tax_base": base,
        "net": net,
        "name": name[:200],
        "unit": product.unit if product else "each",
    }


def create_order(spec: OrderSpec, actor: str, policy: str = "refuse") -> Order:
    """Book an online or phone order as pending and hold its stock (or refuse: OutOfStock)."""
    if spec.kind not in ("online", "phone"):
        raise OrderError("kind", f"order kind {spec.kind!r} is not online or phone")
    if not spec.lines:
        raise OrderError("lines", "an order needs at least one line")
    if spec.delivery not in ("ship", "pickup"):
        raise OrderError("delivery", f"delivery {spec.delivery!r} is not ship or pickup")
    store = spec.store
    currency = spec.currency or store.currency
    if currency != store.currency:
        raise OrderError(
            "currency", f"currency {currency} differs from store {store.code}'s {store.currency}"
        )
    if (
        not 0 <= spec.shipping_total <= MAX_AMOUNT
        or not 0 <= spec.shipping_tax <= spec.shipping_total
    ):
        raise OrderError("shipping_total", "shipping must be ≥ 0 and its tax within it")
    with atomic():
        by_id, by_sku = _catalog(
            [ln.product_id for ln in spec.lines], [ln.sku for ln in spec.lines]
        )
        priced = []
        for i, ln in enumerate(spec.lines):
            product, how = _match(ln.product_id, ln.sku, by_id, by_sku)
            priced.append(
                (ln, product, how, _priced_line(ln, product, store.prices_include_tax, i))
            )
        subtotal = sum(p["gross"] for *_, p in priced)
        if subtotal + spec.shipping_total > MAX_AMOUNT:
            raise OrderError("lines", f"the order's total exceeds {MAX_AMOUNT}")
        discount = sum(p["discount"] for *_, p in priced)
        tax = sum(p["tax_amount"] for *_, p in priced) + spec.shipping_tax
        total = sum(p["total"] for *_, p in priced) + spec.shipping_total
        customer = spec.customer
        phone = normalize_phone(spec.phone) or (customer.phone if customer else None)
        now = utcnow()
        number = spec.number or _order_number(spec, store, now)
        order = Order.create(
            store=store.id,
            kind=spec.kind,
            channel=spec.channel.id if spec.channel else None,
            external_id=spec.external_id,
            number=number,
            customer=customer.id if customer else None,
            customer_name=spec.customer_name or (customer.name if customer else ""),
            email=spec.email or (customer.email if customer else None),
            phone=phone,
            company=spec.company,
            npwp=spec.npwp,
            billing_address=spec.billing_address,
            shipping_address=spec.shipping_address,
            delivery=spec.delivery,
            status="pending",
            payment_status="unpaid",
            currency=currency,
            prices_include_tax=store.prices_include_tax,
            subtotal=subtotal,
            discount_total=discount,
            shipping_total=spec.shipping_total,
            shipping_tax=spec.shipping_tax,
            tax_total=tax,
            total=total,
            note=spec.note,
            tracking_token=token(24),
            content_digest=spec.digest(),
            has_unmatched=any(how == "unmatched" for _, _, how, _ in priced),
            placed_at=spec.placed_at or now,
            created_at=now,
            updated_at=now,
        )
        state.start(order, actor)
        lines = []
        for no, (ln, product, how, p) in enumerate(priced, start=1):
            lines.append(
                OrderLine.create(
                    order=order.id,
                    line_no=no,
                    source_line_id=ln.source_line_id,
                    product=product.id if product else None,
                    match=how,
                    sku=ln.sku or (product.sku if product else None),
                    qty=ln.qty,
                    **p,
                )
            )
        stockmod.lock_levels(store, [ln.product_id for ln in lines if ln.product_id])
        for line in lines:
            stockmod.reserve_line(line, store, policy)
        if any(ln.backordered_qty for ln in lines):
            order.backordered = True
            order.save(only=[Order.backordered])
        return order


def _order_number(spec: OrderSpec, store: Store, now: datetime) -> str:
    if spec.channel is not None and spec.external_id:
        return f"{spec.channel.code.upper()}-{spec.external_id}"[:40]
    year = invoices.local_year(store, now)
    seq = invoices.next_number(store, year, "PH" if spec.kind == "phone" else "WEB")
    prefix = "PH" if spec.kind == "phone" else "WEB"
    return f"{prefix}-{store.code}-{year}-{seq:05d}"


def confirm(order: Order, actor: str) -> Order:
    """Accept the order: it counts in the books from now, gets its invoice, the customer hears."""
    with atomic():
        order = get_order(order.id, lock=True)
        state.transition(order, "confirmed", actor)
        order.booked_at = utcnow()
        _touch(order, Order.booked_at)
        if order.kind in ("online", "phone"):
            invoices.issue(order, actor)
        notifications.enqueue(order, "confirmed")
        return order


def start_processing(order: Order, actor: str) -> Order:
    with atomic():
        order = get_order(order.id, lock=True)
        state.transition(order, "processing", actor)
        return order


def add_payment(order: Order, spec: PaymentSpec, actor: str) -> Payment:
    """Money received for the order; the payment state follows the amounts."""
    with atomic():
        order = get_order(order.id, lock=True)
        if order.status == "cancelled":
            raise state.IllegalTransition(order.status, "paid", order.number, "take a payment")
        due = order.total - order.paid_total
        amount = due if spec.amount is None else spec.amount
        if amount <= 0:
            if spec.amount is None:
                raise state.IllegalTransition(
                    order.payment_status, "paid", order.number, "take a payment: nothing is due"
                )
            raise OrderError("amount", f"payment amount {amount} must be positive")
        if amount > due:
            raise OrderError("amount", f"payment {amount} exceeds the {due} still due")
        if not spec.method or not spec.method.strip():
            raise OrderError("method", "a payment needs a method (cash, card, bank_transfer…)")
        if (
            spec.external_id
            and Payment.select().where(Payment.external_id == spec.external_id).exists()
        ):
            raise Conflict(f"payment {spec.external_id} is recorded already")
        payment = Payment.create(
            order=order.id,
            kind="payment",
            method=spec.method.strip()[:40],
            amount=amount,
            reference=spec.reference,
            external_id=spec.external_id,
            actor=actor,
        )
        order.paid_total += amount
        order.save(only=[Order.paid_total])
        state.settle_payment(order, actor)
        return payment


def refund(
    order: Order,
    amount: int | None,
    actor: str,
    *,
    method: str | None = None,
    payment_id: str | None = None,
    return_id: str | None = None,
    reference: str | None = None,
) -> Payment:
    """Money paid back, recorded against a payment (the one named, else the latest)."""
    with atomic():
        order = get_order(order.id, lock=True)
        refundable = order.paid_total - order.refunded_total
        if refundable <= 0:
            raise state.IllegalTransition(
                order.payment_status,
                "refunded",
                order.number,
                "refund: nothing paid is left to refund",
            )
        amount = refundable if amount is None else amount
        if amount <= 0:
            raise OrderError("amount", f"refund amount {amount} must be positive")
        if amount > refundable:
            raise OrderError(
                "amount", f"refund {amount} exceeds the {refundable} paid and not yet refunded"
            )
        if payment_id:
            original = Payment.get_or_none(
                (Payment.id == payment_id)
                & (Payment.order == order.id)
                & (Payment.kind == "payment")
            )
            if original is None:
                raise OrderError(
                    "payment_id", f"payment {payment_id} is not a payment of {order.number}"
                )
        else:
            last = _refundable_payment(order, method)
            original = Payment.get_by_id(last) if last else None
        payment = Payment.create(
            order=order.id,
            kind="refund",
            method=(method or original.method)[:40],
            amount=amount,
            reference=reference,
            refund_of=original.id,
            return_ref=return_id,
            actor=actor,
        )
        order.refunded_total += amount
        order.save(only=[Order.refunded_total])
        state.settle_payment(order, actor)
        notifications.enqueue(order, "refunded", amount=amount)
        return payment


def fulfil(order: Order, quantities: dict[str, int] | None, actor: str) -> Fulfilment:
    """Take goods off the shelf for some lines (partial) or all that is left (None)."""
    with atomic():
        order = get_order(order.id, lock=True)
        lines = {ln.id: ln for ln in _lines(order)}
        if quantities is None:
            quantities = {lid: ln.qty - ln.fulfilled_qty for lid, ln in lines.items()}
            quantities = {lid: q for lid, q in quantities.items() if q > 0}
        if not quantities:
            raise state.IllegalTransition(
                order.status, "fulfilled", order.number, "fulfil: nothing is left to fulfil"
            )
        for lid, qty in quantities.items():
            if lid not in lines:
                raise OrderError("lines", f"line {lid} is not on order {order.number}")
            line = lines[lid]
            left = line.qty - line.fulfilled_qty
            if qty < 1 or qty > left:
                raise OrderError(
                    f"lines[{lid}].qty", f"fulfil {qty} of {line.name!r}: {left} left to fulfil"
                )
            if line.product_id is None:
                raise OrderError(
                    f"lines[{lid}]",
                    f"line {line.line_no} ({line.name}) is not matched to a product; map it first",
                )
        done = all(
            lines[lid].fulfilled_qty + quantities.get(lid, 0) >= lines[lid].qty for lid in lines
        )
        target = "fulfilled" if done else "partially_fulfilled"
        state.check(order, target, "fulfil")
        fulfilment = Fulfilment.create(order=order.id, actor=actor)
        stockmod.lock_levels(order.store_id, [lines[lid].product_id for lid in quantities])
        for lid, qty in quantities.items():
            line = lines[lid]
            units = line.stock_qty * qty // line.qty
            used = stockmod.consume_line(line, units)
            extra = units - used
            if extra:
                free = stockmod.available(order.store_id, line.product_id)
                if free < extra:
                    raise stockmod.OutOfStock(line.sku or line.name, free, extra)
                line.backordered_qty = max(line.backordered_qty - extra, 0)
            movement = stockmod.move(
                order.store_id,
                line.product_id,
                -units,
                "fulfilment",
                actor,
                ref_type="order",
                ref_id=order.id,
                consume_reserved=used,
            )
            line.cost_price = movement.unit_cost
            line.fulfilled_qty += qty
            line.save(
                only=[
                    OrderLine.fulfilled_qty,
                    OrderLine.reserved_qty,
                    OrderLine.backordered_qty,
                    OrderLine.cost_price,
                ]
            )
            FulfilmentLine.create(fulfilment=fulfilment.id, order_line=line.id, qty=qty)
        state.transition(order, target, actor)
        return fulfilment


def ship(
    order: Order, carrier: str, tracking_number: str, actor: str, fulfilment_id: str | None = None
) -> Shipment:
    """Hand fulfilled goods to a carrier; the order is `shipped` once everything is."""
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier:
        raise OrderError("carrier", "a shipment needs a carrier (e.g. JNE, SiCepat)")
    if not tracking_number:
        raise OrderError("tracking_number", "a shipment needs the carrier's tracking number")
    with atomic():
        order = get_order(order.id, lock=True)
        if order.status not in ("partially_fulfilled", "fulfilled"):
            raise state.IllegalTransition(order.status, "shipped", order.number)
        pending = Fulfilment.select().where(
            (Fulfilment.order == order.id) & Fulfilment.shipment.is_null()
        )
        if fulfilment_id:
            pending = pending.where(Fulfilment.id == fulfilment_id)
        pending = list(pending)
        if not pending:
            if fulfilment_id:
                raise OrderError(
                    "fulfilment_id",
                    f"fulfilment {fulfilment_id} of {order.number} is unknown or shipped already",
                )
            raise state.IllegalTransition(
                order.status, "shipped", order.number, "ship: every fulfilment is shipped already"
            )
        shipment = Shipment.create(
            order=order.id, carrier=carrier[:60], tracking_number=tracking_number[:100], actor=actor
        )
        Fulfilment.update(shipment=shipment.id).where(
            Fulfilment.id.in_([f.id for f in pending])
        ).execute()
        unshipped = (
            Fulfilment.select()
            .where((Fulfilment.order == order.id) & Fulfilment.shipment.is_null())
            .exists()
        )
        if order.status == "fulfilled" and not unshipped:
            state.transition(order, "shipped", actor)
            notifications.enqueue(order, "shipped", shipment=shipment)
        return shipment


def ready_for_pickup(order: Order, actor: str) -> Order:
    with atomic():
        order = get_order(order.id, lock=True)
        state.transition(order, "ready_for_pickup", actor)
        notifications.enqueue(order, "ready_for_pickup")
        return order


def deliver(order: Order, actor: str) -> Order:
    with atomic():
        order = get_order(order.id, lock=True)
        state.transition(order, "delivered", actor)
        Shipment.update(delivered_at=utcnow()).where(
            (Shipment.order == order.id) & Shipment.delivered_at.is_null()
        ).execute()
        notifications.enqueue(order, "delivered")
        return order


def collect(order: Order, actor: str) -> Order:
    return mark_collected(order.id, actor)


def cancel(order: Order, actor: str, reason: str = "") -> Order:
    """Cancel before the goods have left: reservations released, goods waiting at the pickup
    counter put back, an issued invoice cancelled by a credit note. Money already paid stays
    recorded until refunded (`refund`), so the books show what is owed back."""
    with atomic():
        order = get_order(order.id, lock=True)
        state.check(order, "cancelled")
        for line in _lines(order):
            stockmod.release_line(line)
            if line.fulfilled_qty and line.product_id:
                units = line.stock_qty * line.fulfilled_qty // line.qty
                stockmod.move(
                    order.store_id,
                    line.product_id,
                    units,
                    "cancel_restock",
                    actor,
                    ref_type="order",
                    ref_id=order.id,
                    unit_cost=line.cost_price,
                )
        invoice = invoices.current_invoice(order)
        if invoice is not None:
            invoices.credit_note(invoice, actor, reason=reason or "order cancelled")
        state.transition(order, "cancelled", actor, note=reason)
        order.cancelled_at = utcnow()
        _touch(order, Order.cancelled_at)
        return order


def create_return(
    order: Order,
    items: list[tuple[str, int, str]],
    actor: str,
    *,
    reason: str = "",
    refund_money: bool = True,
    method: str | None = None,
) -> Return:
    """An RMA: (line id, qty, restock | write_off) per returned line. Each unit gives back its
    share of what was paid for the line and of its tax (largest remainder, so returns of a line
    add up to exactly its total). Refunds the amount unless `refund_money` is False."""
    if not items:
        raise OrderError("lines", "a return needs at least one line")
    with atomic():
        order = get_order(order.id, lock=True)
        if order.status not in ("shipped", "delivered", "collected", "partially_returned"):
            raise state.IllegalTransition(order.status, "returned", order.number)
        lines = {ln.id: ln for ln in _lines(order)}
        seen = set()
        for i, (lid, qty, disposition) in enumerate(items):
            if lid not in lines:
                raise OrderError(
                    f"lines[{i}].line_id", f"line {lid} is not on order {order.number}"
                )
            if lid in seen:
                raise OrderError(f"lines[{i}].line_id", f"line {lid} is listed twice")
            seen.add(lid)
            line = lines[lid]
            returnable = line.fulfilled_qty - line.returned_qty
            if qty < 1 or qty > returnable:
                raise OrderError(
                    f"lines[{i}].qty",
                    f"return {qty} of {line.name!r}: {returnable} can be returned",
                )
            if disposition not in ("restock", "write_off"):
                raise OrderError(
                    f"lines[{i}].disposition",
                    f"disposition {disposition!r} is not restock or write_off",
                )
        store = Store.get_by_id(order.store_id)
        year = invoices.local_year(store)
        seq = invoices.next_number(store, year, "RMA")
        ret = Return.create(
            order=order.id, number=f"RMA-{store.code}-{year}-{seq:05d}", reason=reason, actor=actor
        )
        credited = []
        for lid, qty, disposition in items:
            line = lines[lid]
            shares = allocate(line.total, [1] * line.qty)
            taxes = allocate(line.tax_amount, [1] * line.qty)
            start = line.returned_qty
            amount = sum(shares[start : start + qty])
            tax = sum(taxes[start : start + qty])
            ReturnLine.create(
                ret=ret.id,
                order_line=line.id,
                qty=qty,
                amount=amount,
                tax_amount=tax,
                disposition=disposition,
            )
            line.returned_qty += qty
            line.save(only=[OrderLine.returned_qty])
            if line.product_id:
                _return_stock(order, line, qty, disposition, actor, ret.id)
            ret.amount += amount
            ret.tax_amount += tax
            credited.append(
                {
                    "name": line.name,
                    "sku": line.sku or "",
                    "qty": qty,
                    "weight_g": None,
                    "unit_price": line.unit_price,
                    "discount": 0,
                    "total": amount,
                    "tax_code": line.tax_code,
                    "tax_amount": tax,
                    "net": amount - tax,
                }
            )
        ret.save()
        _after_return(order, actor)
        invoice = invoices.current_invoice(order)
        if invoice is not None:
            invoices.credit_note(
                invoice, actor, lines=credited, reason=reason or f"return {ret.number}"
            )
        refundable = order.paid_total - order.refunded_total
        if refund_money and refundable > 0:
            refund(order, min(ret.amount, refundable), actor, method=method, return_id=ret.id)
        return ret


def map_line(order: Order, line_id: str, product: Product, actor: str) -> OrderLine:
    """Point an unmatched line at a catalog product; its stock is booked from then on."""
    with atomic():
        order = get_order(order.id, lock=True)
        line = OrderLine.get_or_none((OrderLine.id == line_id) & (OrderLine.order == order.id))
        if line is None:
            raise NotFound(f"line {line_id} is not on order {order.number}")
        if line.product_id is not None:
            raise Conflict(f"line {line.line_no} of {order.number} is matched already")
        line.product = product.id
        line.match = "mapped"
        line.save(only=[OrderLine.product, OrderLine.match])
        if order.kind == "store" or line.fulfilled_qty:
            units = line.stock_qty * (line.fulfilled_qty - line.returned_qty) // line.qty
            if units:
                mv = stockmod.move(
                    order.store_id,
                    product.id,
                    -units,
                    "sale",
                    actor,
                    ref_type="order",
                    ref_id=order.id,
                    note="mapped line",
                )
                line.cost_price = mv.unit_cost
                line.oversold = mv.oversold
                line.save(only=[OrderLine.cost_price, OrderLine.oversold])
        elif order.status in state.OPEN_STATUSES:
            # The order is booked already: what cannot be held now is backordered, not refused.
            stockmod.reserve_line(line, order.store_id, "backorder")
        order.has_unmatched = (
            OrderLine.select()
            .where((OrderLine.order == order.id) & OrderLine.product.is_null())
            .exists()
        )
        _touch(order, Order.has_unmatched)
        return line


# --- channel upsert ---------------------------------------------------------------------------

CHANNEL_STATUSES = ("pending", "paid", "cancelled", "refunded")


def upsert_channel_order(
    channel: Channel,
    spec: OrderSpec,
    status: str,
    actor: str,
    payment: PaymentSpec | None = None,
) -> tuple[Order, str]:
    """Book or update a shop's order, idempotent by (channel, external id). Returns the order
    and the outcome: created | unchanged | updated. The same content with the same status is a
    no-op; a changed status becomes the matching transition (or IllegalTransition); changed
    lines or amounts are a Conflict — a changed order must come as a new order."""
    if status not in CHANNEL_STATUSES:
        raise OrderError("status", f"status {status!r} is not one of {', '.join(CHANNEL_STATUSES)}")
    if not spec.external_id:
        raise OrderError("external_id", "an online order needs the shop's order id")
    if channel.store_id is None:
        raise Conflict(f"channel {channel.code} has no fulfilling store; set one first")
    with atomic():
        existing = locked(
            Order, (Order.channel == channel.id) & (Order.external_id == spec.external_id)
        ).get_or_none()
        if existing is None:
            order = create_order(spec, actor, channel.stock_policy or "refuse")
            outcome = "created"
        else:
            order = existing
            if order.content_digest != spec.digest():
                raise Conflict(
                    f"order {order.number} (external id {spec.external_id}) was booked with other "
                    "lines or amounts; a changed order must be sent as a new order"
                )
            outcome = "unchanged"
            _update_contacts(order, spec)
        changed = _apply_channel_status(order, status, actor, payment)
        if changed and outcome == "unchanged":
            outcome = "updated"
        return get_order(order.id), outcome


def _update_contacts(order: Order, spec: OrderSpec) -> None:
    fields = {
        "customer_name": spec.customer_name or order.customer_name,
        "email": spec.email or order.email,
        "phone": normalize_phone(spec.phone) or order.phone,
        "billing_address": spec.billing_address or order.billing_address,
    }
    if order.status in state.OPEN_STATUSES:
        fields["shipping_address"] = spec.shipping_address or order.shipping_address
    if any(getattr(order, k) != v for k, v in fields.items()):
        Order.update(updated_at=utcnow(), **fields).where(Order.id == order.id).execute()


def _apply_channel_status(
    order: Order, status: str, actor: str, payment: PaymentSpec | None
) -> bool:
    order = get_order(order.id)
    if status == "pending":
        if order.payment_status != "unpaid":
            raise state.IllegalTransition(
                order.payment_status, "unpaid", order.number, "mark it unpaid (pending) again"
            )
        return False
    if status == "paid":
        if order.payment_status in ("paid",):
            return False
        if order.payment_status in ("partially_refunded", "refunded"):
            raise state.IllegalTransition(
                order.payment_status, "paid", order.number, "mark it paid again"
            )
        if order.status == "cancelled":
            raise state.IllegalTransition(order.status, "paid", order.number, "take a payment")
        spec = payment or PaymentSpec(method="online")
        add_payment(order, PaymentSpec(spec.method, None, spec.reference, spec.external_id), actor)
        order = get_order(order.id)
        if order.status == "pending":
            confirm(order, actor)
        return True
    if status == "cancelled":
        if order.status == "cancelled":
            return False
        cancel(order, actor, reason="cancelled by the shop")
        return True
    # refunded
    if order.payment_status == "refunded":
        return False
    refund(order, None, actor, method=payment.method if payment else None)
    order = get_order(order.id)
    if state.allowed(order.status, "cancelled"):
        cancel(order, actor, reason="refunded by the shop")
    return True


# --- customers --------------------------------------------------------------------------------


def find_customers(phone: str) -> list[Customer]:
    wanted = normalize_phone(phone)
    if not wanted:
        raise OrderError("phone", f"phone number {phone!r} has no digits")
    exact = list(Customer.select().where(Customer.phone == wanted))
    if exact:
        return exact
    return list(
        Customer.select()
        .where(Customer.phone.endswith(wanted[-8:]))
        .order_by(Customer.name)
        .limit(20)
    )


def customer_for_phone(phone: str, name: str = "", email: str | None = None) -> Customer:
    """The customer with this phone number, created when there is none yet."""
    wanted = normalize_phone(phone)
    if not wanted:
        raise OrderError("phone", f"phone number {phone!r} has no digits")
    with atomic():
        Customer.insert(
            id=_new_id(),
            name=(name or wanted)[:200],
            phone=wanted,
            email=email,
            created_at=utcnow(),
        ).on_conflict_ignore().execute()
        return locked(Customer, Customer.phone == wanted).get()


# --- reading ----------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return iso(value) if value else None


def order_as_dict(order: Order, *, full: bool = True) -> dict:
    store = Store.get_by_id(order.store_id)
    out = {
        "id": order.id,
        "number": order.number,
        "kind": order.kind,
        "store": store.code,
        "channel": Channel.get_by_id(order.channel_id).code if order.channel_id else None,
        "external_id": order.external_id,
        "status": order.status,
        "payment_status": order.payment_status,
        "customer": {
            "id": order.customer_id,
            "name": order.customer_name,
            "email": order.email,
            "phone": order.phone,
            "company": order.company,
            "npwp": order.npwp,
        },
        "delivery": order.delivery,
        "billing_address": order.billing_address,
        "shipping_address": order.shipping_address,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "shipping_total": order.shipping_total,
        "rounding": order.rounding,
        "tax_total": order.tax_total,
        "total": order.total,
        "paid_total": order.paid_total,
        "refunded_total": order.refunded_total,
        "refund_due": max(order.paid_total - order.refunded_total, 0)
        if order.status == "cancelled"
        else 0,
        "has_unmatched": order.has_unmatched,
        "oversold": order.oversold,
        "backordered": order.backordered,
        "tracking_url": notifications.tracking_url(order),
        "placed_at": _iso(order.placed_at),
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
    }
    if not full:
        return out
    out["lines"] = [
        {
            "id": ln.id,
            "line_no": ln.line_no,
            "product_id": ln.product_id,
            "match": ln.match,
            "sku": ln.sku,
            "name": ln.name,
            "qty": ln.qty,
            "weight_g": ln.weight_g,
            "unit_price": ln.unit_price,
            "discount": ln.discount,
            "total": ln.total,
            "tax_code": ln.tax_code,
            "tax_amount": ln.tax_amount,
            "net": ln.net,
            "reserved_qty": ln.reserved_qty,
            "backordered_qty": ln.backordered_qty,
            "fulfilled_qty": ln.fulfilled_qty,
            "returned_qty": ln.returned_qty,
            "oversold": ln.oversold,
        }
        for ln in _lines(order)
    ]
    out["payments"] = [
        {
            "id": p.id,
            "kind": p.kind,
            "method": p.method,
            "amount": p.amount,
            "reference": p.reference,
            "refund_of": p.refund_of_id,
            "at": _iso(p.at),
        }
        for p in Payment.select().where(Payment.order == order.id).order_by(Payment.at)
    ]
    out["fulfilments"] = [
        {
            "id": f.id,
            "shipment_id": f.shipment_id,
            "created_at": _iso(f.created_at),
            "lines": [{"line_id": fl.order_line_id, "qty": fl.qty} for fl in f.lines],
        }
        for f in Fulfilment.select()
        .where(Fulfilment.order == order.id)
        .order_by(Fulfilment.created_at)
    ]
    out["shipments"] = [
        {
            "id": s.id,
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "shipped_at": _iso(s.shipped_at),
            "delivered_at": _iso(s.delivered_at),
        }
        for s in Shipment.select().where(Shipment.order == order.id).order_by(Shipment.shipped_at)
    ]
    out["returns"] = [
        {
            "id": r.id,
            "number": r.number,
            "reason": r.reason,
            "amount": r.amount,
            "tax_amount": r.tax_amount,
            "created_at": _iso(r.created_at),
            "lines": [
                {
                    "line_id": rl.order_line_id,
                    "qty": rl.qty,
                    "amount": rl.amount,
                    "disposition": rl.disposition,
                }
                for rl in r.lines
            ],
        }
        for r in Return.select().where(Return.order == order.id).order_by(Return.created_at)
    ]
    out["invoices"] = [
        {"id": i.id, "kind": i.kind, "number": i.number, "total": i.total, "voided": i.voided}
        for i in Invoice.select().where(Invoice.order == order.id).order_by(Invoice.issued_at)
    ]
    out["transitions"] = [
        {
            "machine": t.machine,
            "from": t.from_state,
            "to": t.to_state,
            "actor": t.actor,
            "at": _iso(t.at),
            "note": t.note,
        }
        for t in OrderTransition.select()
        .where(OrderTransition.order == order.id)
        .order_by(OrderTransition.at, OrderTransition.id)
    ]
    return out
