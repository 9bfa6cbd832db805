"""Ids born where a record is born, and time in UTC plus the store's zone.

    >>> len(uuid7())
    36
    >>> to_local(datetime(2026, 1, 1, tzinfo=UTC), "Asia/Makassar").hour
    8

UUIDv7 (RFC 9562) puts a millisecond timestamp first, so ids sort by birth and index well.
Indonesia has three zones: WIB (Asia/Jakarta), WITA (Asia/Makassar) and WIT (Asia/Jayapura).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INDONESIAN_ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}

_lock = threading.Lock()
_last = [0, 0]  # last millisecond, last 12-bit counter: keeps ids monotonic within a process


def uuid7() -> str:
    """A new UUIDv7 as its canonical string; monotonic within this process."""
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last[0]:
            ms = _last[0]
            counter = _last[1] + 1
            if counter > 0xFFF:
                ms += 1
                counter = secrets.randbits(8)
        else:
            counter = secrets.randbits(8)
        _last[0], _last[1] = ms, counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def uuid7_time(value: str) -> datetime:
    """The birth time written into a UUIDv7."""
    u = uuid.UUID(value)
    if u.version != 7:
        raise ValueError(f"{value} is a version {u.version} UUID, not version 7")
    return datetime.fromtimestamp((u.int >> 80) / 1000, tz=UTC)


def is_uuid7(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 7
    except (ValueError, AttributeError, TypeError):
        return False


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    name = INDONESIAN_ZONES.get(name, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"time zone {name!r} is not a known IANA zone") from exc


def to_local(moment: datetime, tz: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Kasir stores aware UTC times only")
    return moment.astimezone(zone(tz))


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a Z, the form every stored and sent time takes."""
    if moment.tzinfo is None:
        # astimezone() would read a naive time in the machine's own zone, silently hours off.
        raise ValueError("naive datetime: Kasir stores aware UTC times only")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return moment.astimezone(UTC)


def token(nbytes: int = 16) -> str:
    """An unguessable URL-safe token (e-receipt links, tracking pages)."""
    return secrets.token_urlsafe(nbytes)
