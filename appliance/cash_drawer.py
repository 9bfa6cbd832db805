"""When the cash drawer may open, who opened it and why: every open is in the audit log.

    >>> drawer = CashDrawerService(devices.drawer, tz="Asia/Jakarta")        # doctest: +SKIP
    >>> # after the sale's transaction has committed:
    >>> opening = drawer.open("cash_sale", staff_id=cashier.id, ref=sale.receipt_no)
    >>> opening.add_done_callback(lambda f: show(f.result().message))       # doctest: +SKIP

The drawer opens for cash moving in or out — `cash_sale`, `cash_refund`, `pickup_cash` (cash
paid for a pickup order), `cash_in`, `cash_out` — and for a manager's `no_sale` (a manager, or a
cashier with a manager's approval), never for anything else. The audit entry (`drawer_open`
with the reason, or `no_sale`) is written first, on the caller's thread, so no open goes
unrecorded; the pulse then runs on the service's own thread and the returned Future tells how
it went. A drawer that does not open (already open, jammed, printer out of paper) is reported
in the outcome's message; it never raises into the sale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from . import audit
from .hw.base import HardwareError, Status
from .hw.drawer import Drawer, DrawerOpenError
from .store.models import Staff, db

log = logging.getLogger("kasir.drawer")

CASH_REASONS = ("cash_sale", "cash_refund", "pickup_cash", "cash_in", "cash_out")
REASONS = (*CASH_REASONS, "no_sale")


class DrawerRefused(PermissionError):
    """The drawer may not open for this request; the message says why."""


@dataclass(frozen=True)
class DrawerOutcome:
    opened: bool
    message: str
    reason: str
    audit_id: str
    already_open: bool = False


class CashDrawerService:
    def __init__(
        self,
        drawer: Drawer,
        *,
        tz: str = "Asia/Jakarta",
        when_outcome: Callable[[DrawerOutcome], None] | None = None,
    ) -> None:
        self.drawer = drawer
        self.tz = tz
        self.when_outcome = when_outcome
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drawer")

    @property
    def status(self) -> Status:
        return self.drawer.status

    def close(self) -> None:
        """Finish a pulse in progress and stop the service's thread (the drawer stays open for
        whoever owns it)."""
        self._pool.shutdown(wait=True)

    def _check(self, reason: str, staff_id: str, approved_by: str | None) -> None:
        if reason not in REASONS:
            raise DrawerRefused(
                f"the drawer does not open for {reason!r}: only for {', '.join(REASONS)}"
            )
        staff = Staff.get_or_none(Staff.id == staff_id)
        if staff is None or not staff.active:
            raise DrawerRefused(f"staff {staff_id!r} is not an active member of staff")
        if reason != "no_sale" or staff.role == "manager":
            return
        approver = Staff.get_or_none(Staff.id == approved_by) if approved_by else None
        if approver is None or not approver.active or approver.role != "manager":
            raise DrawerRefused(
                "no sale opens the drawer only for a manager or with a manager's approval"
            )

    def open(
        self,
        reason: str,
        *,
        staff_id: str,
        approved_by: str | None = None,
        ref: str | None = None,
        training: bool = False,
    ) -> Future[DrawerOutcome]:
        """Record the open in the audit log, then pulse the drawer on the service's thread.

        Raises DrawerRefused for a reason that does not open the drawer, an unknown staff id, or
        a no-sale without a manager. Call it after the transaction that moved the cash has
        committed: a drawer that opened cannot be rolled back."""
        if db.in_transaction():
            raise RuntimeError("open the drawer after the cash movement's transaction committed")
        self._check(reason, staff_id, approved_by)
        action = "no_sale" if reason == "no_sale" else "drawer_open"
        detail = {"reason": reason}
        if ref:
            detail["ref"] = ref
        if training:
            detail["training"] = True
        audit_id = audit.record(
            action,
            staff_id=staff_id,
            approved_by=approved_by,
            detail=detail,
            tz=self.tz,
            send=not training,
        )
        return self._pool.submit(self._pulse, reason, audit_id)

    def _pulse(self, reason: str, audit_id: str) -> DrawerOutcome:
        try:
            self.drawer.pulse()
        except DrawerOpenError as exc:
            outcome = DrawerOutcome(False, str(exc), reason, audit_id, already_open=True)
        except HardwareError as exc:
            outcome = DrawerOutcome(False, f"drawer did not open: {exc}", reason, audit_id)
        except Exception as exc:
            log.exception("drawer pulse failed")
            outcome = DrawerOutcome(False, f"drawer did not open: {exc}", reason, audit_id)
        else:
            outcome = DrawerOutcome(True, "drawer opened", reason, audit_id)
        if not outcome.opened:
            log.warning("drawer (%s, audit %s): %s", reason, audit_id, outcome.message)
        if self.when_outcome is not None:
            try:
                self.when_outcome(outcome)
            except Exception:
                log.exception("when_outcome callback failed")
        return outcome
