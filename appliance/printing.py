"""The persistent print queue: receipts are stored, then printed by a worker thread.

    >>> printing = PrintService(printer, renderer).start()      # doctest: +SKIP
    >>> with db.atomic():                                        # the sale's own transaction
    ...     ...                                                  # sale, lines, payments, outbox
    ...     printing.queue("sale", receipt.receipt_no, receipt)
    >>> printing.status().message                                # doctest: +SKIP
    '1 receipt waiting to print: 192.168.1.50:9100: connection refused — …'

`queue()` renders the receipt to ESC/POS once and stores the bytes as a `PrintJob` — inside the
caller's transaction when there is one, so the job commits (or rolls back) with the sale — and
returns at once: it never touches the printer, so a sale is never blocked by it. The worker
prints queued jobs oldest first; when the printer is offline or out of paper the job stays
queued with its error and is retried with backoff (1 s doubling to 60 s; a new job or `wake()`
retries at once). Jobs survive restarts and power cuts: a job that was printing when the power
went is printed again (at least once, never lost). A job still unprinted after
`give_up_after` seconds (config `printer.give_up_minutes`) is marked failed rather than printed
long after the customer left; `retry()` queues it again and `reprint()` prints a marked COPY.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self

from retail.ids import iso, utcnow
from retail.receipt import Receipt, as_text, to_ascii

from . import audit
from .hw.base import HardwareError, Status
from .hw.printer import Printer
from .hw.render import ReceiptRenderer
from .store.models import PrintJob, db

log = logging.getLogger("kasir.printing")

KINDS = ("sale", "refund", "report", "pickup", "test")


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    ref: str | None
    copy: bool
    state: str
    attempts: int
    last_error: str | None
    created_at: str
    printed_at: str | None


@dataclass(frozen=True)
class QueueStatus:
    printer: Status
    queued: int
    failed: int  # in the last 24 hours
    last_error: str | None  # of the oldest queued job

    @property
    def message(self) -> str:
        if self.queued:
            noun = "receipt" if self.queued == 1 else "receipts"
            reason = self.last_error or self.printer.message
            text = f"{self.queued} {noun} waiting to print: {reason}"
        elif self.printer.ok:
            text = f"printer {self.printer.message}"
        else:
            text = f"printer offline: {self.printer.message}"
        if self.failed:
            text += f"; {self.failed} not printed in time (see the print queue)"
        return text


def _info(job: PrintJob) -> JobInfo:
    return JobInfo(
        job.id,
        job.kind,
        job.ref,
        bool(job.copy),
        job.state,
        job.attempts,
        job.last_error,
        job.created_at,
        job.printed_at,
    )


def _plain_payload(receipt: Receipt, columns: int) -> bytes:
    """A last-resort rendering (plain text, cut) when the full one failed."""
    text = to_ascii(as_text(receipt, columns)).encode("ascii", "replace")
    return b"\x1b@" + text + b"\n" * 6 + b"\x1dV\x00"


class PrintService:
    def __init__(
        self,
        printer: Printer,
        renderer: ReceiptRenderer,
        *,
        retry_min: float = 1.0,
        retry_max: float = 60.0,
        poll: float = 0.5,
        idle_check: float = 30.0,
        give_up_after: float | None = 3600.0,
        when_changed: Callable[[QueueStatus], None] | None = None,
    ) -> None:
        self.printer = printer
        self.renderer = renderer
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.poll = poll
        self.idle_check = idle_check
        self.give_up_after = give_up_after or None
        self.when_changed = when_changed
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is None:
            if self.printer.closed:
                self.printer.open()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="print queue", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wake(self) -> None:
        """Look at the queue now (after the caller's transaction committed, or after the
        printer was fixed) instead of at the next poll or retry."""
        self._wake.set()

    # -- queueing -----------------------------------------------------------------------------

    def queue(self, kind: str, ref: str | None, receipt: Receipt, copy: bool = False) -> int:
        """Render `receipt` and store it as a print job; returns the job id. Joins the caller's
        transaction if there is one. Never raises because of the printer; a receipt that cannot
        be rendered fully is stored as plain text (or, failing that, as a failed job)."""
        if copy and not receipt.copy:
            receipt = dataclasses.replace(receipt, copy=True)
        error = None
        try:
            payload: bytes | None = self.renderer.render(receipt)
        except Exception as exc:
            log.exception("rendering receipt %s failed", ref)
            error = f"printed as plain text: the receipt could not be rendered ({exc})"
            try:
                payload = _plain_payload(receipt, self.renderer.columns)
            except Exception as plain_exc:
                payload = None
                error = f"the receipt could not be rendered ({plain_exc})"
        return self._store(kind, ref, payload, copy=copy, error=error)

    def queue_bytes(self, kind: str, ref: str | None, payload: bytes, *, copy: bool = False) -> int:
        """Store ESC/POS bytes rendered elsewhere (e.g. a test page) as a print job."""
        return self._store(kind, ref, payload, copy=copy, error=None)

    def _store(
        self, kind: str, ref: str | None, payload: bytes | None, *, copy: bool, error: str | None
    ) -> int:
        if kind not in KINDS:
            raise ValueError(f"print job kind {kind!r} is not one of {', '.join(KINDS)}")
        with db.atomic():
            job_id = PrintJob.insert(
                kind=kind,
                ref=ref,
                copy=copy,
                payload=payload,
                state="queued" if payload is not None else "failed",
                attempts=0,
                last_error=error,
                created_at=iso(utcnow()),
            ).execute()
        self._wake.set()
        return job_id

    def reprint(
        self, receipt: Receipt, *, staff_id: str | None = None, tz: str = "Asia/Jakarta"
    ) -> int:
        """Queue a copy of a past receipt, marked COPY, and note it in the audit log."""
        kind = receipt.kind if receipt.kind in KINDS else "sale"
        with db.atomic():
            audit.record(
                "reprint",
                staff_id=staff_id,
                detail={"receipt_no": receipt.receipt_no},
                tz=tz,
                send=not receipt.training,
            )
            return self.queue(kind, receipt.receipt_no, receipt, copy=True)

    def retry(self, job_id: int) -> None:
        """Queue a failed job again."""
        updated = (
            PrintJob.update(state="queued", attempts=0, last_error=None, created_at=iso(utcnow()))
            .where(
                (PrintJob.id == job_id)
                & (PrintJob.state == "failed")
                & PrintJob.payload.is_null(False)
            )
            .execute()
        )
        if not updated:
            raise ValueError(f"print job {job_id} is not a failed job that can be printed")
        self._wake.set()

    def cancel(self, job_id: int) -> None:
        """Stop trying to print a queued job."""
        updated = (
            PrintJob.update(state="failed", last_error="cancelled by staff")
            .where((PrintJob.id == job_id) & (PrintJob.state == "queued"))
            .execute()
        )
        if not updated:
            raise ValueError(f"print job {job_id} is not waiting to print")

    # -- looking --------------------------------------------------------------------------------

    def jobs(self, states: tuple[str, ...] | None = None, limit: int = 50) -> list[JobInfo]:
        query = (
            PrintJob.select(
                PrintJob.id,
                PrintJob.kind,
                PrintJob.ref,
                PrintJob.copy,
                PrintJob.state,
                PrintJob.attempts,
                PrintJob.last_error,
                PrintJob.created_at,
                PrintJob.printed_at,
            )
            .order_by(PrintJob.id.desc())
            .limit(limit)
        )
        if states:
            query = query.where(PrintJob.state.in_(states))
        return [_info(job) for job in query]

    def status(self) -> QueueStatus:
        queued = PrintJob.select().where(PrintJob.state == "queued").count()
        since = iso(utcnow() - timedelta(days=1))
        failed = (
            PrintJob.select()
            .where(
                (PrintJob.state == "failed")
                & (PrintJob.created_at >= since)
                & ((PrintJob.last_error.is_null()) | (PrintJob.last_error != "cancelled by staff"))
            )
            .count()
        )
        oldest = (
            PrintJob.select(PrintJob.last_error)
            .where(PrintJob.state == "queued")
            .order_by(PrintJob.id)
            .first()
        )
        return QueueStatus(
            self.printer.status, queued, failed, oldest.last_error if oldest else None
        )

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the worker finds nothing left to print; False after `timeout` seconds."""
        self._idle.clear()
        self._wake.set()
        return self._idle.wait(timeout)

    # -- the worker -----------------------------------------------------------------------------

    def _changed(self) -> None:
        if self.when_changed is not None:
            try:
                self.when_changed(self.status())
            except Exception:
                log.exception("print queue when_changed callback failed")

    def _expired(self, job: PrintJob) -> bool:
        if self.give_up_after is None:
            return False
        created = datetime.fromisoformat(job.created_at)
        return (utcnow() - created).total_seconds() > self.give_up_after

    def _run(self) -> None:
        delay = self.retry_min
        next_check = 0.0
        try:
            while not self._stop.is_set():
                try:
                    job = (
                        PrintJob.select()
                        .where(PrintJob.state == "queued")
                        .order_by(PrintJob.id)
                        .first()
                    )
                except Exception:
                    log.exception("print queue: reading the queue failed")
                    self._stop.wait(self.poll)
                    continue
                if job is None:
                    self._idle.set()
                    if time.monotonic() >= next_check:
                        next_check = time.monotonic() + self.idle_check
                        self._check_printer()
                    self._wake.wait(self.poll)
                    self._wake.clear()
                    continue
                self._idle.clear()
                if self._expired(job):
                    minutes = self.give_up_after / 60
                    self._finish(
                        job,
                        "failed",
                        f"not printed within {minutes:g} min "
                        f"({job.last_error or 'printer offline'}) — reprint it if needed",
                    )
                    continue
                try:
                    self.printer.write(bytes(job.payload))
                except Exception as exc:
                    message = (
                        str(exc)
                        if isinstance(exc, HardwareError)
                        else f"{type(exc).__name__}: {exc}"
                    )
                    if not isinstance(exc, HardwareError):
                        log.exception("print queue: printing job %s failed", job.id)
                    self._attempted(job, message)
                    self._changed()
                    self._wake.wait(delay)
                    self._wake.clear()
                    delay = min(delay * 2, self.retry_max)
                    continue
                delay = self.retry_min
                next_check = time.monotonic() + self.idle_check
                self._finish(job, "done", None)
        finally:
            db.close()

    def _check_printer(self) -> None:
        try:
            self.printer.query_status()
        except HardwareError:
            pass  # the printer's status now says what is wrong
        except Exception:
            log.exception("print queue: checking the printer failed")

    def _attempted(self, job: PrintJob, error: str) -> None:
        try:
            PrintJob.update(attempts=PrintJob.attempts + 1, last_error=error).where(
                PrintJob.id == job.id
            ).execute()
        except Exception:
            log.exception("print queue: recording the error of job %s failed", job.id)

    def _finish(self, job: PrintJob, state: str, error: str | None) -> None:
        values = {"state": state, "last_error": error}
        if state == "done":
            values.update(printed_at=iso(utcnow()), attempts=PrintJob.attempts + 1)
        try:
            PrintJob.update(**values).where(
                (PrintJob.id == job.id) & (PrintJob.state == "queued")
            ).execute()
        except Exception:
            log.exception("print queue: recording job %s as %s failed", job.id, state)
            self._stop.wait(self.poll)
            return
        self._changed()
