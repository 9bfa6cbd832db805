"""Scanners: cleaning, a real pseudo-terminal at 9600 baud, unplug and replug, the twins."""

from __future__ import annotations

import errno
import queue

import pytest
from hwhelpers import wait_until

from appliance.hw.base import explain
from appliance.hw.scanner import (
    CodeAssembler,
    CodeCleaner,
    SerialScanner,
    SimScanner,
    WedgeScanner,
    read_code_file,
)

# -- cleaning -----------------------------------------------------------------------------------


def test_cleaner_strips_prefix_suffix_and_aim_id():
    cleaner = CodeCleaner(prefix="#", suffix="!", aim_ids=True)
    code = cleaner.clean(b"#]E04006381333931!")
    assert (code.code, code.aim_id, code.symbology, code.dropped) == (
        "4006381333931",
        "]E0",
        "EAN/UPC",
        0,
    )
    assert code.raw == b"#]E04006381333931!"
    # A code without the configured prefix is passed on as it is, not mangled.
    assert cleaner.clean(b"]C1T01-000123").code == "T01-000123"
    assert cleaner.clean(b"]C1T01-000123").symbology == "Code 128"


def test_cleaner_removes_and_counts_control_characters_and_noise():
    cleaner = CodeCleaner(prefix="\x02", suffix="\x03")
    code = cleaner.clean(b"\x02\x004006\xff381\x1d333931\x07\x03")
    assert code.code == "4006381333931"
    assert code.dropped == 4  # NUL, 0xFF, GS, BEL
    assert cleaner.clean(b"\x00\xff\x1b") is None  # nothing but noise: no code at all


def test_assembler_joins_split_reads_and_skips_empty_lines():
    assembler = CodeAssembler(CodeCleaner(), "\r\n")
    out = []
    for part in (b"40063", b"81333", b"931\r", b"\n\r\n9", b"7802012345", b"67\n"):
        out += assembler.feed(part)
    assert [c.code for c in out] == ["4006381333931", "9780201234567"]
    assert assembler.pending == b""
    tab = CodeAssembler(CodeCleaner(), "\t")
    assert [c.code for c in tab.feed(b"ABC\tDEF\t")] == ["ABC", "DEF"]


def test_assembler_discards_runaway_noise():
    assembler = CodeAssembler(CodeCleaner())
    assert assembler.feed(b"x" * 300 + b"12345678\n")[0].code == "x" * 44 + "12345678"
    assert assembler.overflowed == 1
    with pytest.raises(ValueError, match=r"scanner.terminator should not be empty"):
        CodeAssembler(CodeCleaner(), "")


# -- serial, on a real pty ------------------------------------------------------------------------


def make_scanner(port, **kwargs) -> SerialScanner:
    return SerialScanner(port, 9600, retry_min=0.05, retry_max=0.2, **kwargs)


def test_serial_scanner_at_9600_baud_with_split_reads_noise_and_control_characters(pty_port):
    with make_scanner(pty_port.path, prefix="\x02", aim_ids=True) as scanner:
        assert scanner.wait_ready(5)
        assert scanner.status.message == f"ready on {pty_port.path}"
        pty_port.send(b"\x02]E04006381333931\r\n", chunk=2)
        pty_port.send(b"\xff\x00\r\n", chunk=1)  # line noise alone: no code
        pty_port.send(b"\x02]E0978\x1b02012345\x0767\r", chunk=5)
        pty_port.send(b"\x02]C1T01-000123\n", chunk=7)
        codes = [scanner.read(5) for _ in range(3)]
        assert [c.code for c in codes] == ["4006381333931", "9780201234567", "T01-000123"]
        assert [c.dropped for c in codes] == [0, 2, 0]
        assert [c.symbology for c in codes] == ["EAN/UPC", "EAN/UPC", "Code 128"]
        assert scanner.read(0.2) is None


def test_serial_scanner_survives_unplug_and_replug(pty_port):
    seen: queue.Queue = queue.Queue()
    statuses = []
    scanner = make_scanner(
        pty_port.path, when_scanned=seen.put, when_status=lambda s: statuses.append(s)
    )
    with scanner:
        assert scanner.wait_ready(5)
        pty_port.send(b"4006381333931\r\n")
        assert seen.get(timeout=5).code == "4006381333931"
        pty_port.send(b"978020")  # half a code, then the cable is pulled
        assert wait_until(lambda: scanner.assembler.pending == b"978020")
        pty_port.unplug()
        assert wait_until(lambda: scanner.status.state == "offline")
        assert scanner.status.message.endswith("waiting for it to come back")
        # Unplugged for a while: the scanner keeps trying and says why it cannot connect.
        pty_port.link.unlink()
        assert wait_until(lambda: "not found — is the scanner plugged in" in scanner.status.message)
        pty_port.replug()
        assert wait_until(lambda: scanner.status.state == "ready")
        pty_port.send(b"9780201234567\r\n")
        assert seen.get(timeout=5).code == "9780201234567"
        assert seen.empty()  # the half code was discarded, not glued onto the next one
        assert scanner.reconnects == 1
    assert [s.state for s in statuses][-1] == "closed"


def test_serial_scanner_missing_port_is_offline_with_a_reason(tmp_path):
    with make_scanner(str(tmp_path / "ttyACM7")) as scanner:
        assert not scanner.wait_ready(0.3)
        assert scanner.status.state == "offline"
        assert scanner.status.message == (
            f"{tmp_path}/ttyACM7: not found — is the scanner plugged in and switched on? "
            "check [scanner] port"
        )


def test_serial_scanner_without_terminator_says_so(pty_port):
    with make_scanner(pty_port.path, stale_after=0.2) as scanner:
        assert scanner.wait_ready(5)
        pty_port.send(b"4006381333931")
        assert wait_until(lambda: scanner.status.state == "warning")
        assert "no end-of-code character" in scanner.status.message
        assert "[scanner] terminator" in scanner.status.message
        assert scanner.read(0.1) is None
        pty_port.send(b"4006381333931\r")
        assert scanner.read(5).code == "4006381333931"
        assert scanner.status.state == "ready"


def test_errors_are_explained_for_a_shop_owner():
    def words(code, target):
        return explain(OSError(code, "x"), target, what="scanner", section="scanner", key="port")

    assert words(errno.EACCES, "/dev/ttyUSB0") == (
        "/dev/ttyUSB0: permission denied — the till user must be in group dialout"
    )
    assert "group lp" in words(errno.EACCES, "/dev/usb/lp0")
    assert "in use by another program" in words(errno.EBUSY, "/dev/ttyACM0")
    assert "stopped answering" in words(errno.EIO, "/dev/ttyACM0")


# -- keyboard wedge and the simulated scanner ------------------------------------------------------


def test_wedge_scanner_delivers_scans_and_hands_typing_back():
    seen = []
    with WedgeScanner(aim_ids=True, when_scanned=seen.append) as scanner:
        typed = []
        for i, ch in enumerate("]E04006381333931"):
            typed += scanner.key(ch, at=1.0 + i * 0.004)
        typed += scanner.key("enter", at=1.07)
        typed += scanner.key("7", at=2.0)
        typed += scanner.poll(now=2.2)
        assert [c.code for c in seen] == ["4006381333931"]
        assert seen[0].symbology == "EAN/UPC"
        assert typed == ["7"]


def test_sim_scanner_feeds_a_list_a_file_and_a_pty(tmp_path):
    import os

    codes_file = tmp_path / "codes.txt"
    codes_file.write_text("# shelf\n2000042012502\n\nT01-000123\n")
    seen: queue.Queue = queue.Queue()
    with SimScanner(
        ["4006381333931"], file=codes_file, interval=0, pty=True, when_scanned=seen.put
    ) as scanner:
        got = [seen.get(timeout=5).code for _ in range(3)]
        assert got == ["4006381333931", "2000042012502", "T01-000123"]
        assert scanner.pty_path in scanner.status.message
        fd = os.open(scanner.pty_path, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, b"97802012\x0034567\r\n")
        finally:
            os.close(fd)
        code = seen.get(timeout=5)
        assert (code.code, code.dropped) == ("9780201234567", 1)
        scanner.scan("  8991002101012 ")
        assert seen.get(timeout=5).code == "8991002101012"
    assert scanner.pty_path is None


def test_sim_scanner_missing_file_is_a_warning(tmp_path):
    with SimScanner(file=tmp_path / "none.txt") as scanner:
        assert scanner.status.state == "warning"
        assert scanner.status.message == f"scanner.sim_file: {tmp_path}/none.txt does not exist"
    with pytest.raises(Exception, match="does not exist"):
        read_code_file(tmp_path / "none.txt")
