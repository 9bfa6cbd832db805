"""`kasir-oms`: the console script end to end, and each command's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest
from conftest import TEST_SECRET, OmsServer, free_port, pg_create, pg_drop

from cloud_oms import migrations
from cloud_oms.cli import main

KASIR_OMS = os.path.join(os.path.dirname(sys.executable), "kasir-oms")

CSV = """sku,name,price,barcode,tax,category,stock
MIE-1,Indomie Goreng,3.500,8998866200301,PPN,Mie,40
KOPI-1,Kopi Kapal Api,1.500,,FREE,Minuman,
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        return
    name = f"kasir_t_cli_{uuid.uuid4().hex[:10]}"
    url = pg_create(name)
    try:
        yield url
    finally:
        pg_drop(name)


def run(database_url, *args, input_text=None):
    """The real console script in a subprocess: (exit status, stdout, stderr)."""
    env = {**os.environ, "DATABASE_URL": database_url, "KASIR_OMS_SECRET": TEST_SECRET}
    done = subprocess.run(
        [KASIR_OMS, *args], env=env, capture_output=True, text=True, input=input_text, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


def cli(database_url, capsys, *args):
    """`main()` in this process (quicker): (exit status, stdout, stderr)."""
    status = main(["--database-url", database_url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_console_script_sets_up_serves_and_enrols(database_url, tmp_path):
    assert run(database_url, "migrate")[0] == 0
    status, out, _ = run(database_url, "add-store", "JKT1", "Toko Jakarta", "--tz", "WITA")
    assert status == 0 and "store JKT1 (Toko Jakarta) created" in out
    status, out, err = run(database_url, "add-terminal", "JKT1", "Kasir depan")
    assert status == 0, err
    code = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]

    server = OmsServer(database_url, "cli", tmp_path)
    server.start()
    try:
        with server.client() as http:
            first = http.post("/api/v1/terminals/enrol", json={"code": code, "name": "K1"})
            assert first.status_code == 200, first.text
            status, out, _ = run(database_url, "add-terminal", "JKT1", "--replace", "T01")
            assert status == 0 and "re-enrolment code" in out
            code2 = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
            second = http.post("/api/v1/terminals/enrol", json={"code": code2, "name": "K1b"})
            assert second.status_code == 200
            assert second.json()["terminal_id"] == first.json()["terminal_id"]
            token = second.json()["token"]
            heartbeat = {
                "version": "1",
                "outbox_depth": 0,
                "last_seq": 0,
                "clock": "2026-01-01T00:00:00Z",
            }
            auth = {"Authorization": f"Bearer {token}"}
            assert http.post("/api/v1/sync/heartbeat", json=heartbeat, headers=auth).is_success
            assert run(database_url, "revoke-terminal", "JKT1", "T01")[0] == 0
            refused = http.post("/api/v1/sync/heartbeat", json=heartbeat, headers=auth)
            assert refused.status_code == 401
    finally:
        server.stop()


def test_serve_migrates_on_request(database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "KASIR_OMS_SECRET": TEST_SECRET}
    proc = subprocess.Popen(
        [KASIR_OMS, "serve", "--migrate", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(150):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read().decode()
                subprocess.run(["sleep", "0.1"])
        assert health.json()["schema_version"] == migrations.LATEST
    finally:
        proc.terminate()
        proc.wait(10)


def test_commands_refuse_an_unmigrated_database(database_url, capsys):
    status, _, err = cli(database_url, capsys, "add-store", "JKT1", "Toko")
    assert status == 1 and "schema version 0" in err and "kasir-oms migrate" in err


def test_refusals_name_the_field(database_url, capsys):
    assert cli(database_url, capsys, "migrate")[0] == 0
    cases = [
        (["add-store", "bad code", "Toko"], "code: store code 'bad code'"),
        (["add-store", "JKT1", "Toko", "--tz", "Mars/Olympus"], "tz: time zone 'Mars/Olympus'"),
        (["add-terminal", "NOPE", "Kasir"], "store: no store with code 'NOPE'"),
        (["add-terminal", "JKT1"], "name: terminal name is empty"),
        (
            ["add-terminal", "JKT1", "--replace", "T07"],
            "terminal: store JKT1 has no terminal 'T07'",
        ),
        (["add-terminal", "JKT1", "K", "--expires-hours", "0"], "expires_hours: 0 is not between"),
        (["revoke-terminal", "JKT1", "T09"], "terminal: store JKT1 has no terminal 'T09'"),
        (["create-api-key", "nope"], "channel: no channel 'nope'"),
        (["add-channel", "Shop!"], "channel: channel code 'Shop!'"),
        (["add-store", "BDG1", "Toko", "--npwp", "01.234.567"], "npwp: NPWP '01.234.567' has 8"),
        (["add-store", "BDG1", "Toko", "--npwp", "NPWP 0123"], "npwp: NPWP 'NPWP 0123' may hold"),
        (["add-store", "BDG1", "Toko", "--address", "x" * 501], "address: address is 501"),
    ]
    assert cli(database_url, capsys, "add-store", "JKT1", "Toko")[0] == 0
    for args, message in cases:
        status, _, err = cli(database_url, capsys, *args)
        assert status == 1 and message in err, (args, err)


def test_add_store_with_its_address_and_tax_number(database_url, capsys):
    from cloud_oms.models.core import Store

    assert cli(database_url, capsys, "migrate")[0] == 0
    address = "  Jl. Sabang No. 12  \n Jakarta Pusat 10160 "
    status, out, err = cli(
        database_url,
        capsys,
        "add-store",
        "JKT1",
        "Toko",
        "--address",
        address,
        "--npwp",
        " 01.234.567.8-901.000 ",
    )
    assert status == 0 and "store JKT1 (Toko) created" in out, err
    assert cli(database_url, capsys, "add-store", "BDG1", "Toko Bandung")[0] == 0
    from cloud_oms import db as dbmod

    dbmod.connect(database_url)
    try:
        stores = {s.code: s for s in Store.select()}
    finally:
        dbmod.disconnect()
    assert stores["JKT1"].address == "Jl. Sabang No. 12\nJakarta Pusat 10160"
    assert stores["JKT1"].npwp == "01.234.567.8-901.000"
    assert (stores["BDG1"].address, stores["BDG1"].npwp) == ("", "")


def test_users_channels_and_api_keys(database_url, capsys, tmp_path):
    from cloud_oms.models.core import ApiKey, User
    from cloud_oms.security import digest, verify_password

    password = tmp_path / "pw"
    password.write_text("owner-password\n")
    assert cli(database_url, capsys, "migrate")[0] == 0
    status, out, _ = cli(
        database_url,
        capsys,
        "create-user",
        "Ani@Toko.id",
        "--role",
        "owner",
        "--password-file",
        str(password),
    )
    assert status == 0 and "user ani@toko.id (owner) created" in out
    short = tmp_path / "short"
    short.write_text("abc")
    status, _, err = cli(
        database_url,
        capsys,
        "create-user",
        "b@toko.id",
        "--role",
        "staff",
        "--password-file",
        str(short),
    )
    assert status == 1 and "password: password must be at least 8 characters" in err
    status, _, err = cli(
        database_url,
        capsys,
        "create-user",
        "not-an-email",
        "--role",
        "staff",
        "--password-file",
        str(password),
    )
    assert status == 1 and "email: 'not-an-email' is not an e-mail address" in err

    assert cli(database_url, capsys, "add-channel", "shop")[0] == 0
    status, out, _ = cli(database_url, capsys, "create-api-key", "shop")
    secret = out.strip().splitlines()[-1]
    assert status == 0 and secret.startswith("kak_")
    from conftest import bound

    with bound(database_url):
        user = User.get(User.email == "ani@toko.id")
        assert verify_password("owner-password", user.password_hash)
        key = ApiKey.get(ApiKey.digest == digest(secret))
        assert secret not in (key.digest, key.prefix) and secret.startswith(key.prefix)


def test_import_catalog(database_url, capsys, tmp_path):
    from cloud_oms.models.core import Barcode, Product
    from cloud_oms.models.stock import StockLevel

    good = tmp_path / "catalog.csv"
    good.write_text(CSV)
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "TEH-1,Teh,abc,,PPN,,\nMIE-1,Dup,1000,,PPN,,\n")
    assert cli(database_url, capsys, "migrate")[0] == 0
    assert cli(database_url, capsys, "add-store", "JKT1", "Toko")[0] == 0

    status, _, err = cli(database_url, capsys, "import-catalog", str(bad), "--store", "JKT1")
    assert status == 1
    assert (
        "bad.csv: line 4, price:" in err
        and "bad.csv: line 5, sku: sku 'MIE-1' is already on line 2" in err
    )
    assert "nothing was imported" in err
    status, _, err = cli(database_url, capsys, "import-catalog", str(good))
    assert status == 1 and "stock column needs --store" in err
    status, out, _ = cli(
        database_url, capsys, "import-catalog", str(good), "--dry-run", "--store", "JKT1"
    )
    assert status == 0 and "every row is valid" in out
    from conftest import bound

    with bound(database_url):
        assert Product.select().count() == 0

    status, out, err = cli(database_url, capsys, "import-catalog", str(good), "--store", "JKT1")
    assert status == 0, err
    assert "2 product(s) created, 0 updated, stock set for 1" in out
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,name,price\nMIE-1,Indomie Goreng,3.700\n")
    status, out, _ = cli(database_url, capsys, "import-catalog", str(prices))
    assert status == 0 and "0 product(s) created, 1 updated" in out
    with bound(database_url):
        mie = Product.get(Product.sku == "MIE-1")
        assert (mie.price, mie.tax_code_id) == (3700, "PPN")  # a price-only file keeps the tax
        assert [b.code for b in Barcode.select().where(Barcode.product == mie.id)] == [
            "8998866200301"
        ]
        level = StockLevel.get(StockLevel.product == mie.id)
        assert level.on_hand == 40


def test_worker_once(database_url, capsys):
    assert cli(database_url, capsys, "migrate")[0] == 0
    status, out, _ = cli(database_url, capsys, "worker", "--once")
    assert status == 0 and "0 notification(s) tried" in out
