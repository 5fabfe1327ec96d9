"""Consolidated token metrics (per run) and the cross-run daily view."""

from datetime import UTC

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from autopack_site import kill_switches
from autopack_site.api.pagination import MAX_PAGE_LIMIT, parse_limit_offset
from metrics import selectors
from metrics.models import TOKEN_CATEGORIES

CONSOLIDATED_DEFAULT_LIMIT = 1000


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


class ConsolidatedMetricsView(APIView):
    """A run's token spend without double counting: whole-run totals plus one page of rows."""

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description=f"1…{MAX_PAGE_LIMIT} (default 1000)"),
            OpenApiParameter("offset", int, description="≥ 0"),
        ],
        responses={
            200: ConsolidatedMetricsSerializer,
            503: OpenApiResponse(description="AUTOPACK_ENABLE_CONSOLIDATED_METRICS is off"),
        },
        tags=["metrics"],
    )
    def get(self, request, run_id: str):
        # Order of checks: switch, then parameters, then the run.
        kill_switches.require(kill_switches.CONSOLIDATED_METRICS)
        limit, offset = parse_limit_offset(
            request.query_params, default_limit=CONSOLIDATED_DEFAULT_LIMIT, max_limit=MAX_PAGE_LIMIT
        )
        totals = selectors.consolidated_totals(run_id)
        if totals is None:
            raise NotFound(f"Run {run_id!r} not found.")
        count = totals["raw_rows"]
        rows = (
            selectors.consolidated_page(run_id, limit=limit, offset=offset)
            if offset < count
            else []
        )
        url = request.build_absolute_uri()
        next_url = (
            replace_query_param(replace_query_param(url, "limit", limit), "offset", offset + limit)
            if offset + limit < count
            else None
        )
        previous_url = None
        if offset > 0:
            previous_url = replace_query_param(url, "limit", limit)
            previous_url = (
                replace_query_param(previous_url, "offset", max(offset - limit, 0))
                if offset - limit > 0
                else remove_query_param(previous_url, "offset")
            )
        document = {
            "run_id": run_id,
            "totals": {name: totals[name] for name in (*TOKEN_CATEGORIES, "total_tokens")},
            "total_phases": totals["total_phases"],
            "completed_phases": totals["completed_phases"],
            "failed_phases": totals["failed_phases"],
            "phases_with_metrics": totals["phases_with_metrics"],
            "rolled_up_rows": totals["rolled_up_rows"],
            "count": count,
            "limit": limit,
            "offset": offset,
            "next": next_url,
            "previous": previous_url,
            "results": [_row_document(row) for row in rows],
        }
        return Response(document)


def _row_document(row: dict) -> dict:
    """Shape one page row as ConsolidatedRowSerializer documents it.

    Built directly: a DRF serializer costs ~30 us a row, which alone would spend
    the latency budget on a 1,000-row page.
    """
    created_at = row["created_at"].astimezone(UTC).isoformat()
    return {
        "phase_id": row["phase_key"],
        "attempt": row["attempt"],
        **{name: row[name] for name in TOKEN_CATEGORIES},
        "total_tokens": row["total_tokens"],
        "model": row["model"],
        "created_at": created_at.replace("+00:00", "Z"),
    }


class DailyQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: declared below under its query-string name.
    to = serializers.DateField(required=False)
    run_id = serializers.CharField(required=False, max_length=200)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["to must not be before from."]})
        return attrs


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
