"""Request and response shapes of the Autopack executor's own routes.

The executor and its parallel runner talk to this server unmodified, so these
mirror its contract: `run_id` keys, string tier ids in requests, integer tier
primary keys in responses, nullable text fields.
"""

import copy
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from autopack_site.api.fields import (
    BlankIfNullCharField,
    SafeJSONObjectField,
    TokenCountField,
    model_char_field,
)
from autopack_site.api.inputs import InputSerializer
from metrics.api.serializers import MAX_ATTEMPT, PhaseReviewField, identifier_field
from metrics.models import Phase, Run, Tier, run_scope_validator


class ExecutorRunCreateSerializer(InputSerializer):
    run_id = identifier_field()
    safety_profile = serializers.ChoiceField(
        choices=Run.SafetyProfile.choices, default=Run.SafetyProfile.NORMAL
    )
    run_scope = model_char_field(
        Run,
        "run_scope",
        validators=[run_scope_validator],
        allow_null=True,
        default=Run.Scope.MULTI_TIER,
    )
    token_cap = TokenCountField(allow_null=True, required=False)
    max_phases = serializers.IntegerField(
        min_value=0, max_value=100_000, allow_null=True, required=False
    )
    max_duration_minutes = serializers.IntegerField(
        min_value=0, max_value=1_000_000, allow_null=True, required=False
    )
    goal_anchor = BlankIfNullCharField()
    git_commit_sha = model_char_field(Run, "git_commit_sha", allow_null=True, required=False)
    git_branch = model_char_field(Run, "git_branch", allow_null=True, required=False)
    model_mapping_hash = model_char_field(
        Run, "model_mapping_hash", allow_null=True, required=False
    )


def executor_run_fields(validated_run: dict) -> dict:
    """Map the executor's run body to Run fields; null means "use the default"."""
    fields = {key: value for key, value in validated_run.items() if value is not None}
    fields["id"] = fields.pop("run_id")
    return fields


class ExecutorTierCreateSerializer(InputSerializer):
    tier_id = identifier_field()
    tier_index = serializers.IntegerField(min_value=0, max_value=1_000_000)
    name = model_char_field(Tier, "name", allow_blank=True)
    description = BlankIfNullCharField()


class ExecutorPhaseCreateSerializer(InputSerializer):
    phase_id = identifier_field()
    phase_index = serializers.IntegerField(min_value=0, max_value=1_000_000)
    tier_id = identifier_field()
    name = model_char_field(Phase, "name", allow_blank=True)
    description = BlankIfNullCharField()
    task_category = model_char_field(Phase, "task_category", field_class=BlankIfNullCharField)
    complexity = model_char_field(Phase, "complexity", field_class=BlankIfNullCharField)
    builder_mode = model_char_field(Phase, "builder_mode", field_class=BlankIfNullCharField)
    scope = SafeJSONObjectField(allow_null=True, required=False)

    def validate_scope(self, value):
        return value or {}


class RunStartSerializer(InputSerializer):
    run = ExecutorRunCreateSerializer()
    tiers = ExecutorTierCreateSerializer(many=True, default=list)
    phases = ExecutorPhaseCreateSerializer(many=True, default=list)


class PhaseStatusUpdateSerializer(InputSerializer):
    state = serializers.ChoiceField(choices=Phase.State.choices)
    builder_attempts = serializers.IntegerField(
        min_value=0, max_value=MAX_ATTEMPT, allow_null=True, required=False
    )
    auditor_attempts = serializers.IntegerField(
        min_value=0, max_value=MAX_ATTEMPT, allow_null=True, required=False
    )
    tokens_used = TokenCountField(allow_null=True, required=False)
    last_failure_reason = serializers.CharField(allow_blank=True, allow_null=True, required=False)

    def split(self) -> tuple[dict, int | None]:
        """Return (phase field changes, tokens_used), dropping nulls ("unchanged")."""
        data = {key: value for key, value in self.validated_data.items() if value is not None}
        tokens_used = data.pop("tokens_used", None)
        return data, tokens_used


class CaseInsensitiveChoiceField(serializers.ChoiceField):
    """A choice matched whatever its case: the 2025 executor sends "SUCCESS"."""

    def to_internal_value(self, data):
        return super().to_internal_value(data.lower() if isinstance(data, str) else data)


def _json_objects(**kwargs) -> serializers.ListField:
    """A list of JSON objects (issues, probe results, suggested patches)."""
    return serializers.ListField(
        child=SafeJSONObjectField(), default=list, max_length=MAX_RESULT_ITEMS, **kwargs
    )


MAX_RESULT_ITEMS = 10_000
# The 2025 executor's names for what the 2026 shape names at the top level.
LEGACY_BUILDER_KEYS = {"output": "patch_content", "files_modified": "files_changed"}
BUILDER_METADATA_KEYS = (
    "phase_id",
    "run_id",
    "run_type",
    "allowed_paths",
    "lines_added",
    "lines_removed",
    "builder_attempts",
    "tokens_used",
    "duration_minutes",
    "probe_results",
    "suggested_issues",
    "notes",
)


# Ways of saying "none" that agree with each other (`"output": ""`, `"patch_content": null`).
_NOTHING = (None, "")


def builder_result_canonical(data: Mapping) -> dict:
    """A builder result in the 2026 shape, whichever shape it came in.

    The 2025 executor sends `success` (bool), `output` (the patch), `files_modified`
    and the rest under `metadata`; a 2026 body passes unchanged. A value named both
    ways must agree (the error names the 2025 key); metadata keys of neither shape
    stay in `metadata`.
    """
    data = dict(data)
    errors: dict[str, list[str]] = {}

    def adopt(legacy_key: str, key: str, value) -> None:
        if key not in data:
            data[key] = value
        elif data[key] != value and not (data[key] in _NOTHING and value in _NOTHING):
            errors[legacy_key] = [f"Disagrees with {key!r}; send one of them."]

    metadata = data.get("metadata", {})
    if isinstance(metadata, Mapping):
        metadata = dict(metadata)
        for key in BUILDER_METADATA_KEYS:
            if key in metadata:
                adopt(f"metadata.{key}", key, metadata.pop(key))
        data["metadata"] = metadata
    for legacy_key, key in LEGACY_BUILDER_KEYS.items():
        if legacy_key in data:
            adopt(legacy_key, key, data.pop(legacy_key))
    if "success" in data:
        success = data.pop("success")
        if not isinstance(success, bool):
            errors["success"] = ["Must be true or false."]
        elif "status" not in data:
            data["status"] = "success" if success else "failed"
        elif (
            str(data["status"]).lower() in ("success", "failed")
            and (str(data["status"]).lower() == "success") != success
        ):
            errors["success"] = [f"Disagrees with status {data['status']!r}."]
    if errors:
        raise serializers.ValidationError(errors)
    return data


class BuilderMetadataField(SafeJSONObjectField):
    """A JSON object whose 2025 keys the schema states (see BuilderMetadataSchema)."""


class BuilderResultSerializer(InputSerializer):
    """Both executor generations' builder_result (see builder_result_canonical)."""

    phase_id = identifier_field(required=False)
    run_id = identifier_field(required=False)
    status = CaseInsensitiveChoiceField(choices=["success", "failed", "needs_review"])
    run_type = serializers.CharField(max_length=100, default="project_build")
    patch_content = serializers.CharField(
        allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )
    files_changed = serializers.ListField(
        child=serializers.CharField(max_length=1000), default=list, max_length=MAX_RESULT_ITEMS
    )
    allowed_paths = serializers.ListField(
        child=serializers.CharField(max_length=1000), default=list, max_length=MAX_RESULT_ITEMS
    )
    lines_added = serializers.IntegerField(min_value=0, max_value=10**9, default=0)
    lines_removed = serializers.IntegerField(min_value=0, max_value=10**9, default=0)
    builder_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, default=1)
    tokens_used = TokenCountField(default=0)
    duration_minutes = serializers.FloatField(min_value=0, max_value=10**7, default=0.0)
    probe_results = _json_objects()
    suggested_issues = _json_objects()
    notes = BlankIfNullCharField(trim_whitespace=False)
    metadata = BuilderMetadataField(
        default=dict,
        help_text="2025: the fields above by the same names; anything else is kept.",
    )
    # The 2025 names, documented so their types are stated; builder_result_canonical
    # moves each to its 2026 field before validation.
    success = serializers.BooleanField(
        required=False, write_only=True, help_text="2025: true for status success."
    )
    output = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        required=False,
        trim_whitespace=False,
        write_only=True,
        help_text="2025: patch_content.",
    )
    files_modified = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        write_only=True,
        max_length=MAX_RESULT_ITEMS,
        help_text="2025: files_changed.",
    )

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            # A 2025 value of the wrong type is named by its 2025 key.
            legacy = {key: data[key] for key in ("success", *LEGACY_BUILDER_KEYS) if key in data}
            errors = self.json_type_errors(legacy)
            if isinstance(metadata := data.get("metadata"), Mapping):
                inner = BuilderMetadataSchema().json_type_errors(metadata)
                errors |= {f"metadata.{key}": error for key, error in inner.items()}
            if errors:
                raise serializers.ValidationError(errors)
            data = builder_result_canonical(data)
        return super().to_internal_value(data)


BuilderMetadataSchema = type(
    "BuilderMetadataSchema",
    (InputSerializer,),
    {
        "__doc__": "The 2025 builder result's metadata: these keys, and any others.",
        **{
            key: copy.deepcopy(BuilderResultSerializer._declared_fields[key])
            for key in BUILDER_METADATA_KEYS
        },
    },
)
extend_schema_field(BuilderMetadataSchema)(BuilderMetadataField)


class AuditorResultSerializer(InputSerializer):
    phase_id = identifier_field(required=False)
    run_id = identifier_field(required=False)
    review_notes = serializers.CharField(allow_blank=True, trim_whitespace=False)
    recommendation = CaseInsensitiveChoiceField(
        choices=["approve", "revise", "escalate", "reject", "unknown"]
    )
    # "unknown": the 2026 client's value for a plain approval with no issues.
    confidence = CaseInsensitiveChoiceField(
        choices=["low", "medium", "high", "unknown"], default="medium"
    )
    issues_found = _json_objects()
    suggested_patches = _json_objects()
    auditor_attempts = serializers.IntegerField(min_value=0, max_value=MAX_ATTEMPT, default=1)
    tokens_used = TokenCountField(default=0)


class ResultAcceptedSerializer(serializers.Serializer):
    message = serializers.CharField()
    event_id = serializers.IntegerField()


# --- Responses -------------------------------------------------------------------


class ExecutorPhaseSerializer(serializers.ModelSerializer):
    run_id = serializers.CharField(read_only=True)
    tier_id = serializers.IntegerField(read_only=True)  # the tier's primary key
    review = PhaseReviewField()

    class Meta:
        model = Phase
        fields = [
            "id",
            "phase_id",
            "run_id",
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
            "updated_at",
        ]
        read_only_fields = fields


class ExecutorTierSerializer(serializers.ModelSerializer):
    phases = serializers.SerializerMethodField()

    class Meta:
        model = Tier
        fields = ["id", "tier_id", "tier_index", "name", "description", "state", "phases"]
        read_only_fields = fields

    def get_phases(self, tier) -> list[dict]:
        phases = self.context["phases_by_tier"].get(tier.pk, [])
        return ExecutorPhaseSerializer(phases, many=True).data


class ExecutorRunSerializer(serializers.ModelSerializer):
    tokens_used = serializers.IntegerField(read_only=True)
    tiers = serializers.SerializerMethodField()
    phases = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "state",
            "safety_profile",
            "run_scope",
            "token_cap",
            "max_phases",
            "max_duration_minutes",
            "created_at",
            "started_at",
            "completed_at",
            "failure_reason",
            "goal_anchor",
            "git_commit_sha",
            "git_branch",
            "model_mapping_hash",
            "feature_flags",
            "tokens_used",
            "tiers",
            "phases",
        ]
        read_only_fields = fields

    def get_tiers(self, run) -> list[dict]:
        phases_by_tier: dict[int, list[Phase]] = {}
        for phase in run.phases.all():
            phases_by_tier.setdefault(phase.tier_id, []).append(phase)
        return ExecutorTierSerializer(
            run.tiers.all(), many=True, context={"phases_by_tier": phases_by_tier}
        ).data

    def get_phases(self, run) -> list[dict]:
        return ExecutorPhaseSerializer(run.phases.all(), many=True).data


class RunStatusSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    state = serializers.ChoiceField(choices=["COMPLETE", "FAILED", "RUNNING", "QUEUED"])
    run_state = serializers.ChoiceField(choices=Run.State.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    tokens_used = serializers.IntegerField(help_text="The ledger's total for the run.")
    token_cap = serializers.IntegerField()
    total_phases = serializers.IntegerField()
    completed_phases = serializers.IntegerField()
    failed_phases = serializers.IntegerField()
    executing_phases = serializers.IntegerField(help_text="EXECUTING, GATE or CI_RUNNING.")
    percent_complete = serializers.FloatField(
        help_text="Phases complete, failed or skipped, as a percentage of all (0-100)."
    )
    failure_reason = serializers.CharField(allow_blank=True)


class PhaseStatusUpdatedSerializer(serializers.Serializer):
    message = serializers.CharField()
    phase = ExecutorPhaseSerializer()
