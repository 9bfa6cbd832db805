"""Secrets: hashes, digests, staff tokens, and the sign-in API against a real server."""

from __future__ import annotations

import time

import pytest

from cloud_oms import security
from retail.pins import hash_secret


def test_passwords_are_salted_slow_hashes_in_the_shared_format():
    one = security.hash_password("correct horse battery")
    two = security.hash_password("correct horse battery")
    assert one != two  # salted
    scheme, n, r, p, salt, digest = one.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert security.verify_password("correct horse battery", one)
    assert not security.verify_password("correct horse batterY", one)
    assert not security.verify_password("anything", "bcrypt$whatever")
    with pytest.raises(ValueError, match="at least 8 characters"):
        security.hash_password("short")


def test_pin_hashes_from_a_till_are_recognised():
    assert security.is_secret_hash(hash_secret("4821"))
    assert security.is_secret_hash(hash_secret("4821", n=2**4))
    for bad in (
        "4821",
        "scrypt$16384$8$1$zz$00",
        "scrypt$1000$8$1$" + "00" * 16 + "$" + "00" * 32,
        "md5$1$1$1$00$00",
        "scrypt$16384$8$1$" + "00" * 16,
    ):
        assert not security.is_secret_hash(bad), bad


def test_tokens_and_keys_are_long_random_and_kept_as_digests():
    tokens = {security.new_terminal_token() for _ in range(50)}
    keys = {security.new_api_key() for _ in range(50)}
    assert len(tokens) == len(keys) == 50
    assert all(t.startswith("kt_") and len(t) >= 45 for t in tokens)
    assert all(k.startswith("kak_") and len(k) >= 45 for k in keys)
    token = next(iter(tokens))
    assert security.digest(token) == security.digest(token) != token
    assert len(security.digest(token)) == 64
    assert security.same_digest(security.digest(token), security.digest(token))
    assert not security.same_digest(security.digest(token), security.digest(token + "x"))


def test_enrol_codes_are_typeable_and_normalised():
    code = security.new_enrol_code()
    assert len(code) == 14 and code.count("-") == 2
    assert set(code.replace("-", "")) <= set(security.ENROL_ALPHABET)
    loose = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert security.enrol_code_digest(loose) == security.enrol_code_digest(code)
    assert security.enrol_code_digest(code) != security.digest(code)


def test_staff_tokens_are_signed_and_expire():
    secret = "s" * 40
    token = security.sign_user_token(secret, "user-1", 3, ttl_s=60, now=1000)
    assert security.read_user_token(secret, token, now=1059) == ("user-1", 3)
    with pytest.raises(security.TokenError, match="expired"):
        security.read_user_token(secret, token, now=1060)
    with pytest.raises(security.TokenError, match="signature does not match"):
        security.read_user_token("t" * 40, token, now=1000)
    _, _, sig = token.partition(".")
    forged = security.sign_user_token(secret, "user-2", 3, ttl_s=60, now=1000).split(".")[0]
    with pytest.raises(security.TokenError, match="signature does not match"):
        security.read_user_token(secret, f"{forged}.{sig}", now=1000)
    for garbage, reason in (("nodot", "not <payload>.<signature>"), ("a.b", "base64url JSON")):
        with pytest.raises(security.TokenError, match=reason):
            security.read_user_token(secret, garbage, now=1000)


# --- the sign-in API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def users(oms_server):
    from cloud_oms import admin

    with oms_server.bind():
        admin.add_store("SEC", "Toko Sec")
        admin.create_user("Owner@Toko.id", "owner-password", role="owner")
        admin.create_user("kasir@toko.id", "staff-password", role="staff", store="SEC")
    return oms_server


def sign_in(server, email, password):
    with server.client() as http:
        return http.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_sign_in_gives_a_short_lived_token(users):
    answer = sign_in(users, "owner@toko.id", "owner-password")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["role"] == "owner"
    assert 0 < body["expires_in"] <= 24 * 3600


def test_wrong_email_and_wrong_password_look_the_same(users):
    wrong_password = sign_in(users, "owner@toko.id", "nope-nope")
    unknown = sign_in(users, "nobody@toko.id", "owner-password")
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json() == unknown.json() == {"detail": "email or password is wrong"}


def test_sign_in_body_errors_name_the_field(users):
    with users.client() as http:
        answer = http.post("/api/v1/auth/token", json={"email": "owner@toko.id"})
        extra = http.post("/api/v1/auth/token", json={"email": "a@b.c", "password": "x", "x": 1})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "password"]
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "x"]


def test_revoked_and_disabled_users_are_refused_at_once(users):
    from cloud_oms.models.core import User

    token = sign_in(users, "kasir@toko.id", "staff-password").json()["access_token"]
    with users.client(token=token) as http:
        assert http.post("/api/v1/auth/revoke").status_code == 204
        again = http.post("/api/v1/auth/revoke")
    assert again.status_code == 401 and "revoked" in again.json()["detail"]

    token = sign_in(users, "kasir@toko.id", "staff-password").json()["access_token"]
    with users.bind():
        User.update(active=False).where(User.email == "kasir@toko.id").execute()
    try:
        with users.client(token=token) as http:
            refused = http.post("/api/v1/auth/revoke")
        assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
        assert sign_in(users, "kasir@toko.id", "staff-password").status_code == 401
    finally:
        with users.bind():
            User.update(active=True).where(User.email == "kasir@toko.id").execute()


def test_expired_and_foreign_tokens_are_refused(users):
    from cloud_oms.models.core import User

    with users.bind():
        user = User.get(User.email == "owner@toko.id")
    expired = security.sign_user_token(
        "test-secret-not-for-production-0123456789abcdef", user.id, 0, 60, now=time.time() - 120
    )
    forged = security.sign_user_token("another-secret-of-at-least-32-chars!!", user.id, 0, 60)
    for token, reason in ((expired, "expired"), (forged, "signature"), ("kt_terminal", "payload")):
        with users.client(token=token) as http:
            answer = http.post("/api/v1/auth/revoke")
        assert answer.status_code == 401 and reason in answer.json()["detail"], answer.text
