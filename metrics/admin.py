"""Admin for the run store. Telemetry is read-only: systems write it, people read it;
people decide the approvals executors wait on."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from metrics.forms import ApprovalDecisionForm
from metrics.models import (
    APPROVAL_DECIDE_PERMISSION,
    ApprovalRequest,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    Tier,
    total_tokens_expression,
)
from metrics.selectors import phase_review, phases_with_review
from metrics.services import approvals_expire


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ["tier_id", "tier_index", "name", "state"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ["phase_id", "tier", "phase_index", "name", "state", "builder_attempts"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "state", "created_at", "started_at", "completed_at", "git_commit_sha"]
    list_filter = ["state", "safety_profile", "run_scope", "created_at"]
    search_fields = ["id", "git_commit_sha", "git_branch", "model_mapping_hash"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at", "feature_flags", "replay_of"]
    inlines = [TierInline, PhaseInline]
    show_full_result_count = False


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["tier_id", "run", "tier_index", "name", "state"]
    list_filter = ["state"]
    search_fields = ["tier_id", "name", "run__id"]
    list_select_related = ["run"]
    raw_id_fields = ["run"]
    show_full_result_count = False


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["phase_id", "run", "tier", "state", "builder_attempts", "updated_at"]
    list_filter = ["state", "task_category", "complexity"]
    search_fields = ["phase_id", "name", "run__id", "last_failure_reason"]
    list_select_related = ["run", "tier"]
    raw_id_fields = ["run", "tier"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at", "started_at", "completed_at", "review"]
    show_full_result_count = False

    def get_queryset(self, request) -> QuerySet:
        return phases_with_review()

    @admin.display(description="latest review")
    def review(self, obj: Phase) -> str:
        """What the latest auditor result found: issues and suggested patches."""
        found = phase_review(obj)
        if found is None:
            return "-"
        return _pre(json.dumps(found, indent=2, ensure_ascii=False))


@admin.register(PhaseMetrics)
class PhaseMetricsAdmin(admin.ModelAdmin):
    list_display = [
        "phase",
        "attempt",
        "retrieval_tokens",
        "second_opinion_tokens",
        "evidence_request_tokens",
        "base_tokens",
        "total",
        "model",
        "created_at",
    ]
    list_filter = ["model", "created_at"]
    search_fields = ["run__id", "phase__phase_id"]
    list_select_related = ["phase"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request) -> QuerySet:
        return super().get_queryset(request).annotate(total_tokens=total_tokens_expression())

    @admin.display(description="total tokens", ordering="total_tokens")
    def total(self, obj: PhaseMetrics) -> int:
        return obj.total_tokens

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DashboardEvent)
class DashboardEventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "run", "phase", "short_message", "created_at"]
    list_filter = ["event_type", "created_at"]
    search_fields = ["run__id", "message"]
    list_select_related = ["run", "phase"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="message")
    def short_message(self, obj: DashboardEvent) -> str:
        first_line = obj.message.splitlines()[0] if obj.message else ""
        return first_line[:120]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    """Pending requests oldest deadline first; each page shows what the executor
    sent and takes the decision (approve, reject with a reason, or an answer)."""

    list_display = ["id", "kind", "run", "phase_key", "context", "risk", "status", "timeout_at"]
    list_filter = ["status", "kind", "response_method"]
    search_fields = ["run__id", "phase__phase_id", "context"]
    list_select_related = ["run", "phase"]
    date_hierarchy = "requested_at"
    show_full_result_count = False
    change_form_template = "admin/metrics/approvalrequest/change_form.html"
    fields = [
        "kind",
        "run",
        "phase",
        "context",
        "status",
        "risk",
        "file_list",
        "decision_info_shown",
        "deletion_info_shown",
        "patch_preview_shown",
        "requested_at",
        "timeout_at",
        "responded_at",
        "response_method",
        "decided_by",
        "approval_reason",
        "rejected_reason",
        "response",
    ]
    readonly_fields = fields

    @admin.display(description="phase", ordering="phase__phase_id")
    def phase_key(self, obj: ApprovalRequest) -> str:
        return obj.phase.phase_id

    @admin.display(description="risk")
    def risk(self, obj: ApprovalRequest) -> str:
        return obj.risk_level or "-"

    @admin.display(description="files")
    def file_list(self, obj: ApprovalRequest) -> str:
        return ", ".join(obj.files) or "-"

    @admin.display(description="decision info")
    def decision_info_shown(self, obj: ApprovalRequest) -> str:
        return _pre(json.dumps(obj.decision_info, indent=2, ensure_ascii=False))

    @admin.display(description="deletion info")
    def deletion_info_shown(self, obj: ApprovalRequest) -> str:
        return _pre(json.dumps(obj.deletion_info, indent=2, ensure_ascii=False))

    @admin.display(description="patch preview")
    def patch_preview_shown(self, obj: ApprovalRequest) -> str:
        return _pre(obj.patch_preview or "-")

    def has_add_permission(self, request) -> bool:
        return False  # executors ask; people decide

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided through decide_view, never edited

    def _may_decide(self, request) -> bool:
        return request.user.has_perm(APPROVAL_DECIDE_PERMISSION)

    def changelist_view(self, request, extra_context=None):
        approvals_expire()  # what passed its deadline shows as decided
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id.isdigit():
            approvals_expire(ids=[int(object_id)])
        extra_context = {**(extra_context or {}), "may_decide": self._may_decide(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        decide = path(
            "<int:approval_id>/decide/",
            self.admin_site.admin_view(self.decide_view),
            name="metrics_approvalrequest_decide",
        )
        return [decide, *super().get_urls()]

    def decide_view(self, request, approval_id: int):
        """POST only: record the operator's decision, then back to the request."""
        if not self._may_decide(request) or request.method != "POST":
            raise PermissionDenied
        get_object_or_404(ApprovalRequest, pk=approval_id)
        decided, text = ApprovalDecisionForm(request.POST).decide(
            approval_id, by=request.user.get_username(), method=ApprovalRequest.Method.ADMIN
        )
        self.message_user(request, text, messages.SUCCESS if decided else messages.ERROR)
        return redirect(reverse("admin:metrics_approvalrequest_change", args=[approval_id]))


def _pre(text: str) -> str:
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)
