"""Sessions, CSRF, roles, the login rate limit, sign-out everywhere and the public tracking page,
against the real server (httpx for exact status codes, Chromium for the cross-site form)."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.sync_api import expect
from web_helpers import OWNER, PASSWORD, STAFF, shot, sign_in

from cloud_oms.models.core import Category, EnrolAttempt, Store, User
from cloud_oms.models.orders import Order

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def browser_client(web, email: str | None = None) -> httpx.Client:
    """A cookie-keeping client, signed in as `email` through the login form when given."""
    client = httpx.Client(base_url=web.url, timeout=15)
    if email:
        token = csrf(client, "/login")
        answer = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text
    return client


def csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return TOKEN.search(page.text).group(1)


def count_orders(web) -> int:
    with web.bind():
        return Order.select().count()


def test_form_posts_without_a_valid_csrf_token_are_refused(web):
    owner = browser_client(web, OWNER)
    stranger = browser_client(web)
    foreign = csrf(stranger, "/login")  # a valid token, of another browser
    form = {
        "store": "JKT1",
        "phone": "0812 1",
        "name": "CSRF",
        "delivery": "pickup",
        "line_item": "KOPI-250",
        "line_qty": "1",
    }
    before = count_orders(web)
    for extra in ({}, {"csrf_token": ""}, {"csrf_token": foreign}, {"csrf_token": "0" * 64}):
        refused = owner.post("/orders/new", data={**form, **extra})
        assert refused.status_code == 403, extra
        assert "CSRF token" in refused.text
    good = csrf(owner, "/orders/new")
    evil = owner.post(
        "/orders/new", data={**form, "csrf_token": good}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "another site (https://evil.example)" in evil.text
    assert count_orders(web) == before
    # The same form with its token goes through (the check is not refusing everything).
    made = owner.post("/catalog/categories", data={"name": "Snack", "csrf_token": good})
    assert made.status_code == 303
    with web.bind():
        assert Category.get_or_none(Category.name == "Snack") is not None
    # Signing in needs the token too (login CSRF).
    assert stranger.post("/login", data={"email": OWNER, "password": PASSWORD}).status_code == 403
    # A fetch() carries it in a header instead.
    fetched = owner.post(
        "/catalog/categories", data={"name": "Minuman"}, headers={"X-CSRF-Token": good}
    )
    assert fetched.status_code == 303


def test_a_cross_site_form_in_the_browser_is_refused(web, page):
    sign_in(page, web.url)
    page.set_content(
        f"""<form method="post" action="{web.url}/admin/users">
        <input name="email" value="mallory@evil.example"><input name="password" value="pwned-123456">
        <input name="role" value="owner"><button>go</button></form>"""
    )
    with page.expect_response(f"{web.url}/admin/users") as answer:
        page.click("button")
    assert answer.value.status == 403
    expect(page.locator("body")).to_contain_text("CSRF token")
    with web.bind():
        assert User.get_or_none(User.email == "mallory@evil.example") is None


def test_staff_are_refused_the_owner_pages(web, page):
    staff = browser_client(web, STAFF)
    for path in (
        "/admin",
        "/admin/users",
        "/admin/stores",
        "/admin/terminals",
        "/admin/channels",
        "/admin/settings",
        "/admin/notifications/shipped",
        "/reports/margins",
        "/reports/stock-value.csv",
        "/catalog/products/new",
        "/catalog/import",
    ):
        answer = staff.get(path)
        assert answer.status_code == 403, path
        assert "this page is for the owner" in answer.text or "is for the owner" in answer.text
    token = csrf(staff, "/orders")
    made = staff.post(
        "/admin/users",
        data={
            "email": "x@toko.example",
            "password": "long-enough-1",
            "role": "owner",
            "csrf_token": token,
        },
    )
    assert made.status_code == 403
    with web.bind():
        assert User.get_or_none(User.email == "x@toko.example") is None
        bdg = Store.get(Store.code == "BDG1")
        from cloud_oms import orders

        other = orders.create_order(
            orders.OrderSpec(
                kind="phone",
                store=bdg,
                lines=[orders.LineSpec(sku="KOPI-250", qty=1)],
                customer_name="B",
            ),
            "user:" + OWNER,
        )
    # Staff of JKT1 see their store only: another store's order does not exist for them.
    assert staff.get(f"/orders/{other.id}").status_code == 404
    assert other.number not in staff.get("/orders").text
    assert browser_client(web, OWNER).get(f"/orders/{other.id}").status_code == 200

    sign_in(page, web.url, STAFF)
    expect(page.locator("nav.main")).not_to_contain_text("Admin")
    page.goto(web.url + "/admin/users")
    expect(page.locator("h1")).to_have_text("Not allowed")
    shot(page, "forbidden-staff")


def test_signing_in_redirects_and_the_session_cookie(web):
    client = browser_client(web)
    answer = client.get("/orders?state=open")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Forders%3Fstate%3Dopen"
    token = csrf(client, "/login")
    wrong = client.post("/login", data={"email": OWNER, "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "E-mail or password is wrong" in wrong.text
    unknown = client.post(
        "/login", data={"email": "nobody@x.example", "password": "nope", "csrf_token": token}
    )
    assert unknown.status_code == 401 and "E-mail or password is wrong" in unknown.text
    ok = client.post(
        "/login",
        data={
            "email": OWNER,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # never off-site
    cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith("kasir_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-store"
    # An API bearer token is not a session cookie, nor the other way round.
    session = client.cookies.get("kasir_session")
    api = httpx.get(web.url + "/api/v1/orders", headers={"Authorization": f"Bearer {session}"})
    assert api.status_code == 401
    client.cookies.clear()
    bearer = httpx.post(web.url + "/api/v1/auth/token", json={"email": OWNER, "password": PASSWORD})
    fake = httpx.Client(base_url=web.url, cookies={"kasir_session": bearer.json()["access_token"]})
    assert fake.get("/orders").status_code == 303


def test_sign_out_everywhere_ends_every_session_and_token(web):
    first = browser_client(web, STAFF)
    second = browser_client(web, STAFF)
    api = httpx.post(web.url + "/api/v1/auth/token", json={"email": STAFF, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {api.json()['access_token']}"}
    assert httpx.get(web.url + "/api/v1/orders", headers=bearer).status_code == 200
    # Signing out ends this browser's session only.
    third = browser_client(web, STAFF)
    third.post("/logout", data={"csrf_token": csrf(third, "/orders")})
    assert third.get("/orders").status_code == 303
    assert second.get("/orders").status_code == 200

    done = first.post("/account/sign-out-everywhere", data={"csrf_token": csrf(first, "/account")})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert second.get("/orders").status_code == 303
    assert first.get("/orders").status_code == 303
    assert httpx.get(web.url + "/api/v1/orders", headers=bearer).status_code == 401
    # A fresh sign-in works again.
    assert browser_client(web, STAFF).get("/orders").status_code == 200


def clear_login_failures(web) -> None:
    with web.bind():
        EnrolAttempt.delete().where(EnrolAttempt.address.startswith("login")).execute()


def test_login_is_rate_limited_per_address_and_per_account(web):
    clear_login_failures(web)
    client = browser_client(web)
    token = csrf(client, "/login")
    try:
        for _ in range(10):
            answer = client.post(
                "/login", data={"email": STAFF, "password": "guess", "csrf_token": token}
            )
            assert answer.status_code == 401
        blocked = client.post(
            "/login", data={"email": STAFF, "password": PASSWORD, "csrf_token": token}
        )
        assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
        other = client.post(
            "/login", data={"email": OWNER, "password": PASSWORD, "csrf_token": token}
        )
        assert other.status_code == 429  # the address is blocked, whichever account
        from cloud_oms.web import core

        with web.bind():
            # Another address trying the same account is blocked too (per-account limit) ...
            assert not core.login_allowed("10.9.8.7", STAFF)
            # ... but not for another account.
            assert core.login_allowed("10.9.8.7", OWNER)
    finally:
        clear_login_failures(web)
    assert browser_client(web, STAFF).get("/orders").status_code == 200


def test_unknown_tracking_links_leak_nothing(web):
    with web.bind():
        from cloud_oms import orders

        store = Store.get(Store.code == "JKT1")
        order = orders.create_order(
            orders.OrderSpec(
                kind="phone",
                store=store,
                lines=[orders.LineSpec(sku="ROTI-1", qty=1)],
                customer_name="Rahasia Sekali",
                phone="0813 9999 0000",
                shipping_address="Jl. Rahasia 1",
            ),
            "user:" + OWNER,
        )
    bodies = set()
    for token in (
        secrets.token_urlsafe(24),
        secrets.token_urlsafe(24),
        "short",
        "bad*chars*here-123456",
    ):
        answer = httpx.get(f"{web.url}/t/{token}", headers={"Accept-Language": "en"})
        assert answer.status_code == 404
        assert "set-cookie" not in answer.headers
        assert token not in answer.text
        bodies.add(answer.text)
    assert len(bodies) == 1  # the same page whatever was asked
    assert "This tracking link is not known" in bodies.pop()
    real = httpx.get(f"{web.url}/t/{order.tracking_token}")
    assert real.status_code == 200 and order.number in real.text
    assert "Pesanan diterima, menunggu konfirmasi" in real.text  # Indonesian by default
    for private in ("Rahasia Sekali", "9999", "Jl. Rahasia"):
        assert private not in real.text
    assert real.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in real.headers["x-robots-tag"]
    assert "set-cookie" not in real.headers
