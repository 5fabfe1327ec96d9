"""Patterns API: the stored patterns, which of them a failure message matches, and
which pairs may be one cause worded differently."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site.api.scopes import READ
from patterns.api import serializers as s
from patterns.api.filters import PatternFilter
from patterns.models import Pattern
from patterns.selectors import merge_suggestions, pattern_matches
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

    @extend_schema(request=s.MergeAnswerSerializer, responses=s.MergeAnswerSerializer)
    def post(self, request):
        answer = s.MergeAnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        # Refusals (a pattern already merged elsewhere) arrive as a Django
        # ValidationError keyed by field: the exception handler answers 400.
        patterns_answer_suggestion(**answer.validated_data)
        return Response(answer.data)
