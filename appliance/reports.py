"""X and Z reports of a shift, from SQL aggregates.

    >>> report = shift_report(shift_id)              # doctest: +SKIP
    >>> report.expected_cash                         # doctest: +SKIP

Each figure is one aggregate query over indexed columns (sale.shift_id, sale_line.sale_id,
payment.shift_id), so a report of a 2,000-line shift in a store holding a million sale lines
costs what the shift costs, not what the store holds (bench/z_report.py). Training sales and
refunds are left out everywhere.

Expected cash = float + cash taken - change given - cash refunds + cash paid for pickup orders
+ cash in - cash out; the report prints that arithmetic line by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from retail.ids import iso, utcnow

from .store.models import db


@dataclass(frozen=True)
class TenderLine:
    tender: str
    count: int
    amount: int


@dataclass(frozen=True)
class TaxLine:
    code: str
    rate_bp: int
    base_num: int
    base_den: int
    base: int
    tax: int
    gross: int


@dataclass(frozen=True)
class Seller:
    name: str
    sku: str | None
    qty: int
    total: int


@dataclass
class ShiftReport:
    kind: str  # X | Z
    shift_id: str
    opened_at: str
    opened_by: str
    opening_float: int
    closed_at: str | None = None
    z_number: int | None = None
    sales_count: int = 0
    subtotal: int = 0
    promo_discount: int = 0
    line_discount: int = 0
    cart_discount: int = 0
    rounding: int = 0
    sales_total: int = 0
    tax_total: int = 0
    items_sold: int = 0
    refunds_count: int = 0
    refunds_total: int = 0
    refunds_tax: int = 0
    voids: int = 0
    no_sales: int = 0
    cash_taken: int = 0
    change_given: int = 0
    cash_refunds: int = 0
    pickup_cash: int = 0
    cash_in: int = 0
    cash_out: int = 0
    counted_cash: int | None = None
    tenders: list[TenderLine] = field(default_factory=list)
    refund_tenders: list[TenderLine] = field(default_factory=list)
    taxes: list[TaxLine] = field(default_factory=list)
    best_sellers: list[Seller] = field(default_factory=list)

    @property
    def discount_total(self) -> int:
        return self.promo_discount + self.line_discount + self.cart_discount

    @property
    def expected_cash(self) -> int:
        return (
            self.opening_float
            + self.cash_taken
            - self.change_given
            - self.cash_refunds
            + self.pickup_cash
            + self.cash_in
            - self.cash_out
        )

    @property
    def over_short(self) -> int | None:
        return None if self.counted_cash is None else self.counted_cash - self.expected_cash

    @property
    def net_sales(self) -> int:
        return self.sales_total - self.refunds_total


_SALES = """
SELECT COUNT(*), COALESCE(SUM(subtotal), 0), COALESCE(SUM(rounding), 0),
       COALESCE(SUM(total), 0), COALESCE(SUM(tax_total), 0), COALESCE(SUM(cart_discount), 0)
FROM sale WHERE shift_id = ? AND training = 0
"""
_LINES = """
SELECT COALESCE(SUM(l.promo_discount), 0), COALESCE(SUM(l.line_discount), 0),
       COALESCE(SUM(CASE WHEN l.unit = 'kg' THEN 1 ELSE l.qty END), 0)
FROM sale s JOIN sale_line l ON l.sale_id = s.id WHERE s.shift_id = ? AND s.training = 0
"""
_TAXES = """
SELECT l.tax_code, l.tax_rate_bp, l.tax_base_num, l.tax_base_den,
       SUM(l.tax_base), SUM(l.tax_amount), SUM(l.total)
FROM sale s JOIN sale_line l ON l.sale_id = s.id WHERE s.shift_id = ? AND s.training = 0
GROUP BY l.tax_code, l.tax_rate_bp, l.tax_base_num, l.tax_base_den ORDER BY l.tax_code
"""
_BEST = """
SELECT l.name, l.sku, SUM(CASE WHEN l.unit = 'kg' THEN 1 ELSE l.qty END) AS units,
       SUM(l.total) AS amount
FROM sale s JOIN sale_line l ON l.sale_id = s.id WHERE s.shift_id = ? AND s.training = 0
GROUP BY COALESCE(l.product_id, l.name) ORDER BY amount DESC, units DESC LIMIT ?
"""
_PAYMENTS = """
SELECT tender, kind, COUNT(*), SUM(amount), SUM(COALESCE(tendered, 0)), SUM(change) FROM (
  SELECT tender, amount, tendered, change,
         CASE WHEN sale_id IS NOT NULL THEN 'sale' WHEN refund_id IS NOT NULL THEN 'refund'
              ELSE 'order' END AS kind
  FROM payment WHERE shift_id = ? AND training = 0
) GROUP BY tender, kind ORDER BY tender
"""
_REFUNDS = """
SELECT COUNT(*), COALESCE(SUM(total), 0), COALESCE(SUM(tax_total), 0)
FROM refund WHERE shift_id = ? AND training = 0
"""
_CASH_MOVES = """
SELECT COALESCE(SUM(CASE WHEN amount > 0 THEN amount END), 0),
       COALESCE(SUM(CASE WHEN amount < 0 THEN -amount END), 0)
FROM cash_movement WHERE shift_id = ?
"""
_AUDIT = """
SELECT action, COUNT(*) FROM audit
WHERE at >= ? AND at <= ? AND action IN ('line_void', 'no_sale') GROUP BY action
"""
_SHIFT = """
SELECT s.opened_at, st.name, s.opening_float, s.closed_at, s.z_number, s.counted_cash
FROM shift s JOIN staff st ON st.id = s.staff_id WHERE s.id = ?
"""


def shift_report(shift_id: str, *, best_sellers: int = 5) -> ShiftReport:
    """An X report (shift still open) or the Z report (shift closed) of one shift."""
    row = db.execute_sql(_SHIFT, (shift_id,)).fetchone()
    if row is None:
        raise LookupError(f"there is no shift {shift_id}")
    opened_at, opened_by, opening_float, closed_at, z_number, counted = row
    r = ShiftReport(
        kind="Z" if closed_at else "X",
        shift_id=shift_id,
        opened_at=opened_at,
        opened_by=opened_by,
        opening_float=opening_float,
        closed_at=closed_at,
        z_number=z_number,
        counted_cash=counted,
    )
    sql = db.execute_sql
    (r.sales_count, r.subtotal, r.rounding, r.sales_total, r.tax_total, r.cart_discount) = sql(
        _SALES, (shift_id,)
    ).fetchone()
    r.promo_discount, r.line_discount, r.items_sold = sql(_LINES, (shift_id,)).fetchone()
    r.taxes = [TaxLine(*t) for t in sql(_TAXES, (shift_id,)).fetchall()]
    r.best_sellers = [Seller(*b) for b in sql(_BEST, (shift_id, best_sellers)).fetchall()]
    r.refunds_count, r.refunds_total, r.refunds_tax = sql(_REFUNDS, (shift_id,)).fetchone()
    for tender, kind, count, amount, tendered, change in sql(_PAYMENTS, (shift_id,)):
        if kind == "sale":
            r.tenders.append(TenderLine(tender, count, amount))
            if tender == "cash":
                r.cash_taken += tendered
                r.change_given += change
        elif kind == "refund":
            r.refund_tenders.append(TenderLine(tender, count, -amount))
            if tender == "cash":
                r.cash_refunds += -amount
        elif tender == "cash":
            r.pickup_cash += tendered - change
    r.cash_in, r.cash_out = sql(_CASH_MOVES, (shift_id,)).fetchone()
    counts = dict(sql(_AUDIT, (opened_at, closed_at or iso(utcnow()))).fetchall())
    r.voids = counts.get("line_void", 0)
    r.no_sales = counts.get("no_sale", 0)
    return r
