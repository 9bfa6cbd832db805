"""Schemathesis over /openapi.json against the real server: no request may cause a 5xx.

Every operation runs with credentials for all three kinds of caller (a terminal token, an
owner's sign-in token, a channel API key), so generated requests get past authentication and
reach the handlers. Bounded: `MAX_EXAMPLES` per operation, backend and generation mode
(valid requests, and requests schemathesis makes invalid on purpose).
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

# per operation, backend and mode: ~45 operations x 2 backends x (12 + 8) examples.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}


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


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(oms_server, api_credentials, mode):
    # The pytest plugin (schemathesis.pytest.from_fixture) does not run under pytest 9, so each
    # operation's strategy is driven by Hypothesis here; failures are collected, not stopped at.
    schema = schemathesis.openapi.from_url(oms_server.url + "/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @hypothesis.settings(
            max_examples=MAX_EXAMPLES[mode],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            headers = _headers(case, api_credentials)
            try:
                case.call_and_validate(
                    base_url=oms_server.url, headers=headers, checks=[not_a_server_error]
                )
            except AssertionError as exc:  # schemathesis's failure groups are AssertionErrors
                failures.append(f"{case.operation.label}: {str(exc)[:600]}")
                raise

        try:
            run()
        except AssertionError:
            pass  # recorded in failures
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing to negate: an operation without parameters or body
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + oms_server.log()[-3000:]
