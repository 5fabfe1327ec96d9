"""Property-based fuzzing of the whole API against its own OpenAPI schema.

Schemathesis generates valid and invalid requests for every operation; the API
must never answer 5xx and every response must match the published schema.
Requests go through the real WSGI application on the real test database.
"""

import random

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from autopack_site.testing import running_server, subprocess_env
from metrics.tests.factories import PhaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

FUZZ_RUN_ID = "fuzz-run"
FUZZ_PHASE_ID = "fuzz-phase"


@pytest.fixture
def api_schema(db, monkeypatch, settings, tmp_path):
    from autopack_site.wsgi import application

    # Switches on and a replay executor configured: their 503s are deliberate and
    # tested on their own. Replays would report to a real server with Phase 6 on
    # (nothing is executed: the test's transaction never commits, so nothing starts).
    monkeypatch.setenv("AUTOPACK_ENABLE_PHASE6_METRICS", "1")
    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", "1")
    settings.AUTOPACK_EXECUTOR_COMMAND = "python -c pass"
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    PhaseFactory(run__id=FUZZ_RUN_ID, phase_id=FUZZ_PHASE_ID)
    # Keep the test's connection (and its transaction) across WSGI requests,
    # as Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    target = subprocess_env(
        AUTOPACK_ENABLE_PHASE6_METRICS="1", DATABASE_URL=f"sqlite:///{tmp_path / 'target.db'}"
    )
    try:
        with running_server(target) as url:
            settings.AUTOPACK_API_URL = url
            yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_errors_and_matches_its_schema(case, api_key):
    # Aim most requests at a run and phase that exist, so the fuzzer gets past 404s.
    chooser = random.Random(repr(case.body) + repr(case.query))
    for name in ("id", "run_id"):
        if name in (case.path_parameters or {}) and chooser.random() < 0.7:
            case.path_parameters[name] = FUZZ_RUN_ID
    if "phase_id" in (case.path_parameters or {}) and chooser.random() < 0.7:
        case.path_parameters["phase_id"] = FUZZ_PHASE_ID
    response = case.call_and_validate(
        headers={"X-API-Key": api_key},
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.response_schema_conformance,
            schemathesis.checks.content_type_conformance,
        ],
    )
    # The checks above raise on failure; state the core promise here as well.
    assert response.status_code < 500, response.text[:500]
