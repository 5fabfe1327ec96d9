from rest_framework import serializers

from patterns.models import Pattern

MESSAGE_MAX_LENGTH = 100_000


class PatternSerializer(serializers.ModelSerializer):
    merged_into = serializers.SlugRelatedField(slug_field="pattern_id", read_only=True)

    class Meta:
        model = Pattern
        fields = ["pattern_id", "kind", "status", "template", "regex", "keywords", "occurrences",
                  "run_count", "first_seen", "last_seen", "samples", "merged_into", "updated_at"]
        read_only_fields = fields


class MatchRequestSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False)
    context = serializers.DictField(required=False, default=dict)


class PatternMatchSerializer(serializers.Serializer):
    pattern_id = serializers.CharField()
    kind = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    matched_by = serializers.ListField(child=serializers.ChoiceField(["detector", "regex"]))


class MatchResponseSerializer(serializers.Serializer):
    matches = PatternMatchSerializer(many=True)
