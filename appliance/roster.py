"""Who may log in on this till: the names the login screen shows.

    >>> [person.name for person in active_staff()]          # doctest: +SKIP
    ['Ani', 'Budi']

Read without loading the rest of the staff service: `appliance.staff` brings in the audit log
and with it the event schema (pydantic models), which the login screen does not need before
someone types a PIN. The login itself is `appliance.staff.login`, run off the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store.models import Staff


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str


def active_staff() -> list[Person]:
    """Active staff members by name, as `appliance.staff.active_staff` lists them."""
    return [
        Person(row.id, row.name, row.role)
        for row in Staff.select(Staff.id, Staff.name, Staff.role)
        .where(Staff.active)
        .order_by(Staff.name)
    ]


def has_manager() -> bool:
    """Whether the store has an active manager yet (`kasir init` makes the first one)."""
    return Staff.select().where(Staff.role == "manager", Staff.active).exists()
