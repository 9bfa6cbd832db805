import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import retail.barcodes
from retail.barcodes import (
    DEFAULT_LAYOUTS,
    BarcodeError,
    ParsedCode,
    VariableMeasureLayout,
    check_digit,
    compress_upca,
    expand_upce,
    is_valid,
    layout_from_config,
    layouts_from_config,
    make_variable,
    normalize,
    parse,
    price_check_digit,
    validate,
)

DIGITS = "0123456789"


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(BarcodeError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def value_error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def with_check(body: str) -> str:
    return body + str(check_digit(body))


def test_docstring_examples_hold():
    assert doctest.testmod(retail.barcodes).failed == 0


# --- published examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "symbology", "key"),
    [
        ("4006381333931", "ean13", "4006381333931"),
        ("5901234123457", "ean13", "5901234123457"),
        ("036000291452", "upca", "0036000291452"),
        ("96385074", "ean8", "96385074"),
        ("04252614", "upce", "0042100005264"),
        ("01234565", "upce", "0012345000065"),
        ("04006381333931", "gtin14", "4006381333931"),
        ("14006381333938", "gtin14", "14006381333938"),
    ],
)
def test_published_codes_validate_and_normalise(code, symbology, key):
    assert validate(code) == symbology
    assert is_valid(code)
    assert normalize(code) == key
    assert parse(code) == ParsedCode(raw=code, kind="gtin", gtin=key)


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("04252614", "042100005264"),  # last digit 0–2
        ("01234565", "012345000065"),  # last digit 5–9
        ("06543217", "065100004327"),  # last digit 0–2
        ("01234531", "012300000451"),  # last digit 3
        ("01234543", "012340000053"),  # last digit 4
    ],
)
def test_upce_expands_by_each_rule(upce, upca):
    assert expand_upce(upce) == upca
    assert validate(upca) == "upca"
    assert compress_upca(upca) == upce


def test_check_digit_of_published_bodies():
    assert check_digit("400638133393") == 1
    assert check_digit("03600029145") == 2
    assert check_digit("9638507") == 4


def test_price_check_digit_matches_gs1_examples():
    assert price_check_digit("2875") == 9
    assert price_check_digit("14685") == 6


# --- error messages ----------------------------------------------------------------------


def test_wrong_check_digit_says_which_is_right():
    assert error_of(validate, "4006381333937") == "check digit should be 1, got 7"
    assert error_of(normalize, "036000291459") == "check digit should be 2, got 9"
    assert error_of(parse, "4006381333937") == "check digit should be 1, got 7"


def test_bad_lengths_and_characters_are_named():
    assert error_of(validate, "40063813339") == "length 11 is not a GTIN length (8, 12, 13 or 14)"
    assert error_of(validate, "400A381333931") == "contains non-digit 'A' at position 4"
    assert error_of(validate, "") == "empty code"
    assert error_of(check_digit, "") == "empty code"
    assert error_of(check_digit, "12x") == "contains non-digit 'x' at position 3"
    assert error_of(validate, "40063\x0013") == "contains control character \\x00 at position 6"


def test_upce_errors():
    assert error_of(expand_upce, "24252614") == "UPC-E must start with 0 or 1"
    assert error_of(expand_upce, "04252617") == "check digit should be 4, got 7"
    assert error_of(expand_upce, "0425261") == "UPC-E must be 8 digits, got 7"
    assert error_of(compress_upca, "04210000526") == "UPC-A must be 12 digits, got 11"
    assert error_of(compress_upca, "042100005260") == "check digit should be 4, got 0"


def test_eight_digits_starting_0_or_1_fail_only_when_neither_reading_fits():
    # 0425261: UPC-E check 4, EAN-8 check 0.
    assert validate("04252610") == "ean8"
    assert error_of(validate, "04252617") == (
        "check digit should be 4 (as UPC-E) or 0 (as EAN-8), got 7"
    )
    # 0123456: both readings want 5.
    assert error_of(validate, "01234566") == "check digit should be 5, got 6"


def test_price_check_digit_needs_four_or_five_digits():
    assert error_of(price_check_digit, "123") == "a price check digit needs 4 or 5 digits, got 3"
    assert error_of(price_check_digit, "12a45") == "contains non-digit 'a' at position 3"


def test_non_strings_are_type_errors():
    with pytest.raises(TypeError, match="a barcode is a str, got int"):
        parse(4006381333931)
    with pytest.raises(TypeError, match="got NoneType"):
        normalize(None)
    assert not is_valid(None)
    assert not is_valid("4006381333937")


# --- normalisation -----------------------------------------------------------------------


def test_padded_gtin8_goes_back_to_eight_digits():
    assert normalize("0000096385074") == "96385074"
    assert normalize("000096385074") == "96385074"
    assert normalize("00000096385074") == "96385074"


def test_padded_gtin8_that_reads_as_upce_keeps_its_long_form():
    # "01234565" read alone is UPC-E, so its padded EAN-8 form must not shrink to it.
    assert normalize("0000001234565") == "0000001234565"
    assert normalize("00000001234565") == "0000001234565"


gtin_bodies = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet=DIGITS, min_size=n, max_size=n)
)
upce_codes = st.builds(
    lambda ns, d: ns + d, st.sampled_from("01"), st.text(alphabet=DIGITS, min_size=6, max_size=6)
).map(lambda s: s + str(check_digit(retail.barcodes._upce_to_upca_body(s + "0"))))


@given(gtin_bodies)
def test_normalize_is_idempotent(body):
    code = with_check(body)
    key = normalize(code)
    assert normalize(key) == key
    assert len(key) in (8, 13, 14)


@given(st.text(alphabet=DIGITS, min_size=11, max_size=11))
def test_upca_key_is_its_ean13_form(body):
    upca = with_check(body)
    key = normalize(upca)
    if upca.startswith("0000"):  # GS1 prefix 00000: a padded GTIN-8
        assert key in (upca[4:], "0" + upca)
    else:
        assert key == "0" + upca
    assert normalize("0" + upca) == key
    assert normalize("00" + upca) == key


@given(upce_codes)
def test_upce_key_is_the_key_of_its_expansion(upce):
    assert validate(upce) == "upce"
    assert normalize(upce) == normalize(expand_upce(upce))


# --- check digit properties --------------------------------------------------------------


@given(st.text(alphabet=DIGITS, min_size=1, max_size=17))
def test_body_plus_its_check_digit_always_checks(body):
    code = with_check(body)
    assert check_digit(code[:-1]) == int(code[-1])


@given(gtin_bodies, st.data())
def test_any_single_digit_change_is_caught(body, data):
    code = with_check(body)
    pos = data.draw(st.integers(0, len(code) - 1))
    new = data.draw(st.sampled_from([d for d in DIGITS if d != code[pos]]))
    changed = code[:pos] + new + code[pos + 1 :]
    assert check_digit(changed[:-1]) != int(changed[-1])
    if len(code) > 8:
        assert error_of(validate, changed).startswith("check digit should be ")


@given(upce_codes, st.data())
def test_any_single_digit_change_of_a_upce_is_caught_except_its_rule_digit(upce, data):
    # Every digit but the 7th lands on exactly one UPC-A position, where mod-10 sees it.
    pos = data.draw(st.sampled_from([0, 1, 2, 3, 4, 5, 7]))
    new = data.draw(st.sampled_from([d for d in DIGITS if d != upce[pos]]))
    changed = upce[:pos] + new + upce[pos + 1 :]
    with pytest.raises(BarcodeError):
        expand_upce(changed)


def test_upce_rule_digit_can_alias_another_upce_of_the_same_product():
    # The 7th digit picks the expansion rule, so it moves digits rather than changing one:
    # these two spellings (only the first is GS1's) expand to the same UPC-A and key.
    assert expand_upce("00000000") == expand_upce("00000030") == "000000000000"
    assert normalize("00000030") == normalize("00000000")


# --- UPC-E round trips -------------------------------------------------------------------


def is_canonical_upce(upce: str) -> bool:
    """Whether GS1's compression of this code's expansion gives this code back."""
    d = upce[1:7]
    if d[5] in "012":
        return True
    if d[5] == "3":
        return d[2] in "3456789"
    if d[5] == "4":
        return d[3] != "0"
    return d[4] != "0"


@given(upce_codes)
def test_upce_expansion_round_trips_where_defined(upce):
    upca = expand_upce(upce)
    assert validate(upca) == "upca"
    back = compress_upca(upca)
    assert back is not None
    assert expand_upce(back) == upca
    assert (back == upce) == is_canonical_upce(upce)


@given(st.text(alphabet=DIGITS, min_size=11, max_size=11))
def test_compressing_any_upca_expands_back(body):
    upca = with_check(body)
    upce = compress_upca(upca)
    if upce is not None:
        assert expand_upce(upce) == upca
    else:
        assert upca[0] not in "01" or upca[6:10] != "0000"


def test_upca_with_no_upce_form():
    assert compress_upca("036000291452") is None
    assert compress_upca(with_check("21234500006")) is None  # number system 2


# --- parse: kinds and decisions ----------------------------------------------------------


def test_parse_strips_surrounding_whitespace_only():
    assert parse(" 4006381333931\r\n").raw == "4006381333931"
    assert parse("\t96385074 ").gtin == "96385074"
    assert error_of(parse, "4006381333931\x1d") == (
        "contains control character \\x1d at position 14"
    )
    assert error_of(parse, "SKU\t42") == "contains control character \\x09 at position 4"
    assert error_of(parse, "KOPI-\x7f") == "contains control character \\x7f at position 6"


def test_parse_rejects_empty_and_non_ascii():
    assert error_of(parse, "") == "empty code"
    assert error_of(parse, " \r\n") == "empty code"
    assert error_of(parse, "KOPI-é") == "contains non-ASCII character 'é' (U+00E9) at position 6"


@pytest.mark.parametrize(
    "code", ["SKU-ABC-001", "T01-000123", "TRN-T01-000007", "42", "12345", "0" * 15, "X" * 48]
)
def test_non_gtins_are_internal(code):
    assert parse(code) == ParsedCode(raw=code, kind="internal")


@pytest.mark.parametrize("n", [6, 7, 9, 10, 11])
def test_digit_strings_of_non_gtin_length_are_errors(n):
    assert error_of(parse, "1" * n) == f"length {n} is not a GTIN length (8, 12, 13 or 14)"


def test_overlong_codes_are_errors():
    assert error_of(parse, "X" * 49) == ("length 49 is too long for a code (at most 48 characters)")
    assert error_of(parse, "1" * 49) == ("length 49 is too long for a code (at most 48 characters)")


def test_default_weight_and_price_layouts():
    assert parse("2000042012502") == ParsedCode(
        raw="2000042012502", kind="variable", plu="00042", weight_g=1250
    )
    assert parse("2300042012503") == ParsedCode(
        raw="2300042012503", kind="variable", plu="00042", price=1250
    )


def test_variable_code_with_wrong_ean_check_is_an_error():
    assert error_of(parse, "2000042012505") == "check digit should be 2, got 5"


def test_unconfigured_in_store_prefix_is_a_plain_gtin():
    code = with_check("240004201250")
    assert parse(code) == ParsedCode(raw=code, kind="gtin", gtin=code)


def test_first_matching_layout_wins_and_layouts_are_replaceable():
    price20 = VariableMeasureLayout(
        prefixes=frozenset({"20"}),
        kind="price",
        item_start=3,
        item_length=5,
        value_start=8,
        value_length=5,
    )
    assert parse("2000042012502", layouts=[price20, *DEFAULT_LAYOUTS]).price == 1250
    assert parse("2000042012502", layouts=()).kind == "gtin"


def test_price_check_digit_is_validated_when_the_layout_has_one():
    layout = VariableMeasureLayout(
        prefixes=frozenset({"24"}),
        kind="price",
        item_start=3,
        item_length=4,
        value_start=8,
        value_length=5,
        price_check_pos=7,
    )
    code = make_variable(layout, "1234", 14685)
    assert code[6] == "6"
    assert parse(code, [layout]).price == 14685
    forged = with_check(code[:6] + "1" + code[7:12])
    assert error_of(parse, forged, [layout]) == (
        "price check digit at position 7 should be 6, got 1"
    )


def test_upca_number_system_2_labels_can_be_configured():
    layout = layout_from_config(
        {
            "prefixes": ["02"],
            "kind": "price",
            "item_start": 3,
            "item_length": 5,
            "value_start": 8,
            "value_length": 5,
        }
    )
    code13 = make_variable(layout, "4011", 899)
    upca = code13[1:]
    assert parse(upca, [layout]) == ParsedCode(raw=upca, kind="variable", plu="04011", price=899)


# --- variable-measure round trips --------------------------------------------------------

ROUND_TRIP_LAYOUTS = (
    *DEFAULT_LAYOUTS,
    VariableMeasureLayout(frozenset({"24"}), "price", 3, 4, 8, 5, price_check_pos=7),
    VariableMeasureLayout(frozenset({"25"}), "price", 3, 5, 9, 4, price_check_pos=8),
    VariableMeasureLayout(frozenset({"26"}), "price", 3, 4, 7, 6, decimals=-2),
    VariableMeasureLayout(frozenset({"27", "28"}), "weight", 3, 6, 9, 4, weight_unit_g=10),
    VariableMeasureLayout(frozenset({"02"}), "weight", 3, 5, 8, 5),
)


@st.composite
def variable_cases(draw):
    layout = draw(st.sampled_from(ROUND_TRIP_LAYOUTS))
    prefix = draw(st.sampled_from(sorted(layout.prefixes)))
    plu = draw(st.text(alphabet=DIGITS, min_size=1, max_size=layout.item_length))
    step = 10**-layout.decimals if layout.kind == "price" else layout.weight_unit_g
    value = draw(st.integers(0, 10**layout.value_length - 1)) * step
    return layout, prefix, plu, value


@given(variable_cases())
def test_variable_codes_round_trip(case):
    layout, prefix, plu, value = case
    code = make_variable(layout, plu, value, prefix=prefix)
    assert len(code) == 13
    assert code.startswith(prefix)
    assert validate(code) == "ean13"
    parsed = parse(code, ROUND_TRIP_LAYOUTS)
    assert parsed.kind == "variable"
    assert parsed.gtin is None
    assert parsed.plu == plu.zfill(layout.item_length)
    if layout.kind == "price":
        assert (parsed.price, parsed.weight_g) == (value, None)
    else:
        assert (parsed.price, parsed.weight_g) == (None, value)


def test_make_variable_rejects_what_does_not_fit():
    weight, price = DEFAULT_LAYOUTS
    hundreds = VariableMeasureLayout(frozenset({"26"}), "price", 3, 4, 7, 6, decimals=-2)
    assert value_error_of(make_variable, weight, "123456", 10) == (
        "plu: '123456' is longer than the layout's 5 digits"
    )
    assert value_error_of(make_variable, weight, "12a", 10) == (
        "plu: must be a string of digits, got '12a'"
    )
    assert (
        value_error_of(make_variable, weight, 42, 10) == "plu: must be a string of digits, got 42"
    )
    assert value_error_of(make_variable, weight, "42", 100_000) == (
        "weight: 100000 does not fit the layout's 5-digit field"
    )
    assert value_error_of(make_variable, price, "42", -1) == "price: must not be negative, got -1"
    assert value_error_of(make_variable, price, "42", 1.5) == "price: must be an int, got 1.5"
    assert value_error_of(make_variable, hundreds, "42", 12_345) == (
        "price: 12345 is not a multiple of the layout's step 100"
    )
    assert value_error_of(make_variable, price, "42", 10, prefix="20") == (
        "prefix: '20' is not one of the layout's ['22', '23']"
    )


# --- layouts from config -----------------------------------------------------------------

GOOD_CONFIG = {
    "prefixes": ["24", "25"],
    "kind": "price",
    "item_start": 3,
    "item_length": 4,
    "price_check_pos": 7,
    "value_start": 8,
    "value_length": 5,
}


def test_layout_from_config_builds_a_layout():
    layout = layout_from_config(GOOD_CONFIG)
    assert layout == VariableMeasureLayout(
        prefixes=frozenset({"24", "25"}),
        kind="price",
        item_start=3,
        item_length=4,
        value_start=8,
        value_length=5,
        price_check_pos=7,
    )
    assert layout_from_config({**GOOD_CONFIG, "prefixes": [24]}).prefixes == frozenset({"24"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown key 'colour' (known keys: prefixes, kind, item_start, "),
        ({"kind": None}, "kind: must be 'price' or 'weight', got None"),
        ({"kind": "volume"}, "kind: must be 'price' or 'weight', got 'volume'"),
        ({"prefixes": "24"}, "prefixes: must be a list of 2-digit strings, got '24'"),
        ({"prefixes": []}, "prefixes: must name at least one 2-digit prefix"),
        ({"prefixes": ["50"]}, "prefixes: '50' is not a GS1 in-store prefix (20–29, or 02/04"),
        ({"prefixes": [2]}, 'prefixes: 2 must be written as a string, e.g. "20"'),
        ({"item_start": "3"}, "item_start: must be an integer, got '3'"),
        ({"value_length": True}, "value_length: must be an integer, got True"),
        ({"item_length": 0}, "item_length: must be at least 1, got 0"),
        ({"item_start": 2}, "item_start: the item reference at positions 2–5 must lie within 3–12"),
        ({"value_length": 6}, "price_check_pos: a price check digit needs a 4- or 5-digit value"),
        ({"value_start": 6}, "value_start: the value at 6–10 overlaps the item reference at 3–6"),
        ({"price_check_pos": 13}, "price_check_pos: the price check digit at positions 13–13"),
        (
            {"price_check_pos": 8},
            "price_check_pos: the price check digit at 8–8 overlaps the value",
        ),
        ({"price_check_pos": "7"}, "price_check_pos: must be an integer, got '7'"),
        ({"decimals": 2}, "decimals: must be between -6 and 0, got 2"),
        ({"weight_unit_g": 10}, "weight_unit_g: only applies to weight layouts"),
        ({"kind": "weight", "decimals": -2}, "decimals: only applies to price layouts"),
        ({"kind": "weight", "weight_unit_g": 0}, "weight_unit_g: must be at least 1, got 0"),
    ],
)
def test_layout_from_config_names_the_bad_key(change, message):
    assert value_error_of(layout_from_config, {**GOOD_CONFIG, **change}).startswith(message)


@pytest.mark.parametrize("key", ["prefixes", "kind", "item_start", "value_length"])
def test_layout_from_config_names_a_missing_key(key):
    config = {k: v for k, v in GOOD_CONFIG.items() if k != key}
    assert value_error_of(layout_from_config, config) == f"missing key {key!r}"


def test_layout_from_config_needs_a_table():
    assert (
        value_error_of(layout_from_config, ["24"]) == "a layout must be a table of keys, got list"
    )


def test_layouts_from_config_rejects_a_prefix_claimed_twice():
    weight = {**GOOD_CONFIG, "kind": "weight", "prefixes": ["25"], "price_check_pos": None}
    assert len(layouts_from_config([GOOD_CONFIG])) == 1
    assert value_error_of(layouts_from_config, [GOOD_CONFIG, weight]) == (
        "layout 2: prefixes: '25' is already used by layout 1"
    )
    assert value_error_of(layouts_from_config, [GOOD_CONFIG, {"kind": "price"}]) == (
        "layout 2: missing key 'prefixes'"
    )


def test_layout_prefixes_must_be_a_set_not_a_string():
    with pytest.raises(ValueError, match="prefixes: must be a set of 2-digit strings"):
        VariableMeasureLayout("20", "weight", 3, 5, 8, 5)
