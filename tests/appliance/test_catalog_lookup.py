"""The till's catalog lookups against a real SQLite store."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance import catalog as cat
from appliance.config import Config
from appliance.store.catalog_import import import_catalog
from appliance.store.models import db
from retail.barcodes import (
    DEFAULT_LAYOUTS,
    BarcodeError,
    check_digit,
    layout_from_config,
    make_variable,
    parse,
)
from retail.tax import TaxCode


def ean(body12: str) -> str:
    return body12 + str(check_digit(body12))


INDOMIE = ean("899100110001")
CARTON = "18991001100013"
UPCA = "036000291452"
UPCA_FROM_E = "042100005264"  # what the UPC-E code 04252614 expands to
EAN8 = "96385074"
UNKNOWN = ean("899999999999")
WEIGHT, PRICE = DEFAULT_LAYOUTS

CSV = (
    "sku,name,price,barcode,tax,category,unit,plu\n"
    f"MIE-1,Indomie Goreng,3.500,{INDOMIE}|{CARTON}*40,PPN,Mi Instan,,\n"
    f"SNK-1,Pringles Original,28.500,{UPCA},PPN,Makanan Ringan,,\n"
    f"SNK-2,Kacang Kalengan,12.000,{UPCA_FROM_E},PPN,Makanan Ringan,,\n"
    f"PRM-1,Permen Impor,5.000,{EAN8}|RAK-12,PPN,Makanan Ringan,,\n"
    "APL,Apel Fuji,45.000,,FREE,Sayur & Buah,kg,42\n"
    "KUE,Kue Nastar,120.000,,PPN,Roti & Kue,kg,401\n"
    "DELI,Nasi Kuning,15.000,,PPN,,each,77\n"
    "PRF,Parfum Impor,450.000,,LUX,,,\n"
    "TEH-1,Teh Botol Sosro 450ml,5.000,,PPN,Minuman,,\n"
    "TEH-2,Teh Pucuk 350ml,4.000,,PPN,Minuman,,\n"
    "50%,Diskon 50% Kopi_Susu,1.000,,PPN,Minuman,,\n"
)


@pytest.fixture
def shop(store, config):
    import_catalog(CSV, config)
    return config


def test_an_ean13_scan(shop):
    match = cat.lookup_barcode(INDOMIE + "\r\n")
    assert (match.qty, match.weight_g, match.embedded_price, match.barcode) == (
        1,
        None,
        None,
        INDOMIE,
    )
    p = match.product
    assert (p.sku, p.name, p.price, p.category, p.unit, p.plu) == (
        "MIE-1",
        "Indomie Goreng",
        3500,
        "Mi Instan",
        "each",
        None,
    )
    assert p.tax == TaxCode("PPN", "PPN 12% (DPP 11/12)", 1200, 11, 12)
    assert (
        p.category_id
        == db.execute_sql("SELECT id FROM category WHERE name = 'Mi Instan'").fetchone()[0]
    )


def test_a_pack_barcode_adds_its_quantity(shop):
    match = cat.lookup_barcode(CARTON)
    assert (match.product.sku, match.qty, match.barcode) == ("MIE-1", 40, CARTON)


@pytest.mark.parametrize("scanned", [UPCA, "0" + UPCA])
def test_upc_a_as_12_or_13_digits(shop, scanned):
    match = cat.lookup_barcode(scanned)
    assert (match.product.sku, match.barcode) == ("SNK-1", "0" + UPCA)


def test_upc_e_finds_the_product_stored_by_its_upc_a(shop):
    assert cat.lookup_barcode("04252614").product.sku == "SNK-2"
    assert cat.lookup_barcode(UPCA_FROM_E).product.sku == "SNK-2"


def test_ean8_and_internal_codes(shop):
    assert cat.lookup_barcode(EAN8).product.sku == "PRM-1"
    match = cat.lookup_barcode("RAK-12")
    assert (match.product.sku, match.barcode) == ("PRM-1", "RAK-12")


def test_a_weight_label_gives_grams(shop):
    code = make_variable(WEIGHT, "42", 1250)
    match = cat.lookup_barcode(code)
    assert (match.product.sku, match.qty, match.weight_g, match.embedded_price) == (
        "APL",
        1,
        1250,
        None,
    )
    assert match.barcode == code and match.product.tax.code == "FREE"


def test_a_price_label_gives_the_scales_price(shop):
    code = make_variable(PRICE, "401", 18500, prefix="23")
    match = cat.lookup_barcode(code)
    assert (match.product.sku, match.weight_g, match.embedded_price) == ("KUE", None, 18500)
    # A price label may be on an item sold by the piece too (the deli's packed rice).
    assert cat.lookup_barcode(make_variable(PRICE, "77", 15000)).embedded_price == 15000


def test_a_weight_label_on_an_item_sold_by_the_piece_is_refused(shop):
    code = make_variable(WEIGHT, "77", 500)
    with pytest.raises(cat.UnknownBarcode) as caught:
        cat.lookup_barcode(code)
    assert str(caught.value) == (
        f"barcode {code} carries a weight, but PLU 00077 (Nasi Kuning) is sold by the piece"
    )


def test_an_unknown_plu(shop):
    code = make_variable(WEIGHT, "999", 500)
    with pytest.raises(cat.UnknownBarcode) as caught:
        cat.lookup_barcode(code)
    assert caught.value.code == code
    assert (
        str(caught.value)
        == f"barcode {code} is a scale label for PLU 00999, which is not in the catalog"
    )


def test_plu_zero_is_never_a_product(shop):
    with pytest.raises(cat.UnknownBarcode):
        cat.lookup_barcode(make_variable(WEIGHT, "0", 500))


@pytest.mark.parametrize("code", [UNKNOWN, ean("099999999999"), "NO-SUCH-SHELF"])
def test_a_valid_unknown_code(shop, code):
    with pytest.raises(cat.UnknownBarcode) as caught:
        cat.lookup_barcode(code)
    expected = parse(code).gtin or code
    assert caught.value.code == expected
    assert str(caught.value) == f"barcode {expected} is not in the catalog"
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (INDOMIE[:-1] + "7", "check digit should be 6, got 7"),
        (INDOMIE[:-2], "length 11 is not a GTIN length (8, 12, 13 or 14)"),
        ("", "empty code"),
        ("899100\x1d110001", "contains control character \\x1d at position 7"),
        (make_variable(WEIGHT, "42", 1250)[:-1] + "0", "check digit should be 2, got 0"),
    ],
)
def test_an_invalid_code_says_why(shop, code, reason):
    with pytest.raises(BarcodeError) as caught:
        cat.lookup_barcode(code)
    assert reason in str(caught.value)
    with pytest.raises(BarcodeError) as parsed:
        parse(code)
    assert str(caught.value) == str(parsed.value)


def test_an_inactive_product_does_not_sell(shop):
    db.execute_sql("UPDATE product SET active = 0 WHERE sku IN ('MIE-1', 'APL')")
    with pytest.raises(cat.UnknownBarcode):
        cat.lookup_barcode(INDOMIE)
    with pytest.raises(cat.UnknownBarcode):
        cat.lookup_barcode(make_variable(WEIGHT, "42", 1000))
    with pytest.raises(cat.UnknownProduct):
        cat.lookup_sku("MIE-1")
    assert all(p.sku != "MIE-1" for p in cat.search("indomie"))


def test_lookup_sku(shop):
    assert cat.lookup_sku("PRF").tax.code == "LUX"
    assert cat.lookup_sku(" APL ").unit == "kg"
    with pytest.raises(cat.UnknownProduct) as caught:
        cat.lookup_sku("mie-1")
    assert (caught.value.sku, str(caught.value)) == ("mie-1", "sku 'mie-1' is not in the catalog")


def test_search_by_name_or_sku_prefix(shop):
    assert [p.sku for p in cat.search("TEH")] == ["TEH-1", "TEH-2"]
    assert [p.sku for p in cat.search("botol")] == ["TEH-1"]
    assert [p.sku for p in cat.search("snk")] == ["SNK-2", "SNK-1"]  # sku prefix, then by name
    assert [p.sku for p in cat.search("te", limit=1)] == ["TEH-1"]
    assert cat.search("kopi") == [cat.lookup_sku("50%")]
    assert cat.search("zzz") == [] and cat.search("x", limit=0) == []


def test_search_ranks_exact_sku_then_prefix_then_name_start(shop):
    db.execute_sql("UPDATE product SET name = 'Apel Teh' WHERE sku = 'APL'")
    assert [p.sku for p in cat.search("teh")] == ["TEH-1", "TEH-2", "APL"]
    assert [p.sku for p in cat.search("TEH-2")] == ["TEH-2"]


def test_search_treats_like_wildcards_as_text(shop):
    assert [p.sku for p in cat.search("50%")] == ["50%"]
    assert [p.sku for p in cat.search("n_5")] == []  # "_" would match the space in "Diskon 50"
    assert [p.sku for p in cat.search("n%5")] == []
    assert [p.sku for p in cat.search("kopi_s")] == ["50%"]


def test_empty_search_lists_everything_by_name(shop):
    names = [p.name for p in cat.search("")]
    assert len(names) == 11 and names == sorted(names)


def test_categories_and_their_products(shop):
    listed = cat.categories()
    assert [(c.name, c.products) for c in listed] == [
        ("Mi Instan", 1),
        ("Makanan Ringan", 3),
        ("Sayur & Buah", 1),
        ("Roti & Kue", 1),
        ("Minuman", 3),
    ]
    drinks = next(c for c in listed if c.name == "Minuman")
    assert [p.sku for p in cat.products_in_category(drinks.id)] == ["50%", "TEH-1", "TEH-2"]
    db.execute_sql("UPDATE product SET active = 0 WHERE sku = 'TEH-1'")
    assert [p.sku for p in cat.products_in_category(drinks.id)] == ["50%", "TEH-2"]
    assert next(c for c in cat.categories() if c.name == "Minuman").products == 2


def test_an_edited_tax_code_is_seen_by_the_next_lookup(shop):
    assert cat.lookup_barcode(INDOMIE).product.tax.rate_bp == 1200
    db.execute_sql(
        "UPDATE tax_code SET rate_bp = 1100, base_num = 1, base_den = 1 WHERE code = 'PPN'"
    )
    tax = cat.lookup_barcode(INDOMIE).product.tax
    assert (tax.rate_bp, tax.base_num, tax.base_den) == (1100, 1, 1)
    # Cached objects are shared between lookups.
    assert cat.lookup_sku("TEH-1").tax is tax


def test_configured_layouts(shop):
    assert cat.configured_layouts(shop) is DEFAULT_LAYOUTS
    table = {
        "prefixes": ["24"],
        "kind": "price",
        "item_start": 3,
        "item_length": 4,
        "value_start": 8,
        "value_length": 5,
    }
    layouts = cat.configured_layouts(Config({"barcodes.variable_layouts": [table]}, env={}))
    assert layouts == (layout_from_config(table),)
    code = make_variable(layouts[0], "42", 9000)
    assert cat.lookup_barcode(code, layouts).embedded_price == 9000
    # Under the default layouts the same code is an ordinary (unknown) GTIN.
    with pytest.raises(cat.UnknownBarcode, match="is not in the catalog"):
        cat.lookup_barcode(code)
    # And a default weight label is an ordinary GTIN under the custom layouts.
    with pytest.raises(cat.UnknownBarcode, match="is not in the catalog"):
        cat.lookup_barcode(make_variable(WEIGHT, "42", 1250), layouts)


# -- the fast path agrees with retail.barcodes -------------------------------------------------

thirteen = st.text(st.sampled_from("0123456789"), min_size=13, max_size=13)
valid13 = st.text(st.sampled_from("0123456789"), min_size=12, max_size=12).map(ean)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.one_of(thirteen, valid13))
def test_the_fast_path_agrees_with_parse(code):
    fast = cat._fast_gtin(code, DEFAULT_LAYOUTS)
    try:
        parsed = parse(code)
    except BarcodeError:
        assert fast is None
        return
    if fast is not None:
        assert parsed.kind == "gtin" and parsed.gtin == fast
    elif parsed.kind == "gtin" and code[0] != "0":
        raise AssertionError(f"fast path missed the valid EAN-13 {code}")
