"""Several real tills in one test process: each its own data directory and SQLite file,
enrolled with a real OMS; `use()` makes one the store this process works on (the store is a
process-wide proxy, so one till at a time).

    a = InProcessTill(tmp_path, "Kasir A").setup(oms_server, "XTR", "Ani")
    b = InProcessTill(tmp_path, "Kasir B").setup(oms_server, "XTR", "Budi")
    a.use(); ...; a.sync()
    b.use(); ...
"""

from __future__ import annotations

from appliance import outbox, staff, sync
from appliance.config import Config
from appliance.enrol import enrol
from appliance.shifts import open_shift
from appliance.store.catalog_import import import_catalog
from appliance.store.db import open_store
from appliance.store.models import Product, StockLevel, db
from tests.sync.test_link import CSV, new_code

MANAGER_PIN = "246810"


class InProcessTill:
    def __init__(self, root, name):
        self.dir = root / name
        self.dir.mkdir()
        self.name = name

    def use(self):
        close_store()
        open_store(self.dir / "kasir.sqlite3")
        self.config = Config(env={}, cli={"till.data_dir": str(self.dir)})
        self.config.attach_store()
        return self

    def setup(self, server, store: str, manager_name: str, *, shift: bool = True):
        """The demo-size catalog, a manager (PIN 246810), a shift open, enrolled in `store`."""
        self.use()
        import_catalog(CSV, self.config)
        self.manager = staff.create(manager_name, "manager", MANAGER_PIN, send=False)
        if shift:
            open_shift(self.manager, 100_000, self.config)
        enrol(self.config, self.dir, server.url, new_code(server, store, self.name))
        return self

    def sync(self):
        """One sync round that must deliver everything, nothing rejected."""
        report = sync.SyncLink.from_store(self.config, self.dir).round()
        assert report.upload.rejected == 0, sync.quarantined()
        assert outbox.depth()["pending"] == 0
        return report

    def login(self, who: str, pin: str):
        return staff.login(who, pin, self.config)

    def stock(self, sku: str) -> int:
        product = Product.get(Product.sku == sku)
        return StockLevel.get(StockLevel.product == product.id).on_hand


def close_store() -> None:
    if db.obj is not None and not db.is_closed():
        db.close()
