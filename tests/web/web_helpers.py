"""Constants and helpers the web tests share (the fixtures are in conftest.py).

from web_helpers import OWNER, shot, sign_in
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "tests" / "screenshots" / "web"
PASSWORD = "correct horse battery staple"
OWNER = "owner@toko.example"
STAFF = "staff@toko.example"
HOOK_SECRET = "hook-secret-0123456789abcdef"


def shot(page, name: str, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page, base_url: str, email_address: str = OWNER, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=email]", email_address)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(lambda u: "/login" not in u)
