"""Secrets: password hashes, tokens and API keys, staff sign-in tokens, the enrolment limit.

    >>> h = hash_password("correct horse battery staple")
    >>> verify_password("correct horse battery staple", h)
    True
    >>> secret = new_terminal_token()
    >>> len(digest(secret))
    64

Passwords (and staff PINs, hashed on the till) are scrypt hashes in the format
`scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>` from `retail.pins`, so both sides read each other's.

Terminal tokens and API keys are long random secrets (256 bits). They are stored only as SHA-256
digests: a slow hash on every request would cripple ingest, and a digest of a random 256-bit
secret cannot be reversed anyway. A request's secret is digested, the row is found by digest,
and the digests are compared again in constant time.

Staff sign-in tokens are short-lived and signed with HMAC-SHA256: `<payload>.<signature>` where
the payload is base64url JSON {"uid", "gen", "exp"}. `gen` is the user's token generation;
bumping it (or disabling the user) refuses every token issued before, at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timedelta

from retail.pins import hash_secret, is_secret_hash, verify_secret  # noqa: F401 - part of this module's API

TERMINAL_TOKEN_PREFIX = "kt_"
API_KEY_PREFIX = "kak_"
ENROL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ENROL_GROUPS = 3


class TokenError(ValueError):
    """A staff token that is malformed, forged or expired; the message says which."""


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    return hash_secret(password)


def verify_password(password: str, stored: str) -> bool:
    return verify_secret(password, stored)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_terminal_token() -> str:
    return TERMINAL_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_enrol_code() -> str:
    """A code a person can type on a till: 12 Crockford base32 symbols (60 bits), grouped."""
    symbols = "".join(secrets.choice(ENROL_ALPHABET) for _ in range(4 * ENROL_GROUPS))
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def normalize_enrol_code(code: str) -> str:
    """Upper case without dashes or spaces; O→0 and I/L→1 as Crockford reads them."""
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def enrol_code_digest(code: str) -> str:
    return digest("enrol:" + normalize_enrol_code(code))


# --- staff sign-in tokens ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_user_token(secret: str, user_id: str, generation: int, ttl_s: int, now=None) -> str:
    now = time.time() if now is None else now
    body = _b64(
        json.dumps(
            {"uid": user_id, "gen": generation, "exp": int(now + ttl_s)}, separators=(",", ":")
        ).encode()
    )
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_user_token(secret: str, token: str, now=None) -> tuple[str, int]:
    """(user id, generation) of a valid token; TokenError says why one is not."""
    now = time.time() if now is None else now
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise TokenError("token is not <payload>.<signature>")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        claims = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("token is not valid base64url JSON") from None
    if not hmac.compare_digest(expected, given):
        raise TokenError("token signature does not match")
    if not isinstance(claims, dict) or not {"uid", "gen", "exp"} <= claims.keys():
        raise TokenError("token lacks uid, gen or exp")
    if not isinstance(claims["exp"], int) or claims["exp"] <= now:
        raise TokenError("token has expired")
    return str(claims["uid"]), int(claims["gen"])


# --- the enrolment rate limit -----------------------------------------------------------------


def enrol_allowed(address: str, limit: int, window_s: int, now: datetime) -> bool:
    """False when `address` has failed `limit` enrolments within the last `window_s` seconds.
    Counted in the database, so every worker process sees the same figure."""
    from .models.core import EnrolAttempt

    since = now - timedelta(seconds=window_s)
    failures = (
        EnrolAttempt.select()
        .where((EnrolAttempt.address == address) & (EnrolAttempt.at > since))
        .count()
    )
    return failures < limit


def record_enrol_failure(address: str, now: datetime, window_s: int) -> None:
    """Count a failure; failures older than the window (or a day) are forgotten."""
    from .models.core import EnrolAttempt

    EnrolAttempt.create(address=address[:64], at=now)
    keep = timedelta(seconds=max(window_s, 86400))
    EnrolAttempt.delete().where(EnrolAttempt.at < now - keep).execute()
