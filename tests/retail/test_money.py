import doctest
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retail.money
from retail.money import (
    IDR,
    Currency,
    MoneyError,
    allocate,
    format_amount,
    format_money,
    parse_money,
    round_half_up,
    round_to_step,
)

USD = Currency("USD", 2, "$")
LOCALES = ("id_ID", "en")
# Up to a trillion major units: far above any till's figure, well inside Decimal's precision.
AMOUNTS = st.integers(min_value=-(10**15), max_value=10**15)


def money_error(text, currency=IDR, locale="id_ID") -> str:
    with pytest.raises(MoneyError) as info:
        parse_money(text, currency, locale)
    return str(info.value)


def test_docstring_examples_hold():
    assert doctest.testmod(retail.money).failed == 0


# --- currency ---------------------------------------------------------------------------------


def test_idr_defaults_to_whole_rupiah():
    assert (IDR.code, IDR.exponent, IDR.symbol, IDR.unit) == ("IDR", 0, "Rp", 1)
    assert USD.unit == 100
    assert Currency("KWD", 3, "KD").unit == 1000


@pytest.mark.parametrize("code", ["idr", "RP", "IDRX", "", "I1R"])
def test_currency_code_must_be_iso_4217(code):
    with pytest.raises(MoneyError, match=rf"currency code '{code}' is not a 3-letter ISO 4217"):
        Currency(code)


@pytest.mark.parametrize("exponent", [-1, 5])
def test_currency_exponent_range(exponent):
    with pytest.raises(MoneyError, match=rf"currency exponent {exponent} is not between 0 and 4"):
        Currency("IDR", exponent)


# --- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        (12500, IDR, "id_ID", "Rp12.500"),
        (12500, IDR, "en", "Rp12,500"),
        (0, IDR, "id_ID", "Rp0"),
        (5, IDR, "id_ID", "Rp5"),
        (-12500, IDR, "id_ID", "-Rp12.500"),
        (999_999_999_999, IDR, "id_ID", "Rp999.999.999.999"),
        (123456789, USD, "en", "$1,234,567.89"),
        (5, USD, "en", "$0.05"),
        (-1250, USD, "en", "-$12.50"),
        (123456789, USD, "id_ID", "$1.234.567,89"),
    ],
)
def test_format_money(amount, currency, locale, text):
    assert format_money(amount, currency, locale) == text


def test_format_never_prints_babels_idr_decimals():
    # Babel's own IDR data has two decimals ("Rp12.500,00"); the store's exponent wins.
    assert "," not in format_money(12500, IDR, "id_ID")
    assert "." not in format_money(12500, IDR, "en")


def test_format_amount_is_the_number_without_the_symbol():
    assert format_amount(12500) == "12.500"
    assert format_amount(-12500, IDR, "en") == "-12,500"
    assert format_amount(1250, USD, "en") == "12.50"


@pytest.mark.parametrize("bad", [12.5, Decimal("12"), "12500", True, None])
def test_format_money_refuses_anything_but_int(bad):
    with pytest.raises(TypeError, match="money must be an int of minor units, not"):
        format_money(bad)


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("12.500", IDR, "id_ID", 12500),
        ("12500", IDR, "id_ID", 12500),
        ("Rp12.500", IDR, "id_ID", 12500),
        ("rp 12.500", IDR, "id_ID", 12500),
        ("IDR 12.500", IDR, "id_ID", 12500),
        ("  12 500 ", IDR, "id_ID", 12500),
        ("12\u00a0500", IDR, "id_ID", 12500),
        ("1.234.567", IDR, "id_ID", 1234567),
        ("12.500,00", IDR, "id_ID", 12500),  # zero decimals are still whole rupiah
        ("-Rp12.500", IDR, "id_ID", -12500),  # the form format_money prints
        ("Rp-12.500", IDR, "id_ID", -12500),
        ("-5", IDR, "id_ID", -5),
        ("12,500", IDR, "en", 12500),
        ("12,500.00", IDR, "en", 12500),
        ("12.5", USD, "en", 1250),
        ("$1,234.56", USD, "en", 123456),
        ("1234.5", USD, "en", 123450),
        ("12,5", USD, "id_ID", 1250),
        ("0", IDR, "en", 0),
    ],
)
def test_parse_money(text, currency, locale, minor):
    assert parse_money(text, currency, locale) == minor


@pytest.mark.parametrize(
    ("text", "currency", "locale", "reason"),
    [
        # Another locale's way of writing the amount is refused, never guessed.
        ("12.50", IDR, "id_ID", "is not a number as written in id_ID"),
        ("12,500.00", IDR, "id_ID", "is not a number as written in id_ID"),
        ("1.23.567", IDR, "id_ID", "is not a number as written in id_ID"),
        ("12.500,00", IDR, "en", "is not a number as written in en"),
        ("12,50", IDR, "en", "is not a number as written in en"),
        ("12.500,00", USD, "en", "is not a number as written in en"),
        # In en, "12.500" is twelve and a half rupiah: not a whole number of rupiah.
        ("12.500", IDR, "en", "has more decimals than IDR allows (0)"),
        ("12.500,50", IDR, "id_ID", "has more decimals than IDR allows (0)"),
        ("0,5", IDR, "id_ID", "has more decimals than IDR allows (0)"),
        ("12.505", USD, "en", "has more decimals than USD allows (2)"),
        ("abc", IDR, "id_ID", "is not a number as written in id_ID"),
        ("12-500", IDR, "id_ID", "is not a number as written in id_ID"),
        ("--5", IDR, "id_ID", "is not a number as written in id_ID"),
        ("-Rp-5", IDR, "id_ID", "is not a number as written in id_ID"),
        ("NaN", IDR, "en", "is not a finite number"),
        ("Infinity", IDR, "en", "is not a finite number"),
        ("", IDR, "id_ID", "is empty"),
        ("   ", IDR, "id_ID", "is empty"),
        ("Rp", IDR, "id_ID", "is empty"),
    ],
)
def test_parse_money_rejects_with_the_amount_and_the_reason(text, currency, locale, reason):
    message = money_error(text, currency, locale)
    assert message.startswith(f"amount {text!r} {reason}")


def test_parse_money_missing():
    assert money_error(None) == "amount is missing"


@settings(max_examples=200)
@given(amount=AMOUNTS, locale=st.sampled_from(LOCALES), currency=st.sampled_from([IDR, USD]))
def test_format_then_parse_round_trips(amount, locale, currency):
    text = format_money(amount, currency, locale)
    assert parse_money(text, currency, locale) == amount
    assert parse_money(format_amount(amount, currency, locale), currency, locale) == amount


@settings(max_examples=200)
@given(amount=st.integers(min_value=1, max_value=10**12))
def test_idr_with_grouping_is_never_read_in_the_other_locale(amount):
    """An id_ID amount with a thousands separator means something else in en, and vice versa:
    each is either refused or read as a different number, never silently the same."""
    for written_in, read_in in (("id_ID", "en"), ("en", "id_ID")):
        text = format_amount(amount, IDR, written_in)
        if amount < 1000:
            assert parse_money(text, IDR, read_in) == amount  # no separator, no ambiguity
            continue
        if amount < 10**6 and amount % 1000 == 0:
            # "12.000" is a valid en number (twelve) and "12,000" a valid id_ID one: not a
            # foreign form the parser can spot. Left to the store's locale setting.
            continue
        with pytest.raises(MoneyError) as info:
            parse_money(text, IDR, read_in)
        assert repr(text) in str(info.value)


@settings(max_examples=100)
@given(amount=st.integers(min_value=1, max_value=10**12))
def test_usd_written_in_en_is_refused_in_id_id(amount):
    text = format_amount(amount, USD, "en")
    if amount >= 100_000:  # has both "," and ".": the locales disagree on both
        with pytest.raises(MoneyError, match=r"amount '.*' (is not a number|has more decimals)"):
            parse_money(text, USD, "id_ID")


# --- allocation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (5, [1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]),
        (10, [0, 3, 0, 7], [0, 3, 0, 7]),
        (10, [0, 0, 0], [4, 3, 3]),
        (0, [5, 5], [0, 0]),
        (0, [], []),
        (1000, [10000, 2500, 2500], [667, 167, 166]),
        (7, [1, 2], [2, 5]),
    ],
)
def test_allocate_examples(total, weights, parts):
    assert allocate(total, weights) == parts


def test_allocate_errors():
    with pytest.raises(ValueError, match="cannot allocate a non-zero amount over no parts"):
        allocate(5, [])
    with pytest.raises(ValueError, match="allocation weights must not be negative"):
        allocate(5, [1, -1])


weights_st = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30)


@settings(max_examples=200)
@given(total=st.integers(min_value=-(10**12), max_value=10**12), weights=weights_st)
def test_allocate_never_loses_or_invents_a_unit(total, weights):
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    assert allocate(total, weights) == parts  # deterministic
    wsum = sum(weights)
    effective = weights if wsum else [1] * len(weights)
    esum = sum(effective)
    for part, w in zip(parts, effective, strict=True):
        exact = Fraction(total * w, esum)
        assert abs(part - exact) < 1  # the floor or the ceiling of its exact share
    if wsum:
        assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)
    # Negative totals are the mirror of the positive.
    assert allocate(-total, weights) == [-p for p in parts]


@settings(max_examples=100)
@given(total=st.integers(min_value=0, max_value=10**6), weights=weights_st)
def test_allocate_largest_remainders_get_the_extra_units(total, weights):
    parts = allocate(total, weights)
    wsum = sum(weights) or len(weights)
    effective = weights if sum(weights) else [1] * len(weights)
    rem = [total * w % wsum for w in effective]
    bumped = [
        i for i, (p, w) in enumerate(zip(parts, effective, strict=True)) if p * wsum > total * w
    ]
    kept = [i for i in range(len(parts)) if i not in bumped]
    # Every part that got an extra unit had a remainder at least as large as any that did not,
    # and an equal remainder only loses to an earlier part.
    for b in bumped:
        for k in kept:
            assert rem[b] > rem[k] or (rem[b] == rem[k] and b < k)


# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1), (-15, 10, -2), (-4, 10, 0), (0, 7, 0)],
)
def test_round_half_up_examples(num, den, expected):
    assert round_half_up(num, den) == expected


@pytest.mark.parametrize("den", [0, -3])
def test_round_half_up_needs_a_positive_denominator(den):
    with pytest.raises(ValueError, match="denominator must be positive"):
        round_half_up(1, den)


@settings(max_examples=200)
@given(
    num=st.integers(min_value=-(10**18), max_value=10**18),
    den=st.integers(min_value=1, max_value=10**9),
)
def test_round_half_up_matches_decimal(num, den):
    with localcontext() as ctx:
        ctx.prec = 80  # exact: the default 28 digits could round before the quantize does
        expected = (Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert round_half_up(num, den) == int(expected)


@pytest.mark.parametrize(
    ("amount", "step", "expected"),
    [
        (12345, 100, 12300),
        (12350, 100, 12400),
        (12349, 100, 12300),
        (50, 100, 100),
        (49, 100, 0),
        (12345, 1, 12345),
        (12345, 0, 12345),
        (12345, 500, 12500),
        (-12350, 100, -12400),
        (12300, 100, 12300),
    ],
)
def test_round_to_step_examples(amount, step, expected):
    assert round_to_step(amount, step) == expected


@settings(max_examples=200)
@given(
    amount=st.integers(min_value=-(10**12), max_value=10**12),
    step=st.sampled_from([2, 5, 10, 25, 50, 100, 500, 1000]),
)
def test_round_to_step_is_the_nearest_multiple(amount, step):
    rounded = round_to_step(amount, step)
    assert rounded % step == 0
    assert abs(rounded - amount) * 2 <= step
    if abs(rounded - amount) * 2 == step:  # a tie goes away from zero
        assert abs(rounded) > abs(amount)
    assert round_to_step(rounded, step) == rounded
