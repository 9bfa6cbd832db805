"""Every web page in one router, for the app factory.

    from cloud_oms.web.routes import router as web_router
    app.include_router(web_router)

`router` carries every page; none of them appears in the OpenAPI document. Sign-in at
`/login`, orders at `/orders`, the tracking page at `/t/<token>`. See `core` for sessions, CSRF
and the login rate limit.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    admin_pages,
    auth,
    catalog_pages,
    fleet,
    home,
    order_pages,
    phone,
    purchasing,
    report_pages,
    stock_pages,
    tracking,
    unmatched,
)

router = APIRouter(include_in_schema=False)
# phone before order_pages: /orders/new is not an order id.
for _module in (
    auth,
    home,
    phone,
    order_pages,
    catalog_pages,
    stock_pages,
    purchasing,
    report_pages,
    fleet,
    unmatched,
    tracking,
    admin_pages,
):
    router.include_router(_module.router)

__all__ = ["router"]
