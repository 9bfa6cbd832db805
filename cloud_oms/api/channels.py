"""Shop webhooks.

    POST /api/v1/channels/woocommerce/{channel}
    X-WC-Webhook-Signature: <base64 HMAC-SHA256 of the raw body with the channel's secret>
    <WooCommerce REST v3 order JSON>
    → 201 {"outcome": "created", "order": {...}}   first delivery
    → 200 {"outcome": "unchanged" | "updated" | "ignored", ...}   redelivery / status change
    → 409 {"detail": "order SHOP-727 is shipped; cannot cancel"}

`{channel}` is the channel's code (or id). The signature is checked before the body is parsed;
a wrong or missing one is 401 and nothing is stored. WooCommerce's ping on webhook creation
(`webhook_id=<n>`, form-encoded, unsigned) is answered 200 and changes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, HTTPException, Path, Request, Response

from .. import channels, orders
from .. import db as dbmod
from ..models.core import Channel, Store
from .orders import _errors, _no_nul

router = APIRouter(tags=["channels"])

_PING = re.compile(rb"^webhook_id=\d+$")


@router.post(
    "/api/v1/channels/woocommerce/{channel}",
    status_code=201,
    responses={
        200: {"description": "redelivery, status change, ping or ignored status"},
        401: {"description": "signature missing or wrong"},
        404: {"description": "no such WooCommerce channel"},
        409: {"description": "illegal status change, changed content or out of stock"},
    },
)
async def woocommerce_webhook(
    channel: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,36}$")],
    request: Request,
    response: Response,
    x_wc_webhook_signature: str | None = Header(default=None),
    x_wc_webhook_topic: str | None = Header(default=None),
) -> dict:
    body = await request.body()
    # The database work is blocking: run it on the worker threads like a sync endpoint.
    return await anyio.to_thread.run_sync(
        _handle, channel, body, response, x_wc_webhook_signature, x_wc_webhook_topic
    )


def _handle(code: str, body: bytes, response: Response, signature, topic) -> dict:
    with dbmod.session():
        channel = Channel.get_or_none((Channel.code == code) | (Channel.id == code))
        if channel is None or channel.kind != "woocommerce":
            raise HTTPException(404, detail=f"no WooCommerce channel {code!r}")
        if _PING.match(body.strip()):
            response.status_code = 200
            return {"outcome": "ping"}
        if not channel.webhook_secret:
            raise HTTPException(409, detail=f"channel {channel.code} has no webhook secret set")
        if not channels.verify_woocommerce(channel.webhook_secret, body, signature):
            raise HTTPException(401, detail="X-WC-Webhook-Signature is missing or wrong")
        if channel.store_id is None:
            raise HTTPException(409, detail=f"channel {channel.code} has no fulfilling store")
        try:
            payload = json.loads(body)
            _no_nul(payload, "")
        except (ValueError, UnicodeDecodeError) as exc:
            msg = str(exc) if "NUL" in str(exc) else "body is not JSON"
            raise HTTPException(
                422, detail=[{"loc": ["body"], "msg": msg, "type": "value_error"}]
            ) from None
        if topic and topic not in ("order.created", "order.updated", "order.restored"):
            response.status_code = 200
            return {"outcome": "ignored", "reason": f"topic {topic} is not handled"}
        store = Store.get_by_id(channel.store_id)
        with _errors(), dbmod.atomic():
            mapped = channels.woocommerce_order(channel, store, payload)
            if mapped is None:
                response.status_code = 200
                return {"outcome": "ignored", "reason": f"status {payload.get('status')!r}"}
            spec, status, payment = mapped
            order, outcome = orders.upsert_channel_order(
                channel, spec, status, f"channel:{channel.code}", payment
            )
            if outcome != "created":
                response.status_code = 200
            return {"outcome": outcome, "order": orders.order_as_dict(order)}
