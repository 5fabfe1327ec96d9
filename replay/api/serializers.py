from rest_framework import serializers

from autopack_site.api.inputs import InputSerializer
from metrics.api.serializers import MAX_BATCH_ROWS, identifier_field
from metrics.models import Run
from replay.models import ReplayAttempt, ReplayCampaign
from replay.selectors import FAILED
from replay.services import attempt_counts

MAX_BATCH_SIZE = 1000
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


class CampaignRequestSerializer(InputSerializer):
    """`POST /api/v1/replay-campaigns/`: the command's filters. A dry run unless the
    client says `"dry_run": false` (as Airflow's clear API does)."""

    run_ids = serializers.ListField(
        child=identifier_field(), default=list, max_length=MAX_BATCH_ROWS
    )
    from_date = serializers.DateField(required=False, allow_null=True)
    to_date = serializers.DateField(required=False, allow_null=True)
    state = serializers.ChoiceField(
        choices=[FAILED, *Run.State.values],
        default=FAILED,
        help_text=f"{FAILED} (every DONE_FAILED_* state) or one run state.",
    )
    dry_run = serializers.BooleanField(default=True)
    executor = serializers.ChoiceField(
        choices=ReplayCampaign.Executor.choices, default=ReplayCampaign.Executor.LOCAL
    )
    batch_size = serializers.IntegerField(min_value=1, max_value=MAX_BATCH_SIZE, default=5)
    timeout_seconds = serializers.IntegerField(
        min_value=1, max_value=MAX_TIMEOUT_SECONDS, default=3600
    )
    expand_patterns = serializers.BooleanField(default=False)


class CandidateSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    failed_phases = serializers.IntegerField()
    last_failure_reason = serializers.CharField()


class SelectionSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    runs = CandidateSerializer(many=True)


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplayAttempt
        fields = [
            "id",
            "original_run",
            "replay_run",
            "status",
            "started_at",
            "finished_at",
            "exit_code",
            "error",
            "log_path",
            "report_path",
        ]
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    attempt_counts = serializers.SerializerMethodField()

    class Meta:
        model = ReplayCampaign
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
            "attempt_counts",
        ]
        read_only_fields = fields

    def get_attempt_counts(self, campaign) -> dict[str, int]:
        return attempt_counts(campaign)


class CampaignDetailSerializer(CampaignSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "attempts"]
        read_only_fields = fields
