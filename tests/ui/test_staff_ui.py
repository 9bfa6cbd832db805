"""Staff on the touchscreen: a manager adds a cashier (name on the on-screen keyboard, PIN on
the keypad) and deactivates one; anyone changes their own PIN; the first-boot PIN banner on
the login screen, shown until that manager has changed the PIN."""

from __future__ import annotations

import json

from appliance.screens.lists import ListRow
from appliance.store.models import Outbox, Staff
from retail.pins import verify_secret
from tests.ui.driver import CASHIER, CASHIER_PIN, MANAGER, MANAGER_PIN

FIRST = "First start: log in as Budi with PIN 246810, then change it (Change my PIN)"


def rows(ui) -> dict[str, str]:
    return {row.title: row.detail for row in ui.find_all(cls=ListRow)}


def pin_steps(ui, *steps: str) -> None:
    """Type each PIN on the PIN dialog's keypad and go on (Next, then Save)."""
    for pin in steps:
        dialog = ui.dialog()
        index = dialog.index
        ui.keys(dialog, "C" + pin)
        ui.tap(ui.find("Save" if dialog.last else "Next", within=dialog))
        ui.wait(lambda d=dialog, i=index: not d.checking, what="the PIN check")
        if ui.dialog() is dialog and dialog.index == index:
            return  # refused: the test reads why


def staff_events() -> list[dict]:
    return [
        json.loads(bytes(r.payload))["payload"]
        for r in Outbox.select().where(Outbox.type == "staff.changed").order_by(Outbox.seq)
    ]


def open_staff(ui) -> None:
    ui.login(MANAGER, MANAGER_PIN)
    ui.open_shift("0")
    ui.tap("Manager")  # a manager is logged in: no PIN asked
    ui.tap("Staff")
    assert ui.app.sm.current == "staff"


def test_a_manager_adds_a_cashier_who_then_logs_in(ui):
    app = ui.app
    open_staff(ui)
    assert rows(ui) == {
        "Ani": "Cashier \u00b7 active",
        "Budi": "Manager \u00b7 active \u00b7 logged in",
    }
    ui.tap("Add staff")
    name = ui.dialog()
    assert not app.keyboard.disabled  # the name is typed on the on-screen keyboard
    ui.tap("OK", within=name)
    assert name.error_text == "Type the name" and ui.dialog() is name
    ui.type_text("ani")
    ui.tap("OK", within=name)
    assert name.error_text == "There is already someone called Ani"
    name.ids.field.text = ""
    ui.type_text("Eko")
    ui.tap("OK", within=name)

    role = ui.dialog()
    assert role.title == "Eko: cashier or manager?"
    ui.tap("Cashier", within=role)
    pin = ui.dialog()
    assert pin.title == "PIN for Eko"
    pin_steps(ui, "12")
    assert pin.error_text == "A PIN is 4 to 8 digits" and pin.index == 0
    pin_steps(ui, "4829", "4828")
    assert pin.error_text == "The two new PINs differ: type the new PIN again"
    assert pin.index == 0 and not Staff.select().where(Staff.name == "Eko").exists()
    pin_steps(ui, "4829", "4829")
    ui.wait(lambda: ui.dialog() is None, what="the PIN dialog to close")

    eko = Staff.get(Staff.name == "Eko")
    assert ui.screen.message == "Eko added (Cashier)"
    assert rows(ui)["Eko"] == "Cashier \u00b7 active"
    added = staff_events()[-1]
    assert added["staff_id"] == eko.id and verify_secret("4829", added["pin_hash"])

    # Ani leaves: deactivated after a confirmation, she is gone from the login screen.
    ani = next(r for r in ui.find_all(cls=ListRow) if r.title == "Ani")
    ui.tap(ui.find("Deactivate", within=ani))
    ui.tap("Deactivate", within=ui.dialog())
    assert ui.screen.message == "Ani is deactivated"
    assert rows(ui)["Ani"] == "Cashier \u00b7 deactivated"
    assert staff_events()[-1]["active"] is False
    ui.tap("Back")
    ui.tap("Back to the sale")
    ui.tap("Log out")
    assert app.sm.current == "login" and not ui.find_all(CASHIER)
    ui.login("Eko", "4829")
    assert app.till.staff.name == "Eko"


def test_change_my_pin_refuses_a_wrong_current_pin(ui):
    app = ui.app
    ui.login()
    ui.open_shift("0")
    ui.tap("Change my PIN")
    dialog = ui.dialog()
    assert dialog.title == "Change my PIN \u00b7 Ani"
    pin_steps(ui, "0000")
    assert dialog.error_text == "Wrong PIN (4 tries left)" and dialog.index == 0
    pin_steps(ui, CASHIER_PIN, "8642", "8642")
    ui.wait(lambda: ui.dialog() is None, what="the PIN dialog to close")
    assert ("ok", "Your PIN is changed: use the new one from now on") in app.messages
    assert Staff.get(Staff.name == CASHIER).failed_attempts == 0

    ui.tap("Log out")
    ui.tap(CASHIER)
    ui.keys(ui.screen, CASHIER_PIN)
    ui.tap("Log in")
    ui.wait(lambda: not ui.screen.checking)
    assert ui.screen.message == "Wrong PIN (4 tries left)"
    ui.login(CASHIER, "8642")
    assert app.sm.current == "sale"


def write_first_pin(ui, pin: str) -> None:
    run = ui.data / "run"
    run.mkdir(exist_ok=True)
    report = {"applied": ["till store created"], "problems": [], "manager_pin": pin}
    (run / "setup-report.json").write_text(json.dumps(report))


def test_the_first_boot_pin_shows_until_the_manager_changes_it(ui):
    app = ui.app
    write_first_pin(ui, MANAGER_PIN)
    app.go("login")
    login = ui.screen
    ui.wait(lambda: login.first_pin_text, what="the first-PIN banner")
    assert login.first_pin_text == FIRST and ui.find(FIRST) == login.ids.first_pin
    assert login.ids.first_pin.height >= 48
    ui.tap(login.ids.first_pin)  # picks that manager
    assert login.chosen_name == MANAGER
    ui.keys(login, MANAGER_PIN)
    ui.tap("Log in")
    ui.wait(lambda: app.sm.current == "shift_open", what="the login")

    # Logging in is not enough: it stays until the PIN is changed (here before any shift).
    ui.tap("Log out")
    ui.idle()
    assert login.first_pin_text == FIRST
    ui.login(MANAGER, MANAGER_PIN)
    ui.tap("Change my PIN")
    pin_steps(ui, MANAGER_PIN, "135790", "135790")
    ui.wait(lambda: ui.dialog() is None, what="the PIN dialog to close")
    ui.tap("Log out")
    ui.idle()
    assert login.first_pin_text == "" and login.ids.first_pin.height == 0
    assert not ui.find_all(FIRST)


def test_a_first_boot_pin_that_no_longer_opens_the_account_is_not_shown(ui):
    write_first_pin(ui, "000000")
    ui.app.go("login")
    ui.idle()
    assert ui.screen.first_pin_text == "" and ui.screen.ids.first_pin.height == 0
