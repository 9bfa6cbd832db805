"""A real till store in a temp directory, with staff and a small catalog."""

from __future__ import annotations

import pytest

from appliance.config import Config
from appliance.store.db import open_store
from appliance.store.models import Staff
from retail.ids import uuid7
from retail.pins import hash_secret
from tests.appliance.tillkit import CASHIER_PIN, FAST, MANAGER_PIN, add_product, ean


@pytest.fixture
def config(tmp_path):
    return Config(env={}, cli={"till.data_dir": str(tmp_path)})


@pytest.fixture
def store(tmp_path, config):
    database = open_store(tmp_path / "kasir.sqlite3")
    config.attach_store()
    yield database
    database.close()


@pytest.fixture
def people(store):
    from appliance.staff import StaffInfo

    manager = StaffInfo(uuid7(), "Budi", "manager")
    cashier = StaffInfo(uuid7(), "Ani", "cashier")
    for s, pin in ((manager, MANAGER_PIN), (cashier, CASHIER_PIN)):
        Staff.create(id=s.id, name=s.name, role=s.role, pin_hash=hash_secret(pin, **FAST))
    return manager, cashier


@pytest.fixture
def catalog(store):
    """A handful of products; barcodes are valid EAN-13s."""
    return {
        "indomie": add_product(
            "IDM-GR",
            "Indomie Goreng",
            3500,
            barcode=ean("899100110001"),
            category="Mie",
            stock=100,
            pack=(ean("899100110002"), 40),
        ),
        "aqua": add_product(
            "AQ-600", "Aqua 600ml", 4000, barcode=ean("899100220001"), category="Minuman", stock=50
        ),
        "beras": add_product(
            "BRS-5", "Beras Premium 5kg", 75000, tax="FREE", barcode=ean("899100330001"), stock=10
        ),
        "parfum": add_product(
            "PRF-1", "Parfum Mewah", 500000, tax="LUX", barcode=ean("899100440001"), stock=2
        ),
        "apel": add_product(
            "APL", "Apel Fuji", 45000, tax="FREE", unit="kg", plu="123", stock=20000
        ),
    }


@pytest.fixture
def shift(people, config):
    from appliance import shifts

    manager, _ = people
    return shifts.open_shift(manager, 200_000, config)
