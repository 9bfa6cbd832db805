"""Receipts as data (`retail.receipt.Receipt`) built from what the store holds.

    >>> print(as_text(sale_receipt("000042", config)))      # doctest: +SKIP

Built from the stored rows, never from the cart, so a reprint a month later shows exactly what
was sold; only a pickup order's slip is built from the order as the OMS listed it (the till does
not keep other channels' orders). The printer renders the same `Receipt`.
"""

from __future__ import annotations

from babel.dates import format_datetime

from retail.ids import iso, parse_iso, to_local, utcnow
from retail.money import format_amount
from retail.receipt import Receipt, ReceiptLine, ReportBuilder, TaxRow, TenderRow, as_text
from retail.tax import TaxCode

from . import identity
from .reports import ShiftReport
from .store.models import Customer, Payment, Refund, RefundLine, Sale, SaleLine, Staff

TENDER_LABELS = {
    "id_ID": {
        "cash": "Tunai",
        "card": "Kartu",
        "qris": "QRIS",
        "voucher": "Voucher",
        "other": "Lainnya",
    },
    "en": {"cash": "Cash", "card": "Card", "qris": "QRIS", "voucher": "Voucher", "other": "Other"},
}


def tender_label(tender: str, locale: str) -> str:
    table = TENDER_LABELS["en" if locale.startswith("en") else "id_ID"]
    return table.get(tender, tender)


def local_time(stamp: str, config) -> str:
    moment = to_local(parse_iso(stamp), config["store.timezone"])
    return (
        format_datetime(moment, "dd/MM/yyyy HH:mm", locale=config.locale)
        + " "
        + (moment.tzname() or "")
    )


def _header(config) -> dict:
    ident = identity.load()
    return dict(
        store_name=config["store.name"],
        store_address=config["store.address"],
        npwp=config["store.npwp"],
        store_code=ident.store_code,
        terminal_code=ident.terminal_code,
        footer=tuple(config["store.footer"]),
        currency=config.currency,
        locale=config.locale,
    )


def _qty_text(line: SaleLine, config) -> str:
    cur, loc = config.currency, config.locale
    price = format_amount(line.unit_price, cur, loc)
    if line.unit == "kg":
        if line.weight_g:
            kg = f"{line.weight_g / 1000:.3f}".replace(".", "," if loc == "id_ID" else ".")
            return f"{kg} kg x {price}/kg"
        return f"@ {price}/kg"
    if line.qty == 1 and not line.price_overridden:
        return ""
    return f"{line.qty} x {price}" + (" *" if line.price_overridden else "")


def sale_receipt(receipt_no: str, config, *, copy: bool = False) -> Receipt:
    # another till's sale copied here for a refund is that till's receipt, not ours to print
    sale = Sale.get_or_none((Sale.receipt_no == receipt_no) & Sale.origin.is_null())
    if sale is None:
        raise LookupError(f"receipt {receipt_no} is not in this till")
    loc = config.locale
    promo_label = "Promo"
    disc_label = "Discount" if loc.startswith("en") else "Diskon"
    lines, taxes = [], {}
    for line in SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no):
        notes = []
        if line.promo_discount:
            notes.append((line.promotion or promo_label, -line.promo_discount))
        if line.line_discount:
            notes.append((disc_label, -line.line_discount))
        lines.append(
            ReceiptLine(line.name, _qty_text(line, config), line.gross, tuple(notes), line.tax_code)
        )
        code = TaxCode(
            line.tax_code, line.tax_code, line.tax_rate_bp, line.tax_base_num, line.tax_base_den
        )
        row = taxes.setdefault(line.tax_code, [code, 0, 0, 0])
        row[1] += line.tax_base
        row[2] += line.tax_amount
        row[3] += line.total
    cart_discounts = ()
    if sale.cart_discount:
        cart_discounts = ((sale.cart_discount_label or disc_label, -sale.cart_discount),)
    payments = list(Payment.select().where(Payment.sale == sale.id))
    customer = Customer.get_or_none(Customer.id == sale.customer_id) if sale.customer_id else None
    base = config["store.ereceipt_base_url"].rstrip("/")
    return Receipt(
        kind="sale",
        receipt_no=sale.receipt_no,
        issued_at=local_time(sale.created_at, config),
        cashier=Staff.get_by_id(sale.staff_id).name,
        lines=tuple(lines),
        subtotal=sale.subtotal,
        cart_discounts=cart_discounts,
        rounding=sale.rounding,
        total=sale.total,
        taxes=tuple(TaxRow(c.code, c.rate_text, b, t, g) for c, b, t, g in taxes.values()),
        tax_included=bool(sale.prices_include_tax),
        tenders=tuple(
            TenderRow(
                tender_label(p.tender, loc),
                p.tendered if p.tender == "cash" and p.tendered else p.amount,
                p.reference,
            )
            for p in payments
        ),
        change=sum(p.change for p in payments),
        customer=customer.name if customer else "",
        ereceipt_url=f"{base}/r/{sale.ereceipt_token}" if base else "",
        barcode=sale.receipt_no,
        training=bool(sale.training),
        copy=copy,
        **_header(config),
    )


def refund_receipt(receipt_no: str, config, *, copy: bool = False) -> Receipt:
    refund = Refund.get_or_none(Refund.receipt_no == receipt_no)
    if refund is None:
        raise LookupError(f"refund {receipt_no} is not in this till")
    loc = config.locale
    lines = []
    for rl in (
        RefundLine.select(RefundLine, SaleLine)
        .join(SaleLine)
        .where(RefundLine.refund == refund.id)
        .order_by(SaleLine.line_no)
    ):
        unit = rl.sale_line.total // rl.sale_line.qty if rl.sale_line.qty else rl.amount
        qty_text = "" if rl.qty == 1 else f"{rl.qty} x {format_amount(unit, config.currency, loc)}"
        lines.append(
            ReceiptLine(rl.sale_line.name, qty_text, -rl.amount, (), rl.sale_line.tax_code)
        )
    payments = list(Payment.select().where(Payment.refund == refund.id))
    sale = Sale.get_by_id(refund.sale_id)
    return Receipt(
        kind="refund",
        receipt_no=refund.receipt_no,
        issued_at=local_time(refund.created_at, config),
        cashier=Staff.get_by_id(refund.staff_id).name,
        lines=tuple(lines),
        subtotal=-(refund.total - refund.rounding),
        rounding=-refund.rounding,
        total=-refund.total,
        tenders=tuple(TenderRow(tender_label(p.tender, loc), p.amount) for p in payments),
        refers_to=sale.receipt_no,
        barcode=refund.receipt_no,
        training=bool(refund.training),
        copy=copy,
        **_header(config),
    )


def pickup_receipt(
    order,
    *,
    tender: str,
    amount: int,
    tendered: int,
    reference: str | None,
    cashier: str,
    config,
) -> Receipt:
    """The slip for a pickup order's balance paid here (`order`: an oms_link.PickupOrder as
    it was shown); the order number is its barcode, as the customer quotes it."""
    loc = config.locale
    shown = tendered if tender == "cash" else amount
    return Receipt(
        kind="pickup",
        receipt_no=order.number,
        issued_at=local_time(iso(utcnow()), config),
        cashier=cashier,
        customer=order.customer,
        lines=tuple(ReceiptLine(ln.name, f"{ln.qty} x", 0) for ln in order.lines),
        subtotal=order.total,
        total=amount,
        tenders=(TenderRow(tender_label(tender, loc), shown, reference),),
        change=max(0, tendered - amount) if tender == "cash" else 0,
        barcode=order.number,
        **_header(config),
    )


def any_receipt(receipt_no: str, config, *, copy: bool = False) -> Receipt:
    if Refund.select().where(Refund.receipt_no == receipt_no).exists():
        return refund_receipt(receipt_no, config, copy=copy)
    return sale_receipt(receipt_no, config, copy=copy)


REPORT_LABELS = {
    "id_ID": {
        "x": "LAPORAN X (SEMENTARA)",
        "z": "LAPORAN Z",
        "opened": "Buka",
        "closed": "Tutup",
        "sales": "Penjualan",
        "count": "Jumlah transaksi",
        "gross": "Penjualan kotor",
        "promo": "Promo",
        "line_disc": "Diskon item",
        "cart_disc": "Diskon total",
        "rounding": "Pembulatan",
        "net": "Penjualan bersih",
        "refunds": "Refund",
        "tenders": "Pembayaran",
        "tax": "Pajak",
        "cash": "Kas",
        "float": "Modal awal",
        "taken": "Tunai diterima",
        "change": "Kembalian",
        "cash_refunds": "Refund tunai",
        "pickup": "Tunai pesanan ambil",
        "cash_in": "Kas masuk",
        "cash_out": "Kas keluar",
        "expected": "Kas seharusnya",
        "counted": "Kas dihitung",
        "over_short": "Selisih",
        "voids": "Void item",
        "no_sales": "Buka laci (no sale)",
        "best": "Terlaris",
        "items": "Item terjual",
    },
    "en": {
        "x": "X REPORT (INTERIM)",
        "z": "Z REPORT",
        "opened": "Opened",
        "closed": "Closed",
        "sales": "Sales",
        "count": "Transactions",
        "gross": "Gross sales",
        "promo": "Promotions",
        "line_disc": "Line discounts",
        "cart_disc": "Cart discounts",
        "rounding": "Rounding",
        "net": "Net sales",
        "refunds": "Refunds",
        "tenders": "Tenders",
        "tax": "Tax",
        "cash": "Cash",
        "float": "Opening float",
        "taken": "Cash taken",
        "change": "Change given",
        "cash_refunds": "Cash refunds",
        "pickup": "Pickup order cash",
        "cash_in": "Cash in",
        "cash_out": "Cash out",
        "expected": "Expected cash",
        "counted": "Counted cash",
        "over_short": "Over/short",
        "voids": "Voided items",
        "no_sales": "No-sale opens",
        "best": "Best sellers",
        "items": "Items sold",
    },
}


def report_receipt(report: ShiftReport, config, *, blind: bool = False) -> Receipt:
    """The X/Z report as a printable document. `blind` leaves the expected cash out (an X
    report shown to a cashier before a blind count)."""
    loc = config.locale
    lab = REPORT_LABELS["en" if loc.startswith("en") else "id_ID"]

    def m(value: int) -> str:
        return format_amount(value, config.currency, loc)

    b = ReportBuilder()
    b.row(lab["opened"], local_time(report.opened_at, config))
    if report.closed_at:
        b.row(lab["closed"], local_time(report.closed_at, config))
    b.rule()
    b.heading(lab["sales"])
    b.row(lab["count"], str(report.sales_count))
    b.row(lab["items"], str(report.items_sold))
    b.row(lab["gross"], m(report.subtotal))
    b.row(lab["promo"], m(-report.promo_discount))
    b.row(lab["line_disc"], m(-report.line_discount))
    b.row(lab["cart_disc"], m(-report.cart_discount))
    b.row(lab["rounding"], m(report.rounding))
    b.row(lab["sales"], m(report.sales_total))
    b.row(f"{lab['refunds']} ({report.refunds_count})", m(-report.refunds_total))
    b.row(lab["net"], m(report.net_sales))
    b.rule()
    b.heading(lab["tenders"])
    for t in report.tenders:
        b.row(f"{tender_label(t.tender, loc)} ({t.count})", m(t.amount))
    for t in report.refund_tenders:
        b.row(f"{lab['refunds']} {tender_label(t.tender, loc)} ({t.count})", m(-t.amount))
    b.rule()
    b.heading(lab["tax"])
    for t in report.taxes:
        rate = TaxCode(t.code, t.code, t.rate_bp, t.base_num, t.base_den).rate_text
        b.row(f"{t.code} {rate} DPP", m(t.base))
        b.row(f"{t.code} {rate}", m(t.tax))
    if report.refunds_tax:
        b.row(f"{lab['tax']} {lab['refunds']}", m(-report.refunds_tax))
    b.rule()
    b.heading(lab["cash"])
    b.row(lab["float"], m(report.opening_float))
    b.row("+ " + lab["taken"], m(report.cash_taken))
    b.row("- " + lab["change"], m(report.change_given))
    b.row("- " + lab["cash_refunds"], m(report.cash_refunds))
    b.row("+ " + lab["pickup"], m(report.pickup_cash))
    b.row("+ " + lab["cash_in"], m(report.cash_in))
    b.row("- " + lab["cash_out"], m(report.cash_out))
    if not blind:
        b.row("= " + lab["expected"], m(report.expected_cash))
    if report.counted_cash is not None:
        b.row(lab["counted"], m(report.counted_cash))
        b.row(lab["over_short"], m(report.over_short))
    b.rule()
    b.row(lab["voids"], str(report.voids))
    b.row(lab["no_sales"], str(report.no_sales))
    if report.best_sellers:
        b.rule()
        b.heading(lab["best"])
        for s in report.best_sellers:
            b.row(f"{s.qty} x {s.name}", m(s.total))
    title = lab["z"] + (f" #{report.z_number}" if report.z_number else "")
    if report.kind == "X":
        title = lab["x"]
    return Receipt(
        kind="report",
        receipt_no=title,
        issued_at=local_time(report.closed_at or report.opened_at, config),
        cashier=report.opened_by,
        report_rows=tuple(b.rows),
        **_header(config),
    )


__all__ = ["any_receipt", "as_text", "refund_receipt", "report_receipt", "sale_receipt"]
