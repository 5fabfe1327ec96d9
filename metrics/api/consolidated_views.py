"""Consolidated token metrics (per run) and the cross-run daily view."""

from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site import kill_switches
from autopack_site.api.pagination import StrictLimitOffsetPagination, page_parameters
from autopack_site.api.renderers import FastJSONRenderer, rendered_response
from metrics import selectors
from metrics.models import IDENTIFIER_MAX_LENGTH


class ConsolidatedPagination(StrictLimitOffsetPagination):
    default_limit = 1000


class TokenTotalsSerializer(serializers.Serializer):
    retrieval_tokens = serializers.IntegerField()
    second_opinion_tokens = serializers.IntegerField()
    evidence_request_tokens = serializers.IntegerField()
    base_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class ConsolidatedRowSerializer(TokenTotalsSerializer):
    phase_id = serializers.CharField(source="phase_key")
    attempt = serializers.IntegerField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConsolidatedMetricsSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    totals = TokenTotalsSerializer()
    total_phases = serializers.IntegerField()
    completed_phases = serializers.IntegerField()
    failed_phases = serializers.IntegerField()
    phases_with_metrics = serializers.IntegerField()
    rolled_up_rows = serializers.IntegerField()
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConsolidatedRowSerializer(many=True)


# One statement reads the whole document, so it is one snapshot without a request
# transaction (whose BEGIN and COMMIT cost a tenth of a small run's request).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ConsolidatedMetricsView(APIView):
    """A run's token spend without double counting: whole-run totals plus one page of rows."""

    # Pages of up to 10,000 rows: the page is JSON from the database, sent as it is.
    renderer_classes = [FastJSONRenderer, renderers.BrowsableAPIRenderer]

    @extend_schema(
        parameters=page_parameters(default_limit=ConsolidatedPagination.default_limit),
        responses={
            200: ConsolidatedMetricsSerializer,
            503: OpenApiResponse(description="AUTOPACK_ENABLE_CONSOLIDATED_METRICS is off"),
        },
        tags=["metrics"],
    )
    def get(self, request, run_id: str):
        # Order of checks: switch, then parameters, then the run.
        kill_switches.require(kill_switches.CONSOLIDATED_METRICS)
        paginator = ConsolidatedPagination()
        limit, offset = paginator.read_page_request(request)
        document = selectors.consolidated_metrics(run_id, limit=limit, offset=offset)
        if document is None:
            raise NotFound(f"Run {run_id!r} not found.")
        results = document.pop("results")
        links = paginator.page_links(document["count"])
        return rendered_response(request, {**document, **links, "results": results})


class DailyQuerySerializer(serializers.Serializer):
    """The window, both ends inclusive; one ending before it starts holds no day."""

    # "from" is a Python keyword: declared below under its query-string name.
    to = serializers.DateField(required=False)
    run_id = serializers.CharField(required=False, max_length=IDENTIFIER_MAX_LENGTH)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields


class DailyTotalsSerializer(TokenTotalsSerializer):
    date = serializers.DateField()
    rows = serializers.IntegerField()


class DailyMetricsResponseSerializer(serializers.Serializer):
    results = DailyTotalsSerializer(many=True)


class DailyMetricsView(APIView):
    """Token totals per UTC day across runs, raw and rolled-up rows together."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="YYYY-MM-DD"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="YYYY-MM-DD (inclusive)"),
            OpenApiParameter("run_id", str),
        ],
        responses=DailyMetricsResponseSerializer,
        tags=["metrics"],
    )
    def get(self, request):
        query = DailyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = selectors.daily_totals(
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
            run_id=query.validated_data.get("run_id"),
        )
        return Response({"results": DailyTotalsSerializer(days, many=True).data})
