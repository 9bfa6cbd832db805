"""Printer connections and status: a TCP printer on loopback, a pty serial line, files, the sim."""

from __future__ import annotations

import os
import select
import threading

import pytest
from escpos_text import decode, lines
from hwhelpers import wait_until

from appliance.hw.base import HardwareError
from appliance.hw.printer import (
    FilePrinter,
    NetworkPrinter,
    PrinterNotReady,
    SerialPrinter,
    SimPrinter,
    UsbPrinter,
    kick_bytes,
    parse_status,
)
from appliance.hw.render import ReceiptRenderer
from retail.receipt import Receipt, ReceiptLine, TenderRow

RECEIPT = Receipt(
    kind="sale",
    store_name="Toko Sejahtera",
    receipt_no="T01-000007",
    issued_at="01/02/2026 10:00",
    cashier="Budi",
    lines=(ReceiptLine("Teh Botol", "1 x Rp5.000", 5000),),
    subtotal=5000,
    total=5000,
    tenders=(TenderRow("Tunai", 5000),),
    barcode="T01-000007",
)
JOB = ReceiptRenderer(42).render(RECEIPT)


# -- status bytes -------------------------------------------------------------------------------


def test_parse_status_reads_the_dle_eot_bits():
    ready = parse_status(0x12, 0x12, 0x12)
    assert ready.answered and ready.can_print and ready.message == "ready"
    cover = parse_status(0x1A, 0x16, 0x12)
    assert cover.cover_open and not cover.online and not cover.can_print
    assert cover.message == "cover open — close the printer cover"
    out = parse_status(0x1A, 0x32, 0x7E)
    assert out.paper_end and out.paper_near_end and not out.can_print
    assert out.message == "out of paper — put in a new roll"
    low = parse_status(0x12, 0x12, 0x1E)
    assert low.paper_near_end and low.can_print
    assert low.message == "paper nearly out — change the roll soon"
    assert parse_status(0x16, 0x12, 0x12).drawer_pin3_high
    jam = parse_status(0x1A, 0x52, 0x12)
    assert jam.error and "paper jam" in jam.message


def test_parse_status_ignores_bytes_that_are_not_status_replies():
    assert not parse_status(0x41, 0x12, 0x12).answered  # "A": not a DLE EOT reply
    assert not parse_status(None, None, None).answered
    partial = parse_status(0x12, None, 0x12)
    assert partial.answered and partial.cover_open is None and partial.can_print


def test_kick_bytes():
    assert kick_bytes(2, 100) == b"\x1bp\x00\x32\x64"
    assert kick_bytes(5, 200) == b"\x1bp\x01\x64\xc8"
    assert decode(kick_bytes(5, 50)) == [("kick", 1, 25, 50)]
    with pytest.raises(ValueError, match="pin 3 should be 2 or 5"):
        kick_bytes(3, 100)


# -- network ------------------------------------------------------------------------------------


def test_network_printer_prints_and_reports_status(network_printer):
    with NetworkPrinter("127.0.0.1", network_printer.port) as printer:
        status = printer.write(JOB)
        assert status.answered and status.can_print
        assert network_printer.wait_for(b"\x1dV\x00")
        assert bytes(network_printer.received) == JOB
        assert network_printer.queries[:3] == [1, 2, 4]
        assert printer.status.state == "ready"


def test_network_printer_out_of_paper_gets_nothing(network_printer):
    network_printer.replies = {1: 0x1A, 2: 0x32, 4: 0x7E}
    with NetworkPrinter("127.0.0.1", network_printer.port) as printer:
        with pytest.raises(PrinterNotReady, match="out of paper — put in a new roll"):
            printer.write(JOB)
        assert printer.status.state == "offline"
        assert printer.status.message == "out of paper — put in a new roll"
    assert b"Teh Botol" not in network_printer.received


def test_network_printer_near_end_prints_with_a_warning(network_printer):
    network_printer.replies = {1: 0x12, 2: 0x12, 4: 0x1E}
    with NetworkPrinter("127.0.0.1", network_printer.port) as printer:
        printer.write(JOB)
        assert printer.status.state == "warning"
        assert "change the roll soon" in printer.status.message
    assert network_printer.wait_for(b"Teh Botol")


def test_network_printer_that_never_answers_status_still_prints(network_printer):
    network_printer.replies = {1: None, 2: None, 4: None}
    with NetworkPrinter("127.0.0.1", network_printer.port, status_timeout=0.1) as printer:
        printer.write(JOB)
        printer.write(JOB)
        assert printer.status.message.startswith("ready (this printer does not report")
    assert network_printer.wait_for(JOB + JOB)
    assert network_printer.queries == [1]  # asked once, then no more


def test_network_printer_refused_is_explained(closed_port):
    printer = NetworkPrinter("127.0.0.1", closed_port, timeout=1)
    with printer, pytest.raises(HardwareError) as caught:
        printer.write(JOB)
    message = str(caught.value)
    assert message.startswith(f"127.0.0.1:{closed_port}: connection refused")
    assert "[printer] host" in message and "9100" in message


def test_network_printer_needs_a_host():
    with pytest.raises(ValueError, match=r"printer.host is empty"):
        NetworkPrinter("")


def test_write_needs_an_open_printer(network_printer):
    printer = NetworkPrinter("127.0.0.1", network_printer.port)
    with pytest.raises(HardwareError, match="closed: open"):
        printer.write(JOB)


# -- serial (a pty standing in for the printer's serial port) -----------------------------------


def serial_printer_end(master: int, replies: dict[int, int], received: bytearray, stop):
    """The printer's side of the line: answer DLE EOT, keep everything else."""
    buffer = b""
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            continue
        try:
            buffer += os.read(master, 4096)
        except OSError:
            return
        while (at := buffer.find(b"\x10\x04")) >= 0 and len(buffer) > at + 2:
            received.extend(buffer[:at])
            os.write(master, bytes((replies[buffer[at + 2]],)))
            buffer = buffer[at + 3 :]
        # Keep back only what may be the start of a query split across two reads.
        keep = 2 if buffer.endswith(b"\x10\x04") else 1 if buffer.endswith(b"\x10") else 0
        received.extend(buffer[: len(buffer) - keep])
        buffer = buffer[len(buffer) - keep :]


def test_serial_printer_over_a_pty(pty_port):
    received = bytearray()
    stop = threading.Event()
    end = threading.Thread(
        target=serial_printer_end,
        args=(pty_port.master, {1: 0x12, 2: 0x16, 4: 0x12}, received, stop),
        daemon=True,
    )
    end.start()
    try:
        with SerialPrinter(pty_port.path, 19200) as printer:
            status = printer.query_status()
            assert status.cover_open and printer.status.message.startswith("cover open")
            with pytest.raises(PrinterNotReady):
                printer.write(JOB)
            end_replies = {1: 0x12, 2: 0x12, 4: 0x12}
            stop.set()
            end.join()
            stop.clear()
            end = threading.Thread(
                target=serial_printer_end,
                args=(pty_port.master, end_replies, received, stop),
                daemon=True,
            )
            end.start()
            printer.write(JOB)
            assert wait_until(lambda: bytes(received).endswith(b"\x1dV\x00"))
        assert bytes(received) == JOB
    finally:
        stop.set()
        end.join()


def test_serial_printer_missing_port_is_explained(tmp_path):
    with (
        SerialPrinter(str(tmp_path / "ttyUSB9")) as printer,
        pytest.raises(HardwareError) as caught,
    ):
        printer.write(JOB)
    assert "ttyUSB9: not found — is the printer plugged in and switched on?" in str(caught.value)
    assert "[printer] port" in str(caught.value)


def test_serial_printer_flow_control_is_checked():
    with pytest.raises(ValueError, match=r"printer.flow_control: 'hw'"):
        SerialPrinter("/dev/ttyUSB0", flow_control="hw")


# -- device files and USB -------------------------------------------------------------------------


def test_file_printer_appends_to_an_existing_device(tmp_path):
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    with FilePrinter(device) as printer:
        printer.write(JOB)
        printer.write(JOB)
        assert "does not report" in printer.status.message
    assert device.read_bytes() == JOB + JOB


def test_file_printer_that_cannot_be_opened_is_offline(tmp_path):
    with FilePrinter(tmp_path / "usb" / "lp0") as printer:
        with pytest.raises(HardwareError, match="lp0: not found — is the printer plugged in"):
            printer.write(JOB)
        assert printer.status.state == "offline"
        assert "[printer] path" in printer.status.message


def test_usb_printer_failure_is_explained():
    with UsbPrinter(0x04B8, 0x0202, timeout=1) as printer, pytest.raises(HardwareError) as caught:
        printer.write(JOB)
    message = str(caught.value)
    assert message.startswith("USB 04b8:0202: ")
    assert "libusb-1.0-0" in message or "not found — is the printer plugged in" in message


# -- the simulated printer ------------------------------------------------------------------------


def test_sim_printer_writes_bytes_text_and_png(tmp_path):
    with SimPrinter(tmp_path / "sim", 42) as printer:
        printer.write(JOB)
        printer.write(JOB)
    first = tmp_path / "sim" / "0001"
    assert first.with_suffix(".escpos").read_bytes() == JOB
    text = first.with_suffix(".txt").read_text()
    assert "Toko Sejahtera" in text and "[barcode T01-000007]" in text
    assert text.splitlines() == [row.rstrip() for row in text.splitlines()]  # no trailing spaces
    assert first.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "sim" / "0002.escpos").exists()
    # A restart continues the numbering instead of overwriting receipts.
    with SimPrinter(tmp_path / "sim", 42, png=False) as printer:
        printer.write(JOB)
        assert printer.jobs[-1].name == "0003.escpos"
        assert "Teh Botol" in printer.last_text


def test_sim_printer_paper_cover_and_power(tmp_path):
    with SimPrinter(tmp_path, 42, png=False) as printer:
        printer.paper = "end"
        with pytest.raises(PrinterNotReady, match="out of paper"):
            printer.write(JOB)
        printer.paper = "ok"
        printer.cover_open = True
        with pytest.raises(PrinterNotReady, match="cover open"):
            printer.write(JOB)
        printer.cover_open = False
        printer.online = False
        with pytest.raises(
            HardwareError, match="stopped answering — it was unplugged or switched off"
        ):
            printer.write(JOB)
        assert list(tmp_path.glob("*.escpos")) == []
        printer.online = True
        printer.write(JOB)
        assert printer.status.message == "ready"
    assert len(list(tmp_path.glob("*.escpos"))) == 1


def test_sim_printer_keeps_drawer_kicks_apart(tmp_path):
    with SimPrinter(tmp_path, 42, png=False) as printer:
        printer.kick(5, 120)
        assert printer.kicks == [(5, 120)]
        assert printer.jobs == []


def test_sim_printer_preview_matches_the_decoded_bytes(tmp_path):
    with SimPrinter(tmp_path, 42, png=False) as printer:
        printer.write(JOB)
        preview = printer.last_text.splitlines()
    for row in lines(JOB):
        if row.strip():
            assert any(row.strip() in shown for shown in preview), row
