"""The owner's and staff's web pages (server-rendered, Jinja2) and the customer's tracking page.

    from cloud_oms.web.routes import router as web_router
    app.include_router(web_router)

The router lives in `routes` so that importing a helper of this package (e.g. `notify_templates`
from the notification service) does not load every page and FastAPI with it.
"""
