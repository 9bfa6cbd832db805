import binascii
import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retail.qris
from retail.qris import QrisError, TlvField, crc16_ccitt, make_dynamic, parse


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Close a payload with tag 63, using the stdlib's CRC as an independent oracle."""
    body += "6304"
    return body + f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}"


WALLET_ACCOUNT = (
    tlv("00", "ID.CO.CONTOH.WWW")
    + tlv("01", "936009990012345678")
    + tlv("02", "000123456789")
    + tlv("03", "UMI")
)
QRIS_ACCOUNT = tlv("00", "ID.CO.QRIS.WWW") + tlv("02", "ID1020012345678") + tlv("03", "UMI")
SAMPLE_FIELDS = [
    ("00", "01"),
    ("01", "11"),
    ("26", WALLET_ACCOUNT),
    ("51", QRIS_ACCOUNT),
    ("52", "5411"),
    ("53", "360"),
    ("58", "ID"),
    ("59", "TOKO MAJU JAYA"),
    ("60", "JAKARTA"),
    ("61", "10110"),
    ("62", tlv("07", "A01")),
]
SAMPLE_STATIC = (
    "00020101021126650016ID.CO.CONTOH.WWW011893600999001234567802120001234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204541153033605802ID"
    "5914TOKO MAJU JAYA6007JAKARTA61051011062070703A016304F7AD"
)


def build(fields) -> str:
    return with_crc("".join(tlv(t, v) for t, v in fields))


def variant(replace=None, drop=(), add=()) -> str:
    """The sample with some fields replaced, dropped or added (in the given position order)."""
    replace = replace or {}
    fields = [(t, replace.get(t, v)) for t, v in SAMPLE_FIELDS if t not in drop]
    for tag, value in add:
        fields.append((tag, value))
    fields.sort(key=lambda f: int(f[0]))
    return build(fields)


def error_of(fn, *args) -> str:
    with pytest.raises(QrisError) as info:
        fn(*args)
    return str(info.value)


def test_docstring_examples_hold():
    assert doctest.testmod(retail.qris).failed == 0


# --- CRC ---------------------------------------------------------------------------------


def test_crc_check_value():
    assert crc16_ccitt(b"123456789") == 0x29B1
    assert crc16_ccitt(b"") == 0xFFFF
    assert crc16_ccitt(bytearray(b"123456789")) == 0x29B1


@given(st.binary(max_size=300))
def test_crc_matches_the_stdlib(data):
    assert crc16_ccitt(data) == binascii.crc_hqx(data, 0xFFFF)


def test_crc_takes_bytes_only():
    with pytest.raises(TypeError, match="crc16_ccitt takes bytes, got str"):
        crc16_ccitt("123456789")


# --- the sample --------------------------------------------------------------------------


def test_sample_is_what_the_fields_build():
    assert build(SAMPLE_FIELDS) == SAMPLE_STATIC


def test_parse_static_sample():
    qr = parse(SAMPLE_STATIC)
    assert qr.merchant_name == "TOKO MAJU JAYA"
    assert qr.merchant_city == "JAKARTA"
    assert qr.is_dynamic is False
    assert qr.amount is None
    assert qr.nmid == "ID1020012345678"
    assert qr.tags == ("00", "01", "26", "51", "52", "53", "58", "59", "60", "61", "62", "63")
    assert [f.tag for f in qr.merchant_accounts] == ["26", "51"]
    assert qr.get("26").get("00") == TlvField("00", "ID.CO.CONTOH.WWW")
    assert qr.get("62").children == (TlvField("07", "A01"),)
    assert qr.get("59").children is None
    assert qr.get("54") is None
    assert qr.get("59").get("00") is None
    assert qr.fields[-1] == TlvField("63", "F7AD")
    assert qr.to_string() == SAMPLE_STATIC


def test_nmid_is_none_without_a_qris_template():
    assert parse(variant(drop=["51"])).nmid is None
    no_02 = tlv("00", "ID.CO.QRIS.WWW") + tlv("03", "UMI")
    assert parse(variant(replace={"51": no_02})).nmid is None


def test_unknown_and_unreserved_tags_are_kept_verbatim():
    payload = variant(add=[("81", "not-a-template"), ("64", tlv("00", "ID") + tlv("01", "Toko"))])
    qr = parse(payload)
    assert qr.get("81") == TlvField("81", "not-a-template")
    assert qr.get("64").get("01").value == "Toko"
    assert qr.to_string() == payload


def test_utf8_in_the_language_template_counts_characters_and_crcs_bytes():
    payload = variant(add=[("64", tlv("00", "ID") + tlv("01", "Toko Maju Jaya Sejahtera é"))])
    assert parse(payload).get("64").get("01").value.endswith("é")


# --- dynamic -----------------------------------------------------------------------------


def test_make_dynamic_sets_initiation_amount_and_crc():
    dynamic = make_dynamic(SAMPLE_STATIC, 12500)
    expected = variant(replace={"01": "12"}, add=[("54", "12500")])
    assert dynamic == expected
    qr = parse(dynamic)
    assert qr.is_dynamic is True
    assert qr.amount == 12500
    assert qr.tags == (
        "00", "01", "26", "51", "52", "53", "54", "58", "59", "60", "61", "62", "63",
    )  # fmt: skip
    assert qr.to_string() == dynamic


def test_make_dynamic_replaces_an_amount_a_static_code_carries():
    fixed = variant(add=[("54", "5000")])
    assert parse(fixed).amount == 5000
    assert make_dynamic(fixed, 7000) == variant(replace={"01": "12"}, add=[("54", "7000")])


def test_make_dynamic_keeps_tip_fields():
    tipped = variant(add=[("55", "02"), ("56", "1000")])
    dynamic = make_dynamic(tipped, 12500)
    assert dynamic == variant(
        replace={"01": "12"}, add=[("54", "12500"), ("55", "02"), ("56", "1000")]
    )


@settings(max_examples=200)
@given(st.integers(1, 10**12))
def test_any_amount_reparses_to_itself(amount):
    qr = parse(make_dynamic(SAMPLE_STATIC, amount))
    assert qr.amount == amount
    assert qr.is_dynamic
    assert [int(t) for t in qr.tags] == sorted(int(t) for t in qr.tags)


def test_largest_amount_fits_thirteen_characters():
    assert parse(make_dynamic(SAMPLE_STATIC, 10**13 - 1)).amount == 10**13 - 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "amount must be more than 0, got 0"),
        (-100, "amount must be more than 0, got -100"),
        (10**13, "amount 10000000000000 has 14 digits, tag 54 holds 13"),
    ],
)
def test_make_dynamic_rejects_bad_amounts(amount, message):
    assert error_of(make_dynamic, SAMPLE_STATIC, amount) == message


@pytest.mark.parametrize("amount", [12500.0, "12500", True])
def test_make_dynamic_amount_must_be_an_int(amount):
    with pytest.raises(TypeError, match="amount must be an int of rupiah"):
        make_dynamic(SAMPLE_STATIC, amount)


def test_make_dynamic_needs_a_static_code():
    dynamic = make_dynamic(SAMPLE_STATIC, 12500)
    assert error_of(make_dynamic, dynamic, 500) == (
        "tag 01 (point of initiation) is 12: make_dynamic needs a static code (11)"
    )


def test_make_dynamic_checks_the_static_code():
    assert error_of(make_dynamic, SAMPLE_STATIC[:-4] + "0000", 500) == (
        "tag 63 (CRC): should be F7AD, got 0000"
    )


# --- amounts in parsed payloads ----------------------------------------------------------


@pytest.mark.parametrize(("text", "amount"), [("12500", 12500), ("12500.00", 12500), ("7.", 7)])
def test_amount_forms_accepted(text, amount):
    assert parse(variant(add=[("54", text)])).amount == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12500.50", "tag 54 (amount): '12500.50' has a fraction, but IDR has no minor unit"),
        ("0", "tag 54 (amount): must be more than 0, got '0'"),
        ("0.00", "tag 54 (amount): must be more than 0, got '0.00'"),
        ("12,500", "tag 54 (amount): '12,500' is not a number"),
        ("-5", "tag 54 (amount): '-5' is not a number"),
        ("١٢٥٠٠", "tag 54 (amount): '١٢٥٠٠' is not a number"),
        ("5.٥", "tag 54 (amount): '5.٥' is not a number"),
        ("", "tag 54 (amount): '' is not a number"),
        ("12345678901234", "tag 54 (amount): '12345678901234' has 14 characters, at most 13"),
    ],
)
def test_bad_amounts_are_named(text, message):
    assert error_of(parse, variant(add=[("54", text)])) == message


# --- every error path --------------------------------------------------------------------


def test_wrong_crc():
    assert error_of(parse, SAMPLE_STATIC[:-4] + "ABCD") == "tag 63 (CRC): should be F7AD, got ABCD"


def test_crc_must_be_uppercase_hex():
    assert error_of(parse, SAMPLE_STATIC[:-4] + "f7ad") == (
        "tag 63 (CRC): 'f7ad' is not 4 uppercase hex digits"
    )
    short = SAMPLE_STATIC[:-8] + "6303F7A"
    assert error_of(parse, short) == "tag 63 (CRC): 'F7A' is not 4 uppercase hex digits"


def test_crc_must_be_last_and_present():
    body = "".join(tlv(t, v) for t, v in SAMPLE_FIELDS)
    assert error_of(parse, body) == "tag 63 (CRC) is missing"
    assert error_of(parse, SAMPLE_STATIC + "9902AB") == (
        "tag 63 (CRC) must be the last field, found tag 99 after it"
    )


def test_structure_errors():
    assert error_of(parse, "") == "empty payload"
    assert error_of(parse, SAMPLE_STATIC[:-2]) == (
        "length of tag 63 runs past the end of the payload"
    )
    cut_in_name = SAMPLE_STATIC[: SAMPLE_STATIC.index("5914") + 10]
    assert error_of(parse, cut_in_name) == "length of tag 59 runs past the end of the payload"
    assert error_of(parse, "000201010211630") == (
        "the payload ends inside a field header at position 13: '630'"
    )
    assert error_of(parse, "0002010A0211") == ("tag '0A' at position 7 is not two digits")
    assert error_of(parse, "00020101X111") == "length of tag 01 is 'X1', not two digits"


def test_template_structure_errors_name_the_sub_field():
    assert error_of(parse, variant(replace={"62": "0799A01"})) == (
        "length of tag 62.07 runs past the end of tag 62"
    )
    assert error_of(parse, variant(replace={"51": QRIS_ACCOUNT + "X"})) == (
        "tag 51 ends inside a field header at position 130: 'X'"
    )
    assert error_of(parse, variant(replace={"26": "AB03UMI"})) == (
        "tag 'AB' at position 17 (inside tag 26) is not two digits"
    )
    assert error_of(parse, variant(replace={"62": "07AXA01"})) == (
        "length of tag 62.07 is 'AX', not two digits"
    )


def test_control_characters_are_named():
    newline_at = len(SAMPLE_STATIC) + 1
    assert error_of(parse, SAMPLE_STATIC + "\n") == (
        f"contains control character \\x0a at position {newline_at}"
    )
    tab_at = SAMPLE_STATIC.index("TOKO MAJU") + 5
    with_tab = variant(replace={"59": "TOKO\tMAJU JAYA"})
    assert error_of(parse, with_tab) == f"contains control character \\x09 at position {tab_at}"


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="a QRIS payload is a str, got bytes"):
        parse(SAMPLE_STATIC.encode())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (variant(replace={"00": "02"}), "tag 00 (payload format indicator) is '02', must be 01"),
        (
            build([("01", "11"), ("00", "01"), *SAMPLE_FIELDS[2:]]),
            "tag 00 (payload format indicator) must come first, found tag 01",
        ),
        (variant(drop=["01"]), "tag 01 (point of initiation) is missing"),
        (
            variant(replace={"01": "13"}),
            "tag 01 (point of initiation) is '13', must be 11 (static) or 12 (dynamic)",
        ),
        (variant(drop=["26", "51"]), "no merchant account information (tags 26–51)"),
        (
            variant(replace={"52": "54A1"}),
            "tag 52 (merchant category code) is '54A1', must be 4 digits",
        ),
        (variant(replace={"53": "840"}), "tag 53 (currency) is 840, QRIS needs 360"),
        (variant(drop=["53"]), "tag 53 (currency) is missing"),
        (variant(replace={"58": "SG"}), "tag 58 (country) is SG, QRIS needs ID"),
        (variant(drop=["58"]), "tag 58 (country) is missing"),
        (variant(drop=["59"]), "tag 59 (merchant name) is missing"),
        (variant(replace={"59": "   "}), "tag 59 (merchant name) is empty"),
        (variant(drop=["60"]), "tag 60 (merchant city) is missing"),
        (variant(replace={"60": ""}), "tag 60 (merchant city) is empty"),
        (
            build([*SAMPLE_FIELDS, ("59", "TOKO LAIN")]),
            "tag 59 (merchant name) appears more than once",
        ),
    ],
)
def test_semantic_errors_name_the_tag(payload, message):
    assert error_of(parse, payload) == message


def test_any_merchant_account_template_is_enough():
    assert parse(variant(drop=["51"])).merchant_accounts[0].tag == "26"
    assert parse(variant(drop=["26"])).merchant_accounts[0].tag == "51"


@given(st.data())
def test_any_single_character_change_is_caught(data):
    pos = data.draw(st.integers(0, len(SAMPLE_STATIC) - 1))
    printable = [chr(c) for c in range(0x20, 0x7F) if chr(c) != SAMPLE_STATIC[pos]]
    new = data.draw(st.sampled_from(printable))
    with pytest.raises(QrisError):
        parse(SAMPLE_STATIC[:pos] + new + SAMPLE_STATIC[pos + 1 :])


names = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=25
).filter(str.strip)


@given(names, names, st.lists(st.text(alphabet="0123456789ABC", max_size=20), max_size=4))
def test_generated_payloads_round_trip(name, city, extras):
    additional = "".join(tlv(f"{i + 1:02d}", v) for i, v in enumerate(extras))
    payload = variant(replace={"59": name, "60": city, "62": additional})
    qr = parse(payload)
    assert (qr.merchant_name, qr.merchant_city) == (name, city)
    assert qr.to_string() == payload
    assert parse(make_dynamic(payload, 1)).merchant_name == name
