"""The till's outbox: every real event, stored once as the bytes that will be sent.

    >>> with database.atomic():                       # doctest: +SKIP
    ...     enqueue(ShiftOpened(...), tz="Asia/Jakarta")

Call `enqueue` inside the transaction that makes the event true (the sale, the refund...): the
event and its cause commit together or not at all, and the gap-free sequence number goes back
with a rollback. The uploader resends these exact bytes until the OMS answers.
"""

from __future__ import annotations

from datetime import datetime

from retail.ids import iso, utcnow, uuid7
from retail.schema import Event

from .store.db import next_number
from .store.models import db

_INSERT = (
    'INSERT INTO "outbox" ("seq", "id", "type", "payload", "created_at", "state", '
    "\"attempts\") VALUES (?, ?, ?, ?, ?, 'pending', 0)"
)


def enqueue(
    payload,
    *,
    tz: str,
    occurred_at: datetime | None = None,
    depends_on: tuple[str, ...] = (),
    event_id: str | None = None,
) -> Event:
    """Wrap `payload` (a retail.schema payload model) in an Event and store it."""
    if not db.in_transaction():
        raise RuntimeError("outbox.enqueue must run inside the transaction that causes it")
    occurred_at = occurred_at or utcnow()
    seq = next_number("outbox_seq")
    event = Event(
        id=event_id or uuid7(),
        type=payload.type,
        seq=seq,
        occurred_at=occurred_at,
        tz=tz,
        depends_on=list(depends_on),
        payload=payload,
    )
    db.execute_sql(_INSERT, (seq, event.id, event.type, event.to_bytes(), iso(occurred_at)))
    return event


def depth() -> dict[str, int]:
    rows = db.execute_sql("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    counts = {"pending": 0, "delivered": 0, "quarantined": 0}
    counts.update(dict(rows))
    return counts
