"""Pricing a cart: promotions, line and cart discounts, tax per line, cash rounding.

    >>> ppn = TaxCode("PPN", "PPN", 1200, 11, 12)
    >>> cart = price_cart([LineInput("a", 4500, 3, tax=ppn,
    ...                              promos=(Promo("p1", "3 for 10.000", "multibuy", 3, price=10000),))])
    >>> cart.total, cart.lines[0].promo_discount
    (10000, 3500)

Order of application, per line: gross (unit price x qty, or x weight), the best promotion, the
line discount, then the line's share of the cart discount (largest remainder over what is left
of each line), then tax on what is left. The same function prices the till's cart and the OMS's
phone orders, so both agree to the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .money import allocate, round_half_up, round_to_step
from .tax import LineTax, TaxCode, TaxSummaryRow, line_tax, summarize


class PricingError(ValueError):
    pass


@dataclass(frozen=True)
class Discount:
    """`percent` in basis points (1000 = 10%) or `amount` in minor units."""

    kind: Literal["percent", "amount"]
    value: int
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("percent", "amount"):
            raise PricingError(f"discount kind {self.kind!r} is not percent or amount")
        if self.value < 0:
            raise PricingError("a discount cannot be negative")
        if self.kind == "percent" and self.value > 10000:
            raise PricingError("a percent discount cannot exceed 100%")

    def of(self, amount: int) -> int:
        if self.kind == "percent":
            return round_half_up(amount * self.value, 10000)
        return min(self.value, amount)

    def describe(self, percent_text: str = "{}%") -> str:
        if self.label:
            return self.label
        if self.kind == "percent":
            pct = self.value / 100
            return percent_text.format(f"{pct:g}")
        return ""


@dataclass(frozen=True)
class Promo:
    """multibuy: `qty` for `price`; bxgy: buy `qty` get `get_qty` free; price: unit `price`."""

    id: str
    name: str
    kind: Literal["multibuy", "bxgy", "price"]
    qty: int = 1
    get_qty: int = 0
    price: int | None = None

    def discount(self, unit_price: int, qty: int) -> int:
        if self.kind == "multibuy":
            if self.qty < 2 or self.price is None:
                return 0
            groups = qty // self.qty
            return max(0, groups * (self.qty * unit_price - self.price))
        if self.kind == "bxgy":
            if self.qty < 1 or self.get_qty < 1:
                return 0
            groups = qty // (self.qty + self.get_qty)
            return groups * self.get_qty * unit_price
        if self.kind == "price":
            if self.price is None or self.price >= unit_price:
                return 0
            return qty * (unit_price - self.price)
        raise PricingError(f"promotion kind {self.kind!r} is unknown")


@dataclass(frozen=True)
class LineInput:
    key: str
    unit_price: int
    qty: int = 1
    weight_g: int | None = None
    tax: TaxCode | None = None
    promos: tuple[Promo, ...] = ()
    discount: Discount | None = None
    embedded_price: int | None = None  # a price barcode fixes the line's gross

    def gross(self) -> int:
        if self.embedded_price is not None:
            return self.embedded_price
        if self.weight_g is not None:
            return round_half_up(self.unit_price * self.weight_g, 1000)
        return self.unit_price * self.qty


@dataclass(frozen=True)
class PricedLine:
    key: str
    gross: int
    promo_discount: int
    line_discount: int
    cart_discount: int
    total: int  # what the customer pays for the line, tax included
    tax: LineTax
    promotion: str | None

    @property
    def discount(self) -> int:
        return self.promo_discount + self.line_discount + self.cart_discount


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]
    subtotal: int  # sum of gross
    promo_discount: int
    line_discount: int
    cart_discount: int
    total: int
    tax_total: int
    taxes: tuple[TaxSummaryRow, ...] = field(default=())

    @property
    def discount_total(self) -> int:
        return self.promo_discount + self.line_discount + self.cart_discount


def best_promo(line: LineInput) -> tuple[Promo | None, int]:
    best, amount = None, 0
    if line.embedded_price is not None or line.weight_g is not None:
        return None, 0  # a scale label already carries the price to charge
    for promo in line.promos:
        value = promo.discount(line.unit_price, line.qty)
        if value > amount:
            best, amount = promo, value
    return best, amount


def price_cart(
    lines: Sequence[LineInput],
    cart_discount: Discount | None = None,
    *,
    inclusive: bool = True,
) -> PricedCart:
    for line in lines:
        if line.tax is None:
            raise PricingError(f"line {line.key}: no tax code")
        if line.unit_price < 0:
            raise PricingError(f"line {line.key}: price cannot be negative")
        if line.qty < 1:
            raise PricingError(f"line {line.key}: quantity must be at least 1")
        if line.weight_g is not None and line.weight_g < 1:
            raise PricingError(f"line {line.key}: a weight must be at least 1 g")
        if line.embedded_price is not None and line.embedded_price < 0:
            raise PricingError(f"line {line.key}: a label price cannot be negative")
    grosses, promos, line_discounts, after = [], [], [], []
    for line in lines:
        gross = line.gross()
        promo, promo_amount = best_promo(line)
        rest = gross - promo_amount
        line_amount = line.discount.of(rest) if line.discount else 0
        grosses.append(gross)
        promos.append((promo, promo_amount))
        line_discounts.append(line_amount)
        after.append(rest - line_amount)
    cart_amount = cart_discount.of(sum(after)) if cart_discount else 0
    shares = allocate(cart_amount, after) if lines else []
    priced = []
    for i, line in enumerate(lines):
        amount = after[i] - shares[i]
        lt = line_tax(amount, line.tax, inclusive=inclusive)
        promo, promo_amount = promos[i]
        priced.append(
            PricedLine(
                key=line.key,
                gross=grosses[i],
                promo_discount=promo_amount,
                line_discount=line_discounts[i],
                cart_discount=shares[i],
                total=lt.gross,
                tax=lt,
                promotion=promo.name if promo else None,
            )
        )
    taxes = summarize((line.tax, p.tax) for line, p in zip(lines, priced, strict=True))
    return PricedCart(
        lines=tuple(priced),
        subtotal=sum(grosses),
        promo_discount=sum(p[1] for p in promos),
        line_discount=sum(line_discounts),
        cart_discount=cart_amount,
        total=sum(p.total for p in priced),
        tax_total=sum(p.tax.tax for p in priced),
        taxes=tuple(taxes),
    )


@dataclass(frozen=True)
class TenderInput:
    tender: str  # cash | card | qris | ...
    amount: int  # cash: what was handed over; others: what was charged
    reference: str | None = None


@dataclass(frozen=True)
class Settlement:
    rounding: int  # added to the total: negative when rounded down
    due: int  # total + rounding
    cash_due: int  # what cash settles
    cash_tendered: int
    change: int
    payments: tuple[tuple[str, int, str | None], ...]  # (tender, amount settled, reference)


class TenderError(ValueError):
    pass


def settle(total: int, tenders: Sequence[TenderInput], cash_step: int = 1) -> Settlement:
    """Split a total over tenders. External tenders (card, QRIS) settle exactly what they were
    charged; cash settles the rest, rounded to `cash_step` (the rounding is its own line), and
    gives change. Anything short or any external tender above what is due is an error."""
    if total < 0:
        raise TenderError("a sale total cannot be negative")
    if total == 0 and not tenders:
        return Settlement(0, 0, 0, 0, 0, ())
    if not tenders:
        raise TenderError("no payment given")
    external = [t for t in tenders if t.tender != "cash"]
    cash = [t for t in tenders if t.tender == "cash"]
    for t in tenders:
        if t.amount <= 0:
            raise TenderError(f"{t.tender} amount must be above zero")
    external_total = 0
    for t in external:
        if external_total + t.amount > total:
            raise TenderError(
                f"{t.tender} amount {t.amount} is more than the {total - external_total} "
                "still due; card and QRIS cannot give change"
            )
        external_total += t.amount
    remaining = total - external_total
    cash_tendered = sum(t.amount for t in cash)
    if remaining == 0:
        if cash:
            raise TenderError("nothing is left to pay in cash")
        rounding, cash_due = 0, 0
    else:
        cash_due = round_to_step(remaining, cash_step)
        rounding = cash_due - remaining
        if cash_due == 0:
            # What is left rounds away (Rp45 with a Rp100 step): nothing more to pay, and any
            # cash handed over goes straight back.
            cash, cash_tendered = [], 0
        elif not cash:
            raise TenderError(f"{remaining} is still due")
        elif cash_tendered < cash_due:
            raise TenderError(f"cash {cash_tendered} is less than the {cash_due} due")
    payments = [(t.tender, t.amount, t.reference) for t in external]
    if cash:
        payments.append(("cash", cash_due, None))
    return Settlement(
        rounding=rounding,
        due=total + rounding,
        cash_due=cash_due,
        cash_tendered=cash_tendered,
        change=cash_tendered - cash_due,
        payments=tuple(payments),
    )


def unit_shares(line_total: int, qty: int) -> list[int]:
    """What each unit of a line cost, by largest remainder: refunds take these in order, so
    refunding every unit, in any number of partial refunds, returns exactly the line total."""
    return allocate(line_total, [1] * qty)


def refund_share(line_total: int, qty: int, already: int, now: int) -> int:
    if now < 1 or already < 0 or already + now > qty:
        raise PricingError(f"cannot refund {now} of {qty} with {already} already refunded")
    return sum(unit_shares(line_total, qty)[already : already + now])


def stock_quantity(unit: str, qty: int, weight_g: int | None, gross: int, unit_price: int) -> int:
    """How much stock a sold line moves: units, or grams for goods sold by weight. A scale's
    price label carries no weight, so the weight its price implies is taken (half up, at least
    1 g). The till and the OMS both book stock with this, so their ledgers agree."""
    if unit != "kg":
        return qty
    if weight_g:
        return weight_g
    if unit_price <= 0:
        return qty
    return max(1, round_half_up(gross * 1000, unit_price))
