"""Fixtures for the web pages: a real uvicorn serving the OMS with its pages, a real SMTP
server (aiosmtpd), a webhook receiver that checks signatures, and Debian's Chromium driven by
Playwright.

    def test_login(web, browser_page):
        browser_page.goto(web.url + "/login")

- `smtp` (module): an aiosmtpd server on a free port; `.messages` are the parsed e-mails.
- `web` (module): a fresh migrated SQLite database, seeded with two stores, an owner and a
  staff member, and `uvicorn web_app:create_app --factory` on a free port, with SMTP pointed at
  `smtp`. `.bind()` binds `cloud_oms.db` in this process to the server's database.
- `browser` (session) and `page` / `phone` (function): Chromium, headless, a fresh context per
  test (desktop 1280 x 900; a 390 x 844 phone in Indonesian).
- `shot(page, name)`: a screenshot into tests/screenshots/web/ (git-ignored).

Never `playwright install`: Chromium comes from Debian (`apt-get install chromium`).
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Appended, not prepended: tests elsewhere import their own helpers by plain module name
# (`from conftest import ...`), which must not find this directory first.
for _path in (str(REPO), str(HERE)):
    if _path not in sys.path:
        sys.path.append(_path)

from web_helpers import HOOK_SECRET, OWNER, PASSWORD, STAFF  # noqa: E402


def _oms_helpers():
    """tests/oms/conftest.py's plain helpers (a database migrated, bound; a free port)."""
    spec = importlib.util.spec_from_file_location(
        "kasir_oms_fixtures", REPO / "tests/oms/conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


oms = _oms_helpers()


# --- mail and webhooks ------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture(scope="module")
def smtp() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=oms.free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


class Receiver:
    """An HTTP endpoint that accepts only correctly signed Kasir webhooks."""

    def __init__(self) -> None:
        from cloud_oms import notifications

        self.received: list[dict] = []
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(notifications.SIGNATURE_HEADER, "")
                if notifications.verify_signature(HOOK_SECRET, signature, body):
                    outer.received.append(json.loads(body))
                    self.send_response(204)
                else:
                    outer.bad_signatures += 1
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kasir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --- the server -------------------------------------------------------------------------------


class WebServer(oms.OmsProcess):
    """The OMS with the test hooks of `web_app`, mailing through the test SMTP server."""

    def __init__(self, database_url: str, smtp_port: int, log_dir: Path) -> None:
        port = oms.free_port()
        url = f"http://127.0.0.1:{port}"
        super().__init__(
            database_url,
            log_dir / "uvicorn.log",
            port=port,
            app="web_app:create_app",
            env={
                "KASIR_OMS_BASE_URL": url,
                "KASIR_OMS_STALE_AFTER": "600",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "SMTP_STARTTLS": "0",
                "SMTP_FROM": "toko@toko.example",
                "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
            },
        )

    def bind(self):
        return oms.bound(self.database_url)

    def settings(self):
        from cloud_oms.config import Settings

        return Settings(
            database_url=self.database_url,
            base_url=self.url,
            smtp_host="127.0.0.1",
            smtp_port=int(self.env["SMTP_PORT"]),
            smtp_starttls=False,
            smtp_from="toko@toko.example",
        )

    def deliver_notifications(self) -> int:
        """Run the notification worker once over everything queued (what `kasir-oms worker`
        does in a loop)."""
        from cloud_oms import notifications

        config = notifications.WorkerConfig(backoff_base_s=0.05, timeout_s=5)
        tried = 0
        with self.bind():
            while n := notifications.run_once(self.settings(), config):
                tried += n
        return tried


def seed(database_url: str) -> dict:
    from cloud_oms import admin, catalog, stock

    with oms.bound(database_url):
        jkt = admin.add_store("JKT1", "Toko Kopi Jakarta")
        bdg = admin.add_store("BDG1", "Toko Kopi Bandung")
        from cloud_oms.web import services

        services.update_store(
            jkt,
            name=jkt.name,
            tz=jkt.tz,
            locale="id_ID",
            prices_include_tax=True,
            info={
                "address": "Jl. Sabang 12, Jakarta Pusat",
                "phone": "021 555 0101",
                "hours": "08:00–21:00",
            },
        )
        admin.create_user(OWNER, PASSWORD, role="owner", name="Ani (owner)")
        admin.create_user(STAFF, PASSWORD, role="staff", name="Budi", store="JKT1")
        catalog.save_category("Kopi")
        catalog.save_category("Roti")
        kopi = catalog.save_product(
            sku="KOPI-250", name="Kopi Toraja 250 g", price=85_000, tax_code="PPN", category="Kopi",
            barcodes=[("8991234500010", 1)],
        )  # fmt: skip
        roti = catalog.save_product(
            sku="ROTI-1", name="Roti Sobek Cokelat", price=18_500, tax_code="PPN", category="Roti",
            barcodes=[("8997777000017", 1)],
        )  # fmt: skip
        teh = catalog.save_product(sku="TEH-1", name="Teh Melati", price=12_000, tax_code="PPN")
        stock.adjust(jkt, kopi, 8, "opening stock", "setup", unit_cost=55_000)
        stock.adjust(jkt, roti, 20, "opening stock", "setup", unit_cost=11_000)
        stock.adjust(bdg, kopi, 3, "opening stock", "setup", unit_cost=55_000)
        stock.set_threshold(jkt, teh, 5)
        return {"jkt": jkt.id, "bdg": bdg.id, "kopi": kopi.id, "roti": roti.id, "teh": teh.id}


@pytest.fixture(scope="module")
def web(smtp, tmp_path_factory) -> Iterator[WebServer]:
    directory = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{directory / 'oms.sqlite3'}"
    oms.migrate_url(url)
    ids = seed(url)
    server = WebServer(url, smtp.port, directory).start()
    server.ids = ids
    try:
        yield server
    finally:
        server.stop()


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    yield page
    context.close()
    # A script error or a CSP violation on any page is a defect. (Chromium also logs every
    # 4xx page as "Failed to load resource"; the tests provoke those on purpose.)
    assert not [e for e in errors if "Failed to load resource" not in e], errors


@pytest.fixture
def phone(browser):
    """A phone-sized browser (390 x 844) in Indonesian, like most of the shops' customers."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def web_db(tmp_path) -> Iterator[str]:
    """A fresh migrated SQLite database bound to `cloud_oms.db` (for the in-process tests)."""
    url = f"sqlite:///{tmp_path / 'oms.sqlite3'}"
    oms.migrate_url(url)
    with oms.bound(url):
        yield url
