"""The owner's pages: users, stores, terminals (enrolment codes), channels and API keys,
settings and webhooks, and the customer e-mail templates. Every page here is the owner's; a
staff member gets 403.

    GET/POST /admin/users, /admin/users/{id}[/password|/sign-out]
    GET/POST /admin/stores, /admin/stores/{code}
    GET/POST /admin/terminals, /admin/terminals/{id}/replace|revoke
    GET/POST /admin/channels, /admin/channels/{code}[/keys], /admin/keys/{id}/revoke
    GET/POST /admin/settings, /admin/webhooks[/{id}/toggle]
    GET/POST /admin/notifications[/{event}]

Secrets (an enrolment code, an API key) are shown once, on the answer to the POST that made
them, never stored in the clear and never in a URL.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, Form, Path, Request
from peewee import fn

from retail.money import SUPPORTED_LOCALES

from .. import admin
from .. import db as dbmod
from ..models.core import ApiKey, Channel, Store, Terminal, User
from ..models.orders import Notification, Order, WebhookEndpoint
from . import core, notify_templates, services
from .core import WebError, owner, render

router = core.web_router()

UUID = r"^[0-9a-fA-F-]{36}$"
CODE = r"^[A-Za-z0-9_-]{1,32}$"
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


def _fail(exc: Exception) -> WebError:
    return WebError(str(exc), status=422)


@router.get("/admin")
def overview(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        counts = {
            "users": User.select().where(User.active).count(),
            "stores": Store.select().count(),
            "terminals": Terminal.select().where(Terminal.revoked_at.is_null()).count(),
            "channels": Channel.select().count(),
            "keys": ApiKey.select().where(ApiKey.revoked_at.is_null()).count(),
            "webhooks": WebhookEndpoint.select().where(WebhookEndpoint.active).count(),
            "custom": sum(
                1 for e in notify_templates.EVENTS if notify_templates.template(e)["custom"]
            ),
        }
    return render(request, "admin/index.html", title="Admin", counts=counts)


# --- users ------------------------------------------------------------------------------------


@router.get("/admin/users")
def users(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        rows = list(User.select().order_by(User.role, User.email))
        stores = {s.id: s for s in Store.select().order_by(Store.code)}
    return render(request, "admin/users.html", title="Users", rows=rows, stores=stores)


@router.post("/admin/users")
def create_user(
    request: Request,
    email: str = Form("", max_length=254),
    name: str = Form("", max_length=120),
    role: str = Form("staff", max_length=8),
    store: str = Form("", max_length=16),
    password: str = Form("", max_length=1024),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            made = admin.create_user(
                email, password, role=role, name=name.strip(), store=store or None
            )
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return core.redirect(request, "/admin/users", f"User {made.email} ({made.role}) added.")


def _user(user_id: str) -> User:
    found = User.get_or_none(User.id == user_id)
    if found is None:
        raise core.NotFound(f"user {user_id} not found")
    return found


@router.get("/admin/users/{user_id}")
def edit_user(request: Request, user_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    with dbmod.session():
        target = _user(user_id)
        stores = list(Store.select().order_by(Store.code))
    return render(
        request, "admin/user.html", title=f"User {target.email}", target=target, stores=stores
    )


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request,
    user_id: str = Path(pattern=UUID),
    name: str = Form("", max_length=120),
    role: str = Form("staff", max_length=8),
    store: str = Form("", max_length=16),
    active: str = Form(""),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            services.update_user(
                _user(user_id),
                name=name,
                role=role,
                store_code=store or None,
                active=bool(active),
                by=user,
            )
        except services.ServiceError as exc:
            raise _fail(exc) from None
    return core.redirect(request, f"/admin/users/{user_id}", "User saved.")


@router.post("/admin/users/{user_id}/password")
def reset_password(
    request: Request,
    user_id: str = Path(pattern=UUID),
    password: str = Form("", max_length=1024),
    user: User = Depends(owner),
):
    with dbmod.session():
        target = _user(user_id)
        try:
            services.set_password(target, password)
        except services.ServiceError as exc:
            raise _fail(exc) from None
    if target.id == user.id:
        response = core.redirect(request, "/login", "Password changed; sign in again.")
        core.end_session(response)
        return response
    return core.redirect(request, f"/admin/users/{user_id}", "Password set; their sessions ended.")


@router.post("/admin/users/{user_id}/sign-out")
def sign_out_user(request: Request, user_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    with dbmod.session():
        target = _user(user_id)
        services.sign_out_everywhere(target)
    if target.id == user.id:
        response = core.redirect(request, "/login", "Signed out everywhere.")
        core.end_session(response)
        return response
    return core.redirect(
        request, f"/admin/users/{user_id}", f"{target.email} is signed out everywhere."
    )


# --- stores -----------------------------------------------------------------------------------


@router.get("/admin/stores")
def stores(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        rows = list(Store.select().order_by(Store.code))
        tills = dict(
            Terminal.select(Terminal.store, fn.COUNT(Terminal.id))
            .where(Terminal.revoked_at.is_null())
            .group_by(Terminal.store)
            .tuples()
        )
    return render(request, "admin/stores.html", title="Stores", rows=rows, tills=tills, zones=ZONES)


@router.post("/admin/stores")
def add_store(
    request: Request,
    code: str = Form("", max_length=16),
    name: str = Form("", max_length=120),
    tz: str = Form("Asia/Jakarta", max_length=64),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            store = admin.add_store(code.strip().upper(), name, tz=tz)
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return core.redirect(request, f"/admin/stores/{store.code}", f"Store {store.code} added.")


def _store(code: str) -> Store:
    store = Store.get_or_none(Store.code == code)
    if store is None:
        raise core.NotFound(f"store {code!r} not found")
    return store


@router.get("/admin/stores/{code}")
def edit_store(request: Request, code: str = Path(pattern=CODE), user: User = Depends(owner)):
    with dbmod.session():
        store = _store(code)
        info = services.store_info(store)
    return render(
        request,
        "admin/store.html",
        title=f"Store {store.code}",
        store=store,
        info=info,
        zones=ZONES,
        locales=SUPPORTED_LOCALES,
    )


@router.post("/admin/stores/{code}")
def save_store(
    request: Request,
    code: str = Path(pattern=CODE),
    name: str = Form("", max_length=120),
    tz: str = Form("", max_length=64),
    locale: str = Form("id_ID", max_length=16),
    prices_include_tax: str = Form(""),
    address: str = Form("", max_length=300),
    phone: str = Form("", max_length=300),
    hours: str = Form("", max_length=300),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            services.update_store(
                _store(code),
                name=name,
                tz=tz,
                locale=locale,
                prices_include_tax=bool(prices_include_tax),
                info={"address": address, "phone": phone, "hours": hours},
            )
        except services.ServiceError as exc:
            raise _fail(exc) from None
    return core.redirect(request, f"/admin/stores/{code}", "Store saved.")


# --- terminals --------------------------------------------------------------------------------


@router.get("/admin/terminals")
def terminals(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        rows = list(
            Terminal.select(Terminal, Store).join(Store).order_by(Store.code, Terminal.code)
        )
        stores = list(Store.select().order_by(Store.code))
    return render(request, "admin/terminals.html", title="Terminals", rows=rows, stores=stores)


def _secret_page(request, *, title, secret, what, back, extra=""):
    return render(
        request, "admin/secret.html", title=title, secret=secret, what=what, back=back, extra=extra
    )


@router.post("/admin/terminals")
def add_terminal(
    request: Request,
    store: str = Form("", max_length=16),
    name: str = Form("", max_length=80),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            terminal, code = admin.add_terminal(store, name)
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return _secret_page(
        request,
        title=f"Enrolment code for {store}/{terminal.code}",
        secret=code,
        what="Type this code on the till (Settings → Connect to OMS). It works once and expires in 24 hours.",
        back="/admin/terminals",
    )


def _terminal(terminal_id: str) -> Terminal:
    found = Terminal.get_or_none(Terminal.id == terminal_id)
    if found is None:
        raise core.NotFound(f"terminal {terminal_id} not found")
    return found


@router.post("/admin/terminals/{terminal_id}/replace")
def replace_terminal(
    request: Request, terminal_id: str = Path(pattern=UUID), user: User = Depends(owner)
):
    with dbmod.session():
        t = _terminal(terminal_id)
        store = Store.get_by_id(t.store_id)
        try:
            terminal, code = admin.add_terminal(store.code, "", replace=t.id)
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return _secret_page(
        request,
        title=f"Re-enrol {store.code}/{terminal.code} on new hardware",
        secret=code,
        what="Type this code on the replacement till. It continues above the last sale and receipt "
        "number the OMS accepted; the old till's token stops working when the new one enrols.",
        back="/admin/terminals",
    )


@router.post("/admin/terminals/{terminal_id}/revoke")
def revoke_terminal(
    request: Request, terminal_id: str = Path(pattern=UUID), user: User = Depends(owner)
):
    with dbmod.session():
        t = _terminal(terminal_id)
        store = Store.get_by_id(t.store_id)
        admin.revoke_terminal(store.code, t.id)
    return core.redirect(request, "/admin/terminals", f"Till {store.code}/{t.code} revoked.")


# --- channels and API keys --------------------------------------------------------------------


@router.get("/admin/channels")
def channels(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        rows = list(Channel.select().order_by(Channel.code))
        keys: dict[str, list[ApiKey]] = {}
        for key in ApiKey.select().order_by(ApiKey.created_at):
            keys.setdefault(key.channel_id, []).append(key)
        stores = list(Store.select().order_by(Store.code))
        orders_per = dict(
            Order.select(Order.channel, fn.COUNT(Order.id))
            .where(Order.channel.is_null(False))
            .group_by(Order.channel)
            .tuples()
        )
    return render(
        request,
        "admin/channels.html",
        title="Channels and API keys",
        rows=rows,
        keys=keys,
        stores=stores,
        orders_per=orders_per,
        store_codes={s.id: s.code for s in stores},
    )


@router.post("/admin/channels")
def add_channel(
    request: Request,
    code: str = Form("", max_length=32),
    name: str = Form("", max_length=120),
    kind: str = Form("online", max_length=12),
    store: str = Form("", max_length=16),
    stock_policy: str = Form("refuse", max_length=9),
    webhook_secret: str = Form("", max_length=200),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            channel = admin.add_channel(
                code.strip().lower(),
                name=name.strip(),
                kind=kind,
                store=store or None,
                webhook_secret=webhook_secret.strip() or None,
                stock_policy=stock_policy,
            )
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return core.redirect(request, "/admin/channels", f"Channel {channel.code} added.")


def _channel(code: str) -> Channel:
    found = Channel.get_or_none(Channel.code == code)
    if found is None:
        raise core.NotFound(f"channel {code!r} not found")
    return found


@router.post("/admin/channels/{code}")
def update_channel(
    request: Request,
    code: str = Path(pattern=CODE),
    name: str = Form("", max_length=120),
    store: str = Form("", max_length=16),
    stock_policy: str = Form("refuse", max_length=9),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            services.update_channel(
                _channel(code), name=name, store_code=store or None, stock_policy=stock_policy
            )
        except services.ServiceError as exc:
            raise _fail(exc) from None
    return core.redirect(request, "/admin/channels", f"Channel {code} saved.")


@router.post("/admin/channels/{code}/keys")
def create_key(request: Request, code: str = Path(pattern=CODE), user: User = Depends(owner)):
    with dbmod.session():
        try:
            key, secret = admin.create_api_key(_channel(code).code)
        except admin.AdminError as exc:
            raise _fail(exc) from None
    return _secret_page(
        request,
        title=f"API key for {code}",
        secret=secret,
        what="Give this key to the shop (header X-Api-Key). It is shown only now; the OMS keeps "
        "only its digest.",
        back="/admin/channels",
        extra=f"Key {key.prefix}…",
    )


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    with dbmod.session():
        try:
            key = admin.revoke_api_key(key_id)
        except admin.AdminError as exc:
            raise core.NotFound(str(exc)) from None
    return core.redirect(request, "/admin/channels", f"Key {key.prefix}… revoked.")


# --- settings and webhooks --------------------------------------------------------------------


@router.get("/admin/settings")
def settings_page(request: Request, user: User = Depends(owner)):
    settings = request.app.state.settings
    with dbmod.session():
        hooks = list(WebhookEndpoint.select().order_by(WebhookEndpoint.created_at))
        stores = list(Store.select().order_by(Store.code))
        late = services.late_after_hours()
    return render(
        request,
        "admin/settings.html",
        title="Settings",
        hooks=hooks,
        stores=stores,
        store_codes={s.id: s.code for s in stores},
        late=late,
        settings=settings,
        suggested_secret=secrets.token_urlsafe(24),
    )


@router.post("/admin/settings")
def save_settings(
    request: Request, late_after_hours: str = Form("", max_length=6), user: User = Depends(owner)
):
    hours = core.parse_int(late_after_hours, "late_after_hours", minimum=1, maximum=1440)
    with dbmod.session():
        services.set_late_after_hours(hours)
    return core.redirect(request, "/admin/settings", "Settings saved.")


@router.post("/admin/webhooks")
def add_webhook(
    request: Request,
    url: str = Form("", max_length=500),
    secret: str = Form("", max_length=200),
    store: str = Form("", max_length=16),
    user: User = Depends(owner),
):
    with dbmod.session():
        try:
            services.add_webhook(url, secret, store or None)
        except services.ServiceError as exc:
            raise _fail(exc) from None
    return core.redirect(request, "/admin/settings", "Webhook added.")


@router.post("/admin/webhooks/{endpoint_id}/toggle")
def toggle_webhook(
    request: Request, endpoint_id: str = Path(pattern=UUID), user: User = Depends(owner)
):
    with dbmod.session():
        hook = WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id)
        if hook is None:
            raise core.NotFound(f"webhook {endpoint_id} not found")
        services.set_webhook_active(hook.id, not hook.active)
    return core.redirect(
        request, "/admin/settings", "Webhook " + ("disabled." if hook.active else "enabled.")
    )


# --- customer e-mail templates ----------------------------------------------------------------


@router.get("/admin/notifications")
def templates_list(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        rows = [(e, notify_templates.template(e)) for e in notify_templates.EVENTS]
        recent = list(
            Notification.select(Notification, Order)
            .join(Order)
            .order_by(Notification.created_at.desc())
            .limit(30)
        )
    return render(
        request, "admin/notifications.html", title="Customer e-mails", rows=rows, recent=recent
    )


def _template_page(
    request, event, *, subject, body, preview=None, error=None, status=200, order_number=""
):
    return render(
        request,
        "admin/notification.html",
        status=status,
        title=f"E-mail: {event.replace('_', ' ')}",
        event=event,
        subject=subject,
        body=body,
        preview=preview,
        error=error,
        fields=notify_templates.FIELDS,
        order_number=order_number,
        custom=notify_templates.template(event)["custom"],
    )


@router.get("/admin/notifications/{event}")
def template_edit(
    request: Request, event: str = Path(pattern=r"^[a-z_]{3,20}$"), user: User = Depends(owner)
):
    if event not in notify_templates.EVENTS:
        raise core.NotFound(f"no notification event {event!r}")
    with dbmod.session():
        current = notify_templates.template(event)
        preview = notify_templates.preview(event, current["subject"], current["body"])
        return _template_page(
            request, event, subject=current["subject"], body=current["body"], preview=preview
        )


@router.post("/admin/notifications/{event}")
def template_save(
    request: Request,
    event: str = Path(pattern=r"^[a-z_]{3,20}$"),
    subject: str = Form("", max_length=1000),
    body: str = Form("", max_length=20000),
    order_number: str = Form("", max_length=40),
    do: str = Form("preview", max_length=10),
    user: User = Depends(owner),
):
    if event not in notify_templates.EVENTS:
        raise core.NotFound(f"no notification event {event!r}")
    with dbmod.session():
        if do == "reset":
            notify_templates.reset(event)
            return core.redirect(
                request, f"/admin/notifications/{event}", "Back to the built-in wording."
            )
        order = None
        if order_number.strip():
            order = Order.get_or_none(Order.number == order_number.strip())
            if order is None:
                return _template_page(
                    request, event, subject=subject, body=body, error=f"order_number: no order {order_number!r}",
                    status=422, order_number=order_number,
                )  # fmt: skip
        try:
            preview = notify_templates.preview(event, subject, body, order)
            if do == "save":
                notify_templates.save(event, subject, body)
        except notify_templates.TemplateError as exc:
            return _template_page(
                request,
                event,
                subject=subject,
                body=body,
                error=str(exc),
                status=422,
                order_number=order_number,
            )
    if do == "save":
        return core.redirect(
            request, f"/admin/notifications/{event}", "Template saved; new e-mails use it."
        )
    return _template_page(
        request, event, subject=subject, body=body, preview=preview, order_number=order_number
    )
