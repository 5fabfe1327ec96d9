"""Replay campaigns in the admin: progress, recovery, both runs of each attempt, its
A/B pair and reports; cancel and resume. Read-only otherwise: campaigns are run."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from abtests.models import ABTestResult
from replay import dispatch, services
from replay.executors import ExecutorConfigError
from replay.models import ReplayAttempt, ReplayCampaign
from replay.selectors import campaigns_with_progress


def _run_link(run_id: str | None):
    if not run_id:
        return "-"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:metrics_run_change", args=[run_id]), run_id
    )


class ReplayAttemptInline(admin.TabularInline):
    model = ReplayAttempt
    extra = 0
    can_delete = False
    fields = ["original", "replay", "status", "error", "exit_code", "ab_pair", "report_path"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="original")
    def original(self, attempt: ReplayAttempt):
        return _run_link(attempt.original_run_id)

    @admin.display(description="replay")
    def replay(self, attempt: ReplayAttempt):
        return _run_link(attempt.replay_run_id)

    @admin.display(description="A/B pair")
    def ab_pair(self, attempt: ReplayAttempt):
        pair = ABTestResult.objects.filter(
            test_id=attempt.campaign_id, treatment_run_id=attempt.replay_run_id
        ).first()
        if pair is None:
            return "-"
        url = reverse("admin:abtests_abtestresult_change", args=[pair.pk])
        return format_html('<a href="{}">{}</a>', url, "valid" if pair.is_valid else "invalid")


@admin.register(ReplayCampaign)
class ReplayCampaignAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "executor", "progress", "recovery", "created_at", "created_by"]
    list_filter = ["status", "executor"]
    search_fields = ["id", "attempts__original_run__id"]
    actions = ["cancel", "resume"]
    inlines = [ReplayAttemptInline]
    fields = [
        "id",
        "status",
        "executor",
        "batch_size",
        "timeout_seconds",
        "filters",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "counts",
        "summary",
        "ab_results",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return campaigns_with_progress()

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, campaign: ReplayCampaign) -> str:
        return f"{campaign.attempts_finished}/{campaign.attempts_total}"

    @admin.display(description="recovered")
    def recovery(self, campaign: ReplayCampaign) -> str:
        if not campaign.attempts_finished:
            return "-"
        share = campaign.attempts_recovered / campaign.attempts_finished
        return f"{campaign.attempts_recovered} ({share:.0%})"

    @admin.display(description="attempts by status")
    def counts(self, campaign: ReplayCampaign) -> str:
        counts = services.attempt_counts(campaign)
        return ", ".join(f"{status} {n}" for status, n in counts.items() if n) or "-"

    @admin.display(description="summary report")
    def summary(self, campaign: ReplayCampaign) -> str:
        path = services.results_dir() / f"{campaign.pk}_summary.md"
        return str(path) if path.is_file() else "-"

    @admin.display(description="A/B results")
    def ab_results(self, campaign: ReplayCampaign):
        url = reverse("admin:abtests_abtestresult_changelist") + f"?test_id={campaign.pk}"
        return format_html('<a href="{}">pairs of this campaign</a>', url)

    @admin.action(description="Cancel selected campaigns (kill running replays)")
    def cancel(self, request, queryset):
        cancelled = 0
        for campaign in queryset:
            if not campaign.is_finished:
                services.campaign_cancel(campaign=campaign)
                services.campaign_finish_if_done(campaign=campaign)
                cancelled += 1
        self.message_user(request, f"{cancelled} campaign(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Resume selected campaigns (run what is unfinished)")
    def resume(self, request, queryset):
        for campaign in queryset:
            try:
                queued = services.campaign_resume(campaign=campaign)
                dispatch.campaign_start(campaign=campaign)
            except (services.CampaignBusy, ExecutorConfigError) as error:
                self.message_user(request, f"{campaign.pk}: {error}", messages.ERROR)
                continue
            self.message_user(
                request, f"{campaign.pk}: {queued} attempt(s) running again.", messages.SUCCESS
            )


@admin.register(ReplayAttempt)
class ReplayAttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "original_run", "replay_run", "status", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["campaign", "original_run", "replay_run"]
    search_fields = ["campaign__id", "original_run__id", "replay_run__id"]
    readonly_fields = [field.name for field in ReplayAttempt._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
