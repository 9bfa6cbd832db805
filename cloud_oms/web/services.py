"""Operations the web pages need that the core services do not offer: store details, user
management, channel settings, stock transfers, sending a purchase order, and the chunked
catalog import behind the progress bar.

    >>> transfer(jkt, bdg, kopi, 5, "restock Bandung", "user:ani@toko.id")   # doctest: +SKIP
    >>> job = start_import(csv_text, store, "user:ani@toko.id")             # doctest: +SKIP
    >>> import_step(job["id"])["done"]                                      # doctest: +SKIP
    250

Each function is one transaction; bad input raises `ServiceError` naming the field. Small
settings live in the `setting` table under `web.` keys, as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import smtplib
from email.message import EmailMessage

from retail.ids import utcnow, uuid7, zone
from retail.money import SUPPORTED_LOCALES

from .. import catalog, notifications, stock
from ..config import Settings
from ..db import atomic, locked
from ..models.core import Channel, Product, Setting, Store, User
from ..models.orders import WebhookEndpoint
from ..models.stock import PurchaseOrder, StockLevel
from ..reports import DEFAULT_LATE_AFTER_HOURS
from ..security import hash_password


class ServiceError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


# --- settings ---------------------------------------------------------------------------------


def get_setting(key: str, default=None):
    row = Setting.get_or_none(Setting.key == f"web.{key}")
    return default if row is None else json.loads(row.value)


def set_setting(key: str, value) -> None:
    text = json.dumps(value, separators=(",", ":"))
    with atomic():
        if Setting.update(value=text).where(Setting.key == f"web.{key}").execute() == 0:
            Setting.create(key=f"web.{key}", value=text)


def delete_setting(key: str) -> None:
    Setting.delete().where(Setting.key == f"web.{key}").execute()


def late_after_hours() -> int:
    return int(get_setting("late_after_hours", DEFAULT_LATE_AFTER_HOURS))


def set_late_after_hours(hours: int) -> None:
    if not 1 <= hours <= 1440:
        raise ServiceError("late_after_hours", f"{hours} is not within 1..1440 hours")
    set_setting("late_after_hours", hours)


# --- stores -----------------------------------------------------------------------------------

STORE_INFO_FIELDS = ("address", "phone", "hours")


def store_info(store: Store) -> dict:
    """Where and when customers pick up: address, phone, opening hours."""
    info = get_setting(f"store.{store.id}", {})
    return {k: info.get(k, "") for k in STORE_INFO_FIELDS}


def update_store(
    store: Store,
    *,
    name: str,
    tz: str,
    locale: str,
    prices_include_tax: bool,
    info: dict,
) -> Store:
    name = name.strip()
    if not name:
        raise ServiceError("name", "store name is empty")
    try:
        zone(tz)
    except ValueError as exc:
        raise ServiceError("tz", str(exc)) from None
    if locale not in SUPPORTED_LOCALES:
        raise ServiceError(
            "locale", f"locale {locale!r} is not one of {', '.join(SUPPORTED_LOCALES)}"
        )
    clean = {k: str(info.get(k, "")).strip()[:300] for k in STORE_INFO_FIELDS}
    with atomic():
        Store.update(
            name=name[:120], tz=tz, locale=locale, prices_include_tax=prices_include_tax
        ).where(Store.id == store.id).execute()
        set_setting(f"store.{store.id}", clean)
    return Store.get_by_id(store.id)


# --- users ------------------------------------------------------------------------------------


def _other_active_owners(user: User) -> int:
    return User.select().where((User.role == "owner") & User.active & (User.id != user.id)).count()


def update_user(
    user: User, *, name: str, role: str, store_code: str | None, active: bool, by: User
) -> User:
    if role not in ("owner", "staff"):
        raise ServiceError("role", f"role {role!r} is not owner or staff")
    with atomic():
        user = locked(User, User.id == user.id).get()
        losing_owner = user.role == "owner" and (role != "owner" or not active)
        if losing_owner and _other_active_owners(user) == 0:
            raise ServiceError("role", f"{user.email} is the last active owner; add another first")
        if user.id == by.id and not active:
            raise ServiceError("active", "you cannot disable your own account")
        store = None
        if store_code:
            store = Store.get_or_none(Store.code == store_code)
            if store is None:
                raise ServiceError("store", f"no store {store_code!r}")
        changes = {"name": name.strip()[:120], "role": role, "store": store.id if store else None}
        if active != user.active:
            changes["active"] = active
            # Disabling (or enabling) a user ends every session and token issued so far.
            changes["token_generation"] = User.token_generation + 1
        User.update(**changes).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def set_password(user: User, password: str) -> None:
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise ServiceError("password", str(exc)) from None
    with atomic():
        User.update(password_hash=hashed, token_generation=User.token_generation + 1).where(
            User.id == user.id
        ).execute()


def sign_out_everywhere(user: User) -> None:
    """Every web session and API token of `user` is refused from the next request on."""
    with atomic():
        User.update(token_generation=User.token_generation + 1).where(User.id == user.id).execute()


# --- channels and webhooks --------------------------------------------------------------------


def update_channel(channel: Channel, *, name: str, store_code: str | None, stock_policy: str):
    if stock_policy not in stock.POLICIES:
        raise ServiceError("stock_policy", f"{stock_policy!r} is not refuse or backorder")
    with atomic():
        store = None
        if store_code:
            store = Store.get_or_none(Store.code == store_code)
            if store is None:
                raise ServiceError("store", f"no store {store_code!r}")
        Channel.update(
            name=name.strip()[:120] or channel.code,
            store=store.id if store else None,
            stock_policy=stock_policy,
        ).where(Channel.id == channel.id).execute()
    return Channel.get_by_id(channel.id)


def add_webhook(url: str, secret: str, store_code: str | None) -> WebhookEndpoint:
    store = Store.get_or_none(Store.code == store_code) if store_code else None
    if store_code and store is None:
        raise ServiceError("store", f"no store {store_code!r}")
    try:
        with atomic():
            return notifications.add_webhook(url.strip(), secret, store)
    except ValueError as exc:
        field = "url" if "url" in str(exc) else "secret"
        raise ServiceError(field, str(exc)) from None


def set_webhook_active(endpoint_id: str, active: bool) -> None:
    with atomic():
        if (
            WebhookEndpoint.update(active=active).where(WebhookEndpoint.id == endpoint_id).execute()
            == 0
        ):
            raise ServiceError("webhook", f"no webhook {endpoint_id}")


# --- stock transfers --------------------------------------------------------------------------


def transfer(
    from_store: Store, to_store: Store, product: Product, qty: int, reason: str, actor: str
):
    """Move goods between stores: out of one at its average cost, into the other at that
    cost, in one transaction. Refused when the source has less available than asked."""
    if from_store.id == to_store.id:
        raise ServiceError("to_store", "a transfer goes to another store")
    if qty <= 0:
        raise ServiceError("qty", f"quantity {qty} must be at least 1")
    if not reason.strip():
        raise ServiceError("reason", "a transfer needs a reason")
    with atomic():
        stock.lock_levels(from_store, [product])
        level = stock.lock_level(from_store, product)
        if level.on_hand - level.reserved < qty:
            raise ServiceError(
                "qty",
                f"{from_store.code} has {max(level.on_hand - level.reserved, 0)} of {product.sku} "
                f"available, {qty} asked",
            )
        cost = level.avg_cost or None
        note = f"to {to_store.code}: {reason.strip()}"
        out = stock.move(
            from_store, product, -qty, "transfer_out", actor, ref_type="store",
            ref_id=to_store.id, note=note,
        )  # fmt: skip
        into = stock.move(
            to_store, product, qty, "transfer_in", actor, ref_type="store", ref_id=from_store.id,
            unit_cost=cost, note=f"from {from_store.code}: {reason.strip()}",
        )  # fmt: skip
        stock.fill_backorders(to_store, product, actor)
        return out, into


def oversold_levels(store_ids: list[str] | None = None) -> list[StockLevel]:
    """Levels with less on hand than promised (negative, or below what is reserved)."""
    query = (
        StockLevel.select(StockLevel, Product, Store)
        .join(Product, on=(StockLevel.product == Product.id))
        .switch(StockLevel)
        .join(Store, on=(StockLevel.store == Store.id))
        .where((StockLevel.on_hand < 0) | (StockLevel.on_hand < StockLevel.reserved))
        .order_by(Store.code, Product.sku)
    )
    if store_ids is not None:
        query = query.where(StockLevel.store.in_(store_ids))
    return list(query)


# --- purchase orders --------------------------------------------------------------------------


def purchase_order_text(po: PurchaseOrder) -> tuple[str, str]:
    """(subject, body) of the order as sent to the supplier, with a CSV of the lines."""
    store = Store.get_by_id(po.store_id)
    lines = []
    for line in po.lines:
        product = Product.get_by_id(line.product_id)
        lines.append((product.sku, product.name, line.qty_ordered, line.unit_cost))
    body = [
        f"Purchase order {po.number}",
        f"From: {store.name} ({store.code})",
        f"Date: {po.created_at:%Y-%m-%d}",
        "",
        *(f"{qty} x {name} [{sku}] @ {cost}" for sku, name, qty, cost in lines),
        "",
        f"Total: {sum(q * c for *_, q, c in lines)} {store.currency}",
    ]
    if po.note:
        body += ["", po.note]
    return f"Purchase order {po.number} — {store.name}", "\n".join(body) + "\n"


def purchase_order_csv(po: PurchaseOrder) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "name", "qty", "unit_cost"])
    for line in po.lines:
        product = Product.get_by_id(line.product_id)
        writer.writerow([product.sku, product.name, line.qty_ordered, line.unit_cost])
    return out.getvalue()


def send_purchase_order(po: PurchaseOrder, settings: Settings, actor: str) -> PurchaseOrder:
    """E-mail the order to its supplier (with the lines as CSV) and mark it sent. The mail goes
    before the status changes, so a failed send leaves the order unsent."""
    from ..models.stock import Supplier

    po = PurchaseOrder.get_by_id(po.id)
    if po.status not in ("open", "sent"):
        raise ServiceError("status", f"purchase order {po.number} is {po.status.replace('_', ' ')}")
    supplier = Supplier.get_by_id(po.supplier_id)
    if not supplier.email:
        raise ServiceError("email", f"supplier {supplier.name} has no e-mail address")
    if not settings.smtp_host:
        raise ServiceError("smtp", "SMTP_HOST is not set, so the OMS cannot send e-mail")
    subject, body = purchase_order_text(po)
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = supplier.email
    msg["Subject"] = subject
    msg.set_content(body)
    msg.add_attachment(
        purchase_order_csv(po).encode(), maintype="text", subtype="csv", filename=f"{po.number}.csv"
    )
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls and smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ServiceError("smtp", f"sending to {supplier.email} failed: {exc}") from None
    with atomic():
        note = (po.note + "\n" if po.note else "") + f"sent to {supplier.email} by {actor}"
        PurchaseOrder.update(status="sent", note=note).where(
            (PurchaseOrder.id == po.id) & (PurchaseOrder.status.in_(("open", "sent")))
        ).execute()
    return PurchaseOrder.get_by_id(po.id)


# --- the chunked catalog import ---------------------------------------------------------------

IMPORT_CHUNK = 100  # rows per transaction: the bar moves about twice a second


def _import_key(job_id: str) -> str:
    return f"import.{job_id}"


def check_import(text: str, store: Store | None) -> list[str]:
    """Every problem of the file (nothing is written): line, column and reason each."""
    return catalog.import_csv(text, store=store, dry_run=True).errors


def start_import(text: str, store: Store | None, actor: str) -> dict:
    """A job importing a checked file in chunks; each chunk is one transaction that also
    records the job's progress, so what the progress says is what is committed."""
    errors = check_import(text, store)
    if errors:
        raise ServiceError("file", f"{len(errors)} problem(s) in the file")
    from retail import catalog_csv
    from retail.money import Currency

    currency = Currency(store.currency, store.currency_exponent) if store else Currency()
    rows, _ = catalog_csv.parse_catalog(
        text, currency=currency, locale=store.locale if store else "id_ID", tax_codes=_tax_codes()
    )
    job = {
        "id": uuid7(),
        "store": store.id if store else None,
        "actor": actor,
        "text": text,
        "starts": [r.line for r in rows],
        "done": 0,
        "total": len(rows),
        "created": 0,
        "updated": 0,
        "stock_set": 0,
        "errors": [],
        "status": "running",
        "at": utcnow().isoformat(),
    }
    set_setting(_import_key(job["id"]), job)
    return job


def _tax_codes() -> list[str]:
    from ..models.core import TaxCode

    return [t.code for t in TaxCode.select(TaxCode.code).where(TaxCode.active == True)]  # noqa: E712


def import_job(job_id: str) -> dict | None:
    return get_setting(_import_key(job_id))


def _chunk_text(text: str, first_row_line: int, start: int, stop: int | None) -> str:
    """The file with every data row outside lines [start, stop) blanked: line numbers (and so
    the errors' line numbers) stay those of the original file."""
    from io import StringIO

    if text.startswith("\ufeff"):
        text = text[1:]
    lines = StringIO(text, newline=None).read().split("\n")
    kept = []
    for number, line in enumerate(lines, start=1):
        header = number < first_row_line
        inside = start <= number and (stop is None or number < stop)
        kept.append(line if header or inside else "")
    return "\n".join(kept)


def import_step(job_id: str) -> dict:
    """Import the next chunk of the job; returns the job as it now stands."""
    with atomic():
        row = locked(Setting, Setting.key == f"web.{_import_key(job_id)}").get_or_none()
        if row is None:
            raise ServiceError("job", f"no import job {job_id}")
        job = json.loads(row.value)
        if job["status"] != "running":
            return job
        store = Store.get_by_id(job["store"]) if job["store"] else None
        starts = job["starts"]
        begin = job["done"]
        end = min(begin + IMPORT_CHUNK, len(starts))
        chunk = _chunk_text(
            job["text"], starts[0], starts[begin], starts[end] if end < len(starts) else None
        )
        result = catalog.import_csv(chunk, store=store, actor=job["actor"])
        if result.errors:
            job["errors"] = result.errors
            job["status"] = "failed"
        else:
            job["done"] = end
            job["created"] += result.created
            job["updated"] += result.updated
            job["stock_set"] += result.stock_set
            if end >= len(starts):
                job["status"] = "done"
        if job["status"] != "running":
            job["text"] = ""  # the file is not kept once the job has ended
        Setting.update(value=json.dumps(job, separators=(",", ":"))).where(
            Setting.key == row.key
        ).execute()
        return job
