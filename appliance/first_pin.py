"""The first manager's one-time PIN from first boot, for the login screen to show until that
manager has changed it.

    >>> first = pending(data_dir)            # doctest: +SKIP  (slow: a scrypt check)
    >>> first.name, first.pin                # doctest: +SKIP
    ('Pemilik', '042817')

`image/firstboot.py` runs `kasir init`, which makes the first manager with a random PIN, and
writes that PIN as `manager_pin` in `<data_dir>/run/setup-report.json` (kept as
`setup-report.seen.json` once a manager has put the set-up problems away). A till at the
counter is in the owner's hands at set-up, so the login screen says which name and PIN to use.

It stops for good once the PIN no longer opens that manager's account — changed on this till
(Change my PIN), reset, or changed on another till and pulled from the OMS — or once that
manager is no longer active: the first look that finds so marks it in the store, and a PIN set
back to the printed one later is not shown again. Until then it stays, even after logins: a
till whose owner has not chosen a PIN yet still needs the one first boot made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from retail.ids import iso, utcnow
from retail.pins import verify_secret

from . import setup_report
from .store.models import Setting, Staff

RETIRED = "setup.first_pin_retired"


@dataclass(frozen=True)
class FirstPin:
    staff_id: str
    name: str
    pin: str


def report_pin(data_dir: Path | str) -> str | None:
    """The manager PIN first boot wrote, from the report or the one already seen; None when
    there is none or it cannot be read (first boot's file may be anything: see setup_report)."""
    for name in (setup_report.REPORT, setup_report.SEEN):
        try:
            data = json.loads((Path(data_dir) / name).read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        pin = data.get("manager_pin") if isinstance(data, dict) else None
        if isinstance(pin, str) and pin.isascii() and pin.isdigit():
            return pin
    return None


def retired() -> bool:
    return Setting.get_or_none(Setting.key == RETIRED) is not None


def _retire() -> None:
    Setting.replace(key=RETIRED, value="true", changed_at=iso(utcnow())).execute()


def pending(data_dir: Path | str) -> FirstPin | None:
    """The first manager's name and PIN while that PIN still opens their account; None once
    it does not (and from then on). Checks the PIN's slow hash: call it off the UI thread."""
    pin = report_pin(data_dir)
    if pin is None or retired():
        return None
    from .staff import first_manager  # the audit log and the event schema, on this thread

    manager = first_manager()
    row = Staff.get_or_none(Staff.id == manager.id) if manager else None
    if row is None or not row.active or not verify_secret(pin, row.pin_hash):
        _retire()
        return None
    return FirstPin(row.id, row.name, pin)


__all__ = ["FirstPin", "pending", "report_pin", "retired"]
