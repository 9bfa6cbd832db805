"""`kasir` end to end on a real data directory."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from appliance.cli import main
from appliance.store.db import open_store, store_path
from tests.appliance.tillkit import ean

CSV = (
    "sku,name,price,barcode,tax,category,stock\n"
    f"IDM,Indomie Goreng,3.500,{ean('899100110001')}|{ean('899100110002')}*40,PPN,Mie,100\n"
    f"BRS,Beras 5kg,75.000,{ean('899100330001')},FREE,Sembako,10\n"
)


@pytest.fixture
def till(tmp_path, monkeypatch, capsys):
    """An initialised data dir; returns (run, pin)."""
    monkeypatch.delenv("KASIR_DATA", raising=False)
    data = tmp_path / "data"
    base = ["--data-dir", str(data)]

    def run(*argv):
        code = main([*base, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("init")
    assert code == 0
    pin = re.search(r"PIN \(shown once, write it down\): (\d{6})", out).group(1)
    csv = tmp_path / "catalog.csv"
    csv.write_text(CSV)
    assert run("import-catalog", str(csv))[0] == 0
    return run, pin


def test_sale_refund_and_close(till):
    run, pin = till
    code, _, err = run("sale", "--scan", ean("899100110001"), "--pay", "cash:5.000")
    assert code == 3 and "no shift is open" in err
    assert run("shift", "open", "--float", "100.000")[0] == 0
    code, out, err = run(
        "sale",
        "--scan",
        f"{ean('899100110001')}*3",
        "--sku",
        "BRS",
        "--pay",
        "card:50.000:APV1",
        "--pay",
        "cash:40.000",
    )
    assert code == 0, err
    assert "Receipt 000001  total Rp85.500  change Rp4.500" in out
    assert "Indomie Goreng" in out and "Kartu (APV1)" in out and "PPN" in out
    code, out, err = run("refund", "000001", "--line", "1*1", "--to", "cash")
    assert code == 3 and "PIN" in err
    code, out, err = run("--pin", pin, "refund", "000001", "--line", "1*1", "--to", "cash")
    assert code == 0, err
    assert "Refund 000002 of 000001: Rp3.500" in out
    assert run("report", "x")[0] == 0
    code, out, err = run("--pin", pin, "shift", "close", "--counted", "131.000")
    assert code == 0, err
    assert "LAPORAN Z #1" in out and "Kas seharusnya" in out
    # 100.000 float + 40.000 cash - 4.500 change - 3.500 refund = 132.000 expected
    assert re.search(r"Selisih\s+-1\.000", out)
    code, out, _ = run("report", "z")
    assert code == 0 and "LAPORAN Z #1" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--scan", "8991001100019", "--pay", "cash:5000"], "check digit should be"),
        (["--scan", ean("899199999999"), "--pay", "cash:5000"], "not in the catalog"),
        (["--scan", "12345678901", "--pay", "cash:5000"], "length 11 is not a GTIN length"),
        (["--sku", "BRS*x", "--pay", "cash:5000"], "quantity after * must be"),
        (["--sku", "NOPE", "--pay", "cash:5000"], "NOPE"),
        (["--sku", "BRS", "--pay", "cash:12x5"], "is not a number as written in id_ID"),
        (["--sku", "BRS", "--pay", "cash:12,5"], "has more decimals than IDR allows"),
        (["--sku", "BRS", "--pay", "cash:1.000"], "less than"),
        (["--sku", "BRS", "--pay", "card:75.000"], "write cash:AMOUNT, card:AMOUNT:REF"),
        (["--sku", "BRS"], "no payment: the total is Rp75.000"),
        (["--pay", "cash:1000"], "nothing to sell"),
    ],
)
def test_bad_sale_input_stores_nothing(till, argv, message):
    run, _ = till
    run("shift", "open")
    code, _, err = run("sale", *argv)
    assert code == 2, err
    assert message in err
    database = open_store(store_path(_data_dir(run)))
    assert database.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
    database.close()


def _data_dir(run):
    from pathlib import Path

    for cell in run.__closure__:
        value = cell.cell_contents
        if isinstance(value, list) and value and value[0] == "--data-dir":
            return Path(value[1])
    raise AssertionError("no data dir")


def test_bad_catalog_imports_nothing(till, tmp_path):
    run, _ = till
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price\nA,Apel,1.000\nB,,2.000\nC,Ceri,abc\n")
    code, _, err = run("import-catalog", str(bad))
    assert code == 2 and "line 3" in err and "line 4" in err
    code, out, err = run("import-catalog", str(bad), "--skip-bad")
    assert code == 0 and "1 new" in out


def test_init_twice_and_missing_store(till, tmp_path):
    run, _ = till
    code, _, err = run("init")
    assert code == 2 and "already set up" in err
    assert main(["--data-dir", str(tmp_path / "empty"), "status"]) == 2


def test_status_shows_sources(till, tmp_path):
    run, _ = till
    code, out, _ = run("status")
    assert code == 0
    assert "Outbox:" in out and "store.locale = 'id_ID'  [default]" in out


def test_bad_config_is_reported(tmp_path, capsys):
    cfg = tmp_path / "kasir.toml"
    cfg.write_text("[printer]\nwidth = 40\n")
    assert main(["--config", str(cfg), "--data-dir", str(tmp_path), "init"]) == 2
    assert "line 2: printer.width: 40 is not one of 32, 42, 48" in capsys.readouterr().err


def test_console_script_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "kasir 0.1.0"


def test_sale_prints_and_opens_drawer_for_cash_only(till):
    from appliance.store.models import Audit

    run, _ = till
    run("shift", "open")
    code, out, _ = run("sale", "--sku", "BRS", "--pay", "cash:100.000")
    assert code == 0 and "receipt printed" in out and "opened" in out.lower()
    code, out, _ = run("sale", "--sku", "BRS", "--pay", "qris:75.000:QR1")
    assert code == 0 and "receipt printed" in out and "drawer" not in out.lower()
    data = _data_dir(run)
    printed = sorted((data / "sim-printer").glob("*.txt"))
    assert len(printed) == 2
    assert "000001" in printed[0].read_text() and "000002" in printed[1].read_text()
    escpos = sorted((data / "sim-printer").glob("*.escpos"))
    assert escpos[0].read_bytes().startswith(b"\x1b@")
    database = open_store(store_path(data))
    opens = Audit.select().where(Audit.action == "drawer_open").count()
    database.close()
    assert opens == 1


def test_offline_printer_queues_and_never_fails_the_sale(till, monkeypatch):
    import socket

    from appliance.store.models import PrintJob

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setenv("KASIR_PRINTER_TYPE", "network")
    monkeypatch.setenv("KASIR_PRINTER_HOST", "127.0.0.1")
    monkeypatch.setenv("KASIR_PRINTER_TCP_PORT", str(closed_port))
    monkeypatch.setenv("KASIR_PRINTER_TIMEOUT_SECONDS", "1")
    run, _ = till
    run("shift", "open")
    code, out, err = run("sale", "--sku", "BRS", "--pay", "card:75.000:C1")
    assert code == 0, err
    assert "Receipt 000001" in out and "receipt queued" in out
    database = open_store(store_path(_data_dir(run)))
    jobs = [(j.ref, j.state) for j in PrintJob.select()]
    database.close()
    assert jobs == [("000001", "queued")]
