"""Request and response shapes of the human-in-the-loop routes, as Autopack's
executor (`approval_flow.py`, SupervisorApiClient) calls them."""

from rest_framework import serializers

from autopack_site.api.fields import BlankIfNullCharField, SafeJSONObjectField, model_char_field
from autopack_site.api.inputs import InputSerializer
from metrics.api.serializers import identifier_field
from metrics.models import ApprovalRequest

# The executor sends the first 500 characters of a patch; a little room beyond that.
MAX_PATCH_PREVIEW = 100_000
MAX_REASON = 10_000


class ClarificationRequestInputSerializer(InputSerializer):
    phase_id = identifier_field()
    run_id = identifier_field()
    context = model_char_field(ApprovalRequest, "context", field_class=BlankIfNullCharField)
    decision_info = SafeJSONObjectField(allow_null=True, required=False)

    def validate_decision_info(self, value):
        return value or {}


class ApprovalRequestInputSerializer(ClarificationRequestInputSerializer):
    deletion_info = SafeJSONObjectField(allow_null=True, required=False)
    patch_preview = BlankIfNullCharField(max_length=MAX_PATCH_PREVIEW, trim_whitespace=False)

    def validate_deletion_info(self, value):
        return value or {}


class ApprovalCreatedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "approved"])
    approval_id = serializers.IntegerField()
    timeout_at = serializers.DateTimeField()
    reason = serializers.CharField()


class ClarificationCreatedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending"])
    clarification_id = serializers.IntegerField()
    phase_id = serializers.CharField()
    timeout_at = serializers.DateTimeField()


class _RequestSerializer(serializers.ModelSerializer):
    run_id = serializers.CharField(read_only=True)
    phase_id = serializers.CharField(source="phase.phase_id", read_only=True)
    # Blank until decided: declared so the schema's enum admits "".
    response_method = serializers.ChoiceField(
        choices=ApprovalRequest.Method.choices, allow_blank=True, read_only=True
    )


class ApprovalStatusSerializer(_RequestSerializer):
    approval_id = serializers.IntegerField(source="id", read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "approval_id",
            "run_id",
            "phase_id",
            "status",
            "requested_at",
            "responded_at",
            "timeout_at",
            "approval_reason",
            "rejected_reason",
            "response_method",
            "decided_by",
        ]
        read_only_fields = fields


class ClarificationStatusSerializer(_RequestSerializer):
    clarification_id = serializers.IntegerField(source="id", read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "clarification_id",
            "run_id",
            "phase_id",
            "status",
            "response",
            "requested_at",
            "responded_at",
            "timeout_at",
            "rejected_reason",
            "response_method",
            "decided_by",
        ]
        read_only_fields = fields


class ApprovalRequestSerializer(_RequestSerializer):
    """A request with what a human needs to decide it, and the decision once made."""

    id = serializers.IntegerField(read_only=True)
    risk_level = serializers.CharField(read_only=True)
    files = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "kind",
            "run_id",
            "phase_id",
            "status",
            "context",
            "risk_level",
            "files",
            "decision_info",
            "deletion_info",
            "patch_preview",
            "requested_at",
            "timeout_at",
            "responded_at",
            "response_method",
            "decided_by",
            "approval_reason",
            "rejected_reason",
            "response",
        ]
        read_only_fields = fields


class PendingListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="All pending requests.")
    requests = ApprovalRequestSerializer(many=True, help_text="Oldest deadline first.")


class DecisionSerializer(InputSerializer):
    reason = serializers.CharField(max_length=MAX_REASON, allow_blank=True, default="")


class RejectionSerializer(InputSerializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text="Why (not blank).")


class AnswerSerializer(InputSerializer):
    response = serializers.CharField(max_length=MAX_REASON, help_text="The answer (not blank).")
