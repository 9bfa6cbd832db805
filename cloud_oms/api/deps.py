"""Who is calling: FastAPI dependencies for the three kinds of caller.

    @router.post("/api/v1/sync/heartbeat")
    def heartbeat(body: Heartbeat, terminal: Terminal = Depends(current_terminal)): ...

- `current_terminal`: `Authorization: Bearer kt_...` → the enrolled, unrevoked `Terminal`;
  its store is `terminal.store`. A revoked token is refused on the next request.
- `current_user` / `current_owner`: `Authorization: Bearer <staff token>` from
  `POST /api/v1/auth/token`; a disabled user or a bumped token generation is refused at once.
- `current_channel`: `X-Api-Key: kak_...` (or `Authorization: Bearer kak_...`) → the key's
  `Channel`; keys are scoped to one channel.

Secrets are looked up by SHA-256 digest and compared again in constant time. Each dependency
opens this thread's connection for its lookup only (see `cloud_oms.db`).
"""

from __future__ import annotations

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from retail.ids import utcnow

from .. import db as dbmod
from ..models.core import ApiKey, Channel, Store, Terminal, User
from ..security import (
    API_KEY_PREFIX,
    TERMINAL_TOKEN_PREFIX,
    TokenError,
    digest,
    read_user_token,
    same_digest,
)

bearer = HTTPBearer(auto_error=False, description="a terminal token or a staff sign-in token")


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, detail=reason, headers={"WWW-Authenticate": "Bearer"})


def _bearer_secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise _unauthorized("Authorization: Bearer <token> header is missing")
    return credentials.credentials


def current_terminal(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Terminal:
    secret = _bearer_secret(credentials)
    if not secret.startswith(TERMINAL_TOKEN_PREFIX):
        raise _unauthorized("token is not a terminal token")
    wanted = digest(secret)
    with dbmod.session():
        terminal = (
            Terminal.select(Terminal, Store)
            .join(Store)
            .where(Terminal.token_digest == wanted)
            .get_or_none()
        )
    if terminal is None or not same_digest(terminal.token_digest, wanted):
        raise _unauthorized("terminal token is unknown or revoked")
    if terminal.revoked_at is not None:
        raise _unauthorized("terminal token is revoked")
    return terminal


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> User:
    secret = _bearer_secret(credentials)
    try:
        user_id, generation = read_user_token(request.app.state.user_token_secret, secret)
    except TokenError as exc:
        raise _unauthorized(f"staff token refused: {exc}") from None
    with dbmod.session():
        user = User.get_or_none(User.id == user_id)
    if user is None or not user.active:
        raise _unauthorized("staff token refused: the user is unknown or disabled")
    if user.token_generation != generation:
        raise _unauthorized("staff token refused: it has been revoked")
    return user


def current_owner(user: User = Depends(current_user)) -> User:
    if user.role != "owner":
        raise HTTPException(403, detail=f"user {user.email} is {user.role}; this needs an owner")
    return user


def current_channel(
    x_api_key: str | None = Header(default=None, description="the channel's API key"),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Channel:
    secret = x_api_key or (credentials.credentials if credentials else None)
    if not secret:
        raise _unauthorized("X-Api-Key header is missing")
    if not secret.startswith(API_KEY_PREFIX):
        raise _unauthorized("X-Api-Key is not an API key")
    wanted = digest(secret)
    with dbmod.session():
        key = ApiKey.get_or_none(ApiKey.digest == wanted)
        if key is None or not same_digest(key.digest, wanted):
            raise _unauthorized("API key is unknown")
        if key.revoked_at is not None:
            raise _unauthorized("API key is revoked")
        channel = Channel.get_by_id(key.channel_id)
        now = utcnow()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.update(last_used_at=now).where(ApiKey.id == key.id).execute()
    return channel
