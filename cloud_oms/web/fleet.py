"""The fleet: every till with last seen, version, outbox depth, quarantined and rejected events,
sequence gaps, clock skew and device status; a till not seen lately is highlighted, and so is
one running an older version than the release on offer (`kasir-oms release add`).

    GET /fleet
    GET /fleet/{terminal id}       rejected events with reasons, gaps, heartbeat history

"Not seen lately" is `KASIR_OMS_STALE_AFTER` seconds without a heartbeat (the same limit as the
`kasir_oms_tills_not_seen` metric). A clock more than `SKEW_WARN_MS` off is flagged: receipts
and sales would carry the wrong time.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Path, Request
from peewee import fn

from retail.ids import utcnow

from .. import db as dbmod
from .. import releases
from ..ingest import payload_of, sequence_gaps
from ..models.core import Store, SyncEvent, Terminal, TerminalHeartbeat, User
from . import core
from .core import render, signed_in

router = core.web_router()

SKEW_WARN_MS = 120_000
UUID = r"^[0-9a-fA-F-]{36}$"


def _status(t: Terminal, cutoff) -> str:
    if t.revoked_at is not None:
        return "revoked"
    if t.enrolled_at is None:
        return "not enrolled"
    if t.last_seen_at is None or t.last_seen_at < cutoff:
        return "stale"
    return "ok"


def _gap_count(gaps: list[tuple[int, int]]) -> int:
    return sum(b - a + 1 for a, b in gaps)


@router.get("/fleet")
def fleet(request: Request, user: User = Depends(signed_in)):
    stale_after = request.app.state.settings.stale_after_s
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after)
    with dbmod.session():
        stores = core.visible_stores(user)
        terminals = list(
            Terminal.select(Terminal, Store)
            .join(Store)
            .where(Terminal.store.in_([s.id for s in stores]))
            .order_by(Store.code, Terminal.code)
        )
        offered = releases.newest_active()
        rejected = dict(
            SyncEvent.select(SyncEvent.terminal, fn.COUNT(SyncEvent.id))
            .where(SyncEvent.outcome == "rejected")
            .group_by(SyncEvent.terminal)
            .tuples()
        )
        rows = []
        for t in terminals:
            gaps = sequence_gaps(t.id, limit=20) if t.enrolled_at else []
            rows.append(
                {
                    "t": t,
                    "status": _status(t, cutoff),
                    "rejected": rejected.get(t.id, 0),
                    "gaps": gaps,
                    "missing": _gap_count(gaps),
                    "skew_warn": t.clock_skew_ms is not None
                    and abs(t.clock_skew_ms) > SKEW_WARN_MS,
                    "devices": t.devices or [],
                    "older": offered is not None and releases.is_older(t.version, offered.version),
                }
            )
    stale = sum(1 for r in rows if r["status"] == "stale")
    return render(
        request,
        "fleet.html",
        title="Fleet",
        rows=rows,
        stale=stale,
        offered=offered,
        stale_after_min=stale_after // 60,
        now=now,
    )


@router.get("/fleet/{terminal_id}")
def terminal_page(
    request: Request, terminal_id: str = Path(pattern=UUID), user: User = Depends(signed_in)
):
    cutoff = utcnow() - timedelta(seconds=request.app.state.settings.stale_after_s)
    with dbmod.session():
        t = Terminal.get_or_none(Terminal.id == terminal_id)
        if t is None or (core.home_store(user) and t.store_id != user.store_id):
            raise core.NotFound(f"terminal {terminal_id} not found")
        store = Store.get_by_id(t.store_id)
        rejected = list(
            SyncEvent.select()
            .where((SyncEvent.terminal == t.id) & (SyncEvent.outcome == "rejected"))
            .order_by(SyncEvent.received_at.desc())
            .limit(100)
        )
        summaries = {}
        for ev in rejected:
            try:
                payload = payload_of(bytes(ev.body))
                summaries[ev.id] = payload.get("receipt_no") or ""
            except (ValueError, KeyError, TypeError, AttributeError):
                summaries[ev.id] = ""
        beats = list(
            TerminalHeartbeat.select()
            .where(TerminalHeartbeat.terminal == t.id)
            .order_by(TerminalHeartbeat.received_at.desc())
            .limit(30)
        )
        gaps = sequence_gaps(t.id, limit=100)
    return render(
        request,
        "fleet_terminal.html",
        title=f"Till {store.code}/{t.code}",
        t=t,
        store=store,
        till_status=_status(t, cutoff),
        rejected=rejected,
        summaries=summaries,
        beats=beats,
        gaps=gaps,
        missing=_gap_count(gaps),
    )
