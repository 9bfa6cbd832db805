"""Who this till is: its terminal id and the store and terminal codes printed on receipts.

A standalone till has a local id and no codes; enrolment (the sync issue) sets them from the
OMS. Kept in the store's `setting` table under `identity.*`, apart from config keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from retail.ids import iso, utcnow, uuid7

from .store.models import Setting, db


@dataclass(frozen=True)
class Identity:
    terminal_id: str
    terminal_code: str = ""
    store_code: str = ""
    store_name: str = ""
    enrolled: bool = False

    def receipt_no(self, seq: int) -> str:
        if self.enrolled and self.store_code and self.terminal_code:
            return f"{self.store_code}-{self.terminal_code}-{seq:06d}"
        return f"{seq:06d}"


TRAINING_PREFIX = "TRN-"


def training_receipt_no(seq: int) -> str:
    return f"{TRAINING_PREFIX}{seq:06d}"


# Read on every sale (receipt number, training mode): one prepared query over the setting
# table's primary key, not an ORM query per key. Nothing is cached, so a change made by another
# process (e.g. `kasir enrol` while the till runs) is seen by the next sale.
_KEYS = (
    "identity.terminal_id",
    "identity.terminal_code",
    "identity.store_code",
    "identity.store_name",
    "identity.enrolled",
    "mode.training",
)
_SELECT_ALL = f"SELECT key, value FROM setting WHERE key IN ({', '.join('?' * len(_KEYS))})"
_SELECT_ONE = "SELECT value FROM setting WHERE key = ?"


def _get(key: str, default=None):
    row = db.execute_sql(_SELECT_ONE, (key,)).fetchone()
    return json.loads(row[0]) if row else default


def _put(key: str, value) -> None:
    Setting.replace(key=key, value=json.dumps(value), changed_at=iso(utcnow())).execute()


def _identity(values: dict) -> Identity:
    terminal_id = values.get("identity.terminal_id")
    if terminal_id is None:
        terminal_id = uuid7()
        _put("identity.terminal_id", terminal_id)
    return Identity(
        terminal_id=terminal_id,
        terminal_code=values.get("identity.terminal_code", ""),
        store_code=values.get("identity.store_code", ""),
        store_name=values.get("identity.store_name", ""),
        enrolled=bool(values.get("identity.enrolled", False)),
    )


def _values() -> dict:
    return {key: json.loads(value) for key, value in db.execute_sql(_SELECT_ALL, _KEYS)}


def load() -> Identity:
    return _identity(_values())


def for_sale() -> tuple[Identity, bool]:
    """The identity and whether training mode is on, in one read: what a sale needs."""
    values = _values()
    return _identity(values), bool(values.get("mode.training", False))


def save(identity: Identity) -> None:
    _put("identity.terminal_id", identity.terminal_id)
    _put("identity.terminal_code", identity.terminal_code)
    _put("identity.store_code", identity.store_code)
    _put("identity.store_name", identity.store_name)
    _put("identity.enrolled", identity.enrolled)


def training_mode() -> bool:
    return bool(_get("mode.training", False))


def set_training_mode(on: bool) -> None:
    _put("mode.training", bool(on))


def remember_manager(staff_id: str) -> None:
    """The manager `kasir init` made: the command line's default acting staff member, even
    when other tills' managers arrive with the catalog."""
    _put("identity.manager_id", staff_id)


def own_manager() -> str | None:
    return _get("identity.manager_id")
