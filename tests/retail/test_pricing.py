import doctest

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import retail.pricing
from retail.money import round_half_up
from retail.pricing import (
    Discount,
    LineInput,
    PricingError,
    Promo,
    Settlement,
    TenderError,
    TenderInput,
    best_promo,
    price_cart,
    refund_share,
    settle,
    unit_shares,
)
from retail.tax import EXEMPT, PPN, PPNBM, line_tax

THREE_FOR_10K = Promo("p3", "3 for Rp10.000", "multibuy", qty=3, price=10000)
B2G1 = Promo("b2g1", "Buy 2 get 1", "bxgy", qty=2, get_qty=1)


def pricing_error(fn, *args, **kwargs) -> str:
    with pytest.raises(PricingError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def tender_error(total, tenders, step=1) -> str:
    with pytest.raises(TenderError) as info:
        settle(total, tenders, step)
    return str(info.value)


def cash(amount):
    return TenderInput("cash", amount)


def card(amount, ref="APPR01"):
    return TenderInput("card", amount, ref)


def qris(amount, ref="QR123"):
    return TenderInput("qris", amount, ref)


def test_docstring_examples_hold():
    assert doctest.testmod(retail.pricing).failed == 0


# --- promotions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "discount"),
    [(1, 0), (2, 0), (3, 3500), (4, 3500), (5, 3500), (6, 7000), (7, 7000), (9, 10500)],
)
def test_multibuy_three_for_10000(qty, discount):
    assert THREE_FOR_10K.discount(4500, qty) == discount
    priced = price_cart([LineInput("a", 4500, qty, tax=PPN, promos=(THREE_FOR_10K,))])
    assert priced.lines[0].promo_discount == discount
    assert priced.total == 4500 * qty - discount
    assert priced.lines[0].promotion == ("3 for Rp10.000" if discount else None)


def test_multibuy_never_raises_the_price():
    # 3 for 10.000 on an item already at 3.000 is no deal: no discount, never a surcharge.
    assert THREE_FOR_10K.discount(3000, 3) == 0
    assert THREE_FOR_10K.discount(3000, 6) == 0


@pytest.mark.parametrize(
    "promo",
    [
        Promo("x", "1 for 1.000", "multibuy", qty=1, price=1000),
        Promo("x", "no price", "multibuy", qty=3),
        Promo("x", "buy 2 get none", "bxgy", qty=2, get_qty=0),
        Promo("x", "buy none get 1", "bxgy", qty=0, get_qty=1),
        Promo("x", "no price", "price"),
        Promo("x", "dearer", "price", price=5000),
        Promo("x", "same", "price", price=4500),
    ],
)
def test_degenerate_promotions_give_nothing(promo):
    assert promo.discount(4500, 10) == 0


@pytest.mark.parametrize(("qty", "free"), [(1, 0), (2, 0), (3, 1), (5, 1), (6, 2), (10, 3)])
def test_buy_two_get_one(qty, free):
    priced = price_cart([LineInput("a", 5000, qty, tax=PPN, promos=(B2G1,))])
    assert priced.lines[0].promo_discount == free * 5000
    assert priced.total == (qty - free) * 5000


def test_time_limited_price():
    promo = Promo("t", "Harga spesial", "price", price=3900)
    priced = price_cart([LineInput("a", 4500, 4, tax=PPN, promos=(promo,))])
    line = priced.lines[0]
    assert (line.gross, line.promo_discount, line.total) == (18000, 2400, 15600)
    assert line.promotion == "Harga spesial"


def test_unknown_promotion_kind_is_an_error():
    promo = Promo("z", "Mystery", "mystery")  # type: ignore[arg-type]
    assert pricing_error(promo.discount, 1000, 1) == "promotion kind 'mystery' is unknown"
    line = LineInput("a", 1000, 1, tax=PPN, promos=(promo,))
    assert pricing_error(price_cart, [line]) == "promotion kind 'mystery' is unknown"


def test_best_promotion_wins():
    cheap = Promo("t", "Harga 3.000", "price", price=3000)  # 3 x 1.500 = 4.500 off
    mild = Promo("m", "Harga 4.000", "price", price=4000)  # 3 x 500 = 1.500 off
    line = LineInput("a", 4500, 3, tax=PPN, promos=(mild, THREE_FOR_10K, cheap))
    assert best_promo(line) == (cheap, 4500)
    line = LineInput("a", 4500, 3, tax=PPN, promos=(mild, THREE_FOR_10K))
    assert best_promo(line) == (THREE_FOR_10K, 3500)
    # A tie keeps the first promotion listed.
    twin = Promo("p3b", "Also 3 for 10.000", "multibuy", qty=3, price=10000)
    line = LineInput("a", 4500, 3, tax=PPN, promos=(THREE_FOR_10K, twin))
    assert best_promo(line) == (THREE_FOR_10K, 3500)
    assert best_promo(LineInput("a", 4500, 3, tax=PPN)) == (None, 0)


# --- weighed and embedded-price lines ---------------------------------------------------------


@pytest.mark.parametrize(
    ("per_kg", "grams", "gross"),
    [
        (89000, 512, 45568),
        (89000, 1000, 89000),
        (1500, 1, 2),  # 1,5 → 2 (half up)
        (1400, 1, 1),  # 1,4 → 1
        (2500, 3, 8),  # 7,5 → 8
        (12345, 333, 4111),  # 4110,885 → 4111
    ],
)
def test_weighed_line_gross_is_price_times_weight_half_up(per_kg, grams, gross):
    line = LineInput("w", per_kg, weight_g=grams, tax=EXEMPT)
    assert line.gross() == gross == round_half_up(per_kg * grams, 1000)
    assert price_cart([line]).lines[0].gross == gross


def test_weighed_and_embedded_price_lines_ignore_promotions():
    promos = (Promo("t", "Harga spesial", "price", price=1000), THREE_FOR_10K)
    weighed = LineInput("w", 89000, weight_g=512, tax=PPN, promos=promos)
    labelled = LineInput("e", 4500, embedded_price=12345, tax=PPN, promos=promos)
    assert best_promo(weighed) == (None, 0)
    assert best_promo(labelled) == (None, 0)
    priced = price_cart([weighed, labelled])
    assert [(p.gross, p.promo_discount, p.promotion) for p in priced.lines] == [
        (45568, 0, None),
        (12345, 0, None),
    ]
    assert priced.total == 45568 + 12345


def test_embedded_price_fixes_the_gross():
    line = LineInput("e", 4500, qty=3, weight_g=250, embedded_price=12345, tax=PPN)
    assert line.gross() == 12345


def test_weighed_lines_still_take_line_and_cart_discounts():
    line = LineInput("w", 89000, weight_g=512, tax=PPN, discount=Discount("percent", 1000))
    priced = price_cart([line], Discount("amount", 568))
    p = priced.lines[0]
    assert (p.gross, p.line_discount, p.cart_discount, p.total) == (45568, 4557, 568, 40443)


# --- discounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("discount", "amount", "off"),
    [
        (Discount("percent", 1000), 10000, 1000),
        (Discount("percent", 1000), 12345, 1235),  # 1234,5 → 1235
        (Discount("percent", 1250), 999, 125),  # 124,875 → 125
        (Discount("percent", 10000), 12345, 12345),
        (Discount("percent", 0), 12345, 0),
        (Discount("amount", 2000), 10000, 2000),
        (Discount("amount", 20000), 10000, 10000),  # never more than the line
        (Discount("amount", 0), 10000, 0),
    ],
)
def test_discount_of(discount, amount, off):
    assert discount.of(amount) == off


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kind="free", value=1), "discount kind 'free' is not percent or amount"),
        (dict(kind="amount", value=-1), "a discount cannot be negative"),
        (dict(kind="percent", value=-1), "a discount cannot be negative"),
        (dict(kind="percent", value=10001), "a percent discount cannot exceed 100%"),
    ],
)
def test_discount_validation(kwargs, message):
    assert pricing_error(Discount, **kwargs) == message


def test_discount_describe():
    assert Discount("percent", 1000).describe() == "10%"
    assert Discount("percent", 1250).describe("Diskon {}%") == "Diskon 12.5%"
    assert Discount("amount", 500).describe() == ""
    assert Discount("amount", 500, "Member").describe() == "Member"


def test_line_percent_discount_applies_after_the_promotion():
    line = LineInput(
        "a", 4500, 3, tax=PPN, promos=(THREE_FOR_10K,), discount=Discount("percent", 1000)
    )
    p = price_cart([line]).lines[0]
    assert (p.gross, p.promo_discount, p.line_discount, p.total) == (13500, 3500, 1000, 9000)
    assert p.discount == 4500


def test_line_amount_discount():
    line = LineInput("a", 10000, 2, tax=PPN, discount=Discount("amount", 2500))
    p = price_cart([line]).lines[0]
    assert (p.gross, p.line_discount, p.total) == (20000, 2500, 17500)
    assert p.tax == line_tax(17500, PPN)


def test_cart_discount_is_split_by_largest_remainder():
    lines = [
        LineInput("a", 10000, tax=PPN),
        LineInput("b", 10000, tax=PPN),
        LineInput("c", 10000, tax=EXEMPT),
    ]
    priced = price_cart(lines, Discount("amount", 1000))
    assert [p.cart_discount for p in priced.lines] == [334, 333, 333]
    assert priced.cart_discount == 1000
    assert [p.total for p in priced.lines] == [9666, 9667, 9667]
    # Tax is on what is left of each line after its share.
    assert [p.tax.tax for p in priced.lines] == [958, 958, 0]
    assert priced.tax_total == 1916


def test_cart_percent_discount_is_on_what_is_left_after_line_discounts():
    lines = [
        LineInput("a", 4500, 3, tax=PPN, promos=(THREE_FOR_10K,)),  # 10.000 after promo
        LineInput("b", 20000, tax=PPNBM, discount=Discount("amount", 5000)),  # 15.000
        LineInput("c", 7001, tax=EXEMPT),
    ]
    priced = price_cart(lines, Discount("percent", 1000, "Member 10%"))
    assert priced.cart_discount == round_half_up(32001 * 1000, 10000) == 3200
    assert sum(p.cart_discount for p in priced.lines) == 3200
    assert [p.cart_discount for p in priced.lines] == [1000, 1500, 700]
    assert priced.subtotal == 13500 + 20000 + 7001
    assert priced.promo_discount == 3500
    assert priced.line_discount == 5000
    assert priced.total == 32001 - 3200
    assert priced.discount_total == priced.subtotal - priced.total


def test_cart_amount_discount_above_the_cart_is_capped():
    priced = price_cart([LineInput("a", 1000, tax=PPN)], Discount("amount", 5000))
    assert priced.cart_discount == 1000
    assert priced.total == 0
    assert priced.lines[0].tax.tax == 0


def test_tax_summary_of_the_cart():
    lines = [
        LineInput("a", 11100, tax=PPN),
        LineInput("b", 5000, tax=EXEMPT),
        LineInput("c", 22200, tax=PPN),
    ]
    priced = price_cart(lines)
    assert [(t.code, t.tax, t.gross, t.base) for t in priced.taxes] == [
        ("PPN", 3300, 33300, 27500),
        ("FREE", 0, 5000, 5000),
    ]
    assert priced.tax_total == 3300


def test_tax_exclusive_prices_add_tax_to_the_total():
    lines = [LineInput("a", 10000, tax=PPN), LineInput("b", 10000, 2, tax=PPNBM)]
    priced = price_cart(lines, inclusive=False)
    assert [p.total for p in priced.lines] == [11100, 22400]
    assert priced.total == 33500
    assert priced.tax_total == 3500
    assert priced.total == priced.subtotal - priced.discount_total + priced.tax_total


def test_empty_cart():
    priced = price_cart([], Discount("amount", 500))
    assert (priced.total, priced.subtotal, priced.cart_discount, priced.lines) == (0, 0, 0, ())


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (LineInput("milk", 1000), "line milk: no tax code"),
        (LineInput("milk", -1, tax=PPN), "line milk: price cannot be negative"),
        (LineInput("milk", 1000, 0, tax=PPN), "line milk: quantity must be at least 1"),
        (LineInput("milk", 1000, -2, tax=PPN), "line milk: quantity must be at least 1"),
    ],
)
def test_price_cart_rejects_bad_lines(line, message):
    good = LineInput("bread", 1000, tax=PPN)
    assert pricing_error(price_cart, [good, line]) == message


promos_st = st.lists(
    st.one_of(
        st.builds(
            Promo,
            id=st.just("m"),
            name=st.just("multibuy"),
            kind=st.just("multibuy"),
            qty=st.integers(0, 5),
            price=st.one_of(st.none(), st.integers(0, 50000)),
        ),
        st.builds(
            Promo,
            id=st.just("b"),
            name=st.just("bxgy"),
            kind=st.just("bxgy"),
            qty=st.integers(0, 4),
            get_qty=st.integers(0, 3),
        ),
        st.builds(
            Promo,
            id=st.just("p"),
            name=st.just("price"),
            kind=st.just("price"),
            price=st.one_of(st.none(), st.integers(0, 50000)),
        ),
    ),
    max_size=3,
).map(tuple)

discount_st = st.one_of(
    st.none(),
    st.builds(Discount, kind=st.just("percent"), value=st.integers(0, 10000)),
    st.builds(Discount, kind=st.just("amount"), value=st.integers(0, 100000)),
)

line_st = st.one_of(
    st.builds(
        LineInput,
        key=st.just("each"),
        unit_price=st.integers(0, 500000),
        qty=st.integers(1, 24),
        tax=st.sampled_from([PPN, PPNBM, EXEMPT]),
        promos=promos_st,
        discount=discount_st,
    ),
    st.builds(
        LineInput,
        key=st.just("kg"),
        unit_price=st.integers(0, 500000),
        weight_g=st.integers(1, 20000),
        tax=st.sampled_from([PPN, PPNBM, EXEMPT]),
        promos=promos_st,
        discount=discount_st,
    ),
    st.builds(
        LineInput,
        key=st.just("label"),
        unit_price=st.integers(0, 500000),
        embedded_price=st.integers(0, 500000),
        tax=st.sampled_from([PPN, PPNBM, EXEMPT]),
        promos=promos_st,
        discount=discount_st,
    ),
)


@settings(max_examples=150)
@given(lines=st.lists(line_st, max_size=12), cart_discount=discount_st)
def test_price_cart_is_consistent(lines, cart_discount):
    priced = price_cart(lines, cart_discount)
    assert len(priced.lines) == len(lines)
    assert priced.subtotal == sum(p.gross for p in priced.lines)
    assert priced.total == sum(p.total for p in priced.lines)
    assert priced.tax_total == sum(p.tax.tax for p in priced.lines)
    assert priced.tax_total == sum(t.tax for t in priced.taxes)
    assert priced.promo_discount == sum(p.promo_discount for p in priced.lines)
    assert priced.line_discount == sum(p.line_discount for p in priced.lines)
    # The cart discount is split to the unit: the lines' shares add up to it exactly.
    assert sum(p.cart_discount for p in priced.lines) == priced.cart_discount
    assert priced.discount_total == priced.subtotal - priced.total
    for line, p in zip(lines, priced.lines, strict=True):
        assert p.key == line.key
        assert 0 <= p.promo_discount <= p.gross
        assert p.line_discount >= 0 and p.cart_discount >= 0
        assert p.total == p.gross - p.discount >= 0
        assert p.tax == line_tax(p.total, line.tax, inclusive=True)
        if line.weight_g is not None or line.embedded_price is not None:
            assert p.promo_discount == 0 and p.promotion is None


@settings(max_examples=100)
@given(lines=st.lists(line_st, min_size=1, max_size=12), cart_discount=discount_st)
def test_price_cart_exclusive_is_consistent(lines, cart_discount):
    inc = price_cart(lines, cart_discount)
    exc = price_cart(lines, cart_discount, inclusive=False)
    assert exc.subtotal == inc.subtotal
    assert exc.discount_total == inc.discount_total
    assert exc.total == exc.subtotal - exc.discount_total + exc.tax_total
    assert exc.total == sum(p.total for p in exc.lines)
    for p in exc.lines:
        assert p.total == p.gross - p.discount + p.tax.tax


@settings(max_examples=200)
@given(
    weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=15),
    off=st.integers(0, 10**8),
)
def test_cart_discount_shares_are_proportional_and_exact(weights, off):
    lines = [LineInput(str(i), w, tax=PPN) for i, w in enumerate(weights)]
    priced = price_cart(lines, Discount("amount", off))
    assert priced.cart_discount == min(off, sum(weights))
    shares = [p.cart_discount for p in priced.lines]
    assert sum(shares) == priced.cart_discount
    total = sum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert share <= w
        if total:
            assert abs(share * total - priced.cart_discount * w) < total


# --- settling ---------------------------------------------------------------------------------


def test_cash_rounds_down_to_rp100_as_its_own_figure():
    s = settle(12345, [cash(20000)], 100)
    assert s == Settlement(
        rounding=-45,
        due=12300,
        cash_due=12300,
        cash_tendered=20000,
        change=7700,
        payments=(("cash", 12300, None),),
    )


def test_cash_rounds_half_up_to_rp100():
    s = settle(12350, [cash(12400)], 100)
    assert (s.rounding, s.due, s.cash_due, s.change) == (50, 12400, 12400, 0)


def test_cash_without_a_rounding_step():
    s = settle(12345, [cash(12345)])
    assert (s.rounding, s.due, s.change) == (0, 12345, 0)


def test_several_cash_tenders_make_one_cash_payment():
    s = settle(12300, [cash(10000), cash(5000)], 100)
    assert (s.cash_tendered, s.change, s.payments) == (15000, 2700, (("cash", 12300, None),))


def test_split_card_and_cash_rounds_only_the_cash_part():
    s = settle(12345, [card(5000, "A1"), cash(10000)], 100)
    assert s == Settlement(
        rounding=-45,
        due=12300,
        cash_due=7300,
        cash_tendered=10000,
        change=2700,
        payments=(("card", 5000, "A1"), ("cash", 7300, None)),
    )


def test_qris_settles_exactly_without_rounding():
    s = settle(12345, [qris(12345, "QR9")], 100)
    assert s == Settlement(
        rounding=0, due=12345, cash_due=0, cash_tendered=0, change=0,
        payments=(("qris", 12345, "QR9"),),
    )  # fmt: skip


def test_card_and_qris_together():
    s = settle(30000, [card(10000), qris(20000)], 100)
    assert [p[:2] for p in s.payments] == [("card", 10000), ("qris", 20000)]
    assert (s.rounding, s.change) == (0, 0)


@pytest.mark.parametrize(
    ("total", "tenders", "step", "message"),
    [
        (12345, [cash(10000)], 100, "cash 10000 is less than the 12300 due"),
        (12350, [cash(12350)], 100, "cash 12350 is less than the 12400 due"),
        (12345, [cash(5000), cash(5000)], 1, "cash 10000 is less than the 12345 due"),
        (
            12345,
            [card(20000)],
            100,
            "card amount 20000 is more than the 12345 still due; card and QRIS cannot give change",
        ),
        (
            12345,
            [card(10000), qris(5000)],
            1,
            "qris amount 5000 is more than the 2345 still due; card and QRIS cannot give change",
        ),
        (12345, [card(12345), cash(1000)], 100, "nothing is left to pay in cash"),
        (12345, [card(10000)], 100, "2345 is still due"),
        (12345, [], 100, "no payment given"),
        (12345, [cash(0)], 100, "cash amount must be above zero"),
        (12345, [card(-5)], 100, "card amount must be above zero"),
        (12345, [card(12345), qris(0)], 100, "qris amount must be above zero"),
        (-1, [cash(100)], 100, "a sale total cannot be negative"),
    ],
)
def test_settle_errors(total, tenders, step, message):
    assert tender_error(total, tenders, step) == message


tender_amounts = st.integers(1, 10**7)


@settings(max_examples=200)
@example(total=1000, external=[("card", 970)], extra_cash=[], step=100)  # Rp30 rounds away
@given(
    total=st.integers(0, 10**8),
    external=st.lists(st.tuples(st.sampled_from(["card", "qris"]), tender_amounts), max_size=3),
    extra_cash=st.lists(st.integers(0, 10**6), max_size=3),
    step=st.sampled_from([1, 50, 100, 500, 1000]),
)
def test_settle_properties(total, external, extra_cash, step):
    tenders = [TenderInput(kind, amount, "REF") for kind, amount in external]
    if sum(a for _, a in external) > total:
        with pytest.raises(TenderError, match="cannot give change"):
            settle(total, tenders, step)
        return
    remaining = total - sum(a for _, a in external)
    cash_due = round_half_up(remaining, step) * step if step > 1 else remaining
    if extra_cash:
        # Cash handed over covers what is due, spread over one or more tenders.
        tenders += [cash(cash_due // len(extra_cash) + 1 + x) for x in extra_cash]
    if not tenders:
        return
    if remaining == 0 and extra_cash:
        with pytest.raises(TenderError, match="nothing is left to pay in cash"):
            settle(total, tenders, step)
        return
    if cash_due and not extra_cash:
        with pytest.raises(TenderError, match=f"^{remaining} is still due$"):
            settle(total, tenders, step)
        return
    s = settle(total, tenders, step)
    assert s.due == total + s.rounding
    assert sum(amount for _, amount, _ in s.payments) == s.due
    assert s.cash_due == cash_due
    assert s.change == s.cash_tendered - s.cash_due >= 0
    assert abs(s.rounding) * 2 <= step
    # what is left for cash rounds to the step; a rest that rounds to nothing is not due
    assert s.rounding == cash_due - remaining
    assert s.cash_due % step == 0


# --- refunds ----------------------------------------------------------------------------------


def test_unit_shares_examples():
    assert unit_shares(10000, 3) == [3334, 3333, 3333]
    assert unit_shares(9000, 3) == [3000, 3000, 3000]
    assert unit_shares(2, 3) == [1, 1, 0]
    assert unit_shares(-10000, 3) == [-3334, -3333, -3333]


def test_refund_share_examples():
    # 3 for Rp10.000 and one unit refunded at a time: 3.334 + 3.333 + 3.333 = 10.000.
    assert [refund_share(10000, 3, i, 1) for i in range(3)] == [3334, 3333, 3333]
    assert refund_share(10000, 3, 0, 3) == 10000
    assert refund_share(10000, 3, 1, 2) == 6666


@pytest.mark.parametrize(
    ("qty", "already", "now", "message"),
    [
        (3, 2, 2, "cannot refund 2 of 3 with 2 already refunded"),
        (3, 0, 4, "cannot refund 4 of 3 with 0 already refunded"),
        (3, 3, 1, "cannot refund 1 of 3 with 3 already refunded"),
        (3, 0, 0, "cannot refund 0 of 3 with 0 already refunded"),
        (3, -1, 1, "cannot refund 1 of 3 with -1 already refunded"),
    ],
)
def test_refund_share_never_more_than_was_sold(qty, already, now, message):
    assert pricing_error(refund_share, 10000, qty, already, now) == message


@settings(max_examples=200)
@given(
    line_total=st.integers(-(10**9), 10**9),
    qty=st.integers(1, 60),
    data=st.data(),
)
def test_partial_refunds_add_up_to_the_line(line_total, qty, data):
    shares = unit_shares(line_total, qty)
    assert sum(shares) == line_total
    assert max(shares) - min(shares) <= 1
    refunded, given_back = 0, 0
    while refunded < qty:
        now = data.draw(st.integers(1, qty - refunded), label="now")
        part = refund_share(line_total, qty, refunded, now)
        assert abs(part - line_total * now / qty) < now + 1
        given_back += part
        refunded += now
    assert given_back == line_total
    with pytest.raises(PricingError, match=f"cannot refund 1 of {qty} with {qty} already"):
        refund_share(line_total, qty, qty, 1)


@settings(max_examples=100)
@given(lines=st.lists(line_st, min_size=1, max_size=6), cart_discount=discount_st, data=st.data())
def test_refunding_every_unit_gives_back_the_sale_and_its_tax(lines, cart_discount, data):
    priced = price_cart(lines, cart_discount)
    money, tax = 0, 0
    for line, p in zip(lines, priced.lines, strict=True):
        qty = 1 if line.weight_g is not None or line.embedded_price is not None else line.qty
        done = 0
        while done < qty:
            now = data.draw(st.integers(1, qty - done))
            money += refund_share(p.total, qty, done, now)
            tax += refund_share(p.tax.tax, qty, done, now)
            done += now
    assert money == priced.total
    assert tax == priced.tax_total
