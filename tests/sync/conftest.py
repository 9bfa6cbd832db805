"""The till's link to a real OMS: the OMS fixtures (real uvicorn, SQLite and PostgreSQL)
are shared with tests/oms."""

from __future__ import annotations

from tests.oms.conftest import (  # noqa: F401 - fixtures are found by name
    OmsServer,
    _oms_templates,
    fresh_database,
    oms_backend,
    oms_server,
)
