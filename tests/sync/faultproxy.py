"""A small fault-injecting TCP proxy for loopback tests of the till's link to the OMS.

    with FaultProxy(upstream_port) as proxy:
        proxy.mode = "reset_response"     # or pass, http500, hang, refuse
        ... the till talks to 127.0.0.1:proxy.port ...

Modes, applied per connection as it is accepted:
- `pass`: bytes both ways, untouched.
- `http500`: reads the request and answers 500 without forwarding it.
- `hang`: accepts and reads, never answers (the client's timeout must fire).
- `reset_request`: closes with a TCP reset before forwarding anything.
- `reset_response`: forwards the request (the OMS does the work and commits), then resets the
  connection after part of the answer: the till never learns the outcome and must resend.
- `refuse`: closes at once (like a stopped server behind a live proxy).

Every connection is handled by a daemon thread with bounded timeouts, and `close()` stops all.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

MODES = ("pass", "http500", "hang", "reset_request", "reset_response", "refuse")


def _rst(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_request(sock: socket.socket, limit: float = 10.0) -> bytes:
    """One HTTP/1.1 request (headers + Content-Length body)."""
    sock.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.mode = "pass"
        self.counts = {m: 0 for m in MODES}
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=2)
        self._server.close()
        for t in self._threads:
            t.join(timeout=2)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            mode = self.mode
            self.counts[mode] += 1
            t = threading.Thread(target=self._handle, args=(client, mode), daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _handle(self, client: socket.socket, mode: str) -> None:
        try:
            if mode == "refuse":
                client.close()
                return
            if mode == "reset_request":
                _rst(client)
                return
            if mode == "hang":
                try:
                    _read_request(client)
                    self._stop.wait(30)
                finally:
                    client.close()
                return
            if mode == "http500":
                _read_request(client)
                client.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 27\r\nConnection: close\r\n\r\n{"detail":"injected fault"}'
                )
                client.close()
                return
            self._forward(client, cut=(mode == "reset_response"))
        except OSError:
            client.close()

    def _forward(self, client: socket.socket, cut: bool) -> None:
        upstream = socket.create_connection(self.upstream, timeout=10)
        if cut:
            request = _read_request(client)
            upstream.sendall(request)
            upstream.settimeout(30)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                answer += chunk
            head, _, _ = answer.partition(b"\r\n\r\n")
            client.sendall(head[: max(1, len(head) // 2)])
            _rst(client)
            upstream.close()
            return
        done = threading.Event()

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                src.settimeout(1.0)
                while not done.is_set() and not self._stop.is_set():
                    try:
                        chunk = src.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                done.set()

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(timeout=5)
        client.close()
        upstream.close()
