"""The executor-compatible routes keep the Autopack executor's contract."""

import pytest

from metrics.models import DashboardEvent, PhaseMetrics, Run
from metrics.selectors import EXECUTOR_STATUS_BY_RUN_STATE
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory

pytestmark = pytest.mark.django_db

START_BODY = {
    "run": {
        "run_id": "build130-telemetry",
        "safety_profile": "normal",
        "run_scope": "multi_tier",
        "token_cap": None,
        "git_commit_sha": "3f9a2c1d",
        "git_branch": "main",
        "model_mapping_hash": "mm-1",
    },
    "tiers": [
        {"tier_id": "T1", "tier_index": 0, "name": "Core", "description": None},
        {"tier_id": "T2", "tier_index": 1, "name": "Docs", "description": "docs"},
    ],
    "phases": [
        {
            "phase_id": "build130-phase0-circuit-breaker",
            "phase_index": 0,
            "tier_id": "T1",
            "name": "Circuit breaker",
            "description": None,
            "task_category": None,
            "complexity": "medium",
            "builder_mode": None,
            "scope": {"paths": ["src/autopack/circuit_breaker.py"], "read_only_context": []},
        },
        {"phase_id": "build130-phase1-docs", "phase_index": 1, "tier_id": "T2", "name": "Docs"},
    ],
}


def start(client, body=START_BODY):
    return client.post("/runs/start", body, format="json")


def test_start_creates_run_in_executor_shape(authed_client):
    response = start(authed_client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == "build130-telemetry"
    assert body["token_cap"] == 5_000_000  # null means "use the default"
    assert (body["git_commit_sha"], body["model_mapping_hash"]) == ("3f9a2c1d", "mm-1")
    tier_pks = {tier["tier_id"]: tier["id"] for tier in body["tiers"]}
    assert all(isinstance(pk, int) for pk in tier_pks.values())
    first = body["phases"][0]
    assert first["tier_id"] == tier_pks["T1"]
    assert (first["description"], first["task_category"], first["builder_mode"]) == ("", "", "")
    assert body["tiers"][0]["phases"][0]["phase_id"] == "build130-phase0-circuit-breaker"
    assert body["tiers"][1]["phases"][0]["phase_id"] == "build130-phase1-docs"


def test_start_existing_run_is_400_as_the_executor_expects(authed_client):
    start(authed_client)
    response = start(authed_client)
    assert response.status_code == 400
    assert "already exists" in response.json()["run_id"][0]


def test_start_phase_with_unknown_tier_is_400_and_writes_nothing(authed_client):
    body = {**START_BODY, "phases": [{**START_BODY["phases"][0], "tier_id": "T9"}]}
    response = start(authed_client, body)
    assert response.status_code == 400
    assert not Run.objects.exists()


def test_start_without_run_id_is_400(authed_client):
    response = start(authed_client, {"run": {}, "tiers": [], "phases": []})
    assert response.status_code == 400
    assert "run_id" in response.json()["run"]


def test_start_needs_a_key(api_client):
    assert start(api_client).status_code == 401


def test_get_run_lists_phases_and_ledger_total(authed_client):
    row = PhaseMetricsFactory()
    PhaseMetricsFactory(phase=row.phase, attempt=2, base_tokens=5000)
    body = authed_client.get(f"/runs/{row.run_id}").json()
    assert body["tokens_used"] == (100 + 20 + 3 + 1000) + (100 + 20 + 3 + 5000)
    phase = body["phases"][0]
    assert set(phase) >= {
        "phase_id",
        "state",
        "phase_index",
        "tier_id",
        "name",
        "description",
        "scope",
        "task_category",
        "complexity",
        "builder_mode",
        "updated_at",
    }
    assert phase["tier_id"] == row.phase.tier_id


def test_get_unknown_run_is_404(authed_client):
    assert authed_client.get("/runs/no-such-run").status_code == 404


def update_status(client, run_id, phase_id, body):
    return client.post(f"/runs/{run_id}/phases/{phase_id}/update_status", body, format="json")


def coarse_status(client, run_id: str) -> tuple[str, str]:
    body = client.get(f"/runs/{run_id}/status").json()
    return body["state"], body["run_state"]


def test_update_status_rolls_run_forward_to_success(authed_client):
    start(authed_client)
    run_id = "build130-telemetry"
    phase0, phase1 = (p["phase_id"] for p in START_BODY["phases"])
    response = update_status(
        authed_client, run_id, phase0, {"state": "EXECUTING", "builder_attempts": 1}
    )
    assert response.status_code == 200
    assert response.json()["phase"]["state"] == "EXECUTING"
    assert coarse_status(authed_client, run_id) == ("RUNNING", "PHASE_EXECUTION")
    update_status(authed_client, run_id, phase0, {"state": "COMPLETE"})
    update_status(authed_client, run_id, phase1, {"state": "COMPLETE"})
    assert coarse_status(authed_client, run_id) == ("COMPLETE", "DONE_SUCCESS")
    run = Run.objects.get(pk=run_id)
    assert run.started_at is not None and run.completed_at is not None


def test_update_status_failed_phase_fails_the_run(authed_client):
    start(authed_client)
    run_id = "build130-telemetry"
    for phase in START_BODY["phases"]:
        update_status(authed_client, run_id, phase["phase_id"], {"state": "FAILED"})
    assert coarse_status(authed_client, run_id) == ("FAILED", "DONE_FAILED_REQUIRES_HUMAN_REVIEW")


def test_update_status_tokens_used_is_set_not_added(authed_client):
    phase = PhaseFactory(builder_attempts=1)
    body = {"state": "EXECUTING", "tokens_used": 4200}
    for _ in range(3):  # the executor retries POSTs
        assert update_status(authed_client, phase.run_id, phase.phase_id, body).status_code == 200
    assert list(PhaseMetrics.objects.values_list("attempt", "base_tokens")) == [(1, 4200)]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"state": "NOPE"}, "state"),
        ({}, "state"),
        ({"state": "GATE", "tokens_used": -1}, "tokens_used"),
    ],
)
def test_update_status_bad_body_is_400(authed_client, body, field):
    phase = PhaseFactory()
    response = update_status(authed_client, phase.run_id, phase.phase_id, body)
    assert response.status_code == 400 and field in response.json()


def test_update_status_unknown_phase_is_404(authed_client):
    run = RunFactory()
    assert update_status(authed_client, run.id, "ghost", {"state": "GATE"}).status_code == 404


def test_builder_result_is_stored_as_event_with_base_tokens(authed_client):
    phase = PhaseFactory()
    response = authed_client.post(
        f"/runs/{phase.run_id}/phases/{phase.phase_id}/builder_result",
        {"status": "success", "builder_attempts": 1, "tokens_used": 900, "patch_content": "diff"},
        format="json",
    )
    assert response.status_code == 200
    event = DashboardEvent.objects.get(pk=response.json()["event_id"])
    assert event.event_type == "BUILDER_RESULT" and event.payload["patch_size"] == 4
    assert PhaseMetrics.objects.get(phase=phase).base_tokens == 900


def test_auditor_result_is_stored_with_second_opinion_tokens(authed_client):
    phase = PhaseFactory(builder_attempts=2)
    response = authed_client.post(
        f"/runs/{phase.run_id}/phases/{phase.phase_id}/auditor_result",
        {"review_notes": "looks fine", "recommendation": "approve", "tokens_used": 321},
        format="json",
    )
    assert response.status_code == 200
    row = PhaseMetrics.objects.get(phase=phase)
    assert (row.attempt, row.second_opinion_tokens) == (2, 321)


@pytest.mark.parametrize(
    "endpoint, body, field",
    [
        ("builder_result", {"tokens_used": 5}, "status"),
        ("builder_result", {"status": "success", "tokens_used": "lots"}, "tokens_used"),
        ("auditor_result", {"review_notes": "x", "recommendation": "maybe"}, "recommendation"),
        ("auditor_result", {"recommendation": "approve"}, "review_notes"),
    ],
)
def test_malformed_result_is_422_naming_the_field(authed_client, endpoint, body, field):
    phase = PhaseFactory()
    response = authed_client.post(
        f"/runs/{phase.run_id}/phases/{phase.phase_id}/{endpoint}", body, format="json"
    )
    assert response.status_code == 422
    assert field in response.json()
    assert not DashboardEvent.objects.exists() and not PhaseMetrics.objects.exists()


@pytest.mark.parametrize("run_state, expected", sorted(EXECUTOR_STATUS_BY_RUN_STATE.items()))
def test_status_maps_every_run_state(authed_client, run_state, expected):
    run = RunFactory(state=run_state)
    assert coarse_status(authed_client, run.id) == (expected, run_state)


def test_status_mapping_covers_all_states():
    assert set(EXECUTOR_STATUS_BY_RUN_STATE) == set(Run.State.values)
