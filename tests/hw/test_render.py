"""Receipts rendered to ESC/POS, checked byte by byte through an independent decoder."""

from __future__ import annotations

import pytest
from escpos_text import decode, lines, styled
from PIL import Image

from appliance.hw.preview import DecodeError, to_text
from appliance.hw.preview import decode as preview_decode
from appliance.hw.render import ReceiptRenderer, RenderError, ascii_receipt
from retail.receipt import Receipt, ReceiptLine, TaxRow, TenderRow


def sale(**changes) -> Receipt:
    values = dict(
        kind="sale",
        store_name="Toko Sejahtera",
        receipt_no="T01-000123",
        issued_at="01/02/2026 10:00",
        cashier="Budi",
        store_address="Jl. Merdeka 1, Bandung",
        lines=(
            ReceiptLine(
                "Kopi Susu Gula Aren", "2 x Rp18.000", 36000, (("Promo 2 for 30.000", -6000),)
            ),
            ReceiptLine("Roti Tawar", "1 x Rp15.000", 15000),
        ),
        subtotal=45000,
        total=45000,
        taxes=(TaxRow("PPN", "PPN 12% x 11/12", 40541, 4459, 45000),),
        tenders=(TenderRow("Tunai", 50000),),
        change=5000,
        footer=("Terima kasih",),
        ereceipt_url="https://oms.example.co.id/r/0190a1b2c3",
        barcode="T01-000123",
    )
    values.update(changes)
    return Receipt(**values)


@pytest.mark.parametrize("columns", [32, 42, 48])
def test_receipt_bytes_init_codepage_text_qr_barcode_cut(columns):
    data = ReceiptRenderer(columns).render(sale())
    events = decode(data)
    kinds = [event[0] for event in events]
    assert data.startswith(b"\x1b@")  # ESC @ first: whatever the last job left set is reset
    assert events[1] == ("codepage", 0)  # CP437 selected before any text
    assert kinds.index("codepage") < kinds.index("line")
    assert ("qr", "https://oms.example.co.id/r/0190a1b2c3") in events
    assert ("barcode", 73, "{BT01-000123") in events  # GS k 73: CODE128, code set B
    assert events[-1][0] == "cut" and data.endswith(b"\x1dV\x00")  # GS V full cut, last
    text = lines(data)
    assert "Toko Sejahtera" in text
    assert any(row.startswith("TOTAL") and row.endswith("Rp45.000") for row in text)
    assert all(len(row) <= columns for row in text), [r for r in text if len(r) > columns]


def test_styles_follow_the_layout():
    rows = styled(ReceiptRenderer(42).render(sale()))
    name = next(style for text, style in rows if text == "Toko Sejahtera")
    assert name == {"bold": True, "align": "center", "big": True}
    total = next(style for text, style in rows if text.startswith("TOTAL"))
    assert total == {"bold": True, "align": "left", "big": False}
    subtotal = next(style for text, style in rows if text.startswith("Subtotal"))
    assert subtotal == {"bold": False, "align": "left", "big": False}
    assert ("-" * 42, {"bold": False, "align": "left", "big": False}) in rows


@pytest.mark.parametrize("columns", [32, 42, 48])
def test_columns_with_long_names_many_lines_and_big_amounts(columns):
    long_name = "Beras Premium Pandan Wangi Cianjur Kemasan Ekonomis Super Hemat Keluarga 25kg"
    many = tuple(
        ReceiptLine(f"{long_name} {i}", f"{i} x Rp999.999.999", 999_999_999 * i)
        for i in range(1, 61)
    )
    big = 999_999_999_999_999
    receipt = sale(
        lines=many, subtotal=big, total=big, tenders=(TenderRow("Tunai", big),), change=0
    )
    text = lines(ReceiptRenderer(columns).render(receipt))
    assert all(len(row) <= columns for row in text)
    # Every word of every name is printed (wrapped, never cut off), and amounts stay whole.
    words = " ".join(text).split()
    assert words.count("Keluarga") == 60
    assert "Rp999.999.999.999.999" in " ".join(text)
    assert f"{59_999_999_940:,}".replace(",", ".") in " ".join(text)
    for row in text:
        if row.startswith("TOTAL"):
            assert row.endswith("Rp999.999.999.999.999")


def test_text_outside_ascii_is_transliterated_before_the_layout_measures_it():
    receipt = sale(
        store_name="Café Crème",
        lines=(ReceiptLine("Kopi… «Spesial» 中文 naïve " + "x" * 30, "1 x Rp1", 1),),
    )
    data = ReceiptRenderer(32).render(receipt)
    text = lines(data)  # the decoder fails on any byte >= 0x80
    assert "Cafe Creme" in text
    assert any("Kopi..." in row for row in text)
    assert all(len(row) <= 32 for row in text)
    assert ascii_receipt(receipt).ereceipt_url == receipt.ereceipt_url  # the QR stays exact


def test_copy_and_training_marks():
    text = lines(ReceiptRenderer(42).render(sale(copy=True, training=True)))
    assert "*** SALINAN ***" in text
    assert text.count("*** LATIHAN - BUKAN TRANSAKSI ***") == 2
    english = lines(ReceiptRenderer(42).render(sale(copy=True, locale="en")))
    assert "*** COPY ***" in english


def test_no_qr_when_switched_off_or_without_url():
    events = decode(ReceiptRenderer(42, print_qr=False).render(sale()))
    assert not [e for e in events if e[0] == "qr"]
    events = decode(ReceiptRenderer(42).render(sale(ereceipt_url="")))
    assert not [e for e in events if e[0] == "qr"]


def test_barcode_outside_code128_set_b_is_left_out():
    events = decode(ReceiptRenderer(42).render(sale(barcode="T01-é")))
    assert not [e for e in events if e[0] == "barcode"]


def test_a_barcode_too_wide_for_the_printer_is_drawn_as_an_image_that_fits():
    data = ReceiptRenderer(32).render(sale(barcode="S01-T01-0000123"))
    events = decode(data)
    assert not [e for e in events if e[0] == "barcode"]
    (raster,) = [e for e in events if e[0] == "raster"]
    assert raster[1] * 8 <= 384
    assert "S01-T01-0000123" in lines(data)


def test_logo_is_printed_as_a_raster_image(tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (800, 200), (0, 0, 0, 255)).save(logo)
    renderer = ReceiptRenderer(42, logo=logo)
    events = decode(renderer.render(sale()))
    raster = [e for e in events if e[0] == "raster"]
    assert raster and raster[0][1] * 8 <= 504  # scaled down to the printable width
    assert [e[0] for e in events].index("raster") < [e[0] for e in events].index("line")
    assert renderer.warnings == []


def test_missing_logo_is_a_warning_not_a_failure(tmp_path):
    renderer = ReceiptRenderer(42, logo=tmp_path / "nope.png")
    assert renderer.warnings and "nope.png not found" in renderer.warnings[0]
    assert not [e for e in decode(renderer.render(sale())) if e[0] == "raster"]


def test_58mm_profile_without_native_qr_prints_codes_as_images():
    data = ReceiptRenderer(32, profile="POS-5890").render(sale())
    events = decode(data)
    assert not [e for e in events if e[0] in ("qr", "barcode")]
    raster = [e for e in events if e[0] == "raster"]
    assert len(raster) == 2 and all(e[1] * 8 <= 384 for e in raster)
    assert "T01-000123" in lines(data)


def test_bad_settings_name_the_setting():
    with pytest.raises(RenderError, match=r"printer.profile: 'Nope'"):
        ReceiptRenderer(42, profile="Nope")
    with pytest.raises(RenderError, match=r"printer.width: 48 columns .* at most 42"):
        ReceiptRenderer(48, profile="POS-5890")
    with pytest.raises(RenderError, match="too narrow"):
        ReceiptRenderer(20)


def test_48_columns_on_an_80mm_profile_uses_font_b_after_every_size_change():
    data = ReceiptRenderer(48).render(sale())
    assert b"\x1bM\x01" in data
    # ESC ! (size) also selects font A: each one must be followed by font B again.
    for at in range(len(data)):
        if data[at : at + 2] == b"\x1b!" and data[at + 3 : at + 5] != b"\x1b!":
            assert data[at + 3 : at + 6] == b"\x1bM\x01", data[at : at + 8]


def test_preview_reads_the_same_receipt():
    data = ReceiptRenderer(42).render(sale())
    text = to_text(preview_decode(data), 42)
    assert "Toko Sejahtera" in text and "[QR https://oms.example.co.id/r/0190a1b2c3]" in text
    assert "[barcode T01-000123]" in text and "cut" in text


def test_preview_stops_at_bytes_it_does_not_know():
    with pytest.raises(DecodeError, match="ESC 0x7e at byte 2"):
        preview_decode(b"AB\x1b~")
