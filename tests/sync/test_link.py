"""The till's side of sync against a real OMS server: enrol, upload, pull, quarantine."""

from __future__ import annotations

import os
import stat

import pytest

from appliance import identity, outbox, sync
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.config import Config
from appliance.enrol import EnrolError, enrol
from appliance.oms_client import OmsClient, OmsConfigError, OmsUnauthorized, check_url
from appliance.refunds import refund
from appliance.shifts import open_shift
from appliance.staff import StaffInfo
from appliance.store.catalog_import import import_catalog
from appliance.store.db import open_store, peek_number
from appliance.store.models import Product, Staff, db
from retail.ids import uuid7
from retail.pins import hash_secret
from retail.pricing import TenderInput
from retail.schema import AuditRecorded
from tests.appliance.tillkit import FAST, ean

CSV = (
    "sku,name,price,barcode,tax,category,stock\n"
    f"IDM,Indomie Goreng,3500,{ean('899100110001')},PPN,Mie,100\n"
    f"AQ,Aqua 600ml,4000,{ean('899100220001')},PPN,Minuman,50\n"
    f"BRS,Beras 5kg,75000,{ean('899100330001')},FREE,Sembako,10\n"
)


def new_code(server, store="JKT1", name="Kasir 1") -> str:
    from cloud_oms import admin
    from cloud_oms.models.core import Store

    with server.bind():
        if Store.get_or_none(Store.code == store) is None:
            admin.add_store(store, f"Toko {store}")
        _, code = admin.add_terminal(store, name)
    return code


@pytest.fixture
def till(tmp_path):
    database = open_store(tmp_path / "kasir.sqlite3")
    config = Config(env={}, cli={"till.data_dir": str(tmp_path)})
    config.attach_store()
    import_catalog(CSV, config)
    manager = StaffInfo(uuid7(), "Budi", "manager")
    Staff.create(
        id=manager.id, name=manager.name, role=manager.role, pin_hash=hash_secret("246810", **FAST)
    )
    open_shift(manager, 100_000, config)
    yield config, tmp_path, manager
    database.close()


def sell(config, staff, code, qty=1):
    cart = Cart(config, staff=staff)
    cart.scan(code, qty)
    return complete_sale(cart, [TenderInput("cash", 500_000)], staff=staff, config=config)


def test_urls_are_checked():
    assert check_url("https://oms.example.id/") == "https://oms.example.id"
    assert check_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    with pytest.raises(OmsConfigError, match="plain HTTP is only allowed to this machine"):
        check_url("http://oms.example.id")
    with pytest.raises(OmsConfigError, match=r"8\.8\.8\.8 is not one"):
        check_url("http://8.8.8.8", allow_http=True)
    assert check_url("http://192.168.1.10:8000", allow_http=True)
    with pytest.raises(OmsConfigError, match="should look like"):
        check_url("oms.example.id")


def test_enrol_sync_and_pull(oms_server, till):
    config, data_dir, manager = till
    before = sell(config, manager, ean("899100110001"), 2)  # sold while standalone
    done = enrol(config, data_dir, oms_server.url, new_code(oms_server), name="Kasir 1")
    assert done.store_code == "JKT1"
    token_file = data_dir / sync.TOKEN_FILE
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    ident = identity.load()
    assert ident.enrolled and ident.store_code == "JKT1"
    after = sell(config, manager, ean("899100330001"))
    assert after.receipt_no.startswith("JKT1-") and before.receipt_no == "000001"
    link = sync.SyncLink.from_store(config, data_dir)
    report = link.round()
    assert report.upload.rejected == 0
    assert outbox.depth()["pending"] == 0
    assert report.clock_skew_ms is not None and abs(report.clock_skew_ms) < 60_000
    from cloud_oms.models.orders import Order

    with oms_server.bind():
        numbers = {o.number for o in Order.select().where(Order.kind == "store")}
    assert {before.receipt_no, after.receipt_no} <= numbers
    # a second round sends nothing new and is still fine
    assert link.round().upload.sent == 0
    status = sync.status()
    assert status["reachable"] and status["outbox_pending"] == 0
    assert status["catalog_cursor"]


def test_price_change_at_oms_reaches_the_till(oms_server, till):
    config, data_dir, manager = till
    enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT2"))
    from cloud_oms import catalog as oms_catalog
    from cloud_oms.models.core import Product as OmsProduct

    with oms_server.bind():
        product = OmsProduct.get(OmsProduct.sku == "AQ")
        oms_catalog.save_product(sku="AQ", name=product.name, price=4500, tax_code="PPN")
    cart = Cart(config, staff=manager)
    cart.scan(ean("899100220001"))  # in the cart at the old price
    sync.SyncLink.from_store(config, data_dir).round()
    assert Product.get(Product.sku == "AQ").price == 4500
    assert cart.priced().total == 4000  # a sale in progress keeps its price
    assert Cart(config).add_sku("AQ").unit_price == 4500


def test_rejected_event_is_quarantined_and_later_events_flow(oms_server, till):
    config, data_dir, manager = till
    enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT3"))
    missing = uuid7()
    with db.atomic():
        held = outbox.enqueue(
            AuditRecorded(audit_id=uuid7(), action="no_sale", staff_id=manager.id),
            tz="Asia/Jakarta",
            depends_on=(missing,),
        )
    sale = sell(config, manager, ean("899100110001"))
    refund(sale.receipt_no, config=config, staff=manager, approver=manager)
    link = sync.SyncLink.from_store(config, data_dir)
    report = link.round()
    assert report.upload.rejected == 1 and report.upload.accepted >= 2
    quarantined = sync.quarantined()
    assert [q["seq"] for q in quarantined] == [held.seq]
    assert missing in quarantined[0]["reason"]
    # events that depend on a quarantined one wait with it
    with db.atomic():
        waiting = outbox.enqueue(
            AuditRecorded(audit_id=uuid7(), action="no_sale"),
            tz="Asia/Jakarta",
            depends_on=(held.id,),
        )
    assert link.round().upload.waiting == 1
    # the fix: the missing event arrives (e.g. re-imported from an export), then a retry
    with db.atomic():
        outbox.enqueue(
            AuditRecorded(audit_id=uuid7(), action="no_sale"), tz="Asia/Jakarta", event_id=missing
        )
    link.round()
    assert sync.release_quarantine() == 1
    link.round()
    assert sync.quarantined() == [] and outbox.depth()["pending"] == 0
    assert waiting.seq > held.seq


def test_reenrol_with_undelivered_needs_force(oms_server, till):
    config, data_dir, manager = till
    enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT4"))
    sell(config, manager, ean("899100110001"))
    with pytest.raises(EnrolError, match="have not reached the OMS"):
        enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT4", "Kasir 2"))
    done = enrol(
        config, data_dir, oms_server.url, new_code(oms_server, "JKT4", "Kasir 2"), force=True
    )
    import json

    exported = [json.loads(line) for line in done.exported.read_text().splitlines()]
    kinds = sorted(json.loads(e["event"])["type"] for e in exported)
    assert kinds == ["sale.completed", "shift.opened"]  # the fixture's shift and the sale
    assert sorted(q["type"] for q in sync.quarantined()) == kinds


def test_replacement_till_continues_numbers(oms_server, till, tmp_path_factory):
    config, data_dir, manager = till
    enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT5", "Kasir 1"))
    for _ in range(3):
        sell(config, manager, ean("899100110001"))
    sync.SyncLink.from_store(config, data_dir).round()
    last_receipt = peek_number("receipt_seq")
    last_seq = peek_number("outbox_seq")
    from cloud_oms import admin

    with oms_server.bind():
        _, code = admin.add_terminal("JKT5", "Kasir 1", replace=identity.load().terminal_code)
    db.close()
    fresh = tmp_path_factory.mktemp("replacement")
    database = open_store(fresh / "kasir.sqlite3")
    cfg = Config(env={}, cli={"till.data_dir": str(fresh)})
    cfg.attach_store()
    done = enrol(cfg, fresh, oms_server.url, code)
    assert done.last_receipt_seq == last_receipt and done.last_seq >= last_seq
    assert peek_number("receipt_seq") == last_receipt
    # the catalog and staff came down from the OMS
    assert Product.select().count() == 3
    assert Staff.select().where(Staff.name == "Budi").exists()
    database.close()


def test_revoked_token_is_refused(oms_server, till):
    config, data_dir, _ = till
    enrol(config, data_dir, oms_server.url, new_code(oms_server, "JKT6", "Kasir R"))
    from cloud_oms import admin

    with oms_server.bind():
        admin.revoke_terminal("JKT6", identity.load().terminal_code)
    with pytest.raises(OmsUnauthorized, match="enrol again"):
        sync.SyncLink.from_store(config, data_dir).round()
    assert sync.status()["reachable"] is False


def test_unreachable_oms_is_reported(till):
    config, data_dir, _ = till
    sync.put_state("oms_url", "http://127.0.0.1:9")
    (data_dir / sync.TOKEN_FILE).write_text("x")
    link = sync.SyncLink.from_store(config, data_dir)
    with pytest.raises(sync.OmsUnavailable):
        link.round()
    assert "cannot reach" in sync.status()["last_error"]
    assert isinstance(link.client, OmsClient)
