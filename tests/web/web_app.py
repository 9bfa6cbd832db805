"""The OMS app with the web pages mounted, for the tests (until `create_app` mounts them).

$ uvicorn web_app:create_app --factory
"""

from __future__ import annotations

from starlette.routing import NoMatchFound

from cloud_oms.api.app import create_app as create_api_app


def create_app(database_url: str | None = None, settings=None):
    app = create_api_app(database_url, settings)
    try:
        app.url_path_for("web_login")
    except NoMatchFound:
        from cloud_oms.web.routes import router

        app.include_router(router)
    return app
