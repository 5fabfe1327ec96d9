"""Admin for the run store. Telemetry is read-only: systems write it, people read it."""

from django.contrib import admin
from django.db.models import QuerySet

from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run, Tier, total_tokens_expression


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
    readonly_fields = ["created_at", "updated_at", "started_at", "completed_at"]
    show_full_result_count = False


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
