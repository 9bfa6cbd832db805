import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.money import Currency
from retail.receipt import (
    LABELS,
    Receipt,
    ReceiptLine,
    ReportBuilder,
    Row,
    TaxRow,
    TenderRow,
    as_text,
    labels,
    layout,
    to_ascii,
    two_cols,
    wrap,
)

WIDTHS = (32, 42, 48)
BIG = 999_999_999_999


def sale(**kw) -> Receipt:
    fields = dict(
        kind="sale",
        store_name="Toko Maju Jaya",
        store_address="Jl. Merdeka No. 17, Bandung",
        npwp="01.234.567.8-901.000",
        receipt_no="S01-T01-000041",
        issued_at="01/05/2026 10:04 WIB",
        cashier="Sari",
        lines=(
            ReceiptLine(
                "Indomie Goreng",
                "3 x Rp4.500",
                13500,
                (("Promo 3 for 10.000", -3500),),
                "PPN",
            ),
            ReceiptLine("Daging sapi", "0,512 kg x Rp89.000/kg", 45568, (), "FREE"),
        ),
        subtotal=59068,
        cart_discounts=(("Diskon member 10%", -5557),),
        rounding=-11,
        total=50000,
        taxes=(
            TaxRow("PPN", "PPN 12% x 11/12", 8265, 991, 10000),
            TaxRow("FREE", "Bebas PPN", 45568, 0, 45568),
        ),
        tenders=(TenderRow("Tunai", 100000),),
        change=50000,
        footer=("Terima kasih",),
    )
    return Receipt(**fields | kw)


def texts(receipt, columns=42) -> list[str]:
    return [row.text for row in layout(receipt, columns)]


def assert_fits(receipt, columns):
    for row in layout(receipt, columns):
        assert len(row.text) <= columns, (columns, row)
        assert row.text.isascii(), row
        assert "\n" not in row.text


def find(rows: list[str], start: str) -> str:
    hits = [r for r in rows if r.startswith(start)]
    assert hits, f"no row starts with {start!r}: {rows}"
    return hits[0]


# --- helpers ----------------------------------------------------------------------------------


def test_two_cols_right_aligns_the_amount():
    assert two_cols("Subtotal", "12.500", 24) == "Subtotal          12.500"
    assert len(two_cols("x", "1", 32)) == 32


def test_two_cols_wraps_a_long_left_side_above():
    text = two_cols("Kopi susu gula aren ukuran besar sekali", "1.234.567", 24)
    rows = text.split("\n")
    assert all(len(r) <= 24 for r in rows)
    assert rows[-1].endswith("1.234.567")
    assert " ".join(r.split("  ")[0].strip() for r in rows).startswith("Kopi susu")


def test_two_cols_puts_the_amount_on_its_own_row_when_the_last_word_is_too_long():
    text = two_cols("Nama " + "x" * 20, "999.999.999", 24)
    rows = text.split("\n")
    assert rows[-1] == "999.999.999".rjust(24)
    assert all(len(r) <= 24 for r in rows)


def test_wrap():
    assert wrap("satu dua tiga empat", 9) == ["satu dua", "tiga", "empat"]
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap("", 10) == [""]
    assert wrap("ab " + "c" * 12, 10) == ["ab", "c" * 10, "cc"]


@settings(max_examples=200)
@given(text=st.text(alphabet="ab xy\t", max_size=120), columns=st.integers(1, 50))
def test_wrap_keeps_every_word_and_the_width(text, columns):
    rows = wrap(text, columns)
    assert all(len(r) <= columns for r in rows)
    assert "".join("".join(rows).split()) == "".join(text.split())


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("Café Ñoño", "Cafe Nono"),
        ("Crème brûlée", "Creme brulee"),
        ("Smörgås", "Smorgas"),
        ("\u2018kopi\u2019 \u201cenak\u201d", "'kopi' \"enak\""),
        ("10\u201320 \u2014 ok", "10-20 - ok"),
        ("a\u00a0b\tc", "a b c"),
        ("Teh 茶", "Teh ?"),
        ("plain ASCII 123 !@#", "plain ASCII 123 !@#"),
    ],
)
def test_to_ascii(text, ascii):
    assert to_ascii(text) == ascii


@settings(max_examples=200)
@given(text=st.text(max_size=60))
def test_to_ascii_is_printable_and_idempotent(text):
    out = to_ascii(text)
    assert all(32 <= ord(ch) < 127 for ch in out)
    assert to_ascii(out) == out


# --- layout -----------------------------------------------------------------------------------


def test_sale_receipt_id_id():
    rows = texts(sale(), 42)
    assert rows[0] == "Toko Maju Jaya"
    assert "NPWP: 01.234.567.8-901.000" in rows
    assert "No: S01-T01-000041" in rows
    assert "Kasir: Sari" in rows
    assert find(rows, "Indomie Goreng").endswith(" 13.500")
    assert "  3 x Rp4.500" in rows
    assert find(rows, "  Promo 3 for 10.000").endswith(" -3.500")
    assert find(rows, "Subtotal").endswith(" 59.068")
    assert find(rows, "Diskon member 10%").endswith(" -5.557")
    assert find(rows, "Pembulatan").endswith(" -11")
    assert find(rows, "TOTAL").endswith(" Rp50.000")
    assert find(rows, "Tunai").endswith(" 100.000")
    assert find(rows, "Kembali").endswith(" 50.000")
    assert "Harga sudah termasuk pajak" in rows
    assert find(rows, "DPP PPN 12% x 11/12").endswith(" 8.265")
    assert find(rows, "PPN PPN 12% x 11/12").endswith(" 991")
    # An exempt code shows its goods' value, no DPP/PPN pair.
    assert find(rows, "Bebas PPN").endswith(" 45.568")
    assert not any(r.startswith("DPP Bebas") for r in rows)
    assert rows[-1] == "Terima kasih"


def test_styles():
    rows = layout(sale(), 42)
    assert rows[0] == Row("Toko Maju Jaya", "center-big")
    assert Row("", "rule") in rows
    assert [r.style for r in rows if r.text.startswith("TOTAL")] == ["bold"]
    assert [r.style for r in rows if r.text.startswith("Kembali")] == ["bold"]


def test_sale_receipt_en_labels():
    rows = texts(sale(locale="en"), 42)
    assert "Tax no: 01.234.567.8-901.000" in rows
    assert "Cashier: Sari" in rows
    assert find(rows, "Rounding").endswith(" -11")
    assert find(rows, "TOTAL").endswith(" Rp50,000")
    assert find(rows, "Change").endswith(" 50,000")
    assert "Prices include tax" in rows
    assert find(rows, "Base PPN 12% x 11/12").endswith(" 8,265")
    assert not any("Kasir" in r or "Kembali" in r or "Pembulatan" in r for r in rows)


def test_labels_pick_the_language():
    assert labels("en_US") is LABELS["en"]
    assert labels("en") is LABELS["en"]
    assert labels("id_ID") is LABELS["id_ID"]
    assert labels("fr_FR") is LABELS["id_ID"]
    assert set(LABELS["en"]) == set(LABELS["id_ID"])


def test_tax_exclusive_label():
    assert "Harga belum termasuk pajak" in texts(sale(tax_included=False))
    assert "Prices exclude tax" in texts(sale(tax_included=False, locale="en"))


def test_no_npwp_no_taxes_no_tax_rows():
    rows = texts(sale(npwp="", taxes=()))
    assert not any(r.startswith(("NPWP", "DPP", "PPN", "Harga")) for r in rows)


def test_no_rounding_row_when_there_is_none():
    assert not any(r.startswith("Pembulatan") for r in texts(sale(rounding=0)))


def test_references_and_customer():
    receipt = sale(
        tenders=(TenderRow("Kartu", 30000, "APPR77"), TenderRow("Tunai", 20000)),
        change=0,
        customer="Budi",
    )
    rows = texts(receipt)
    assert "Pelanggan: Budi" in rows
    assert find(rows, "Kartu (APPR77)").endswith(" 30.000")


def test_training_mark_top_and_bottom():
    rows = layout(sale(training=True), 42)
    mark = Row("*** LATIHAN - BUKAN TRANSAKSI ***", "center-bold")
    assert rows[0] == mark
    assert rows[-1] == mark
    en = layout(sale(training=True, locale="en"), 42)
    assert en[0] == en[-1] == Row("*** TRAINING - NOT A SALE ***", "center-bold")
    assert mark not in layout(sale(), 42)


def test_copy_mark():
    rows = layout(sale(copy=True), 42)
    assert rows[0] == Row("*** SALINAN ***", "center-bold")
    assert layout(sale(copy=True, locale="en"), 42)[0].text == "*** COPY ***"
    assert not any("SALINAN" in r for r in texts(sale()))
    both = texts(sale(copy=True, training=True))
    assert both[:2] == ["*** LATIHAN - BUKAN TRANSAKSI ***", "*** SALINAN ***"]


def test_refund_receipt():
    refund = sale(
        kind="refund",
        receipt_no="S01-T01-R000003",
        refers_to="S01-T01-000041",
        lines=(ReceiptLine("Indomie Goreng", "1 x", -3334),),
        subtotal=-3334,
        cart_discounts=(),
        rounding=34,
        total=-3300,
        tenders=(TenderRow("Tunai", -3300),),
        change=0,
    )
    rows = texts(refund)
    assert "REFUND / RETUR" in rows
    assert "Atas struk: S01-T01-000041" in rows
    assert find(rows, "TOTAL").endswith(" -Rp3.300")
    assert find(rows, "Pembulatan").endswith(" 34")
    assert not any(r.startswith("Kembali") for r in rows)  # no change on a refund
    en = texts(dataclasses.replace(refund, locale="en"))
    assert "REFUND" in en and "Of receipt: S01-T01-000041" in en


def test_report_receipt():
    report = ReportBuilder()
    report.heading("Penjualan")
    report.row("Jumlah transaksi", "12")
    report.row("Total", "1.250.000")
    report.rule()
    report.heading("Per pembayaran")
    report.row("Tunai", "700.000")
    receipt = Receipt(
        kind="report",
        store_name="Toko Maju Jaya",
        receipt_no="Z-REPORT #7",
        issued_at="01/05/2026 22:00 WIB",
        cashier="Sari",
        report_rows=tuple(report.rows),
    )
    rows = layout(receipt, 32)
    text = [r.text for r in rows]
    assert Row("Z-REPORT #7", "center-bold") in rows
    assert not any(t.startswith("No:") for t in text)
    assert Row("Penjualan", "bold") in rows
    assert find(text, "Jumlah transaksi").endswith(" 12")
    assert find(text, "Total").endswith(" 1.250.000")
    assert text.index("Per pembayaran") - text.index(find(text, "Total")) == 2
    assert rows[text.index("Per pembayaran") - 1] == Row("", "rule")
    assert not any(t.startswith(("Subtotal", "TOTAL", "Kembali")) for t in text)


def test_as_text_draws_rules_and_centres():
    text = as_text(sale(), 32)
    lines = text.split("\n")
    assert "-" * 32 in lines
    assert lines[0] == "Toko Maju Jaya".center(32).rstrip()
    assert all(len(line) <= 32 for line in lines)


def test_ereceipt_line():
    rows = texts(sale(ereceipt_url="https://kasir.example/r/abc", footer=()))
    assert rows[-1] == "Struk digital"


def test_too_narrow():
    with pytest.raises(ValueError, match="20 columns is too narrow for a receipt"):
        layout(sale(), 20)


def test_usd_amounts():
    usd = Currency("USD", 2, "$")
    rows = texts(sale(currency=usd, locale="en", total=123456))
    assert find(rows, "TOTAL").endswith(" $1,234.56")


# --- widths -----------------------------------------------------------------------------------

LONG = "Minyak Goreng Kemasan Premium Refill Pouch Ekstra Hemat Ukuran Keluarga 2 Liter"


def crowded(**kw) -> Receipt:
    lines = tuple(
        ReceiptLine(
            f"{LONG} varian {i}",
            f"{i + 1} x Rp{BIG:,}".replace(",", "."),
            BIG,
            (("Promo beli banyak hemat lebih banyak lagi", -BIG), ("Diskon 10%", -99_999_999_999)),
            "PPN",
        )
        for i in range(60)
    )
    fields = dict(
        store_name="Toko Serba Ada Sumber Rejeki Makmur Sentosa Abadi Cabang Kota Baru",
        store_address="Jl. Raya Panjang Sekali Tanpa Spasi-Nomor-1234567890-Blok-ABCDEFGHIJKLMN",
        header=("Buka 24 jam setiap hari termasuk hari libur nasional",),
        lines=lines,
        subtotal=BIG,
        cart_discounts=(("Diskon keanggotaan platinum seumur hidup", -BIG),),
        rounding=-BIG,
        total=BIG,
        taxes=(TaxRow("PPN", "PPN 12% x 11/12 (DPP nilai lain)", BIG, BIG, BIG),),
        tenders=(
            TenderRow("Kartu debit BCA", BIG, "APPROVAL-0123456789-ABCDEFGHIJ"),
            TenderRow("Tunai", BIG),
        ),
        change=BIG,
        footer=("Barang yang sudah dibeli tidak dapat ditukar atau dikembalikan",),
        ereceipt_url="https://kasir.example/r/abcdef",
        training=True,
        copy=True,
    )
    return sale(**fields | kw)


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("locale", ["id_ID", "en"])
def test_crowded_receipt_fits_the_paper(columns, locale):
    receipt = crowded(locale=locale)
    assert_fits(receipt, columns)
    rows = texts(receipt, columns)
    total = "Rp999.999.999.999" if locale == "id_ID" else "Rp999,999,999,999"
    assert any(r.endswith(total) for r in rows)
    assert sum(r.startswith("Minyak Goreng") for r in rows) == 60


@pytest.mark.parametrize("columns", WIDTHS)
def test_negative_big_amounts_fit(columns):
    assert_fits(crowded(kind="refund", total=-BIG, subtotal=-BIG, refers_to="X" * 80), columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_long_people_and_reference_fields_fit(columns):
    receipt = crowded(
        cashier="Bapak Hendrawan Setiabudi Kusumanegara Wijayakusuma",
        customer="Ibu Sri Mulyani Indrawati Kusumawardhani Prawiranegara",
        receipt_no="S0123456789-T0123456789-0000000041-TRAINING-COPY",
        issued_at="Jumat, 01 Mei 2026 pukul 10.04.05 Waktu Indonesia Barat",
        npwp="01.234.567.8-901.000 / 0123456789012345 (NITKU 000000)",
    )
    assert_fits(receipt, columns)
    rows = " ".join(texts(receipt, columns))
    assert "Kusumanegara" in rows and "Prawiranegara" in rows


@pytest.mark.parametrize("columns", WIDTHS)
def test_transliteration_that_lengthens_a_name_still_fits(columns):
    # NFKD spreads some single characters over several ("…" → "...", "ﬁ" → "fi").
    name = ("Kopi Susu…" * 10)[: columns - 8]
    receipt = sale(lines=(ReceiptLine(name, "1 x", 12500), ReceiptLine("ﬁ" * 60, "", 1)))
    assert_fits(receipt, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_report_with_long_rows_fits(columns):
    report = ReportBuilder()
    report.heading("Penjualan per kategori barang kebutuhan rumah tangga sehari-hari")
    for i in range(40):
        report.row(f"{LONG} {i}", f"{BIG:,}".replace(",", "."))
    receipt = Receipt(
        kind="report",
        store_name="Toko",
        receipt_no="X-REPORT shift 0123456789 terminal 0123456789",
        issued_at="01/05/2026",
        cashier="Sari",
        report_rows=tuple(report.rows),
    )
    assert_fits(receipt, columns)


def test_non_ascii_receipt_text_is_transliterated():
    receipt = sale(
        store_name="Café Ñoño",
        cashier="Sárí",
        lines=(ReceiptLine("Crème brûlée “spesial”", "2 x Rp15.000", 30000),),
    )
    rows = texts(receipt)
    assert rows[0] == "Cafe Nono"
    assert "Kasir: Sari" in rows
    assert find(rows, 'Creme brulee "spesial"').endswith(" 30.000")
    assert all(r.isascii() for r in rows)


printable = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=70
)


@settings(max_examples=100, deadline=None)
@given(
    columns=st.integers(24, 64),
    names=st.lists(printable, min_size=1, max_size=5),
    person=printable,
    amounts=st.lists(st.integers(-BIG, BIG), min_size=1, max_size=5),
    locale=st.sampled_from(["id_ID", "en"]),
)
def test_any_receipt_fits(columns, names, person, amounts, locale):
    lines = tuple(
        ReceiptLine(n, person, a, ((person, a),)) for n, a in zip(names, amounts, strict=False)
    )
    receipt = sale(
        lines=lines,
        store_name=person,
        cashier=person,
        customer=person,
        total=amounts[0],
        subtotal=amounts[-1],
        tenders=(TenderRow(person, amounts[0], person),),
        locale=locale,
    )
    assert_fits(receipt, columns)
