"""Deciding pending approvals from the dashboard: the same service and rules as
the API and the admin, behind CSRF and the approval permission."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from autopack_site.tests.dashboard_support import queries_of
from metrics.models import ApprovalRequest
from metrics.tests.factories import PhaseFactory, RunFactory

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/approvals/"


def _ask(kind=ApprovalRequest.Kind.APPROVAL, hours=1, **fields) -> ApprovalRequest:
    run = RunFactory()
    phase = PhaseFactory(run=run, tier__run=run)
    return ApprovalRequest.objects.create(
        kind=kind,
        run=run,
        phase=phase,
        timeout_at=timezone.now() + timedelta(hours=hours),
        **fields,
    )


@pytest.fixture
def operator():
    user = User.objects.create_user("operator", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_approvalrequest"))
    return user


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def _decide(client, approval, decision, note=""):
    return client.post(
        f"{PAGE}{approval.pk}/decide/", {"decision": decision, "note": note}, follow=True
    )


def test_pending_requests_show_oldest_deadline_first_with_what_the_executor_sent(operator_client):
    later = _ask(hours=5, context="later")
    sooner = _ask(
        hours=1,
        context="delete the old fixtures",
        deletion_info={"risk_level": "high", "files": ["tests/old_fixture.py"]},
        patch_preview="--- a/tests/old_fixture.py\n+++ /dev/null",
    )
    _ask(hours=-1, context="overdue")  # resolved to its default when the page is read
    page = operator_client.get(PAGE).content.decode()
    assert page.index(f'data-approval="{sooner.pk}"') < page.index(f'data-approval="{later.pk}"')
    assert "overdue" not in page
    assert "high" in page and "tests/old_fixture.py" in page and "+++ /dev/null" in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_an_operator_approves_rejects_with_a_reason_and_answers(operator_client):
    approval, rejected = _ask(), _ask()
    clarification = _ask(kind=ApprovalRequest.Kind.CLARIFICATION)

    page = _decide(operator_client, approval, "approve", "fine").content.decode()
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decided_by == "operator"
    assert approval.response_method == ApprovalRequest.Method.DASHBOARD
    assert f"Approval {approval.pk}: approved." in page

    page = _decide(operator_client, rejected, "reject").content.decode()
    rejected.refresh_from_db()
    assert rejected.status == "pending" and "Required to reject." in page
    _decide(operator_client, rejected, "reject", "touches production data")
    rejected.refresh_from_db()
    assert rejected.status == "rejected" and rejected.rejected_reason == "touches production data"

    page = _decide(operator_client, clarification, "approve").content.decode()
    assert "cannot be decided by approve" in page  # answer or reject it
    _decide(operator_client, clarification, "answer", "use the v2 schema")
    clarification.refresh_from_db()
    assert clarification.status == "answered" and clarification.response == "use the v2 schema"

    page = _decide(operator_client, approval, "reject", "too late").content.decode()
    assert "already decided" in page


def test_deciding_needs_csrf_the_permission_and_a_post(operator):
    approval = _ask()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    assert strict.post(f"{PAGE}{approval.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert strict.get(f"{PAGE}{approval.pk}/decide/").status_code == 405
    reader = Client()
    reader.force_login(User.objects.create_user("reader", password="x", is_staff=True))
    assert "may read but not decide" in reader.get(PAGE).content.decode()
    assert reader.post(f"{PAGE}{approval.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert Client().post(f"{PAGE}{approval.pk}/decide/", {"decision": "approve"}).status_code == 302
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_an_unknown_request_is_a_404(operator_client):
    assert operator_client.post(f"{PAGE}999999/decide/", {"decision": "approve"}).status_code == 404


def test_the_approvals_page_costs_the_same_queries_whatever_is_pending(operator_client):
    def queries() -> int:
        return queries_of(operator_client, PAGE)

    _ask()
    small = queries()
    for hours in range(2, 12):
        _ask(hours=hours)
    assert queries() == small
