"""Staff changed at one till reach the store's other tills: two real tills of one store (each
its own SQLite file) enrolled with a real OMS server; a PIN changed at till A lets the cashier
log in at till B with it, a PIN reset and a deactivation at B reach A, and a replacement card
for till A enrolled afterwards gets the new PIN, not the old one."""

from __future__ import annotations

import pytest

from appliance import staff
from appliance.enrol import enrol
from appliance.staff import AuthError
from appliance.store.models import Staff
from tests.sync.inprocess import InProcessTill, close_store

STORE = "STS"


@pytest.fixture
def tills(oms_server, tmp_path):
    made = [
        InProcessTill(tmp_path, name).setup(oms_server, STORE, manager, shift=False)
        for name, manager in (("Kasir A", "Manajer A"), ("Kasir B", "Manajer B"))
    ]
    yield made
    close_store()


def test_staff_changes_at_one_till_reach_the_other(oms_server, tmp_path, tills):
    a, b = tills
    # Till A adds a cashier; till B learns her with its next pull, and she logs in there.
    a.use()
    ani = staff.create("Ani", "cashier", "1357", by=a.manager, tz=a.config["store.timezone"])
    a.sync()
    b.use()
    b.sync()
    assert b.login("Ani", "1357").id == ani.id

    # Her PIN changed at A: B takes the new one and refuses the old one.
    a.use()
    staff.change_own_pin(ani.id, "1357", "8642", "8642", a.config)
    a.sync()
    b.use()
    b.sync()
    assert b.login("Ani", "8642").id == ani.id
    with pytest.raises(AuthError, match="wrong PIN"):
        b.login("Ani", "1357")

    # B's manager resets it (forgotten), then deactivates her: A follows.
    staff.reset_pin(ani.id, "5511", "5511", by=b.manager, config=b.config)
    staff.set_active(ani.id, False, by=b.manager, config=b.config)
    b.sync()
    a.use()
    a.sync()
    with pytest.raises(AuthError, match="Ani's account is disabled"):
        a.login("Ani", "5511")
    assert not Staff.get_by_id(ani.id).active

    # Reactivated at A, she logs in at A with the PIN B's manager gave her.
    staff.set_active(ani.id, True, by=a.manager, config=a.config)
    a.sync()
    assert a.login("Ani", "5511").id == ani.id
    a_terminal = _terminal_code(a)

    # A's SD card dies: the replacement card enrolled as terminal A gets today's PINs.
    from cloud_oms import admin

    with oms_server.bind():
        _, code = admin.add_terminal(STORE, "Kasir A", replace=a_terminal)
    fresh = InProcessTill(tmp_path, "Kasir A (new card)").use()
    fresh.manager = staff.create("Manajer baru", "manager", "135790", send=False)
    enrol(fresh.config, fresh.dir, oms_server.url, code)
    assert fresh.login("Ani", "5511").id == ani.id
    with pytest.raises(AuthError, match="wrong PIN"):
        fresh.login("Ani", "8642")
    assert fresh.login("Manajer A", "246810").id == a.manager.id


def _terminal_code(till: InProcessTill) -> str:
    from appliance import identity

    till.use()
    return identity.load().terminal_code
