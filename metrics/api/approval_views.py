"""Human approvals and clarifications: the executor asks and polls; operators (and
their scripts) decide. Served at the executor's own paths and under /api/v1/approvals/.

A request past its deadline is resolved on every read (and by `manage.py
expire_approvals`), so a poll always ends.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site.api.authentication import caller_name
from autopack_site.api.scopes import ADMIN, INGEST
from metrics import selectors, services
from metrics.api import approval_serializers as s
from metrics.models import ApprovalRequest

MAX_PENDING_LISTED = 1000
TAGS = ["approvals"]


def _ask(request, input_class, kind: str) -> ApprovalRequest:
    """Store what the executor asks (an approval or a clarification) for its phase."""
    body = input_class(data=request.data)
    body.is_valid(raise_exception=True)
    fields = dict(body.validated_data)
    phase = selectors.phase_get(fields.pop("run_id"), fields.pop("phase_id"))
    return services.approval_request_create(phase=phase, kind=kind, **fields)


class ApprovalRequestView(APIView):
    """POST approval/request: ask a human before a risky change."""

    write_scope = INGEST

    @extend_schema(
        request=s.ApprovalRequestInputSerializer,
        responses={200: s.ApprovalCreatedSerializer, 404: None},
        tags=TAGS,
    )
    def post(self, request):
        approval = _ask(request, s.ApprovalRequestInputSerializer, ApprovalRequest.Kind.APPROVAL)
        reason = (
            approval.approval_reason
            if approval.status == ApprovalRequest.Status.APPROVED
            else "awaiting a human decision"
        )
        return Response(
            s.ApprovalCreatedSerializer(
                {
                    "status": approval.status,
                    "approval_id": approval.pk,
                    "timeout_at": approval.timeout_at,
                    "reason": reason,
                }
            ).data
        )


class ApprovalStatusView(APIView):
    """GET approval/status/{id}: what the human (or the deadline) decided."""

    writes_on_read = True  # resolves what passed its deadline

    @extend_schema(responses={200: s.ApprovalStatusSerializer, 404: None}, tags=TAGS)
    def get(self, request, approval_id: int):
        services.approvals_expire(ids=[approval_id])
        return Response(s.ApprovalStatusSerializer(selectors.approval_get(approval_id)).data)


class ApprovalPendingView(APIView):
    """GET approval/pending: approvals and clarifications awaiting a human, oldest
    deadline first (at most 1,000 listed; `count` is all of them)."""

    writes_on_read = True  # resolves what passed its deadline

    @extend_schema(responses=s.PendingListSerializer, tags=TAGS)
    def get(self, request):
        services.approvals_expire()
        pending = selectors.approvals_pending()
        return Response(
            s.PendingListSerializer(
                {"count": pending.count(), "requests": pending[:MAX_PENDING_LISTED]}
            ).data
        )


class ClarificationRequestView(APIView):
    """POST clarification/request: ask a human to resolve an ambiguous decision."""

    write_scope = INGEST

    @extend_schema(
        request=s.ClarificationRequestInputSerializer,
        responses={200: s.ClarificationCreatedSerializer, 404: None},
        tags=TAGS,
    )
    def post(self, request):
        clarification = _ask(
            request, s.ClarificationRequestInputSerializer, ApprovalRequest.Kind.CLARIFICATION
        )
        return Response(
            s.ClarificationCreatedSerializer(
                {
                    "status": clarification.status,
                    "clarification_id": clarification.pk,
                    "phase_id": clarification.phase.phase_id,
                    "timeout_at": clarification.timeout_at,
                }
            ).data
        )


class ClarificationStatusView(APIView):
    """GET clarification/status/{phase_id}: the phase's latest clarification."""

    writes_on_read = True  # resolves what passed its deadline

    @extend_schema(responses={200: s.ClarificationStatusSerializer, 404: None}, tags=TAGS)
    def get(self, request, phase_id: str):
        latest = selectors.clarification_latest(phase_id)
        if services.approvals_expire(ids=[latest.pk]):
            latest.refresh_from_db()
        return Response(s.ClarificationStatusSerializer(latest).data)


class _DecisionView(APIView):
    write_scope = ADMIN  # people decide, executors never
    decision = ""
    input_class = s.DecisionSerializer
    field = "reason"

    def post(self, request, approval_id: int):
        body = self.input_class(data=request.data)
        body.is_valid(raise_exception=True)
        decided = services.approval_decide(
            approval_id=selectors.approval_request_get(approval_id).pk,
            decision=self.decision,
            reason=body.validated_data[self.field],
            by=caller_name(request),
            method=ApprovalRequest.Method.API,
        )
        return Response(s.ApprovalRequestSerializer(decided).data)


_DECISION_RESPONSES = s.ApprovalRequestSerializer


class ApproveView(_DecisionView):
    """POST /api/v1/approvals/{id}/approve (409 once decided)."""

    decision = "approve"

    @extend_schema(request=s.DecisionSerializer, responses=_DECISION_RESPONSES, tags=TAGS)
    def post(self, request, approval_id: int):
        return super().post(request, approval_id)


class RejectView(_DecisionView):
    """POST /api/v1/approvals/{id}/reject: a reason is required (409 once decided)."""

    decision = "reject"
    input_class = s.RejectionSerializer

    @extend_schema(request=s.RejectionSerializer, responses=_DECISION_RESPONSES, tags=TAGS)
    def post(self, request, approval_id: int):
        return super().post(request, approval_id)


class AnswerView(_DecisionView):
    """POST /api/v1/approvals/{id}/answer: a clarification's answer (409 once decided)."""

    decision = "answer"
    input_class = s.AnswerSerializer
    field = "response"

    @extend_schema(request=s.AnswerSerializer, responses=_DECISION_RESPONSES, tags=TAGS)
    def post(self, request, approval_id: int):
        return super().post(request, approval_id)
