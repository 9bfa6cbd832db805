"""Staff on the till: adding people, changing and resetting PINs, deactivating, on a real store;
each change in the audit log and, in the same transaction, in the outbox for the OMS; the
first-boot PIN the login screen shows; the CLI going through the same service."""

from __future__ import annotations

import json
import re

import pytest

from appliance import first_pin, outbox, staff, sync
from appliance.cli import main
from appliance.staff import AuthError, StaffInfo
from appliance.store.models import Audit, Outbox, Staff
from retail.catalog_wire import CatalogPage, StaffWire
from retail.ids import uuid7
from retail.pins import hash_secret, verify_secret
from retail.schema import Event
from tests.appliance.tillkit import CASHIER_PIN, FAST, MANAGER_PIN


def events(kind: str = "staff.changed") -> list[Event]:
    return [
        Event.model_validate_json(bytes(row.payload))
        for row in Outbox.select().where(Outbox.type == kind).order_by(Outbox.seq)
    ]


def nothing_stored(before: tuple) -> bool:
    return before == counts()


def counts() -> tuple:
    return (
        Staff.select().count(),
        Outbox.select().count(),
        Audit.select().count(),
        tuple(Staff.select(Staff.pin_hash).order_by(Staff.id).tuples()),
        tuple(Staff.select(Staff.active).order_by(Staff.id).tuples()),
    )


# -- adding --------------------------------------------------------------------------------------


def test_a_manager_adds_staff_and_the_oms_gets_the_hash_never_the_pin(config, people):
    manager, _ = people
    eko = staff.create("  Eko   Saputra ", "cashier", "482915", again="482915", by=manager)
    assert eko.name == "Eko Saputra" and eko.role == "cashier"
    assert staff.login(eko.id, "482915", config).id == eko.id

    [event] = events()
    change = event.payload
    assert (change.staff_id, change.name, change.role, change.active) == (
        eko.id,
        "Eko Saputra",
        "cashier",
        True,
    )
    assert verify_secret("482915", change.pin_hash)
    assert change.pin_hash == Staff.get_by_id(eko.id).pin_hash
    raw = Outbox.get(Outbox.id == event.id).payload
    assert b"482915" not in bytes(raw)
    entry = Audit.get(Audit.action == "staff_added")
    assert entry.staff_id == manager.id
    assert json.loads(entry.detail) == {
        "staff_id": eko.id,
        "name": "Eko Saputra",
        "role": "cashier",
        "active": True,
    }
    # The audit entry goes to the OMS as well, right before the staff change.
    kinds = [r.type for r in Outbox.select().order_by(Outbox.seq)]
    assert kinds == ["audit.recorded", "staff.changed"]


@pytest.mark.parametrize(
    ("name", "role", "pin", "again", "error"),
    [
        ("", "cashier", "4829", None, "staff name is empty"),
        ("   ", "cashier", "4829", None, "staff name is empty"),
        ("A" * 41, "cashier", "4829", None, "staff name is longer than 40 characters"),
        ("Ani", "cashier", "4829", None, "there is already a staff member called Ani"),
        ("  aNI ", "manager", "4829", None, "there is already a staff member called Ani"),
        ("Eko", "boss", "4829", None, "role 'boss' is not one of cashier, manager"),
        ("Eko", "cashier", "123", None, "a PIN is 4 to 8 digits"),
        ("Eko", "cashier", "123456789", None, "a PIN is 4 to 8 digits"),
        ("Eko", "cashier", "12a4", None, "a PIN is 4 to 8 digits"),
        ("Eko", "cashier", "4829", "4828", "the two new PINs differ"),
    ],
)
def test_adding_with_bad_input_says_why_and_stores_nothing(people, name, role, pin, again, error):
    manager, _ = people
    before = counts()
    with pytest.raises(ValueError, match=re.escape(error)):
        staff.create(name, role, pin, again=again, by=manager)
    assert nothing_stored(before)


def test_only_a_manager_adds_staff(people):
    _, cashier = people
    before = counts()
    with pytest.raises(AuthError, match="adding staff needs a manager's approval"):
        staff.create("Eko", "cashier", "4829", by=cashier)
    assert nothing_stored(before)


def test_a_deactivated_persons_name_may_be_given_again(config, people):
    manager, cashier = people
    staff.set_active(cashier.id, False, by=manager, config=config)
    again = staff.create("Ani", "cashier", "9182", by=manager)
    assert again.id != cashier.id
    # ...but the first Ani cannot come back while the second is there.
    with pytest.raises(ValueError, match="there is already a staff member called Ani"):
        staff.set_active(cashier.id, True, by=manager, config=config)


# -- changing my own PIN -------------------------------------------------------------------------


def test_change_my_pin(config, people):
    _, cashier = people
    staff.change_own_pin(cashier.id, CASHIER_PIN, "8642", "8642", config)
    assert staff.login("Ani", "8642", config).id == cashier.id
    with pytest.raises(AuthError, match="wrong PIN"):
        staff.login("Ani", CASHIER_PIN, config)
    [event] = events()
    assert event.payload.staff_id == cashier.id and verify_secret("8642", event.payload.pin_hash)
    entry = Audit.get(Audit.action == "pin_changed")
    assert entry.staff_id == cashier.id and "8642" not in entry.detail


@pytest.mark.parametrize(
    ("current", "new", "again", "error", "kind"),
    [
        ("0000", "8642", "8642", "wrong PIN (4 tries left)", AuthError),
        (CASHIER_PIN, "8642", "8643", "the two new PINs differ", ValueError),
        (CASHIER_PIN, "86", "86", "a PIN is 4 to 8 digits", ValueError),
        (
            CASHIER_PIN,
            CASHIER_PIN,
            CASHIER_PIN,
            "the new PIN is the same as the current one",
            ValueError,
        ),
    ],
)
def test_change_my_pin_refusals_change_nothing(config, people, current, new, again, error, kind):
    _, cashier = people
    hash_before = Staff.get_by_id(cashier.id).pin_hash
    outbox_before = Outbox.select().where(Outbox.type == "staff.changed").count()
    with pytest.raises(kind, match=re.escape(error)):
        staff.change_own_pin(cashier.id, current, new, again, config)
    assert Staff.get_by_id(cashier.id).pin_hash == hash_before
    assert Outbox.select().where(Outbox.type == "staff.changed").count() == outbox_before
    assert not Audit.select().where(Audit.action == "pin_changed").exists()


def test_guessing_the_current_pin_locks_the_account_like_a_login(config, people):
    _, cashier = people
    for left in (4, 3, 2, 1):
        with pytest.raises(AuthError, match=f"{left} tries left"):
            staff.change_own_pin(cashier.id, "0000", "8642", "8642", config)
    with pytest.raises(AuthError, match="now locked"):
        staff.change_own_pin(cashier.id, "0000", "8642", "8642", config)
    with pytest.raises(AuthError, match="locked after too many wrong PINs"):
        staff.change_own_pin(cashier.id, CASHIER_PIN, "8642", "8642", config)
    assert events() == []


# -- a manager resets someone's PIN ---------------------------------------------------------------


def test_a_manager_resets_a_forgotten_pin_and_unlocks(config, people):
    manager, cashier = people
    for _ in range(5):
        with pytest.raises(AuthError):
            staff.login("Ani", "0000", config)
    assert {m.name: m.locked for m in staff.members()} == {"Ani": True, "Budi": False}
    staff.reset_pin(cashier.id, "5511", "5511", by=manager, config=config)
    assert staff.login("Ani", "5511", config).id == cashier.id
    assert not any(m.locked for m in staff.members())
    [event] = events()
    assert event.payload.staff_id == cashier.id and verify_secret("5511", event.payload.pin_hash)
    assert Audit.get(Audit.action == "pin_reset").staff_id == manager.id


def test_reset_refusals(config, people):
    manager, cashier = people
    before = counts()
    with pytest.raises(AuthError, match="resetting a PIN needs a manager's approval"):
        staff.reset_pin(manager.id, "5511", "5511", by=cashier, config=config)
    with pytest.raises(ValueError, match="your own PIN is changed with Change my PIN"):
        staff.reset_pin(manager.id, "5511", "5511", by=manager, config=config)
    with pytest.raises(ValueError, match="the two new PINs differ"):
        staff.reset_pin(cashier.id, "5511", "5512", by=manager, config=config)
    with pytest.raises(ValueError, match="a PIN is 4 to 8 digits"):
        staff.reset_pin(cashier.id, "", "", by=manager, config=config)
    with pytest.raises(ValueError, match="no staff member with id"):
        staff.reset_pin(uuid7(), "5511", "5511", by=manager, config=config)
    assert nothing_stored(before)


# -- deactivating and reactivating --------------------------------------------------------------


def test_deactivate_and_reactivate(config, people):
    manager, cashier = people
    staff.set_active(cashier.id, False, by=manager, config=config)
    with pytest.raises(AuthError, match="Ani's account is disabled"):
        staff.login("Ani", CASHIER_PIN, config)
    assert [(m.name, m.active) for m in staff.members()] == [("Budi", True), ("Ani", False)]
    staff.set_active(cashier.id, True, by=manager, config=config)
    assert staff.login("Ani", CASHIER_PIN, config).id == cashier.id
    assert [e.payload.active for e in events()] == [False, True]
    assert [a.action for a in Audit.select().order_by(Audit.at, Audit.id)] == [
        "staff_deactivated",
        "staff_reactivated",
    ]


def test_deactivation_refusals(config, people):
    manager, cashier = people
    eko = staff.create("Eko", "manager", "7788", by=manager)
    before = counts()
    with pytest.raises(ValueError, match="you cannot deactivate yourself while you are logged in"):
        staff.set_active(manager.id, False, by=manager, config=config)
    with pytest.raises(ValueError, match="Ani is logged in on this till: log them out first"):
        staff.set_active(cashier.id, False, by=manager, config=config, logged_in=cashier.id)
    with pytest.raises(ValueError, match="Ani is already active"):
        staff.set_active(cashier.id, True, by=manager, config=config)
    with pytest.raises(AuthError, match="needs a manager's approval"):
        staff.set_active(eko.id, False, by=cashier, config=config)
    # Budi approved the manager screen, then his own account was deactivated at the OMS and
    # pulled: Eko is the last active manager, and the till keeps him.
    Staff.update(active=False).where(Staff.id == manager.id).execute()
    before = counts()
    with pytest.raises(ValueError, match="Eko is the last active manager: add another first"):
        staff.set_active(eko.id, False, by=manager, config=config)
    assert nothing_stored(before)
    assert staff.login("Eko", "7788", config).id == eko.id


def test_a_change_and_its_event_commit_together(config, people, monkeypatch):
    manager, cashier = people
    before = counts()

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with pytest.raises(OSError, match="disk full"):
        staff.reset_pin(cashier.id, "5511", "5511", by=manager, config=config)
    with pytest.raises(OSError, match="disk full"):
        staff.create("Eko", "cashier", "7788", by=manager)
    assert nothing_stored(before)
    assert staff.login("Ani", CASHIER_PIN, config).id == cashier.id


# -- the catalog pull does not undo a change the OMS has not had yet -----------------------------


def test_a_pull_keeps_a_local_change_until_its_event_is_delivered(config, people):
    _, cashier = people
    old_hash = Staff.get_by_id(cashier.id).pin_hash
    staff.change_own_pin(cashier.id, CASHIER_PIN, "8642", "8642", config)
    new_hash = Staff.get_by_id(cashier.id).pin_hash

    def page(pin_hash: str) -> CatalogPage:
        wire = StaffWire(id=cashier.id, name="Ani", role="cashier", pin_hash=pin_hash)
        return CatalogPage(cursor="", staff=[wire], next_cursor="1.0.", more=False)

    sync.apply_catalog_page(page(old_hash))  # the OMS's copy from before the change
    assert Staff.get_by_id(cashier.id).pin_hash == new_hash
    Outbox.update(state="delivered").where(Outbox.type == "staff.changed").execute()
    sync.apply_catalog_page(page(new_hash))  # what the OMS sends after the event
    assert Staff.get_by_id(cashier.id).pin_hash == new_hash
    other = hash_secret("9999", **FAST)
    sync.apply_catalog_page(page(other))  # changed at the OMS later: the OMS wins again
    assert Staff.get_by_id(cashier.id).pin_hash == other


# -- the first manager's PIN from first boot ----------------------------------------------------


def write_report(data_dir, pin, name="setup-report.json"):
    run = data_dir / "run"
    run.mkdir(exist_ok=True)
    report = {"applied": ["till store created"], "problems": [], "manager_pin": pin}
    (run / name).write_text(json.dumps(report))


def test_the_first_pin_shows_until_that_manager_changes_it(tmp_path, config, people):
    manager, _ = people
    assert first_pin.pending(tmp_path) is None  # no report
    write_report(tmp_path, MANAGER_PIN)
    shown = first_pin.pending(tmp_path)
    assert shown == first_pin.FirstPin(manager.id, "Budi", MANAGER_PIN)
    staff.login(manager.id, MANAGER_PIN, config)
    assert first_pin.pending(tmp_path) == shown  # logging in is not enough
    # The report put away as seen still holds it.
    (tmp_path / "run/setup-report.json").rename(tmp_path / "run/setup-report.seen.json")
    assert first_pin.pending(tmp_path) == shown

    staff.change_own_pin(manager.id, MANAGER_PIN, "135790", "135790", config)
    assert first_pin.pending(tmp_path) is None
    assert first_pin.retired()
    # For good: set back to the printed PIN, it is not shown again.
    staff.change_own_pin(manager.id, "135790", MANAGER_PIN, MANAGER_PIN, config)
    assert first_pin.pending(tmp_path) is None


@pytest.mark.parametrize("pin", ["000000", None, 246810, "", "24 68 10"])
def test_a_first_pin_that_does_not_open_the_account_is_never_shown(tmp_path, people, pin):
    write_report(tmp_path, pin)
    assert first_pin.pending(tmp_path) is None


def test_an_unreadable_report_or_a_deactivated_manager_shows_nothing(tmp_path, config, people):
    manager, _ = people
    (tmp_path / "run").mkdir()
    (tmp_path / "run/setup-report.json").write_bytes(b'{"manager_pin": "2468')  # power cut
    assert first_pin.pending(tmp_path) is None and not first_pin.retired()
    write_report(tmp_path, MANAGER_PIN)
    eko = StaffInfo(uuid7(), "Eko", "manager")
    Staff.create(id=eko.id, name="Eko", role="manager", pin_hash=hash_secret("1111", **FAST))
    staff.set_active(manager.id, False, by=eko, config=config)
    assert first_pin.pending(tmp_path) is None


# -- the command line ---------------------------------------------------------------------------


def test_kasir_staff_add_goes_through_the_service(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KASIR_DATA", raising=False)
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "init", "--manager-name", "Budi"]) == 0
    pin = re.search(r"PIN \(shown once, write it down\): (\d{6})", capsys.readouterr().out)[1]
    code = main(["--data-dir", str(data), "--pin", pin, "staff", "add", "Eko", "--new-pin", "4829"])
    assert code == 0, capsys.readouterr().err
    code = main(["--data-dir", str(data), "--pin", pin, "staff", "add", "eko", "--new-pin", "1111"])
    assert code == 2
    assert "there is already a staff member called Eko" in capsys.readouterr().err

    from appliance.store.db import open_store, store_path

    database = open_store(store_path(data))
    try:
        # `kasir init`'s manager goes to the OMS with the enrolment, not as an event.
        [event] = events()
        eko = Staff.get(Staff.name == "Eko")
        assert event.payload.staff_id == eko.id and verify_secret("4829", event.payload.pin_hash)
        budi = Staff.get(Staff.name == "Budi")
        assert Audit.get(Audit.action == "staff_added", Audit.staff == budi.id)
        assert Audit.select().where(Audit.action == "staff_added").count() == 2
    finally:
        database.close()
