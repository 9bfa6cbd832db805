"""Staff accounts and PIN login, with a lockout after repeated wrong PINs; adding staff,
PIN changes and resets, deactivation.

>>> staff = login("Ani", "4821", config)          # doctest: +SKIP
>>> approve("9371", config).role                  # doctest: +SKIP
'manager'
>>> change_own_pin(staff.id, "4821", "7305", "7305", config)             # doctest: +SKIP
>>> reset_pin(eko.id, "1122", "1122", by=manager, config=config)        # doctest: +SKIP

Every change of a staff member is in the audit log and, in the same transaction, in the
outbox as a `staff.changed` event carrying the whole record (the PIN's scrypt hash, never the
PIN): whether or not the till is enrolled, like a sale, so that the OMS learns it once the till
is, and hands it to the store's other tills with their next catalog pull. Hashing is slow on
purpose: call these off the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from retail.ids import iso, parse_iso, utcnow, uuid7
from retail.pins import check_pin_format, hash_secret, verify_secret
from retail.schema import StaffChanged

from . import audit, outbox
from .store.models import Staff, db

ROLES = ("cashier", "manager")
# What a staff button on the login screen shows in full at 800x480; the wire takes 120.
MAX_NAME = 40
DEFAULT_TZ = "Asia/Jakarta"


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


@dataclass(frozen=True)
class Member:
    """A row of the manager's staff list."""

    id: str
    name: str
    role: str
    active: bool
    locked: bool

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def check_name(name: str, *, keep: str | None = None) -> str:
    """`name` tidied (spaces trimmed and single), or ValueError saying why it cannot name an
    active staff member: empty, too long, or the name of another active one (`keep`: the id of
    the one it is for) — the login screen tells people apart by name alone."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("staff name is empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"staff name is longer than {MAX_NAME} characters")
    folded = name.casefold()
    for row in Staff.select(Staff.id, Staff.name).where(Staff.active):
        if row.id != keep and row.name.casefold() == folded:
            raise ValueError(f"there is already a staff member called {row.name}")
    return name


def check_new_pin(pin: str, again: str | None = None) -> None:
    """ValueError unless `pin` can be a PIN (and `again`, when given, repeats it)."""
    check_pin_format(pin)
    if again is not None and again != pin:
        raise ValueError("the two new PINs differ: type the same new PIN twice")


def _announce(row: Staff, action: str, *, by: str | None, tz: str, send: bool = True) -> None:
    """The audit entry and the OMS's copy of a change to `row`: call inside the change's
    transaction, so that both commit with it or not at all."""
    detail = {"staff_id": row.id, "name": row.name, "role": row.role, "active": row.active}
    audit.record(action, staff_id=by, detail=detail, tz=tz, send=send)
    if send:
        outbox.enqueue(
            StaffChanged(
                staff_id=row.id,
                name=row.name,
                role=row.role,
                pin_hash=row.pin_hash,
                active=bool(row.active),
            ),
            tz=tz,
        )


def create(
    name: str,
    role: str,
    pin: str,
    *,
    again: str | None = None,
    by: StaffInfo | None = None,
    tz: str = DEFAULT_TZ,
    send: bool = True,
) -> StaffInfo:
    """Add a staff member. `again`: the PIN typed a second time, when it was. `by`: the
    manager who adds them (None only for the first manager, made by `kasir init`). `send`
    False keeps the event out of the outbox: only for a till that has never been enrolled,
    whose whole staff goes to the OMS with the enrolment."""
    if by is not None:
        require_manager(by, "adding staff")
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_new_pin(pin, again)
    check_name(name)
    pin_hash = hash_secret(pin)  # before the transaction: slow on purpose
    with db.atomic():
        name = check_name(name)
        row = Staff.create(id=uuid7(), name=name, role=role, pin_hash=pin_hash)
        _announce(row, "staff_added", by=by.id if by else None, tz=tz, send=send)
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


def members(*, now=None) -> list[Member]:
    """Everyone, active first, by name: what the manager's staff list shows."""
    now = now or utcnow()
    rows = Staff.select().order_by(Staff.active.desc(), Staff.name, Staff.id)
    return [
        Member(
            r.id,
            r.name,
            r.role,
            bool(r.active),
            bool(r.locked_until and parse_iso(r.locked_until) > now),
        )
        for r in rows
    ]


def _row(staff_id: str) -> Staff:
    row = Staff.get_or_none(Staff.id == staff_id)
    if row is None:
        raise ValueError(f"no staff member with id {staff_id}")
    return row


def change_own_pin(staff_id: str, old_pin: str, new_pin: str, again: str, config) -> StaffInfo:
    """A staff member's new PIN, typed twice, after their current one: a wrong current PIN
    counts towards the lockout like a wrong PIN at login."""
    check_new_pin(new_pin, again)
    me = login(staff_id, old_pin, config)
    if new_pin == old_pin:
        raise ValueError("the new PIN is the same as the current one")
    _store_pin(me.id, new_pin, "pin_changed", by=me.id, tz=config["store.timezone"])
    return me


def reset_pin(staff_id: str, new_pin: str, again: str, *, by: StaffInfo, config) -> StaffInfo:
    """A manager gives someone else a new PIN (forgotten, or locked out: a reset unlocks)."""
    require_manager(by, "resetting a PIN")
    if staff_id == by.id:
        raise ValueError("your own PIN is changed with Change my PIN, which asks for it first")
    check_new_pin(new_pin, again)
    _row(staff_id)
    row = _store_pin(staff_id, new_pin, "pin_reset", by=by.id, tz=config["store.timezone"])
    return _info(row)


def _store_pin(staff_id: str, pin: str, action: str, *, by: str, tz: str) -> Staff:
    """Give `staff_id` the PIN `pin`, unlocked, with its audit entry and event; the row."""
    pin_hash = hash_secret(pin)  # before the transaction: slow on purpose
    with db.atomic():
        Staff.update(pin_hash=pin_hash, failed_attempts=0, locked_until=None).where(
            Staff.id == staff_id
        ).execute()
        row = _row(staff_id)
        _announce(row, action, by=by, tz=tz)
    return row


def set_active(
    staff_id: str, active: bool, *, by: StaffInfo, config, logged_in: str | None = None
) -> StaffInfo:
    """Deactivate (or reactivate) a staff member. Never the manager doing it, nor whoever is
    logged in on the till (`logged_in`), nor the last active manager: a till without one
    could not approve anything again."""
    require_manager(by, "deactivating or reactivating staff")
    with db.atomic():
        row = _row(staff_id)
        if bool(row.active) == active:
            state = "active" if active else "deactivated"
            raise ValueError(f"{row.name} is already {state}")
        if not active:
            if staff_id == by.id:
                raise ValueError("you cannot deactivate yourself while you are logged in")
            if staff_id == logged_in:
                raise ValueError(f"{row.name} is logged in on this till: log them out first")
            others = Staff.select().where(
                (Staff.role == "manager") & Staff.active & (Staff.id != staff_id)
            )
            if row.role == "manager" and not others.exists():
                raise ValueError(f"{row.name} is the last active manager: add another first")
        else:
            check_name(row.name, keep=row.id)
        Staff.update(active=active).where(Staff.id == staff_id).execute()
        row = _row(staff_id)
        action = "staff_reactivated" if active else "staff_deactivated"
        _announce(row, action, by=by.id, tz=config["store.timezone"])
    return _info(row)
