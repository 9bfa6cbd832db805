"""Customers a cashier may attach to a sale: found by phone number, or created on the spot."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retail.ids import iso, utcnow, uuid7

from .store.models import Customer


class CustomerError(ValueError):
    pass


@dataclass(frozen=True)
class CustomerInfo:
    id: str
    name: str
    phone: str | None
    email: str | None


def normalize_phone(phone: str) -> str:
    """Indonesian numbers in one form: 0812-3456-789, +62 812 3456 789 → +628123456789."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    if digits.startswith("+"):
        digits = "+" + digits[1:].replace("+", "")
    elif digits.startswith("62"):
        digits = "+" + digits
    elif digits.startswith("0"):
        digits = "+62" + digits[1:]
    if not re.fullmatch(r"\+\d{8,15}", digits):
        raise CustomerError(f"{phone!r} is not a phone number")
    return digits


def _info(row: Customer) -> CustomerInfo:
    return CustomerInfo(row.id, row.name, row.phone, row.email)


def create(name: str, phone: str | None = None, email: str | None = None) -> CustomerInfo:
    name = (name or "").strip()
    if not name:
        raise CustomerError("a customer needs a name")
    phone = normalize_phone(phone) if phone else None
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise CustomerError(f"{email!r} is not an e-mail address")
    if phone and Customer.select().where(Customer.phone == phone).exists():
        raise CustomerError(f"a customer with phone {phone} already exists")
    row = Customer.create(
        id=uuid7(), name=name, phone=phone, email=email or None, created_at=iso(utcnow())
    )
    return _info(row)


def by_phone(phone: str) -> CustomerInfo | None:
    row = Customer.get_or_none(Customer.phone == normalize_phone(phone))
    return _info(row) if row else None


def search(text: str, limit: int = 20) -> list[CustomerInfo]:
    text = (text or "").strip()
    query = Customer.select()
    if text:
        query = query.where(Customer.name.contains(text) | Customer.phone.contains(text))
    return [_info(r) for r in query.order_by(Customer.name).limit(limit)]


def get(customer_id: str) -> CustomerInfo | None:
    row = Customer.get_or_none(Customer.id == customer_id)
    return _info(row) if row else None
