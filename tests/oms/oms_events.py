"""Build till events as a till would: valid `retail.schema` bytes with consistent money.

    till = FakeTill()
    sale = till.sale([("MIE-1", 3500, 2)])            # (sku, unit price, qty), or a dict line
    refund = till.refund(sale, {0: 1})                # line index -> qty; depends on the sale
    staff = till.staff_changed(staff_id, "Ani", "4821")  # a PIN (hashed here) or a hash
    body = {"events": [sale.text, refund.text]}       # the batch wire format

Used by the OMS tests and by bench/oms_ingest.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from retail.ids import token, utcnow, uuid7
from retail.money import allocate
from retail.pins import hash_secret
from retail.schema import (
    Event,
    PaymentWire,
    RefundLineWire,
    SaleCompleted,
    SaleLineWire,
    SaleRefunded,
    StaffChanged,
    TaxWire,
)
from retail.tax import PPN, line_tax


@dataclass
class Built:
    event: Event
    text: str

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def payload(self):
        return self.event.payload


class FakeTill:
    def __init__(self, code: str = "T01", seq: int = 0, receipt_seq: int = 0) -> None:
        self.code = code
        self.seq = seq
        self.receipt_seq = receipt_seq
        self.shift_id = uuid7()
        self.staff_id = uuid7()

    def envelope(self, payload, depends_on=()) -> Built:
        self.seq += 1
        event = Event(
            id=uuid7(),
            type=payload.type,
            seq=self.seq,
            occurred_at=utcnow(),
            tz="Asia/Jakarta",
            depends_on=list(depends_on),
            payload=payload,
        )
        return Built(event, event.to_bytes().decode())

    def sale(self, items, *, product_ids: dict | None = None) -> Built:
        """items: (sku, unit_price, qty) tuples; product_ids maps sku -> product id."""
        product_ids = product_ids or {}
        self.receipt_seq += 1
        lines = []
        for i, (sku, price, qty) in enumerate(items, start=1):
            gross = price * qty
            lt = line_tax(gross, PPN, inclusive=True)
            lines.append(
                SaleLineWire(
                    line_id=uuid7(),
                    line_no=i,
                    product_id=product_ids.get(sku),
                    sku=sku,
                    name=f"Item {sku}",
                    qty=qty,
                    unit_price=price,
                    gross=gross,
                    total=gross,
                    tax=TaxWire(code="PPN", rate_bp=1200, base_num=11, base_den=12),
                    tax_amount=lt.tax,
                    tax_base=lt.base,
                    net=lt.net,
                )
            )
        total = sum(ln.total for ln in lines)
        payload = SaleCompleted(
            sale_id=uuid7(),
            receipt_no=f"{self.code}-{self.receipt_seq:06d}",
            receipt_seq=self.receipt_seq,
            shift_id=self.shift_id,
            staff_id=self.staff_id,
            staff_name="Ani",
            lines=lines,
            payments=[PaymentWire(payment_id=uuid7(), tender="cash", amount=total)],
            subtotal=total,
            discount_total=0,
            total=total,
            tax_total=sum(ln.tax_amount for ln in lines),
            ereceipt_token=token(16),
        )
        return self.envelope(payload)

    def refund(self, sale: Built, quantities: dict[int, int], *, depends=True) -> Built:
        self.receipt_seq += 1
        sold = sale.payload
        lines = []
        for index, qty in quantities.items():
            line = sold.lines[index]
            amount = allocate(line.total, [qty, line.qty - qty])[0]
            tax = allocate(line.tax_amount, [qty, line.qty - qty])[0]
            lines.append(
                RefundLineWire(
                    sale_line_id=line.line_id,
                    line_no=line.line_no,
                    product_id=line.product_id,
                    sku=line.sku,
                    name=line.name,
                    qty=qty,
                    amount=amount,
                    tax_amount=tax,
                )
            )
        total = sum(ln.amount for ln in lines)
        payload = SaleRefunded(
            refund_id=uuid7(),
            sale_id=sold.sale_id,
            sale_receipt_no=sold.receipt_no,
            receipt_no=f"{self.code}-{self.receipt_seq:06d}",
            receipt_seq=self.receipt_seq,
            shift_id=self.shift_id,
            staff_id=self.staff_id,
            reason="customer changed mind",
            lines=lines,
            payments=[PaymentWire(payment_id=uuid7(), tender="cash", amount=total)],
            total=total,
            tax_total=sum(ln.tax_amount for ln in lines),
        )
        return self.envelope(payload, depends_on=[sale.id] if depends else [])

    def staff_changed(
        self, staff_id: str, name: str, pin: str, *, role: str = "cashier", active: bool = True
    ) -> Built:
        """A staff member as the till holds them after a change; `pin` is hashed (quickly)
        unless it is a hash already."""
        pin_hash = pin if pin.startswith("scrypt$") else hash_secret(pin, n=2**4)
        payload = StaffChanged(
            staff_id=staff_id, name=name, role=role, pin_hash=pin_hash, active=active
        )
        return self.envelope(payload)
