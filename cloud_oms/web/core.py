"""What every web page shares: sign-in sessions, CSRF protection, the login rate limit, error
pages, rendering and formatting.

    router = web_router()
    @router.get("/orders")
    def order_list(request: Request, user: User = Depends(signed_in)): ...

Sessions. The session cookie is a staff sign-in token (`security.sign_user_token`) signed
with a key derived from the service secret for the web only, so a cookie is never a bearer
token and vice versa. It carries the user's token generation: "sign out everywhere" bumps the
generation and every cookie and API token of that user is refused at once; disabling a user
does the same. Cookies are HttpOnly, SameSite=Lax, and Secure when the public base URL is
https. Workers stay stateless: nothing about a session lives in a process.

CSRF. Every POST needs a token: the hidden `csrf_token` field of a form (or the `X-CSRF-Token`
header of a fetch()) must be the HMAC of the browser's `kasir_csrf` cookie, a random nonce
set with the first page. Another site can make the browser send the cookie but can neither read
it nor compute the HMAC. A request whose `Origin` names another site is refused as well. The
check runs in `WebRoute` before any handler, so no POST can forget it.

Login rate limit. Failed sign-ins are counted per client address and per account in the
database (the table every worker shares for the enrolment limit, under `login:` keys), so the
limit holds across workers and restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlparse

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from retail.ids import to_local, utcnow
from retail.money import Currency, format_money

from .. import db as dbmod
from ..models.core import Store, User
from ..security import TokenError, read_user_token, sign_user_token

HERE = Path(__file__).parent
SESSION_COOKIE = "kasir_session"
CSRF_COOKIE = "kasir_csrf"
FLASH_COOKIE = "kasir_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_LIMIT = 10  # failed sign-ins per client address (and per account) ...
LOGIN_WINDOW_S = 900  # ... within this many seconds


# --- errors as pages --------------------------------------------------------------------------


class WebError(Exception):
    """Ends a request with an error page (or a redirect)."""

    status = 400
    title = "Something is wrong"

    def __init__(self, message: str, *, status: int | None = None, title: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title


class NotFound(WebError):
    status = 404
    title = "Not found"


class Forbidden(WebError):
    status = 403
    title = "Not allowed"


class LoginRequired(WebError):
    status = 303
    title = "Sign in"

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


class WebRoute(APIRoute):
    """Checks CSRF before every POST, and turns `WebError` and bad parameters into pages."""

    def get_route_handler(self):
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                problem = await csrf_problem(request)
                if problem:
                    return error_page(request, Forbidden(problem, title="Form refused"))
            try:
                return await original(request)
            except LoginRequired as exc:
                return RedirectResponse("/login?" + urlencode({"next": exc.next_path}), 303)
            except WebError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                return error_page(request, WebError(_validation_text(exc), status=422))

        return handler


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
        parts.append(f"{loc}: {err.get('msg', 'is not valid')}")
    return "; ".join(parts) or "the request is not valid"


def web_router() -> APIRouter:
    """An APIRouter for pages: HTML errors, CSRF checks, kept out of the OpenAPI document."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)


# --- keys, sessions, CSRF ---------------------------------------------------------------------


def _key(request: Request, purpose: str) -> bytes:
    secret = request.app.state.user_token_secret.encode()
    return hmac.new(secret, f"kasir-web:{purpose}".encode(), hashlib.sha256).digest()


def _secure(request: Request) -> bool:
    settings = request.app.state.settings
    return settings.base_url.startswith("https://") or request.url.scheme == "https"


def csrf_token_for(request: Request, nonce: str) -> str:
    return hmac.new(_key(request, "csrf"), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_nonce(request: Request) -> str:
    """The browser's CSRF nonce, or a new one that `finish` will set as its cookie."""
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE)
    if not nonce or len(nonce) < 32:
        nonce = secrets.token_urlsafe(32)
        request.state.new_csrf_nonce = nonce
    request.state.csrf_nonce = nonce
    return nonce


def csrf_token(request: Request) -> str:
    return csrf_token_for(request, csrf_nonce(request))


async def csrf_problem(request: Request) -> str | None:
    """Why this state-changing request is refused, or None when its CSRF token is good."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        # Hosts, not schemes: behind a TLS proxy the request itself may arrive as plain http.
        own = {
            request.headers.get("host", ""),
            urlparse(request.app.state.settings.base_url).netloc,
        }
        if urlparse(origin).netloc not in own:
            return f"the form was sent from another site ({origin})"
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    nonce = request.cookies.get(CSRF_COOKIE)
    if not token:
        return "the form carries no CSRF token: reload the page and send it again"
    if not nonce or not hmac.compare_digest(token, csrf_token_for(request, nonce)):
        return "the form's CSRF token does not match this browser: reload the page and try again"
    return None


def start_session(request: Request, response: Response, user: User) -> None:
    ttl = request.app.state.settings.user_token_ttl_s
    value = sign_user_token(_key(request, "session").hex(), user.id, user.token_generation, ttl)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=ttl,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    # A new sign-in gets a new CSRF nonce (login CSRF and session fixation both end here).
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            user_id, generation = read_user_token(_key(request, "session").hex(), raw)
        except TokenError:
            user_id = None
        if user_id:
            with dbmod.session():
                found = User.get_or_none(User.id == user_id)
            if found is not None and found.active and found.token_generation == generation:
                user = found
    request.state.user = user
    return user


def signed_in(request: Request) -> User:
    user = session_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    return user


def owner(user: User = Depends(signed_in)) -> User:
    if user.role != "owner":
        raise Forbidden(f"{user.email} is signed in as {user.role}; this page is for the owner")
    return user


def actor(user: User) -> str:
    return f"user:{user.email}"


def home_store(user: User) -> str | None:
    """The one store a staff member with a home store may see; None: every store."""
    return None if user.role == "owner" else user.store_id


def visible_stores(user: User) -> list[Store]:
    query = Store.select().order_by(Store.code)
    if home_store(user):
        query = query.where(Store.id == user.store_id)
    return list(query)


# --- the login rate limit ---------------------------------------------------------------------


def _limit_keys(address: str, email: str) -> list[str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return [f"login:{address}"[:64], f"login-account:{account}"]


def login_allowed(address: str, email: str, now: datetime | None = None) -> bool:
    from ..security import enrol_allowed

    now = now or utcnow()
    return all(
        enrol_allowed(key, LOGIN_LIMIT, LOGIN_WINDOW_S, now) for key in _limit_keys(address, email)
    )


def record_login_failure(address: str, email: str, now: datetime | None = None) -> None:
    from ..security import record_enrol_failure

    now = now or utcnow()
    with dbmod.atomic():
        for key in _limit_keys(address, email):
            record_enrol_failure(key, now, window_s=LOGIN_WINDOW_S)


def retry_after(now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(seconds=LOGIN_WINDOW_S)


# --- formatting -------------------------------------------------------------------------------


def currency_of(store: Store | None, code: str | None = None) -> Currency:
    code = code or (store.currency if store else "IDR")
    exponent = store.currency_exponent if store else 0
    return Currency(code, exponent, "Rp" if code == "IDR" else f"{code} ")


def fmt_money(amount, currency: Currency | None = None) -> str:
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency or Currency(), "id_ID")


def fmt_time(moment: datetime | None, tz: str = "Asia/Jakarta", with_zone: bool = False) -> str:
    if moment is None:
        return ""
    local = to_local(moment, tz)
    text = local.strftime("%Y-%m-%d %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text


def fmt_ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def fmt_number(value) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".")


def fmt_pct(value) -> str:
    return "" if value is None else f"{value:.1f}%"


def fmt_hours(value) -> str:
    return "" if value is None else f"{value:.1f} h"


def label(state: str | None) -> str:
    return (state or "").replace("_", " ")


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=fmt_money,
        localtime=fmt_time,
        ago=fmt_ago,
        number=fmt_number,
        pct=fmt_pct,
        hours=fmt_hours,
        label=label,
    )
    env.globals["static"] = static_url
    return env


STATIC_DIR = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _static_versions() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC_DIR.iterdir()
        if p.suffix in STATIC_TYPES
    }


STATIC_VERSIONS = _static_versions()


def static_url(name: str) -> str:
    return f"/static/{name}?v={STATIC_VERSIONS[name]}"


ENV = _env()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _headers(response: Response, private: bool, referrer: str = "same-origin") -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = referrer
    if private:
        response.headers["Cache-Control"] = "no-store"


def finish(request: Request, response: Response) -> Response:
    """Set the cookies this request decided on: a new CSRF nonce, a consumed flash."""
    new = getattr(request.state, "new_csrf_nonce", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )
    if getattr(request.state, "flash_read", False):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def flash(response: Response, message: str, kind: str = "ok") -> Response:
    response.set_cookie(
        FLASH_COOKIE, quote(f"{kind}|{message}"[:1500]), httponly=True, samesite="lax", path="/"
    )
    return response


def _read_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    request.state.flash_read = True
    kind, _, message = unquote(raw).partition("|")
    return (kind if kind in ("ok", "error") else "ok"), message


NAV = (
    ("/orders", "Orders", None),
    ("/orders/new", "Phone order", None),
    ("/catalog", "Catalog", None),
    ("/stock", "Stock", None),
    ("/purchasing", "Purchasing", None),
    ("/reports", "Reports", None),
    ("/fleet", "Fleet", None),
    ("/unmatched", "Unmatched", None),
    ("/admin", "Admin", "owner"),
)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    public: bool = False,
    referrer: str = "same-origin",
    **context: Any,
) -> HTMLResponse:
    user = None if public else session_user(request)
    # Public pages (the tracking page) carry no forms: no CSRF nonce, no cookie at all.
    token = "" if public else csrf_token(request)
    html = ENV.get_template(template).render(
        request=request,
        user=user,
        csrf_token=token,
        csrf_field=Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'),
        flash=_read_flash(request),
        nav=[n for n in NAV if n[2] is None or (user and user.role == n[2])],
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    _headers(response, private=True, referrer=referrer)
    return finish(request, response)


def redirect(request: Request, url: str, message: str | None = None, kind: str = "ok") -> Response:
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, kind)
    return finish(request, response)


def error_page(request: Request, exc: WebError) -> HTMLResponse:
    public = request.url.path.startswith("/t/")
    return render(
        request,
        "error.html",
        status=exc.status,
        public=public,
        title=exc.title,
        message=exc.message,
    )


# --- form values ------------------------------------------------------------------------------


def parse_int(value: str | None, field: str, *, minimum: int | None = None, maximum=None) -> int:
    text = (value or "").strip().replace(".", "").replace(" ", "")
    if not text:
        raise WebError(f"{field}: a number is needed", status=422)
    try:
        number = int(text)
    except ValueError:
        raise WebError(f"{field}: {value!r} is not a whole number", status=422) from None
    if minimum is not None and number < minimum:
        raise WebError(f"{field}: {number} is below {minimum}", status=422)
    if maximum is not None and number > maximum:
        raise WebError(f"{field}: {number} is above {maximum}", status=422)
    return number


def query_string(params: dict, **changes) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return urlencode(merged)


def choices(values: Iterable[str]) -> list[tuple[str, str]]:
    return [(v, label(v)) for v in values]
