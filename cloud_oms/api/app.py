"""The OMS web application.

    $ uvicorn cloud_oms.api.app:create_app --factory --port 8000
    $ kasir-oms serve --port 8000 --workers 4          # the same, with migrations on request

    >>> app = create_app("sqlite:///kasir-oms.sqlite3")          # doctest: +SKIP

`create_app` binds the models to the database (`DATABASE_URL` unless given), refuses to start
on a database whose schema is behind (run `kasir-oms migrate`), and mounts the routers:
terminals (`/api/v1/terminals`, `/api/v1/sync`), till releases (`/api/v1/sync/releases`), staff
sign-in (`/api/v1/auth`), orders and channels. Plus `/health`, `/metrics` (Prometheus),
`/openapi.json` and `/docs`.

Errors: a body that fails validation is 422 with FastAPI's `detail` list, each item naming the
field (`loc`) and the reason (`msg`); an illegal order transition is 409 naming the current
state; a write that collides with a stored record (a unique key) is 409, never a 500.

Workers are stateless: everything shared lives in the database, so several `uvicorn` workers
on one PostgreSQL behave as one. Each worker thread holds at most one database connection, and
the thread pool is capped at `KASIR_OMS_THREADS`.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from peewee import DataError, IntegrityError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from retail.ids import utcnow

from .. import db as dbmod
from .. import migrations
from ..config import Settings
from ..models.core import Setting, Terminal
from ..models.orders import Notification
from ..security import new_api_key
from ..state import IllegalTransition

VERSION = "0.1.0"


class Metrics:
    """Per-process Prometheus metrics; the gauges are read from the database at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "kasir_oms_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.events = Counter(
            "kasir_oms_events_ingested_total",
            "Till events received, by type and outcome",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "kasir_oms_notification_outbox_depth",
            "Customer notifications waiting to be sent",
            registry=self.registry,
        )
        self.stale = Gauge(
            "kasir_oms_tills_not_seen",
            "Enrolled tills without a heartbeat within KASIR_OMS_STALE_AFTER seconds",
            registry=self.registry,
        )

    def refresh(self, stale_after_s: int) -> None:
        with dbmod.session():
            self.outbox.set(Notification.select().where(Notification.status == "pending").count())
            cutoff = utcnow() - timedelta(seconds=stale_after_s)
            self.stale.set(
                Terminal.select()
                .where(
                    Terminal.enrolled_at.is_null(False)
                    & Terminal.revoked_at.is_null()
                    & (Terminal.last_seen_at.is_null() | (Terminal.last_seen_at < cutoff))
                )
                .count()
            )


class _Timing:
    """ASGI middleware timing each request by its route template (not its raw path)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(scope["method"], template, str(status[0])).observe(
                time.perf_counter() - start
            )


def _user_token_secret(settings: Settings) -> str:
    """KASIR_OMS_SECRET, else one generated once and kept in the database for every worker."""
    if settings.secret:
        return settings.secret
    Setting.insert(key="user_token_secret", value=new_api_key()).on_conflict_ignore().execute()
    return Setting.get_by_id("user_token_secret").value


def create_app(database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    database = dbmod.connect(database_url or settings.database_url)
    with dbmod.session():
        version = migrations.current_version(database)
        if version < migrations.LATEST:
            raise RuntimeError(
                f"database schema is at version {version}, this OMS needs "
                f"{migrations.LATEST}: run `kasir-oms migrate`"
            )
        secret = _user_token_secret(settings)

    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

    app = FastAPI(
        title="Kasir OMS",
        version=VERSION,
        description="Order management for Kasir tills, online shops and phone orders.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.user_token_secret = secret
    app.state.metrics = metrics

    @app.exception_handler(IllegalTransition)
    async def _illegal(request: Request, exc: IllegalTransition):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        return JSONResponse(
            {"detail": f"conflicts with a stored record: {exc.args[0] if exc.args else exc}"},
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # A value the column cannot hold (a number out of range, say) that validation let by.
        return JSONResponse(
            {
                "detail": f"a value does not fit its stored field: {exc.args[0] if exc.args else exc}"
            },
            status_code=422,
        )

    @app.exception_handler(UnicodeEncodeError)
    async def _surrogate(request: Request, exc: UnicodeEncodeError):
        # JSON may carry a lone UTF-16 surrogate ("\\ud800") that no database can store.
        return JSONResponse(
            {"detail": "a text field holds an invalid character (a lone UTF-16 surrogate)"},
            status_code=422,
        )

    @app.get("/health", tags=["service"], summary="Liveness and database check")
    def health() -> dict:
        with dbmod.session() as database:
            version = migrations.current_version(database)
        return {"status": "ok", "version": VERSION, "schema_version": version}

    @app.get("/metrics", tags=["service"], response_class=PlainTextResponse)
    def prometheus_metrics() -> PlainTextResponse:
        metrics.refresh(settings.stale_after_s)
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from . import auth, channels, orders, releases, terminal

    for module in (terminal, releases, auth, orders, channels):
        app.include_router(module.router)

    # The owner's and staff's pages (server-rendered; kept out of /openapi.json).
    from ..web.routes import router as web_router

    app.include_router(web_router)

    app.add_middleware(_Timing, metrics=metrics)
    return app
