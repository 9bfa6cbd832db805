"""A receipt as data, and its plain-text layout for a given paper width.

    >>> lines = layout(receipt, columns=42)        # doctest: +SKIP
    >>> print("\\n".join(line.text for line in lines))   # doctest: +SKIP

The till builds a `Receipt` from a stored sale (or refund, or shift report); the printer driver
renders the `layout()` rows to ESC/POS (bold, double height, centred) and the simulated printer
and the command line print the same rows as text. One layout, so what the CLI shows is what the
paper shows.

With an NPWP the receipt lists DPP and PPN per tax code, which is what lets it serve as the
retail tax invoice (faktur pajak eceran).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from .money import IDR, Currency, format_amount, format_money


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    qty_text: str  # "3 x Rp4.500" or "0,512 kg x Rp89.000/kg"
    amount: int  # gross before discounts
    notes: tuple[tuple[str, int], ...] = ()  # ("Promo 3 for 10.000", -3500), ("Diskon 10%", -900)
    tax_code: str = ""


@dataclass(frozen=True)
class TaxRow:
    code: str
    label: str  # "PPN 12% x 11/12"
    base: int  # DPP
    tax: int
    gross: int


@dataclass(frozen=True)
class TenderRow:
    label: str  # "Tunai", "Kartu", "QRIS"
    amount: int
    reference: str | None = None


@dataclass(frozen=True)
class Receipt:
    kind: Literal["sale", "refund", "report", "pickup"]
    store_name: str
    receipt_no: str
    issued_at: str  # local time, already formatted for the locale
    cashier: str
    store_address: str = ""
    npwp: str = ""
    store_code: str = ""
    terminal_code: str = ""
    header: tuple[str, ...] = ()
    lines: tuple[ReceiptLine, ...] = ()
    subtotal: int = 0
    cart_discounts: tuple[tuple[str, int], ...] = ()
    rounding: int = 0
    total: int = 0
    taxes: tuple[TaxRow, ...] = ()
    tax_included: bool = True
    tenders: tuple[TenderRow, ...] = ()
    change: int = 0
    customer: str = ""
    refers_to: str = ""  # a refund names the receipt it refunds
    footer: tuple[str, ...] = ()
    ereceipt_url: str = ""
    barcode: str = ""  # printed as CODE128 so a refund can scan it
    report_rows: tuple[tuple[str, str], ...] = ()  # label/value rows of X and Z reports
    training: bool = False
    copy: bool = False
    currency: Currency = IDR
    locale: str = "id_ID"


Style = Literal["normal", "bold", "big", "rule", "center", "center-bold", "center-big"]


@dataclass(frozen=True)
class Row:
    text: str
    style: Style = "normal"


LABELS = {
    "id_ID": {
        "subtotal": "Subtotal",
        "total": "TOTAL",
        "rounding": "Pembulatan",
        "change": "Kembali",
        "cashier": "Kasir",
        "receipt": "No",
        "refund": "REFUND / RETUR",
        "refund_of": "Atas struk",
        "tax_incl": "Harga sudah termasuk pajak",
        "tax_excl": "Harga belum termasuk pajak",
        "dpp": "DPP",
        "training": "*** LATIHAN - BUKAN TRANSAKSI ***",
        "copy": "*** SALINAN ***",
        "npwp": "NPWP",
        "customer": "Pelanggan",
        "ereceipt": "Struk digital",
        "pickup": "PEMBAYARAN PESANAN",
        "order": "Pesanan",
        "order_total": "Total pesanan",
        "paid_before": "Sudah dibayar",
        "paid_now": "DIBAYAR",
    },
    "en": {
        "subtotal": "Subtotal",
        "total": "TOTAL",
        "rounding": "Rounding",
        "change": "Change",
        "cashier": "Cashier",
        "receipt": "No",
        "refund": "REFUND",
        "refund_of": "Of receipt",
        "tax_incl": "Prices include tax",
        "tax_excl": "Prices exclude tax",
        "dpp": "Base",
        "training": "*** TRAINING - NOT A SALE ***",
        "copy": "*** COPY ***",
        "npwp": "Tax no",
        "customer": "Customer",
        "ereceipt": "E-receipt",
        "pickup": "ORDER PAYMENT",
        "order": "Order",
        "order_total": "Order total",
        "paid_before": "Paid before",
        "paid_now": "PAID",
    },
}


def labels(locale: str) -> dict[str, str]:
    return LABELS["en" if locale.startswith("en") else "id_ID"]


def two_cols(left: str, right: str, columns: int) -> str:
    """Left text and a right-aligned amount on one row; a long left side wraps above."""
    # Measure what will be printed: transliteration can lengthen text ("…" becomes "...").
    left, right = to_ascii(left), to_ascii(right)
    room = columns - len(right) - 1
    if len(left) <= room:
        return left + " " * (columns - len(left) - len(right)) + right
    head = wrap(left, columns)
    last = head[-1]
    if len(last) <= room:
        return "\n".join([*head[:-1], last + " " * (columns - len(last) - len(right)) + right])
    return "\n".join([*head, right.rjust(columns)])


def wrap(text: str, columns: int) -> list[str]:
    words = text.split()
    rows: list[str] = []
    current = ""
    for word in words:
        while len(word) > columns:
            if current:
                rows.append(current)
                current = ""
            rows.append(word[:columns])
            word = word[columns:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= columns:
            current += " " + word
        else:
            rows.append(current)
            current = word
    if current or not rows:
        rows.append(current)
    return rows


def to_ascii(text: str) -> str:
    """Transliterate to printable ASCII so no printer code page prints garbage ("é" → "e")."""
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if 32 <= ord(ch) < 127:
            out.append(ch)
        elif ch in "\u2018\u2019":
            out.append("'")
        elif ch in "\u201c\u201d":
            out.append('"')
        elif ch in "\u2013\u2014":
            out.append("-")
        elif ch.isspace():
            out.append(" ")
        else:
            out.append("?")
    return "".join(out)


def layout(receipt: Receipt, columns: int = 42) -> list[Row]:
    """The receipt as rows of at most `columns` characters."""
    if columns < 24:
        raise ValueError(f"{columns} columns is too narrow for a receipt (24 at least)")
    lab = labels(receipt.locale)
    cur, loc = receipt.currency, receipt.locale
    rows: list[Row] = []

    def add(text: str, style: Style = "normal") -> None:
        for part in text.split("\n"):
            # Names and numbers people typed (cashier, customer, receipt references) can be
            # longer than the paper: wrap them rather than print past its edge.
            part = to_ascii(part)
            for piece in wrap(part, columns) if len(part) > columns else [part]:
                rows.append(Row(piece, style))

    def center(text: str, style: Style = "center") -> None:
        for part in wrap(text, columns):
            add(part, style)

    def amount(value: int) -> str:
        return format_amount(value, cur, loc)

    if receipt.training:
        center(lab["training"], "center-bold")
    if receipt.copy:
        center(lab["copy"], "center-bold")
    center(receipt.store_name, "center-big")
    for text in (receipt.store_address, *receipt.header):
        if text:
            center(text)
    if receipt.npwp:
        center(f"{lab['npwp']}: {receipt.npwp}")
    add("", "rule")
    if receipt.kind == "refund":
        center(lab["refund"], "center-bold")
        if receipt.refers_to:
            add(f"{lab['refund_of']}: {receipt.refers_to}")
    if receipt.kind == "report":
        center(receipt.receipt_no, "center-bold")
    elif receipt.kind == "pickup":
        center(lab["pickup"], "center-bold")
        add(f"{lab['order']}: {receipt.receipt_no}")
    else:
        add(f"{lab['receipt']}: {receipt.receipt_no}")
    add(receipt.issued_at)
    add(f"{lab['cashier']}: {receipt.cashier}")
    if receipt.customer:
        add(f"{lab['customer']}: {receipt.customer}")
    add("", "rule")

    if receipt.kind == "pickup":
        # The order's goods were priced and taxed by the OMS when it was placed: this slip
        # lists them and proves the balance paid at the counter.
        for line in receipt.lines:
            add(f"{line.qty_text} {line.name}".strip())
        add("", "rule")
        add(two_cols(lab["order_total"], amount(receipt.subtotal), columns))
        if receipt.subtotal != receipt.total:
            add(two_cols(lab["paid_before"], amount(receipt.subtotal - receipt.total), columns))
        add(two_cols(lab["paid_now"], format_money(receipt.total, cur, loc), columns), "bold")
        for tender in receipt.tenders:
            label = tender.label + (f" ({tender.reference})" if tender.reference else "")
            add(two_cols(label, amount(tender.amount), columns))
        if receipt.change:
            add(two_cols(lab["change"], amount(receipt.change), columns), "bold")
    elif receipt.kind == "report":
        for label, value in receipt.report_rows:
            if not label and not value:
                add("", "rule")
            elif not value:
                add(label, "bold")
            else:
                add(two_cols(label, value, columns))
    else:
        for line in receipt.lines:
            add(two_cols(line.name, amount(line.amount), columns))
            if line.qty_text:
                add("  " + line.qty_text)
            for note, value in line.notes:
                add(two_cols("  " + note, amount(value), columns))
        add("", "rule")
        add(two_cols(lab["subtotal"], amount(receipt.subtotal), columns))
        for note, value in receipt.cart_discounts:
            add(two_cols(note, amount(value), columns))
        if receipt.rounding:
            add(two_cols(lab["rounding"], amount(receipt.rounding), columns))
        add(two_cols(lab["total"], format_money(receipt.total, cur, loc), columns), "bold")
        for tender in receipt.tenders:
            label = tender.label + (f" ({tender.reference})" if tender.reference else "")
            add(two_cols(label, amount(tender.amount), columns))
        if receipt.kind == "sale":
            add(two_cols(lab["change"], amount(receipt.change), columns), "bold")
        if receipt.taxes:
            add("", "rule")
            add(lab["tax_incl"] if receipt.tax_included else lab["tax_excl"])
            for tax in receipt.taxes:
                if tax.tax == 0:
                    add(two_cols(tax.label, amount(tax.gross), columns))
                    continue
                add(two_cols(f"{lab['dpp']} {tax.label}", amount(tax.base), columns))
                add(two_cols(f"{tax.code} {tax.label}", amount(tax.tax), columns))
    if receipt.footer or receipt.ereceipt_url:
        add("", "rule")
    for text in receipt.footer:
        center(text)
    if receipt.ereceipt_url:
        center(lab["ereceipt"])
    if receipt.training:
        center(lab["training"], "center-bold")
    return [Row(to_ascii(r.text), r.style) for r in rows]


def as_text(receipt: Receipt, columns: int = 42) -> str:
    """The receipt as plain text, rules drawn with dashes: for the CLI and printer previews."""
    out = []
    for row in layout(receipt, columns):
        if row.style == "rule":
            out.append("-" * columns)
        elif row.style.startswith("center"):
            out.append(row.text.center(columns).rstrip())
        else:
            out.append(row.text)
    return "\n".join(out)


@dataclass
class ReportBuilder:
    """Rows for X/Z reports, so the report layout and the receipt layout stay one."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.rows.append((text, ""))

    def row(self, label: str, value: str) -> None:
        self.rows.append((label, value))

    def rule(self) -> None:
        self.rows.append(("", ""))
