"""Money as an integer count of the currency's minor unit.

    >>> idr = Currency("IDR")
    >>> format_money(12500, idr, "id_ID")
    'Rp12.500'
    >>> parse_money("12.500", idr, "id_ID")
    12500
    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]

The exponent comes from the store's configuration, not from Babel: Babel's IDR has two decimals
and would print "Rp12.500,00", while Indonesian shops price in whole rupiah.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, format_decimal, get_decimal_symbol, parse_decimal

DEFAULT_LOCALE = "id_ID"
SUPPORTED_LOCALES = ("id_ID", "en")


class MoneyError(ValueError):
    """An amount a person typed (or a file holds) that is not a valid amount of money."""


@dataclass(frozen=True)
class Currency:
    code: str = "IDR"
    exponent: int = 0
    symbol: str = "Rp"

    def __post_init__(self) -> None:
        if not (len(self.code) == 3 and self.code.isalpha() and self.code.isupper()):
            raise MoneyError(f"currency code {self.code!r} is not a 3-letter ISO 4217 code")
        if not 0 <= self.exponent <= 4:
            raise MoneyError(f"currency exponent {self.exponent} is not between 0 and 4")

    @property
    def unit(self) -> int:
        """Minor units in one major unit (1 for IDR, 100 for USD)."""
        return 10**self.exponent


IDR = Currency()


def _pattern(currency: Currency) -> str:
    return "#,##0" + ("." + "0" * currency.exponent if currency.exponent else "")


def format_money(amount: int, currency: Currency = IDR, locale: str = DEFAULT_LOCALE) -> str:
    """'Rp12.500' in id_ID, 'Rp12,500' in en; a minus sign goes before the symbol."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"money must be an int of minor units, not {type(amount).__name__}")
    major = Decimal(abs(amount)).scaleb(-currency.exponent)
    digits = format_decimal(major, format=_pattern(currency), locale=locale)
    return ("-" if amount < 0 else "") + currency.symbol + digits


def format_amount(amount: int, currency: Currency = IDR, locale: str = DEFAULT_LOCALE) -> str:
    """The number alone, for receipt columns where the symbol would waste width."""
    major = Decimal(abs(amount)).scaleb(-currency.exponent)
    return ("-" if amount < 0 else "") + format_decimal(
        major, format=_pattern(currency), locale=locale
    )


def parse_money(text: str, currency: Currency = IDR, locale: str = DEFAULT_LOCALE) -> int:
    """Parse an amount as a person writes it in the store's locale into minor units.

    Only the store's locale is accepted: "12.500" is twelve thousand five hundred in id_ID and
    an error for IDR in en (where it would be twelve and a half rupiah).
    """
    if text is None:
        raise MoneyError("amount is missing")
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "")
    # format_money puts the minus before the symbol ("-Rp12.500"): take it off to find the
    # symbol, and give it back to Babel so a second sign ("--5") is still an error.
    sign = "-" if cleaned.startswith("-") else ""
    cleaned = cleaned.removeprefix("-")
    for prefix in (currency.symbol, currency.code):
        if cleaned[: len(prefix)].lower() == prefix.lower():
            cleaned = cleaned[len(prefix) :]
    if not cleaned:
        raise MoneyError(f"amount {text!r} is empty")
    if "e" in cleaned.lower():
        raise MoneyError(f"amount {text!r} is not a number as written in {locale}")
    decimal_sign = get_decimal_symbol(locale)
    fraction = cleaned.rsplit(decimal_sign, 1)[1] if decimal_sign in cleaned else ""
    if len(fraction) == 3 and fraction.isdigit() and currency.exponent < 3:
        # "12.000" in en or "12,000" in id_ID, for rupiah: the person almost certainly meant
        # twelve thousand written the other way; refuse rather than take twelve.
        raise MoneyError(
            f"amount {text!r} has more decimals than {currency.code} allows "
            f"({currency.exponent}); in {locale} twelve thousand five hundred is written "
            f"{format_amount(12500 * currency.unit, currency, locale)}"
        )
    try:
        value = parse_decimal(sign + cleaned, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation) as exc:
        raise MoneyError(f"amount {text!r} is not a number as written in {locale}") from exc
    if not value.is_finite():
        raise MoneyError(f"amount {text!r} is not a finite number")
    minor = value.scaleb(currency.exponent)
    if minor != minor.to_integral_value():
        raise MoneyError(
            f"amount {text!r} has more decimals than {currency.code} allows ({currency.exponent})"
        )
    return int(minor)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` by largest remainder.

    The parts always add up to `total` exactly. Ties in the remainder go to the earlier part,
    so the split is deterministic. Zero weights get zero unless every weight is zero, in which
    case the total is split evenly. Negative totals are split as the mirror of the positive.
    """
    if not weights:
        if total:
            raise ValueError("cannot allocate a non-zero amount over no parts")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("allocation weights must not be negative")
    if total < 0:
        return [-p for p in allocate(-total, weights)]
    weights = list(weights)
    wsum = sum(weights)
    if wsum == 0:
        weights = [1] * len(weights)
        wsum = len(weights)
    floors = [total * w // wsum for w in weights]
    remainders = [total * w % wsum for w in weights]
    short = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -round_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def round_to_step(amount: int, step: int) -> int:
    """Cash rounding: the nearest multiple of `step`, halves up (Rp50 rounds to Rp100)."""
    if step <= 1:
        return amount
    return round_half_up(amount, step) * step
