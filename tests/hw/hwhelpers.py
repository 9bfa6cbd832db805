"""Real parts for the device tests (used by conftest.py and the test modules).

- `PtyPort`: a serial line made of `os.openpty()`, reached through a symlink the way udev's
  /dev/serial/by-id/ names work, so "unplug" (close the far end) and "replug" (a new pty behind
  the same name) can be played. `send()` writes at a given baud rate in chunks.
- `FakeNetworkPrinter`: a raw-TCP ESC/POS printer on 127.0.0.1 that keeps what it is sent and
  answers DLE EOT status queries from its `replies` (paper out, cover open...).
- `wait_until(predicate)`: poll a condition with a deadline instead of sleeping a fixed time.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import tty
from pathlib import Path


class PtyPort:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.slave: int | None = None
        self.replug()

    @property
    def path(self) -> str:
        return str(self.link)

    def replug(self) -> None:
        master, slave = os.openpty()
        # Hold the slave end open too (raw, like a USB serial device): a pty whose slave nobody
        # holds reads EIO on the master side, which would look like an unplug.
        tty.setraw(slave)
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        self.master, self.slave = master, slave

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def send(self, data: bytes, *, chunk: int = 3, baud: int = 9600) -> None:
        """Write like a serial line: `chunk` bytes at a time at `baud` (10 bits a byte)."""
        per_byte = 10 / baud
        for start in range(0, len(data), chunk):
            part = data[start : start + chunk]
            os.write(self.master, part)
            time.sleep(per_byte * len(part))

    def read_available(self, timeout: float = 0.5) -> bytes:
        import select

        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                out += os.read(self.master, 4096)
            elif out:
                break
        return out

    def close(self) -> None:
        self.unplug()
        self.link.unlink(missing_ok=True)


class FakeNetworkPrinter:
    """Accepts connections on 127.0.0.1, records the job bytes (DLE EOT queries left out) and
    answers status queries n=1, 2, 4 with `replies[n]` (None: stay silent)."""

    def __init__(self, port: int = 0) -> None:
        self.replies: dict[int, int | None] = {1: 0x12, 2: 0x12, 4: 0x12}
        self.received = bytearray()
        self.queries: list[int] = []
        self.connections = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", port))
        self._server.listen(8)
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    break
                buffer += data
                while True:
                    at = buffer.find(b"\x10\x04")
                    if at < 0 or at + 2 >= len(buffer):
                        keep = buffer[-1:] if buffer.endswith(b"\x10") else b""
                        with self._lock:
                            self.received += buffer[: len(buffer) - len(keep)]
                        buffer = keep
                        break
                    n = buffer[at + 2]
                    with self._lock:
                        self.received += buffer[:at]
                    self.queries.append(n)
                    buffer = buffer[at + 3 :]
                    reply = self.replies.get(n)
                    if reply is not None:
                        conn.sendall(bytes((reply,)))
            with self._lock:
                self.received += buffer

    def wait_for(self, needle: bytes, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if needle in self.received:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 5.0, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
