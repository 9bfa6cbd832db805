"""Schemathesis over /openapi.json against the real server: no request may cause a 5xx.

Every operation runs with credentials for all three kinds of caller (a terminal token, an
owner's sign-in token, a channel API key), so generated requests get past authentication and
reach the handlers. Bounded so that the whole module stays near a minute on a shared 2-core
machine: valid requests (POSITIVE) on both backends; requests made invalid on purpose
(NEGATIVE) on PostgreSQL only — they exercise validation, which is the same code on both, and
PostgreSQL is the stricter store (NUL characters, integer ranges), while values that pass
validation reach SQLite in the positive run. `EXAMPLES` per operation and mode; operations with
large bodies (catalog merge, event batches, orders) or a deliberately slow handler (sign-in
hashes a password) get `FEW` — each example of theirs costs several of the others.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
FEW = 4
HEAVY = {
    "POST /api/v1/sync/catalog",
    "POST /api/v1/sync/events",
    "POST /api/v1/auth/token",
    "POST /api/v1/orders",
    "POST /api/v1/orders/phone",
    "POST /api/v1/purchase-orders",
}
MODES = {
    "sqlite": [GenerationMode.POSITIVE],
    "postgres": [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
}


@pytest.fixture(scope="module")
def api_credentials(oms_server):
    from cloud_oms import admin

    enrolled = oms_server.enrol("FUZZ", "Kasir")
    with oms_server.bind():
        admin.create_user("owner@fuzz.test", "fuzz-password-1", role="owner")
        admin.add_channel("fuzzshop", store="FUZZ")
        _, api_key = admin.create_api_key("fuzzshop")
    with oms_server.client() as http:
        signed_in = http.post(
            "/api/v1/auth/token", json={"email": "owner@fuzz.test", "password": "fuzz-password-1"}
        ).json()
    return {
        "terminal": f"Bearer {enrolled['token']}",
        "owner": f"Bearer {signed_in['access_token']}",
        "api_key": api_key,
    }


def _headers(case, credentials) -> dict:
    path = case.operation.path
    terminal = path.startswith(("/api/v1/sync", "/api/v1/terminals"))
    headers = {
        "Authorization": credentials["terminal" if terminal else "owner"],
        "X-Api-Key": credentials["api_key"],
    }
    for name, value in (case.headers or {}).items():
        if name.lower() != "authorization":
            headers[name] = value
    return headers


def _fuzz(operation, mode, server, credentials, failures: list[str], called: set) -> None:
    """Run one operation's examples in one mode; failures are collected, not stopped at."""

    @hypothesis.settings(
        max_examples=FEW if operation.label in HEAVY else EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        called.add(case.operation.label)
        try:
            case.call_and_validate(
                base_url=server.url,
                headers=_headers(case, credentials),
                checks=[not_a_server_error],
            )
        except AssertionError as exc:  # schemathesis's failure groups are AssertionErrors
            failures.append(f"{case.operation.label} ({mode.name}): {str(exc)[:600]}")
            raise

    try:
        run()
    except AssertionError:
        pass  # recorded in failures
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to negate: an operation without parameters or body


def test_no_server_errors(oms_server, api_credentials):
    # The pytest plugin (schemathesis.pytest.from_fixture) does not run under pytest 9, so each
    # operation's strategy is driven by Hypothesis here.
    schema = schemathesis.openapi.from_url(oms_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert len(operations) >= 8
    assert labels >= HEAVY, f"HEAVY names operations the API no longer has: {HEAVY - labels}"
    failures: list[str] = []
    called: set[str] = set()
    for mode in MODES[oms_server.backend]:
        for operation in operations:
            _fuzz(operation, mode, oms_server, api_credentials, failures, called)
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + oms_server.log()[-3000:]
    assert called == labels, f"operations never called: {sorted(labels - called)}"
