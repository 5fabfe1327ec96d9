"""Patterns API: the stored patterns, which of them a failure message matches, and
which pairs may be one cause worded differently."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site.api.scopes import READ
from autopack_site.errors import ConflictError
from patterns.api import serializers as s
from patterns.api.filters import PatternFilter
from patterns.models import Pattern
from patterns.selectors import merge_suggestions, pattern_get, pattern_matches
from patterns.services import patterns_answer_suggestion


class PatternViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mined patterns, most frequent first; filter with ?status= and ?kind= (repeatable)."""

    serializer_class = s.PatternSerializer
    lookup_field = "pattern_id"
    filterset_class = PatternFilter
    queryset = Pattern.objects.select_related("merged_into").order_by("-occurrences", "pattern_id")


class PatternMatchView(APIView):
    """The patterns a message matches: by generated detector and by stored regex."""

    write_scope = READ  # a POST that only reads

    @extend_schema(request=s.MatchRequestSerializer, responses=s.MatchResponseSerializer)
    def post(self, request):
        body = s.MatchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        matches = pattern_matches(**body.validated_data)
        return Response(s.MatchResponseSerializer({"matches": matches}).data)


class MergeSuggestionsView(APIView):
    """Pairs of unmerged patterns whose wording is similar, most similar first.

    Only suggestions: an operator answers each (`merge-suggestions/answers`, or the
    admin's review page).
    """

    @extend_schema(
        parameters=[s.MergeSuggestionsQuerySerializer],
        responses=s.MergeSuggestionsResponseSerializer,
    )
    def get(self, request):
        query = s.MergeSuggestionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        suggestions = merge_suggestions(**query.validated_data)
        return Response(s.MergeSuggestionsResponseSerializer({"suggestions": suggestions}).data)


class MergeAnswerView(APIView):
    """Answer a merge suggestion: same cause merges source into target; different
    causes keeps them apart and out of later suggestions."""

    schema_error_statuses = {"POST": (404,)}  # a pattern the body names is unknown

    @extend_schema(request=s.MergeAnswerSerializer, responses=s.MergeAnswerSerializer)
    def post(self, request):
        answer = s.MergeAnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        source = pattern_get(answer.validated_data["source"])
        target = pattern_get(answer.validated_data["target"])
        try:
            patterns_answer_suggestion(
                source=source, target=target, same_cause=answer.validated_data["same_cause"]
            )
        except ValidationError as refusal:
            # Each refusal is the patterns' state (one pattern twice, one merged
            # elsewhere), not a malformed body: a 409 naming the side.
            raise ConflictError.from_validation_error(refusal) from refusal
        return Response(answer.data)
