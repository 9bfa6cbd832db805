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
  order.collected / order.paid → the pickup order; staff.changed → the store's staff member,
  which the store's tills then pull; shifts, cash and audit events are kept as received) and
  `accepted`. A booking that raises is `rejected` with its message.

Rejected events are stored (one row per distinct content) for the owner to see; a till that
re-sends a rejected event gets it evaluated again, so one rejected for a missing dependency is
accepted once the dependency is. The terminal and store always come from the token.

Concurrency and cost: the batch's stored rows are read once up front, so a re-delivered batch
is answered from that read without writing anything. New events are then booked in runs: a run
is consecutive new, valid sales (and events that are only kept) of the batch, booked in one
transaction with a handful of statements whatever its length (`orders.book_store_sales`: one
multi-row insert per table, the run's stock levels locked once in product order and updated
once), which is what lets ten tills' batches through at the rate the database can commit them.
Anything else — a refund, a pickup, an event sent before, an invalid one, one depending on an
event of the current run — ends the run and is booked on its own, in a transaction of its own.

An event's row is inserted before its booking, under a partial unique index that allows one
accepted row per event id: a concurrent delivery of the same event waits for the first
transaction, then fails on the index (one event) or skips the row (a run, which inserts with
ON CONFLICT DO NOTHING and books only the rows it inserted) and answers `duplicate` from the
stored row. A deadlock or serialisation failure re-runs the transaction. If a run fails for
any other reason — one of its sales cannot be booked — it rolls back and its events are booked
one at a time, so only the bad one is rejected, with the reason the per-event path gives. A
booking that raises rolls back with its transaction, and the rejection is stored in a new one.
The terminal's counters (last seq, last accepted seq, last receipt seq) are raised to the
batch's highs at the end, with GREATEST/MAX, so deliveries finishing in any order agree.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from peewee import IntegrityError, InterfaceError, OperationalError, fn
from pydantic import ValidationError

from retail.ids import utcnow
from retail.schema import (
    EVENT_TYPES,
    SUPPORTED_SCHEMA_VERSIONS,
    Event,
    EventBatch,
    EventBatchResult,
    EventOutcome,
    event_digest,
)

from . import catalog, orders
from .db import atomic, db, is_postgres
from .models.core import Store, SyncEvent, Terminal

log = logging.getLogger(__name__)

__all__ = ["EVENT_TYPES", "EventBatch", "ingest", "payload_of", "sequence_gaps", "stored_sale"]

MAX_EVENT_BYTES = 1_000_000
ATTEMPTS = 4
# Event types a run may hold: sales, and the events that are only kept as received.
RUN_TYPES = frozenset(
    {"sale.completed", "shift.opened", "shift.closed", "cash.moved", "audit.recorded"}
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
class _Known:
    """What the database already holds about the batch's events and their dependencies."""

    accepted: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (digest, terminal)
    rejected: dict[tuple, str] = field(default_factory=dict)  # (id, digest) -> reason
    rejected_ids: dict[str, str] = field(default_factory=dict)  # id -> a reason


class _Duplicate(Exception):
    """The event was accepted by a concurrent delivery while this one booked it."""


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
    store = Store.get_by_id(terminal.store_id)
    known = _load_known(store, items)
    outcomes: list[Outcome | None] = [None] * len(items)
    run = _Run()
    for item in items:
        if not run.takes(item, known):
            _settle_run(store, terminal, run.items, known, outcomes)
            run = _Run()
            if not run.takes(item, known):
                outcomes[item.index] = _evaluate(store, terminal, item, known)
                continue
        run.add(item)
    _settle_run(store, terminal, run.items, known, outcomes)
    top_seq = top_accepted = top_receipt = 0
    for item, outcome in zip(items, outcomes, strict=True):
        if item.seq is not None:
            top_seq = max(top_seq, item.seq)
        if outcome.outcome == "accepted":
            top_accepted = max(top_accepted, item.event.seq)
            if item.event.type in ("sale.completed", "sale.refunded"):
                top_receipt = max(top_receipt, item.event.payload.receipt_seq)
    last_accepted = _raise_counters(terminal, top_seq, top_accepted, top_receipt)
    results = [
        EventOutcome(id=item.event_id or "", seq=item.seq, outcome=o.outcome, reason=o.reason)
        for item, o in zip(items, outcomes, strict=True)
    ]
    return EventBatchResult(results=results, last_accepted_seq=last_accepted)


def _load_known(store: Store, items: list[Parsed]) -> _Known:
    """One look at the stored rows for every id the batch names or depends on."""
    known = _Known()
    ids = list({i.event_id for i in items if i.event_id})
    deps = list({d for i in items if i.event for d in i.event.depends_on} - set(ids))
    columns = (
        SyncEvent.event_id,
        SyncEvent.digest,
        SyncEvent.terminal,
        SyncEvent.store,
        SyncEvent.outcome,
        SyncEvent.reason,
    )
    for part in _chunks(ids + deps):
        for row in SyncEvent.select(*columns).where(SyncEvent.event_id.in_(part)):
            if row.outcome == "accepted":
                if row.store_id == store.id or row.event_id in ids:
                    known.accepted[row.event_id] = (row.digest, row.terminal_id)
            else:
                known.rejected[(row.event_id, row.digest)] = row.reason
                if row.store_id == store.id:
                    known.rejected_ids.setdefault(row.event_id, row.reason)
    anonymous = list({i.digest for i in items if not i.event_id})
    for part in _chunks(anonymous):
        rows = SyncEvent.select(SyncEvent.digest, SyncEvent.reason).where(
            SyncEvent.event_id.is_null() & SyncEvent.digest.in_(part)
        )
        for row in rows:
            known.rejected[(None, row.digest)] = row.reason
    return known


def _evaluate(store: Store, term: Terminal, item: Parsed, known: _Known) -> Outcome:
    for attempt in range(1, ATTEMPTS + 1):
        have = known.accepted.get(item.event_id) if item.event_id else None
        if have is not None:
            return _against_accepted(store, term, item, known, have)
        if item.reason:
            return _reject(store, term, item, known, item.reason)
        problem = _dependency_problem(item.event, known)
        if problem:
            return _reject(store, term, item, known, problem)
        try:
            return _accept(store, term, item, known)
        except _Duplicate:
            row = SyncEvent.get(
                (SyncEvent.event_id == item.event_id) & (SyncEvent.outcome == "accepted")
            )
            known.accepted[item.event_id] = (row.digest, row.terminal_id)
        except OperationalError as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.info("event %s retried after %s", item.event_id, exc)
    raise RuntimeError(f"event {item.event_id} could not be settled")  # pragma: no cover


def _against_accepted(store, term, item: Parsed, known: _Known, have) -> Outcome:
    digest, owner = have
    if owner != term.id:
        reason = f"event id {item.event_id} was already used by another terminal"
    elif digest == item.digest:
        return Outcome("duplicate")
    else:
        reason = (
            f"event {item.event_id} was already accepted with other content "
            f"(sha256 {digest[:12]}…, this one {item.digest[:12]}…)"
        )
    return _reject(store, term, item, known, reason)


def _dependency_problem(event: Event, known: _Known) -> str | None:
    for dep in event.depends_on:
        if dep in known.accepted:
            continue
        if dep in known.rejected_ids:
            return f"depends on rejected event {dep} ({known.rejected_ids[dep]})"
        return f"depends on event {dep}, which this OMS has not accepted"
    return None


def _accept(store: Store, term: Terminal, item: Parsed, known: _Known) -> Outcome:
    """Book the event and store it as accepted, in one transaction of its own. The row goes
    in first: a concurrent delivery of the same event waits on the unique index and then
    fails, and answers `duplicate` (see `_evaluate`)."""
    try:
        with atomic():
            revived = known.rejected.get((item.event_id, item.digest))
            try:
                revived = (
                    revived
                    and SyncEvent.update(outcome="accepted", reason=None)
                    .where(
                        (SyncEvent.event_id == item.event_id)
                        & (SyncEvent.digest == item.digest)
                        & (SyncEvent.outcome == "rejected")
                    )
                    .execute()
                )
                if not revived:
                    SyncEvent.insert(_row(item, store, term, "accepted", None)).execute()
            except IntegrityError:
                raise _Duplicate() from None  # rolls the transaction back
            _dispatch(store, term, item.event)
    except (_Duplicate, OperationalError, InterfaceError):
        raise
    except Exception as exc:  # the owner sees it; a re-send after a fix is evaluated again
        if not isinstance(exc, ValueError | LookupError) and type(exc).__name__ != (
            "IllegalTransition"
        ):
            log.exception("booking %s %s failed", item.event.type, item.event_id)
        return _reject(store, term, item, known, str(exc) or type(exc).__name__)
    known.accepted[item.event_id] = (item.digest, term.id)
    return Outcome("accepted")


# --- runs: consecutive new events booked together -----------------------------------------


@dataclass
class _Run:
    """Consecutive events of a batch to book in one transaction (see `_book_run`)."""

    items: list[Parsed] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    sale_ids: set[str] = field(default_factory=set)

    def takes(self, item: Parsed, known: _Known) -> bool:
        """Whether `item` can join: a valid new sale, or an event that is only kept, that the
        per-event path would accept without a second look (not a duplicate, a conflict, a
        rejected delivery sent again, nor an event whose dependency is missing or is in this
        run), whose event id and sale id the run does not hold yet."""
        event = item.event
        if item.reason or event is None or event.type not in RUN_TYPES:
            return False
        if item.event_id in self.ids or item.event_id in known.accepted:
            return False
        if (item.event_id, item.digest) in known.rejected or _dependency_problem(event, known):
            return False
        return event.type != "sale.completed" or event.payload.sale_id not in self.sale_ids

    def add(self, item: Parsed) -> None:
        self.items.append(item)
        self.ids.add(item.event_id)
        if item.event.type == "sale.completed":
            self.sale_ids.add(item.event.payload.sale_id)


def _settle_run(store: Store, term: Terminal, run: list[Parsed], known: _Known, outcomes) -> None:
    """Book a run in one transaction (see `_book_run`); if that fails for any reason but a lost
    connection, book its events one at a time, which rejects only the bad one."""
    if not run:
        return
    if len(run) > 1:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                taken = _book_run(store, term, run)
            except InterfaceError:
                raise
            except OperationalError as exc:
                if attempt < ATTEMPTS and _retryable(exc):
                    log.info("run of %d events retried after %s", len(run), exc)
                    continue
                log.info("run of %d events booked one by one after %s", len(run), exc)
                break
            except Exception as exc:  # a bad event: find it the slow way
                log.info("run of %d events booked one by one after %r", len(run), exc)
                break
            for item in run:
                if item.event_id in taken:
                    known.accepted[item.event_id] = (item.digest, term.id)
                    outcomes[item.index] = Outcome("accepted")
            late = [item for item in run if item.event_id not in taken]
            if late:  # accepted by a concurrent delivery: answered from its stored row
                _load_accepted(known, [item.event_id for item in late])
            run = late
            break
    for item in run:
        outcomes[item.index] = _evaluate(store, term, item, known)


def _book_run(store: Store, term: Terminal, run: list[Parsed]) -> set[str]:
    """Store the run's events as accepted and book them, in one transaction; returns the ids
    taken. The rows go in first, in event-id order, skipping ids already accepted: a
    concurrent delivery of the same events waits on the unique index for this transaction,
    then skips them in turn and answers from the stored rows."""
    now = utcnow()
    with atomic():
        taken = set()
        rows = [_row(item, store, term, "accepted", None, now) for item in run]
        rows.sort(key=lambda row: row["event_id"])
        for part in _chunks(rows, 200):
            inserted = (
                SyncEvent.insert_many(part)
                .on_conflict_ignore()
                .returning(SyncEvent.event_id)
                .tuples()
                .execute()
            )
            taken.update(event_id for (event_id,) in inserted)
        sales = [
            (item.event.payload, item.event)
            for item in run
            if item.event_id in taken and item.event.type == "sale.completed"
        ]
        orders.book_store_sales(store, term, sales)
    return taken


def _load_accepted(known: _Known, ids: list[str]) -> None:
    for part in _chunks(ids):
        rows = SyncEvent.select(SyncEvent.event_id, SyncEvent.digest, SyncEvent.terminal).where(
            SyncEvent.event_id.in_(part) & (SyncEvent.outcome == "accepted")
        )
        for row in rows:
            known.accepted[row.event_id] = (row.digest, row.terminal_id)


def _reject(store: Store, term: Terminal, item: Parsed, known: _Known, reason: str) -> Outcome:
    """Store a rejected delivery once per distinct content (id and digest)."""
    key = (item.event_id, item.digest)
    if key not in known.rejected:
        with atomic():
            SyncEvent.insert(
                _row(item, store, term, "rejected", reason)
            ).on_conflict_ignore().execute()
        known.rejected[key] = reason
    if item.event_id:
        known.rejected_ids.setdefault(item.event_id, reason)
    return Outcome("rejected", reason)


def _raise_counters(term: Terminal, top_seq: int, top_accepted: int, top_receipt: int) -> int:
    """Raise the terminal's counters to the batch's highs (never lower them: concurrent
    deliveries may finish in any order); returns the highest accepted seq."""
    greatest = fn.GREATEST if is_postgres() else fn.MAX
    updates = {}
    if top_seq:
        updates["last_seq"] = greatest(Terminal.last_seq, top_seq)
    if top_accepted:
        updates["last_accepted_seq"] = greatest(Terminal.last_accepted_seq, top_accepted)
    if top_receipt:
        updates["last_receipt_seq"] = greatest(Terminal.last_receipt_seq, top_receipt)
    if updates:
        with atomic():
            Terminal.update(**updates).where(Terminal.id == term.id).execute()
    return Terminal.select(Terminal.last_accepted_seq).where(Terminal.id == term.id).scalar()


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    code = getattr(exc.__cause__, "sqlstate", None) or getattr(exc.__context__, "sqlstate", None)
    return code in ("40P01", "40001") or "deadlock" in text or "database is locked" in text


def _row(
    item: Parsed, store: Store, term: Terminal, outcome: str, reason: str | None, at=None
) -> dict:
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
        "received_at": at or utcnow(),
    }


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
    elif payload.type == "staff.changed":
        catalog.book_till_staff(store, payload)
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
    return event_of(raw)["payload"]


def event_of(raw: bytes) -> dict:
    """A stored event, as the till wrote it."""
    return json.loads(raw)


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
