"""The stock ledger: per-store levels, every change as a movement with its cause, reservations
for open orders, suppliers and purchase orders.

    >>> level = StockLevel.get(store=store, product=product)      # doctest: +SKIP
    >>> level.on_hand - level.reserved                             # available # doctest: +SKIP
    3

`StockLevel` holds the running figures (on hand, reserved, weighted average cost); the
`StockMovement` rows are the ledger that explains them: summing a product's movements gives its
on-hand figure. Quantities are units, or grams for products sold by weight.
"""

from __future__ import annotations

import peewee as pw

from .core import Product, Store
from .orders import IdField, Money, OrderLine, When, _Model


class StockLevel(_Model):
    store = pw.ForeignKeyField(Store, on_delete="CASCADE")
    product = pw.ForeignKeyField(Product, on_delete="CASCADE")
    on_hand = pw.IntegerField(default=0)
    reserved = pw.IntegerField(default=0)
    avg_cost = pw.BigIntegerField(default=0)  # weighted average unit cost, minor units
    low_stock_threshold = pw.IntegerField(null=True)
    updated_at = When()

    class Meta:
        primary_key = pw.CompositeKey("store", "product")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(_Model):
    id = IdField()
    store = pw.ForeignKeyField(Store, on_delete="CASCADE")
    product = pw.ForeignKeyField(Product, on_delete="CASCADE")
    qty = pw.IntegerField()  # signed change of on hand
    # sale | refund_restock | return_restock | write_off | fulfilment | receipt | adjustment
    cause = pw.CharField(max_length=16)
    ref_type = pw.CharField(max_length=16, default="")  # order | return | purchase_order | ...
    ref_id = pw.CharField(max_length=36, default="")
    unit_cost = pw.BigIntegerField(null=True)
    on_hand_after = pw.IntegerField()
    oversold = pw.BooleanField(default=False)  # left less on hand than was promised or held
    note = pw.TextField(default="")
    actor = pw.CharField(max_length=200)
    at = When()

    class Meta:
        indexes = ((("store", "product", "at"), False),)


class Reservation(_Model):
    id = IdField()
    store = pw.ForeignKeyField(Store, on_delete="CASCADE")
    product = pw.ForeignKeyField(Product, on_delete="CASCADE")
    order_line = pw.ForeignKeyField(OrderLine, backref="reservations", on_delete="CASCADE")
    qty = pw.IntegerField()
    status = pw.CharField(max_length=9, default="active")  # active | released | consumed
    created_at = When()
    closed_at = When(null=True)


class Supplier(_Model):
    id = IdField()
    name = pw.CharField(max_length=200, unique=True)
    email = pw.CharField(max_length=254, default="")
    phone = pw.CharField(max_length=32, default="")
    created_at = When()


class PurchaseOrder(_Model):
    id = IdField()
    store = pw.ForeignKeyField(Store, on_delete="RESTRICT")
    supplier = pw.ForeignKeyField(Supplier, backref="purchase_orders", on_delete="RESTRICT")
    number = pw.CharField(max_length=40, unique=True)
    status = pw.CharField(
        max_length=20, default="open"
    )  # open|partially_received|received|cancelled
    note = pw.TextField(default="")
    actor = pw.CharField(max_length=200)
    created_at = When()


class PurchaseOrderLine(_Model):
    id = IdField()
    purchase_order = pw.ForeignKeyField(PurchaseOrder, backref="lines", on_delete="CASCADE")
    product = pw.ForeignKeyField(Product, on_delete="RESTRICT")
    qty_ordered = pw.IntegerField()
    qty_received = pw.IntegerField(default=0)
    unit_cost = Money()


MODELS = [StockLevel, StockMovement, Reservation, Supplier, PurchaseOrder, PurchaseOrderLine]
