"""Stores, terminals, people, keys, the catalog and the raw till events.

    >>> store = Store.get(Store.code == "JKT1")                    # doctest: +SKIP
    >>> Terminal.select().where(Terminal.store == store).count()  # doctest: +SKIP
    2

Ids are UUIDv7 strings made where the record was born (a till's product keeps its till id);
money is BigIntegerField in minor units; times are aware UTC in Python and naive UTC in the
column, which reads the same on SQLite and PostgreSQL. Secrets are never stored: terminal tokens,
API keys and enrolment codes as SHA-256 digests, passwords and staff PINs as scrypt hashes.

`CatalogChange` is the catalog's change log: every write to a product (with its barcodes), tax
code, category, promotion or staff member appends a row whose `version` comes from a locked
counter row, so versions are gap-free and commit in order and a till's cursor never skips a
change committed late.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import peewee as pw

from retail.ids import utcnow, uuid7

from ..db import db


def new_id() -> str:
    return uuid7()


class UtcDateTimeField(pw.DateTimeField):
    """Aware UTC in Python, naive UTC in the column (PostgreSQL's `timestamp` would otherwise
    shift an aware value by the session's time zone)."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class JsonField(pw.TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


def _id_field() -> pw.CharField:
    return pw.CharField(max_length=36, primary_key=True, default=new_id)


class Setting(BaseModel):
    """Values the service keeps for itself (e.g. a generated signing secret shared by workers)."""

    key = pw.CharField(max_length=64, primary_key=True)
    value = pw.TextField()


class Counter(BaseModel):
    """Gap-free counters, read FOR UPDATE in the transaction that uses the number."""

    name = pw.CharField(max_length=64, primary_key=True)
    value = pw.BigIntegerField(default=0)


class Store(BaseModel):
    id = _id_field()
    code = pw.CharField(max_length=16, unique=True)
    name = pw.CharField(max_length=120)
    tz = pw.CharField(max_length=64, default="Asia/Jakarta")
    currency = pw.CharField(max_length=3, default="IDR")
    currency_exponent = pw.IntegerField(default=0)
    locale = pw.CharField(max_length=16, default="id_ID")
    prices_include_tax = pw.BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)
    # The seller on an invoice (added by migration 3).
    address = pw.TextField(default="")
    npwp = pw.CharField(max_length=32, default="")  # tax number: 15 or 16 digits


class Terminal(BaseModel):
    """A till. Its token, enrolment code and what it last told the OMS about itself."""

    id = _id_field()
    store = pw.ForeignKeyField(Store, backref="terminals", on_delete="RESTRICT")
    code = pw.CharField(max_length=16)  # T01, T02 ... unique within the store
    name = pw.CharField(max_length=80)
    token_digest = pw.CharField(max_length=64, null=True, unique=True)
    enrol_code_digest = pw.CharField(max_length=64, null=True, unique=True)
    enrol_expires_at = UtcDateTimeField(null=True)
    enrolled_at = UtcDateTimeField(null=True)
    revoked_at = UtcDateTimeField(null=True)
    catalog_merged_at = UtcDateTimeField(null=True)
    catalog_merge_result = JsonField(null=True)
    last_seq = pw.BigIntegerField(default=0)  # highest outbox seq stored (any outcome)
    last_accepted_seq = pw.BigIntegerField(default=0)
    last_receipt_seq = pw.BigIntegerField(default=0)
    last_seen_at = UtcDateTimeField(null=True)
    version = pw.CharField(max_length=40, null=True)
    outbox_depth = pw.IntegerField(default=0)
    quarantined = pw.IntegerField(default=0)
    reported_last_seq = pw.BigIntegerField(default=0)
    clock_skew_ms = pw.BigIntegerField(null=True)  # till clock minus OMS clock
    devices = JsonField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("store", "code"), True),)


class User(BaseModel):
    id = _id_field()
    email = pw.CharField(max_length=254, unique=True)
    name = pw.CharField(max_length=120, default="")
    role = pw.CharField(max_length=8)  # owner | staff
    password_hash = pw.CharField(max_length=200)
    store = pw.ForeignKeyField(Store, null=True, on_delete="SET NULL")  # staff's home store
    active = pw.BooleanField(default=True)
    token_generation = pw.IntegerField(default=0)  # bumped to revoke every issued token
    created_at = UtcDateTimeField(default=utcnow)


class Channel(BaseModel):
    """Where orders come from: an online shop (API or WooCommerce), phone, or a store."""

    id = _id_field()
    code = pw.CharField(max_length=32, unique=True)
    name = pw.CharField(max_length=120, default="")
    kind = pw.CharField(max_length=12, default="online")  # online | woocommerce | phone
    store = pw.ForeignKeyField(Store, null=True, on_delete="SET NULL")  # fulfilling store
    webhook_secret = pw.CharField(max_length=200, null=True)  # WooCommerce signs with it
    stock_policy = pw.CharField(max_length=9, default="refuse")  # refuse | backorder
    created_at = UtcDateTimeField(default=utcnow)


class ApiKey(BaseModel):
    id = _id_field()
    channel = pw.ForeignKeyField(Channel, backref="api_keys", on_delete="CASCADE")
    prefix = pw.CharField(max_length=16)  # shown to owners to tell keys apart
    digest = pw.CharField(max_length=64, unique=True)
    created_at = UtcDateTimeField(default=utcnow)
    revoked_at = UtcDateTimeField(null=True)
    last_used_at = UtcDateTimeField(null=True)


class EnrolAttempt(BaseModel):
    """Failed enrolments per client address: the rate limit every worker shares."""

    id = pw.BigAutoField()
    address = pw.CharField(max_length=64, index=True)
    at = UtcDateTimeField(default=utcnow, index=True)


class Staff(BaseModel):
    """Cashiers and managers; `store` None means every store. The till hashes PINs; the OMS
    keeps and ships the hash as given."""

    id = _id_field()
    store = pw.ForeignKeyField(Store, null=True, on_delete="CASCADE")
    name = pw.CharField(max_length=120)
    role = pw.CharField(max_length=8, default="cashier")  # cashier | manager
    pin_hash = pw.CharField(max_length=200)
    active = pw.BooleanField(default=True)
    updated_at = UtcDateTimeField(default=utcnow)


class Customer(BaseModel):
    id = _id_field()
    name = pw.CharField(max_length=200)
    phone = pw.CharField(max_length=32, null=True, unique=True)  # E.164-ish, digits and +
    email = pw.CharField(max_length=254, null=True)
    created_at = UtcDateTimeField(default=utcnow)


class TaxCode(BaseModel):
    code = pw.CharField(max_length=16, primary_key=True)
    name = pw.CharField(max_length=120)
    rate_bp = pw.IntegerField()
    base_num = pw.IntegerField(default=1)
    base_den = pw.IntegerField(default=1)
    active = pw.BooleanField(default=True)


class Category(BaseModel):
    """Categories travel by name (the till numbers its own)."""

    id = _id_field()
    name = pw.CharField(max_length=120, unique=True)
    sort = pw.IntegerField(default=0)


class Product(BaseModel):
    id = _id_field()
    sku = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=200, index=True)
    price = pw.BigIntegerField()  # per unit, or per kg when unit is kg
    tax_code = pw.ForeignKeyField(TaxCode, column_name="tax_code", field="code")
    category = pw.ForeignKeyField(Category, null=True, on_delete="SET NULL")
    unit = pw.CharField(max_length=4, default="each")  # each | kg
    plu = pw.CharField(max_length=8, null=True, unique=True)  # variable-measure item reference
    active = pw.BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


class Barcode(BaseModel):
    code = pw.CharField(max_length=64, primary_key=True)
    product = pw.ForeignKeyField(Product, backref="barcodes", on_delete="CASCADE")
    pack_qty = pw.IntegerField(default=1)


class Promotion(BaseModel):
    """multibuy: `qty` for `price`; bxgy: buy `qty` get `get_qty` free; price: unit `price`
    between `starts_at` and `ends_at`. For a product or a whole category (the till's rules)."""

    id = _id_field()
    name = pw.CharField(max_length=120)
    kind = pw.CharField(max_length=8)  # multibuy | bxgy | price
    product = pw.ForeignKeyField(Product, null=True, on_delete="CASCADE")
    category = pw.ForeignKeyField(Category, null=True, on_delete="CASCADE")
    qty = pw.IntegerField(default=1)
    get_qty = pw.IntegerField(default=0)
    price = pw.BigIntegerField(null=True)
    starts_at = UtcDateTimeField(null=True)
    ends_at = UtcDateTimeField(null=True)
    active = pw.BooleanField(default=True)


class CatalogChange(BaseModel):
    """One row per catalog write; `version` is the cursor tills pull from."""

    version = pw.BigIntegerField(primary_key=True)
    kind = pw.CharField(max_length=12)  # product | tax_code | category | promotion | staff
    key = pw.CharField(max_length=64)
    at = UtcDateTimeField(default=utcnow)


class SyncEvent(BaseModel):
    """Every till event as received: the exact bytes, their SHA-256 and the outcome.

    At most one accepted row per event id (a partial unique index); rejected deliveries are kept
    too, one per distinct content, for the owner to see."""

    id = pw.BigAutoField()
    event_id = pw.CharField(max_length=64, null=True)
    digest = pw.CharField(max_length=64)
    store = pw.ForeignKeyField(Store, on_delete="CASCADE")
    terminal = pw.ForeignKeyField(Terminal, on_delete="CASCADE")
    seq = pw.BigIntegerField(null=True)
    type = pw.CharField(max_length=32, null=True)
    ref = pw.CharField(max_length=64, null=True)  # receipt number of a sale or refund
    body = pw.BlobField()
    outcome = pw.CharField(max_length=8)  # accepted | rejected
    reason = pw.TextField(null=True)
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("terminal", "seq"), False),
            (("store", "type", "ref"), False),
        )


SyncEvent.add_index(
    SyncEvent.index(SyncEvent.event_id, unique=True, name="syncevent_accepted_id").where(
        SyncEvent.outcome == "accepted"
    )
)
SyncEvent.add_index(
    SyncEvent.index(
        SyncEvent.event_id, SyncEvent.digest, unique=True, name="syncevent_rejected_id_digest"
    ).where(SyncEvent.outcome == "rejected")
)


class TerminalHeartbeat(BaseModel):
    """Heartbeat history (added by migration 2): what each till reported, and when."""

    id = pw.BigAutoField()
    terminal = pw.ForeignKeyField(Terminal, backref="heartbeats", on_delete="CASCADE")
    received_at = UtcDateTimeField(default=utcnow)
    version = pw.CharField(max_length=40)
    outbox_depth = pw.IntegerField()
    quarantined = pw.IntegerField(default=0)
    last_seq = pw.BigIntegerField()
    clock_skew_ms = pw.BigIntegerField()
    devices = JsonField(null=True)

    class Meta:
        indexes = ((("terminal", "received_at"), False),)


MODELS = [
    Setting,
    Counter,
    Store,
    Terminal,
    User,
    Channel,
    ApiKey,
    EnrolAttempt,
    Staff,
    Customer,
    TaxCode,
    Category,
    Product,
    Barcode,
    Promotion,
    CatalogChange,
    SyncEvent,
    TerminalHeartbeat,
]
