"""Barcode scanners: serial (pyserial), USB keyboard wedge, and a simulated one.

    >>> def scanned(code):                                  # called on the scanner's thread
    ...     print(code.code, code.symbology)
    >>> with SerialScanner("/dev/ttyACM0", 9600, when_scanned=scanned) as scanner:  # doctest: +SKIP
    ...     scanner.status.message
    'ready on /dev/ttyACM0'

Every driver hands on cleaned codes as `ScannedCode`: the bytes between two terminators, with
the configured prefix, suffix and AIM symbology identifier (``]E0``) taken off and every control
character and non-ASCII byte (line noise) removed — and counted in `dropped`, so nothing is
silently changed. Validation is not done here: the till passes `code` to
`retail.barcodes.parse`, which rejects a misread by its check digit and says why.

Codes go to `when_scanned` (called on the scanner's thread; hand them to the UI thread) or, when
that is None, to a queue read with `read(timeout)`.

A serial scanner survives being unplugged: its read thread reconnects with backoff (0.1 s up
to `retry_max`) and its status says what is wrong meanwhile ("…: not found — is the scanner
plugged in"). A code cut in half by the unplug is discarded, never delivered.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import threading
import time
import tty
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .base import Device, HardwareError, call_safely, explain, log
from .wedge import BurstDetector, Scan, Typed

AIM_SYMBOLOGIES = {
    "A": "Code 39",
    "C": "Code 128",
    "E": "EAN/UPC",
    "F": "Codabar",
    "G": "Code 93",
    "I": "Interleaved 2 of 5",
    "L": "PDF417",
    "Q": "QR Code",
    "X": "other",
    "d": "Data Matrix",
    "e": "GS1 DataBar",
}
MAX_CODE_BYTES = 256  # longer runs without a terminator are noise, not a barcode


@dataclass(frozen=True)
class ScannedCode:
    code: str  # what the till parses
    raw: bytes  # what arrived between two terminators
    symbology: str | None = None  # from the AIM identifier, e.g. "EAN/UPC"
    aim_id: str | None = None  # e.g. "]E0"
    dropped: int = 0  # control characters and noise bytes removed
    source: str = ""


class CodeCleaner:
    """Prefix, suffix and AIM identifier off; control characters and noise out."""

    def __init__(self, *, prefix: str = "", suffix: str = "", aim_ids: bool = False) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self.aim_ids = aim_ids

    def clean(self, raw: bytes, source: str = "") -> ScannedCode | None:
        """The code in `raw` (one code, terminator already removed), or None if nothing but
        noise is left."""
        text = raw.decode("latin-1")
        # Noise first (bytes no scanner sends), so a prefix is still found after line noise.
        kept = "".join(ch for ch in text if 0 < ord(ch) < 0x7F)
        dropped = len(text) - len(kept)
        kept = kept.strip(" ")
        if self.prefix and kept.startswith(self.prefix):
            kept = kept[len(self.prefix) :]
        if self.suffix and kept.endswith(self.suffix):
            kept = kept[: -len(self.suffix)]
        printable = "".join(ch for ch in kept if ch.isprintable())
        dropped += len(kept) - len(printable)
        code = printable.strip()
        aim_id = symbology = None
        if self.aim_ids and len(code) >= 3 and code[0] == "]":
            aim_id, code = code[:3], code[3:]
            symbology = AIM_SYMBOLOGIES.get(aim_id[1], "unknown")
        if not code:
            return None
        return ScannedCode(code, raw, symbology, aim_id, dropped, source)


class CodeAssembler:
    """Bytes in, whole codes out, however the reads split them: a code ends at any one of the
    terminator characters; empty lines (CR LF) are skipped."""

    def __init__(self, cleaner: CodeCleaner, terminator: str = "\r\n", source: str = "") -> None:
        if not terminator:
            raise ValueError("scanner.terminator should not be empty")
        self.cleaner = cleaner
        self.terminators = frozenset(terminator.encode("latin-1"))
        self.source = source
        self._pending = bytearray()
        self.overflowed = 0

    @property
    def pending(self) -> bytes:
        return bytes(self._pending)

    def reset(self) -> bytes:
        pending, self._pending = bytes(self._pending), bytearray()
        return pending

    def feed(self, data: bytes) -> list[ScannedCode]:
        codes: list[ScannedCode] = []
        for byte in data:
            if byte in self.terminators:
                if self._pending:
                    code = self.cleaner.clean(bytes(self._pending), self.source)
                    self._pending.clear()
                    if code is not None:
                        codes.append(code)
            else:
                if len(self._pending) >= MAX_CODE_BYTES:
                    self.overflowed += 1
                    self._pending.clear()
                self._pending.append(byte)
        return codes


class Scanner(Device):
    """Delivery of codes to `when_scanned` or to the queue `read()` takes them from."""

    kind = "scanner"

    def __init__(
        self,
        *,
        terminator: str = "\r\n",
        prefix: str = "",
        suffix: str = "",
        aim_ids: bool = False,
        when_scanned: Callable[[ScannedCode], None] | None = None,
        when_status=None,
    ) -> None:
        super().__init__(when_status=when_status)
        self.when_scanned = when_scanned
        self.cleaner = CodeCleaner(prefix=prefix, suffix=suffix, aim_ids=aim_ids)
        self.terminator = terminator
        self.assembler = CodeAssembler(self.cleaner, terminator, source=self.describe())
        self._codes: queue.Queue[ScannedCode] = queue.Queue(maxsize=1000)

    def _deliver(self, code: ScannedCode) -> None:
        if code.dropped:
            log.warning(
                "scanner %s: removed %d control/noise bytes from %r",
                self.describe(),
                code.dropped,
                code.raw,
            )
        if self.when_scanned is not None:
            call_safely(self.when_scanned, code)
        else:
            try:
                self._codes.put_nowait(code)
            except queue.Full:
                log.warning(
                    "scanner %s: nobody reads the codes; dropped %r", self.describe(), code.code
                )

    def read(self, timeout: float | None = None) -> ScannedCode | None:
        """The next code (when no `when_scanned` is set), or None after `timeout` seconds."""
        try:
            return self._codes.get(timeout=timeout)
        except queue.Empty:
            return None


class SerialScanner(Scanner):
    """A scanner on a serial port (RS-232, or USB in CDC/virtual COM mode: /dev/ttyACM0)."""

    def __init__(
        self,
        port: str,
        baud: int = 9600,
        *,
        retry_min: float = 0.1,
        retry_max: float = 5.0,
        stale_after: float = 1.0,
        **kwargs,
    ) -> None:
        self.port = port
        self.baud = baud
        super().__init__(**kwargs)
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.stale_after = stale_after
        self.reconnects = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        return self.port

    def _open(self) -> None:
        self._stop.clear()
        self._set_status("offline", f"{self.port}: connecting")
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.port}", daemon=True)
        self._thread.start()

    def _close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the port is open; False (status says why) after `timeout` seconds."""
        return self._ready.wait(timeout)

    def _connect(self):
        import serial

        return serial.Serial(self.port, self.baud, timeout=0.1, exclusive=True)

    def _run(self) -> None:
        delay = self.retry_min
        port = None
        last_data = time.monotonic()
        while not self._stop.is_set():
            if port is None:
                try:
                    port = self._connect()
                except Exception as exc:
                    self._ready.clear()
                    message = explain(exc, self.port, what="scanner", section="scanner", key="port")
                    self._set_status("offline", message)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.retry_max)
                    continue
                self.assembler.reset()
                delay = self.retry_min
                self._ready.set()
                self._set_status("ready", f"ready on {self.port}")
            try:
                data = port.read(port.in_waiting or 1)
            except Exception as exc:
                # Unplugged (EIO), or the other end of a pseudo-terminal closed.
                self._ready.clear()
                self.reconnects += 1
                lost = self.assembler.reset()
                if lost:
                    log.warning(
                        "scanner %s: discarded %r cut off by the disconnect", self.port, lost
                    )
                message = explain(exc, self.port, what="scanner", section="scanner", key="port")
                self._set_status("offline", f"{message} — waiting for it to come back")
                with contextlib.suppress(Exception):
                    port.close()
                port = None
                self._stop.wait(delay)
                continue
            now = time.monotonic()
            if data:
                last_data = now
                for code in self.assembler.feed(data):
                    self._set_status("ready", f"ready on {self.port}")
                    self._deliver(code)
            elif self.assembler.pending and now - last_data > self.stale_after:
                lost = self.assembler.reset()
                self._set_status(
                    "warning",
                    f"received {lost[:40]!r} with no end-of-code character for "
                    f"{self.stale_after:g} s — set [scanner] terminator to what the scanner sends",
                )
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        self._ready.clear()


class WedgeScanner(Scanner):
    """A USB scanner that types like a keyboard. The UI forwards every key press with `key()`
    and calls `poll()` about every `max_gap`; both return the keys that belong in the focused
    text field. Scans go to `when_scanned` like any scanner's."""

    def __init__(self, *, min_length: int = 8, max_gap: float = 0.030, **kwargs) -> None:
        super().__init__(**kwargs)
        self.detector = BurstDetector(min_length=min_length, max_gap=max_gap)

    def describe(self) -> str:
        return "keyboard scanner"

    def _open(self) -> None:
        self._set_status("ready", "ready (keyboard scanner: scans reach the till window only)")

    def _handle(self, events: list[Scan | Typed]) -> tuple[str, ...]:
        typed: list[str] = []
        for event in events:
            if isinstance(event, Scan):
                code = self.cleaner.clean(event.code.encode("latin-1", "replace"), "keyboard")
                if code is not None:
                    self._deliver(code)
            else:
                typed.extend(event.keys)
        return tuple(typed)

    def key(self, key: str, at: float | None = None) -> tuple[str, ...]:
        return self._handle(self.detector.feed(key, time.monotonic() if at is None else at))

    def poll(self, now: float | None = None) -> tuple[str, ...]:
        return self._handle(self.detector.poll(time.monotonic() if now is None else now))


def read_code_file(path: str | os.PathLike) -> list[str]:
    """Codes from a text file, one a line; blank lines and lines starting with # skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HardwareError(f"scanner.sim_file: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HardwareError(f"scanner.sim_file: {path} cannot be read ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class SimScanner(Scanner):
    """Feeds codes from a list and/or a file, `interval` seconds apart, and, with `pty=True`,
    reads codes written to a pseudo-terminal (its path is `pty_path`: try
    ``echo 4006381333931 > /dev/pts/N``). `scan(code)` feeds one at once. Every code goes
    through the same terminator handling and cleaning as a real scanner's."""

    def __init__(
        self,
        codes: Iterable[str] = (),
        *,
        file: str | os.PathLike | None = None,
        interval: float = 1.0,
        pty: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.codes = list(codes)
        self.file = file
        self.interval = interval
        self.use_pty = pty
        self.pty_path: str | None = None
        self._fds: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._end = next(iter(self.assembler.terminators))
        self.fed = threading.Event()  # set once the list and file are all fed

    def describe(self) -> str:
        return "simulated scanner"

    def _open(self) -> None:
        self._stop.clear()
        codes = list(self.codes)
        if self.file:
            try:
                codes += read_code_file(self.file)
            except HardwareError as exc:
                self._set_status("warning", str(exc))
        message = "ready (simulated scanner)"
        if self.use_pty:
            master, slave = os.openpty()
            tty.setraw(slave)
            self._fds = (master, slave)
            self.pty_path = os.ttyname(slave)
            message = f"ready (simulated scanner: write codes to {self.pty_path})"
            self._spawn(self._read_pty, master)
        if self.status.state != "warning":
            self._set_status("ready", message)
        self._spawn(self._feed, codes)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name="sim scanner", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _feed(self, codes: list[str]) -> None:
        for index, code in enumerate(codes):
            if index and self._stop.wait(self.interval):
                return
            self.scan(code)
        self.fed.set()

    def _read_pty(self, master: int) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(master, 1024)
            except OSError:
                return
            for code in self.assembler.feed(data):
                self._deliver(code)

    def scan(self, code: str) -> None:
        """Feed one code as if it had been scanned (terminator added)."""
        assembler = CodeAssembler(self.cleaner, self.terminator, source=self.describe())
        for scanned in assembler.feed(code.encode("latin-1", "replace") + bytes((self._end,))):
            self._deliver(scanned)

    def _close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._threads = []
        if self._fds is not None:
            for fd in self._fds:
                with contextlib.suppress(Exception):
                    os.close(fd)
            self._fds = None
            self.pty_path = None
