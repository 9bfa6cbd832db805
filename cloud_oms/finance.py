"""The finance export: a double-entry journal per local day and store, as CSV.

    >>> print(journal_csv(store, date(2026, 3, 1), date(2026, 3, 31)))   # doctest: +SKIP
    date,store,account,debit,credit,currency
    2026-03-01,JKT1,tender:cash,1250000,0,IDR
    2026-03-01,JKT1,discounts,25000,0,IDR
    2026-03-01,JKT1,sales,0,1148649,IDR
    2026-03-01,JKT1,tax_output,0,126351,IDR

Entries, each balanced (debits = credits), summed per day and account:
- a sale (a till sale when it happened, an online/phone order when confirmed): debit what the
  customer owes (`receivable`; a till sale's tenders directly) and the discounts given; credit
  sales (net of tax), shipping income, output tax and the cash rounding;
- a cancelled order that had been booked: the same, reversed, on the day of cancellation;
- a return: debit sales returns (net) and output tax, credit receivable (a till refund: the
  tenders paid back);
- a payment or refund of an online/phone order: the tender against the receivable; a refund
  without a return on an order that stands (goodwill, also on a till sale) against
  `sales_allowances`.
Amounts are integers in the currency's minor unit; days are the store's local days.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from retail.ids import to_local, zone

from .models.core import Store
from .models.orders import Order, Payment, Return

ACCOUNT_ORDER = (
    "receivable",
    "tender:",
    "discounts",
    "sales",
    "sales_returns",
    "sales_allowances",
    "shipping_income",
    "tax_output",
    "cash_rounding",
)


def _sort_key(account: str) -> tuple[int, str]:
    for i, prefix in enumerate(ACCOUNT_ORDER):
        if account == prefix or (prefix.endswith(":") and account.startswith(prefix)):
            return i, account
    return len(ACCOUNT_ORDER), account


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])

    def post(self, moment: datetime, entries: list[tuple[str, int]]) -> None:
        """entries: (account, amount) with debits positive and credits negative; must balance."""
        if sum(amount for _, amount in entries) != 0:
            raise AssertionError(f"unbalanced journal entry {entries}")
        day = to_local(moment, self.store.tz).date()
        for account, amount in entries:
            if amount > 0:
                self.rows[(day, account)][0] += amount
            elif amount < 0:
                self.rows[(day, account)][1] -= amount

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["date", "store", "account", "debit", "credit", "currency"])
        for (day, account), (debit, credit) in sorted(
            self.rows.items(), key=lambda kv: (kv[0][0], _sort_key(kv[0][1]))
        ):
            writer.writerow(
                [day.isoformat(), self.store.code, account, debit, credit, self.store.currency]
            )
        return out.getvalue()


def _sale_entries(order: Order, sign: int) -> list[tuple[str, int]]:
    shipping_net = order.shipping_total - order.shipping_tax
    sales = order.total + order.discount_total - order.tax_total - shipping_net - order.rounding
    entries = [
        ("discounts", order.discount_total),
        ("sales", -sales),
        ("shipping_income", -shipping_net),
        ("tax_output", -order.tax_total),
        ("cash_rounding", -order.rounding),
    ]
    if order.kind == "store":
        payments = Payment.select().where((Payment.order == order.id) & (Payment.kind == "payment"))
        paid = [(f"tender:{p.method}", p.amount) for p in payments]
        entries += paid
        # A till sale is paid in full at the counter; anything else is still owed.
        entries.append(("receivable", order.total - sum(a for _, a in paid)))
    else:
        entries.append(("receivable", order.total))
    return [(account, sign * amount) for account, amount in entries]


def journal(store: Store, since: date, until: date) -> Journal:
    """The journal of local days since..until (both included)."""
    tz = zone(store.tz)
    start = datetime.combine(since, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    book = Journal(store)
    in_store = Order.store == store.id

    booked = Order.select().where(
        in_store
        & Order.booked_at.is_null(False)
        & (Order.booked_at >= start)
        & (Order.booked_at < end)
    )
    for order in booked:
        book.post(order.booked_at, _sale_entries(order, 1))

    cancelled = Order.select().where(
        in_store
        & Order.booked_at.is_null(False)
        & Order.cancelled_at.is_null(False)
        & (Order.cancelled_at >= start)
        & (Order.cancelled_at < end)
    )
    for order in cancelled:
        book.post(order.cancelled_at, _sale_entries(order, -1))

    returns = (
        Return.select(Return, Order)
        .join(Order)
        .where(in_store & (Return.created_at >= start) & (Return.created_at < end))
    )
    for ret in returns:
        entries = [("sales_returns", ret.amount - ret.tax_amount), ("tax_output", ret.tax_amount)]
        if ret.order.kind == "store":
            paid_back = Payment.select().where(
                (Payment.return_ref == ret.id) & (Payment.kind == "refund")
            )
            back = [(f"tender:{p.method}", -p.amount) for p in paid_back]
            entries += back
            entries.append(("receivable", -ret.amount - sum(a for _, a in back)))
        else:
            entries.append(("receivable", -ret.amount))
        book.post(ret.created_at, entries)

    payments = (
        Payment.select(Payment, Order)
        .join(Order)
        .where(
            in_store
            & (Payment.at >= start)
            & (Payment.at < end)
            # a till sale's payments and a till refund's are booked with the sale and the return
            & (
                (Order.kind != "store")
                | ((Payment.kind == "refund") & Payment.return_ref.is_null())
            )
        )
    )
    for p in payments:
        sign = 1 if p.kind == "payment" else -1
        # Money given back without goods coming back, on an order that stands, is an allowance;
        # on a cancelled order it settles what the cancellation left owing to the customer.
        goodwill = p.kind == "refund" and p.return_ref is None and p.order.status != "cancelled"
        other = "sales_allowances" if goodwill else "receivable"
        book.post(p.at, [(f"tender:{p.method}", sign * p.amount), (other, -sign * p.amount)])
    return book


def journal_csv(store: Store, since: date, until: date) -> str:
    return journal(store, since, until).csv()
