"""What first boot could not apply from kasir.toml, for the login screen to show until a
manager has seen it.

    >>> report = pending(data_dir)                                # doctest: +SKIP
    >>> [(p.key, p.line, p.message) for p in report.problems]    # doctest: +SKIP
    [('wifi.psk', 8, 'a Wi-Fi password has 8 to 63 characters (or is 64 hex digits)')]
    >>> dismiss(data_dir, report)                                 # doctest: +SKIP

`image/firstboot.py` writes `<data_dir>/run/setup-report.json` (and a .txt twin) at first
boot, after `kasir-reconfigure`, and again on each failed enrolment attempt. A dismissed report
is kept as `setup-report.seen.json` rather than deleted: the owner (or support) may still want
to read it, and a report written by a later boot takes the old name again, so it shows again.

The file belongs to first boot, not to the till: it may be missing, half-written by a power
cut, or unreadable for the till's user. None of that may stop the till from starting, so every
such case comes back as a `SetupReport` with `error` set instead of an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

REPORT = Path("run") / "setup-report.json"
SEEN = Path("run") / "setup-report.seen.json"
TEXT = Path("run") / "setup-report.txt"
SEEN_TEXT = Path("run") / "setup-report.seen.txt"


@dataclass(frozen=True)
class Problem:
    """One thing first boot could not apply: the kasir.toml key (or "kasir.toml" for the whole
    file), its line in the file when known, and why, in first boot's words."""

    key: str
    line: int | None
    message: str


@dataclass(frozen=True)
class SetupReport:
    problems: tuple[Problem, ...] = ()
    written_at: str = ""
    error: str = ""  # why the report could not be read; there are no problems then
    digest: str = ""  # of the file's bytes: dismiss only what was shown

    @property
    def readable(self) -> bool:
        return not self.error


def _problem(item, index: int) -> Problem:
    where = f"problem {index + 1}"
    if not isinstance(item, dict):
        raise ValueError(f"{where} is not a table of key, line and message")
    key, line, message = item.get("key"), item.get("line"), item.get("message")
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where} has no key")
    if not isinstance(message, str):
        raise ValueError(f"{where} ({key}) has no message")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
        raise ValueError(f"{where} ({key}) has a line that is not a line number: {line!r}")
    return Problem(key, line, message)


def read(path: Path) -> SetupReport | None:
    """The report in `path`; None when there is no such file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return SetupReport(error=f"{path.name} could not be opened: {exc.strerror or exc}")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return SetupReport(error=f"{path.name} is not a readable report ({exc})", digest=digest)
    try:
        if not isinstance(data, dict) or not isinstance(data.get("problems"), list):
            raise ValueError("it has no list of problems")
        problems = tuple(_problem(item, i) for i, item in enumerate(data["problems"]))
    except ValueError as exc:
        return SetupReport(error=f"{path.name} is not a readable report: {exc}", digest=digest)
    written_at = data.get("written_at")
    return SetupReport(problems, written_at if isinstance(written_at, str) else "", "", digest)


def pending(data_dir: Path | str) -> SetupReport | None:
    """The report first boot left that still needs someone to look at it: one listing problems,
    or one that could not be read. None when there is none, or it lists no problems."""
    report = read(Path(data_dir) / REPORT)
    if report is None or (report.readable and not report.problems):
        return None
    return report


def dismiss(data_dir: Path | str, shown: SetupReport) -> bool:
    """Keep the report as setup-report.seen.json so that it is not shown again. False, and
    nothing moved, when the file is no longer the one that was shown (first boot's enrolment
    retries rewrite it): the newer report has not been seen yet."""
    data_dir = Path(data_dir)
    path = data_dir / REPORT
    try:
        current = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return False
    except OSError:
        current = ""  # unreadable, as it was when shown: it can still be moved aside
    if current != shown.digest:
        return False
    os.replace(path, data_dir / SEEN)
    # The .txt twin is for people reading the card; the till needs only the .json.
    with contextlib.suppress(FileNotFoundError):
        os.replace(data_dir / TEXT, data_dir / SEEN_TEXT)
    return True


__all__ = ["Problem", "SetupReport", "dismiss", "pending", "read"]
