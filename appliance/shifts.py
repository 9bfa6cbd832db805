"""Shifts: open with a float, move cash in and out, close with a counted amount.

    >>> shift = open_shift(ani, 200000, config)       # doctest: +SKIP
    >>> cash_move(ani, -50000, "bayar galon", config)  # doctest: +SKIP
    >>> z = close_shift(budi, counted=1234500, config=config)   # doctest: +SKIP
    >>> z.z_number, z.over_short                      # doctest: +SKIP

A Raspberry Pi has no battery-backed clock: after a power cut without network it may think it
is 1970 or last week. The store remembers the latest time it has seen, and a shift cannot be
opened while the clock reads earlier than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from retail.ids import iso, utcnow, uuid7
from retail.schema import CashMoved, ShiftClosed, ShiftOpened, TenderTotal

from . import audit, outbox
from .reports import ShiftReport, shift_report
from .staff import StaffInfo, require_manager
from .store.db import next_number, peek_number
from .store.models import CashMovement, Shift, db


class ShiftError(RuntimeError):
    pass


@dataclass(frozen=True)
class ShiftInfo:
    id: str
    staff_id: str
    opened_at: str
    opening_float: int


def current() -> ShiftInfo | None:
    row = db.execute_sql(
        "SELECT id, staff_id, opened_at, opening_float FROM shift WHERE closed_at IS NULL "
        "ORDER BY opened_at DESC LIMIT 1"
    ).fetchone()
    return ShiftInfo(*row) if row else None


def latest_seen() -> datetime | None:
    ms = peek_number("clock_high_ms")
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _mark_clock(now: datetime) -> None:
    db.execute_sql(
        "UPDATE counter SET value = MAX(value, ?) WHERE name = 'clock_high_ms'",
        (int(now.timestamp() * 1000),),
    )


def check_clock(now: datetime) -> None:
    seen = latest_seen()
    if seen is not None and now < seen:
        raise ShiftError(
            f"the clock reads {iso(now)}, earlier than {iso(seen)} which this till has already "
            "seen: set the date and time (or connect to the network) before opening a shift"
        )


def open_shift(staff: StaffInfo, opening_float: int, config, *, now=None) -> ShiftInfo:
    now = now or utcnow()
    if opening_float < 0:
        raise ShiftError("the opening float cannot be negative")
    tz = config["store.timezone"]
    try:
        check_clock(now)
    except ShiftError:
        audit.record("clock_rejected", staff_id=staff.id, detail={"clock": iso(now)}, tz=tz)
        raise
    with db.atomic("IMMEDIATE"):
        if current() is not None:
            raise ShiftError("a shift is already open on this till: close it first")
        shift_id = uuid7()
        Shift.insert(
            id=shift_id, staff=staff.id, opened_at=iso(now), opening_float=opening_float
        ).execute()
        _mark_clock(now)
        outbox.enqueue(
            ShiftOpened(shift_id=shift_id, staff_id=staff.id, opening_float=opening_float),
            tz=tz,
            occurred_at=now,
        )
    return ShiftInfo(shift_id, staff.id, iso(now), opening_float)


def require_open() -> ShiftInfo:
    shift = current()
    if shift is None:
        raise ShiftError("no shift is open: open a shift first")
    return shift


def cash_move(staff: StaffInfo, amount: int, reason: str, config, *, now=None) -> str:
    """Cash put into (amount > 0) or taken out of (amount < 0) the drawer, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ShiftError("a cash movement needs a reason")
    if amount == 0:
        raise ShiftError("a cash movement needs an amount")
    now = now or utcnow()
    tz = config["store.timezone"]
    with db.atomic("IMMEDIATE"):
        shift = require_open()
        movement_id = uuid7()
        CashMovement.insert(
            id=movement_id,
            shift=shift.id,
            staff=staff.id,
            amount=amount,
            reason=reason,
            created_at=iso(now),
        ).execute()
        audit.record(
            "cash_in" if amount > 0 else "cash_out",
            staff_id=staff.id,
            detail={"amount": amount, "reason": reason},
            tz=tz,
            send=False,
        )
        outbox.enqueue(
            CashMoved(
                movement_id=movement_id,
                shift_id=shift.id,
                staff_id=staff.id,
                amount=amount,
                reason=reason,
            ),
            tz=tz,
            occurred_at=now,
        )
    return movement_id


def close_shift(
    closed_by: StaffInfo, counted: int, config, *, approver: StaffInfo | None = None, now=None
) -> ShiftReport:
    """Close the open shift with the cash counted in the drawer; returns its Z report."""
    if counted < 0:
        raise ShiftError("the counted cash cannot be negative")
    require_manager(approver or (closed_by if closed_by.is_manager else None), "closing a shift")
    now = now or utcnow()
    tz = config["store.timezone"]
    with db.atomic("IMMEDIATE"):
        shift = require_open()
        z_number = next_number("z_number")
        Shift.update(
            closed_at=iso(now), closed_by=closed_by.id, counted_cash=counted, z_number=z_number
        ).where(Shift.id == shift.id).execute()
        report = shift_report(shift.id)
        Shift.update(expected_cash=report.expected_cash).where(Shift.id == shift.id).execute()
        _mark_clock(now)
        audit.record(
            "shift_close",
            staff_id=closed_by.id,
            approved_by=approver.id if approver else None,
            detail={"z_number": z_number, "counted": counted, "expected": report.expected_cash},
            tz=tz,
            send=False,
        )
        outbox.enqueue(
            ShiftClosed(
                shift_id=shift.id,
                staff_id=closed_by.id,
                z_number=z_number,
                opened_at=datetime.fromisoformat(shift.opened_at.replace("Z", "+00:00")),
                sales_count=report.sales_count,
                sales_total=report.sales_total,
                refunds_total=report.refunds_total,
                tax_total=report.tax_total,
                discount_total=report.discount_total,
                expected_cash=report.expected_cash,
                counted_cash=counted,
                over_short=report.over_short,
                tenders=[
                    TenderTotal(tender=t.tender, count=t.count, amount=t.amount)
                    for t in report.tenders
                ],
            ),
            tz=tz,
            occurred_at=now,
        )
    return report
