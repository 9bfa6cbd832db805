"""`kasir hw-test`: each device tried for real, each failure in words a shop owner can act on."""

from __future__ import annotations

import argparse

import pytest

from appliance import hwtest
from appliance.config import Config


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kasir hw-test")
    hwtest.add_arguments(parser)
    return parser.parse_args(list(argv))


def config(tmp_path, **values) -> Config:
    base = {"till.data_dir": str(tmp_path), "printer.sim_dir": str(tmp_path / "paper")}
    base.update({name.replace("__", "."): value for name, value in values.items()})
    return Config(file_values=base, env={})


def test_arguments():
    parsed = args("printer", "--timeout", "3")
    assert (parsed.device, parsed.timeout, parsed.simulate) == ("printer", 3.0, False)
    with pytest.raises(SystemExit):
        args("modem")


def test_all_simulated_devices_pass(tmp_path, capsys):
    assert hwtest.run(args("all", "--timeout", "5"), config(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "printer: OK — test page sent" in out
    assert "drawer: OK — opened on the pulse and the sensor saw it close again" in out
    assert "scanner: read '4006381333931'" in out
    assert "scanner: OK — product barcode, GTIN 4006381333931" in out
    assert out.rstrip().endswith("all devices OK")
    page = (tmp_path / "paper" / "0001.txt").read_text()
    assert "Kasir printer test" in page and "1234567890" * 4 + "12" in page
    assert "Accents are printed plain: Cafe creme" in page
    assert all(len(row) <= 42 for row in page.splitlines())
    assert "(sim, TM-T88III, 42 columns)" in " ".join(page.split())  # wrapped, not cut off


def test_simulate_overrides_real_settings(tmp_path, capsys):
    cfg = config(
        tmp_path,
        printer__type="network",
        printer__host="127.0.0.1",
        drawer__type="gpio",
        scanner__type="serial",
    )
    assert hwtest.run(args("all", "--simulate", "--timeout", "5"), cfg) == 0


def test_network_printer_not_listening(tmp_path, capsys, closed_port):
    cfg = config(
        tmp_path,
        printer__type="network",
        printer__host="127.0.0.1",
        printer__tcp_port=closed_port,
        printer__timeout_seconds=1,
    )
    assert hwtest.run(args("printer"), cfg) == 1
    out = capsys.readouterr().out
    assert f"printer: FAILED — 127.0.0.1:{closed_port}: connection refused" in out


def test_printer_out_of_paper(tmp_path, capsys, network_printer):
    network_printer.replies = {1: 0x1A, 2: 0x32, 4: 0x7E}
    cfg = config(
        tmp_path,
        printer__type="network",
        printer__host="127.0.0.1",
        printer__tcp_port=network_printer.port,
    )
    assert hwtest.run(args("printer"), cfg) == 1
    assert "printer: FAILED — out of paper — put in a new roll" in capsys.readouterr().out


def test_printer_device_file_missing(tmp_path, capsys):
    cfg = config(tmp_path, printer__type="file", printer__path=str(tmp_path / "lp0"))
    assert hwtest.run(args("printer"), cfg) == 1
    out = capsys.readouterr().out
    assert f"printer: FAILED — {tmp_path}/lp0: not found — is the printer plugged in" in out


def test_printer_network_prints_the_test_page(tmp_path, capsys, network_printer):
    cfg = config(
        tmp_path,
        printer__type="network",
        printer__host="127.0.0.1",
        printer__tcp_port=network_printer.port,
        printer__width=48,
    )
    assert hwtest.run(args("printer"), cfg) == 0
    assert network_printer.wait_for(b"Kasir printer test")
    assert network_printer.wait_for(b"123456789012345678901234567890123456789012345678\n")
    assert "printer: status: ready" in capsys.readouterr().out


def test_scanner_port_missing(tmp_path, capsys):
    cfg = config(tmp_path, scanner__type="serial", scanner__port=str(tmp_path / "ttyACM0"))
    assert hwtest.run(args("scanner", "--timeout", "1"), cfg) == 1
    out = capsys.readouterr().out
    assert f"scanner: FAILED — {tmp_path}/ttyACM0: not found — is the scanner plugged in" in out


def test_serial_scanner_reads_a_scale_label(tmp_path, capsys, pty_port, monkeypatch):
    from appliance.hw.scanner import SerialScanner

    cfg = config(tmp_path, scanner__type="serial", scanner__port=pty_port.path)
    wait_ready = SerialScanner.wait_ready

    def ready_then_scan(self, timeout):
        # The cashier scans once the port is open.
        ok = wait_ready(self, timeout)
        if ok:
            pty_port.send(b"2000042012502\r\n")
        return ok

    monkeypatch.setattr(SerialScanner, "wait_ready", ready_then_scan)
    assert hwtest.run(args("scanner", "--timeout", "5"), cfg) == 0
    out = capsys.readouterr().out
    assert "scanner: OK — scale label: item 00042, 1250 g" in out


def test_scanner_that_sends_nothing(tmp_path, capsys, pty_port):
    cfg = config(tmp_path, scanner__type="serial", scanner__port=pty_port.path)
    assert hwtest.run(args("scanner", "--timeout", "0.3"), cfg) == 1
    out = capsys.readouterr().out
    assert "scanner: FAILED — no code within 0.3 s" in out
    assert "Does the scanner beep when it reads?" in out


def test_scanned_code_the_till_cannot_use(tmp_path, capsys):
    cfg = config(tmp_path, scanner__sim_codes=["4006381333932"], scanner__sim_interval_ms=0)
    assert hwtest.run(args("scanner", "--timeout", "5"), cfg) == 0
    out = capsys.readouterr().out
    assert "scanner: OK, but the till cannot use '4006381333932': " in out


def test_wedge_scanner_reads_a_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hwtest, "_wait_for_line", lambda timeout: "T01-000123")
    assert hwtest.run(args("scanner"), config(tmp_path, scanner__type="wedge")) == 0
    assert "scanner: OK — shop's own code 'T01-000123'" in capsys.readouterr().out


def test_gpio_drawer_without_gpio(tmp_path, capsys):
    from gpiozero import Device

    previous, Device.pin_factory = Device.pin_factory, None
    try:
        with pytest.warns(Warning):
            assert hwtest.run(args("drawer"), config(tmp_path, drawer__type="gpio")) == 1
    finally:
        Device.pin_factory = previous
    assert "drawer: FAILED — no GPIO on this machine" in capsys.readouterr().out


def test_printer_drawer_kicks_through_the_printer(tmp_path, capsys, network_printer):
    cfg = config(
        tmp_path,
        drawer__type="printer",
        drawer__kick_pin=5,
        printer__type="network",
        printer__host="127.0.0.1",
        printer__tcp_port=network_printer.port,
    )
    assert hwtest.run(args("drawer"), cfg) == 0
    assert network_printer.wait_for(b"\x1bp\x01\x32\x64")
    assert "drawer: OK — pulse sent (100 ms); there is no sensor" in capsys.readouterr().out
