"""Refunds by receipt number, whole or some lines, to cash or to the original tender.

    >>> done = refund("000042", config=config, staff=ani, approver=budi,
    ...               lines={2: 1}, to="cash")           # doctest: +SKIP

Each unit gives back its share of what was actually paid for its line (after promotions, line
and cart discounts) and of the tax booked, split by largest remainder
(`retail.pricing.unit_shares`): refunding every unit, in any number of partial refunds, returns
exactly the sale's line totals and tax. A cash refund is rounded to the cash step again, and the
rounding is recorded as its own line; the rounding runs over the sale's refunds as a total, so
partial refunds give back in all what one whole refund would. No card or QRIS gives back more
than it was charged. Nothing can be refunded twice: each line keeps how many units were
refunded, checked and bumped in the refund's own transaction.

A sale of another till of the store is refunded here after asking the OMS for it
(`adopt_remote`): the sale as its till sent it is copied into this store, marked with the till
that sold it and outside every shift of this till, with what was refunded of it so far (at the
OMS, or here and not yet synced); then `refund` treats it like one of ours, and the refund
event points at the sale's own event at the OMS.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from retail.ids import iso, utcnow, uuid7
from retail.money import allocate, round_to_step
from retail.pricing import refund_share, stock_quantity
from retail.schema import PaymentWire, RefundLineWire, SaleRefunded, StoreSale

from . import audit, identity, outbox, shifts
from .staff import StaffInfo, require_manager
from .store.db import next_number
from .store.models import Payment, Product, RefundLine, Sale, SaleLine, db
from .store.models import Refund as RefundRow


class RefundError(ValueError):
    pass


@dataclass(frozen=True)
class RefundedLine:
    line_no: int
    name: str
    qty: int
    amount: int
    tax: int


@dataclass(frozen=True)
class CompletedRefund:
    refund_id: str
    receipt_no: str
    sale_receipt_no: str
    total: int  # paid back, after cash rounding
    rounding: int
    tax_total: int
    payments: tuple[tuple[str, int], ...]
    lines: tuple[RefundedLine, ...]
    training: bool

    @property
    def opens_drawer(self) -> bool:
        return any(t == "cash" and a > 0 for t, a in self.payments)


@dataclass(frozen=True)
class RefundableLine:
    line_no: int
    name: str
    qty: int
    refunded_qty: int
    total: int  # what the line's units were paid, after discounts
    tax: int

    @property
    def left(self) -> int:
        return self.qty - self.refunded_qty

    def amount_for(self, qty: int) -> int:
        """What refunding the next `qty` units of this line gives back (before cash rounding)."""
        return refund_share(self.total, self.qty, self.refunded_qty, qty)


@dataclass(frozen=True)
class RefundableSale:
    receipt_no: str
    created_at: str
    total: int
    tenders: tuple[str, ...]
    training: bool
    lines: tuple[RefundableLine, ...]
    origin: str | None = None  # the till that sold it, when not this one


def refundable(receipt_no: str) -> RefundableSale:
    """A sale with what is left to refund on each line, for the refund screen: one of this
    till's, or another till's adopted from the OMS (whose `origin` says so; ask the OMS again
    before refunding it, another till may have refunded some of it meanwhile)."""
    sale = Sale.get_or_none(Sale.receipt_no == receipt_no.strip())
    if sale is None:
        raise RefundError(f"receipt {receipt_no.strip()} is not a sale of this till")
    return _refundable(sale)


def _refundable(sale: Sale) -> RefundableSale:
    lines = tuple(
        RefundableLine(
            line.line_no, line.name, line.qty, line.refunded_qty, line.total, line.tax_amount
        )
        for line in SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no)
    )
    if sale.origin is None:
        paid = Payment.select(Payment.tender).where(Payment.sale == sale.id)
        tenders = tuple(sorted({p.tender for p in paid}))
    else:
        tenders = tuple(sorted({t for t, _ in json.loads(sale.origin_payments)}))
    return RefundableSale(
        sale.receipt_no,
        sale.created_at,
        sale.total,
        tenders,
        bool(sale.training),
        lines,
        sale.origin,
    )


def adopt_remote(remote: StoreSale) -> RefundableSale:
    """Copy another till's sale, as the OMS holds it, into this store so it can be refunded
    here; called again, it refreshes what was refunded of it. Refunds the OMS knows and this
    till does not (another till's, or returns booked at the OMS) count as refunded; so do this
    till's own, whether or not they reached the OMS yet. Given one of this till's own sales, it
    takes in the refunds other tills made of it."""
    sold = remote.sale
    with db.atomic("IMMEDIATE"):
        sale = Sale.get_or_none(Sale.id == sold.sale_id)
        here = {r.id for r in RefundRow.select(RefundRow.id).where(RefundRow.sale == sold.sale_id)}
        # Units refunded per line: the OMS's record of refunds made elsewhere, plus this
        # till's own (sent or not), each once. Money per tender: net of refunds elsewhere
        # only, as _tender_split takes this till's own off from their rows.
        held: Counter[str] = Counter()
        refunded: Counter[str] = Counter()
        for p in sold.payments:
            held[p.tender] += p.amount
        for record in remote.refunds:
            if record.refund_id in here:
                continue
            for money in record.payments:
                held[money.tender] -= money.amount
            for units in record.lines:
                refunded[units.sale_line_id] += units.qty
        for rl in (
            RefundLine.select(RefundLine.sale_line, RefundLine.qty)
            .join(RefundRow)
            .where(RefundRow.sale == sold.sale_id)
        ):
            refunded[rl.sale_line_id] += rl.qty
        origin_payments = json.dumps(sorted(held.items()))
        if sale is None:
            sale = Sale.create(
                id=sold.sale_id,
                receipt_no=sold.receipt_no,
                receipt_seq=sold.receipt_seq,
                shift=None,
                staff=None,
                customer=None,
                created_at=iso(remote.occurred_at),
                subtotal=sold.subtotal,
                discount_total=sold.discount_total,
                cart_discount=sum(ln.cart_discount for ln in sold.lines),
                rounding=sold.rounding,
                total=sold.total,
                tax_total=sold.tax_total,
                prices_include_tax=sold.prices_include_tax,
                training=False,
                ereceipt_token=sold.ereceipt_token,
                origin=remote.terminal,
                origin_event_id=remote.event_id,
                origin_payments=origin_payments,
            )
            for line in sold.lines:
                SaleLine.create(
                    id=line.line_id,
                    sale=sale.id,
                    line_no=line.line_no,
                    product=_local_product(line.product_id, line.sku),
                    sku=line.sku,
                    barcode=line.barcode,
                    name=line.name,
                    unit=line.unit,
                    qty=line.qty,
                    weight_g=line.weight_g,
                    unit_price=line.unit_price,
                    price_overridden=line.price_overridden,
                    gross=line.gross,
                    promo_discount=line.promo_discount,
                    line_discount=line.line_discount,
                    cart_discount=line.cart_discount,
                    total=line.total,
                    tax_code=line.tax.code,
                    tax_rate_bp=line.tax.rate_bp,
                    tax_base_num=line.tax.base_num,
                    tax_base_den=line.tax.base_den,
                    tax_amount=line.tax_amount,
                    tax_base=line.tax_base,
                    net=line.net,
                    promotion=line.promotion,
                    refunded_qty=0,
                )
        else:
            Sale.update(origin_payments=origin_payments).where(Sale.id == sale.id).execute()
        for line in sold.lines:
            SaleLine.update(refunded_qty=min(line.qty, refunded[line.line_id])).where(
                SaleLine.id == line.line_id
            ).execute()
        return _refundable(Sale.get_by_id(sale.id))


def _local_product(product_id: str | None, sku: str | None) -> str | None:
    """This till's product for another till's line: the same id (both pulled the OMS's
    catalog), else the same SKU; None when this till does not stock it (no restock here)."""
    if product_id and Product.get_or_none(Product.id == product_id):
        return product_id
    if sku:
        found = Product.get_or_none(Product.sku == sku)
        if found is not None:
            return found.id
    return None


def _parse_selection(sale_lines: list[SaleLine], lines: Mapping[int, int] | None):
    by_no = {line.line_no: line for line in sale_lines}
    wanted: dict[int, int] = {}
    if not lines:
        for line in sale_lines:
            left = line.qty - line.refunded_qty
            if left > 0:
                wanted[line.line_no] = left
        if not wanted:
            raise RefundError("everything on this receipt has already been refunded")
        return wanted
    for no, qty in lines.items():
        if no not in by_no:
            raise RefundError(f"the receipt has no line {no} (it has 1 to {len(sale_lines)})")
        line = by_no[no]
        left = line.qty - line.refunded_qty
        if qty is None:
            qty = left
        if qty < 1:
            raise RefundError(f"line {no}: the quantity to refund must be at least 1")
        if qty > left:
            raise RefundError(
                f"line {no} ({line.name}): {qty} asked but only {left} of {line.qty} left to refund"
            )
        wanted[no] = qty
    return wanted


def refund(
    receipt_no: str,
    *,
    config,
    staff: StaffInfo,
    approver: StaffInfo | None,
    lines: Mapping[int, int | None] | None = None,
    to: str = "original",
    reason: str = "",
    restock: bool = True,
    now: datetime | None = None,
) -> CompletedRefund:
    """Refund some or all of a sale made on this till. `lines` maps line numbers (1-based, as on
    the receipt) to quantities; None refunds everything not yet refunded."""
    require_manager(approver, "a refund")
    if to not in ("cash", "original"):
        raise RefundError(f"refund to {to!r}: choose cash or original")
    now = now or utcnow()
    tz = config["store.timezone"]
    step = config["store.cash_rounding"]
    with db.atomic("IMMEDIATE"):
        sale = Sale.get_or_none(Sale.receipt_no == receipt_no.strip())
        if sale is None:
            raise RefundError(f"receipt {receipt_no} is not a sale of this till")
        shift = shifts.require_open()
        sale_lines = list(
            SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no)
        )
        wanted = _parse_selection(sale_lines, lines)
        by_no = {line.line_no: line for line in sale_lines}
        refunded: list[RefundedLine] = []
        for no, qty in sorted(wanted.items()):
            line = by_no[no]
            amount = refund_share(line.total, line.qty, line.refunded_qty, qty)
            tax = refund_share(line.tax_amount, line.qty, line.refunded_qty, qty)
            refunded.append(RefundedLine(no, line.name, qty, amount, tax))
        goods = sum(r.amount for r in refunded)
        tax_total = sum(r.tax for r in refunded)
        payments = _tender_split(sale, goods, to)
        rounding = 0
        cash = dict(payments).get("cash", 0)
        if cash:
            # Rounded as a running total over the sale's refunds, not each on its own: partial
            # refunds then give back in all what one whole refund would, within half a step.
            before = _cash_due_before(sale)
            rounded = round_to_step(before + cash, step) - round_to_step(before, step)
            rounding = rounded - cash
            payments = [(t, rounded if t == "cash" else a) for t, a in payments]
        payments = [(t, a) for t, a in payments if a > 0]
        total = goods + rounding
        training = bool(sale.training)
        seq = next_number("training_receipt_seq" if training else "receipt_seq")
        refund_no = (
            identity.training_receipt_no(seq) if training else identity.load().receipt_no(seq)
        )
        refund_id = uuid7()
        created = iso(now)
        db.execute_sql(
            'INSERT INTO "refund" ("id", "receipt_no", "receipt_seq", "sale_id", "shift_id", '
            '"staff_id", "approved_by_id", "created_at", "reason", "rounding", "total", '
            '"tax_total", "training") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
            (
                refund_id,
                refund_no,
                seq,
                sale.id,
                shift.id,
                staff.id,
                approver.id,
                created,
                reason,
                rounding,
                total,
                tax_total,
                training,
            ),
        )
        wire_lines, wire_payments = [], []
        for r in refunded:
            line = by_no[r.line_no]
            refund_line_id = uuid7()
            db.execute_sql(
                'INSERT INTO "refund_line" ("id", "refund_id", "sale_line_id", "qty", "amount", '
                '"tax_amount", "restock") VALUES (?,?,?,?,?,?,?)',
                (refund_line_id, refund_id, line.id, r.qty, r.amount, r.tax, restock),
            )
            db.execute_sql(
                "UPDATE sale_line SET refunded_qty = refunded_qty + ? WHERE id = ? "
                "AND refunded_qty + ? <= qty",
                (r.qty, line.id, r.qty),
            )
            if restock and line.product_id and not training:
                moved = _stock_qty(line, r.qty)
                db.execute_sql(
                    'INSERT INTO "stock_level" ("product_id", "on_hand", "reserved", '
                    '"updated_at") VALUES (?, ?, 0, ?) ON CONFLICT ("product_id") DO UPDATE '
                    'SET "on_hand" = "on_hand" + excluded."on_hand", '
                    '"updated_at" = excluded."updated_at"',
                    (line.product_id, moved, created),
                )
                db.execute_sql(
                    'INSERT INTO "stock_movement" ("product_id", "qty", "cause", "ref", '
                    '"created_at") VALUES (?, ?, ?, ?, ?)',
                    (line.product_id, moved, "refund", refund_no, created),
                )
            wire_lines.append(
                RefundLineWire(
                    sale_line_id=line.id,
                    line_no=r.line_no,
                    product_id=line.product_id,
                    sku=line.sku,
                    name=line.name,
                    qty=r.qty,
                    amount=r.amount,
                    tax_amount=r.tax,
                    restock=restock,
                )
            )
        for tender, amount in payments:
            payment_id = uuid7()
            Payment.insert(
                id=payment_id,
                shift=shift.id,
                refund=refund_id,
                tender=tender,
                amount=-amount,
                change=0,
                training=training,
            ).execute()
            wire_payments.append(PaymentWire(payment_id=payment_id, tender=tender, amount=amount))
        audit.record(
            "refund",
            staff_id=staff.id,
            approved_by=approver.id,
            detail={"sale": sale.receipt_no, "refund": refund_no, "total": total},
            tz=tz,
            send=False,
        )
        if not training:
            outbox.enqueue(
                SaleRefunded(
                    refund_id=refund_id,
                    sale_id=sale.id,
                    sale_receipt_no=sale.receipt_no,
                    receipt_no=refund_no,
                    receipt_seq=seq,
                    shift_id=shift.id,
                    staff_id=staff.id,
                    approved_by=approver.id,
                    reason=reason,
                    lines=wire_lines,
                    payments=wire_payments
                    or [PaymentWire(payment_id=uuid7(), tender="cash", amount=0)],
                    rounding=rounding,
                    total=total,
                    tax_total=tax_total,
                ),
                tz=tz,
                occurred_at=now,
                depends_on=(sale.origin_event_id or sale.id,),
                event_id=refund_id,
            )
    return CompletedRefund(
        refund_id=refund_id,
        receipt_no=refund_no,
        sale_receipt_no=sale.receipt_no,
        total=total,
        rounding=rounding,
        tax_total=tax_total,
        payments=tuple(payments),
        lines=tuple(refunded),
        training=training,
    )


def _stock_qty(line: SaleLine, qty: int) -> int:
    # the same figure checkout took out of stock (a weighed line is refunded whole)
    return stock_quantity(line.unit, qty, line.weight_g, line.gross, line.unit_price)


def _cash_due_before(sale: Sale) -> int:
    """The cash this till's earlier refunds of `sale` owed back before rounding."""
    given = (
        Payment.select(Payment.amount)
        .join(RefundRow, on=(Payment.refund == RefundRow.id))
        .where((RefundRow.sale == sale.id) & (Payment.tender == "cash"))
    )
    rounded = RefundRow.select(RefundRow.rounding).where(RefundRow.sale == sale.id)
    # refund payments are stored negative; a refund's rounding is all on its cash
    return -sum(p.amount for p in given) - sum(r.rounding for r in rounded)


def _tender_split(sale: Sale, amount: int, to: str) -> list[tuple[str, int]]:
    """How a refund goes back: all cash, or over the sale's own tenders in proportion to what
    each still holds after earlier refunds of the same sale."""
    if to == "cash":
        return [("cash", amount)]
    paid: dict[str, int] = {}
    if sale.origin_payments is None:
        for p in Payment.select().where(Payment.sale == sale.id):
            paid[p.tender] = paid.get(p.tender, 0) + p.amount
    else:  # as the OMS last told, net of refunds made at other tills
        paid.update((t, a) for t, a in json.loads(sale.origin_payments))
    for p in (
        Payment.select(Payment.tender, Payment.amount)
        .join(RefundRow, on=(Payment.refund == RefundRow.id))
        .where(RefundRow.sale == sale.id)
    ):
        paid[p.tender] = paid.get(p.tender, 0) + p.amount  # refund payments are negative
    tenders = [t for t, a in paid.items() if a > 0]
    if not tenders:
        return [("cash", amount)]
    # Earlier cash refunds were rounded to the cash step, so what the tenders still hold can
    # fall a few rupiah short of (or over) the amount: no card or QRIS gives back more than it
    # still holds, cash takes the rest (and is rounded again by the caller).
    parts = dict(zip(tenders, allocate(amount, [paid[t] for t in tenders]), strict=True))
    over = 0
    for tender in tenders:
        if tender != "cash" and parts[tender] > paid[tender]:
            over += parts[tender] - paid[tender]
            parts[tender] = paid[tender]
    if over:
        parts["cash"] = parts.get("cash", 0) + over
    return list(parts.items())
