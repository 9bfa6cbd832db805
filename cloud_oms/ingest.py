"""Till events in: each one accepted, recognised as a duplicate, or rejected with a reason.

    POST /api/v1/sync/events        Authorization: Bearer <terminal token>
    {"events": ["{\\"id\\":\\"0190...\\",\\"seq\\":41,...}", "{...}"]}
    → {"results": [{"id": "0190...", "seq": 41, "outcome": "accepted", "reason": null}, ...],
       "last_accepted_seq": 42}

The batch wire format: a JSON object whose `events` member is an array of **strings**, each
string being one event exactly as the till stored it (`retail.schema.Event.to_bytes()` decoded
as UTF-8). JSON carries a string losslessly, so `string.encode("utf-8")` gives back the very
bytes the till stored and hashes them to the same `retail.schema.event_digest`; the envelope
around them may be re-encoded freely by any HTTP layer. At most `MAX_BATCH` events per batch.

For every event, in order:
- same id as an accepted event, same SHA-256 → `duplicate` (nothing changes);
- same id as an accepted event, other bytes → `rejected` ("same id, other content");
- not UTF-8 / not JSON / no id → `rejected`; `schema_version` this OMS does not know →
  `rejected`; a body `retail.schema.Event` refuses → `rejected` naming the field;
- `depends_on` naming an event that is not accepted (rejected, or unknown to the store) →
  `rejected` with that event's id and why;
- otherwise booked through `cloud_oms.orders` (sale → completed store order, refund → return,
  order.collected / order.paid → the pickup order; shifts, cash and audit events are kept as
  received) and `accepted`. A booking that raises is `rejected` with its message.

Rejected events are stored (one row per distinct content) for the owner to see; a till that
re-sends a rejected event gets it evaluated again, so one rejected for a missing dependency is
accepted once the dependency is. The terminal and store always come from the token.

Concurrency: a batch is one transaction that first locks its terminal's row, so two deliveries
of the same batch (a till retrying while its first request still runs, or two worker processes)
run one after the other and the second sees the first's rows: `duplicate`. A partial unique
index allows one accepted row per event id whatever happens; a collision (the same id sent by
two terminals at once) or a deadlock rolls the batch back and runs it again. Bookings normally
run without savepoints; when one fails, the batch is rolled back and re-run with a savepoint
around each booking so that only the failing event is rejected.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from peewee import IntegrityError, InterfaceError, OperationalError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retail.ids import utcnow
from retail.schema import (
    EVENT_TYPES,
    SUPPORTED_SCHEMA_VERSIONS,
    Event,
    EventBatchResult,
    EventOutcome,
    event_digest,
)

from . import orders
from .db import atomic, db, locked
from .models.core import Store, SyncEvent, Terminal

log = logging.getLogger(__name__)

__all__ = ["EVENT_TYPES", "EventBatch", "ingest", "payload_of", "sequence_gaps", "stored_sale"]

MAX_BATCH = 1000
MAX_EVENT_BYTES = 1_000_000
ATTEMPTS = 4


class EventBatch(BaseModel):
    """The request body of POST /api/v1/sync/events (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    events: list[str] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each event exactly as the till stored it: Event JSON text",
    )


@dataclass
class Parsed:
    """One event of a batch, read before the transaction."""

    index: int
    raw: bytes
    digest: str
    event_id: str | None = None
    seq: int | None = None
    type: str | None = None
    event: Event | None = None
    reason: str | None = None  # why it is rejected whatever the database holds
    ref: str | None = None  # receipt number of a sale or refund


@dataclass
class Outcome:
    outcome: str
    reason: str | None = None


@dataclass
class _Plan:
    """What a run of the batch decided, written at the end of its transaction."""

    outcomes: list[Outcome] = field(default_factory=list)
    new_rows: list[dict] = field(default_factory=list)
    revived: list[tuple[int, str]] = field(default_factory=list)  # (row id, digest) now accepted


class _NeedSavepoints(Exception):
    """A booking failed on the fast path: re-run the batch with savepoints."""


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - 5
    return "invalid event: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse(index: int, text: str) -> Parsed:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
        return Parsed(index, raw, event_digest(raw), reason="event is not valid UTF-8 text")
    parsed = Parsed(index, raw, event_digest(raw))
    if len(raw) > MAX_EVENT_BYTES:
        parsed.reason = f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}"
        return parsed
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        parsed.reason = f"event is not JSON: {exc}"
        return parsed
    if not isinstance(obj, dict):
        parsed.reason = "event is not a JSON object"
        return parsed
    if isinstance(obj.get("id"), str) and 0 < len(obj["id"]) <= 64:
        parsed.event_id = obj["id"]
    if isinstance(obj.get("seq"), int) and not isinstance(obj.get("seq"), bool):
        parsed.seq = obj["seq"] if 0 < obj["seq"] < 2**62 else None
    if isinstance(obj.get("type"), str):
        parsed.type = obj["type"][:32]
    if parsed.event_id is None:
        parsed.reason = "id: missing or not a string of 1-64 characters"
        return parsed
    version = obj.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS or isinstance(version, bool):
        known = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        parsed.reason = (
            f"schema_version {version!r} is not supported by this OMS (it reads {known})"
        )
        return parsed
    try:
        parsed.event = Event.model_validate_json(raw)
    except ValidationError as exc:
        parsed.reason = _validation_reason(exc)
        return parsed
    payload = parsed.event.payload
    if payload.type in ("sale.completed", "sale.refunded"):
        parsed.ref = payload.receipt_no[:64]
    return parsed


def ingest(terminal: Terminal, texts: list[str]) -> EventBatchResult:
    """Evaluate and store a batch from `terminal` (whose store is `terminal.store`)."""
    items = [parse(i, text) for i, text in enumerate(texts)]
    careful = False
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with atomic():
                plan, last_accepted = _run(terminal, items, careful)
            break
        except _NeedSavepoints:
            careful = True
        except (IntegrityError, OperationalError) as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.info("ingest batch of %s retried after %s", terminal.code, exc)
    results = [
        EventOutcome(id=item.event_id or "", seq=item.seq, outcome=o.outcome, reason=o.reason)
        for item, o in zip(items, plan.outcomes, strict=True)
    ]
    return EventBatchResult(results=results, last_accepted_seq=last_accepted)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent insert of the same event id: the re-run sees it
    text = str(exc).lower()
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None) or getattr(
        exc.__context__, "sqlstate", None
    )
    return code in ("40P01", "40001") or "deadlock" in text or "database is locked" in text


def _run(terminal: Terminal, items: list[Parsed], careful: bool) -> tuple[_Plan, int]:
    term = locked(Terminal, Terminal.id == terminal.id).get()
    store = Store.get_by_id(term.store_id)
    ids = list({i.event_id for i in items if i.event_id})
    deps = list({d for i in items if i.event for d in i.event.depends_on} - set(ids))

    accepted: dict[str, tuple[str, int]] = {}  # event id -> (digest, terminal id)
    rejected: dict[tuple[str, str], tuple[int, str]] = {}  # (id, digest) -> (row id, reason)
    rejected_ids: dict[str, str] = {}  # event id -> a reason it was rejected
    for part in _chunks(ids + deps):
        rows = SyncEvent.select(
            SyncEvent.id, SyncEvent.event_id, SyncEvent.digest, SyncEvent.terminal,
            SyncEvent.store, SyncEvent.outcome, SyncEvent.reason,
        ).where(SyncEvent.event_id.in_(part))  # fmt: skip
        for row in rows:
            if row.outcome == "accepted":
                if row.store_id == store.id or row.event_id in ids:
                    accepted[row.event_id] = (row.digest, row.terminal_id)
            else:
                rejected[(row.event_id, row.digest)] = (row.id, row.reason)
                if row.store_id == store.id:
                    rejected_ids.setdefault(row.event_id, row.reason)

    plan = _Plan()
    seen_rejections: set[tuple[str | None, str]] = set()
    last_receipt = term.last_receipt_seq
    top_seq = term.last_seq
    top_accepted = term.last_accepted_seq

    def reject(item: Parsed, reason: str) -> None:
        plan.outcomes.append(Outcome("rejected", reason))
        key = (item.event_id, item.digest)
        if key in rejected or key in seen_rejections:
            return  # already stored with this content
        seen_rejections.add(key)
        plan.new_rows.append(_row(item, store, term, "rejected", reason))
        if item.event_id:
            rejected_ids.setdefault(item.event_id, reason)

    for item in items:
        if item.seq is not None:
            top_seq = max(top_seq, item.seq)
        have = accepted.get(item.event_id) if item.event_id else None
        if have is not None:
            digest, owner = have
            if owner != term.id:
                reject(item, f"event id {item.event_id} was already used by another terminal")
            elif digest == item.digest:
                plan.outcomes.append(Outcome("duplicate"))
            else:
                reject(
                    item,
                    f"event {item.event_id} was already accepted with other content "
                    f"(sha256 {digest[:12]}…, this one {item.digest[:12]}…)",
                )
            continue
        if item.reason:
            reject(item, item.reason)
            continue
        event = item.event
        problem = None
        for dep in event.depends_on:
            if dep in accepted:
                continue
            if dep in rejected_ids:
                problem = f"depends on rejected event {dep} ({rejected_ids[dep]})"
            else:
                problem = f"depends on event {dep}, which this OMS has not accepted"
            break
        if problem:
            reject(item, problem)
            continue
        problem = _book(store, term, event, careful)
        if problem:
            reject(item, problem)
            continue
        plan.outcomes.append(Outcome("accepted"))
        accepted[item.event_id] = (item.digest, term.id)
        revived = rejected.get((item.event_id, item.digest))
        if revived:
            plan.revived.append((revived[0], item.digest))
        else:
            plan.new_rows.append(_row(item, store, term, "accepted", None))
        top_accepted = max(top_accepted, event.seq)
        if event.type in ("sale.completed", "sale.refunded"):
            last_receipt = max(last_receipt, event.payload.receipt_seq)

    for row_id, _digest in plan.revived:
        SyncEvent.update(outcome="accepted", reason=None).where(SyncEvent.id == row_id).execute()
    for part in _chunks(plan.new_rows, 200):
        SyncEvent.insert_many(part).execute()
    if (top_seq, top_accepted, last_receipt) != (
        term.last_seq,
        term.last_accepted_seq,
        term.last_receipt_seq,
    ):
        Terminal.update(
            last_seq=top_seq, last_accepted_seq=top_accepted, last_receipt_seq=last_receipt
        ).where(Terminal.id == term.id).execute()
    return plan, top_accepted


def _row(item: Parsed, store: Store, term: Terminal, outcome: str, reason: str | None) -> dict:
    return {
        "event_id": item.event_id,
        "digest": item.digest,
        "store": store.id,
        "terminal": term.id,
        "seq": item.seq,
        "type": item.type,
        "ref": item.ref,
        "body": item.raw,
        "outcome": outcome,
        "reason": reason,
        "received_at": utcnow(),
    }


def _book(store: Store, term: Terminal, event: Event, careful: bool) -> str | None:
    """Book an accepted event through the order services; the reason it failed, or None."""
    if not careful:
        try:
            _dispatch(store, term, event)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            log.info(
                "booking %s %s failed (%s); re-running with savepoints", event.type, event.id, exc
            )
            raise _NeedSavepoints() from exc
        return None
    try:
        with db.atomic():  # a savepoint: a failed booking leaves nothing behind
            _dispatch(store, term, event)
    except (OperationalError, InterfaceError):
        raise
    except IntegrityError as exc:
        return f"conflicts with a stored record: {exc}"
    except Exception as exc:  # the owner sees it; a re-send after a fix is evaluated again
        if (
            not isinstance(exc, ValueError | LookupError)
            and type(exc).__name__ != "IllegalTransition"
        ):
            log.exception("booking %s %s failed", event.type, event.id)
        return str(exc) or type(exc).__name__
    return None


def _dispatch(store: Store, term: Terminal, event: Event) -> None:
    payload = event.payload
    if payload.type == "sale.completed":
        orders.book_store_sale(store, term, payload, event)
    elif payload.type == "sale.refunded":
        orders.book_store_refund(store, term, payload, event)
    elif payload.type == "order.collected":
        orders.mark_collected(payload.order_id, f"terminal:{term.code}", store=store)
    elif payload.type == "order.paid":
        orders.record_till_payment(store, term, payload, event)
    # shift.opened, shift.closed, cash.moved, audit.recorded: the stored event is the record.


def _chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --- sequence gaps ----------------------------------------------------------------------------


def sequence_gaps(terminal_id: str, limit: int = 100) -> list[tuple[int, int]]:
    """Missing outbox sequence ranges (first, last) of a terminal, lowest first."""
    p = db.obj.param
    sql = (
        "SELECT prev + 1, seq - 1 FROM ("
        " SELECT seq, LAG(seq, 1, 0) OVER (ORDER BY seq) AS prev FROM ("
        f"  SELECT DISTINCT seq FROM sync_event WHERE terminal_id = {p} AND seq IS NOT NULL"
        " ) AS s"
        f") AS g WHERE seq > prev + 1 ORDER BY seq LIMIT {p}"
    )
    return [(a, b) for a, b in db.obj.execute_sql(sql, (terminal_id, limit)).fetchall()]


def payload_of(raw: bytes) -> dict:
    """The payload of a stored event, as the till wrote it."""
    return json.loads(raw)["payload"]


def stored_sale(store: Store, receipt_no: str) -> SyncEvent | None:
    """The accepted sale.completed event of `store` with that receipt number."""
    return (
        SyncEvent.select()
        .where(
            (SyncEvent.store == store.id)
            & (SyncEvent.type == "sale.completed")
            & (SyncEvent.ref == receipt_no)
            & (SyncEvent.outcome == "accepted")
        )
        .first()
    )
