"""Signing in and out, the account page, and "sign out everywhere".

    GET  /login                  the form
    POST /login                  e-mail + password → session cookie (rate-limited)
    POST /logout                 ends this browser's session
    GET  /account                own details, password change, sign out everywhere
    POST /account/password       current + new password (ends every other session too)
    POST /account/sign-out-everywhere

A wrong e-mail and a wrong password get the same answer after the same slow hash. After
`core.LOGIN_LIMIT` failures from one address or against one account within
`core.LOGIN_WINDOW_S`, sign-in is refused (429) until the window has passed — even with the
right password, so guessing gains nothing.
"""

from __future__ import annotations

from fastapi import Depends, Form, Request

from .. import db as dbmod
from ..models.core import User
from ..security import hash_password, verify_password
from . import core, services
from .core import render, signed_in

router = core.web_router()

_DUMMY_HASH = hash_password("not-a-real-password")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never '//host' or 'https://…' (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", name="web_login")
def login_form(request: Request, next: str = "/"):
    if core.session_user(request) is not None:
        return core.redirect(request, _safe_next(next))
    return render(request, "login.html", next=_safe_next(next), email="", error=None)


@router.post("/login")
def login(
    request: Request,
    email: str = Form("", max_length=254),
    password: str = Form("", max_length=1024),
    next: str = Form("/", max_length=2000),
):
    address = _client(request)
    email = email.strip().lower()
    with dbmod.session():
        if not core.login_allowed(address, email):
            until = core.retry_after().strftime("%H:%M UTC")
            return render(
                request,
                "login.html",
                status=429,
                next=_safe_next(next),
                email=email,
                error=f"Too many failed sign-ins. Try again after {until}.",
            )
        user = User.get_or_none(User.email == email)
        good = False
        if user is None or not user.active:
            verify_password(password, _DUMMY_HASH)
        else:
            good = verify_password(password, user.password_hash)
        if not good:
            core.record_login_failure(address, email)
            return render(
                request,
                "login.html",
                status=401,
                next=_safe_next(next),
                email=email,
                error="E-mail or password is wrong.",
            )
    response = core.redirect(request, _safe_next(next))
    core.start_session(request, response, user)
    return response


@router.post("/logout")
def logout(request: Request):
    response = core.redirect(request, "/login", "Signed out.")
    core.end_session(response)
    return response


@router.get("/account")
def account(request: Request, user: User = Depends(signed_in)):
    return render(request, "account.html", title="Your account")


@router.post("/account/password")
def change_password(
    request: Request,
    current: str = Form("", max_length=1024),
    new: str = Form("", max_length=1024),
    user: User = Depends(signed_in),
):
    with dbmod.session():
        if not verify_password(current, user.password_hash):
            raise core.WebError("current: the current password is wrong", status=422)
        try:
            services.set_password(user, new)
        except services.ServiceError as exc:
            raise core.WebError(str(exc), status=422) from None
        user = User.get_by_id(user.id)
    response = core.redirect(request, "/account", "Password changed; other sessions ended.")
    core.start_session(request, response, user)
    return response


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        services.sign_out_everywhere(user)
    response = core.redirect(request, "/login", "Signed out on every device.")
    core.end_session(response)
    return response
