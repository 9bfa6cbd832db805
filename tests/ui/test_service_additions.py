"""The small service functions the screens needed: weighing by typed grams, what is left to
refund on a receipt, a customer by id, and the .po reader."""

from __future__ import annotations

import pytest

from appliance import customers, i18n, refunds
from appliance.cart import Cart, CartError
from appliance.catalog import lookup_sku
from appliance.checkout import TenderInput, complete_sale
from appliance.config import Config
from appliance.store.db import open_store, store_path
from tests.ui.driver import AQUA


@pytest.fixture
def store(template, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(template, data)
    database = open_store(store_path(data))
    config = Config(env={}, cli={"till.data_dir": str(data)})
    config.attach_store()
    yield config
    database.close()


def test_add_weighed_sells_typed_grams_and_names_what_is_wrong(store):
    cart = Cart(store)
    onions = lookup_sku("TIMBANG-BWM")  # Bawang Merah, Rp40.000/kg
    line = cart.add_weighed(onions, 750)
    assert (line.weight_g, cart.priced().total) == (750, 30_000)
    with pytest.raises(CartError, match="the weight must be above zero grams"):
        cart.add_weighed(onions, 0)
    with pytest.raises(CartError, match="10000000 g is more than one line takes"):
        cart.add_weighed(onions, 10_000_000)
    water = lookup_sku("MNM-001")
    with pytest.raises(
        CartError, match="Aqua Air Mineral 600ml is sold by the piece, not by weight"
    ):
        cart.add_weighed(water, 500)


def test_refundable_shows_what_is_left_on_each_line(store):
    from appliance import shifts, staff

    manager = staff.get(staff.find("Budi").id)
    shifts.open_shift(manager, 0, store)
    cart = Cart(store, staff=manager)
    cart.scan(AQUA, 3)
    done = complete_sale(cart, [TenderInput("cash", 20_000)], staff=manager, config=store)
    sale = refunds.refundable(done.receipt_no)
    line = sale.lines[0]
    assert (line.qty, line.refunded_qty, line.left, line.total) == (3, 0, 3, 10_500)
    assert [line.amount_for(n) for n in (1, 2, 3)] == [3_500, 7_000, 10_500]
    assert sale.tenders == ("cash",)
    refunds.refund(done.receipt_no, config=store, staff=manager, approver=manager, lines={1: 1})
    line = refunds.refundable(done.receipt_no).lines[0]
    assert (line.refunded_qty, line.left, line.amount_for(2)) == (1, 2, 7_000)
    with pytest.raises(refunds.RefundError, match="receipt 999999 is not a sale of this till"):
        refunds.refundable(" 999999 ")


def test_a_customer_by_id(store):
    sari = customers.create("Sari", "0812 3456 7890")
    assert customers.get(sari.id) == sari
    assert customers.get("no-such-id") is None


def test_the_po_reader_names_the_line_it_cannot_read():
    text = 'msgid ""\nmsgstr ""\n\nmsgid "Pay"\nmsgstr "Bayar"\n\nmsgid "Two"\n"lines"\nmsgstr ""\n"Dua "\n"baris"\n'
    assert i18n.read_po(text) == {"Pay": "Bayar", "Twolines": "Dua baris"}
    with pytest.raises(
        ValueError, match=r"line 3 of the catalog is not a \.po line: 'msgstr Bayar'"
    ):
        i18n.read_po('msgid "Pay"\n\nmsgstr Bayar\n')


def test_the_roster_lists_who_may_log_in_like_the_staff_service(store):
    from appliance import roster, staff

    assert [(p.id, p.name, p.role) for p in roster.active_staff()] == [
        (s.id, s.name, s.role) for s in staff.active_staff()
    ]
    assert [p.name for p in roster.active_staff()] == ["Ani", "Budi"]
    assert roster.has_manager()
    from appliance.store.models import Staff

    Staff.update(active=False).where(Staff.role == "manager").execute()
    assert not roster.has_manager()
    assert [p.name for p in roster.active_staff()] == ["Ani"]
