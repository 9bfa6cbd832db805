"""Invoices and credit notes: gap-free numbers per store and year, and their PDF.

    >>> inv = issue(order, "user:ana@example.com")                 # doctest: +SKIP
    >>> inv.number                                                  # doctest: +SKIP
    'INV-JKT1-2026-000001'
    >>> render_pdf(inv)[:5]                                         # doctest: +SKIP
    b'%PDF-'

A number comes from an `InvoiceCounter` row read FOR UPDATE (PostgreSQL) inside the transaction
that stores the invoice, so a rollback gives the number back and two transactions can never take
the same one; a database SEQUENCE would skip numbers on rollback, which tax law does not allow.
A number is never reused: a cancelled invoice stays, and a credit note (its own series) cancels
it. An invoice stores its lines as they were invoiced, so later edits never change it.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime

from fpdf import FPDF

from retail.ids import to_local, utcnow
from retail.money import Currency, format_money

from .db import atomic, locked
from .models.core import Store
from .models.orders import Invoice, InvoiceCounter, Order, OrderLine
from .state import IllegalTransition

SERIES = {"invoice": "INV", "credit_note": "CN"}


def next_number(store, year: int, series: str) -> int:
    """The next number of `series` for `store` and `year`; call inside the transaction that
    uses it."""
    store_id = store if isinstance(store, str) else store.id
    with atomic():
        InvoiceCounter.insert(
            store=store_id, year=year, series=series, last=0
        ).on_conflict_ignore().execute()
        where = (
            (InvoiceCounter.store == store_id)
            & (InvoiceCounter.year == year)
            & (InvoiceCounter.series == series)
        )
        row = locked(InvoiceCounter, where).get()
        number = row.last + 1
        InvoiceCounter.update(last=number).where(where).execute()
        return number


def local_year(store: Store, moment: datetime | None = None) -> int:
    return to_local(moment or utcnow(), store.tz).year


def _lines_of(order: Order) -> list[dict]:
    lines = [
        {
            "name": ln.name,
            "sku": ln.sku or "",
            "qty": ln.qty,
            "weight_g": ln.weight_g,
            "unit_price": ln.unit_price,
            "discount": ln.discount,
            "total": ln.total,
            "tax_code": ln.tax_code,
            "tax_amount": ln.tax_amount,
            "net": ln.net,
        }
        for ln in OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.line_no)
    ]
    if order.shipping_total:
        lines.append(
            {
                "name": "Ongkos kirim / Shipping",
                "sku": "",
                "qty": 1,
                "weight_g": None,
                "unit_price": order.shipping_total,
                "discount": 0,
                "total": order.shipping_total,
                "tax_code": "",
                "tax_amount": order.shipping_tax,
                "net": order.shipping_total - order.shipping_tax,
            }
        )
    return lines


def current_invoice(order: Order) -> Invoice | None:
    return (
        Invoice.select()
        .where((Invoice.order == order.id) & (Invoice.kind == "invoice") & ~Invoice.voided)
        .order_by(Invoice.issued_at.desc())
        .first()
    )


def issue(
    order: Order,
    actor: str,
    *,
    customer_name: str | None = None,
    company: str | None = None,
    npwp: str | None = None,
    address: str | None = None,
) -> Invoice:
    """The order's invoice: the one it has, or a new one with the next number."""
    with atomic():
        existing = current_invoice(order)
        if existing:
            return existing
        if order.status == "cancelled":
            raise IllegalTransition(order.status, "invoiced", order.number, "invoice")
        store = Store.get_by_id(order.store_id)
        now = utcnow()
        year = local_year(store, now)
        seq = next_number(store, year, SERIES["invoice"])
        lines = _lines_of(order)
        return Invoice.create(
            store=store.id,
            order=order.id,
            kind="invoice",
            series=SERIES["invoice"],
            year=year,
            seq=seq,
            number=f"{SERIES['invoice']}-{store.code}-{year}-{seq:06d}",
            customer_name=customer_name if customer_name is not None else order.customer_name,
            company=company if company is not None else order.company,
            npwp=npwp if npwp is not None else order.npwp,
            address=address if address is not None else (order.billing_address or ""),
            lines_json=json.dumps(lines),
            currency=order.currency,
            net_total=order.total - order.tax_total,
            tax_total=order.tax_total,
            total=order.total,
            actor=actor,
            issued_at=now,
        )


def credit_note(
    invoice: Invoice, actor: str, *, lines: list[dict] | None = None, reason: str = ""
) -> Invoice:
    """A credit note against `invoice`: for all of it (the invoice is then void) or for the
    given lines (a return), each {"name", "qty", "total", "tax_amount", ...}."""
    with atomic():
        invoice = locked(Invoice, Invoice.id == invoice.id).get()
        if invoice.kind != "invoice":
            raise ValueError(f"{invoice.number} is a credit note, not an invoice")
        if invoice.voided:
            raise IllegalTransition("voided", "credited", invoice.number, "credit it again")
        whole = lines is None
        lines = json.loads(invoice.lines_json) if whole else lines
        total = sum(ln["total"] for ln in lines)
        tax = sum(ln["tax_amount"] for ln in lines)
        store = Store.get_by_id(invoice.store_id)
        now = utcnow()
        year = local_year(store, now)
        seq = next_number(store, year, SERIES["credit_note"])
        note = Invoice.create(
            store=store.id,
            order=invoice.order_id,
            kind="credit_note",
            series=SERIES["credit_note"],
            year=year,
            seq=seq,
            number=f"{SERIES['credit_note']}-{store.code}-{year}-{seq:06d}",
            credits=invoice.id,
            customer_name=invoice.customer_name,
            company=invoice.company,
            npwp=invoice.npwp,
            address=invoice.address,
            lines_json=json.dumps([{**ln, "reason": reason} for ln in lines]),
            currency=invoice.currency,
            net_total=-(total - tax),
            tax_total=-tax,
            total=-total,
            actor=actor,
            issued_at=now,
        )
        if whole:
            invoice.voided = True
            invoice.save(only=[Invoice.voided])
        return note


def as_dict(inv: Invoice) -> dict:
    return {
        "id": inv.id,
        "kind": inv.kind,
        "number": inv.number,
        "year": inv.year,
        "seq": inv.seq,
        "order_id": inv.order_id,
        "credits": inv.credits_id,
        "voided": inv.voided,
        "customer_name": inv.customer_name,
        "company": inv.company,
        "npwp": inv.npwp,
        "currency": inv.currency,
        "net_total": inv.net_total,
        "tax_total": inv.tax_total,
        "total": inv.total,
        "issued_at": inv.issued_at.isoformat(),
        "lines": json.loads(inv.lines_json),
    }


# --- PDF --------------------------------------------------------------------------------------


def _latin(text: str) -> str:
    """The PDF core fonts speak Latin-1: fold accents, replace what is left."""
    folded = unicodedata.normalize("NFKD", str(text))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded.encode("latin-1", "replace").decode("latin-1")


def render_pdf(inv: Invoice, *, compress: bool = True) -> bytes:
    """The invoice or credit note as an A4 PDF."""
    store = Store.get_by_id(inv.store_id)
    order = Order.get_by_id(inv.order_id)
    currency = Currency(store.currency, store.currency_exponent)
    locale = getattr(store, "locale", "id_ID") or "id_ID"

    def money(amount: int) -> str:
        return format_money(amount, currency, locale)

    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(_latin(inv.number))
    pdf.set_creator("Kasir OMS")
    pdf.add_page()
    pdf.set_auto_page_break(True, margin=15)
    width = pdf.epw

    title = "FAKTUR / INVOICE" if inv.kind == "invoice" else "NOTA KREDIT / CREDIT NOTE"
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(width, 9, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    issued = to_local(inv.issued_at, store.tz).strftime("%d-%m-%Y %H:%M")
    header = [
        f"No.: {inv.number}",
        f"Tanggal / Date: {issued} ({store.tz})",
        f"Pesanan / Order: {order.number}",
    ]
    if inv.credits_id:
        header.append(f"Untuk faktur / For invoice: {Invoice.get_by_id(inv.credits_id).number}")
    for text in header:
        pdf.cell(width, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    seller = [store.name, f"Toko / Store {store.code}"]
    seller += [line for line in store.address.splitlines() if line.strip()]
    if store.npwp:
        seller.append(f"NPWP {store.npwp}")
    buyer = [inv.company or inv.customer_name or "-"]
    if inv.company and inv.customer_name:
        buyer.append(inv.customer_name)
    buyer += [line for line in inv.address.splitlines() if line.strip()]
    if inv.npwp:
        buyer.append(f"NPWP {inv.npwp}")
    top = pdf.get_y()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width / 2, 5, "Penjual / Seller", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in seller:  # a long address line wraps within the seller's half
        pdf.multi_cell(width / 2 - 2, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width / 2, top)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width / 2, 5, "Pembeli / Buyer", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in buyer:
        pdf.cell(width / 2, 5, _latin(text), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 4)

    columns = (
        ("Barang / Item", 0.40),
        ("Qty", 0.08),
        ("Harga / Price", 0.17),
        ("Pajak / Tax", 0.15),
        ("Jumlah / Amount", 0.20),
    )
    pdf.set_font("Helvetica", "B", 9)
    for label, share in columns:
        pdf.cell(width * share, 6, _latin(label), border="B", align="L" if share > 0.3 else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in json.loads(inv.lines_json):
        qty = f"{line['weight_g']} g" if line.get("weight_g") else str(line["qty"])
        cells = (
            line["name"][:48],
            qty,
            money(line.get("unit_price", 0)),
            f"{line.get('tax_code') or '-'} {money(line['tax_amount'])}",
            money(line["total"]),
        )
        for text, (_, share) in zip(cells, columns, strict=True):
            pdf.cell(width * share, 6, _latin(text), align="L" if share > 0.3 else "R")
        pdf.ln()
    pdf.ln(2)
    totals = (
        ("DPP / Net", inv.net_total),
        ("PPN / Tax", inv.tax_total),
        ("Total", inv.total),
    )
    for label, amount in totals:
        pdf.cell(width * 0.80, 6, _latin(label), align="R")
        pdf.cell(width * 0.20, 6, _latin(money(amount)), align="R")
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        width,
        4,
        _latin(
            f"Dibuat oleh Kasir OMS. Nomor {inv.number} tidak akan dipakai ulang; pembatalan "
            "dilakukan dengan nota kredit."
        ),
    )
    return bytes(pdf.output())
