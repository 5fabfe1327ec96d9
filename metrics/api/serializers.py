"""Serializers for the run store API (v1) and the executor-compatible routes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from autopack_site.api.fields import (
    NumberField,
    SafeJSONObjectField,
    TokenCountField,
    WholeNumberField,
    model_char_field,
)
from autopack_site.api.inputs import InputSerializer
from metrics import selectors
from metrics.models import (
    IDENTIFIER_MAX_LENGTH,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    Tier,
    identifier_validator,
    run_scope_validator,
)

MAX_ATTEMPT = 10_000
MAX_BATCH_ROWS = 10_000


def identifier_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=IDENTIFIER_MAX_LENGTH, validators=[identifier_validator], **kwargs
    )


# --- Output ---------------------------------------------------------------------


class PhaseReviewSerializer(serializers.Serializer):
    """The phase's latest auditor result: what it found and suggests."""

    recommendation = serializers.CharField()
    confidence = serializers.CharField()
    issues_found = serializers.ListField(child=serializers.DictField())
    suggested_patches = serializers.ListField(child=serializers.DictField())


@extend_schema_field(PhaseReviewSerializer(allow_null=True))
class PhaseReviewField(serializers.Field):
    """`review` of a phase read through selectors.phases_with_review()."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, phase):
        return selectors.phase_review(phase)


class PhaseSerializer(serializers.ModelSerializer):
    tier_id = serializers.CharField(source="tier.tier_id", read_only=True)
    review = PhaseReviewField()

    class Meta:
        model = Phase
        fields = [
            "phase_id",
            "tier_id",
            "phase_index",
            "name",
            "description",
            "state",
            "task_category",
            "complexity",
            "builder_mode",
            "scope",
            "builder_attempts",
            "auditor_attempts",
            "last_failure_reason",
            "review",
            "started_at",
            "completed_at",
            "updated_at",
        ]
        read_only_fields = fields


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["tier_id", "tier_index", "name", "description", "state"]
        read_only_fields = fields


RUN_FIELDS = [
    "id",
    "state",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "safety_profile",
    "run_scope",
    "token_cap",
    "max_phases",
    "max_duration_minutes",
    "failure_reason",
    "goal_anchor",
    "git_commit_sha",
    "git_branch",
    "model_mapping_hash",
    "replay_of",
    "feature_flags",
]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = RUN_FIELDS
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    tiers = TierSerializer(many=True, read_only=True)
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RUN_FIELDS, "tiers", "phases"]
        read_only_fields = fields


class LedgerRowSerializer(serializers.ModelSerializer):
    phase_id = serializers.CharField(source="phase.phase_id", read_only=True)
    total_tokens = serializers.IntegerField(read_only=True)

    class Meta:
        model = PhaseMetrics
        fields = [
            "phase_id",
            "attempt",
            "retrieval_tokens",
            "second_opinion_tokens",
            "evidence_request_tokens",
            "base_tokens",
            "total_tokens",
            "model",
            "duration_seconds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    phase_id = serializers.CharField(source="phase.phase_id", read_only=True, allow_null=True)

    class Meta:
        model = DashboardEvent
        fields = ["id", "run", "phase_id", "event_type", "message", "payload", "created_at"]
        read_only_fields = fields


class LedgerIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


# --- Input ----------------------------------------------------------------------


class RunInputSerializer(InputSerializer):
    id = identifier_field()
    state = serializers.ChoiceField(choices=Run.State.choices, default=Run.State.RUN_CREATED)
    safety_profile = serializers.ChoiceField(
        choices=Run.SafetyProfile.choices, default=Run.SafetyProfile.NORMAL
    )
    run_scope = model_char_field(
        Run, "run_scope", validators=[run_scope_validator], default=Run.Scope.MULTI_TIER
    )
    token_cap = TokenCountField(default=5_000_000)
    max_phases = serializers.IntegerField(min_value=0, max_value=100_000, default=25)
    max_duration_minutes = serializers.IntegerField(min_value=0, max_value=1_000_000, default=120)
    failure_reason = serializers.CharField(allow_blank=True, default="")
    goal_anchor = serializers.CharField(allow_blank=True, default="")
    git_commit_sha = model_char_field(Run, "git_commit_sha", allow_null=True, required=False)
    git_branch = model_char_field(Run, "git_branch", allow_null=True, required=False)
    model_mapping_hash = model_char_field(
        Run, "model_mapping_hash", allow_null=True, required=False
    )
    replay_of = identifier_field(allow_null=True, required=False, help_text="A stored run's id.")


class TierInputSerializer(InputSerializer):
    tier_id = identifier_field()
    tier_index = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    name = model_char_field(Tier, "name", allow_blank=True, default="")
    description = serializers.CharField(allow_blank=True, default="")
    state = serializers.ChoiceField(choices=Tier.State.choices, default=Tier.State.PENDING)


class PhaseFieldsSerializer(InputSerializer):
    phase_id = identifier_field()
    phase_index = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    name = model_char_field(Phase, "name", allow_blank=True, default="")
    description = serializers.CharField(allow_blank=True, default="")
    state = serializers.ChoiceField(choices=Phase.State.choices, default=Phase.State.QUEUED)
    task_category = model_char_field(Phase, "task_category", allow_blank=True, default="")
    complexity = model_char_field(Phase, "complexity", allow_blank=True, default="")
    builder_mode = model_char_field(Phase, "builder_mode", allow_blank=True, default="")
    scope = SafeJSONObjectField(default=dict)
    builder_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, default=0)
    auditor_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, default=0)
    last_failure_reason = serializers.CharField(allow_blank=True, default="")


class NestedTierInputSerializer(TierInputSerializer):
    phases = PhaseFieldsSerializer(many=True, default=list)


class RunCreateSerializer(RunInputSerializer):
    """`POST /api/v1/runs/`: a run with its tiers, each holding its phases."""

    tiers = NestedTierInputSerializer(many=True, default=list)


class RunMetadataUpdateSerializer(InputSerializer):
    """`PATCH /api/v1/runs/{id}/`: what the executor really ran with (while running)."""

    git_commit_sha = model_char_field(Run, "git_commit_sha", allow_null=True, required=False)
    git_branch = model_char_field(Run, "git_branch", allow_null=True, required=False)
    model_mapping_hash = model_char_field(
        Run, "model_mapping_hash", allow_null=True, required=False
    )


class PhaseUpdateSerializer(InputSerializer):
    """`PATCH /api/v1/runs/{id}/phases/{phase_id}/`: every field optional."""

    state = serializers.ChoiceField(choices=Phase.State.choices, required=False)
    builder_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, required=False)
    auditor_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, required=False)
    last_failure_reason = serializers.CharField(allow_blank=True, required=False)
    name = model_char_field(Phase, "name", allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    task_category = model_char_field(Phase, "task_category", allow_blank=True, required=False)
    complexity = model_char_field(Phase, "complexity", allow_blank=True, required=False)
    builder_mode = model_char_field(Phase, "builder_mode", allow_blank=True, required=False)
    scope = SafeJSONObjectField(required=False)


class LedgerRowInputSerializer(InputSerializer):
    phase_id = identifier_field()
    attempt = WholeNumberField(min_value=1, max_value=MAX_ATTEMPT)
    retrieval_tokens = TokenCountField()
    second_opinion_tokens = TokenCountField()
    evidence_request_tokens = TokenCountField()
    base_tokens = TokenCountField()
    model = model_char_field(PhaseMetrics, "model", allow_blank=True, required=False)
    duration_seconds = NumberField(min_value=0, max_value=10**9, allow_null=True, required=False)


class EventInputSerializer(InputSerializer):
    event_type = serializers.ChoiceField(choices=DashboardEvent.EventType.choices)
    phase_id = identifier_field(allow_null=True, required=False)
    message = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    payload = SafeJSONObjectField(default=dict)
    created_at = serializers.DateTimeField(required=False)


def batch_serializer(child: serializers.Serializer, **kwargs) -> serializers.ListSerializer:
    """Return a serializer for a JSON list body of 1…MAX_BATCH_ROWS items."""
    return serializers.ListSerializer(
        child=child, allow_empty=False, max_length=MAX_BATCH_ROWS, **kwargs
    )
