"""Human approvals and clarifications: what the executor asks, how operators decide
(API and admin), deadlines and their defaults (request bodies: contract/)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from metrics import services
from metrics.models import ApprovalRequest, Phase
from metrics.tests.contract import P0, P1, P2, RUN, body

pytestmark = pytest.mark.django_db


def ask(client, name: str = "approval_request_deletion", path: str = "/approval/request"):
    return client.post(path, body(name), format="json")


def overdue(kind: str = ApprovalRequest.Kind.APPROVAL, phase_id: str = P0) -> ApprovalRequest:
    """A request made 16 minutes ago (the default deadline is 15)."""
    return services.approval_request_create(
        phase=Phase.objects.get(run_id=RUN, phase_id=phase_id),
        kind=kind,
        now=timezone.now() - timedelta(minutes=16),
    )


def test_an_approval_request_waits_for_a_human_by_default(authed_client, contract_run, settings):
    assert settings.AUTOPACK_AUTO_APPROVE is False  # off unless exactly "1"
    before = timezone.now()
    response = ask(authed_client)
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "pending" and answer["reason"]
    stored = ApprovalRequest.objects.get(pk=answer["approval_id"])
    assert stored.deletion_info == body("approval_request_deletion")["deletion_info"]
    assert stored.context == "feature" and stored.risk_level == "high"
    assert stored.files == ["src/autopack/telemetry.py", "src/autopack/legacy_metrics.py"]
    deadline = timezone.datetime.fromisoformat(answer["timeout_at"].replace("Z", "+00:00"))
    assert before + timedelta(minutes=15) <= deadline <= timezone.now() + timedelta(minutes=15)
    status = authed_client.get(f"/approval/status/{stored.pk}").json()
    assert status == {
        "approval_id": stored.pk,
        "run_id": RUN,
        "phase_id": P0,
        "status": "pending",
        "requested_at": status["requested_at"],
        "responded_at": None,
        "timeout_at": answer["timeout_at"],
        "approval_reason": "",
        "rejected_reason": "",
        "response_method": "",
        "decided_by": "",
    }


def test_auto_approve_answers_approved_at_once(authed_client, contract_run, settings):
    settings.AUTOPACK_AUTO_APPROVE = True
    answer = ask(authed_client, "approval_request_build113").json()
    assert answer["status"] == "approved"
    status = authed_client.get(f"/approval/status/{answer['approval_id']}").json()
    assert (status["status"], status["response_method"]) == ("approved", "auto")
    stored = ApprovalRequest.objects.get(pk=answer["approval_id"])
    assert stored.patch_preview.startswith("diff --git") and stored.risk_level == "medium"
    assert stored.files == ["src/autopack/a.py"]


def test_an_operator_approves_once_through_the_api(authed_client, contract_run):
    approval_id = ask(authed_client).json()["approval_id"]
    response = authed_client.post(
        f"/api/v1/approvals/{approval_id}/approve/", {"reason": "expected cleanup"}, format="json"
    )
    assert response.status_code == 200, response.json()
    decided = response.json()
    assert (decided["status"], decided["response_method"]) == ("approved", "api")
    assert decided["decided_by"] == "api key test-client"
    assert decided["approval_reason"] == "expected cleanup" and decided["responded_at"]
    polled = authed_client.get(f"/approval/status/{approval_id}").json()
    assert polled["status"] == "approved"
    again = authed_client.post(f"/api/v1/approvals/{approval_id}/reject/", {"reason": "no"})
    assert again.status_code == 409
    assert ApprovalRequest.objects.get(pk=approval_id).status == "approved"


def test_a_rejection_needs_a_reason(authed_client, contract_run):
    approval_id = ask(authed_client).json()["approval_id"]
    for blank in ({"reason": "  "}, {"reason": "\n\t"}, {}):
        refused = authed_client.post(f"/api/v1/approvals/{approval_id}/reject/", blank)
        assert refused.status_code == 400 and "reason" in refused.json(), blank
    assert ApprovalRequest.objects.get(pk=approval_id).is_pending
    rejected = authed_client.post(
        f"/api/v1/approvals/{approval_id}/reject/", {"reason": "deletes live code"}
    )
    assert rejected.status_code == 200
    polled = authed_client.get(f"/approval/status/{approval_id}").json()
    assert (polled["status"], polled["rejected_reason"]) == ("rejected", "deletes live code")


@pytest.mark.parametrize("default, status", [("reject", "rejected"), ("approve", "approved")])
def test_a_request_past_its_deadline_resolves_to_the_default_on_read(
    authed_client, contract_run, settings, default, status
):
    settings.AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT = default
    late = overdue()
    polled = authed_client.get(f"/approval/status/{late.pk}").json()
    assert (polled["status"], polled["response_method"]) == (status, "timeout")
    assert polled["responded_at"] is not None
    decided_late = authed_client.post(f"/api/v1/approvals/{late.pk}/approve/")
    assert decided_late.status_code == 409


def test_expire_approvals_resolves_what_no_one_polls(contract_run):
    late, clarification = overdue(), overdue(ApprovalRequest.Kind.CLARIFICATION, P2)
    waiting = services.approval_request_create(phase=Phase.objects.get(phase_id=P1))
    out = StringIO()
    call_command("expire_approvals", stdout=out)
    assert "Resolved 2 request(s)" in out.getvalue()
    late.refresh_from_db(), clarification.refresh_from_db(), waiting.refresh_from_db()
    assert (late.status, late.response_method) == ("rejected", "timeout")
    assert (clarification.status, clarification.rejected_reason) == (
        "rejected",
        "no decision by the deadline",
    )
    assert waiting.is_pending


def test_pending_lists_both_kinds_oldest_deadline_first(authed_client, contract_run):
    first = overdue(phase_id=P1)  # past its deadline: resolved, not listed
    newer = ask(authed_client).json()["approval_id"]
    clarification = ask(authed_client, "clarification_request", "/clarification/request").json()
    older = services.approval_request_create(
        phase=Phase.objects.get(phase_id=P1), now=timezone.now() - timedelta(minutes=5)
    )
    listed = authed_client.get("/approval/pending").json()
    assert listed["count"] == 3
    assert [r["id"] for r in listed["requests"]] == [
        older.pk,
        newer,
        clarification["clarification_id"],
    ]
    assert listed["requests"][1]["risk_level"] == "high"
    assert listed["requests"][2]["kind"] == "clarification"
    first.refresh_from_db()
    assert first.status == "rejected"
    assert authed_client.get("/api/v1/approvals/pending/").json()["count"] == 3
    assert authed_client.get("/health").json()["pending_approvals"] == 3


def test_a_clarification_is_answered_and_the_executor_reads_the_answer(authed_client, contract_run):
    asked = ask(authed_client, "clarification_request", "/clarification/request")
    assert asked.status_code == 200, asked.json()
    created = asked.json()
    assert (created["status"], created["phase_id"]) == ("pending", P2)
    assert authed_client.get(f"/clarification/status/{P2}").json()["status"] == "pending"
    clarification_id = created["clarification_id"]
    # A clarification is answered or rejected, never approved: a conflict, not a bad body.
    approved = authed_client.post(f"/api/v1/approvals/{clarification_id}/approve/")
    assert approved.status_code == 409 and "answer or reject" in approved.json()["detail"]
    answered = authed_client.post(
        f"/api/v1/approvals/{clarification_id}/answer/",
        {"response": "docs/TELEMETRY.md"},
        format="json",
    )
    assert answered.status_code == 200, answered.json()
    polled = authed_client.get(f"/clarification/status/{P2}").json()
    assert (polled["status"], polled["response"]) == ("answered", "docs/TELEMETRY.md")
    stored = ApprovalRequest.objects.get(pk=clarification_id)
    assert stored.decision_info["alternatives"] == ["README.md", "docs/TELEMETRY.md"]


def test_the_latest_clarification_of_a_phase_is_the_one_polled(authed_client, contract_run):
    first = ask(authed_client, "clarification_request", "/clarification/request").json()
    authed_client.post(
        f"/api/v1/approvals/{first['clarification_id']}/reject/", {"reason": "ask again"}
    )
    second = ask(authed_client, "clarification_request", "/clarification/request").json()
    polled = authed_client.get(f"/clarification/status/{P2}").json()
    assert polled["clarification_id"] == second["clarification_id"]
    assert polled["status"] == "pending"


def test_an_approval_cannot_be_answered_and_an_unknown_id_is_404(authed_client, contract_run):
    approval_id = ask(authed_client).json()["approval_id"]
    answered = authed_client.post(f"/api/v1/approvals/{approval_id}/answer/", {"response": "yes"})
    assert answered.status_code == 409 and "approve or reject" in answered.json()["detail"]
    assert ApprovalRequest.objects.get(pk=approval_id).status == "pending"
    assert authed_client.get("/approval/status/999999").status_code == 404
    assert authed_client.post("/api/v1/approvals/999999/approve/").status_code == 404
    assert authed_client.get("/clarification/status/no-such-phase").status_code == 404
    clarification = ask(authed_client, "clarification_request", "/clarification/request").json()
    # A clarification's id is not an approval's: the approval poll does not find it.
    assert (
        authed_client.get(f"/approval/status/{clarification['clarification_id']}").status_code
        == 404
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"run_id": "no-such-run"}, None),
        ({"phase_id": "no-such-phase"}, None),
        ({"decision_info": ["not", "an", "object"]}, "decision_info"),
        ({"deletion_info": "big"}, "deletion_info"),
        ({"context": "x" * 201}, "context"),
        ({"patch_preview": "x" * 100_001}, "patch_preview"),
        ({"run_id": None}, "run_id"),
    ],
)
def test_a_bad_approval_request_is_refused_and_stores_nothing(
    authed_client, contract_run, change, field
):
    response = authed_client.post(
        "/approval/request", {**body("approval_request_deletion"), **change}, format="json"
    )
    if field is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 400 and field in response.json()
    assert not ApprovalRequest.objects.exists()


def test_nulls_the_executor_may_send_mean_empty(authed_client, contract_run):
    request = {
        "phase_id": P0,
        "run_id": RUN,
        "context": None,
        "decision_info": None,
        "deletion_info": None,
        "patch_preview": None,
    }
    assert authed_client.post("/approval/request", request, format="json").status_code == 200
    stored = ApprovalRequest.objects.get()
    assert (stored.context, stored.decision_info, stored.patch_preview) == ("", {}, "")


def test_the_routes_need_a_key(api_client, contract_run):
    assert (
        api_client.post("/approval/request", body("approval_request_deletion")).status_code == 401
    )
    assert api_client.get("/approval/pending").status_code == 401


def test_the_database_refuses_an_undated_or_unexplained_decision(contract_run):
    request = services.approval_request_create(phase=Phase.objects.get(phase_id=P0))
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            status="rejected", responded_at=timezone.now(), response_method="api"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            status="answered", responded_at=timezone.now(), response_method="api"
        )


# --- The admin ------------------------------------------------------------------


def decide(client, approval_id: int, decision: str, note: str = ""):
    return client.post(
        f"/admin/metrics/approvalrequest/{approval_id}/decide/",
        {"decision": decision, "note": note},
        follow=True,
    )


def test_operators_see_what_to_decide_and_decide_in_the_admin(
    admin_client, authed_client, contract_run
):
    approval_id = ask(authed_client, "approval_request_build113").json()["approval_id"]
    listing = admin_client.get("/admin/metrics/approvalrequest/", {"status__exact": "pending"})
    assert listing.status_code == 200 and P1 in listing.content.decode()
    page = admin_client.get(f"/admin/metrics/approvalrequest/{approval_id}/change/").content
    page = page.decode()
    assert "Changes a constant other modules read" in page and "+x = 2" in page
    assert 'value="approve"' in page and 'value="reject"' in page
    refused = decide(admin_client, approval_id, "reject")
    assert "Required to reject" in refused.content.decode()
    assert ApprovalRequest.objects.get(pk=approval_id).is_pending
    approved = decide(admin_client, approval_id, "approve", "reviewed the diff")
    assert "approved" in approved.content.decode()
    stored = ApprovalRequest.objects.get(pk=approval_id)
    assert (stored.status, stored.response_method, stored.decided_by) == (
        "approved",
        "admin",
        "admin",
    )
    again = decide(admin_client, approval_id, "reject", "changed my mind")
    assert "already decided" in again.content.decode()
    assert ApprovalRequest.objects.get(pk=approval_id).status == "approved"
    page = admin_client.get(f"/admin/metrics/approvalrequest/{approval_id}/change/").content
    assert b'value="approve"' not in page and b"Decided:" in page


def test_a_clarification_is_answered_in_the_admin(admin_client, authed_client, contract_run):
    asked = ask(authed_client, "clarification_request", "/clarification/request").json()
    page = admin_client.get(f"/admin/metrics/approvalrequest/{asked['clarification_id']}/change/")
    assert b'value="answer"' in page.content and b'value="approve"' not in page.content
    # A forged "approve" of a clarification is refused with a message, not a 500.
    wrong = decide(admin_client, asked["clarification_id"], "approve")
    assert wrong.status_code == 200 and "cannot be decided by approve" in wrong.content.decode()
    decide(admin_client, asked["clarification_id"], "answer", "README.md")
    assert authed_client.get(f"/clarification/status/{P2}").json()["response"] == "README.md"


def test_staff_without_the_change_permission_cannot_decide(client, authed_client, contract_run):
    approval_id = ask(authed_client).json()["approval_id"]
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_approvalrequest"))
    client.force_login(viewer)
    page = client.get(f"/admin/metrics/approvalrequest/{approval_id}/change/")
    assert page.status_code == 200 and b'value="approve"' not in page.content
    assert decide(client, approval_id, "approve").status_code == 403
    assert ApprovalRequest.objects.get(pk=approval_id).is_pending


def test_the_phase_admin_page_shows_its_latest_review(admin_client, authed_client, contract_run):
    review = body("auditor_result_2026")
    authed_client.post(f"/runs/{RUN}/phases/{P1}/auditor_result", review, format="json")
    phase = Phase.objects.get(phase_id=P1)
    page = admin_client.get(f"/admin/metrics/phase/{phase.pk}/change/").content.decode()
    assert "const-meaning" in page and "rename the constant" in page
