"""The tills' API. Every route but enrolment needs `Authorization: Bearer <terminal token>`;
the terminal and its store always come from the token, never from the body.

    POST /api/v1/terminals/enrol        retail.schema.EnrolRequest {code, name}
        → retail.schema.EnrolResponse {terminal_id, terminal_code, store_code, store_name,
          token, last_seq, last_receipt_seq}; 401 for a wrong, used or expired code; 429 with
          Retry-After after too many failures from one client address.
    POST /api/v1/sync/catalog           catalog.TillCatalog → catalog.MergeResult (once per
        enrolment; a repeat answers the first result with already_merged: true)
    GET  /api/v1/sync/catalog?since=CURSOR&limit=N   → catalog.CatalogPage
    POST /api/v1/sync/events            ingest.EventBatch {"events": ["<event JSON>", ...]}
        → retail.schema.EventBatchResult {results: [{id, seq, outcome, reason}],
          last_accepted_seq}
    POST /api/v1/sync/heartbeat         retail.schema.Heartbeat → HeartbeatAnswer
    GET  /api/v1/sync/orders            → {"orders": [PickupOrder, ...]} ready for pickup
    GET  /api/v1/sync/receipts/{number} → retail.schema.StoreSale: a sale of any till of the
        store (the payload as its till sent it, which till, when) and the refunds booked
        against it, so another till can refund it; 404 when the store has no such sale
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from retail.ids import iso, utcnow
from retail.schema import (
    SUPPORTED_SCHEMA_VERSIONS,
    EnrolRequest,
    EnrolResponse,
    EventBatchResult,
    Heartbeat,
    ReleaseOffer,
    StoreSale,
)

from .. import catalog, ingest, orders, releases
from .. import db as dbmod
from ..models.core import Store, Terminal, TerminalHeartbeat
from ..security import digest as sha256_digest
from ..security import (
    enrol_allowed,
    enrol_code_digest,
    new_terminal_token,
    record_enrol_failure,
    same_digest,
)
from .deps import current_terminal

router = APIRouter(tags=["terminals"])
HEARTBEAT_HISTORY = timedelta(days=30)
INT32_MAX = 2**31 - 1
INT63_MAX = 2**62
_AUTH = {401: {"description": "terminal token missing, unknown or revoked"}}


def _field_error(location: tuple, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])


# --- enrolment --------------------------------------------------------------------------------


@router.post(
    "/api/v1/terminals/enrol",
    response_model=EnrolResponse,
    responses={
        401: {"description": "the code is unknown, already used or expired"},
        429: {"description": "too many failed enrolments from this address"},
    },
)
def enrol(body: EnrolRequest, request: Request) -> EnrolResponse:
    settings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    now = utcnow()
    wanted = enrol_code_digest(body.code)
    with dbmod.session():
        if not enrol_allowed(address, settings.enrol_limit, settings.enrol_window_s, now):
            raise HTTPException(
                429,
                detail=f"too many failed enrolments from {address}; try again later",
                headers={"Retry-After": str(settings.enrol_window_s)},
            )
        failure = None
        with dbmod.atomic():
            candidate = Terminal.get_or_none(Terminal.enrol_code_digest == wanted)
            terminal = (
                dbmod.locked(Terminal, Terminal.id == candidate.id).get() if candidate else None
            )
            if (
                terminal is None
                or terminal.enrol_code_digest is None
                or not same_digest(terminal.enrol_code_digest, wanted)
            ):
                failure = "code: unknown or already used"
            elif terminal.enrol_expires_at is None or terminal.enrol_expires_at <= now:
                failure = (
                    f"code: expired; ask the owner for a new one "
                    f"(kasir-oms add-terminal STORE NAME --replace {terminal.code})"
                )
            else:
                token = new_terminal_token()
                Terminal.update(
                    token_digest=sha256_digest(token),
                    enrol_code_digest=None,
                    enrol_expires_at=None,
                    enrolled_at=now,
                    revoked_at=None,
                    catalog_merged_at=None,
                    catalog_merge_result=None,
                    name=body.name,
                ).where(Terminal.id == terminal.id).execute()
                store = Store.get_by_id(terminal.store_id)
        if failure:
            with dbmod.atomic():
                record_enrol_failure(address, now, settings.enrol_window_s)
            raise HTTPException(401, detail=failure)
    return EnrolResponse(
        terminal_id=terminal.id,
        terminal_code=terminal.code,
        store_code=store.code,
        store_name=store.name,
        token=token,
        last_seq=terminal.last_seq,
        last_receipt_seq=terminal.last_receipt_seq,
    )


# --- catalog ----------------------------------------------------------------------------------


@router.post("/api/v1/sync/catalog", response_model=catalog.MergeResult, responses=_AUTH)
def merge_catalog(
    body: catalog.TillCatalog, terminal: Terminal = Depends(current_terminal)
) -> catalog.MergeResult:
    with dbmod.session():
        return catalog.merge_till_catalog(terminal, body, actor=f"terminal:{terminal.code}")


@router.get("/api/v1/sync/catalog", response_model=catalog.CatalogPage, responses=_AUTH)
def pull_catalog(
    since: str | None = Query(None, max_length=80, description="next_cursor of the last page"),
    limit: int = Query(catalog.DEFAULT_PAGE, ge=1, le=catalog.MAX_PAGE),
    terminal: Terminal = Depends(current_terminal),
) -> catalog.CatalogPage:
    try:
        catalog.parse_cursor(since)
    except catalog.CatalogError as exc:
        raise _field_error(("query", "since"), exc.reason) from None
    with dbmod.session():
        return catalog.pull(terminal.store, since, limit)


# --- events -----------------------------------------------------------------------------------


@router.post("/api/v1/sync/events", response_model=EventBatchResult, responses=_AUTH)
def post_events(
    body: ingest.EventBatch, request: Request, terminal: Terminal = Depends(current_terminal)
) -> EventBatchResult:
    with dbmod.session():
        result = ingest.ingest(terminal, body.events)
    counter = request.app.state.metrics.events
    for item, outcome in zip(body.events, result.results, strict=True):
        counter.labels(_event_type(item), outcome.outcome).inc()
    return result


def _event_type(text: str) -> str:
    """The event's type for metrics, from the text (cheap, and bounded to the known types)."""
    for name in ingest.EVENT_TYPES:
        if f'"type":"{name}"' in text or f'"type": "{name}"' in text:
            return name
    return "unknown"


# --- heartbeat --------------------------------------------------------------------------------


class HeartbeatAnswer(BaseModel):
    server_time: str
    clock_skew_ms: int = Field(description="the till's clock minus the OMS's")
    last_seq: int = Field(description="highest outbox seq the OMS holds from this terminal")
    last_accepted_seq: int
    last_receipt_seq: int
    sequence_gaps: list[tuple[int, int]] = Field(description="missing seq ranges (first, last)")
    catalog_version: int
    release: ReleaseOffer | None = Field(
        None, description="the newest active till release, when newer than the till's version"
    )


@router.post("/api/v1/sync/heartbeat", response_model=HeartbeatAnswer, responses=_AUTH)
def heartbeat(body: Heartbeat, terminal: Terminal = Depends(current_terminal)) -> HeartbeatAnswer:
    if body.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise _field_error(
            ("body", "schema_version"),
            f"schema_version {body.schema_version} is not supported by this OMS",
        )
    if body.clock.tzinfo is None:
        raise _field_error(("body", "clock"), "clock has no UTC offset")
    for name in ("outbox_depth", "quarantined"):
        if getattr(body, name) > INT32_MAX:
            raise _field_error(("body", name), f"{name} is larger than {INT32_MAX}")
    if body.last_seq > INT63_MAX:
        raise _field_error(("body", "last_seq"), f"last_seq is larger than {INT63_MAX}")
    now = utcnow()
    skew = int((body.clock - now).total_seconds() * 1000)
    devices = [d.model_dump() for d in body.devices]
    with dbmod.session():
        with dbmod.atomic():
            Terminal.update(
                last_seen_at=now,
                version=body.version[:40],
                outbox_depth=body.outbox_depth,
                quarantined=body.quarantined,
                reported_last_seq=body.last_seq,
                clock_skew_ms=skew,
                devices=devices,
            ).where(Terminal.id == terminal.id).execute()
            TerminalHeartbeat.create(
                terminal=terminal.id,
                received_at=now,
                version=body.version[:40],
                outbox_depth=body.outbox_depth,
                quarantined=body.quarantined,
                last_seq=body.last_seq,
                clock_skew_ms=skew,
                devices=devices,
            )
            TerminalHeartbeat.delete().where(
                (TerminalHeartbeat.terminal == terminal.id)
                & (TerminalHeartbeat.received_at < now - HEARTBEAT_HISTORY)
            ).execute()
        fresh = Terminal.get_by_id(terminal.id)
        gaps = ingest.sequence_gaps(terminal.id)
        version = catalog.catalog_version()
        offer = releases.offer_for(body.version)
    return HeartbeatAnswer(
        server_time=iso(now),
        clock_skew_ms=skew,
        last_seq=fresh.last_seq,
        last_accepted_seq=fresh.last_accepted_seq,
        last_receipt_seq=fresh.last_receipt_seq,
        sequence_gaps=gaps,
        catalog_version=version,
        release=offer,
    )


# --- pickup orders and past receipts ------------------------------------------------------------


class PickupLine(BaseModel):
    sku: str | None
    name: str
    qty: int


class PickupOrder(BaseModel):
    order_id: str
    number: str
    customer_name: str
    phone: str | None
    total: int
    paid_total: int
    due: int = Field(description="what is left to pay at the counter")
    lines: list[PickupLine]


class PickupOrders(BaseModel):
    orders: list[PickupOrder]


@router.get("/api/v1/sync/orders", response_model=PickupOrders, responses=_AUTH)
def pickup_orders(terminal: Terminal = Depends(current_terminal)) -> PickupOrders:
    with dbmod.session():
        return PickupOrders(orders=orders.pickup_orders(terminal.store))


@router.get(
    "/api/v1/sync/receipts/{number}",
    response_model=StoreSale,
    responses={**_AUTH, 404: {"description": "no sale with that receipt number in this store"}},
)
def past_receipt(number: str, terminal: Terminal = Depends(current_terminal)) -> StoreSale:
    if not 1 <= len(number) <= 64:
        raise _field_error(("path", "number"), "receipt number must be 1-64 characters")
    store = terminal.store
    with dbmod.session():
        row = ingest.stored_sale(store, number)
        if row is None:
            raise HTTPException(
                404,
                detail=f"receipt {number} is not a sale of store {store.code} known to the OMS "
                "(a sale reaches the OMS when its till syncs)",
            )
        origin = Terminal.get_by_id(row.terminal_id)
        event = ingest.event_of(bytes(row.body))
        return StoreSale(
            event_id=row.event_id,
            terminal=origin.code,
            occurred_at=event["occurred_at"],
            sale=event["payload"],
            refunds=orders.refunds_of_sale(event["payload"]["sale_id"]),
        )
