import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from retail.ids import token, uuid7
from retail.pins import hash_secret
from retail.schema import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    AuditRecorded,
    CashMoved,
    DeviceStatus,
    EnrolRequest,
    EnrolResponse,
    Event,
    EventBatchResult,
    EventOutcome,
    Heartbeat,
    OrderCollected,
    OrderPaid,
    PaymentWire,
    RefundLineWire,
    SaleCompleted,
    SaleLineWire,
    SaleRefunded,
    ShiftClosed,
    ShiftOpened,
    StaffChanged,
    TaxWire,
    TenderTotal,
    event_digest,
)

AT = datetime(2026, 5, 1, 3, 4, 5, 678000, tzinfo=UTC)
PPN = TaxWire(code="PPN", rate_bp=1200, base_num=11, base_den=12)


def ids(n):
    return [uuid7() for _ in range(n)]


def sale_line(**kw):
    fields = dict(
        line_id=uuid7(),
        line_no=1,
        product_id=uuid7(),
        sku="IDM-0001",
        barcode="8991234567890",
        name="Indomie Goreng",
        qty=3,
        unit_price=4500,
        gross=13500,
        promo_discount=3500,
        total=10000,
        tax=PPN,
        tax_amount=991,
        tax_base=8265,
        net=9009,
        promotion="3 for Rp10.000",
    )
    return SaleLineWire(**fields | kw)


def payment(**kw):
    fields = dict(payment_id=uuid7(), tender="cash", amount=10000, tendered=20000, change=10000)
    return PaymentWire(**fields | kw)


def payloads():
    shift, staff, sale = ids(3)
    return {
        "sale.completed": SaleCompleted(
            sale_id=sale,
            receipt_no="T01-000041",
            receipt_seq=41,
            shift_id=shift,
            staff_id=staff,
            staff_name="Sari",
            lines=[
                sale_line(),
                sale_line(
                    line_no=2,
                    product_id=None,
                    sku=None,
                    barcode="2012345012345",
                    name="Daging sapi",
                    unit="kg",
                    qty=1,
                    weight_g=512,
                    unit_price=89000,
                    gross=45568,
                    promo_discount=0,
                    total=45568,
                    tax=TaxWire(code="FREE", rate_bp=0, base_num=1, base_den=1),
                    tax_amount=0,
                    tax_base=45568,
                    net=45568,
                    promotion=None,
                ),
            ],
            payments=[payment(amount=55500, tendered=60000, change=4500)],
            subtotal=59068,
            discount_total=3500,
            rounding=-68,
            total=55568,
            tax_total=991,
            ereceipt_token=token(),
        ),
        "sale.refunded": SaleRefunded(
            refund_id=uuid7(),
            sale_id=sale,
            sale_receipt_no="T01-000041",
            receipt_no="T01-R000003",
            receipt_seq=3,
            shift_id=shift,
            staff_id=staff,
            approved_by=uuid7(),
            reason="rusak",
            lines=[
                RefundLineWire(
                    sale_line_id=uuid7(),
                    line_no=1,
                    name="Indomie Goreng",
                    qty=1,
                    amount=3334,
                    tax_amount=331,
                )
            ],
            payments=[payment(amount=-3300, tendered=None, change=0)],
            rounding=34,
            total=-3300,
            tax_total=-331,
        ),
        "shift.opened": ShiftOpened(shift_id=shift, staff_id=staff, opening_float=200000),
        "shift.closed": ShiftClosed(
            shift_id=shift,
            staff_id=staff,
            z_number=7,
            opened_at=AT,
            sales_count=12,
            sales_total=1_250_000,
            refunds_total=3300,
            tax_total=120000,
            discount_total=5000,
            expected_cash=900_000,
            counted_cash=899_500,
            over_short=-500,
            tenders=[TenderTotal(tender="cash", count=10, amount=700_000)],
        ),
        "cash.moved": CashMoved(
            movement_id=uuid7(), shift_id=shift, staff_id=staff, amount=-50000, reason="galon"
        ),
        "order.collected": OrderCollected(order_id=uuid7(), staff_id=staff),
        "order.paid": OrderPaid(
            order_id=uuid7(),
            shift_id=shift,
            staff_id=staff,
            payments=[
                payment(tender="qris", amount=75000, tendered=None, change=0, reference="Q1")
            ],
            total=75000,
        ),
        "audit.recorded": AuditRecorded(
            audit_id=uuid7(), action="drawer_open", staff_id=staff, detail={"reason": "no sale"}
        ),
        "staff.changed": StaffChanged(
            staff_id=staff,
            name="Ani",
            role="cashier",
            pin_hash=hash_secret("4821", n=16),
            active=True,
        ),
    }


def event(payload, **kw) -> Event:
    fields = dict(
        id=uuid7(), type=payload.type, seq=1, occurred_at=AT, tz="Asia/Jakarta", payload=payload
    )
    return Event(**fields | kw)


def errors_of(model, data) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        if isinstance(data, (bytes, str)):
            model.model_validate_json(data)
        else:
            model.model_validate(data)
    return info.value.errors()


def test_every_event_type_has_a_payload():
    assert set(payloads()) == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 9


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_each_event_round_trips_through_its_bytes(kind):
    payload = payloads()[kind]
    ev = event(payload, seq=41, depends_on=[uuid7()])
    raw = ev.to_bytes()
    assert isinstance(raw, bytes)
    back = Event.model_validate_json(raw)
    assert back == ev
    assert type(back.payload) is type(payload)
    assert back.payload.type == kind == back.type
    assert back.to_bytes() == raw  # re-serialising gives the very same bytes
    assert event_digest(back.to_bytes()) == event_digest(raw)
    body = json.loads(raw)
    assert body["schema_version"] == SCHEMA_VERSION
    assert body["occurred_at"] == "2026-05-01T03:04:05.678000Z"


def test_nones_are_sent_explicitly():
    # The bytes are stored once and compared by digest: every field is always there.
    raw = event(payloads()["sale.completed"]).to_bytes()
    body = json.loads(raw)
    assert body["payload"]["customer_id"] is None
    assert body["payload"]["lines"][1]["product_id"] is None


def test_sale_lines_carry_what_was_sold():
    line = payloads()["sale.completed"].lines[0]
    for name in ("product_id", "sku", "barcode", "name", "unit_price", "tax", "total"):
        assert getattr(line, name) is not None


def test_envelope_type_must_match_the_payload():
    payload = payloads()["shift.opened"]
    with pytest.raises(ValidationError) as info:
        event(payload, type="cash.moved")
    assert "event type 'cash.moved' but payload is 'shift.opened'" in str(info.value)


def test_envelope_type_mismatch_from_the_wire():
    body = json.loads(event(payloads()["cash.moved"]).to_bytes())
    body["type"] = "order.collected"
    errs = errors_of(Event, json.dumps(body))
    assert "event type 'order.collected' but payload is 'cash.moved'" in errs[0]["msg"]


def test_unknown_event_type_is_rejected():
    body = json.loads(event(payloads()["shift.opened"]).to_bytes())
    body["type"] = "sale.voided"
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == ("type",)
    assert "unknown event type 'sale.voided'" in errs[0]["msg"]


def test_unknown_payload_type_is_rejected():
    body = json.loads(event(payloads()["shift.opened"]).to_bytes())
    body["payload"]["type"] = "sale.voided"
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == ("payload",)
    assert "'sale.voided'" in errs[0]["msg"]


@pytest.mark.parametrize(
    "bad_id",
    [
        "b3260810-1eae-4071-8c24-83a691d9687c",  # v4
        str(uuid.uuid1()),
        "x" * 36,
    ],
)
def test_envelope_id_must_be_uuid7(bad_id):
    body = json.loads(event(payloads()["shift.opened"]).to_bytes())
    body["id"] = bad_id
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == ("id",)
    assert f"{bad_id!r} is not a UUIDv7" in errs[0]["msg"]


@pytest.mark.parametrize("bad_id", ["", "123", uuid7() + "0"])
def test_ids_must_be_36_characters(bad_id):
    body = json.loads(event(payloads()["shift.opened"]).to_bytes())
    body["id"] = bad_id
    assert errors_of(Event, body)[0]["loc"] == ("id",)
    body = json.loads(event(payloads()["shift.opened"]).to_bytes())
    body["payload"]["shift_id"] = bad_id
    assert errors_of(Event, body)[0]["loc"] == ("payload", "shift.opened", "shift_id")


def test_extra_fields_are_rejected_everywhere():
    body = json.loads(event(payloads()["sale.completed"]).to_bytes())
    body["extra"] = 1
    errs = errors_of(Event, body)
    assert (errs[0]["loc"], errs[0]["type"]) == (("extra",), "extra_forbidden")

    body = json.loads(event(payloads()["sale.completed"]).to_bytes())
    body["payload"]["lines"][0]["colour"] = "red"
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == ("payload", "sale.completed", "lines", 0, "colour")
    assert errs[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        (("seq",), 0, ("seq",)),
        (("payload", "lines"), [], ("payload", "sale.completed", "lines")),
        (("payload", "payments"), [], ("payload", "sale.completed")),
        (("payload", "receipt_seq"), 0, ("payload", "sale.completed", "receipt_seq")),
        (("payload", "ereceipt_token"), "short", ("payload", "sale.completed", "ereceipt_token")),
        (("payload", "lines", 0, "qty"), 0, ("payload", "sale.completed", "lines", 0, "qty")),
        (
            ("payload", "lines", 0, "unit"),
            "box",
            ("payload", "sale.completed", "lines", 0, "unit"),
        ),
        (
            ("payload", "lines", 0, "tax", "rate_bp"),
            10001,
            ("payload", "sale.completed", "lines", 0, "tax", "rate_bp"),
        ),
        (
            ("payload", "payments", 0, "tender"),
            "bitcoin",
            ("payload", "sale.completed", "payments", 0, "tender"),
        ),
        (
            ("payload", "lines", 0, "total"),
            "10000.5",
            ("payload", "sale.completed", "lines", 0, "total"),
        ),
    ],
)
def test_bad_fields_are_named(path, value, loc):
    body = json.loads(event(payloads()["sale.completed"]).to_bytes())
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == loc


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("pin_hash", "4821", "pin_hash is not scrypt"),
        ("pin_hash", "scrypt$16$8$1$zz$00", "pin_hash is not scrypt"),
        ("role", "owner", "'cashier' or 'manager'"),
        ("name", "", "at least 1 character"),
        ("active", None, "valid boolean"),
    ],
)
def test_a_staff_change_names_the_bad_field(field, value, reason):
    # The PIN itself never travels: only a well-formed scrypt hash passes.
    body = json.loads(event(payloads()["staff.changed"]).to_bytes())
    body["payload"][field] = value
    errs = errors_of(Event, body)
    assert errs[0]["loc"] == ("payload", "staff.changed", field)
    assert reason in errs[0]["msg"]


def test_models_are_frozen():
    ev = event(payloads()["shift.opened"])
    with pytest.raises(ValidationError):
        ev.seq = 2


def test_event_digest_is_sha256_of_the_bytes():
    raw = event(payloads()["shift.opened"]).to_bytes()
    assert event_digest(raw) == hashlib.sha256(raw).hexdigest()
    assert event_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert event_digest(raw) == event_digest(bytes(raw))
    assert event_digest(raw) != event_digest(raw + b" ")


def test_same_event_same_bytes_other_content_other_digest():
    ev = event(payloads()["cash.moved"])
    again = Event.model_validate_json(ev.to_bytes())
    assert event_digest(again.to_bytes()) == event_digest(ev.to_bytes())
    changed = ev.model_copy(update={"seq": 2})
    assert event_digest(changed.to_bytes()) != event_digest(ev.to_bytes())


# --- the OMS's answers and the heartbeat ------------------------------------------------------


def test_batch_result_round_trip():
    result = EventBatchResult(
        results=[
            EventOutcome(id=uuid7(), seq=1, outcome="accepted"),
            EventOutcome(id=uuid7(), seq=2, outcome="duplicate"),
            EventOutcome(id=uuid7(), seq=3, outcome="rejected", reason="same id, other bytes"),
        ],
        last_accepted_seq=2,
    )
    assert EventBatchResult.model_validate_json(result.model_dump_json()) == result
    errs = errors_of(EventOutcome, {"id": uuid7(), "outcome": "lost"})
    assert errs[0]["loc"] == ("outcome",)


def test_heartbeat():
    hb = Heartbeat(
        version="0.1.0",
        outbox_depth=3,
        last_seq=41,
        clock=AT,
        devices=[DeviceStatus(name="printer", state="offline", detail="paper out")],
    )
    assert hb.schema_version == SCHEMA_VERSION
    assert Heartbeat.model_validate_json(hb.model_dump_json()) == hb
    data = json.loads(hb.model_dump_json())
    data["outbox_depth"] = -1
    assert errors_of(Heartbeat, data)[0]["loc"] == ("outbox_depth",)
    data = json.loads(hb.model_dump_json())
    data["devices"][0]["state"] = "on fire"
    assert errors_of(Heartbeat, data)[0]["loc"] == ("devices", 0, "state")


def test_enrolment():
    EnrolRequest(code="ABC123", name="Kasir 1")
    assert errors_of(EnrolRequest, {"code": "ABC", "name": "Kasir 1"})[0]["loc"] == ("code",)
    assert errors_of(EnrolRequest, {"code": "ABC123", "name": ""})[0]["loc"] == ("name",)
    resp = EnrolResponse(
        terminal_id=uuid7(),
        terminal_code="T01",
        store_code="S01",
        store_name="Toko Maju",
        token=token(32),
        last_seq=0,
        last_receipt_seq=0,
    )
    assert EnrolResponse.model_validate_json(resp.model_dump_json()) == resp
