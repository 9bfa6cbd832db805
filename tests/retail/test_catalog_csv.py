"""retail.catalog_csv: every row is judged, every bad one reported with its line and reason."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.barcodes import BarcodeError, check_digit, layout_from_config
from retail.barcodes import parse as parse_barcode
from retail.catalog_csv import CatalogBarcode, CatalogRow, RowError, parse_catalog
from retail.money import Currency, MoneyError, parse_money


def ean(body12: str) -> str:
    return body12 + str(check_digit(body12))


INDOMIE = ean("899100110001")
AQUA = ean("899100220001")
CARTON = "18991001100013"  # GTIN-14 of a carton of INDOMIE


def money_error(text: str, locale: str = "id_ID") -> str:
    """What retail.money says about an amount: the catalog passes it on unchanged."""
    with pytest.raises(MoneyError) as caught:
        parse_money(text, locale=locale)
    return str(caught.value)


def barcode_error(code: str) -> str:
    with pytest.raises(BarcodeError) as caught:
        parse_barcode(code)
    return f"barcode {code!r} is invalid: {caught.value}"


def parse(text, **kw):
    return parse_catalog(text, **kw)


def only_error(text, **kw) -> RowError:
    _, errors = parse(text, **kw)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_full_row_is_read_into_typed_values():
    text = (
        "sku,name,price,barcode,tax,category,unit,stock,plu\n"
        f"MIE-1,Indomie Goreng,3.500,{INDOMIE}|{CARTON}*40,ppn,Mi Instan,each,1.200,\n"
        'BWM,Bawang Merah,40.000,,FREE,Sayur,KG,"12,5",00101\n'
    )
    rows, errors = parse(text)
    assert errors == []
    indomie, bawang = rows
    assert indomie == CatalogRow(
        line=2,
        sku="MIE-1",
        name="Indomie Goreng",
        price=3500,
        tax="PPN",
        barcodes=(CatalogBarcode(INDOMIE, 1), CatalogBarcode(CARTON, 40)),
        category="Mi Instan",
        unit="each",
        stock=1200,
        plu=None,
        columns=frozenset(
            ["sku", "name", "price", "barcode", "tax", "category", "unit", "stock", "plu"]
        ),
    )
    assert (bawang.unit, bawang.stock, bawang.plu, bawang.tax, bawang.price) == (
        "kg",
        12500,
        "101",
        "FREE",
        40000,
    )


def test_only_the_required_columns_and_defaults():
    rows, errors = parse("SKU,Name,Price\nA,Teh,5000\n", default_tax="FREE")
    assert errors == []
    (row,) = rows
    assert (row.tax, row.unit, row.barcodes, row.category, row.stock, row.plu) == (
        "FREE",
        "each",
        (),
        None,
        None,
        None,
    )
    assert row.columns == frozenset({"sku", "name", "price"})


def test_bom_semicolons_crlf_and_blank_lines_keep_file_line_numbers():
    text = "\ufeffsku;name;price;barcode\r\n\r\nA;Teh;5.000;\r\n;Kopi;2.000;\r\n\r\nC;Gula;x;\r\n"
    rows, errors = parse(text)
    assert [r.sku for r in rows] == ["A"]
    assert rows[0].line == 3
    assert errors == [
        RowError(4, "sku", "sku is empty"),
        RowError(6, "price", money_error("x")),
    ]


def test_a_lone_cr_counts_as_a_line_end():
    rows, errors = parse("sku,name,price\rA,Teh,5000\rB,Kopi,-1\r")
    assert [r.line for r in rows] == [2]
    assert errors == [RowError(3, "price", "price '-1' is negative")]


def test_tab_delimiter_is_sniffed_too():
    rows, errors = parse("sku\tname\tprice\nA\tTeh, manis\t5000\n")
    assert errors == [] and rows[0].name == "Teh, manis"


def test_a_quoted_field_across_lines_counts_from_its_first_line():
    text = 'sku,name,price\nA,"Teh\nmanis",5000\nB,Kopi,\n'
    rows, errors = parse(text)
    assert rows == []
    assert errors == [
        RowError(2, "name", "name 'Teh\\nmanis' contains a control character"),
        RowError(4, "price", "price is empty"),
    ]


def test_en_locale_prices_with_comma_grouping_in_quotes():
    rows, errors = parse('sku,name,price\nA,Tea,"12,500"\n', locale="en")
    assert errors == [] and rows[0].price == 12500


def test_prices_in_a_currency_with_cents():
    usd = Currency("USD", 2, "$")
    rows, errors = parse("sku,name,price\nA,Tea,12.50\nB,Cake,3\n", currency=usd, locale="en")
    assert errors == [] and [r.price for r in rows] == [1250, 300]


def test_upc_a_is_stored_in_its_ean13_form_and_internal_codes_as_written():
    rows, errors = parse("sku,name,price,barcode\nA,Pringles,28500,036000291452| RAK-12 \n")
    assert errors == []
    assert rows[0].barcodes == (CatalogBarcode("0036000291452"), CatalogBarcode("RAK-12"))


def test_plu_is_stored_without_leading_zeros():
    rows, _ = parse("sku,name,price,unit,plu\nA,Apel,45000,kg,00042\n")
    assert rows[0].plu == "42"


@pytest.mark.parametrize(
    ("stock", "grams"),
    [("12,5", 12500), ("12500 g", 12500), ("1,5 kg", 1500), ("1.000", 1_000_000), ("0", 0)],
)
def test_stock_of_weighed_items_is_kept_in_grams(stock, grams):
    rows, errors = parse(f'sku,name,price,unit,stock\nA,Apel,45000,kg,"{stock}"\n')
    assert errors == [] and rows[0].stock == grams


# -- the header ---------------------------------------------------------------------------------


def test_a_missing_required_column_is_reported_on_line_1():
    assert parse("sku,nama,price\nA,Teh,5000\n") == (
        [],
        [
            RowError(1, "name", "the header has no 'name' column (found: sku, nama, price)"),
            RowError(
                1,
                "nama",
                "unknown column 'nama' (known: sku, name, price, barcode, tax, category, unit, "
                "stock, plu)",
            ),
        ],
    )


def test_a_column_twice_in_the_header():
    error = only_error("sku,name,price,tax,TAX\nA,Teh,5000,PPN,PPN\n")
    assert error == RowError(1, "tax", "column 'tax' appears twice in the header")


def test_a_header_column_without_a_name():
    error = only_error("sku,name,price,\nA,Teh,5000,\n")
    assert error == RowError(1, None, "the header has a column without a name")


def test_the_header_may_follow_blank_lines():
    rows, errors = parse("\n\nsku,name,price\nA,Teh,5000\n")
    assert errors == [] and rows[0].line == 4


@pytest.mark.parametrize("text", ["", "\ufeff", "\n \n"])
def test_an_empty_file(text):
    assert only_error(text) == RowError(
        1, None, "the file is empty: it needs a header line with sku,name,price"
    )


def test_a_header_without_products():
    assert only_error("sku,name,price\n\n") == RowError(
        1, None, "the file has a header but no products"
    )


# -- every bad-row reason -----------------------------------------------------------------------

HEADER = "sku,name,price,barcode,tax,category,unit,stock,plu\n"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",Teh,5000,,,,,,", "sku", "sku is empty"),
        ("A\x01,Teh,5000,,,,,,", "sku", "sku 'A\\x01' contains a control character"),
        (
            "A" * 65 + ",Teh,5000,,,,,,",
            "sku",
            "sku 'AAAAAAAAAAAAAAAAAAAA'... is longer than 64 characters",
        ),
        ("A,,5000,,,,,,", "name", "name is empty"),
        ("A," + "n" * 201 + ",5000,,,,,,", "name", "name is longer than 200 characters"),
        ("A,Teh,,,,,,,", "price", "price is empty"),
        ("A,Teh,abc,,,,,,", "price", money_error("abc")),
        ("A,Teh,12.5,,,,,,", "price", money_error("12.5")),
        ("A,Teh,-5000,,,,,,", "price", "price '-5000' is negative"),
        ("A,Teh,-5.000,,,,,,", "price", "price '-5.000' is negative"),
        ('A,Teh,"12,5",,,,,,', "price", money_error("12,5")),
        ("A,Teh,1000000000000,,,,,,", "price", "price '1000000000000' is too large"),
        ("A,Teh,5000,,VAT,,,,", "tax", "unknown tax code 'VAT' (known: FREE, LUX, PPN)"),
        ("A,Teh,5000,,,,pcs,,", "unit", "unit 'pcs' is not 'each' or 'kg'"),
        ("A,Teh,5000,,,,,lima,", "stock", "stock 'lima' is not a number as written in id_ID"),
        ("A,Teh,5000,,,,,-3,", "stock", "stock '-3' is negative"),
        ('A,Teh,5000,,,,,"1,5",', "stock", "stock '1,5' is not a whole number of pieces"),
        (
            "A,Teh,5000,,,,,3 kg,",
            "stock",
            "stock '3 kg' has a weight unit but the item is sold by the piece (unit each): "
            "write the number of pieces",
        ),
        (
            'A,Apel,45000,,,,kg,"0,0005",',
            "stock",
            "stock '0,0005' is finer than a gram (stock of items sold by weight is kept in "
            "whole grams)",
        ),
        (
            'A,Apel,45000,,,,kg,"2,5 g",',
            "stock",
            "stock '2,5 g' is finer than a gram (stock of items sold by weight is kept in "
            "whole grams)",
        ),
        ("A,Apel,45000,,,,kg,-2 g,", "stock", "stock '-2 g' is negative"),
        ("A,Apel,45000,,,,kg,kg,", "stock", "stock 'kg' is not a number as written in id_ID"),
        ("A,Teh,5000,,,,,10000000000000,", "stock", "stock '10000000000000' is too large"),
        (
            "A,Apel,45000,,,,kg,,4a",
            "plu",
            "plu '4a' is not a number (scale labels carry digits only)",
        ),
        ("A,Apel,45000,,,,kg,,000", "plu", "plu '000' is zero, which no scale label can name"),
        (
            "A,Apel,45000,,,,kg,,123456",
            "plu",
            "plu '123456' does not fit the 5-digit item field of the scale barcodes",
        ),
        (
            "A,Teh,5000,8991001100017,,,,,",
            "barcode",
            barcode_error("8991001100017"),
        ),
        (
            "A,Teh,5000,89910011000,,,,,",
            "barcode",
            barcode_error("89910011000"),
        ),
        (
            "A,Teh,5000,2000042012502,,,,,",
            "barcode",
            "barcode '2000042012502' starts with '20', the prefix of scale labels: give the "
            "item a plu instead",
        ),
        (
            'A,Teh,5000,"8,99100E+12",,,,,',
            "barcode",
            "barcode '8,99100E+12' is a number the spreadsheet shortened to scientific "
            "notation: format the barcode column as text and export again",
        ),
        (
            f"A,Teh,5000,{INDOMIE}*x,,,,,",
            "barcode",
            f"barcode '{INDOMIE}*x': pack quantity 'x' is not a whole number",
        ),
        (
            f"A,Teh,5000,{INDOMIE}*0,,,,,",
            "barcode",
            f"barcode '{INDOMIE}*0': pack quantity 0 is not in 1..9999",
        ),
        ("A,Teh,5000,*12,,,,,", "barcode", "barcode '*12' has no code before the '*'"),
        (
            f"A,Teh,5000,{INDOMIE}|{INDOMIE}*10,,,,,",
            "barcode",
            f"barcode '{INDOMIE}' is listed twice in this row",
        ),
        (
            f"A,Apel,45000,{INDOMIE}*10,,,kg,,",
            "barcode",
            f"pack barcode '{INDOMIE}*10' on an item sold by weight (unit kg)",
        ),
        (
            "A,Teh,5000,,,Minuman\x07,,,",
            "category",
            "category 'Minuman\\x07' contains a control character",
        ),
        (
            "A,Teh,5000,,,,,,,extra",
            None,
            "the row has 10 fields but the header has 9 (a ',' "
            "inside a name or price that is not in quotes?)",
        ),
    ],
)
def test_every_bad_row_reason(row, column, reason):
    assert parse(HEADER + row + "\n") == ([], [RowError(2, column, reason)])


def test_the_default_tax_code_must_be_known():
    error = only_error("sku,name,price\nA,Teh,5000\n", default_tax="PB1")
    assert error == RowError(
        2,
        "tax",
        "no tax code given and the store's default 'PB1' is not a known code "
        "(known: FREE, LUX, PPN)",
    )


def test_the_known_tax_codes_are_the_callers():
    rows, errors = parse("sku,name,price,tax\nA,Teh,5000,pb1\nB,Kopi,5000,PPN\n", tax_codes=["PB1"])
    assert [r.tax for r in rows] == ["PB1"]
    assert errors == [RowError(3, "tax", "unknown tax code 'PPN' (known: PB1)")]


def test_duplicates_across_rows_name_the_first_line():
    text = (
        "sku,name,price,barcode,unit,plu\n"
        f"A,Teh,5000,{INDOMIE},,\n"
        f"A,Kopi,5000,{AQUA},,\n"
        f"B,Gula,5000,{INDOMIE},,\n"
        "C,Apel,45000,,kg,42\n"
        "D,Jeruk,25000,,kg,0042\n"
    )
    rows, errors = parse(text)
    assert [r.sku for r in rows] == ["A", "C"]
    assert errors == [
        RowError(3, "sku", "sku 'A' is already on line 2"),
        RowError(4, "barcode", f"barcode '{INDOMIE}' is also on line 2 (sku 'A')"),
        RowError(6, "plu", "plu '0042' is already on line 5"),
    ]


def test_a_clash_with_a_bad_row_is_still_reported():
    text = f"sku,name,price,barcode\nA,Teh,x,{INDOMIE}\nB,Gula,5000,{INDOMIE}\n"
    _, errors = parse(text)
    assert [(e.line, e.column) for e in errors] == [(2, "price"), (3, "barcode")]


def test_a_upc_and_its_ean13_form_are_one_barcode():
    text = "sku,name,price,barcode\nA,X,1,036000291452\nB,Y,1,0036000291452\n"
    _, errors = parse(text)
    assert errors == [RowError(3, "barcode", "barcode '0036000291452' is also on line 2 (sku 'A')")]


def test_every_bad_row_of_a_file_is_reported_with_all_its_problems():
    text = HEADER + "A,Teh,5000,,,,,,\n,,x,,VAT,,box,,\nB,Kopi,-1,,,,,,\n"
    rows, errors = parse(text)
    assert [r.sku for r in rows] == ["A"]
    assert [(e.line, e.column) for e in errors] == [
        (3, "sku"),
        (3, "name"),
        (3, "price"),
        (3, "tax"),
        (3, "unit"),
        (4, "price"),
    ]


def test_broken_quoting_is_reported_and_the_rest_still_read():
    text = 'sku,name,price\nA,"Teh" manis,5000\nB,Kopi,-1\nC,"Gula,5000\n'
    rows, errors = parse(text)
    assert rows == []
    assert errors == [
        RowError(2, None, "not valid CSV: ',' expected after '\"'"),
        RowError(3, "price", "price '-1' is negative"),
        RowError(4, None, "not valid CSV: unexpected end of data (a quote that is never closed?)"),
    ]


def test_short_rows_read_missing_cells_as_empty():
    rows, errors = parse("sku,name,price,category\nA,Teh,5000\n")
    assert errors == [] and rows[0].category is None


def test_a_custom_layout_widens_what_a_plu_may_be_and_which_prefixes_are_scale_labels():
    layout = layout_from_config(
        {
            "prefixes": ["24"],
            "kind": "price",
            "item_start": 3,
            "item_length": 6,
            "value_start": 9,
            "value_length": 4,
        }
    )
    text = f"sku,name,price,barcode,plu\nA,Kue,5000,,123456\nB,Teh,5000,{ean('240000000001')},\n"
    rows, errors = parse(text, layouts=[layout])
    assert [r.plu for r in rows] == ["123456"]
    assert [e.line for e in errors] == [3]
    # With the default layouts, prefix 24 is an ordinary GTIN.
    rows, errors = parse(f"sku,name,price,barcode\nB,Teh,5000,{ean('240000000001')}\n")
    assert errors == []


def test_progress_is_reported_up_to_the_end():
    calls = []
    lines = ["sku,name,price"] + [f"S{i},N{i},{i + 1}" for i in range(12000)]
    parse("\n".join(lines), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12001, 12001)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 3


def test_text_is_required():
    with pytest.raises(TypeError, match="must be str, not bytes"):
        parse_catalog(b"sku,name,price\n")


# -- round trip ---------------------------------------------------------------------------------

names = (
    st.text(
        st.characters(
            max_codepoint=0x2FF, exclude_categories=("Cc", "Cs"), exclude_characters="\xa0"
        ),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            names,
            st.integers(0, 10**9),
            st.sampled_from(["PPN", "FREE", "LUX"]),
            st.integers(0, 10**6),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
    delimiter=st.sampled_from([",", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_what_a_spreadsheet_writes_reads_back(items, delimiter, newline, bom):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["sku", "name", "price", "tax", "barcode", "stock"])
    for n, (name, price, tax, stock, with_code) in enumerate(items):
        code = ean(f"8990000{n:05d}") if with_code else ""
        writer.writerow([f"SKU-{n}", name, f"{price:,}".replace(",", "."), tax, code, stock])
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    rows, errors = parse(text)
    assert errors == []
    assert [(r.line, r.sku, r.name, r.price, r.tax, r.stock) for r in rows] == [
        (n + 2, f"SKU-{n}", name, price, tax, stock)
        for n, (name, price, tax, stock, _) in enumerate(items)
    ]
    assert [len(r.barcodes) for r in rows] == [int(i[4]) for i in items]
