"""Staff accounts and PIN login, with a lockout after repeated wrong PINs.

>>> staff = login("Ani", "4821", config)          # doctest: +SKIP
>>> approve("9371", config).role                  # doctest: +SKIP
'manager'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from retail.ids import iso, parse_iso, utcnow, uuid7
from retail.pins import check_pin_format, hash_secret, verify_secret

from . import audit
from .store.models import Staff, db

ROLES = ("cashier", "manager")


class AuthError(PermissionError):
    """A login or approval that failed; the message says why in words for the cashier."""


@dataclass(frozen=True)
class StaffInfo:
    id: str
    name: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def _info(row: Staff) -> StaffInfo:
    return StaffInfo(row.id, row.name, row.role)


def create(name: str, role: str, pin: str) -> StaffInfo:
    name = name.strip()
    if not name:
        raise ValueError("staff name is empty")
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_pin_format(pin)
    with db.atomic():
        if Staff.select().where(Staff.name == name, Staff.active).exists():
            raise ValueError(f"there is already a staff member called {name}")
        row = Staff.create(id=uuid7(), name=name, role=role, pin_hash=hash_secret(pin))
    return _info(row)


def find(name_or_id: str) -> Staff:
    row = Staff.get_or_none(Staff.id == name_or_id)
    if row is not None:
        return row
    rows = list(Staff.select().where(Staff.name == name_or_id).order_by(Staff.active.desc()))
    if not rows:
        raise AuthError(f"no staff member called {name_or_id!r}")
    active = [r for r in rows if r.active]
    if len(active) > 1:
        # Several tills' "Manager" after enrolment: a name is not enough to pick one.
        ids = ", ".join(r.id for r in active)
        raise AuthError(
            f"{len(active)} staff members are called {name_or_id!r}: use the id ({ids})"
        )
    return rows[0]


def get(staff_id: str) -> StaffInfo:
    return _info(Staff.get_by_id(staff_id))


def active_staff() -> list[StaffInfo]:
    return [_info(r) for r in Staff.select().where(Staff.active).order_by(Staff.name)]


def first_manager() -> StaffInfo | None:
    """This till's own manager (made by `kasir init`), else the first active manager."""
    from .identity import own_manager

    own = own_manager()
    row = Staff.get_or_none((Staff.id == own) & Staff.active) if own else None
    if row is None:
        row = Staff.select().where(Staff.role == "manager", Staff.active).order_by(Staff.id).first()
    return _info(row) if row else None


def login(name_or_id: str, pin: str, config, *, now=None) -> StaffInfo:
    """Check a PIN; after `till.pin_attempts` wrong PINs in a row the account locks for
    `till.pin_lockout_seconds`, and every failure is in the audit log."""
    now = now or utcnow()
    row = find(name_or_id)
    if not row.active:
        raise AuthError(f"{row.name}'s account is disabled")
    if row.locked_until and parse_iso(row.locked_until) > now:
        wait = int((parse_iso(row.locked_until) - now).total_seconds()) + 1
        raise AuthError(f"{row.name} is locked after too many wrong PINs; try again in {wait} s")
    tz = config["store.timezone"]
    if not verify_secret(pin, row.pin_hash):
        attempts = row.failed_attempts + 1
        locked = attempts >= config["till.pin_attempts"]
        with db.atomic():
            Staff.update(
                failed_attempts=0 if locked else attempts,
                locked_until=iso(now + timedelta(seconds=config["till.pin_lockout_seconds"]))
                if locked
                else row.locked_until,
            ).where(Staff.id == row.id).execute()
            audit.record("login_failed", staff_id=row.id, detail={"attempt": attempts}, tz=tz)
            if locked:
                audit.record("lockout", staff_id=row.id, tz=tz)
        if locked:
            raise AuthError(f"wrong PIN; {row.name} is now locked for a while")
        left = config["till.pin_attempts"] - attempts
        raise AuthError(f"wrong PIN ({left} tries left)")
    if row.failed_attempts or row.locked_until:
        Staff.update(failed_attempts=0, locked_until=None).where(Staff.id == row.id).execute()
    return _info(row)


def approve(pin: str, config, *, manager: str | None = None) -> StaffInfo:
    """A manager's approval by PIN (overrides, voids, refunds, no-sale, shift close)."""
    if manager is not None:
        info = login(manager, pin, config)
        if not info.is_manager:
            raise AuthError(f"{info.name} is not a manager")
        return info
    for row in Staff.select().where(Staff.role == "manager", Staff.active):
        if verify_secret(pin, row.pin_hash):
            return _info(row)
    audit.record(
        "login_failed", staff_id=None, detail={"approval": True}, tz=config["store.timezone"]
    )
    raise AuthError("that PIN is not a manager's PIN")


def require_manager(approver: StaffInfo | None, what: str) -> StaffInfo:
    if approver is None or not approver.is_manager:
        raise AuthError(f"{what} needs a manager's approval")
    return approver


def set_pin(staff_id: str, pin: str) -> None:
    check_pin_format(pin)
    Staff.update(pin_hash=hash_secret(pin), failed_attempts=0, locked_until=None).where(
        Staff.id == staff_id
    ).execute()
