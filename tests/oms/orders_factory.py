"""Rows and till events for the order, stock and invoice tests (engineer B's suites).

store = make_store("JKT1")
kopi = make_product("KOPI-250", 45_000)
event = sale_event(terminal, [(kopi, 2)], receipt_no="T01-000001")
"""

from __future__ import annotations

from datetime import UTC, datetime

from cloud_oms.models.core import ApiKey, Channel, Product, Store, TaxCode, Terminal, User
from cloud_oms.security import digest, hash_password, new_api_key
from retail.ids import uuid7
from retail.schema import (
    Event,
    PaymentWire,
    RefundLineWire,
    SaleCompleted,
    SaleLineWire,
    SaleRefunded,
    TaxWire,
)
from retail.tax import DEFAULT_TAX_CODES, PPN, line_tax

PASSWORD = "correct horse battery staple"


def seed_tax_codes() -> None:
    for code in DEFAULT_TAX_CODES:
        TaxCode.insert(
            code=code.code,
            name=code.name,
            rate_bp=code.rate_bp,
            base_num=code.base_num,
            base_den=code.base_den,
        ).on_conflict_ignore().execute()


def make_store(code: str = "JKT1", name: str = "Toko Kopi Jakarta", tz: str = "Asia/Jakarta"):
    seed_tax_codes()
    return Store.create(code=code, name=name, tz=tz)


def make_product(sku: str, price: int, tax: str = "PPN", name: str | None = None) -> Product:
    seed_tax_codes()
    return Product.create(sku=sku, name=name or f"Product {sku}", price=price, tax_code=tax)


def make_terminal(store: Store, code: str = "T01") -> Terminal:
    return Terminal.create(store=store.id, code=code, name=f"Till {code}")


def make_channel(
    store: Store,
    code: str = "shop",
    kind: str = "online",
    policy: str = "refuse",
    secret: str | None = None,
) -> tuple[Channel, str]:
    channel = Channel.create(
        code=code, name=code, kind=kind, store=store.id, stock_policy=policy, webhook_secret=secret
    )
    key = new_api_key()
    ApiKey.create(channel=channel.id, prefix=key[:10], digest=digest(key))
    return channel, key


def make_user(email: str, role: str = "staff") -> User:
    return User.create(
        email=email, name=email.split("@")[0], role=role, password_hash=hash_password(PASSWORD)
    )


def sale_event(
    terminal: Terminal,
    items: list[tuple[Product | dict, int]],
    *,
    receipt_no: str = "T01-000001",
    seq: int = 1,
    tender: str = "cash",
    occurred_at: datetime | None = None,
    cart_discount: int = 0,
) -> Event:
    """A till sale of `items` (product, qty) at list price with PPN; a dict instead of a product
    stands for an item the OMS does not know: {"sku", "name", "price"}."""
    lines = []
    for no, (item, qty) in enumerate(items, start=1):
        if isinstance(item, dict):
            product_id, sku, name, price = None, item["sku"], item["name"], item["price"]
        else:
            product_id, sku, name, price = item.id, item.sku, item.name, item.price
        gross = price * qty
        discount = cart_discount if no == 1 else 0
        lt = line_tax(gross - discount, PPN)
        lines.append(
            SaleLineWire(
                line_id=uuid7(),
                line_no=no,
                product_id=product_id,
                sku=sku,
                name=name,
                qty=qty,
                unit_price=price,
                gross=gross,
                cart_discount=discount,
                total=lt.gross,
                tax=TaxWire(code="PPN", rate_bp=1200, base_num=11, base_den=12),
                tax_amount=lt.tax,
                tax_base=lt.base,
                net=lt.net,
            )
        )
    total = sum(ln.total for ln in lines)
    sale = SaleCompleted(
        sale_id=uuid7(),
        receipt_no=receipt_no,
        receipt_seq=seq,
        shift_id=uuid7(),
        staff_id=uuid7(),
        staff_name="Sari",
        lines=lines,
        payments=[PaymentWire(payment_id=uuid7(), tender=tender, amount=total)],
        subtotal=sum(ln.gross for ln in lines),
        discount_total=cart_discount,
        total=total,
        tax_total=sum(ln.tax_amount for ln in lines),
        ereceipt_token="e" * 22,
    )
    return Event(
        id=uuid7(),
        type="sale.completed",
        seq=seq,
        occurred_at=occurred_at or datetime.now(UTC),
        tz="Asia/Jakarta",
        payload=sale,
    )


def refund_event(
    sale: Event,
    line_qtys: list[tuple[int, int, bool]],
    *,
    receipt_no: str = "T01-R00001",
    seq: int = 2,
    amounts: list[tuple[int, int]] | None = None,
) -> Event:
    """A till refund of (line_no, qty, restock) from `sale`; amounts per line default to the
    line's proportional share (what the till computes)."""
    s: SaleCompleted = sale.payload
    by_no = {ln.line_no: ln for ln in s.lines}
    lines = []
    for i, (no, qty, restock) in enumerate(line_qtys):
        ln = by_no[no]
        amount, tax = (
            amounts[i] if amounts else (ln.total * qty // ln.qty, ln.tax_amount * qty // ln.qty)
        )
        lines.append(
            RefundLineWire(
                sale_line_id=ln.line_id,
                line_no=no,
                product_id=ln.product_id,
                sku=ln.sku,
                name=ln.name,
                qty=qty,
                amount=amount,
                tax_amount=tax,
                restock=restock,
            )
        )
    total = sum(ln.amount for ln in lines)
    refund = SaleRefunded(
        refund_id=uuid7(),
        sale_id=s.sale_id,
        sale_receipt_no=s.receipt_no,
        receipt_no=receipt_no,
        receipt_seq=seq,
        shift_id=s.shift_id,
        staff_id=s.staff_id,
        reason="rusak",
        lines=lines,
        payments=[PaymentWire(payment_id=uuid7(), tender=s.payments[0].tender, amount=total)],
        total=total,
        tax_total=sum(ln.tax_amount for ln in lines),
    )
    return Event(
        id=uuid7(),
        type="sale.refunded",
        seq=seq,
        occurred_at=datetime.now(UTC),
        tz="Asia/Jakarta",
        depends_on=[sale.id],
        payload=refund,
    )
