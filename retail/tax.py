"""Tax codes and per-line tax.

    >>> ppn = TaxCode("PPN", "PPN 12% (DPP 11/12)", 1200, 11, 12)
    >>> line_tax(11100, ppn, inclusive=True)
    LineTax(gross=11100, net=10000, base=9167, tax=1100)

Indonesia's ordinary PPN is 12% charged on a base (DPP, "dasar pengenaan pajak") of 11/12 of the
selling price, i.e. 11% in effect; luxury goods pay 12% on the full price; some goods are exempt
(rate 0). A tax code therefore carries a rate in basis points and a base fraction.

Tax is computed per line on what the customer actually pays for the line (after line and cart
discounts) and rounded half up. With tax-inclusive prices (the default) the tax is the part of
the gross that is tax; with tax-exclusive prices it is added on top of the net.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from .money import round_half_up


class TaxError(ValueError):
    pass


@dataclass(frozen=True)
class TaxCode:
    code: str
    name: str
    rate_bp: int
    base_num: int = 1
    base_den: int = 1

    def __post_init__(self) -> None:
        if not self.code or len(self.code) > 16 or not self.code.replace("_", "").isalnum():
            raise TaxError(f"tax code {self.code!r} must be 1-16 letters, digits or _")
        if not 0 <= self.rate_bp <= 10000:
            raise TaxError(f"tax code {self.code}: rate {self.rate_bp} bp is not in 0..10000")
        if self.base_den <= 0 or not 0 < self.base_num <= self.base_den:
            raise TaxError(
                f"tax code {self.code}: base {self.base_num}/{self.base_den} must be a "
                "fraction in (0, 1]"
            )

    @property
    def base(self) -> Fraction:
        return Fraction(self.base_num, self.base_den)

    @property
    def effective_rate(self) -> Fraction:
        """Tax as a fraction of the net price: 12% x 11/12 = 11% for ordinary PPN."""
        return Fraction(self.rate_bp, 10000) * self.base

    @property
    def exempt(self) -> bool:
        return self.rate_bp == 0

    @property
    def rate_text(self) -> str:
        pct = Fraction(self.rate_bp, 100)
        text = f"{pct.numerator}%" if pct.denominator == 1 else f"{float(pct):g}%"
        if self.base != 1:
            text += f" x {self.base_num}/{self.base_den}"
        return text


# Indonesia's codes, seeded into every new store (the owner may add or edit codes).
PPN = TaxCode("PPN", "PPN 12% (DPP 11/12)", 1200, 11, 12)
PPNBM = TaxCode("LUX", "PPN 12% barang mewah", 1200, 1, 1)
EXEMPT = TaxCode("FREE", "Bebas PPN", 0, 1, 1)
DEFAULT_TAX_CODES = (PPN, PPNBM, EXEMPT)


@dataclass(frozen=True)
class LineTax:
    gross: int  # what the customer pays for the line, tax included
    net: int  # gross minus tax
    base: int  # the taxable base (DPP): net x base fraction
    tax: int


def line_tax(amount: int, code: TaxCode, *, inclusive: bool = True) -> LineTax:
    """Tax of one line. `amount` is the line's price after discounts: gross when prices include
    tax, net when they do not.

    In integers: with r = rate_bp x base_num and d = 10000 x base_den the effective rate is
    r/d, so inclusive tax = amount x r / (d + r) and exclusive tax = amount x r / d, each rounded
    half up once (this is the till's hot path: no Fraction objects)."""
    r = code.rate_bp * code.base_num
    d = 10000 * code.base_den
    if inclusive:
        tax = round_half_up(amount * r, d + r)
        net = amount - tax
        gross = amount
    else:
        net = amount
        tax = round_half_up(amount * r, d)
        gross = amount + tax
    base = round_half_up(net * code.base_num, code.base_den)
    return LineTax(gross=gross, net=net, base=base, tax=tax)


@dataclass(frozen=True)
class TaxSummaryRow:
    code: str
    name: str
    rate_text: str
    net: int
    base: int
    tax: int
    gross: int


def summarize(lines: Iterable[tuple[TaxCode, LineTax]]) -> list[TaxSummaryRow]:
    """The receipt's tax summary: one row per tax code, in order of first appearance."""
    rows: dict[str, list] = {}
    for code, lt in lines:
        row = rows.setdefault(code.code, [code, 0, 0, 0, 0])
        row[1] += lt.net
        row[2] += lt.base
        row[3] += lt.tax
        row[4] += lt.gross
    return [
        TaxSummaryRow(c.code, c.name, c.rate_text, net, base, tax, gross)
        for c, net, base, tax, gross in rows.values()
    ]
