"""The executor's calls end to end over real HTTP against a live server: a run goes
from creation to its final state with both client generations' results, and every
approval outcome reaches the polling executor (request bodies: contract/)."""

import time

import pytest
from rest_framework_api_key.models import APIKey

from autopack_site.ops.http import JsonClient
from metrics.models import ApprovalRequest, DashboardEvent, Run
from metrics.selectors import consolidated_totals
from metrics.tests.contract import P0, P1, P2, RUN, body

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clients(live_server):
    """The executor (Bearer, as Autopack's clients send it) and an operator's script."""
    _, executor_key = APIKey.objects.create_key(name="executor")
    _, operator_key = APIKey.objects.create_key(name="operator")
    return (
        JsonClient(live_server.url, executor_key, bearer=True),
        JsonClient(live_server.url, operator_key),
    )


def ok(reply, status: int = 200):
    assert reply.status == status, reply.body
    return reply.body


def phase_update(executor, phase_id: str, **fields):
    return ok(executor.request("POST", f"/runs/{RUN}/phases/{phase_id}/update_status", fields))


def result(executor, phase_id: str, kind: str, name: str):
    return ok(executor.request("POST", f"/runs/{RUN}/phases/{phase_id}/{kind}", body(name)))


def poll(executor, path: str, *, until: set[str], seconds: float = 10.0) -> dict:
    """Poll as approval_flow does (here every 0.1 s) until the status is one of `until`."""
    deadline = time.monotonic() + seconds
    while True:
        status = ok(executor.request("GET", path))
        if status["status"] in until or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_run_goes_end_to_end_with_both_client_generations(clients):
    executor, operator = clients
    created = ok(executor.request("POST", "/runs/start", body("run_start")), 201)
    assert (created["state"], created["run_scope"]) == ("RUN_CREATED", "incremental")
    progress = ok(executor.request("GET", f"/runs/{RUN}/status"))
    assert (progress["state"], progress["percent_complete"]) == ("QUEUED", 0)

    # Phase 0: the 2025 executor's builder result, a plain approval by the auditor,
    # a deletion approved by an operator.
    phase_update(executor, P0, state="EXECUTING", builder_attempts=1)
    progress = ok(executor.request("GET", f"/runs/{RUN}/status"))
    assert progress["state"] == "RUNNING" and progress["started_at"] is not None
    result(executor, P0, "builder_result", "builder_result_2025")
    phase_update(executor, P0, state="GATE")
    phase_update(executor, P0, state="CI_RUNNING")
    result(executor, P0, "auditor_result", "auditor_result_2026_plain_approval")
    asked = ok(executor.request("POST", "/approval/request", body("approval_request_deletion")))
    assert asked["status"] == "pending"
    pending = ok(operator.request("GET", "/api/v1/approvals/pending/"))
    assert [request["id"] for request in pending["requests"]] == [asked["approval_id"]]
    ok(operator.request("POST", f"/api/v1/approvals/{asked['approval_id']}/approve/", {}))
    decided = poll(executor, f"/approval/status/{asked['approval_id']}", until={"approved"})
    assert (decided["status"], decided["response_method"]) == ("approved", "api")
    phase_update(executor, P0, state="COMPLETE")

    # Phase 1: the 2026 executor's builder result, a review with issues, a risky
    # decision rejected by an operator, the phase failed.
    phase_update(executor, P1, state="EXECUTING", builder_attempts=1)
    result(executor, P1, "builder_result", "builder_result_2026")
    result(executor, P1, "auditor_result", "auditor_result_2026")
    asked = ok(executor.request("POST", "/approval/request", body("approval_request_build113")))
    ok(
        operator.request(
            "POST",
            f"/api/v1/approvals/{asked['approval_id']}/reject/",
            {"reason": "the constant is read elsewhere"},
        )
    )
    decided = poll(executor, f"/approval/status/{asked['approval_id']}", until={"rejected"})
    assert decided["rejected_reason"] == "the constant is read elsewhere"
    phase_update(executor, P1, state="FAILED", last_failure_reason="auditor asked for a revision")

    # Phase 2: an ambiguous decision clarified by an operator.
    asked = ok(executor.request("POST", "/clarification/request", body("clarification_request")))
    ok(
        operator.request(
            "POST",
            f"/api/v1/approvals/{asked['clarification_id']}/answer/",
            {"response": "docs/TELEMETRY.md"},
        )
    )
    answered = poll(executor, f"/clarification/status/{P2}", until={"answered", "rejected"})
    assert (answered["status"], answered["response"]) == ("answered", "docs/TELEMETRY.md")
    phase_update(executor, P2, state="COMPLETE")

    # A retried result changes no total.
    result(executor, P0, "builder_result", "builder_result_2025")
    progress = ok(executor.request("GET", f"/runs/{RUN}/status"))
    assert (progress["state"], progress["run_state"]) == (
        "FAILED",
        "DONE_FAILED_REQUIRES_HUMAN_REVIEW",
    )
    assert (progress["completed_phases"], progress["failed_phases"]) == (2, 1)
    assert progress["percent_complete"] == 100.0 and progress["completed_at"] is not None
    # builder 4321 + auditor 300 (phase 0), builder 1200 + auditor 800 (phase 1)
    assert progress["tokens_used"] == 6621 == consolidated_totals(RUN)["total_tokens"]
    run = ok(executor.request("GET", f"/runs/{RUN}"))
    assert run["tokens_used"] == 6621
    review = {phase["phase_id"]: phase["review"] for phase in run["phases"]}[P1]
    assert review["issues_found"][0]["issue_key"] == "const-meaning"
    assert review["suggested_patches"][0]["patch_id"] == "p-1"
    stored = Run.objects.get(pk=RUN)
    assert stored.run_scope == "incremental" and stored.started_at <= stored.completed_at
    assert DashboardEvent.objects.filter(run_id=RUN, event_type="BUILDER_RESULT").count() == 3


def test_every_approval_outcome_reaches_the_polling_executor(clients, settings):
    executor, operator = clients
    ok(executor.request("POST", "/runs/start", body("run_start")), 201)

    settings.AUTOPACK_AUTO_APPROVE = True
    auto = ok(executor.request("POST", "/approval/request", body("approval_request_deletion")))
    assert auto["status"] == "approved"
    settings.AUTOPACK_AUTO_APPROVE = False

    settings.AUTOPACK_APPROVAL_TIMEOUT_MINUTES = 0.01  # 0.6 s
    late = ok(executor.request("POST", "/approval/request", body("approval_request_build113")))
    settings.AUTOPACK_APPROVAL_TIMEOUT_MINUTES = 15
    timed_out = poll(executor, f"/approval/status/{late['approval_id']}", until={"rejected"})
    assert (timed_out["status"], timed_out["response_method"]) == ("rejected", "timeout")

    approved = ok(executor.request("POST", "/approval/request", body("approval_request_deletion")))
    rejected = ok(executor.request("POST", "/approval/request", body("approval_request_deletion")))
    assert ok(executor.request("GET", "/health"))["pending_approvals"] == 2
    ok(operator.request("POST", f"/api/v1/approvals/{approved['approval_id']}/approve/", {}))
    ok(
        operator.request(
            "POST", f"/api/v1/approvals/{rejected['approval_id']}/reject/", {"reason": "too big"}
        )
    )
    again = operator.request(
        "POST", f"/api/v1/approvals/{approved['approval_id']}/reject/", {"reason": "late"}
    )
    assert again.status == 409
    outcomes = {
        approval_id: poll(
            executor, f"/approval/status/{approval_id}", until={"approved", "rejected"}
        )
        for approval_id in (approved["approval_id"], rejected["approval_id"])
    }
    assert outcomes[approved["approval_id"]]["status"] == "approved"
    assert outcomes[rejected["approval_id"]]["status"] == "rejected"
    methods = dict(ApprovalRequest.objects.values_list("pk", "response_method"))
    assert methods == {
        auto["approval_id"]: "auto",
        late["approval_id"]: "timeout",
        approved["approval_id"]: "api",
        rejected["approval_id"]: "api",
    }
    assert ok(executor.request("GET", "/approval/pending"))["count"] == 0
