from rest_framework import serializers

from abtests.models import ABTestResult


class ABTestResultSerializer(serializers.ModelSerializer):
    control_run = serializers.CharField(source="control_run_id", read_only=True)
    treatment_run = serializers.CharField(source="treatment_run_id", read_only=True)
    control_success_rate = serializers.FloatField(read_only=True, allow_null=True)
    treatment_success_rate = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = ABTestResult
        fields = [
            "id",
            "test_id",
            "control_run",
            "treatment_run",
            "control_commit_sha",
            "treatment_commit_sha",
            "control_model_hash",
            "treatment_model_hash",
            "is_valid",
            "validity_errors",
            "validity_warnings",
            "token_delta",
            "retrieval_tokens_delta",
            "second_opinion_tokens_delta",
            "evidence_request_tokens_delta",
            "base_tokens_delta",
            "time_delta_seconds",
            "success_rate_delta",
            "control_total_tokens",
            "treatment_total_tokens",
            "control_tokens",
            "treatment_tokens",
            "control_phases_complete",
            "control_phases_failed",
            "control_phases_skipped",
            "control_phases_total",
            "treatment_phases_complete",
            "treatment_phases_failed",
            "treatment_phases_skipped",
            "treatment_phases_total",
            "control_success_rate",
            "treatment_success_rate",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class ABResultsQuerySerializer(serializers.Serializer):
    test_id = serializers.CharField(required=False, max_length=200)
    valid_only = serializers.BooleanField(required=False, default=True)


class SummaryQuerySerializer(serializers.Serializer):
    test_id = serializers.CharField(max_length=200)


class IntervalSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()


class SuccessRateDeltaSerializer(serializers.Serializer):
    estimate = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    control_complete = serializers.IntegerField()
    control_countable = serializers.IntegerField()
    treatment_complete = serializers.IntegerField()
    treatment_countable = serializers.IntegerField()


class PairDeltaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    control_run = serializers.CharField()
    treatment_run = serializers.CharField()
    token_delta = serializers.IntegerField()


class ExperimentSummarySerializer(serializers.Serializer):
    test_id = serializers.CharField()
    valid_pairs = serializers.IntegerField()
    invalid_pairs = serializers.IntegerField()
    token_deltas = serializers.DictField(child=IntervalSerializer())
    success_rate_delta = SuccessRateDeltaSerializer()
    mean_time_delta_seconds = serializers.FloatField(allow_null=True)
    pair_token_deltas = PairDeltaSerializer(many=True)


class DashboardFiltersSerializer(serializers.Serializer):
    test_id = serializers.CharField(allow_null=True)
    valid_only = serializers.BooleanField()


class DashboardABResultsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    filters = DashboardFiltersSerializer()
    results = ABTestResultSerializer(many=True)
