"""Orders of every channel, their life cycle, payments, fulfilment, returns, invoices and the
notification outbox.

    >>> order = Order.get(Order.number == "T01-000041")          # doctest: +SKIP
    >>> order.status, order.payment_status                        # doctest: +SKIP
    ('collected', 'paid')

One `Order` table serves the store (a till sale), online (API or WooCommerce) and phone
channels; `kind` says which. The fulfilment state (`status`) and the payment state
(`payment_status`) move apart, each through `cloud_oms.state`, and every move leaves an
`OrderTransition` row with who and when. Money is BigIntegerField in the store currency's minor
unit; quantities are units, or grams for weighed lines.
"""

from __future__ import annotations

import peewee as pw

from retail.ids import utcnow

from .core import (
    BaseModel,
    Channel,
    Customer,
    Product,
    Store,
    Terminal,
    UtcDateTimeField,
    new_id,
)

_Model = BaseModel


def IdField() -> pw.CharField:
    return pw.CharField(max_length=36, primary_key=True, default=new_id)


def Money(**kw) -> pw.BigIntegerField:
    return pw.BigIntegerField(default=0, **kw)


def When(**kw) -> UtcDateTimeField:
    if kw.get("null"):
        return UtcDateTimeField(**kw)
    return UtcDateTimeField(default=utcnow, **kw)


class Order(_Model):
    id = IdField()
    store = pw.ForeignKeyField(Store, backref="orders", on_delete="RESTRICT")
    kind = pw.CharField(max_length=8, index=True)  # store | online | phone
    channel = pw.ForeignKeyField(Channel, null=True, backref="orders", on_delete="RESTRICT")
    external_id = pw.CharField(max_length=100, null=True)
    number = pw.CharField(max_length=40, index=True)  # receipt number for a store sale
    terminal = pw.ForeignKeyField(Terminal, null=True, on_delete="SET NULL")
    sale_id = pw.CharField(max_length=36, null=True, unique=True)  # the till's sale id
    customer = pw.ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    customer_name = pw.CharField(max_length=200, default="")
    email = pw.CharField(max_length=254, null=True)
    phone = pw.CharField(max_length=32, null=True)
    company = pw.CharField(max_length=200, default="")
    npwp = pw.CharField(max_length=32, default="")
    billing_address = pw.TextField(default="")
    shipping_address = pw.TextField(default="")
    delivery = pw.CharField(max_length=8, default="ship")  # ship | pickup | counter
    status = pw.CharField(max_length=24, index=True)
    payment_status = pw.CharField(max_length=24, default="unpaid")
    currency = pw.CharField(max_length=3, default="IDR")
    prices_include_tax = pw.BooleanField(default=True)
    subtotal = Money()  # lines' gross before discounts
    discount_total = Money()
    shipping_total = Money()
    shipping_tax = Money()
    rounding = Money()
    tax_total = Money()
    total = Money()
    paid_total = Money()
    refunded_total = Money()
    staff_name = pw.CharField(max_length=120, default="")
    note = pw.TextField(default="")
    tracking_token = pw.CharField(max_length=64, unique=True)
    content_digest = pw.CharField(max_length=64, default="")
    has_unmatched = pw.BooleanField(default=False)
    oversold = pw.BooleanField(default=False)
    backordered = pw.BooleanField(default=False)
    placed_at = When()
    booked_at = When(null=True)  # when the sale counts in the books
    cancelled_at = When(null=True)
    created_at = When()
    updated_at = When()

    class Meta:
        indexes = ((("channel", "external_id"), True), (("store", "placed_at"), False))


class OrderLine(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    line_no = pw.IntegerField()
    source_line_id = pw.CharField(max_length=100, null=True)  # the till's or shop's line id
    product = pw.ForeignKeyField(Product, null=True, on_delete="SET NULL")
    match = pw.CharField(max_length=9, default="unmatched")  # id | sku | unmatched | mapped
    sku = pw.CharField(max_length=64, null=True)
    barcode = pw.CharField(max_length=64, null=True)
    name = pw.CharField(max_length=200)
    unit = pw.CharField(max_length=4, default="each")
    qty = pw.IntegerField()
    weight_g = pw.IntegerField(null=True)
    unit_price = Money()
    gross = Money()
    discount = Money()
    total = Money()  # what the customer pays for the line (tax included)
    tax_code = pw.CharField(max_length=16, default="")
    tax_rate_bp = pw.IntegerField(default=0)
    tax_base_num = pw.IntegerField(default=1)
    tax_base_den = pw.IntegerField(default=1)
    tax_amount = Money()
    tax_base = Money()
    net = Money()
    cost_price = pw.BigIntegerField(null=True)  # unit cost when it left stock
    reserved_qty = pw.IntegerField(default=0)
    backordered_qty = pw.IntegerField(default=0)
    fulfilled_qty = pw.IntegerField(default=0)
    returned_qty = pw.IntegerField(default=0)
    oversold = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("order", "line_no"), True),)

    @property
    def stock_qty(self) -> int:
        """How much stock the line moves: units, or grams for a weighed line."""
        return self.weight_g if self.unit == "kg" and self.weight_g else self.qty


class OrderTransition(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="transitions", on_delete="CASCADE")
    machine = pw.CharField(max_length=8)  # status | payment
    from_state = pw.CharField(max_length=24, null=True)
    to_state = pw.CharField(max_length=24)
    actor = pw.CharField(max_length=200)
    note = pw.TextField(default="")
    at = When()


class Payment(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="payments", on_delete="CASCADE")
    kind = pw.CharField(max_length=8)  # payment | refund
    method = pw.CharField(max_length=40)  # cash, card, qris, bank_transfer, cod, ...
    amount = Money()  # always positive; kind says the direction
    reference = pw.CharField(max_length=200, null=True)
    external_id = pw.CharField(max_length=100, null=True, unique=True)
    refund_of = pw.ForeignKeyField("self", null=True, backref="refunds", on_delete="SET NULL")
    return_ref = pw.CharField(max_length=36, null=True)  # Return.id it paid back
    actor = pw.CharField(max_length=200)
    at = When()


class Shipment(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="shipments", on_delete="CASCADE")
    carrier = pw.CharField(max_length=60)
    tracking_number = pw.CharField(max_length=100)
    actor = pw.CharField(max_length=200)
    shipped_at = When()
    delivered_at = When(null=True)


class Fulfilment(_Model):
    """Goods taken off the shelf for an order (some lines, some units); a shipment carries one
    or more fulfilments."""

    id = IdField()
    order = pw.ForeignKeyField(Order, backref="fulfilments", on_delete="CASCADE")
    shipment = pw.ForeignKeyField(Shipment, null=True, backref="fulfilments", on_delete="SET NULL")
    actor = pw.CharField(max_length=200)
    created_at = When()


class FulfilmentLine(_Model):
    id = IdField()
    fulfilment = pw.ForeignKeyField(Fulfilment, backref="lines", on_delete="CASCADE")
    order_line = pw.ForeignKeyField(OrderLine, backref="fulfilment_lines", on_delete="CASCADE")
    qty = pw.IntegerField()


class Return(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="returns", on_delete="CASCADE")
    number = pw.CharField(max_length=40)  # RMA number, or the till's refund receipt number
    source_refund_id = pw.CharField(max_length=36, null=True, unique=True)
    reason = pw.TextField(default="")
    amount = Money()  # what is owed back for the goods (tax included)
    tax_amount = Money()
    actor = pw.CharField(max_length=200)
    created_at = When()


class ReturnLine(_Model):
    id = IdField()
    ret = pw.ForeignKeyField(Return, backref="lines", on_delete="CASCADE", column_name="return_id")
    order_line = pw.ForeignKeyField(OrderLine, null=True, backref="return_lines")
    qty = pw.IntegerField()
    amount = Money()
    tax_amount = Money()
    disposition = pw.CharField(max_length=10)  # restock | write_off


class InvoiceCounter(_Model):
    """The last number issued per store, year and series (INV, CN, RMA, PH, WEB); read FOR
    UPDATE in the transaction that uses the number, never a SEQUENCE."""

    store = pw.ForeignKeyField(Store, on_delete="CASCADE")
    year = pw.IntegerField()
    series = pw.CharField(max_length=4)  # INV | CN
    last = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("store", "year", "series")


class Invoice(_Model):
    id = IdField()
    store = pw.ForeignKeyField(Store, on_delete="RESTRICT")
    order = pw.ForeignKeyField(Order, backref="invoices", on_delete="RESTRICT")
    kind = pw.CharField(max_length=12)  # invoice | credit_note
    series = pw.CharField(max_length=4)
    year = pw.IntegerField()
    seq = pw.IntegerField()
    number = pw.CharField(max_length=40, unique=True)
    credits = pw.ForeignKeyField("self", null=True, backref="credit_notes", on_delete="RESTRICT")
    voided = pw.BooleanField(default=False)  # an invoice wholly cancelled by a credit note
    customer_name = pw.CharField(max_length=200, default="")
    company = pw.CharField(max_length=200, default="")
    npwp = pw.CharField(max_length=32, default="")
    address = pw.TextField(default="")
    lines_json = pw.TextField()  # the lines as invoiced: an invoice never changes afterwards
    currency = pw.CharField(max_length=3)
    net_total = Money()
    tax_total = Money()
    total = Money()
    actor = pw.CharField(max_length=200)
    issued_at = When()

    class Meta:
        indexes = ((("store", "year", "series", "seq"), True),)


class WebhookEndpoint(_Model):
    """Where signed order notifications are POSTed; `store` None means every store."""

    id = IdField()
    store = pw.ForeignKeyField(Store, null=True, on_delete="CASCADE")
    url = pw.CharField(max_length=500)
    secret = pw.CharField(max_length=200)
    active = pw.BooleanField(default=True)
    created_at = When()


class Notification(_Model):
    id = IdField()
    order = pw.ForeignKeyField(Order, backref="notifications", on_delete="CASCADE")
    event = pw.CharField(max_length=20)  # confirmed | shipped | ready_for_pickup | ...
    transport = pw.CharField(max_length=8)  # email | webhook
    target = pw.CharField(max_length=500)  # address or URL
    endpoint = pw.ForeignKeyField(WebhookEndpoint, null=True, on_delete="SET NULL")
    subject = pw.CharField(max_length=300, default="")
    body = pw.TextField()  # the e-mail text, or the webhook's JSON
    status = pw.CharField(max_length=8, default="pending", index=True)  # pending|sent|failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = When(index=True)
    last_error = pw.TextField(default="")
    created_at = When()
    sent_at = When(null=True)


MODELS = [
    Order,
    OrderLine,
    OrderTransition,
    Payment,
    Shipment,
    Fulfilment,
    FulfilmentLine,
    Return,
    ReturnLine,
    InvoiceCounter,
    Invoice,
    WebhookEndpoint,
    Notification,
]
