import doctest
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retail.tax
from retail.tax import (
    DEFAULT_TAX_CODES,
    EXEMPT,
    PPN,
    PPNBM,
    LineTax,
    TaxCode,
    TaxError,
    TaxSummaryRow,
    line_tax,
    summarize,
)

codes = st.builds(
    TaxCode,
    code=st.sampled_from(["PPN", "LUX", "FREE", "X1", "VAT_STD"]),
    name=st.just("a tax"),
    rate_bp=st.integers(min_value=0, max_value=10000),
    base_num=st.integers(min_value=1, max_value=12),
    base_den=st.just(12),
)
any_code = st.one_of(st.sampled_from(DEFAULT_TAX_CODES), codes)
amounts = st.integers(min_value=0, max_value=10**12)


def test_docstring_examples_hold():
    assert doctest.testmod(retail.tax).failed == 0


# --- published-style examples -----------------------------------------------------------------


def test_ppn_inclusive_dpp_eleven_twelfths():
    # Rp11.100 tax-inclusive: net 10.000, DPP 11/12 of it = 9.166,67 → 9.167, PPN 12% → 1.100.
    assert line_tax(11100, PPN, inclusive=True) == LineTax(
        gross=11100, net=10000, base=9167, tax=1100
    )


def test_ppn_exclusive():
    assert line_tax(10000, PPN, inclusive=False) == LineTax(
        gross=11100, net=10000, base=9167, tax=1100
    )


def test_ppn_is_twelve_percent_of_the_dpp():
    # The published rule: PPN = 12% x DPP, DPP = 11/12 x the selling price (net).
    for net in (12000, 120000, 1_200_000):
        lt = line_tax(net, PPN, inclusive=False)
        assert lt.base == net * 11 // 12
        assert lt.tax == lt.base * 12 // 100


def test_luxury_pays_twelve_percent_on_the_full_price():
    assert line_tax(10000, PPNBM, inclusive=False) == LineTax(
        gross=11200, net=10000, base=10000, tax=1200
    )
    assert line_tax(11200, PPNBM, inclusive=True) == LineTax(
        gross=11200, net=10000, base=10000, tax=1200
    )


@pytest.mark.parametrize("inclusive", [True, False])
def test_exempt_pays_nothing(inclusive):
    assert line_tax(12345, EXEMPT, inclusive=inclusive) == LineTax(
        gross=12345, net=12345, base=12345, tax=0
    )


def test_inclusive_rounds_half_up():
    # 111 x 11/111 = 11 exactly; 5 x 11/111 = 0.495 → 0; 6 x 11/111 = 0.59 → 1.
    assert line_tax(111, PPN).tax == 11
    assert line_tax(5, PPN).tax == 0
    assert line_tax(6, PPN).tax == 1
    # Exclusive: 50 x 11% = 5.5 → 6 (half up), 45 x 11% = 4.95 → 5.
    assert line_tax(50, PPN, inclusive=False).tax == 6
    assert line_tax(45, PPN, inclusive=False).tax == 5


def test_negative_amounts_mirror_positive():
    # A refund line is the mirror of a sale line.
    assert line_tax(-11100, PPN) == LineTax(gross=-11100, net=-10000, base=-9167, tax=-1100)


def test_zero_amount():
    assert line_tax(0, PPN) == LineTax(0, 0, 0, 0)


# --- tax codes --------------------------------------------------------------------------------


def test_default_codes():
    assert [c.code for c in DEFAULT_TAX_CODES] == ["PPN", "LUX", "FREE"]
    assert PPN.effective_rate == Fraction(11, 100)
    assert PPNBM.effective_rate == Fraction(12, 100)
    assert EXEMPT.effective_rate == 0
    assert EXEMPT.exempt and not PPN.exempt and not PPNBM.exempt
    assert PPN.base == Fraction(11, 12)
    assert PPNBM.base == 1


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (PPN, "12% x 11/12"),
        (PPNBM, "12%"),
        (EXEMPT, "0%"),
        (TaxCode("HALF", "x", 1150), "11.5%"),
        (TaxCode("Q", "x", 1125, 1, 2), "11.25% x 1/2"),
    ],
)
def test_rate_text(code, text):
    assert code.rate_text == text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(code=""), "tax code '' must be 1-16 letters, digits or _"),
        (dict(code="A" * 17), f"tax code '{'A' * 17}' must be 1-16 letters, digits or _"),
        (dict(code="PP N"), "tax code 'PP N' must be 1-16 letters, digits or _"),
        (dict(code="PPN-12"), "tax code 'PPN-12' must be 1-16 letters, digits or _"),
        (dict(code="_"), "tax code '_' must be 1-16 letters, digits or _"),
        (dict(rate_bp=-1), "tax code T: rate -1 bp is not in 0..10000"),
        (dict(rate_bp=10001), "tax code T: rate 10001 bp is not in 0..10000"),
        (dict(base_num=0), "tax code T: base 0/12 must be a fraction in (0, 1]"),
        (dict(base_num=13), "tax code T: base 13/12 must be a fraction in (0, 1]"),
        (dict(base_num=-1), "tax code T: base -1/12 must be a fraction in (0, 1]"),
        (dict(base_den=0, base_num=1), "tax code T: base 1/0 must be a fraction in (0, 1]"),
        (dict(base_den=-12, base_num=-11), "tax code T: base -11/-12 must be a fraction in (0, 1]"),
    ],
)
def test_tax_code_validation(kwargs, message):
    args = dict(code="T", name="test", rate_bp=1200, base_num=11, base_den=12) | kwargs
    with pytest.raises(TaxError) as info:
        TaxCode(**args)
    assert str(info.value) == message


def test_tax_code_edges_are_valid():
    TaxCode("A", "one letter", 0)
    TaxCode("A" * 16, "sixteen", 10000)
    TaxCode("VAT_2026", "underscore", 1200, 12, 12)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200)
@given(amount=amounts, code=any_code)
def test_inclusive_gross_is_net_plus_tax(amount, code):
    lt = line_tax(amount, code, inclusive=True)
    assert lt.gross == amount
    assert lt.gross == lt.net + lt.tax
    assert 0 <= lt.tax <= lt.gross
    assert 0 <= lt.base <= lt.net
    # Half-up rounding: within half a unit of the exact tax.
    rate = code.effective_rate
    assert abs(lt.tax - amount * rate / (1 + rate)) <= Fraction(1, 2)


@settings(max_examples=200)
@given(amount=amounts, code=any_code)
def test_exclusive_adds_tax_on_top(amount, code):
    lt = line_tax(amount, code, inclusive=False)
    assert lt.net == amount
    assert lt.gross == lt.net + lt.tax
    assert lt.tax >= 0
    assert abs(lt.tax - amount * code.effective_rate) <= Fraction(1, 2)
    assert abs(lt.base - amount * code.base) <= Fraction(1, 2)


@settings(max_examples=200)
@given(amount=amounts, code=any_code)
def test_exclusive_then_inclusive_gives_back_the_tax(amount, code):
    out = line_tax(amount, code, inclusive=False)
    back = line_tax(out.gross, code, inclusive=True)
    assert back.gross == out.gross
    assert abs(back.tax - out.tax) <= 1
    assert abs(back.net - out.net) <= 1


@settings(max_examples=200)
@given(amount=st.integers(min_value=-(10**12), max_value=10**12), code=any_code)
def test_tax_of_a_refund_mirrors_the_sale(amount, code):
    for inclusive in (True, False):
        pos = line_tax(amount, code, inclusive=inclusive)
        neg = line_tax(-amount, code, inclusive=inclusive)
        assert neg == LineTax(-pos.gross, -pos.net, -pos.base, -pos.tax)


# --- summary ----------------------------------------------------------------------------------


def test_summary_groups_by_code_in_order_of_first_appearance():
    lines = [
        (PPN, line_tax(11100, PPN)),
        (EXEMPT, line_tax(5000, EXEMPT)),
        (PPN, line_tax(22200, PPN)),
        (PPNBM, line_tax(11200, PPNBM)),
    ]
    assert summarize(lines) == [
        TaxSummaryRow("PPN", PPN.name, "12% x 11/12", 30000, 27500, 3300, 33300),
        TaxSummaryRow("FREE", EXEMPT.name, "0%", 5000, 5000, 0, 5000),
        TaxSummaryRow("LUX", PPNBM.name, "12%", 10000, 10000, 1200, 11200),
    ]


def test_summary_of_nothing_is_empty():
    assert summarize([]) == []


def test_summary_sums_the_rounded_line_taxes():
    # Tax is per line and rounded there: three lines of 6 have 1 each (0.59 rounds up), so the
    # summary says 3, not the 2 that taxing the 18 at once would give.
    lines = [(PPN, line_tax(6, PPN)) for _ in range(3)]
    assert summarize(lines)[0].tax == 3
    assert line_tax(18, PPN).tax == 2


@settings(max_examples=150)
@given(
    items=st.lists(
        st.tuples(st.sampled_from(DEFAULT_TAX_CODES), amounts, st.booleans()),
        min_size=1,
        max_size=20,
    )
)
def test_summary_rows_add_up_to_the_lines(items):
    lines = [(code, line_tax(amount, code, inclusive=inc)) for code, amount, inc in items]
    rows = summarize(lines)
    assert len({r.code for r in rows}) == len(rows)
    assert [r.code for r in rows] == list(dict.fromkeys(code.code for code, _ in lines))
    for field in ("net", "base", "tax", "gross"):
        assert sum(getattr(r, field) for r in rows) == sum(getattr(lt, field) for _, lt in lines)
    for row in rows:
        mine = [lt for code, lt in lines if code.code == row.code]
        assert row.tax == sum(lt.tax for lt in mine)
        assert row.gross == sum(lt.gross for lt in mine)
        assert row.gross == row.net + row.tax
