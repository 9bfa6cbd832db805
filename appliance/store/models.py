"""The till's local store: peewee models over one SQLite file.

The tables are created by `migrations.py` from frozen SQL, never by `create_tables()`, so that
an old database and a new one always end up with the same schema. `tests/appliance/
test_migrations.py` checks that the models and the migrated schema agree.

Money columns are integers in the currency's minor unit; weights are integer grams; ids of
records that cross the wire are UUIDv7 strings; times are UTC ISO-8601 text (`retail.ids.iso`).
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Setting(BaseModel):
    """Values changed on the till; they override the TOML file (which the till never writes)."""

    key = CharField(primary_key=True)
    value = TextField()  # JSON
    changed_at = TextField()
    changed_by = CharField(null=True)


class Counter(BaseModel):
    """Gap-free counters: bumped inside the transaction that uses the number."""

    name = CharField(primary_key=True)
    value = IntegerField(default=0)


class TaxCode(BaseModel):
    code = CharField(primary_key=True)
    name = CharField()
    rate_bp = IntegerField()
    base_num = IntegerField(default=1)
    base_den = IntegerField(default=1)
    active = BooleanField(default=True)


class Category(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    sort = IntegerField(default=0)


class Product(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    sku = CharField(unique=True)
    name = CharField(index=True)
    price = IntegerField()  # per unit, or per kg when unit is kg
    tax_code = ForeignKeyField(TaxCode, column_name="tax_code", field="code")
    category = ForeignKeyField(Category, null=True, column_name="category_id")
    unit = CharField(default="each")  # each | kg
    plu = CharField(null=True, unique=True)  # item reference in variable-measure barcodes
    active = BooleanField(default=True)
    updated_at = TextField()


class Barcode(BaseModel):
    code = CharField(primary_key=True)  # normalised (retail.barcodes.normalize)
    product = ForeignKeyField(Product, backref="barcodes", on_delete="CASCADE")
    pack_qty = IntegerField(default=1)  # a carton barcode adds 12 units


class Promotion(BaseModel):
    """multibuy: `qty` for `price`; bxgy: buy `qty` get `get_qty` free; price: unit `price`
    between `starts_at` and `ends_at`. Applies to a product or to a whole category."""

    id = CharField(primary_key=True, max_length=36)
    name = CharField()
    kind = CharField()  # multibuy | bxgy | price
    product = ForeignKeyField(Product, null=True, on_delete="CASCADE")
    category = ForeignKeyField(Category, null=True, column_name="category_id")
    qty = IntegerField(default=1)
    get_qty = IntegerField(default=0)
    price = IntegerField(null=True)
    starts_at = TextField(null=True)
    ends_at = TextField(null=True)
    active = BooleanField(default=True)


class Customer(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    name = CharField()
    phone = CharField(null=True, unique=True)
    email = CharField(null=True)
    created_at = TextField()


class Staff(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    name = CharField()
    role = CharField()  # cashier | manager
    pin_hash = CharField()
    active = BooleanField(default=True)
    failed_attempts = IntegerField(default=0)
    locked_until = TextField(null=True)


class Shift(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    staff = ForeignKeyField(Staff)
    opened_at = TextField()
    opening_float = IntegerField(default=0)
    closed_at = TextField(null=True)
    closed_by = ForeignKeyField(Staff, null=True, column_name="closed_by_id")
    counted_cash = IntegerField(null=True)
    expected_cash = IntegerField(null=True)
    z_number = IntegerField(null=True, unique=True)


class Sale(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    receipt_no = CharField(unique=True)
    receipt_seq = IntegerField()
    # NULL shift and staff, and `origin` set: another till's sale, copied from the OMS to be
    # refunded here (appliance.refunds.adopt_remote); never in this till's reports.
    shift = ForeignKeyField(Shift, backref="sales", null=True)
    staff = ForeignKeyField(Staff, null=True)
    customer = ForeignKeyField(Customer, null=True)
    created_at = TextField()
    subtotal = IntegerField()
    discount_total = IntegerField()
    cart_discount = IntegerField(default=0)
    cart_discount_label = CharField(null=True)
    rounding = IntegerField(default=0)
    total = IntegerField()
    tax_total = IntegerField()
    prices_include_tax = BooleanField(default=True)
    training = BooleanField(default=False)
    ereceipt_token = CharField()
    origin = CharField(null=True)  # code of the till that sold it; NULL: this till
    origin_event_id = CharField(null=True, max_length=36)
    # JSON [[tender, amount], ...]: what each tender holds, net of refunds at other tills, as
    # the OMS last told (refunds.adopt_remote); NULL: never asked, this till's payments stand
    origin_payments = TextField(null=True)


class SaleLine(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    sale = ForeignKeyField(Sale, backref="lines", on_delete="CASCADE")
    line_no = IntegerField()
    product = ForeignKeyField(Product, null=True)
    sku = CharField(null=True)
    barcode = CharField(null=True)
    name = CharField()
    unit = CharField(default="each")
    qty = IntegerField()
    weight_g = IntegerField(null=True)
    unit_price = IntegerField()
    price_overridden = BooleanField(default=False)
    gross = IntegerField()
    promo_discount = IntegerField(default=0)
    line_discount = IntegerField(default=0)
    cart_discount = IntegerField(default=0)
    total = IntegerField()
    tax_code = CharField()
    tax_rate_bp = IntegerField()
    tax_base_num = IntegerField()
    tax_base_den = IntegerField()
    tax_amount = IntegerField()
    tax_base = IntegerField()
    net = IntegerField()
    promotion = CharField(null=True)
    refunded_qty = IntegerField(default=0)


class Refund(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    receipt_no = CharField(unique=True)
    receipt_seq = IntegerField()
    sale = ForeignKeyField(Sale, backref="refunds")
    shift = ForeignKeyField(Shift, backref="refunds")
    staff = ForeignKeyField(Staff)
    approved_by = ForeignKeyField(Staff, null=True, column_name="approved_by_id")
    created_at = TextField()
    reason = CharField(default="")
    rounding = IntegerField(default=0)
    total = IntegerField()  # positive: what went back to the customer
    tax_total = IntegerField()
    training = BooleanField(default=False)


class RefundLine(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    refund = ForeignKeyField(Refund, backref="lines", on_delete="CASCADE")
    sale_line = ForeignKeyField(SaleLine, backref="refund_lines")
    qty = IntegerField()
    amount = IntegerField()
    tax_amount = IntegerField()
    restock = BooleanField(default=True)


class Payment(BaseModel):
    """Money in (sales, pickup orders: positive) and out (refunds: negative) per tender."""

    id = CharField(primary_key=True, max_length=36)
    shift = ForeignKeyField(Shift, backref="payments")
    sale = ForeignKeyField(Sale, null=True, backref="payments", on_delete="CASCADE")
    refund = ForeignKeyField(Refund, null=True, backref="payments", on_delete="CASCADE")
    order_id = CharField(null=True)
    tender = CharField()  # cash | card | qris | ...
    amount = IntegerField()
    tendered = IntegerField(null=True)
    change = IntegerField(default=0)
    reference = CharField(null=True)
    training = BooleanField(default=False)


class StockLevel(BaseModel):
    """On hand as this till knows it: units, or grams for items sold by weight.

    `pulled_on_hand` is the last figure the OMS sent; local sales since then move `on_hand`."""

    product = ForeignKeyField(Product, primary_key=True, on_delete="CASCADE")
    on_hand = IntegerField(default=0)
    reserved = IntegerField(default=0)
    pulled_on_hand = IntegerField(null=True)
    updated_at = TextField()


class StockMovement(BaseModel):
    id = AutoField()
    product = ForeignKeyField(Product, on_delete="CASCADE")
    qty = IntegerField()  # signed: units or grams
    cause = CharField()  # sale | refund | import | adjust | sync
    ref = CharField(null=True)
    created_at = TextField()


class CashMovement(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    shift = ForeignKeyField(Shift, backref="cash_movements")
    staff = ForeignKeyField(Staff)
    amount = IntegerField()  # into the drawer positive, out negative
    reason = CharField()
    created_at = TextField()


class ParkedSale(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    staff = ForeignKeyField(Staff)
    label = CharField()
    cart = TextField()  # JSON of the cart
    created_at = TextField()


class Outbox(BaseModel):
    """Till events on their way to the OMS: bytes stored once, resent unchanged."""

    seq = IntegerField(primary_key=True)
    id = CharField(unique=True, max_length=36)
    type = CharField()
    payload = BlobField()
    created_at = TextField()
    state = CharField(default="pending", index=True)  # pending | delivered | quarantined
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    delivered_at = TextField(null=True)


class Audit(BaseModel):
    id = CharField(primary_key=True, max_length=36)
    at = TextField()
    action = CharField(index=True)
    staff = ForeignKeyField(Staff, null=True)
    approved_by = ForeignKeyField(Staff, null=True, column_name="approved_by_id")
    detail = TextField(default="{}")  # JSON


class PrintJob(BaseModel):
    """A document waiting for (or done on) the printer; it survives restarts and power cuts."""

    id = AutoField()
    kind = CharField()  # sale | refund | report | test
    ref = CharField(null=True)  # receipt number, or shift id for reports
    copy = BooleanField(default=False)
    payload = BlobField(null=True)  # the ESC/POS bytes, rendered once
    state = CharField(default="queued", index=True)  # queued | done | failed
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = TextField()
    printed_at = TextField(null=True)


ALL_MODELS = [
    Setting,
    Counter,
    TaxCode,
    Category,
    Product,
    Barcode,
    Promotion,
    Customer,
    Staff,
    Shift,
    Sale,
    SaleLine,
    Refund,
    RefundLine,
    Payment,
    StockLevel,
    StockMovement,
    CashMovement,
    ParkedSale,
    Outbox,
    Audit,
    PrintJob,
]
