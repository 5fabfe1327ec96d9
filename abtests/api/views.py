"""A/B results API: list (valid only by default), detail, per-test summary."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from abtests import selectors
from abtests.api import serializers as s
from abtests.models import ABTestResult
from autopack_site.api.fields import NOT_BLANK_PATTERN

DASHBOARD_LIMIT = 1000
# The summary's test id, as its query serializer takes it: blank is refused.
TEST_ID_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": NOT_BLANK_PATTERN,  # trimmed, then refused blank
}
LIST_PARAMETERS = [
    OpenApiParameter("test_id", str, description="Blank means every test."),
    OpenApiParameter("valid_only", OpenApiTypes.BOOL, description="Default true."),
]


def _filtered(query_params):
    query = s.ABResultsQuerySerializer(data=query_params)
    query.is_valid(raise_exception=True)
    queryset = ABTestResult.objects.order_by("-created_at", "-id")
    test_id = query.validated_data.get("test_id")
    if test_id:
        queryset = queryset.filter(test_id=test_id)
    if query.validated_data["valid_only"]:
        queryset = queryset.filter(is_valid=True)
    return queryset, test_id, query.validated_data["valid_only"]


class ABTestResultViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A/B results, newest first. Invalid results are hidden unless valid_only=false."""

    queryset = ABTestResult.objects.none()
    serializer_class = s.ABTestResultSerializer

    def get_queryset(self):
        if self.action == "list":
            return _filtered(self.request.query_params)[0]
        return ABTestResult.objects.all()

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("test_id", TEST_ID_SCHEMA, required=True)],
        responses=s.ExperimentSummarySerializer,
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        """Experiment statistics over the test's valid pairs."""
        query = s.SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = selectors.experiment_summary(query.validated_data["test_id"])
        return Response(s.ExperimentSummarySerializer(summary.as_dict()).data)


class DashboardABResultsView(APIView):
    """The Autopack dashboard's shape: {count, filters, results} (valid only by default)."""

    @extend_schema(parameters=LIST_PARAMETERS, responses=s.DashboardABResultsSerializer)
    def get(self, request):
        queryset, test_id, valid_only = _filtered(request.query_params)
        # The newest DASHBOARD_LIMIT results; count is every match.
        results = list(queryset[:DASHBOARD_LIMIT])
        return Response(
            {
                "count": queryset.count(),
                "filters": {"test_id": test_id, "valid_only": valid_only},
                "results": s.ABTestResultSerializer(results, many=True).data,
            }
        )
