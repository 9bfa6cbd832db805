"""Staff sign-in: e-mail and password in, a short-lived bearer token out.

    POST /api/v1/auth/token   {"email": "ani@toko.id", "password": "..."}
    → 200 {"access_token": "...", "token_type": "bearer", "expires_in": 28800,
           "user_id": "...", "role": "owner"}
    POST /api/v1/auth/revoke  (Bearer) → 204; every token of that user is refused from now on

A wrong e-mail and a wrong password get the same answer, after the same slow hash, so the
endpoint does not tell which addresses have accounts.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import db as dbmod
from ..models.core import User
from ..security import hash_password, sign_user_token, verify_password
from .deps import current_user

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Verified against when the e-mail is unknown, so both failures cost the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user_id: str
    role: str


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"description": "wrong e-mail or password"}},
)
def issue_token(body: TokenRequest, request: Request) -> TokenResponse:
    with dbmod.session():
        user = User.get_or_none(User.email == body.email.strip().lower())
    if user is None or not user.active:
        verify_password(body.password, _DUMMY_HASH)
        raise HTTPException(401, detail="email or password is wrong")
    if not verify_password(body.password, user.password_hash):
        raise HTTPException(401, detail="email or password is wrong")
    ttl = request.app.state.settings.user_token_ttl_s
    token = sign_user_token(
        request.app.state.user_token_secret, user.id, user.token_generation, ttl
    )
    return TokenResponse(access_token=token, expires_in=ttl, user_id=user.id, role=user.role)


@router.post("/revoke", status_code=204, responses={401: {"description": "not signed in"}})
def revoke_tokens(user: User = Depends(current_user)) -> Response:
    with dbmod.session(), dbmod.atomic():
        User.update(token_generation=User.token_generation + 1).where(User.id == user.id).execute()
    return Response(status_code=204)
