"""Receipt printers: serial, USB, network, device file and a simulated twin, with their status.

    >>> with NetworkPrinter("192.168.1.50") as printer:          # doctest: +SKIP
    ...     printer.write(renderer.render(receipt))
    ...     printer.query_status().message
    'ready'

A printer here is a connection that takes bytes (rendered once by `render.ReceiptRenderer` and
stored with the print job) and answers DLE EOT status queries where the hardware can: online,
cover open, paper end and near end. Before each job the printer is asked; one that is out of
paper or has its cover open gets nothing (`PrinterNotReady`), so the job stays queued instead of
vanishing into a printer that cannot print it. A printer that never answers status queries
(many parallel/USB-lp devices) still prints; its status then says that it cannot be checked.

Every failure is a `HardwareError` whose message says what to do ("…: connection refused — …").
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from .base import Device, HardwareError, explain, log

RT_PRINTER, RT_OFFLINE, RT_PAPER = b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"


class PrinterNotReady(HardwareError):
    """The printer answered that it cannot print now (paper, cover, error)."""


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said to DLE EOT 1, 2 and 4; None where it did not say."""

    answered: bool
    online: bool | None = None
    cover_open: bool | None = None
    paper_end: bool | None = None
    paper_near_end: bool | None = None
    error: bool | None = None
    drawer_pin3_high: bool | None = None

    @property
    def can_print(self) -> bool:
        return not (self.online is False or self.cover_open or self.paper_end or self.error)

    @property
    def message(self) -> str:
        if not self.answered:
            return "ready (this printer does not report paper or cover state)"
        if self.cover_open:
            return "cover open — close the printer cover"
        if self.paper_end:
            return "out of paper — put in a new roll"
        if self.error:
            return "printer error (paper jam or cutter) — open the cover, clear it, close it"
        if self.online is False:
            return "printer offline — is the paper feed button held, or the cover open?"
        if self.paper_near_end:
            return "paper nearly out — change the roll soon"
        return "ready"


def status_byte_ok(value: int) -> bool:
    """A real DLE EOT reply has bits 1 and 4 set and bits 0 and 7 clear."""
    return value & 0x93 == 0x12


def parse_status(printer: int | None, offline: int | None, paper: int | None) -> PrinterStatus:
    """Decode replies to DLE EOT 1 (printer), 2 (offline cause) and 4 (roll paper sensor)."""
    replies = [
        v if v is not None and status_byte_ok(v) else None for v in (printer, offline, paper)
    ]
    printer, offline, paper = replies
    if printer is None:
        return PrinterStatus(answered=False)
    return PrinterStatus(
        answered=True,
        online=not printer & 0x08,
        drawer_pin3_high=bool(printer & 0x04),
        cover_open=None if offline is None else bool(offline & 0x04),
        paper_end=None if paper is None else bool(paper & 0x60) or bool((offline or 0) & 0x20),
        paper_near_end=None if paper is None else bool(paper & 0x0C),
        error=None if offline is None else bool(offline & 0x40),
    )


def kick_bytes(pin: int, pulse_ms: int) -> bytes:
    """ESC p: pulse the drawer connector's pin 2 or 5 for `pulse_ms` (in 2 ms steps)."""
    if pin not in (2, 5):
        raise ValueError(f"drawer kick pin {pin} should be 2 or 5")
    on = max(1, min(255, round(pulse_ms / 2)))
    off = max(on, min(255, 2 * on))
    return bytes((0x1B, 0x70, 0 if pin == 2 else 1, on, off))


class Printer(Device):
    """Base of the printer connections. Subclasses provide `_connect`, `_send`, `_recv1`,
    `_disconnect`; this class adds the lock, the status checks and the explanations."""

    kind = "printer"
    keeps_connection = True  # serial and USB stay open; network and files connect per job
    setting_key = ""

    def __init__(self, *, timeout: float = 5.0, status_timeout: float = 0.5, when_status=None):
        super().__init__(when_status=when_status)
        self.timeout = timeout
        self.status_timeout = status_timeout
        self.last_status: PrinterStatus | None = None
        self._answers_status: bool | None = None
        self._connected = False
        self._lock = threading.RLock()

    # -- subclass hooks -------------------------------------------------------------------------

    def _connect(self) -> None:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _recv1(self, timeout: float) -> int | None:
        return None

    def _discard_input(self) -> None:
        pass

    def _disconnect(self) -> None:
        pass

    def _explain(self, exc: BaseException) -> str:
        return explain(
            exc, self.describe(), what="printer", section="printer", key=self.setting_key
        )

    # -- life cycle -----------------------------------------------------------------------------

    def _open(self) -> None:
        # No connection yet: a printer that is switched off must not stall the till's start.
        self._set_status("ready", f"{self.describe()}: not checked yet")

    def _close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connected:
            self._connected = False
            with contextlib.suppress(Exception):
                self._disconnect()

    def _ensure(self) -> None:
        if not self._connected:
            self._connect()
            self._connected = True

    def _read_status(self) -> PrinterStatus:
        replies: list[int | None] = []
        for query in (RT_PRINTER, RT_OFFLINE, RT_PAPER):
            self._discard_input()
            self._send(query)
            reply = self._recv1(self.status_timeout)
            if reply is None or not status_byte_ok(reply):
                if query is RT_PRINTER:
                    self._answers_status = False
                    return PrinterStatus(answered=False)
                reply = None
            replies.append(reply)
        self._answers_status = True
        return parse_status(*replies)

    def _note(self, status: PrinterStatus) -> None:
        self.last_status = status
        if not status.can_print:
            self._set_status("offline", status.message)
        elif status.paper_near_end:
            self._set_status("warning", status.message)
        else:
            self._set_status("ready", status.message)

    def _failed(self, exc: BaseException) -> HardwareError:
        self._drop()
        message = self._explain(exc)
        self._set_status("offline", message)
        return HardwareError(message)

    # -- use --------------------------------------------------------------------------------------

    def query_status(self) -> PrinterStatus:
        """Ask the printer now (even one that did not answer before). Raises HardwareError
        when it cannot be reached."""
        self._require_open()
        with self._lock:
            try:
                self._ensure()
                status = self._read_status()
            except HardwareError:
                raise
            except Exception as exc:
                raise self._failed(exc) from exc
            finally:
                if not self.keeps_connection:
                    self._drop()
            self._note(status)
            return status

    def write(self, data: bytes) -> PrinterStatus | None:
        """Send one document. Raises PrinterNotReady (paper, cover) without sending anything,
        or HardwareError when the printer cannot be reached or stops taking data."""
        self._require_open()
        with self._lock:
            try:
                self._ensure()
                status = self._read_status() if self._answers_status is not False else None
                if status is not None and not status.can_print:
                    self._note(status)
                    raise PrinterNotReady(f"{self.describe()}: {status.message}")
                self._send(data)
            except HardwareError:
                raise
            except Exception as exc:
                raise self._failed(exc) from exc
            finally:
                if not self.keeps_connection:
                    self._drop()
            self._note(status or PrinterStatus(answered=False))
            return status

    def kick(self, pin: int, pulse_ms: int) -> None:
        """Pulse a drawer wired to the printer. Refused (PrinterNotReady) while the printer
        cannot print: a queued kick would open the drawer later, out of the blue."""
        self.write(kick_bytes(pin, pulse_ms))


class SerialPrinter(Printer):
    setting_key = "port"

    def __init__(self, port: str, baud: int = 19200, *, flow_control: str = "none", **kwargs):
        super().__init__(**kwargs)
        if flow_control not in ("none", "rtscts", "dsrdtr", "xonxoff"):
            raise ValueError(
                f"printer.flow_control: {flow_control!r} is not none, rtscts, dsrdtr or xonxoff"
            )
        self.port, self.baud, self.flow_control = port, baud, flow_control
        self._serial = None

    def describe(self) -> str:
        return self.port

    def _connect(self) -> None:
        import serial

        self._serial = serial.Serial(
            self.port,
            self.baud,
            timeout=self.status_timeout,
            write_timeout=self.timeout,
            rtscts=self.flow_control == "rtscts",
            dsrdtr=self.flow_control == "dsrdtr",
            xonxoff=self.flow_control == "xonxoff",
            exclusive=True,
        )

    def _send(self, data: bytes) -> None:
        self._serial.write(data)
        self._serial.flush()

    def _recv1(self, timeout: float) -> int | None:
        self._serial.timeout = timeout
        reply = self._serial.read(1)
        return reply[0] if reply else None

    def _discard_input(self) -> None:
        self._serial.reset_input_buffer()

    def _disconnect(self) -> None:
        serial, self._serial = self._serial, None
        if serial is not None:
            serial.close()

    def _explain(self, exc: BaseException) -> str:
        import serial

        if isinstance(exc, serial.SerialTimeoutException):
            return (
                f"{self.port}: the printer did not take the data within {self.timeout:g} s — is it "
                "switched on? check [printer] baud and flow_control"
            )
        return super()._explain(exc)


class NetworkPrinter(Printer):
    """An Ethernet/Wi-Fi ESC/POS printer on raw TCP (port 9100). One connection per job, so
    that other tills can use the printer too."""

    keeps_connection = False
    setting_key = "host"

    def __init__(self, host: str, port: int = 9100, **kwargs):
        super().__init__(**kwargs)
        if not host:
            raise ValueError("printer.host is empty: set the network printer's address")
        self.host, self.port = host, port
        self._socket: socket.socket | None = None

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> None:
        self._socket = socket.create_connection((self.host, self.port), timeout=self.timeout)

    def _send(self, data: bytes) -> None:
        self._socket.settimeout(self.timeout)
        self._socket.sendall(data)

    def _recv1(self, timeout: float) -> int | None:
        self._socket.settimeout(timeout)
        try:
            reply = self._socket.recv(1)
        except TimeoutError:
            return None
        return reply[0] if reply else None

    def _discard_input(self) -> None:
        self._socket.setblocking(False)
        try:
            while self._socket.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            self._socket.setblocking(True)

    def _disconnect(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        # Unread bytes at close() make the kernel reset the connection, which can throw away
        # the end of the job still in the send buffer: read them, then end politely.
        self._socket = sock
        with contextlib.suppress(OSError):
            self._discard_input()
            sock.shutdown(socket.SHUT_WR)
        self._socket = None
        sock.close()


class FilePrinter(Printer):
    """A printer that is a device file, e.g. /dev/usb/lp0 (Linux usblp). It is opened for each
    job and must exist: a missing device means the printer is unplugged or off."""

    keeps_connection = False
    setting_key = "path"

    def __init__(self, path: str | os.PathLike, **kwargs):
        super().__init__(**kwargs)
        self.path = str(path)
        self._fd: int | None = None
        self._answers_status = False

    def describe(self) -> str:
        return self.path

    def _connect(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _read_status(self) -> PrinterStatus:
        return PrinterStatus(answered=False)

    def _disconnect(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class UsbPrinter(Printer):
    """A USB printer driven through pyusb (python-escpos' Usb), by vendor and product id."""

    setting_key = "usb_vendor"

    def __init__(
        self, vendor: int, product: int, *, in_ep: int = 0x82, out_ep: int = 0x01, **kwargs
    ):
        super().__init__(**kwargs)
        self.vendor, self.product, self.in_ep, self.out_ep = vendor, product, in_ep, out_ep
        self._usb = None

    def describe(self) -> str:
        return f"USB {self.vendor:04x}:{self.product:04x}"

    def _connect(self) -> None:
        from escpos.printer import Usb

        usb = Usb(
            self.vendor,
            self.product,
            timeout=int(self.timeout * 1000),
            in_ep=self.in_ep,
            out_ep=self.out_ep,
        )
        usb.open()
        self._usb = usb

    def _send(self, data: bytes) -> None:
        self._usb._raw(data)

    def _recv1(self, timeout: float) -> int | None:
        try:
            reply = self._usb.device.read(self.in_ep, 16, int(timeout * 1000))
        except Exception:
            return None
        return reply[0] if len(reply) else None

    def _disconnect(self) -> None:
        usb, self._usb = self._usb, None
        if usb is not None:
            usb.close()

    def _explain(self, exc: BaseException) -> str:
        name = type(exc).__name__
        text = str(exc)
        if name == "NoBackendError" or "usb library" in text:
            return (
                f"{self.describe()}: USB printing needs libusb — install the package "
                'libusb-1.0-0, or use [printer] type = "file" with path = "/dev/usb/lp0"'
            )
        if name == "DeviceNotFoundError" or "not found" in text.lower():
            if "Access denied" in text or "Errno 13" in text:
                return (
                    f"{self.describe()}: permission denied — give the till user access to the "
                    "printer (a udev rule for this vendor:product, group lp)"
                )
            return (
                f"{self.describe()}: not found — is the printer plugged in and switched on? "
                "(`lsusb` lists it; check [printer] usb_vendor and usb_product)"
            )
        return super()._explain(exc)


class SimPrinter(Printer):
    """Writes each job's bytes to `directory` as NNNN.escpos with a NNNN.txt and NNNN.png
    preview. Its paper, cover and power are attributes a test or the simulator UI can change:
    `paper` ("ok", "near_end", "end"), `cover_open`, `online`."""

    def __init__(
        self, directory: str | os.PathLike, columns: int = 42, *, png: bool = True, **kwargs
    ):
        super().__init__(**kwargs)
        self.directory = Path(directory)
        self.columns = columns
        self.png = png
        self.paper = "ok"
        self.cover_open = False
        self.online = True
        self.kicks: list[tuple[int, int]] = []
        self.jobs: list[Path] = []

    keeps_connection = False

    def describe(self) -> str:
        return f"simulated printer in {self.directory}"

    def _connect(self) -> None:
        if not self.online:
            raise OSError(errno.EIO, "simulated printer switched off")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.directory)) from None

    def _read_status(self) -> PrinterStatus:
        paper = {"ok": 0x12, "near_end": 0x1E, "end": 0x7E}[self.paper]
        offline = 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "end" else 0)
        printer = 0x12 | (0x08 if self.cover_open or self.paper == "end" else 0)
        self._answers_status = True
        return parse_status(printer, offline, paper)

    def _next_number(self) -> int:
        numbers = [
            int(m.group(1))
            for p in self.directory.glob("*.escpos")
            if (m := re.fullmatch(r"(\d+)\.escpos", p.name))
        ]
        return max(numbers, default=0) + 1

    def _send(self, data: bytes) -> None:
        from .preview import Kick, TextLine, decode, to_png, to_text

        elements = decode(data)
        printed = [e for e in elements if not (isinstance(e, TextLine) and not e.text)]
        if printed and all(isinstance(e, Kick) for e in printed):
            self.kicks.extend((e.pin, e.on_ms) for e in printed)
            return
        number = self._next_number()
        base = self.directory / f"{number:04d}"
        base.with_suffix(".escpos").write_bytes(data)
        base.with_suffix(".txt").write_text(to_text(elements, self.columns) + "\n")
        if self.png:
            try:
                to_png(elements, self.columns).save(base.with_suffix(".png"))
            except Exception:
                log.exception("simulated printer: PNG preview of %s failed", base)
        self.jobs.append(base.with_suffix(".escpos"))
        self.kicks.extend((e.pin, e.on_ms) for e in elements if isinstance(e, Kick))

    @property
    def last_text(self) -> str | None:
        if not self.jobs:
            return None
        return self.jobs[-1].with_suffix(".txt").read_text()
