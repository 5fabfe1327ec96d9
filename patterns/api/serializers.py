from rest_framework import serializers

from autopack_site.api.inputs import InputSerializer
from patterns.models import Pattern
from patterns.similarity import DEFAULT_MIN_SCORE

MESSAGE_MAX_LENGTH = 100_000
PATTERN_ID_MAX_LENGTH = Pattern._meta.get_field("pattern_id").max_length


class PatternSerializer(serializers.ModelSerializer):
    merged_into = serializers.SlugRelatedField(slug_field="pattern_id", read_only=True)

    class Meta:
        model = Pattern
        fields = [
            "pattern_id",
            "kind",
            "status",
            "template",
            "regex",
            "keywords",
            "occurrences",
            "run_count",
            "first_seen",
            "last_seen",
            "samples",
            "merged_into",
            "updated_at",
        ]
        read_only_fields = fields


class MatchRequestSerializer(InputSerializer):
    message = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False)
    context = serializers.DictField(required=False, default=dict)


class PatternMatchSerializer(serializers.Serializer):
    pattern_id = serializers.CharField()
    kind = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    matched_by = serializers.ListField(child=serializers.ChoiceField(["detector", "regex"]))


class MatchResponseSerializer(serializers.Serializer):
    matches = PatternMatchSerializer(many=True)


class MergeSuggestionsQuerySerializer(serializers.Serializer):
    min_score = serializers.FloatField(min_value=0.01, max_value=1.0, default=DEFAULT_MIN_SCORE)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=50)


class MergeSuggestionSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="The less frequent pattern: merge it ...")
    target = serializers.CharField(help_text="... into this one.")
    score = serializers.FloatField(help_text="Cosine similarity of their wording, 0 to 1.")


class MergeSuggestionsResponseSerializer(serializers.Serializer):
    suggestions = MergeSuggestionSerializer(many=True)


class MergeAnswerSerializer(InputSerializer):
    """An operator's answer to one merge suggestion."""

    source = serializers.CharField(max_length=PATTERN_ID_MAX_LENGTH, help_text="A pattern id.")
    target = serializers.CharField(max_length=PATTERN_ID_MAX_LENGTH, help_text="A pattern id.")
    same_cause = serializers.BooleanField(
        help_text="true: merge source into target. false: different causes, never "
        "suggest this pair again."
    )
