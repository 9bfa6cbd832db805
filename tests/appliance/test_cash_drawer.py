"""The cash drawer service: opens for cash movements and a manager's no-sale, audited, off-thread."""

from __future__ import annotations

import json
import threading

import pytest

from appliance.cash_drawer import CASH_REASONS, CashDrawerService, DrawerRefused
from appliance.hw.drawer import SimDrawer
from appliance.store.models import Audit, Outbox, Staff, db


@pytest.fixture
def drawer():
    with SimDrawer(pulse_ms=20, confirm_within=0.1) as sim:
        yield sim


@pytest.fixture
def service(store, drawer):
    svc = CashDrawerService(drawer, tz="Asia/Makassar")
    yield svc
    svc.close()


def audits() -> list[Audit]:
    return list(Audit.select().order_by(Audit.at, Audit.id))


@pytest.mark.parametrize("reason", CASH_REASONS)
def test_opens_for_every_cash_movement_and_audits_it(service, drawer, people, reason):
    _, cashier = people
    outcome = service.open(reason, staff_id=cashier.id, ref="T01-000001").result(timeout=5)
    assert outcome.opened and outcome.message == "drawer opened"
    assert drawer.is_open and len(drawer.pulses) == 1
    (entry,) = audits()
    assert (entry.id, entry.action, entry.staff_id) == (outcome.audit_id, "drawer_open", cashier.id)
    assert json.loads(entry.detail) == {"reason": reason, "ref": "T01-000001"}
    (event,) = Outbox.select()
    assert event.type == "audit.recorded"
    assert json.loads(bytes(event.payload))["tz"] == "Asia/Makassar"


def test_no_sale_needs_a_manager(service, drawer, people):
    manager, cashier = people
    with pytest.raises(DrawerRefused, match="no sale opens the drawer only for a manager"):
        service.open("no_sale", staff_id=cashier.id)
    assert audits() == [] and drawer.pulses == []
    outcome = service.open("no_sale", staff_id=cashier.id, approved_by=manager.id).result(5)
    assert outcome.opened
    (entry,) = audits()
    assert (entry.action, entry.staff_id, entry.approved_by_id) == (
        "no_sale",
        cashier.id,
        manager.id,
    )
    assert json.loads(entry.detail) == {"reason": "no_sale"}
    drawer.push_closed()
    assert service.open("no_sale", staff_id=manager.id).result(5).opened


def test_a_cashier_cannot_approve_a_no_sale(service, people):
    _, cashier = people
    with pytest.raises(DrawerRefused, match="manager"):
        service.open("no_sale", staff_id=cashier.id, approved_by=cashier.id)


def test_refuses_any_other_reason(service, drawer, people):
    manager, _ = people
    for reason in ("card_sale", "", "open", "NO_SALE"):
        with pytest.raises(
            DrawerRefused, match=f"does not open for {reason!r}: only for cash_sale"
        ):
            service.open(reason, staff_id=manager.id)
    assert audits() == [] and drawer.pulses == []


def test_unknown_or_inactive_staff_is_refused(service, drawer, people):
    _, cashier = people
    with pytest.raises(DrawerRefused, match="'nobody' is not an active member of staff"):
        service.open("cash_sale", staff_id="nobody")
    Staff.update(active=False).where(Staff.id == cashier.id).execute()
    with pytest.raises(DrawerRefused, match="not an active member of staff"):
        service.open("cash_sale", staff_id=cashier.id)
    assert audits() == [] and drawer.pulses == []


def test_must_be_called_after_the_cash_movement_committed(service, drawer, people):
    _, cashier = people
    with db.atomic(), pytest.raises(RuntimeError, match="after the cash movement's transaction"):
        service.open("cash_sale", staff_id=cashier.id)
    assert drawer.pulses == []


def test_a_drawer_that_reads_open_is_reported_not_raised(service, drawer, people):
    _, cashier = people
    assert service.open("cash_sale", staff_id=cashier.id).result(5).opened
    again = service.open("cash_in", staff_id=cashier.id).result(5)
    assert not again.opened and again.already_open
    assert again.message.startswith("the drawer is already open — close it first")
    assert len(drawer.pulses) == 1
    assert [a.action for a in audits()] == [
        "drawer_open",
        "drawer_open",
    ]  # every request is on record


def test_a_jammed_drawer_is_reported(service, drawer, people):
    _, cashier = people
    drawer.jammed = True
    outcome = service.open("cash_refund", staff_id=cashier.id).result(5)
    assert not outcome.opened
    assert outcome.message.startswith("drawer did not open: pulsed twice")


def test_the_pulse_runs_off_the_callers_thread(store, people):
    _, cashier = people
    threads = []

    class Watched(SimDrawer):
        def _fire(self):
            threads.append(threading.current_thread())
            super()._fire()

    outcomes = []
    with Watched(pulse_ms=20) as drawer:
        service = CashDrawerService(drawer, when_outcome=outcomes.append)
        try:
            assert service.open("cash_sale", staff_id=cashier.id).result(5).opened
        finally:
            service.close()
    assert threads and threads[0] is not threading.current_thread()
    assert outcomes[0].opened


def test_training_opens_are_audited_locally_only(service, people):
    _, cashier = people
    assert service.open("cash_sale", staff_id=cashier.id, training=True).result(5).opened
    (entry,) = audits()
    assert json.loads(entry.detail) == {"reason": "cash_sale", "training": True}
    assert Outbox.select().count() == 0
