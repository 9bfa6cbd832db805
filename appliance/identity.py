"""Who this till is: its terminal id and the store and terminal codes printed on receipts.

A standalone till has a local id and no codes; enrolment (the sync issue) sets them from the
OMS. Kept in the store's `setting` table under `identity.*`, apart from config keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from retail.ids import iso, utcnow, uuid7

from .store.models import Setting


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


def _get(key: str, default=None):
    row = Setting.get_or_none(Setting.key == key)
    return json.loads(row.value) if row else default


def _put(key: str, value) -> None:
    Setting.replace(key=key, value=json.dumps(value), changed_at=iso(utcnow())).execute()


def load() -> Identity:
    terminal_id = _get("identity.terminal_id")
    if terminal_id is None:
        terminal_id = uuid7()
        _put("identity.terminal_id", terminal_id)
    return Identity(
        terminal_id=terminal_id,
        terminal_code=_get("identity.terminal_code", ""),
        store_code=_get("identity.store_code", ""),
        store_name=_get("identity.store_name", ""),
        enrolled=bool(_get("identity.enrolled", False)),
    )


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
