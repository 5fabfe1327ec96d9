"""The approval routes, at the executor's paths (no trailing slash, as it calls
them) and under /api/v1/approvals/ for scripts, where operators also decide."""

from django.urls import re_path

from metrics.api import approval_views as views
from metrics.models import IDENTIFIER_PATTERN

ID = r"(?P<approval_id>[0-9]{1,18})"
PHASE = rf"(?P<phase_id>{IDENTIFIER_PATTERN})"


def approval_routes(*, approvals: str, clarifications: str, slash: str, name: str) -> list:
    """The executor's five routes under the given prefixes."""
    return [
        re_path(
            rf"^{approvals}/request{slash}$",
            views.ApprovalRequestView.as_view(),
            name=f"{name}-approval-request",
        ),
        re_path(
            rf"^{approvals}/status/{ID}{slash}$",
            views.ApprovalStatusView.as_view(),
            name=f"{name}-approval-status",
        ),
        re_path(
            rf"^{approvals}/pending{slash}$",
            views.ApprovalPendingView.as_view(),
            name=f"{name}-approval-pending",
        ),
        re_path(
            rf"^{clarifications}/request{slash}$",
            views.ClarificationRequestView.as_view(),
            name=f"{name}-clarification-request",
        ),
        re_path(
            rf"^{clarifications}/status/{PHASE}{slash}$",
            views.ClarificationStatusView.as_view(),
            name=f"{name}-clarification-status",
        ),
    ]


executor_urlpatterns = approval_routes(
    approvals="approval", clarifications="clarification", slash="", name="executor"
)

v1_urlpatterns = [
    *approval_routes(
        approvals="approvals", clarifications="approvals/clarification", slash="/?", name="v1"
    ),
    re_path(rf"^approvals/{ID}/approve/?$", views.ApproveView.as_view(), name="approval-approve"),
    re_path(rf"^approvals/{ID}/reject/?$", views.RejectView.as_view(), name="approval-reject"),
    re_path(rf"^approvals/{ID}/answer/?$", views.AnswerView.as_view(), name="approval-answer"),
]
