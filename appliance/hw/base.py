"""What every device of the till shares: a life cycle, a status, errors a shop owner can act on.

    >>> with SimDrawer() as drawer:                       # doctest: +SKIP
    ...     drawer.status.message
    'ready (simulated drawer)'

In the style of gpiozero: a device is a small object with `open()`, `close()` and a context
manager; its `status` says in words what it is doing or what is wrong ("out of paper — put in a
new roll"), and `when_status` is called whenever that changes, so the UI can show it. A device
that is missing or failing degrades its one function and says so; it never raises into a sale.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Self

log = logging.getLogger("kasir.hw")

State = Literal["ready", "warning", "offline", "closed"]


@dataclass(frozen=True)
class Status:
    """A device's condition. `ready` and `warning` still work; `offline` does not."""

    state: State
    message: str
    at: float = field(default_factory=time.time, compare=False)

    @property
    def ok(self) -> bool:
        return self.state in ("ready", "warning")


class HardwareError(RuntimeError):
    """A device could not do what was asked; the message says what to do about it."""


class Device:
    """Base of scanners, printers and drawers: open, status, close, context manager."""

    kind = "device"

    def __init__(self, *, when_status: Callable[[Status], None] | None = None) -> None:
        self.when_status = when_status
        self._closed = True
        self._status = Status("closed", f"{self.kind} not opened")
        self._status_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def open(self) -> Self:
        """Start using the device. A device that is absent does not raise here: its status says
        what is wrong and it keeps trying where it can (scanner, printer)."""
        if self._closed:
            self._closed = False
            self._open()
        return self

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._close()
            finally:
                self._set_status("closed", f"{self.kind} closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}: {self._status.state}>"

    def describe(self) -> str:
        """Which device this is, for messages: "/dev/ttyACM0", "192.168.1.50:9100"."""
        return self.kind

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    # -- status -------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        return self._status

    def _set_status(self, state: State, message: str) -> None:
        with self._status_lock:
            if self._status.state == state and self._status.message == message:
                return
            self._status = Status(state, message)
            status = self._status
        if state in ("offline", "warning"):
            log.warning("%s %s: %s", self.kind, self.describe(), message)
        callback = self.when_status
        if callback is not None:
            try:
                callback(status)
            except Exception:
                log.exception("when_status callback of %s failed", self.kind)

    def _require_open(self) -> None:
        if self._closed:
            raise HardwareError(f"{self.kind} {self.describe()} is closed: open() it first")


def call_safely(callback: Callable | None, *args) -> None:
    """Run a user callback from a device thread; its failure must not stop the device."""
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("device callback %r failed", callback)


_GROUPS = (
    ("/dev/tty", "dialout"),
    ("/dev/serial", "dialout"),
    ("/dev/usb/lp", "lp"),
    ("/dev/lp", "lp"),
    ("/dev/gpiochip", "gpio"),
)


def explain(exc: BaseException, target: str, *, what: str, section: str, key: str = "") -> str:
    """Turn an OS or library error into a sentence a shop owner can act on.

    >>> explain(PermissionError(13, "Permission denied"), "/dev/ttyUSB0", what="scanner",
    ...         section="scanner", key="port")
    '/dev/ttyUSB0: permission denied — the till user must be in group dialout'
    """
    setting = f"[{section}] {key}" if key else f"[{section}]"
    if isinstance(exc, socket.gaierror):
        return f"{target}: unknown host name — check {setting}"
    if isinstance(exc, TimeoutError):
        return (
            f"{target}: no answer — is the {what} switched on and on the same network? "
            f"check {setting}"
        )
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        group = next((g for prefix, g in _GROUPS if target.startswith(prefix)), None)
        if group:
            return f"{target}: permission denied — the till user must be in group {group}"
        return f"{target}: permission denied — the till user may not use it"
    if code == errno.ENOENT:
        return f"{target}: not found — is the {what} plugged in and switched on? check {setting}"
    if code in (errno.EBUSY, errno.EAGAIN):
        return (
            f"{target}: in use by another program — stop it (a second Kasir, ModemManager, "
            "a serial terminal) and try again"
        )
    if code == errno.ECONNREFUSED:
        return (
            f"{target}: connection refused — the address answers but no {what} listens there; "
            f"check {setting} (ESC/POS network printers use port 9100)"
        )
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
        return f"{target}: cannot be reached — check the network cable or Wi-Fi, and {setting}"
    if code in (errno.EIO, errno.ENXIO, errno.ENODEV, errno.EPIPE, errno.ECONNRESET):
        return f"{target}: the {what} stopped answering — it was unplugged or switched off"
    if code == errno.EISDIR:
        return f"{target}: is a directory, not a device — check {setting}"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{target}: {reason}"
