"""The audit log: who did what sensitive thing, and which manager approved it.

Overrides, voids, refunds, drawer opens and no-sales are recorded locally and, outside training
mode, sent to the OMS as `audit.recorded` events in the same transaction.
"""

from __future__ import annotations

import json

from retail.ids import iso, utcnow, uuid7
from retail.schema import AuditRecorded

from . import outbox
from .store.models import Audit, db

ACTIONS = frozenset(
    {
        "login",
        "login_failed",
        "lockout",
        "price_override",
        "line_void",
        "open_price_item",
        "discount",
        "refund",
        "drawer_open",
        "no_sale",
        "cash_in",
        "cash_out",
        "shift_open",
        "shift_close",
        "training_on",
        "training_off",
        "setting_changed",
        "reprint",
        "catalog_import",
        "clock_rejected",
        "staff_added",
        "pin_changed",
        "pin_reset",
        "staff_deactivated",
        "staff_reactivated",
    }
)


def record(
    action: str,
    *,
    staff_id: str | None,
    approved_by: str | None = None,
    detail: dict | None = None,
    tz: str = "Asia/Jakarta",
    send: bool = True,
) -> str:
    """Store an audit entry (and its outbox event unless `send` is false); returns its id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    audit_id = uuid7()
    detail = detail or {}
    with db.atomic():
        Audit.insert(
            id=audit_id,
            at=iso(utcnow()),
            action=action,
            staff=staff_id,
            approved_by=approved_by,
            detail=json.dumps(detail, sort_keys=True, default=str),
        ).execute()
        if send:
            outbox.enqueue(
                AuditRecorded(
                    audit_id=audit_id,
                    action=action,
                    staff_id=staff_id,
                    approved_by=approved_by,
                    detail=json.loads(json.dumps(detail, default=str)),
                ),
                tz=tz,
            )
    return audit_id
