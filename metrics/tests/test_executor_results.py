"""Both executor generations' results, free-text run scopes, a run's start and its
progress on /status (request bodies: metrics/tests/contract/, written from the
executor contract)."""

import copy

import pytest

from metrics.models import DashboardEvent, PhaseMetrics, Run
from metrics.selectors import consolidated_totals
from metrics.tests.contract import P0, P1, P2, RUN, body

pytestmark = pytest.mark.django_db


def post(client, phase_id: str, kind: str, payload: dict):
    return client.post(f"/runs/{RUN}/phases/{phase_id}/{kind}", payload, format="json")


def test_a_new_run_is_created_as_autopack_creates_it(contract_run):
    assert contract_run["state"] == "RUN_CREATED"
    assert contract_run["run_scope"] == "incremental" and contract_run["started_at"] is None


@pytest.mark.parametrize("scope", ["single_tier", "incremental", "Hotfix.v2", "a" * 50])
def test_any_sane_run_scope_is_accepted(authed_client, scope):
    start = body("run_start")
    start["run"]["run_scope"] = scope
    response = authed_client.post("/runs/start", start, format="json")
    assert response.status_code == 201, response.json()
    assert Run.objects.get(pk=RUN).run_scope == scope


@pytest.mark.parametrize("scope", ["", "a" * 51, "rm -rf /", "9lives", "new\nline", "<b>"])
def test_an_unsafe_run_scope_is_a_field_error_and_creates_nothing(authed_client, scope):
    start = body("run_start")
    start["run"]["run_scope"] = scope
    response = authed_client.post("/runs/start", start, format="json")
    assert response.status_code == 400
    assert "run_scope" in response.json()["run"]
    assert not Run.objects.exists()


def test_a_null_run_scope_means_the_default(authed_client):
    start = body("run_start")
    start["run"]["run_scope"] = None
    assert authed_client.post("/runs/start", start, format="json").status_code == 201
    assert Run.objects.get(pk=RUN).run_scope == "multi_tier"


@pytest.mark.parametrize("first_state", ["EXECUTING", "GATE", "COMPLETE", "FAILED", "SKIPPED"])
def test_the_first_phase_update_leaving_queued_starts_the_run(
    authed_client, contract_run, first_state
):
    response = authed_client.post(
        f"/runs/{RUN}/phases/{P0}/update_status", {"state": first_state}, format="json"
    )
    assert response.status_code == 200, response.json()
    stored = Run.objects.get(pk=RUN)
    assert stored.state == "PHASE_EXECUTION" and stored.started_at is not None
    started = stored.started_at
    authed_client.post(f"/runs/{RUN}/phases/{P1}/update_status", {"state": "EXECUTING"})
    assert Run.objects.get(pk=RUN).started_at == started  # started once


def test_a_phase_update_that_stays_queued_does_not_start_the_run(authed_client, contract_run):
    authed_client.post(
        f"/runs/{RUN}/phases/{P0}/update_status",
        {"state": "QUEUED", "builder_attempts": 1},
        format="json",
    )
    assert Run.objects.get(pk=RUN).state == "RUN_CREATED"


def test_a_2025_builder_result_is_accepted_and_loses_nothing(authed_client, contract_run):
    result = body("builder_result_2025")
    response = post(authed_client, P0, "builder_result", result)
    assert response.status_code == 200, response.json()
    event = DashboardEvent.objects.get(pk=response.json()["event_id"])
    assert event.event_type == "BUILDER_RESULT" and event.message == "Applied the telemetry patch"
    payload = event.payload
    assert payload["status"] == "success"
    assert payload["patch_size"] == len(result["output"])
    assert payload["files_changed"] == ["src/autopack/telemetry.py"]
    assert (payload["lines_added"], payload["lines_removed"]) == (2, 1)
    assert payload["tokens_used"] == 4321 and payload["duration_minutes"] == 1.5
    assert payload["probe_results"] == result["metadata"]["probe_results"]
    assert payload["suggested_issues"] == result["metadata"]["suggested_issues"]
    assert payload["allowed_paths"] == ["src/autopack/"]
    row = PhaseMetrics.objects.get(phase__phase_id=P0)
    assert row.base_tokens == 4321


def test_both_builder_shapes_store_the_same_fields(authed_client, contract_run):
    old = post(authed_client, P0, "builder_result", body("builder_result_2025")).json()
    new = post(authed_client, P1, "builder_result", body("builder_result_2026")).json()
    old_payload = DashboardEvent.objects.get(pk=old["event_id"]).payload
    new_payload = DashboardEvent.objects.get(pk=new["event_id"]).payload
    assert set(old_payload) == set(new_payload)


@pytest.mark.parametrize("status", ["SUCCESS", "Success", "success", "FAILED", "Needs_Review"])
def test_builder_status_is_case_insensitive(authed_client, contract_run, status):
    result = body("builder_result_2026")
    result["status"] = status
    response = post(authed_client, P1, "builder_result", result)
    assert response.status_code == 200, response.json()
    event = DashboardEvent.objects.get(pk=response.json()["event_id"])
    assert event.payload["status"] == status.lower()
    assert event.event_type == ("BUILDER_ERROR" if status == "FAILED" else "BUILDER_RESULT")


def test_success_alone_gives_the_status(authed_client, contract_run):
    result = body("builder_result_2025")
    del result["status"]
    result["success"] = False
    response = post(authed_client, P0, "builder_result", result)
    assert response.status_code == 200, response.json()
    assert DashboardEvent.objects.get(pk=response.json()["event_id"]).event_type == "BUILDER_ERROR"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"success": False}, "success"),  # status SUCCESS
        ({"success": "yes"}, "success"),
        ({"patch_content": "another patch"}, "output"),
        ({"tokens_used": 1}, "metadata.tokens_used"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"status": "maybe"}, "status"),
        # A 2025 value of the wrong JSON type is named by the 2025 key the client sent.
        ({"output": 7}, "output"),
        ({"files_modified": ["a.py", 3]}, "files_modified"),
        ({"metadata": {"run_id": 5, "lines_added": "12"}}, "metadata.lines_added"),
        ({"metadata": {"run_id": 5}}, "metadata.run_id"),
    ],
)
def test_a_contradictory_or_bad_builder_result_is_422_naming_the_key_and_writes_nothing(
    authed_client, contract_run, change, field
):
    result = {**body("builder_result_2025"), **change}
    response = post(authed_client, P0, "builder_result", result)
    assert response.status_code == 422
    assert field in response.json()
    assert not DashboardEvent.objects.exists() and not PhaseMetrics.objects.exists()


def test_a_resent_builder_result_changes_no_total(authed_client, contract_run):
    for _ in range(3):
        post(authed_client, P0, "builder_result", body("builder_result_2025"))
    assert consolidated_totals(RUN)["total_tokens"] == 4321


def test_unknown_metadata_stays_with_the_result(authed_client, contract_run):
    result = body("builder_result_2025")
    result["metadata"]["workspace"] = "/tmp/ws"
    response = post(authed_client, P0, "builder_result", result)
    payload = DashboardEvent.objects.get(pk=response.json()["event_id"]).payload
    assert payload["metadata"] == {"workspace": "/tmp/ws"}


def test_an_auditor_plain_approval_with_unknown_confidence_is_stored(authed_client, contract_run):
    response = post(authed_client, P0, "auditor_result", body("auditor_result_2026_plain_approval"))
    assert response.status_code == 200, response.json()
    event = DashboardEvent.objects.get(pk=response.json()["event_id"])
    assert event.payload["confidence"] == "unknown"
    assert PhaseMetrics.objects.get(phase__phase_id=P0).second_opinion_tokens == 300


@pytest.mark.parametrize("recommendation", ["approve", "revise", "escalate", "reject", "unknown"])
def test_every_auditor_recommendation_is_accepted(authed_client, contract_run, recommendation):
    result = {**body("auditor_result_2026"), "recommendation": recommendation.upper()}
    assert post(authed_client, P1, "auditor_result", result).status_code == 200


def test_auditor_issues_and_patches_are_shown_with_the_phase(authed_client, contract_run):
    result = body("auditor_result_2026")
    assert post(authed_client, P1, "auditor_result", result).status_code == 200
    expected = {
        "recommendation": "revise",
        "confidence": "medium",
        "issues_found": result["issues_found"],
        "suggested_patches": result["suggested_patches"],
    }
    executor_run = authed_client.get(f"/runs/{RUN}").json()
    reviews = {phase["phase_id"]: phase["review"] for phase in executor_run["phases"]}
    assert reviews == {P0: None, P1: expected, P2: None}
    v1_run = authed_client.get(f"/api/v1/runs/{RUN}/").json()
    assert {phase["phase_id"]: phase["review"] for phase in v1_run["phases"]}[P1] == expected
    v1_phase = authed_client.get(f"/api/v1/runs/{RUN}/phases/{P1}/").json()
    assert v1_phase["review"] == expected


def test_the_latest_review_is_the_one_shown(authed_client, contract_run):
    first = body("auditor_result_2026")
    post(authed_client, P1, "auditor_result", first)
    second = {**copy.deepcopy(first), "issues_found": [], "recommendation": "approve"}
    post(authed_client, P1, "auditor_result", second)
    phase = authed_client.get(f"/api/v1/runs/{RUN}/phases/{P1}/").json()
    assert phase["review"]["recommendation"] == "approve"
    assert phase["review"]["issues_found"] == []


def test_status_reports_progress_from_the_ledger(authed_client, contract_run):
    status = authed_client.get(f"/runs/{RUN}/status").json()
    assert status["run_id"] == RUN and (status["state"], status["run_state"]) == (
        "QUEUED",
        "RUN_CREATED",
    )
    assert (status["total_phases"], status["percent_complete"], status["tokens_used"]) == (3, 0, 0)
    authed_client.post(
        f"/runs/{RUN}/phases/{P0}/update_status",
        {"state": "COMPLETE", "tokens_used": 500},
        format="json",
    )
    authed_client.post(f"/runs/{RUN}/phases/{P1}/update_status", {"state": "EXECUTING"})
    post(authed_client, P1, "builder_result", body("builder_result_2026"))
    status = authed_client.get(f"/runs/{RUN}/status").json()
    assert status["state"] == "RUNNING" and status["started_at"] is not None
    assert (status["completed_phases"], status["failed_phases"], status["executing_phases"]) == (
        1,
        0,
        1,
    )
    assert status["percent_complete"] == pytest.approx(33.3)
    assert status["tokens_used"] == 500 + 1200 == consolidated_totals(RUN)["total_tokens"]
    assert status["token_cap"] == 900000 and status["completed_at"] is None
    authed_client.post(
        f"/runs/{RUN}/phases/{P1}/update_status",
        {"state": "FAILED", "last_failure_reason": "tests failed"},
        format="json",
    )
    authed_client.post(f"/runs/{RUN}/phases/{P2}/update_status", {"state": "SKIPPED"})
    status = authed_client.get(f"/runs/{RUN}/status").json()
    assert (status["state"], status["percent_complete"]) == ("FAILED", 100.0)
    assert status["completed_at"] is not None
    assert set(status) >= {
        "run_id",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
        "tokens_used",
        "token_cap",
        "total_phases",
        "completed_phases",
        "failed_phases",
        "executing_phases",
        "percent_complete",
        "failure_reason",
    }
