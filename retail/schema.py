"""The wire schema between the till and the OMS: the only contract the two programs share.

    >>> ev = Event.model_validate_json(raw_bytes)          # doctest: +SKIP
    >>> ev.type, ev.seq, ev.payload.receipt_no            # doctest: +SKIP
    ('sale.completed', 41, 'T01-000041')

Every till event is an `Event` envelope: a UUIDv7 id born on the till, the terminal's gap-free
outbox sequence number, the time it happened (UTC) with the store's zone, and a typed payload
chosen by `type`. The till serialises an event once and stores those bytes; the OMS compares
re-deliveries by the SHA-256 of the bytes as sent (`event_digest`).

Amounts are integers in the currency's minor unit; weights are integer grams. Bump
SCHEMA_VERSION on any change that an older OMS could not read; the OMS rejects versions it does
not know with a reason, and the till quarantines them.

A new event type is not such a change: the envelope and every older payload stay as they
were, and an OMS that predates the type already rejects that event alone, by its unknown
`type`, with a reason (and the till quarantines it). A version bump there would make that OMS
refuse every event and heartbeat of an updated till instead, sales included.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from .catalog_wire import PinHash
from .ids import is_uuid7

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

Money = Annotated[int, Field(strict=True)]
Id = Annotated[str, Field(min_length=36, max_length=36)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _uuid7(value: str) -> str:
    if not is_uuid7(value):
        raise ValueError(f"{value!r} is not a UUIDv7")
    return value


# --- sales ------------------------------------------------------------------------------------


class TaxWire(WireModel):
    code: str
    rate_bp: int = Field(ge=0, le=10000)
    base_num: int = Field(ge=1)
    base_den: int = Field(ge=1)


class SaleLineWire(WireModel):
    """One line as sold: what was sold travels with it, so the OMS never has to refuse a sale
    because its catalog disagrees."""

    line_id: Id
    line_no: int = Field(ge=1)
    product_id: Id | None = None  # None for a miscellaneous open-price item
    sku: str | None = None
    barcode: str | None = None
    name: str
    unit: Literal["each", "kg"] = "each"
    qty: int = Field(ge=1, description="units; 1 for a weighed line")
    weight_g: int | None = Field(default=None, ge=1)
    unit_price: Money = Field(description="price per unit, or per kg for weighed items")
    price_overridden: bool = False
    gross: Money = Field(description="unit price x qty (or x weight) before any discount")
    promo_discount: Money = 0
    line_discount: Money = 0
    cart_discount: Money = Field(0, description="this line's share of the cart discount")
    total: Money = Field(description="what the customer paid for the line")
    tax: TaxWire
    tax_amount: Money
    tax_base: Money = Field(description="the taxable base (DPP)")
    net: Money
    promotion: str | None = None


class PaymentWire(WireModel):
    payment_id: Id
    tender: Literal["cash", "card", "qris", "voucher", "other"]
    amount: Money = Field(description="what this tender settled of the total")
    tendered: Money | None = Field(default=None, description="cash handed over")
    change: Money = 0
    reference: str | None = None


class SaleCompleted(WireModel):
    type: Literal["sale.completed"] = "sale.completed"
    sale_id: Id
    receipt_no: str
    receipt_seq: int = Field(ge=1)
    shift_id: Id
    staff_id: Id
    staff_name: str
    customer_id: Id | None = None
    currency: str = "IDR"
    prices_include_tax: bool = True
    lines: list[SaleLineWire] = Field(min_length=1)
    payments: list[PaymentWire] = Field(description="empty only for a sale that totals zero")
    subtotal: Money
    discount_total: Money
    rounding: Money = 0
    total: Money
    tax_total: Money
    ereceipt_token: str = Field(min_length=16)

    @model_validator(mode="after")
    def _paid(self) -> SaleCompleted:
        if not self.payments and self.total != 0:
            raise ValueError("payments: a sale with a total above zero needs its payments")
        return self


class RefundLineWire(WireModel):
    sale_line_id: Id
    line_no: int
    product_id: Id | None = None
    sku: str | None = None
    name: str
    qty: int = Field(ge=1)
    amount: Money
    tax_amount: Money
    restock: bool = True


class SaleRefunded(WireModel):
    type: Literal["sale.refunded"] = "sale.refunded"
    refund_id: Id
    sale_id: Id
    sale_receipt_no: str
    receipt_no: str
    receipt_seq: int = Field(ge=1)
    shift_id: Id
    staff_id: Id
    approved_by: Id | None = None
    reason: str = ""
    lines: list[RefundLineWire] = Field(min_length=1)
    payments: list[PaymentWire] = Field(min_length=1)
    rounding: Money = 0
    total: Money
    tax_total: Money


class RefundedUnits(WireModel):
    sale_line_id: Id
    qty: int = Field(ge=1)


class RefundedMoney(WireModel):
    tender: str
    amount: Money = Field(ge=0, description="paid back with this tender")


class RefundRecord(WireModel):
    """A refund the OMS holds against a sale: a till's (`refund_id` is the till's refund id)
    or a return booked at the OMS (its return id)."""

    refund_id: str = Field(min_length=1, max_length=36)
    receipt_no: str
    lines: list[RefundedUnits]
    payments: list[RefundedMoney]


class StoreSale(WireModel):
    """Another till's sale as the OMS holds it, for a refund at any till of the store: the
    payload exactly as its till sent it, who sent it, and what was refunded of it since."""

    event_id: Id
    terminal: str
    occurred_at: AwareDatetime
    sale: SaleCompleted
    refunds: list[RefundRecord] = Field(default_factory=list)


# --- shifts and cash --------------------------------------------------------------------------


class ShiftOpened(WireModel):
    type: Literal["shift.opened"] = "shift.opened"
    shift_id: Id
    staff_id: Id
    opening_float: Money = Field(ge=0)


class TenderTotal(WireModel):
    tender: str
    count: int
    amount: Money


class ShiftClosed(WireModel):
    type: Literal["shift.closed"] = "shift.closed"
    shift_id: Id
    staff_id: Id
    z_number: int = Field(ge=1)
    opened_at: AwareDatetime
    sales_count: int
    sales_total: Money
    refunds_total: Money
    tax_total: Money
    discount_total: Money
    expected_cash: Money
    counted_cash: Money
    over_short: Money
    tenders: list[TenderTotal]


class CashMoved(WireModel):
    type: Literal["cash.moved"] = "cash.moved"
    movement_id: Id
    shift_id: Id
    staff_id: Id
    amount: Money = Field(description="positive into the drawer, negative out of it")
    reason: str = Field(min_length=1)


class OrderCollected(WireModel):
    type: Literal["order.collected"] = "order.collected"
    order_id: Id
    staff_id: Id


class OrderPaid(WireModel):
    type: Literal["order.paid"] = "order.paid"
    order_id: Id
    shift_id: Id
    staff_id: Id
    payments: list[PaymentWire] = Field(min_length=1)
    total: Money


class AuditRecorded(WireModel):
    type: Literal["audit.recorded"] = "audit.recorded"
    audit_id: Id
    action: str
    staff_id: Id | None = None
    approved_by: Id | None = None
    detail: dict = Field(default_factory=dict)


class StaffChanged(WireModel):
    """A staff member as the till holds them after a change made there (added, PIN changed or
    reset, deactivated or reactivated): the whole record, so that the last event delivered is
    the state. The scrypt hash travels, never the PIN."""

    type: Literal["staff.changed"] = "staff.changed"
    staff_id: Id
    name: str = Field(min_length=1, max_length=120)
    role: Literal["cashier", "manager"]
    pin_hash: PinHash
    active: bool


Payload = Annotated[
    SaleCompleted
    | SaleRefunded
    | ShiftOpened
    | ShiftClosed
    | CashMoved
    | OrderCollected
    | OrderPaid
    | AuditRecorded
    | StaffChanged,
    Field(discriminator="type"),
]

EVENT_TYPES = (
    "sale.completed",
    "sale.refunded",
    "shift.opened",
    "shift.closed",
    "cash.moved",
    "order.collected",
    "order.paid",
    "audit.recorded",
    "staff.changed",
)


class Event(WireModel):
    """The envelope of every till event."""

    id: Id
    schema_version: int = SCHEMA_VERSION
    type: str
    seq: int = Field(ge=1, description="the terminal's gap-free outbox sequence number")
    occurred_at: AwareDatetime
    tz: str = Field(description="the store's IANA time zone, e.g. Asia/Jakarta")
    depends_on: list[Id] = Field(
        default_factory=list, description="events that must be accepted before this one"
    )
    # SerializeAsAny: the union's serializer would try each member; the payload knows its type.
    payload: SerializeAsAny[Payload]

    _check_id = field_validator("id")(classmethod(lambda cls, v: _uuid7(v)))

    @field_validator("type")
    @classmethod
    def _type_matches(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r}")
        return value

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Event:
        if self.payload.type != self.type:
            raise ValueError(f"event type {self.type!r} but payload is {self.payload.type!r}")
        return self

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode()


def event_digest(raw: bytes) -> str:
    """SHA-256 of an event exactly as sent: how the OMS tells a re-delivery from a conflict."""
    return hashlib.sha256(raw).hexdigest()


# --- the batch, the OMS's answers and the heartbeat -------------------------------------------

MAX_BATCH = 1000


class EventBatch(BaseModel):
    """The body of POST /api/v1/sync/events: each event as the JSON text of the exact bytes
    the till stored (`Event.to_bytes().decode()`). JSON carries a string losslessly, so the OMS
    gets the very bytes back with `.encode()` and compares their SHA-256 (`event_digest`)."""

    model_config = ConfigDict(extra="forbid")
    events: list[str] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each event exactly as the till stored it: Event JSON text",
    )


class EventOutcome(WireModel):
    id: str
    seq: int | None = None
    outcome: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class EventBatchResult(WireModel):
    results: list[EventOutcome]
    last_accepted_seq: int


class DeviceStatus(WireModel):
    name: str
    state: Literal["ok", "warning", "offline", "disabled"]
    detail: str = ""


class Heartbeat(WireModel):
    schema_version: int = SCHEMA_VERSION
    version: str
    outbox_depth: int = Field(ge=0)
    quarantined: int = Field(0, ge=0)
    last_seq: int = Field(ge=0)
    clock: AwareDatetime
    devices: list[DeviceStatus] = Field(default_factory=list)


class EnrolRequest(WireModel):
    code: str = Field(min_length=6, max_length=64)
    name: str = Field(min_length=1, max_length=80)


class EnrolResponse(WireModel):
    terminal_id: Id
    terminal_code: str
    store_code: str
    store_name: str
    token: str
    last_seq: int
    last_receipt_seq: int


# --- till releases ----------------------------------------------------------------------------


class ReleaseOffer(BaseModel):
    """A newer till release the OMS offers in its heartbeat answer. `url` is a path on the
    same OMS (the till fetches it with its own token, so never from another host); `sha256`
    and `size` check the download, while the bundle's signature is checked by the till's
    updater, not trusted from the OMS."""

    # Not WireModel's extra="forbid": a later OMS may say more about a release, and a till
    # must not stop updating because of a field it does not know.
    model_config = ConfigDict(frozen=True)

    version: str = Field(min_length=1, max_length=40, pattern=r"^[0-9][0-9a-z.]*$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=1)
    url: str = Field(pattern=r"^/[^/]", max_length=200)
