"""The customer display: a window facing the customer, in its own process, fed by the till.

    >>> feed = CustomerDisplayFeed("800x480+1920+0").start()          # doctest: +SKIP
    >>> feed.show({"view": "cart", "lines": [["Aqua 600ml", "", "Rp3.500"]],
    ...            "total_label": "Total", "total": "Rp3.500"})       # doctest: +SKIP

The till writes one JSON object per line to the display process's standard input: the whole
state to show, already translated and formatted by the till (so the display needs neither the
store nor the catalog). Views: `idle`, `cart` (lines, total), `pay` (total, paid, due), `qris`
(the dynamic QRIS payload and amount) and `done` (total and change).

A feeder thread does the writing and keeps only the latest state, so a slow or dead display
never holds up the till; a display that died is started again, at most once every 10 s.

    $ python -m appliance.customer_display --geometry 800x480+1920+0
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Self

log = logging.getLogger("kasir.display")
RESTART_EVERY = 10.0


class CustomerDisplayFeed:
    def __init__(
        self,
        geometry: str = "",
        *,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        restart_after: float = RESTART_EVERY,
    ) -> None:
        self.geometry = geometry
        self.restart_after = restart_after
        self.command = command or [sys.executable, "-m", "appliance.customer_display"]
        if geometry:
            self.command = [*self.command, "--geometry", geometry]
        self.env = env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self._latest: dict | None = None
        self._extra: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._spawn()
            self._thread = threading.Thread(target=self._run, name="customer display", daemon=True)
            self._thread.start()
        return self

    def _spawn(self) -> None:
        self.started_at = time.monotonic()
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=self.env,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            log.warning("customer display did not start: %s", exc)
            self.process = None

    def show(self, state: dict) -> None:
        """What the customer should see now (replaces anything not yet sent)."""
        with self._lock:
            self._latest = state
        self._wake.set()

    def send(self, message: dict) -> None:
        """A message that must not be replaced by the next state (e.g. a screenshot request)."""
        with self._lock:
            self._extra.append(message)
        self._wake.set()

    def read_line(self, timeout: float = 10.0) -> str | None:
        """A line the display wrote (answers to `screenshot`), or None."""
        process = self.process
        if process is None or process.stdout is None:
            return None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(process.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout)
        return result[0].strip() if result else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            with self._lock:
                messages = [*([self._latest] if self._latest is not None else []), *self._extra]
                self._latest, self._extra = None, []
            if not messages:
                continue
            if not self.alive():
                if time.monotonic() - self.started_at < self.restart_after:
                    with self._lock:  # keep the state for the next try
                        self._latest = self._latest or messages[0]
                    continue
                self.restarts += 1
                self._spawn()
                if not self.alive():
                    continue
            try:
                for message in messages:
                    self.process.stdin.write(json.dumps(message) + "\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                log.warning("customer display stopped taking messages: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        process, self.process = self.process, None
        if process is not None:
            try:
                process.stdin.close()
                process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait(5)


def parse_geometry(text: str) -> tuple[int, int, int, int]:
    """ "800x480+1920+0" → (800, 480, 1920, 0)."""
    import re

    match = re.fullmatch(r"(\d+)x(\d+)([+-]\d+)([+-]\d+)", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a window geometry such as 800x480+1920+0")
    width, height, left, top = (int(g) for g in match.groups())
    return width, height, left, top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kasir's customer display (fed on stdin)")
    parser.add_argument("--geometry", default="", help="WIDTHxHEIGHT+X+Y")
    args = parser.parse_args(argv)
    width, height, left, top = parse_geometry(args.geometry or "800x480+0+0")
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    if "KIVY_HOME" not in os.environ:
        home = Path.home() / ".cache" / "kasir" / "kivy-display"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = str(home)
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_level", "warning")
    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", str(left))
    Config.set("graphics", "top", str(top))
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "borderless", "1")
    Config.set("graphics", "show_cursor", "0")
    from .screens.customer_window import CustomerDisplayApp

    CustomerDisplayApp(sys.stdin, sys.stdout).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
