"""The persistent print queue: stored with the sale, printed by a worker, never blocking."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest

from appliance.hw.base import HardwareError
from appliance.hw.printer import NetworkPrinter, Printer, SimPrinter
from appliance.hw.render import ReceiptRenderer
from appliance.printing import PrintService
from appliance.store.db import open_store
from appliance.store.models import Audit, PrintJob, db
from retail.ids import iso, utcnow
from retail.receipt import Receipt, ReceiptLine, TenderRow

RENDERER = ReceiptRenderer(42)


def receipt(number: str = "T01-000001", **changes) -> Receipt:
    values = dict(
        kind="sale",
        store_name="Toko Sejahtera",
        receipt_no=number,
        issued_at="01/02/2026 10:00",
        cashier="Ani",
        lines=(ReceiptLine("Indomie Goreng", "2 x Rp3.500", 7000),),
        subtotal=7000,
        total=7000,
        tenders=(TenderRow("Tunai", 10000),),
        change=3000,
        barcode=number,
    )
    values.update(changes)
    return Receipt(**values)


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def job(job_id: int) -> PrintJob:
    return PrintJob.get_by_id(job_id)


@contextmanager
def service(printer, **kwargs):
    printing = PrintService(printer, RENDERER, retry_min=0.05, retry_max=0.2, poll=0.05, **kwargs)
    printing.start()
    try:
        yield printing
    finally:
        printing.stop()
        printer.close()


def test_the_job_commits_or_rolls_back_with_the_sale(store, tmp_path):
    printing = PrintService(SimPrinter(tmp_path / "paper", png=False), RENDERER)  # not started
    with db.atomic() as transaction:
        printing.queue("sale", "T01-000001", receipt())
        transaction.rollback()
    assert PrintJob.select().count() == 0
    with db.atomic():
        job_id = printing.queue("sale", "T01-000001", receipt())
    stored = job(job_id)
    assert (stored.kind, stored.ref, stored.state, stored.copy) == (
        "sale",
        "T01-000001",
        "queued",
        False,
    )
    assert bytes(stored.payload) == RENDERER.render(receipt())  # rendered once, stored as bytes


def test_the_worker_prints_queued_jobs_in_order(store, tmp_path):
    printer = SimPrinter(tmp_path / "paper", png=False)
    with service(printer) as printing:
        ids = [printing.queue("sale", f"T01-00000{i}", receipt(f"T01-00000{i}")) for i in (1, 2, 3)]
        assert wait_for(lambda: all(job(i).state == "done" for i in ids))
        assert printing.status().queued == 0
    assert [job(i).attempts for i in ids] == [1, 1, 1]
    assert all(job(i).printed_at for i in ids)
    texts = [p.with_suffix(".txt").read_text() for p in printer.jobs]
    assert [t.split("No: ")[1][:10] for t in texts] == [
        "T01-000001",
        "T01-000002",
        "T01-000003",
    ]


def test_an_offline_printer_keeps_the_job_queued_with_its_error(store, tmp_path):
    printer = SimPrinter(tmp_path / "paper", png=False)
    printer.paper = "end"
    with service(printer) as printing:
        job_id = printing.queue("sale", "T01-000001", receipt())
        assert wait_for(lambda: job(job_id).attempts >= 2)
        stored = job(job_id)
        assert stored.state == "queued"
        assert stored.last_error.endswith("out of paper — put in a new roll")
        status = printing.status()
        assert status.queued == 1 and not status.printer.ok
        assert status.message.startswith("1 receipt waiting to print: ")
        assert "out of paper" in status.message
        printer.paper = "ok"  # a new roll
        printing.wake()
        assert wait_for(lambda: job(job_id).state == "done")
        assert job(job_id).last_error is None
        assert printing.status().message == "printer ready"


def test_a_network_printer_at_a_closed_port_does_not_block_and_prints_when_back(store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printer = NetworkPrinter("127.0.0.1", port, timeout=1, status_timeout=0.1)
    with service(printer) as printing:
        job_id = printing.queue("sale", "T01-000001", receipt())
        assert wait_for(lambda: job(job_id).attempts >= 1)
        assert "connection refused" in job(job_id).last_error
        assert job(job_id).state == "queued"
        # The printer is switched on: a plain listener that keeps what it receives.
        received = bytearray()
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(4)
        server.settimeout(0.05)
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                conn.settimeout(None)
                with conn:
                    while data := conn.recv(4096):
                        received.extend(data)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            printing.wake()
            assert wait_for(lambda: job(job_id).state == "done")
            assert wait_for(lambda: b"Indomie Goreng" in received)
        finally:
            stop.set()
            thread.join(timeout=2)
            server.close()


class StuckPrinter(Printer):
    """A printer whose write hangs until released, like a printer that stopped taking data."""

    def __init__(self):
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def _connect(self):
        pass

    def _read_status(self):
        from appliance.hw.printer import PrinterStatus

        return PrinterStatus(answered=False)

    def _send(self, data):
        self.entered.set()
        if not self.release.wait(10):
            raise OSError(5, "stuck")


def test_a_hanging_printer_never_blocks_queueing_a_sale(store):
    printer = StuckPrinter()
    with service(printer) as printing:
        first = printing.queue("sale", "T01-000001", receipt())
        assert printer.entered.wait(5)  # the worker is inside write()
        # Another sale while the printer hangs: stored at once, in the sale's transaction.
        with db.atomic():
            second = printing.queue("sale", "T01-000002", receipt("T01-000002"))
        assert job(second).state == "queued"
        printer.release.set()
        assert wait_for(lambda: job(first).state == job(second).state == "done")


def test_queued_jobs_survive_a_restart(store, tmp_path):
    path = tmp_path / "kasir.sqlite3"
    printer = SimPrinter(tmp_path / "paper", png=False)
    printer.online = False
    with service(printer) as printing:
        job_id = printing.queue("sale", "T01-000001", receipt())
        assert wait_for(lambda: job(job_id).attempts >= 1)
    store.close()
    # The till restarts: a new process opens the same store; the printer is back.
    reopened = open_store(path)
    try:
        assert job(job_id).state == "queued"
        with service(SimPrinter(tmp_path / "paper", png=False)) as printing:
            assert wait_for(lambda: job(job_id).state == "done")
            assert printing.status().queued == 0
        assert (tmp_path / "paper" / "0001.escpos").read_bytes() == RENDERER.render(receipt())
    finally:
        reopened.close()


def test_a_job_not_printed_in_time_fails_and_can_be_retried(store, tmp_path):
    printer = SimPrinter(tmp_path / "paper", png=False)
    printing = PrintService(printer, RENDERER, poll=0.05, give_up_after=3600)
    job_id = printing.queue("sale", "T01-000001", receipt())
    long_ago = iso(utcnow() - timedelta(hours=2))
    PrintJob.update(created_at=long_ago, last_error="x: printer offline").execute()
    with printing:
        assert wait_for(lambda: job(job_id).state == "failed")
        assert job(job_id).last_error.startswith("not printed within 60 min (x: printer offline)")
        assert printing.status().failed == 1
        assert "not printed in time" in printing.status().message
        assert printer.jobs == []
        printing.retry(job_id)
        assert wait_for(lambda: job(job_id).state == "done")
    with pytest.raises(ValueError, match=f"print job {job_id} is not a failed job"):
        printing.retry(job_id)


def test_cancel_and_bad_requests(store, tmp_path):
    printing = PrintService(SimPrinter(tmp_path, png=False), RENDERER)
    job_id = printing.queue("sale", "T01-000001", receipt())
    printing.cancel(job_id)
    assert (job(job_id).state, job(job_id).last_error) == ("failed", "cancelled by staff")
    assert printing.status().failed == 0  # cancelled on purpose: not an alarm
    with pytest.raises(ValueError, match=f"print job {job_id} is not waiting to print"):
        printing.cancel(job_id)
    with pytest.raises(ValueError, match="print job kind 'invoice' is not one of sale, refund"):
        printing.queue("invoice", "X", receipt())
    assert [j.id for j in printing.jobs(("failed",))] == [job_id]


def test_reprint_marks_copy_and_is_audited(store, people, tmp_path):
    manager, _ = people
    printing = PrintService(SimPrinter(tmp_path, png=False), RENDERER)
    job_id = printing.reprint(receipt(), staff_id=manager.id)
    stored = job(job_id)
    assert stored.copy and stored.ref == "T01-000001"
    assert b"*** SALINAN ***" in bytes(stored.payload)
    entry = Audit.get(Audit.action == "reprint")
    assert entry.staff_id == manager.id and "T01-000001" in entry.detail


def test_a_receipt_that_cannot_be_rendered_is_still_printed_as_text(store, tmp_path):
    class BrokenRenderer(ReceiptRenderer):
        def render(self, receipt):
            raise RuntimeError("logo decoder crashed")

    printer = SimPrinter(tmp_path / "paper", png=False)
    printing = PrintService(printer, BrokenRenderer(42), poll=0.05)
    job_id = printing.queue("sale", "T01-000001", receipt())
    assert "could not be rendered (logo decoder crashed)" in job(job_id).last_error
    with printing:
        assert wait_for(lambda: job(job_id).state == "done")
    assert "Indomie Goreng" in printer.last_text


def test_status_of_an_idle_queue_comes_from_the_printer(store, tmp_path):
    printer = SimPrinter(tmp_path, png=False)
    printer.cover_open = True
    with service(printer) as printing:
        assert wait_for(lambda: printer.status.state == "offline")
        assert printing.status().message == "printer offline: cover open — close the printer cover"
    with pytest.raises(HardwareError):
        printer.write(b"x")  # closed with the service
