"""Owner operations behind the CLI: stores, terminals, users, channels and API keys.

    >>> store = add_store("JKT1", "Toko Jakarta", tz="Asia/Jakarta")    # doctest: +SKIP
    >>> terminal, code = add_terminal("JKT1", "Kasir depan")          # doctest: +SKIP
    >>> code                                                          # doctest: +SKIP
    '7KQ2-M9XA-3TRB'

Secrets (enrolment codes, API keys) are returned once to be shown to the owner and stored only
as digests. Each function is one transaction; bad input raises `AdminError` naming the field.
"""

from __future__ import annotations

import re
from datetime import timedelta

from retail.ids import utcnow, zone

from .catalog import ensure_default_tax_codes
from .db import atomic, locked
from .models.core import ApiKey, Channel, Store, Terminal, User
from .security import (
    digest,
    enrol_code_digest,
    hash_password,
    new_api_key,
    new_enrol_code,
)

STORE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
CHANNEL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NPWP_CHARS = re.compile(r"^[0-9. -]+$")


class AdminError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def get_store(code: str) -> Store:
    store = Store.get_or_none(Store.code == code)
    if store is None:
        raise AdminError("store", f"no store with code {code!r}")
    return store


def add_store(
    code: str,
    name: str,
    *,
    tz: str = "Asia/Jakarta",
    currency: str = "IDR",
    currency_exponent: int = 0,
    locale: str = "id_ID",
    prices_include_tax: bool = True,
    address: str = "",
    npwp: str = "",
) -> Store:
    """A new store. `address` and `npwp` (its tax number) print on its invoices as the
    seller's."""
    if not STORE_CODE.match(code):
        raise AdminError("code", f"store code {code!r} must be 1-16 of A-Z, 0-9, _ or -")
    if not name.strip():
        raise AdminError("name", "store name is empty")
    address = check_address(address)
    npwp = check_npwp(npwp)
    try:
        zone(tz)
    except ValueError as exc:
        raise AdminError("tz", str(exc)) from None
    with atomic():
        if Store.get_or_none(Store.code == code) is not None:
            raise AdminError("code", f"store {code} already exists")
        store = Store.create(
            code=code,
            name=name.strip(),
            tz=tz,
            currency=currency,
            currency_exponent=currency_exponent,
            locale=locale,
            prices_include_tax=prices_include_tax,
            address=address,
            npwp=npwp,
        )
    ensure_default_tax_codes()
    return store


MAX_ADDRESS = 500


def check_address(address: str) -> str:
    """A store's postal address: free text, trimmed, at most `MAX_ADDRESS` characters."""
    address = "\n".join(line.strip() for line in address.strip().splitlines())
    if len(address) > MAX_ADDRESS:
        raise AdminError("address", f"address is {len(address)} characters; at most {MAX_ADDRESS}")
    if any(ord(c) < 32 and c != "\n" for c in address):
        raise AdminError("address", "address holds a control character")
    return address


def check_npwp(npwp: str) -> str:
    """An NPWP as the owner writes it ("01.234.567.8-901.000" or the 16-digit form), trimmed:
    digits with optional dots, dashes and spaces, 15 or 16 digits; empty means none."""
    npwp = npwp.strip()
    if not npwp:
        return ""
    if not NPWP_CHARS.match(npwp):
        raise AdminError("npwp", f"NPWP {npwp!r} may hold only digits, dots, dashes and spaces")
    digits = sum(c.isdigit() for c in npwp)
    if digits not in (15, 16) or len(npwp) > 32:
        raise AdminError("npwp", f"NPWP {npwp!r} has {digits} digits; it needs 15 or 16")
    return npwp


def _find_terminal(store: Store, ref: str) -> Terminal:
    terminal = Terminal.get_or_none(
        (Terminal.store == store.id) & ((Terminal.code == ref) | (Terminal.id == ref))
    )
    if terminal is None:
        raise AdminError("terminal", f"store {store.code} has no terminal {ref!r}")
    return terminal


def add_terminal(
    store_code: str, name: str, *, replace: str | None = None, expires_hours: int = 24
) -> tuple[Terminal, str]:
    """A new terminal (or, with `replace`, an existing one re-enrolled on new hardware) and its
    one-time enrolment code. A replaced terminal keeps its id, code and counters, so the new
    till continues above the last sequence and receipt numbers the OMS accepted; its old token
    stops working when the new till enrols."""
    if not 1 <= expires_hours <= 24 * 30:
        raise AdminError("expires_hours", f"{expires_hours} is not between 1 and 720 hours")
    if not name.strip() and replace is None:
        raise AdminError("name", "terminal name is empty")
    code = new_enrol_code()
    expires = utcnow() + timedelta(hours=expires_hours)
    with atomic():
        store = get_store(store_code)
        if replace is not None:
            terminal = locked(Terminal, Terminal.id == _find_terminal(store, replace).id).get()
            terminal.enrol_code_digest = enrol_code_digest(code)
            terminal.enrol_expires_at = expires
            if name.strip():
                terminal.name = name.strip()
            terminal.save()
            return terminal, code
        numbers = [
            int(t.code[1:])
            for t in Terminal.select(Terminal.code).where(Terminal.store == store.id)
            if t.code[1:].isdigit()
        ]
        terminal = Terminal.create(
            store=store.id,
            code=f"T{max(numbers, default=0) + 1:02d}",
            name=name.strip(),
            enrol_code_digest=enrol_code_digest(code),
            enrol_expires_at=expires,
        )
    return terminal, code


def revoke_terminal(store_code: str, ref: str) -> Terminal:
    """Refuse the terminal's token from the next request on, and any pending enrolment code."""
    with atomic():
        terminal = _find_terminal(get_store(store_code), ref)
        Terminal.update(revoked_at=utcnow(), enrol_code_digest=None, enrol_expires_at=None).where(
            Terminal.id == terminal.id
        ).execute()
    return Terminal.get_by_id(terminal.id)


def create_user(
    email: str, password: str, *, role: str = "staff", name: str = "", store: str | None = None
) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AdminError("email", f"{email!r} is not an e-mail address")
    if role not in ("owner", "staff"):
        raise AdminError("role", f"role {role!r} is not owner or staff")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise AdminError("password", str(exc)) from None
    with atomic():
        if User.get_or_none(User.email == email) is not None:
            raise AdminError("email", f"a user {email} already exists")
        return User.create(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            store=get_store(store).id if store else None,
        )


def add_channel(
    code: str,
    *,
    name: str = "",
    kind: str = "online",
    store: str | None = None,
    webhook_secret: str | None = None,
    stock_policy: str = "refuse",
) -> Channel:
    if not CHANNEL_CODE.match(code):
        raise AdminError("channel", f"channel code {code!r} must be 1-32 of a-z, 0-9, _ or -")
    if kind not in ("online", "woocommerce", "phone"):
        raise AdminError("kind", f"channel kind {kind!r} is not online, woocommerce or phone")
    if stock_policy not in ("refuse", "backorder"):
        raise AdminError("stock_policy", f"{stock_policy!r} is not refuse or backorder")
    with atomic():
        if Channel.get_or_none(Channel.code == code) is not None:
            raise AdminError("channel", f"channel {code} already exists")
        return Channel.create(
            code=code,
            name=name or code,
            kind=kind,
            store=get_store(store).id if store else None,
            webhook_secret=webhook_secret,
            stock_policy=stock_policy,
        )


def create_api_key(channel_code: str) -> tuple[ApiKey, str]:
    """A new API key for the channel; the secret is returned once, never stored."""
    secret = new_api_key()
    with atomic():
        channel = Channel.get_or_none(Channel.code == channel_code)
        if channel is None:
            raise AdminError("channel", f"no channel {channel_code!r} (kasir-oms add-channel)")
        key = ApiKey.create(channel=channel.id, prefix=secret[:10], digest=digest(secret))
    return key, secret


def revoke_api_key(prefix_or_id: str) -> ApiKey:
    with atomic():
        key = ApiKey.get_or_none((ApiKey.id == prefix_or_id) | (ApiKey.prefix == prefix_or_id))
        if key is None:
            raise AdminError("api_key", f"no API key {prefix_or_id!r}")
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id == key.id).execute()
    return ApiKey.get_by_id(key.id)
