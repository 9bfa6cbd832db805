"""Salted slow hashes for staff PINs and passwords, in one text format both sides read.

    >>> h = hash_secret("4821")
    >>> verify_secret("4821", h), verify_secret("1111", h)
    (True, False)

Format: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``. A PIN has few possible values, so the
hash must be slow enough that guessing all 10^6 six-digit PINs from a stolen card takes days
of work per staff member, and the till adds a lockout after repeated failures.
"""

from __future__ import annotations

import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1


def hash_secret(secret: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


def check_pin_format(pin: str, length: tuple[int, int] = (4, 8)) -> None:
    # isascii: str.isdigit() also passes "²³⁴⁵" and other scripts' digits, which a keypad
    # cannot type.
    if not (pin.isascii() and pin.isdigit()) or not length[0] <= len(pin) <= length[1]:
        raise ValueError(f"a PIN is {length[0]} to {length[1]} digits")


def is_secret_hash(value: str) -> bool:
    """True for a well-formed `scrypt$n$r$p$salt$hash` string (what both sides store)."""
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    n, r, p, salt, digest_hex = parts[1:]
    if not (n.isdigit() and r.isdigit() and p.isdigit()):
        return False
    n_, r_, p_ = int(n), int(r), int(p)
    if n_ < 2 or n_ & (n_ - 1) or not 1 <= r_ <= 64 or not 1 <= p_ <= 16:
        return False
    try:
        return len(bytes.fromhex(salt)) >= 8 and len(bytes.fromhex(digest_hex)) >= 16
    except ValueError:
        return False
