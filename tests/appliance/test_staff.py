"""PIN login with lockout, manager approvals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance import staff
from appliance.staff import AuthError
from appliance.store.models import Audit
from retail.ids import utcnow
from tests.appliance.tillkit import CASHIER_PIN, MANAGER_PIN


def test_login_and_lockout(config, people):
    now = utcnow()
    assert staff.login("Ani", CASHIER_PIN, config, now=now).role == "cashier"
    for left in (4, 3, 2, 1):
        with pytest.raises(AuthError, match=f"{left} tries left"):
            staff.login("Ani", "0000", config, now=now)
    with pytest.raises(AuthError, match="now locked"):
        staff.login("Ani", "0000", config, now=now)
    with pytest.raises(AuthError, match="locked after too many wrong PINs"):
        staff.login("Ani", CASHIER_PIN, config, now=now + timedelta(seconds=10))
    assert staff.login("Ani", CASHIER_PIN, config, now=now + timedelta(seconds=301)).name == "Ani"
    assert Audit.select().where(Audit.action == "login_failed").count() == 5
    assert Audit.select().where(Audit.action == "lockout").count() == 1


def test_unknown_and_disabled(config, people):
    from appliance.store.models import Staff

    with pytest.raises(AuthError, match="no staff member called"):
        staff.login("Nobody", "1234", config)
    Staff.update(active=False).where(Staff.name == "Ani").execute()
    with pytest.raises(AuthError, match="disabled"):
        staff.login("Ani", CASHIER_PIN, config)


def test_approve_by_pin(config, people):
    assert staff.approve(MANAGER_PIN, config).name == "Budi"
    with pytest.raises(AuthError, match="not a manager's PIN"):
        staff.approve(CASHIER_PIN, config)
    with pytest.raises(AuthError, match="not a manager"):
        staff.approve(CASHIER_PIN, config, manager="Ani")


def test_create_validates(config, store):
    with pytest.raises(ValueError, match="4 to 8 digits"):
        staff.create("Eko", "cashier", "12")
    with pytest.raises(ValueError, match="role"):
        staff.create("Eko", "boss", "1234")
    made = staff.create("Eko", "cashier", "123456")
    with pytest.raises(ValueError, match="already"):
        staff.create("Eko", "cashier", "654321")
    assert staff.login("Eko", "123456", config).id == made.id
