"""Refunding another till's sale on the screen: the till is enrolled with a real OMS server,
another till of the store sold the goods, the cashier scans that receipt here."""

from __future__ import annotations

import json
import shutil

from appliance import sync
from appliance.config import Config
from appliance.enrol import enrol
from appliance.store.db import open_store, store_path
from appliance.store.models import Outbox, Refund, Sale
from tests.oms.oms_events import FakeTill
from tests.sync.test_link import new_code
from tests.ui.conftest import SCREENSHOTS
from tests.ui.driver import MANAGER_PIN, UiDriver


def test_a_sale_of_another_till_is_refunded_here(template, tmp_path, oms_server):
    data = tmp_path / "data"
    shutil.copytree(template, data)
    database = open_store(store_path(data))
    config = Config(env={}, cli={"till.data_dir": str(data)})
    config.attach_store()
    enrol(config, data, oms_server.url, new_code(oms_server, "UIX", "Kasir B"))
    database.close()

    other = oms_server.enrol("UIX", "Kasir A")
    sold = FakeTill(other["terminal_code"]).sale([("MNM-001", 3500, 3)])
    with oms_server.client(token=other["token"]) as http:
        answer = http.post("/api/v1/sync/events", json={"events": [sold.text]})
    assert answer.json()["results"][0]["outcome"] == "accepted", answer.text
    receipt_no = sold.payload.receipt_no

    ui = UiDriver(data)
    ui.start()
    try:
        app = ui.app
        ui.login()
        ui.open_shift("50000")
        ui.tap("Refund")
        ui.scan(receipt_no)
        refund = ui.screen
        ui.wait(lambda: refund.sale is not None, what="the sale from the OMS")
        assert f"sold at till {other['terminal_code']}" in refund.info
        assert [(r["name"], r["left"]) for r in refund.rows] == [("Item MNM-001", 3)]
        for _ in range(2):  # the rows are drawn anew after each change
            row = next(w for w in ui.find_all() if getattr(w, "name", "") == "Item MNM-001")
            ui.tap(next(w for w in ui.find_all(within=row) if getattr(w, "text", "") == "+"))
        assert refund.total == 7_000
        ui.shot("refund-other-till", SCREENSHOTS / "flows")
        ui.tap("Wrong item")
        ui.tap(ui.find("Refund  " + app.money(7_000)))
        pin = ui.dialog()
        ui.keys(pin, MANAGER_PIN)
        ui.tap("Approve", within=pin)
        ui.wait(lambda: refund.good, what="the refund")
        stored = Refund.get()
        assert (stored.sale_id, stored.total) == (sold.payload.sale_id, 7_000)
        assert Sale.get_by_id(stored.sale_id).origin == other["terminal_code"]
        event = json.loads(bytes(Outbox.get(Outbox.id == stored.id).payload))
        assert event["depends_on"] == [sold.id]

        # the refund reaches the OMS as a return of the other till's sale
        report = sync.SyncLink.from_store(ui.config, data).round()
        assert report.upload.rejected == 0, sync.quarantined()
        from cloud_oms.models.orders import Order, OrderLine

        with oms_server.bind():
            order = Order.get(Order.sale_id == sold.payload.sale_id)
            assert [
                ln.returned_qty for ln in OrderLine.select().where(OrderLine.order == order.id)
            ] == [2]

        # scanned again, the screen shows what the OMS now says is left
        ui.scan(receipt_no)
        ui.wait(
            lambda: refund.sale is not None and refund.rows and refund.rows[0]["left"] == 1,
            what="the refreshed sale",
        )
    finally:
        ui.stop()
