import importlib.util

import test_bulk_booking as T

from cloud_oms import orders

spec = importlib.util.spec_from_file_location("cloud_oms._orig_orders", "/tmp/kasir-bulk/orig/orders_head.py")
orig = importlib.util.module_from_spec(spec)
import sys; sys.modules[spec.name] = orig
spec.loader.exec_module(orig)


def test_head_per_sale_equals_new_bulk(oms_backend, fresh_database, monkeypatch):
    events = T.sales()

    def old(store, term):
        monkeypatch.setattr(orders, "book_store_sale", orig.book_store_sale)
        try:
            return T.book_one_by_one(store, term, events)
        finally:
            monkeypatch.undo()

    (one, many), (a, b) = T.both_ways(fresh_database, oms_backend, old, lambda s, t: T.book_together(s, t, events))
    T.assert_same(a, b)
    assert orders.book_store_sale is not orig.book_store_sale
